"""Fixtures for minitwit: an app on a fresh database in a temporary instance folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The example is not installed: make `import minitwit` (and the helpers
# beside this file) work from wherever pytest is started.
_HERE = Path(__file__).resolve().parent
for _path in (str(_HERE.parent), str(_HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from minitwit import create_app  # noqa: E402
from minitwit.db import init_db  # noqa: E402
from minitwit_helpers import Actions  # noqa: E402

from erlen import Erlen  # noqa: E402
from erlen.testing import ErlenClient  # noqa: E402


@pytest.fixture
def app(tmp_path: Path) -> Erlen:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "minitwit test key",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE": str(tmp_path / "minitwit.sqlite"),
            # Registration hashes with this; cheap, and still the real format.
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "PER_PAGE": 3,
        }
    )
    with app.app_context():
        init_db()
    return app


@pytest.fixture(autouse=True)
def _validate_wsgi(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every exchange of every test client goes through wsgiref.validate, as
    # in Erlen's own tests.
    monkeypatch.setattr(ErlenClient, "validate", True)


@pytest.fixture
def client(app: Erlen) -> ErlenClient:
    return app.test_client()


@pytest.fixture
def act(client: ErlenClient) -> Actions:
    return Actions(client)
