"""Helpers for flaskr's tests (a module of its own, so tests import it by a unique name)."""

from __future__ import annotations

import re
import typing as t
from pathlib import Path

from flaskr import create_app
from flaskr.db import get_db, init_db

from erlen import Erlen
from erlen.security import generate_password_hash
from erlen.testing import ErlenClient

PASSWORD = "correct horse"

# Cheap hashes for the fixture users (registration itself uses scrypt); the
# format is still one check_password_hash reads.
_FAST = "pbkdf2:sha256:1000"


def make_app(folder: Path, **config: t.Any) -> Erlen:
    """flaskr on a fresh database in ``folder``: users "test" and "other", one post by "test".

    :param config: Settings on top of the test ones (e.g. ``SESSION_TYPE``).
    """
    database = folder / "flaskr.sqlite"
    fresh = not database.exists()
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "test", "DATABASE": str(database), **config},
        instance_path=str(folder),
    )
    if fresh:  # a second app on the same folder shares the first one's data
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


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: ErlenClient, path: str = "/auth/login") -> str:
    """The CSRF token of the form at ``path`` (for this client's session)."""
    match = _TOKEN.search(client.get(path).get_data(as_text=True))
    assert match is not None, f"no csrf_token field on {path}"
    return match[1]


class AuthActions:
    """Log in and out through the real forms, tokens included."""

    def __init__(self, client: ErlenClient) -> None:
        self.client = client

    def login(self, username: str = "test", password: str = PASSWORD, **extra: str) -> t.Any:
        data = {
            "username": username,
            "password": password,
            "csrf_token": csrf_token(self.client),
            **extra,
        }
        return self.client.post("/auth/login", data=data)

    def logout(self) -> t.Any:
        return self.client.post("/auth/logout", data={"csrf_token": csrf_token(self.client, "/")})


def query(app: Erlen, sql: str, *args: object) -> list[t.Any]:
    """Rows of ``sql``, run in a fresh app context (what is really stored)."""
    with app.app_context():
        return [tuple(row) for row in get_db().execute(sql, args).fetchall()]
