"""Helpers for flaskr's tests (a module of its own, so tests import it by a unique name)."""

from __future__ import annotations

import re
import typing as t

from flaskr.db import get_db

from erlen import Erlen
from erlen.testing import ErlenClient

PASSWORD = "correct horse"

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
