"""Fixtures for flaskr: an app on a fresh database in a temporary instance folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from flaskr import create_app
from flaskr.db import get_db, init_db
from flaskr_helpers import PASSWORD, AuthActions

from erlen import Erlen
from erlen.security import generate_password_hash
from erlen.testing import ErlenClient

# Cheap hashes for the fixture users (registration itself uses scrypt); the
# format is still one check_password_hash reads.
_FAST = "pbkdf2:sha256:1000"


@pytest.fixture
def app(tmp_path: Path) -> Erlen:
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "test", "DATABASE": str(tmp_path / "flaskr.sqlite")},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        init_db()
        db = get_db()
        db.executemany(
            "INSERT INTO user (username, password) VALUES (?, ?)",
            [
                ("test", generate_password_hash(PASSWORD, _FAST)),
                ("other", generate_password_hash(PASSWORD, _FAST)),
            ],
        )
        db.execute(
            "INSERT INTO post (title, body, author_id, created) VALUES ('test title', 'test\nbody', 1, '2026-01-01 09:00')"
        )
        db.commit()
    return app


@pytest.fixture
def client(app: Erlen, monkeypatch: pytest.MonkeyPatch) -> ErlenClient:
    # Every exchange goes through wsgiref.validate, as in Erlen's own tests.
    monkeypatch.setattr(ErlenClient, "validate", True)
    return app.test_client()


@pytest.fixture
def auth(client: ErlenClient) -> AuthActions:
    return AuthActions(client)
