"""Registering, logging in and out, and every bad input on those forms."""

from __future__ import annotations

import pytest
from minitwit_helpers import PASSWORD, Actions, csrf_token, query

from erlen import Erlen
from erlen.security import check_password_hash
from erlen.testing import ErlenClient


def test_register_stores_a_hashed_password(app: Erlen, client: ErlenClient, act: Actions) -> None:
    assert client.get("/register").status_code == 200
    rv = act.register("ann")
    assert rv.status_code == 302 and rv.headers["Location"] == "/login"
    ((username, email, pw_hash),) = query(app, "SELECT username, email, pw_hash FROM user")
    assert (username, email) == ("ann", "ann@example.com")
    assert pw_hash.startswith("pbkdf2:sha256:1000$") and PASSWORD not in pw_hash
    assert check_password_hash(pw_hash, PASSWORD)
    assert "You were successfully registered" in client.get("/login").text


def test_register_uses_scrypt_by_default(tmp_path: object) -> None:
    from minitwit import create_app
    from minitwit.db import init_db

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE": f"{tmp_path}/db.sqlite",
        }
    )
    with app.app_context():
        init_db()
    Actions(app.test_client()).register("ann")
    assert query(app, "SELECT pw_hash FROM user")[0][0].startswith("scrypt:32768:8:1$")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": ""}, "You have to enter a username."),
        ({"username": "   "}, "You have to enter a username."),
        ({"username": "a b"}, "User names are 1 to 30"),
        ({"username": "x" * 31}, "User names are 1 to 30"),
        ({"username": ".."}, "User names are 1 to 30"),
        ({"username": "<script>"}, "User names are 1 to 30"),
        ({"username": "Public"}, "The username is already taken."),
        ({"username": "login"}, "The username is already taken."),
        ({"email": ""}, "You have to enter a valid email address."),
        ({"email": "no-at-sign"}, "You have to enter a valid email address."),
        ({"email": "a@b"}, "You have to enter a valid email address."),
        ({"email": "a@" + "b" * 250 + ".com"}, "You have to enter a valid email address."),
        ({"password": "", "password2": ""}, "You have to enter a password."),
        ({"password": "short", "password2": "short"}, "Passwords need at least 8 characters."),
        (
            {"password": "x" * 257, "password2": "x" * 257},
            "Passwords can have at most 256 characters.",
        ),
        ({"password2": "something else"}, "The two passwords do not match."),
    ],
)
def test_register_bad_input(
    app: Erlen, client: ErlenClient, fields: dict[str, str], message: str
) -> None:
    data = {
        "username": "ann",
        "email": "ann@example.com",
        "password": PASSWORD,
        "password2": PASSWORD,
        **fields,
    }
    data["csrf_token"] = csrf_token(client, "/register")
    rv = client.post("/register", data=data)
    assert rv.status_code == 400
    assert message in rv.text
    assert query(app, "SELECT * FROM user") == []


def test_register_keeps_typed_values_but_not_passwords(client: ErlenClient) -> None:
    data = {
        "username": "ann",
        "email": "ann@example.com",
        "password": "secret-pw",
        "password2": "other-pw",
    }
    data["csrf_token"] = csrf_token(client, "/register")
    rv = client.post("/register", data=data)
    assert 'value="ann"' in rv.text and 'value="ann@example.com"' in rv.text
    assert "secret-pw" not in rv.text


def test_register_field_missing_entirely(app: Erlen, client: ErlenClient) -> None:
    rv = client.post("/register", data={"csrf_token": csrf_token(client, "/register")})
    assert rv.status_code == 400 and "You have to enter a username." in rv.text


def test_duplicate_username_ignoring_case_changes_nothing(app: Erlen, act: Actions) -> None:
    act.register("ann", email="first@example.com")
    before = query(app, "SELECT * FROM user")
    rv = act.register("ANN", email="second@example.com")
    assert rv.status_code == 400 and "The username is already taken." in rv.text
    assert query(app, "SELECT * FROM user") == before


