from erlen import Erlen
import erlen_cli_test_missing_dependency  # noqa: F401  -- fails on purpose

app = Erlen("never")
