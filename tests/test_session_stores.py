"""Server-side sessions (erlen.session_stores): Redis and SQLite behind the same ``session``.

App-level: every test runs over WSGI and ASGI (BOTH_INTERFACES), and the
store-backed ones once per store (a real redis-server, an SQLite file).
The load and fault tests with real servers are in test_session_load.py.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
import typing as t
from datetime import UTC, datetime, timedelta

import pytest
import redis_support
from live_servers import free_port

from erlen import Erlen, session
from erlen.auth import LoginManager, UserMixin, login_user, logout_user
from erlen.session_stores import (
    RedisSessionInterface,
    RedisSessionStore,
    ServerSideSession,
    ServerSideSessionInterface,
    Session,
    SessionStore,
    SessionStoreError,
    SQLiteSessionInterface,
    SQLiteSessionStore,
)
from erlen.sessions import SecureCookieSessionInterface, session_json_serializer
from erlen.testing import ErlenClient


class CountingStore(SessionStore):
    """Wraps a store and records each call, to count round trips."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.calls: list[str] = []
        self.fail: set[str] = set()

    def load(self, sid: str, touch_ttl: int | None) -> str | None:
        self.calls.append("load" if touch_ttl is None else "load+touch")
        if "load" in self.fail:
            raise SessionStoreError("down for the test")
        return self.inner.load(sid, touch_ttl)

    def save(self, sid: str, data: str, ttl: int, delete: t.Sequence[str] = ()) -> None:
        self.calls.append("save")
        if "save" in self.fail:
            raise SessionStoreError("down for the test")
        self.inner.save(sid, data, ttl, delete)

    def delete(self, sids: t.Sequence[str]) -> None:
        self.calls.append("delete")
        if "delete" in self.fail:
            raise SessionStoreError("down for the test")
        self.inner.delete(sids)


def _redis_url_or_skip(request: pytest.FixtureRequest) -> str:
    reason = redis_support.missing()
    if reason is not None:
        if os.environ.get("ERLEN_REDIS_TESTS") == "require":
            pytest.fail(f"ERLEN_REDIS_TESTS=require, but {reason}")
        pytest.skip(f"{reason}; {redis_support.HOW_TO_INSTALL}")
    return t.cast(str, request.getfixturevalue("redis_url"))


