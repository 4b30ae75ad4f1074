"""What a person does in minitwit, through its real forms (CSRF tokens included)."""

from __future__ import annotations

import re
import typing as t

from erlen import Erlen
from erlen.testing import ErlenClient

PASSWORD = "correct horse"

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: ErlenClient, path: str = "/login") -> str:
    """The CSRF token on the page at ``path`` for this client's session
    (from the login page when ``path`` has no form for a visitor)."""
    match = _TOKEN.search(client.get(path).get_data(as_text=True))
    if match is None:
        match = _TOKEN.search(client.get("/login").get_data(as_text=True))
    assert match is not None, f"no csrf_token field on {path} or /login"
    return match[1]


class Actions:
    """Register, log in and out, post, follow: each through its form."""

    def __init__(self, client: ErlenClient) -> None:
        self.client = client

    def register(
        self,
        username: str,
        password: str = PASSWORD,
        password2: str | None = None,
        email: str | None = None,
    ) -> t.Any:
        data = {
            "username": username,
            "email": email if email is not None else f"{username}@example.com",
            "password": password,
            "password2": password if password2 is None else password2,
            "csrf_token": csrf_token(self.client, "/register"),
        }
        return self.client.post("/register", data=data)

    def login(self, username: str, password: str = PASSWORD, **extra: str) -> t.Any:
        data = {
            "username": username,
            "password": password,
            "csrf_token": csrf_token(self.client),
            **extra,
        }
        return self.client.post("/login", data=data)

    def register_and_login(self, username: str) -> t.Any:
        assert self.register(username).status_code == 302
        rv = self.login(username)
        assert rv.status_code == 302
        return rv

    def logout(self) -> t.Any:
        return self.client.post("/logout", data={"csrf_token": csrf_token(self.client, "/public")})

    def post(self, text: str) -> t.Any:
        return self.client.post(
            "/add_message", data={"text": text, "csrf_token": csrf_token(self.client, "/")}
        )

    def follow(self, username: str, how: str = "follow") -> t.Any:
        token = csrf_token(self.client, "/public")
        return self.client.post(f"/{username}/{how}", data={"csrf_token": token})


def query(app: Erlen, sql: str, *args: object) -> list[t.Any]:
    """Rows of ``sql`` in a fresh app context: what is really stored."""
    from minitwit.db import query_db

    with app.app_context():
        return [tuple(row) for row in query_db(sql, args)]
