"""Small app modules for tests/test_cli.py's app discovery tests."""