@pytest.fixture(params=["redis", "sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: t.Any) -> t.Any:
    """The inner store of each kind, fresh for the test."""
    if request.param == "redis":
        interface = RedisSessionInterface(_redis_url_or_skip(request))
        return interface.store
    return SQLiteSessionStore(str(tmp_path / "sessions.sqlite3"))


@pytest.fixture
def store(app: Erlen, backend: SessionStore) -> CountingStore:
    counting = CountingStore(backend)
    app.session_interface = ServerSideSessionInterface(counting)

    @app.route("/inc")
    def inc() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    @app.route("/read")
    def read() -> str:
        return str(session.get("n"))

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    @app.route("/clear")
    def clear() -> str:
        session.clear()
        return "cleared"

    @app.route("/regenerate")
    def regenerate() -> str:
        app.session_interface.regenerate(session)
        return "new id"

    @app.route("/permanent")
    def permanent() -> str:
        session.permanent = True
        session["n"] = 1
        return "permanent"

    @app.route("/async-inc")
    async def async_inc() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    return counting


def _cookie_value(client: ErlenClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _sid(client: ErlenClient) -> str:
    return _cookie_value(client).rpartition(".")[0]


def _stored(store: CountingStore, sid: str) -> t.Any:
    text = store.inner.load(sid, None)
    return None if text is None else session_json_serializer.loads(text)


# -- the session API over a store ----------------------------------------------


def test_counter_keeps_data_in_store_and_only_signed_id_in_cookie(
    client: ErlenClient, store: CountingStore
) -> None:
    assert [client.get("/inc").text for _ in range(3)] == ["1", "2", "3"]
    value = _cookie_value(client)
    sid, _, signature = value.rpartition(".")
    assert value.count(".") == 1 and len(signature) == 43  # base64 of an HMAC-SHA256
    # 32 random bytes by default: 256 bits, well over 128.
    assert len(sid) == 43
    assert _stored(store, sid) == {"n": 3}


def test_untouched_session_costs_no_store_call(client: ErlenClient, store: CountingStore) -> None:
    client.get("/inc")
    store.calls.clear()
    rv = client.get("/plain")
    assert store.calls == []
    assert "Set-Cookie" not in rv.headers and "Vary" not in rv.headers


def test_read_is_one_call_and_writes_nothing(client: ErlenClient, store: CountingStore) -> None:
    client.get("/inc")
    store.calls.clear()
    rv = client.get("/read")
    assert rv.text == "1"
    assert store.calls == ["load+touch"]  # SESSION_REFRESH_EACH_REQUEST is on by default
    # Not permanent: the browser's cookie ends with the browser, nothing to re-send.
    assert "Set-Cookie" not in rv.headers
    assert rv.headers["Vary"] == "Cookie"


def test_write_is_one_more_call_and_keeps_the_id(client: ErlenClient, store: CountingStore) -> None:
    client.get("/inc")
    sid = _sid(client)
    store.calls.clear()
    rv = client.get("/inc")
    assert store.calls == ["load+touch", "save"]
    assert "Set-Cookie" not in rv.headers  # same id, non-permanent cookie
    assert _sid(client) == sid


def test_refresh_off_reads_without_touching(
    app: Erlen, client: ErlenClient, store: CountingStore
) -> None:
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    client.get("/permanent")
    store.calls.clear()
    rv = client.get("/read")
    assert store.calls == ["load"]
    assert "Set-Cookie" not in rv.headers


def test_permanent_session_refreshes_cookie_without_writing(
    app: Erlen, client: ErlenClient, store: CountingStore
) -> None:
    app.permanent_session_lifetime = timedelta(hours=2)
    rv = client.get("/permanent")
    assert "Expires=" in rv.headers["Set-Cookie"]
    store.calls.clear()
    rv = client.get("/read")
    assert store.calls == ["load+touch"]
    cookie = rv.headers["Set-Cookie"]
    assert cookie.startswith(_cookie_value(client)) or _cookie_value(client) in cookie
    assert "Expires=" in cookie and "HttpOnly" in cookie


def test_async_view_uses_the_store(client: ErlenClient, store: CountingStore) -> None:
    assert [client.get("/async-inc").text for _ in range(2)] == ["1", "2"]
    assert _stored(store, _sid(client)) == {"n": 2}


def test_tagged_json_values_round_trip(
    app: Erlen, client: ErlenClient, store: CountingStore
) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    @app.route("/put")
    def put() -> str:
        session.update(when=when, raw=b"\x00\xff", pair=(1, 2))
        return "ok"

    @app.route("/get")
    def get() -> str:
        return repr((session["when"], session["raw"], session["pair"]))

    client.get("/put")
    assert client.get("/get").text == repr((when, b"\x00\xff", (1, 2)))
    # Text in the store, never pickle.
    assert isinstance(store.inner.load(_sid(client), None), str)


# -- ids: forged, unknown, regenerated -------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "not-signed",
        "abc.def",
        "." * 10,
        "x" * 600 + ".AAAA",
        "é.é",
        "sid.!!!notbase64",
    ],
)
def test_forged_cookie_is_refused_without_a_store_call(
    client: ErlenClient, store: CountingStore, value: str
) -> None:
    client.set_cookie("session", value)
    rv = client.get("/read")
    assert rv.status_code == 200 and rv.text == "None"
    assert store.calls == []


def test_tampered_id_is_refused(client: ErlenClient, store: CountingStore) -> None:
    client.get("/inc")
    sid, _, signature = _cookie_value(client).rpartition(".")
    other = ("A" if sid[0] != "A" else "B") + sid[1:]
    client.set_cookie("session", f"{other}.{signature}")
    store.calls.clear()
    assert client.get("/read").text == "None"
    assert store.calls == []


def test_unknown_id_gives_new_session_and_new_id(
    app: Erlen, client: ErlenClient, store: CountingStore
) -> None:
    client.get("/inc")
    sid = _sid(client)
    store.inner.delete([sid])  # expired or deleted in the store
    assert client.get("/read").text == "None"
    assert client.get("/inc").text == "1"
    assert _sid(client) != sid  # an id the server did not know is never adopted


def test_clear_deletes_from_store_and_cookie(client: ErlenClient, store: CountingStore) -> None:
    client.get("/inc")
    sid = _sid(client)
    store.calls.clear()
    rv = client.get("/clear")
    assert store.calls == ["load+touch", "delete"]
    assert "session=;" in rv.headers["Set-Cookie"] and rv.headers["Vary"] == "Cookie"
    assert store.inner.load(sid, None) is None
    assert client.get_cookie("session") is None


def test_regenerate_new_id_old_one_deleted_data_kept(
    client: ErlenClient, store: CountingStore
) -> None:
    client.get("/inc")
    old = _sid(client)
    old_cookie = _cookie_value(client)
    store.calls.clear()
    rv = client.get("/regenerate")
    assert store.calls == ["load+touch", "save"]  # the delete rides with the write
    assert "Set-Cookie" in rv.headers
    new = _sid(client)
    assert new != old
    assert store.inner.load(old, None) is None
    assert _stored(store, new) == {"n": 1}
    # The old cookie no longer names a session.
    client.set_cookie("session", old_cookie)
    assert client.get("/read").text == "None"


def test_old_secret_key_still_verifies(
    app: Erlen, client: ErlenClient, store: CountingStore
) -> None:
    client.get("/inc")
    app.config.update(SECRET_KEY="new key", SECRET_KEY_FALLBACKS=["test key"])
    assert client.get("/inc").text == "2"
    app.config.update(SECRET_KEY="newer key", SECRET_KEY_FALLBACKS=None)
    assert client.get("/read").text == "None"


def test_no_secret_key_is_a_null_session(
    app: Erlen, client: ErlenClient, store: CountingStore
) -> None:
    app.config["SECRET_KEY"] = None
    assert client.get("/read").text == "None"
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/inc").status_code == 500
    assert store.calls == []


def test_cookie_settings_apply(app: Erlen, client: ErlenClient, store: CountingStore) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_HTTPONLY=False,
    )
    rv = client.get("/inc")
    cookie = rv.headers["Set-Cookie"]
    assert cookie.startswith("sid=")
    assert "Path=/app" in cookie and "Secure" in cookie and "SameSite=Strict" in cookie
    assert "HttpOnly" not in cookie