def test_duplicate_username_race_is_caught(
    app: Erlen, client: ErlenClient, act: Actions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another request registers the same name between our check and insert.
    import minitwit.auth

    act.register("ann")
    monkeypatch.setattr(minitwit.auth, "query_db", lambda *a, **k: None)
    rv = act.register("ann", email="other@example.com")
    assert rv.status_code == 400 and "The username is already taken." in rv.text
    assert len(query(app, "SELECT * FROM user")) == 1


def test_login_and_logout(client: ErlenClient, act: Actions) -> None:
    act.register("ann")
    rv = act.login("ann")
    assert rv.status_code == 302 and rv.headers["Location"] == "/"
    page = client.get("/").text
    assert "You were logged in." in page and "Sign out ann" in page
    rv = act.logout()
    assert rv.headers["Location"] == "/public"
    page = client.get("/public").text
    assert "You were logged out." in page and "Sign in" in page
    assert client.get("/").headers["Location"] == "/public"


def test_username_is_matched_ignoring_case_and_spaces(client: ErlenClient, act: Actions) -> None:
    act.register("Ann")
    assert act.login("  aNN ").status_code == 302


@pytest.mark.parametrize(
    ("username", "password"),
    [("ann", "wrong password"), ("ann", ""), ("nobody", PASSWORD), ("", PASSWORD), ("", "")],
)
def test_wrong_login_gets_one_message(
    app: Erlen, client: ErlenClient, act: Actions, username: str, password: str
) -> None:
    act.register("ann")
    rv = act.login(username, password)
    assert rv.status_code == 400
    assert "Invalid username or password." in rv.text
    assert "You were logged in" not in client.get("/public").text
    assert client.get("/").headers["Location"] == "/public"


def test_unknown_user_login_still_checks_a_hash(
    client: ErlenClient, act: Actions, monkeypatch: pytest.MonkeyPatch
) -> None:
    import minitwit.auth

    checked: list[str] = []
    real = minitwit.auth.check_password_hash  # type: ignore[attr-defined]

    def spy(pwhash: str, password: str) -> bool:
        checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(minitwit.auth, "check_password_hash", spy)
    act.login("nobody", "pw")
    act.login("nobody", "pw")
    assert (
        len(checked) == 2
        and checked[0] == checked[1]
        and checked[0].startswith("pbkdf2:sha256:1000$")
    )


def test_login_redirects_to_safe_next_only(client: ErlenClient, act: Actions) -> None:
    act.register("ann")
    token = csrf_token(client)
    rv = client.post(
        "/login?next=/ann", data={"username": "ann", "password": PASSWORD, "csrf_token": token}
    )
    assert rv.headers["Location"] == "/ann"
    act.logout()
    token = csrf_token(client)
    data = {"username": "ann", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"}
    rv = client.post("/login", data=data)
    assert rv.headers["Location"] == "/"


def test_login_form_carries_next(client: ErlenClient) -> None:
    page = client.get("/login?next=/public").text
    assert 'name="next" value="/public"' in page


def test_logged_in_users_skip_login_and_register(client: ErlenClient, act: Actions) -> None:
    act.register_and_login("ann")
    assert client.get("/login").headers["Location"] == "/"
    assert client.get("/register").headers["Location"] == "/"


def test_remember_me(client: ErlenClient, act: Actions) -> None:
    act.register("ann")
    act.login("ann", remember="1")
    assert client.get_cookie("remember_token") is not None
    client.delete_cookie("session")  # the browser was closed
    assert "Sign out ann" in client.get("/").text
    act.logout()
    assert client.get_cookie("remember_token") is None


def test_logout_revokes_copies_of_the_remember_cookie(
    app: Erlen, client: ErlenClient, act: Actions
) -> None:
    act.register("ann")
    act.login("ann", remember="1")
    cookie = client.get_cookie("remember_token")
    assert cookie is not None

    def signed_in_as_ann() -> bool:
        # Someone else's browser, holding a copy of the cookie and nothing else.
        thief = app.test_client()
        thief.set_cookie("remember_token", cookie.value)
        return "Sign out ann" in thief.get("/").text

    assert signed_in_as_ann()  # the copy works while ann is logged in
    act.logout()
    assert not signed_in_as_ann()
    assert query(app, "SELECT remember_token_version FROM user") == [(1,)]
    # Logging in again with "remember me" makes a cookie that works.
    act.login("ann", remember="1")
    cookie = client.get_cookie("remember_token")
    assert cookie is not None and signed_in_as_ann()


def test_login_without_remember_sets_no_cookie(client: ErlenClient, act: Actions) -> None:
    act.register_and_login("ann")
    assert client.get_cookie("remember_token") is None


def test_session_id_from_tampered_cookie_is_anonymous(client: ErlenClient, act: Actions) -> None:
    act.register("ann")
    client.set_cookie("session", "garbage.value.here")
    client.set_cookie("remember_token", "MQ.1.forged")
    rv = client.get("/")
    assert rv.status_code == 302 and rv.headers["Location"] == "/public"


def test_user_loader_ignores_non_numeric_ids(app: Erlen, client: ErlenClient, act: Actions) -> None:
    act.register("ann")
    with client.session_transaction() as sess:
        sess["_user_id"] = "1 OR 1=1"
    assert client.get("/").headers["Location"] == "/public"
    with client.session_transaction() as sess:
        sess["_user_id"] = "42"
    assert client.get("/").headers["Location"] == "/public"


@pytest.mark.parametrize("path", ["/login", "/register"])
def test_forms_without_csrf_token_change_nothing(
    app: Erlen, client: ErlenClient, act: Actions, path: str
) -> None:
    act.register("ann")
    before = query(app, "SELECT * FROM user")
    data = {
        "username": "bob",
        "email": "bob@example.com",
        "password": PASSWORD,
        "password2": PASSWORD,
    }
    rv = client.post(path, data=data)
    assert rv.status_code == 400
    assert "The CSRF token is missing." in rv.text and "nothing was changed" in rv.text
    assert query(app, "SELECT * FROM user") == before
    assert client.get("/").headers["Location"] == "/public"


def test_logout_without_csrf_token_keeps_you_logged_in(client: ErlenClient, act: Actions) -> None:
    act.register_and_login("ann")
    assert client.post("/logout").status_code == 400
    assert "Sign out ann" in client.get("/").text


def test_logout_needs_post(client: ErlenClient, act: Actions) -> None:
    act.register_and_login("ann")
    # GET /logout is the timeline of a user "logout", who can't exist.
    rv = client.get("/logout")
    assert rv.status_code == 404 and "There is no such user." in rv.text
    assert "Sign out ann" in client.get("/").text
