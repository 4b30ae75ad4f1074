"""flaskr with SESSION_TYPE = "redis": the session lives in a real Redis, the cookie holds its id."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
import redis
from flaskr_helpers import AuthActions, make_app

from erlen import Erlen
from erlen.session_stores import RedisSessionInterface
from erlen.sessions import SecureCookieSessionInterface
from erlen.testing import ErlenClient

PREFIX = "flaskr:session:"
LOGGED_IN = '<li class="who">test</li>'  # the nav bar's name


@pytest.fixture
def app(tmp_path: Path, redis_url: str) -> Erlen:
    return make_app(
        tmp_path, SESSION_TYPE="redis", SESSION_REDIS=redis_url, SESSION_KEY_PREFIX=PREFIX
    )


def stored(redis_url: str) -> dict[str, str]:
    """Every session in Redis: id -> its data as stored."""
    store: t.Any = redis.Redis.from_url(redis_url, decode_responses=True)  # replies are str
    return {key.removeprefix(PREFIX): store.get(key) for key in store.keys(PREFIX + "*")}


def session_id(client: ErlenClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    sid, signature = cookie.value.split(".")  # id.signature, and nothing else
    return sid


def test_the_cookie_session_is_the_default(tmp_path: Path) -> None:
    assert isinstance(make_app(tmp_path).session_interface, SecureCookieSessionInterface)


def test_logging_in_keeps_the_session_in_redis(
    app: Erlen, client: ErlenClient, auth: AuthActions, redis_url: str
) -> None:
    assert isinstance(app.session_interface, RedisSessionInterface)
    client.get("/auth/login")  # the form's CSRF token opens a session
    before = session_id(client)
    assert list(stored(redis_url)) == [before]

    assert auth.login().headers["Location"] == "/"
    after = session_id(client)
    # Logging in gave the session a new id; the old one is gone from Redis.
    assert after != before and list(stored(redis_url)) == [after]
    assert '"_user_id"' in stored(redis_url)[after]  # the login is in Redis...
    cookie = client.get_cookie("session")
    assert cookie is not None and "_user_id" not in cookie.value  # ...not in the cookie
    assert LOGGED_IN in client.get("/").get_data(as_text=True)

    # Another server on the same Redis and secret key knows the session.
    other = make_app(
        Path(app.instance_path),
        SESSION_TYPE="redis",
        SESSION_REDIS=app.config["SESSION_REDIS"],
        SESSION_KEY_PREFIX=PREFIX,
    ).test_client()
    other.set_cookie("session", cookie.value)
    assert LOGGED_IN in other.get("/").get_data(as_text=True)

    auth.logout()
    assert LOGGED_IN not in client.get("/").get_data(as_text=True)
    assert after not in stored(redis_url)  # logging out dropped the logged-in session
    assert LOGGED_IN not in other.get("/").get_data(as_text=True)