def test_corrupt_stored_data_starts_afresh(
    client: ErlenClient, store: CountingStore, caplog: pytest.LogCaptureFixture
) -> None:
    client.get("/inc")
    store.inner.save(_sid(client), "{not json", 60)
    with caplog.at_level(logging.WARNING):
        assert client.get("/read").text == "None"
    assert "unreadable" in caplog.text


# -- a store that fails: 503, logged, nothing overwritten ----------------------------


@pytest.mark.parametrize("failing", ["load", "save"])
def test_store_failure_is_503_and_logged(
    app: Erlen,
    client: ErlenClient,
    store: CountingStore,
    caplog: pytest.LogCaptureFixture,
    failing: str,
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client.get("/inc")
    sid = _sid(client)
    store.fail.add(failing)
    with caplog.at_level(logging.ERROR):
        rv = client.get("/inc")
    assert rv.status_code == 503
    assert "session store is unavailable" in rv.text
    assert "Set-Cookie" not in rv.headers
    assert "Session store unavailable" in caplog.text and "down for the test" in caplog.text
    store.fail.clear()
    # Nothing was lost or overwritten, and the next request works.
    assert _stored(store, sid) == {"n": 1}
    assert client.get("/inc").text == "2"


def test_save_failure_closes_the_dropped_body_once(
    app: Erlen, client: ErlenClient, store: CountingStore
) -> None:
    closed: list[str] = []

    @app.route("/stream")
    def stream() -> t.Any:
        class Body:
            def __iter__(self) -> t.Iterator[bytes]:
                yield b"never sent"

            def close(self) -> None:
                closed.append("body")

        session["n"] = 1
        response = app.response_class(Body())
        response.call_on_close(lambda: closed.append("on_close"))
        return response

    store.fail.add("save")
    rv = client.get("/stream")
    assert rv.status_code == 503 and "never sent" not in rv.text
    # The view's body is closed when it is dropped, the on-close functions
    # once, when the server closes the response.
    assert closed == ["body", "on_close"]


def test_session_transaction_goes_through_the_store(
    client: ErlenClient, store: CountingStore
) -> None:
    with client.session_transaction() as sess:
        sess["n"] = 41
    assert client.get("/inc").text == "42"
    with client.session_transaction() as sess:
        assert sess["n"] == 42


def test_delete_failure_is_503(app: Erlen, client: ErlenClient, store: CountingStore) -> None:
    client.get("/inc")
    store.fail.add("delete")
    rv = client.get("/clear")
    assert rv.status_code == 503 and "Set-Cookie" not in rv.headers


def test_redis_down_is_a_fast_503(app: Erlen, client: ErlenClient) -> None:
    app.session_interface = RedisSessionInterface(f"redis://127.0.0.1:{free_port()}/0")

    @app.route("/read")
    def read() -> str:
        return str(session.get("n"))

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    app.session_interface.regenerate(ServerSideSession())  # no id yet: nothing to do
    client.set_cookie("session", "")
    assert client.get("/plain").text == "plain"  # no session use, no Redis
    # A signed id makes the interface ask Redis.
    interface = app.session_interface
    keys = interface._keys(app)
    assert keys is not None
    client.set_cookie("session", "abc." + interface._sign(keys[0], "abc"))
    started = time.monotonic()
    rv = client.get("/read")
    assert rv.status_code == 503
    assert time.monotonic() - started < 3


def test_redis_client_from_url_fails_fast() -> None:
    interface = RedisSessionInterface("redis://127.0.0.1:1/0", key_prefix="app1:")
    kwargs = interface.client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == 1.0 and kwargs["socket_connect_timeout"] == 0.5
    assert isinstance(interface.store, RedisSessionStore)
    assert interface.store.key_prefix == "app1:"


# -- Redis specifics: TTL ---------------------------------------------------------


def test_redis_ttl_is_the_lifetime_and_reads_push_it(
    app: Erlen, client: ErlenClient, request: pytest.FixtureRequest
) -> None:
    import redis

    url = _redis_url_or_skip(request)
    app.session_interface = RedisSessionInterface(url)
    app.permanent_session_lifetime = timedelta(seconds=300)

    @app.route("/inc")
    def inc() -> str:
        session["n"] = session.get("n", 0) + 1
        return "ok"

    client.get("/inc")
    r = redis.Redis.from_url(url)
    key = "session:" + _sid(client)
    assert 290 <= r.ttl(key) <= 300
    r.expire(key, 10)
    client.get("/inc")  # read with GETEX, then written: back to the lifetime
    assert r.ttl(key) > 200
    r.expire(key, 10)
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    with app.test_request_context(headers={"Cookie": f"session={_cookie_value(client)}"}):
        assert session["n"] == 2
    assert r.ttl(key) <= 10


# -- SQLite specifics ----------------------------------------------------------------


def test_sqlite_default_is_in_the_instance_folder(tmp_path: t.Any, client_interface: str) -> None:
    app = Erlen("sqlite_app", instance_path=str(tmp_path / "instance"))
    app.config["SECRET_KEY"] = "k"
    Session(app)
    assert isinstance(app.session_interface, SQLiteSessionInterface)

    @app.route("/inc")
    def inc() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    client = app.test_client()
    assert [client.get("/inc").text for _ in range(2)] == ["1", "2"]
    path = tmp_path / "instance" / "sessions.sqlite3"
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM sessions").fetchone() == (1,)


def test_sqlite_expiry_and_touch(tmp_path: t.Any) -> None:
    store = SQLiteSessionStore(str(tmp_path / "s.sqlite3"))
    store.save("a", "{}", 1000)
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE sessions SET expires = ? WHERE id = 'a'", (int(time.time()) + 5,))
    assert store.load("a", None) == "{}"
    store.load("a", 1000)  # moved by far more than the granularity: rewritten
    with sqlite3.connect(store.path) as conn:
        (expires,) = conn.execute("SELECT expires FROM sessions WHERE id = 'a'").fetchone()
    assert expires >= int(time.time()) + 990
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE sessions SET expires = ? WHERE id = 'a'", (int(time.time()) - 1,))
    assert store.load("a", 1000) is None  # expired rows are not served


def test_sqlite_purges_expired_rows(tmp_path: t.Any) -> None:
    store = SQLiteSessionStore(str(tmp_path / "s.sqlite3"))
    store.purge_every = 2
    store.save("old", "{}", 1000)
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE sessions SET expires = 0 WHERE id = 'old'")
    store.save("new", "{}", 1000)  # the second save purges
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT id FROM sessions").fetchall() == [("new",)]


def test_sqlite_connection_closed_when_its_thread_ends(tmp_path: t.Any) -> None:
    import gc
    import threading

    store = SQLiteSessionStore(str(tmp_path / "s.sqlite3"))
    conns: list[sqlite3.Connection] = []

    def use() -> None:
        store.save("a", "{}", 100)
        conns.append(store._connection())

    thread = threading.Thread(target=use)
    thread.start()
    thread.join(10)
    gc.collect()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        conns[0].execute("SELECT 1")
    assert store.load("a", None) == "{}"  # this thread has a connection of its own


def test_sqlite_unusable_file_is_store_error(tmp_path: t.Any) -> None:
    (tmp_path / "dir.sqlite3").mkdir()
    store = SQLiteSessionStore(str(tmp_path / "dir.sqlite3"))
    with pytest.raises(SessionStoreError):
        store.load("a", None)
    with pytest.raises(SessionStoreError):
        store.save("a", "{}", 10)
    with pytest.raises(SessionStoreError):
        store.delete(["a"])


# -- configuration ------------------------------------------------------------------


def test_session_extension_picks_interface_from_config(app: Erlen, tmp_path: t.Any) -> None:
    app.config.update(SESSION_TYPE="redis", SESSION_REDIS="redis://127.0.0.1:1/3")
    app.config.update(SESSION_KEY_PREFIX="p:", SESSION_ID_LENGTH=20)
    Session(app)
    interface = app.session_interface
    assert isinstance(interface, RedisSessionInterface)
    assert interface.id_length == 20 and interface.store is not None
    assert t.cast(RedisSessionStore, interface.store).key_prefix == "p:"
    assert interface.client.connection_pool.connection_kwargs["db"] == 3

    app.config.update(SESSION_TYPE="sqlite", SESSION_SQLITE_PATH=str(tmp_path / "x.db"))
    ext = Session()
    ext.init_app(app)
    assert isinstance(app.session_interface, SQLiteSessionInterface)
    assert t.cast(SQLiteSessionStore, app.session_interface.store).path == str(tmp_path / "x.db")

    app.config["SESSION_TYPE"] = "cookie"
    Session(app)
    assert type(app.session_interface) is SecureCookieSessionInterface

    app.config["SESSION_TYPE"] = "memcached"
    with pytest.raises(ValueError, match="memcached"):
        Session(app)


def test_redis_client_given_is_used_as_is() -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=1)
    assert RedisSessionInterface(client).client is client


