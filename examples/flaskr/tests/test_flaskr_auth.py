"""Registering, logging in and out, and CSRF on the auth forms."""

from __future__ import annotations

import typing as t

import pytest
from flaskr_helpers import PASSWORD, AuthActions, csrf_token, query

from erlen import Erlen
from erlen.security import check_password_hash
from erlen.testing import ErlenClient


def register(client: ErlenClient, username: str, password: str) -> t.Any:
    data = {
        "username": username,
        "password": password,
        "csrf_token": csrf_token(client, "/auth/register"),
    }
    return client.post("/auth/register", data=data)


def users(app: Erlen) -> list[str]:
    return [row[0] for row in query(app, "SELECT username FROM user ORDER BY id")]


def test_register_creates_user_with_hashed_password(client: ErlenClient, app: Erlen) -> None:
    assert client.get("/auth/register").status_code == 200
    rv = register(client, "ada", "analytical engine")
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/auth/login?username=ada"
    [(stored,)] = query(app, "SELECT password FROM user WHERE username = 'ada'")
    assert stored.startswith("scrypt:") and "analytical engine" not in stored
    assert check_password_hash(stored, "analytical engine")
    assert "Welcome, ada!" in client.get("/auth/login").get_data(as_text=True)


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "long enough pw", "Username is required."),
        ("   ", "long enough pw", "Username is required."),
        ("a" * 41, "long enough pw", "Username is limited to 40 characters."),
        (
            "<b>bold</b>",
            "long enough pw",
            "Username may use letters, digits, dots, dashes and underscores only.",
        ),
        ("two words", "long enough pw", "Username may use letters"),
        ("ada", "", "Password is required."),
        ("ada", "short", "Password must be at least 8 characters."),
        ("ada", "p" * 257, "Password is limited to 256 characters."),
    ],
)
def test_register_rejects_bad_input(
    client: ErlenClient, app: Erlen, username: str, password: str, message: str
) -> None:
    rv = register(client, username, password)
    assert rv.status_code == 400
    assert message in rv.get_data(as_text=True)
    assert users(app) == ["test", "other"]


def test_login_form_is_filled_in_after_registering(client: ErlenClient) -> None:
    rv = register(client, "Ada.L", "analytical engine")
    html = client.get(rv.headers["Location"]).get_data(as_text=True)
    assert "Welcome, Ada.L!" in html
    assert 'id="username" value="Ada.L" required autocomplete="username">' in html
    # The name is there: the cursor starts in the password field.
    assert 'autocomplete="current-password" autofocus>' in html


@pytest.mark.parametrize(
    "query", ["", "?username=", "?username=%22%3E%3Cb%3E", "?username=" + "a" * 41, "?username=a+b"]
)
def test_login_form_ignores_a_name_no_one_could_register(client: ErlenClient, query: str) -> None:
    html = client.get("/auth/login" + query).get_data(as_text=True)
    assert 'id="username" value="" required autocomplete="username" autofocus>' in html
    assert "<b>" not in html


def test_register_keeps_typed_username_escaped(client: ErlenClient) -> None:
    html = register(client, "<b>bold</b>", "long enough pw").get_data(as_text=True)
    assert 'value="&lt;b&gt;bold&lt;/b&gt;"' in html


@pytest.mark.parametrize("username", ["test", "TEST", " Test "])
def test_duplicate_username_changes_nothing(
    client: ErlenClient, app: Erlen, auth: AuthActions, username: str
) -> None:
    rv = register(client, username, "a new password")
    assert rv.status_code == 400
    assert f"User {username.strip()} is already registered." in rv.get_data(as_text=True)
    assert users(app) == ["test", "other"]
    # The existing account still has its own password.
    assert auth.login("test", "a new password").status_code == 400
    assert auth.login("test", PASSWORD).status_code == 302