def test_short_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="128 bits"):
        ServerSideSessionInterface(CountingStore(SessionStore()), id_length=15)
    assert len(ServerSideSessionInterface(id_length=16).generate_sid()) == 22


def test_interface_without_store_says_so(app: Erlen) -> None:
    with pytest.raises(RuntimeError, match="no session store"):
        ServerSideSessionInterface().get_store(app)


def test_cookie_interface_regenerate_does_nothing() -> None:
    from erlen.sessions import SecureCookieSession

    s = SecureCookieSession({"a": 1})
    SecureCookieSessionInterface().regenerate(s)
    assert dict(s) == {"a": 1} and not s.modified


# -- erlen.auth: no id carried across a login ---------------------------------------


class User(UserMixin):
    def __init__(self, id: str) -> None:
        self.id = id


def test_login_and_logout_give_a_new_id(
    app: Erlen, client: ErlenClient, store: CountingStore
) -> None:
    manager = LoginManager(app)
    manager.user_loader(lambda user_id: User(user_id))

    @app.route("/login")
    def login() -> str:
        login_user(User("7"))
        return "in"

    @app.route("/logout")
    def logout() -> str:
        logout_user()
        return "out"

    client.get("/inc")  # a session exists before the login (maybe planted)
    before = _sid(client)
    client.get("/login")
    during = _sid(client)
    assert during != before
    assert store.inner.load(before, None) is None
    assert _stored(store, during) == {"_user_id": "7"}
    client.get("/logout")
    assert store.inner.load(during, None) is None
    assert client.get_cookie("session") is None


# -- corners ----------------------------------------------------------------------------


def test_redis_store_errors_are_store_errors() -> None:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis(host="127.0.0.1", port=free_port(), retry=Retry(NoBackoff(), 0))
    store = RedisSessionStore(client)
    for call in (
        lambda: store.load("a", None),
        lambda: store.load("a", 10),
        lambda: store.save("a", "{}", 10),
        lambda: store.save("a", "{}", 10, ["b"]),
        lambda: store.delete(["a"]),
    ):
        with pytest.raises(SessionStoreError, match="Redis"):
            call()
    store.delete([])  # nothing to delete: no call, so no error


def test_sqlite_failed_write_rolls_back(tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = SQLiteSessionStore("relative.sqlite3")  # no folder part
    store.save("a", "{}", 100)
    with pytest.raises(SessionStoreError, match="SQLite"):
        store.save("b", "{}", 100, [object()])  # type: ignore[list-item]  # not bindable
    assert store.load("b", None) is None  # the half-done write was rolled back
    assert store.load("a", None) == "{}"
    store.delete([])
    store.save("c", "{}", 100)  # the connection is usable after the rollback
    assert (tmp_path / "relative.sqlite3").exists()


def test_foreign_session_objects_are_left_alone(app: Erlen) -> None:
    from erlen.sessions import SecureCookieSession

    interface = ServerSideSessionInterface(CountingStore(SessionStore()))
    other = SecureCookieSession({"a": 1})
    interface.regenerate(other)
    assert not other.modified
    response = app.response_class("x")
    interface.save_session(app, other, response)
    assert "Set-Cookie" not in response.headers


def test_stored_value_that_is_not_a_dict_starts_afresh(
    client: ErlenClient, store: CountingStore
) -> None:
    client.get("/inc")
    store.inner.save(_sid(client), "[1, 2]", 60)
    assert client.get("/read").text == "None"


def test_opened_but_not_read_adds_no_vary(
    app: Erlen, client: ErlenClient, store: CountingStore
) -> None:
    @app.route("/is-new")
    def is_new() -> str:
        return str(session.new)  # opens the session without reading its data

    client.get("/inc")
    rv = client.get("/is-new")
    assert rv.text == "False" and "Vary" not in rv.headers


def test_secret_key_removed_during_request_sets_no_cookie(
    app: Erlen, client: ErlenClient, store: CountingStore
) -> None:
    @app.route("/drop-key")
    def drop_key() -> str:
        session["n"] = 1
        app.config["SECRET_KEY"] = None
        return "dropped"

    rv = client.get("/drop-key")
    assert "Set-Cookie" not in rv.headers and "save" not in store.calls


def test_overridden_cookie_getter_is_used(
    app: Erlen, client: ErlenClient, store: CountingStore
) -> None:
    class Named(ServerSideSessionInterface):
        def get_cookie_name(self, app: Erlen) -> str:
            return "custom"

    app.session_interface = Named(store)
    app.permanent_session_lifetime = timedelta(hours=1)
    rv = client.get("/permanent")
    cookie = rv.headers["Set-Cookie"]
    assert cookie.startswith("custom=") and "Expires=" in cookie
    assert rv.headers["Vary"] == "Cookie"
    assert client.get("/read").text == "1"