def test_login_and_logout(client: ErlenClient, auth: AuthActions) -> None:
    assert client.get("/auth/login").status_code == 200
    rv = auth.login()
    assert rv.status_code == 302 and rv.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert "Logged in as test." in html
    assert '<li class="who">test</li>' in html
    rv = auth.logout()
    assert rv.status_code == 302
    html = client.get("/").get_data(as_text=True)
    assert "You are logged out." in html and 'href="/auth/login"' in html


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("test", "wrong password"),
        ("nobody", PASSWORD),
        ("", PASSWORD),
        ("test", ""),
        ("x" * 500, PASSWORD),
    ],
)
def test_login_failure_says_the_same_for_user_and_password(
    client: ErlenClient, auth: AuthActions, username: str, password: str
) -> None:
    rv = auth.login(username, password)
    assert rv.status_code == 400
    assert "Incorrect username or password." in rv.get_data(as_text=True)
    assert 'href="/auth/login"' in client.get("/").get_data(as_text=True)  # still logged out


def test_login_is_case_insensitive_for_the_name(auth: AuthActions) -> None:
    assert auth.login("TeSt").status_code == 302


def test_login_goes_on_to_a_safe_next(client: ErlenClient) -> None:
    rv = client.get("/create")
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/auth/login?next=/create"
    login_page = client.get("/auth/login?next=/create").get_data(as_text=True)
    assert '<input type="hidden" name="next" value="/create">' in login_page
    data = {
        "username": "test",
        "password": PASSWORD,
        "csrf_token": csrf_token(client),
        "next": "/create",
    }
    assert client.post("/auth/login", data=data).headers["Location"] == "/create"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example", "javascript:alert(1)"]
)
def test_login_ignores_an_unsafe_next(client: ErlenClient, target: str) -> None:
    data = {
        "username": "test",
        "password": PASSWORD,
        "csrf_token": csrf_token(client),
        "next": target,
    }
    assert client.post("/auth/login", data=data).headers["Location"] == "/"


def test_remember_me_sets_a_long_lived_cookie(client: ErlenClient, auth: AuthActions) -> None:
    rv = auth.login(remember="on")
    cookie = next(
        v for k, v in rv.headers.items() if k == "Set-Cookie" and v.startswith("remember_token=")
    )
    assert "HttpOnly" in cookie and "Expires=" in cookie


def test_logout_revokes_copies_of_the_remember_cookie(
    client: ErlenClient, app: Erlen, auth: AuthActions
) -> None:
    auth.login(remember="on")
    cookie = client.get_cookie("remember_token")
    assert cookie is not None

    def remembered_user() -> str | None:
        # Someone else's browser, holding a copy of the cookie and nothing else.
        thief = app.test_client()
        thief.set_cookie("remember_token", cookie.value)
        html = thief.get("/").get_data(as_text=True)
        return "test" if '<li class="who">test</li>' in html else None

    assert remembered_user() == "test"  # the copy works while the user is logged in
    auth.logout()
    assert remembered_user() is None
    assert query(app, "SELECT remember_token_version FROM user WHERE username = 'test'") == [(1,)]
    # A new login with "remember me" makes a cookie that works again.
    auth.login(remember="on")
    cookie = client.get_cookie("remember_token")
    assert cookie is not None and remembered_user() == "test"


def test_logout_needs_post_login_and_token(client: ErlenClient, auth: AuthActions) -> None:
    assert client.get("/auth/logout").status_code == 405
    assert (
        client.post("/auth/logout").status_code == 400
    )  # the token is checked before anything else
    auth.login()
    rv = client.post("/auth/logout", data={})
    assert rv.status_code == 400
    assert '<li class="who">test</li>' in client.get("/").get_data(as_text=True)  # still logged in


def test_missing_or_wrong_csrf_token_stores_nothing(client: ErlenClient, app: Erlen) -> None:
    for data in ({}, {"csrf_token": "forged"}):
        rv = client.post(
            "/auth/register", data={"username": "mallory", "password": "long enough pw", **data}
        )
        assert rv.status_code == 400
        assert "without a valid security token" in rv.get_data(as_text=True)
    assert users(app) == ["test", "other"]


def test_session_naming_a_deleted_or_bogus_user_is_anonymous(
    client: ErlenClient, app: Erlen, auth: AuthActions
) -> None:
    auth.login()
    with app.app_context():
        from flaskr.db import get_db

        db = get_db()
        db.execute("DELETE FROM post")
        db.execute("DELETE FROM user WHERE username = 'test'")
        db.commit()
    assert 'href="/auth/login"' in client.get("/").get_data(as_text=True)
    from flaskr.auth import load_user

    with app.app_context():
        assert load_user("not-a-number") is None
        assert load_user("2") is not None
