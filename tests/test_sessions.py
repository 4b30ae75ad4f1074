"""Cookie sessions, flashing and the test client's session_transaction."""

from __future__ import annotations

import base64
import secrets
import time
import typing as t
import uuid
import zlib
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

import itsdangerous
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from erlen import Erlen, Response, redirect, request, session
from erlen.globals import _cv
from erlen.helpers import flash, get_flashed_messages
from erlen.http import parse_date
from erlen.sessions import (
    NullSession,
    SecureCookieSession,
    SecureCookieSessionInterface,
    SessionInterface,
    SessionMixin,
    session_json_serializer,
)
from erlen.signals import message_flashed
from erlen.signing import _CookieSerializer, _Invalid


def _cookie_headers(rv: t.Any) -> list[str]:
    return rv.headers.getlist("Set-Cookie")


def _session_cookie(rv: t.Any, name: str = "session") -> str:
    (header,) = [h for h in _cookie_headers(rv) if h.startswith(f"{name}=")]
    return header


def _attrs(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        out[key.lower()] = value
    return out


def _serializer(*keys: str) -> itsdangerous.URLSafeTimedSerializer:
    """A serializer built independently, the way Flask's docs describe the cookie."""
    import hashlib

    return itsdangerous.URLSafeTimedSerializer(
        list(keys),
        salt="cookie-session",
        serializer=session_json_serializer,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


@pytest.fixture
def views(app: Erlen) -> Erlen:
    @app.route("/set/<key>/<value>")
    def set_value(key: str, value: str) -> str:
        session[key] = value
        return "set"

    @app.route("/get/<key>")
    def get_value(key: str) -> str:
        return repr(session.get(key))

    @app.route("/dump")
    def dump() -> t.Any:
        return {k: repr(v) for k, v in session.items()}

    @app.route("/untouched")
    def untouched() -> str:
        return "nothing"

    @app.route("/clear")
    def clear() -> str:
        session.clear()
        return "cleared"

    return app


# -- lazy opening and the basic cycle --------------------------------------------


def test_session_found_among_other_cookies(views: Erlen, client: t.Any) -> None:
    token = _ours(["test key"]).dumps({"a": "1"})
    # The first "session" pair wins, as request.cookies["session"] would say.
    header = f'x=1; =evil; session={token} ; session=other; y="q"'
    rv = client.get("/get/a", headers={"Cookie": header})
    assert rv.text == "'1'"
    rv = client.get("/get/a", headers={"Cookie": "x=1; sessionx=2; y=3"})
    assert rv.text == "None"


def test_session_read_after_the_view_parsed_the_cookies(app: Erlen, client: t.Any) -> None:
    @app.route("/both")
    def both() -> str:
        return f"{sorted(request.cookies)} {session.get('a')}"

    app.secret_key = "secret"
    token = _ours(["secret"]).dumps({"a": "1"})
    rv = client.get("/both", headers={"Cookie": f"x=2; session={token}"})
    assert rv.text == "['session', 'x'] 1"


def test_session_read_through_overridden_request_cookies(app: Erlen, client: t.Any) -> None:
    token = _ours(["secret"]).dumps({"a": "from the override"})

    class Request(app.request_class):  # type: ignore[name-defined,misc]
        @property
        def cookies(self) -> t.Any:
            return {"session": token}

    app.request_class = Request
    app.secret_key = "secret"

    @app.route("/a")
    def read() -> str:
        return str(session.get("a"))

    assert client.get("/a").text == "from the override"


def test_untouched_session_sets_nothing(views: Erlen, client: t.Any) -> None:
    client.get("/set/a/1")
    with client:
        rv = client.get("/untouched")
        assert _cv.get()._session is None  # never opened
    assert "Set-Cookie" not in rv.headers
    assert "Vary" not in rv.headers


def test_set_and_read(views: Erlen, client: t.Any) -> None:
    rv = client.get("/set/a/1")
    header = _session_cookie(rv)
    attrs = _attrs(header)
    assert "httponly" in attrs and attrs["path"] == "/"
    assert "expires" not in attrs and "max-age" not in attrs  # not permanent
    assert "secure" not in attrs and "domain" not in attrs
    assert rv.headers["Vary"] == "Cookie"
    assert client.get("/get/a").text == "'1'"
    assert client.get("/get/missing").text == "None"


def test_read_only_varies_but_sets_no_cookie(views: Erlen, client: t.Any) -> None:
    client.get("/set/a/1")
    rv = client.get("/get/a")
    assert rv.headers["Vary"] == "Cookie"
    assert "Set-Cookie" not in rv.headers


def test_membership_test_counts_as_access(app: Erlen, client: t.Any) -> None:
    @app.route("/")
    def index() -> str:
        return "yes" if "user" in session else "no"

    rv = client.get("/")
    assert rv.text == "no"
    assert rv.headers["Vary"] == "Cookie"
    assert "Set-Cookie" not in rv.headers


def test_opened_but_not_read(app: Erlen, client: t.Any) -> None:
    @app.route("/")
    def index() -> str:
        session.modified = False  # opens the session without reading it
        return ""

    rv = client.get("/")
    assert "Vary" not in rv.headers and "Set-Cookie" not in rv.headers
    with client.session_transaction() as sess:
        sess["a"] = 1
    rv = client.get("/")  # a non-empty session, opened and left alone
    assert "Vary" not in rv.headers and "Set-Cookie" not in rv.headers


def test_no_cookie_gives_new_empty_session(app: Erlen) -> None:
    with app.test_request_context():
        sess = app.session_interface.open_session(app, request)
        assert type(sess) is SecureCookieSession
        assert dict(sess) == {}
        assert not sess.modified and not sess.new and not sess.permanent


def test_vary_header_merged(app: Erlen, client: t.Any) -> None:
    @app.route("/<vary>")
    def index(vary: str) -> Response:
        session["x"] = 1
        rv = Response("x")
        if vary != "none":
            rv.headers["Vary"] = vary.replace("_", ", ")
        return rv

    assert client.get("/none").headers["Vary"] == "Cookie"
    assert client.get("/Accept-Encoding").headers["Vary"] == "Accept-Encoding, Cookie"
    assert client.get("/Origin_cookie").headers["Vary"] == "Origin, cookie"
    assert client.get("/*").headers["Vary"] == "*"


def test_custom_cookie_settings(views: Erlen, client: t.Any) -> None:
    views.config.update(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PARTITIONED=True,
    )
    rv = client.get("/set/a/1", base_url="https://www.example.com/")
    attrs = _attrs(_session_cookie(rv, "sid"))
    assert attrs["domain"] == "example.com"
    assert attrs["path"] == "/app"
    assert attrs["samesite"] == "Lax"
    assert "secure" in attrs and "partitioned" in attrs and "httponly" not in attrs

    # Deleting uses the same attributes, or the browser would keep the cookie.
    rv = client.get("/clear", base_url="https://www.example.com/")
    attrs = _attrs(_session_cookie(rv, "sid"))
    assert attrs["max-age"] == "0"
    assert parse_date(attrs["expires"]) < datetime.now(UTC)  # type: ignore[operator]
    assert attrs["domain"] == "example.com" and attrs["path"] == "/app"
    assert attrs["samesite"] == "Lax" and "secure" in attrs and "partitioned" in attrs


def test_cookie_path_defaults_to_application_root(app: Erlen) -> None:
    si = app.session_interface
    assert si.get_cookie_path(app) == "/"
    app.config["APPLICATION_ROOT"] = "/root"
    assert si.get_cookie_path(app) == "/root"
    app.config["SESSION_COOKIE_PATH"] = "/cookie"
    assert si.get_cookie_path(app) == "/cookie"


# -- modification detection ----------------------------------------------------


def test_nested_mutation_needs_modified_flag(app: Erlen, client: t.Any) -> None:
    @app.route("/init")
    def init() -> str:
        session["cart"] = []
        return ""

    @app.route("/add/<item>")
    def add(item: str) -> str:
        session["cart"].append(item)
        if request.args.get("flag"):
            session.modified = True
        return ""

    @app.route("/cart")
    def cart() -> t.Any:
        return session["cart"]

    client.get("/init")
    rv = client.get("/add/x")
    assert "Set-Cookie" not in rv.headers  # the dict itself did not change
    assert client.get("/cart").json == []
    rv = client.get("/add/y?flag=1")
    assert "Set-Cookie" in rv.headers
    assert client.get("/cart").json == ["y"]


def test_flags() -> None:
    sess = SecureCookieSession({"a": 1})
    assert not sess.modified and not sess.accessed
    assert sess["a"] == 1
    assert sess.accessed and not sess.modified

    for read in (
        lambda s: s.get("a"),
        lambda s: "a" in s,
        lambda s: len(s),
        lambda s: list(s),
        lambda s: s.keys(),
        lambda s: s.values(),
        lambda s: s.items(),
        lambda s: s.setdefault("a", 2),
    ):
        sess = SecureCookieSession({"a": 1})
        read(sess)
        assert sess.accessed and not sess.modified

    for write in (
        lambda s: s.__setitem__("b", 1),
        lambda s: s.__delitem__("a"),
        lambda s: s.pop("a"),
        lambda s: s.popitem(),
        lambda s: s.update(c=3),
        lambda s: s.clear(),
        lambda s: s.setdefault("new", 1),
    ):
        sess = SecureCookieSession({"a": 1})
        write(sess)
        assert sess.modified and sess.accessed

    # Mixin defaults for session classes that track nothing.
    assert SessionMixin.modified and SessionMixin.accessed and not SessionMixin.new


def test_permanent_flag_is_stored_in_session() -> None:
    sess = SecureCookieSession()
    assert sess.permanent is False
    sess.permanent = 1  # type: ignore[assignment]
    assert sess["_permanent"] is True and sess.modified


# -- permanent sessions and refreshing -------------------------------------------


def test_permanent_session_expires(app: Erlen, client: t.Any) -> None:
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(days=2)

    @app.route("/login")
    def login() -> str:
        session.permanent = True
        session["user"] = "u"
        return ""

    rv = client.get("/login")
    expires = parse_date(_attrs(_session_cookie(rv))["expires"])
    assert expires is not None
    expected = datetime.now(UTC) + timedelta(days=2)
    assert abs((expires - expected).total_seconds()) < 5


def test_lifetime_as_seconds(app: Erlen, client: t.Any) -> None:
    app.config["PERMANENT_SESSION_LIFETIME"] = 3600

    @app.route("/")
    def index() -> str:
        session.permanent = True
        return ""

    expires = parse_date(_attrs(_session_cookie(client.get("/")))["expires"])
    assert expires is not None
    expected = datetime.now(UTC) + timedelta(hours=1)
    assert abs((expires - expected).total_seconds()) < 5


@pytest.mark.parametrize("refresh", [True, False])
def test_refresh_each_request(app: Erlen, client: t.Any, refresh: bool) -> None:
    app.config["SESSION_REFRESH_EACH_REQUEST"] = refresh

    @app.route("/login/<int:permanent>")
    def login(permanent: int) -> str:
        session.permanent = bool(permanent)
        session["user"] = "u"
        return ""

    @app.route("/read")
    def read() -> str:
        return session["user"]

    @app.route("/untouched")
    def untouched() -> str:
        return ""

    client.get("/login/1")
    rv = client.get("/read")
    assert rv.text == "u"
    assert ("Set-Cookie" in rv.headers) is refresh
    assert rv.headers["Vary"] == "Cookie"
    # The lazy session is only refreshed by requests that use it.
    assert "Set-Cookie" not in client.get("/untouched").headers

    client.get("/login/0")
    rv = client.get("/read")
    assert "Set-Cookie" not in rv.headers


# -- deleting ---------------------------------------------------------------------


def test_emptied_session_deletes_cookie(views: Erlen, client: t.Any) -> None:
    client.get("/set/a/1")
    assert client.get_cookie("session") is not None
    rv = client.get("/clear")
    attrs = _attrs(_session_cookie(rv))
    assert attrs["max-age"] == "0" and attrs["path"] == "/"
    assert rv.headers["Vary"] == "Cookie"
    assert client.get_cookie("session") is None
    assert client.get("/get/a").text == "None"


def test_clearing_empty_session_without_cookie(views: Erlen, client: t.Any) -> None:
    rv = client.get("/clear")  # modified but was empty: still a deletion
    assert _attrs(_session_cookie(rv))["max-age"] == "0"


def test_empty_session_read_only(app: Erlen, client: t.Any) -> None:
    @app.route("/")
    def index() -> str:
        return str(len(session))

    rv = client.get("/")
    assert rv.text == "0"
    assert rv.headers["Vary"] == "Cookie" and "Set-Cookie" not in rv.headers


# -- bad cookies -------------------------------------------------------------------


def test_tampered_cookie(views: Erlen, client: t.Any) -> None:
    client.get("/set/user/alice")
    value = client.get_cookie("session").value
    payload, ts, sig = value.split(".")
    forged = _serializer("other key").dumps({"user": "admin"}).split(".")[0]
    for bad in (f"{forged}.{ts}.{sig}", f"{payload}.{ts}.{sig[:-2]}AA", value[:-1]):
        client.set_cookie("session", bad)
        rv = client.get("/get/user")
        assert rv.status_code == 200 and rv.text == "None"


@pytest.mark.parametrize(
    "garbage",
    ["garbage", "a.b.c", "...", ".eJzLSM3JyQcABiwCFQ.AAAA.AAAA", "ü", "x" * 3000, '"quoted"'],
)
def test_garbage_cookie(views: Erlen, client: t.Any, garbage: str) -> None:
    client.set_cookie("session", garbage)
    rv = client.get("/get/a")
    assert rv.status_code == 200 and rv.text == "None"


def test_validly_signed_but_unreadable(views: Erlen, client: t.Any) -> None:
    si = views.session_interface
    s = si.get_signing_serializer(views)
    assert s is not None
    signer = s.make_signer()
    cases = [
        signer.sign(b"not base64 !!").decode(),  # bad payload encoding
        signer.sign(b"bm90IGpzb24").decode(),  # base64 of "not json"
        signer.sign(b".bm90IHpsaWI").decode(),  # claims zlib, is not
        s.dumps([1, 2, 3]),  # JSON, but not an object
        signer.sign(b"eyIgdSI6Inh5eiJ9").decode(),  # {" u":"xyz"}: a bad UUID tag
    ]
    for value in cases:
        client.set_cookie("session", value)
        rv = client.get("/get/a")
        assert rv.status_code == 200 and rv.text == "None"


def test_programming_errors_are_not_swallowed(app: Erlen) -> None:
    class Broken:
        def loads(self, value: str, max_age: int) -> t.Any:
            raise LookupError("a bug, not a bad cookie")

    class Interface(SecureCookieSessionInterface):
        def get_signing_serializer(self, app: Erlen) -> t.Any:
            return Broken()

    with app.test_request_context(headers={"Cookie": "session=x"}):
        with pytest.raises(LookupError):
            Interface().open_session(app, request)


def test_expired_cookie(views: Erlen, client: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    views.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=5)
    with monkeypatch.context() as m:
        # Sign as if ten minutes ago.
        m.setattr(_CookieSerializer, "get_timestamp", lambda self: int(time.time()) - 600)
        client.get("/set/a/old")
    assert client.get_cookie("session") is not None
    rv = client.get("/get/a")
    assert rv.status_code == 200 and rv.text == "None"

    views.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=15)
    assert client.get("/get/a").text == "'old'"


# -- keys ------------------------------------------------------------------------


def test_key_rotation(views: Erlen, client: t.Any) -> None:
    views.config["SECRET_KEY"] = "old key"
    client.get("/set/a/1")
    old_cookie = client.get_cookie("session").value
    assert _serializer("old key").loads(old_cookie) == {"a": "1"}

    # Without the old key as a fallback, the old cookie is worthless.
    views.config["SECRET_KEY"] = "new key"
    assert client.get("/get/a").text == "None"

    views.config["SECRET_KEY_FALLBACKS"] = ["older key", "old key"]
    assert client.get("/get/a").text == "'1'"
    client.get("/set/b/2")
    new_cookie = client.get_cookie("session").value
    # Signed with the newest key only.
    assert _serializer("new key").loads(new_cookie) == {"a": "1", "b": "2"}
    for key in ("old key", "older key"):
        with pytest.raises(itsdangerous.BadSignature):
            _serializer(key).loads(new_cookie)


def test_bytes_secret_key(views: Erlen, client: t.Any) -> None:
    views.config["SECRET_KEY"] = b"\x00binary key\xff"
    client.get("/set/a/1")
    assert client.get("/get/a").text == "'1'"


def test_serializer_cached_until_keys_change(app: Erlen) -> None:
    si = app.session_interface
    first = si.get_signing_serializer(app)
    assert si.get_signing_serializer(app) is first
    fallbacks = ["f1"]
    app.config["SECRET_KEY_FALLBACKS"] = fallbacks
    second = si.get_signing_serializer(app)
    assert second is not first
    assert si.get_signing_serializer(app) is second
    fallbacks.append("f2")  # changed in place
    third = si.get_signing_serializer(app)
    assert third is not second
    assert third.secret_keys == [b"f1", b"f2", b"test key"]
    app.config["SECRET_KEY_FALLBACKS"] = ("f1", "f2")
    fourth = si.get_signing_serializer(app)
    assert si.get_signing_serializer(app) is fourth
    app.config["SECRET_KEY"] = "rotated"
    assert si.get_signing_serializer(app) is not fourth
    app.config["SECRET_KEY"] = None
    assert si.get_signing_serializer(app) is None


def test_signing_parameters(app: Erlen) -> None:
    import hashlib

    s = app.session_interface.get_signing_serializer(app)
    assert s is not None
    assert s.salt == b"cookie-session"
    assert s.signer_kwargs == {"key_derivation": "hmac", "digest_method": hashlib.sha1}
    assert s.serializer is session_json_serializer


def test_derived_keys_match_itsdangerous(app: Erlen) -> None:
    import hashlib

    s = app.session_interface.get_signing_serializer(app)
    assert s is not None
    for derivation in ("hmac", "concat", "django-concat", "none"):
        ours = _CookieSerializer(
            ["k1", b"k2"], "cookie-session", session_json_serializer, derivation, hashlib.sha1
        )
        theirs = itsdangerous.TimestampSigner(
            ["k1", b"k2"],
            salt="cookie-session",
            key_derivation=derivation,
            digest_method=hashlib.sha1,
        )
        assert ours.derive_key() == theirs.derive_key()
        assert ours.derive_key("k1") == theirs.derive_key("k1")
    with pytest.raises(TypeError, match="key derivation"):
        _CookieSerializer(["k"], "salt", session_json_serializer, "bogus", hashlib.sha1)
    # make_signer() gives itsdangerous' signer with the same settings.
    signer = s.make_signer()
    assert signer.derive_key() == s.derive_key() and signer.salt == b"cookie-session"
    assert s.make_signer("other salt").salt == b"other salt"


def test_keys_derived_once(app: Erlen, monkeypatch: pytest.MonkeyPatch) -> None:
    s = app.session_interface.get_signing_serializer(app)
    assert s is not None
    calls = []
    real = _CookieSerializer.derive_key
    monkeypatch.setattr(
        _CookieSerializer, "derive_key", lambda self, *a: calls.append(a) or real(self, *a)
    )
    token = s.dumps({"a": 1})
    assert s.loads(token) == {"a": 1}
    assert calls == []
    app.config["SECRET_KEY_FALLBACKS"] = ["old 1", "old 2"]
    s2 = app.session_interface.get_signing_serializer(app)
    assert len(calls) == 3  # once per key, when the serializer is built
    assert s2.loads(token) == {"a": 1} and s2.loads(s2.dumps({"b": 2})) == {"b": 2}
    assert len(calls) == 3


def test_importing_erlen_skips_itsdangerous() -> None:
    import subprocess
    import sys

    code = "import sys, erlen; erlen.Erlen('x'); print('itsdangerous' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_secret_key_removed_during_request(app: Erlen, client: t.Any) -> None:
    @app.route("/")
    def index() -> str:
        session["x"] = 1
        app.config["SECRET_KEY"] = None
        return ""

    rv = client.get("/")
    assert "Set-Cookie" not in rv.headers


# -- null session ------------------------------------------------------------------


def test_null_session_without_secret_key(app: Erlen, client: t.Any) -> None:
    app.config["SECRET_KEY"] = None

    @app.route("/read")
    def read() -> str:
        assert isinstance(session._get_current_object(), NullSession)
        return f"{session.get('x')!r} {'x' in session} {len(session)} {session.permanent}"

    @app.route("/write")
    def write() -> str:
        session["x"] = 1
        return ""

    rv = client.get("/read")
    assert rv.text == "None False 0 False"
    assert "Set-Cookie" not in rv.headers and "Vary" not in rv.headers
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        client.get("/write")


def test_null_session_refuses_every_write() -> None:
    sess = NullSession()
    writes = [
        lambda: sess.__setitem__("a", 1),
        lambda: sess.__delitem__("a"),
        lambda: sess.clear(),
        lambda: sess.pop("a", None),
        lambda: sess.popitem(),
        lambda: sess.update(a=1),
        lambda: sess.setdefault("a", 1),
        lambda: sess.__ior__({"a": 1}),
        lambda: setattr(sess, "permanent", True),
    ]
    for write in writes:
        with pytest.raises(RuntimeError, match="secret key"):
            write()
    assert dict(sess) == {}


def test_null_session_helpers(app: Erlen) -> None:
    si = app.session_interface
    null = si.make_null_session(app)
    assert isinstance(null, NullSession)
    assert si.is_null_session(null)
    assert not si.is_null_session(SecureCookieSession())
    app.config["SECRET_KEY"] = ""
    with app.test_request_context():
        assert si.open_session(app, request) is None


# -- custom interfaces -------------------------------------------------------------


class DictSession(dict, SessionMixin):  # type: ignore[type-arg]
    """A session class that tracks nothing (the mixin's flags stay True)."""


class MemoryInterface(SessionInterface):
    def __init__(self) -> None:
        self.store: dict[str, dict[str, t.Any]] = {}

    def open_session(self, app: Erlen, request: t.Any) -> DictSession:
        return DictSession(self.store.get(request.cookies.get("sid", ""), {}))

    def save_session(self, app: Erlen, session: t.Any, response: t.Any) -> None:
        self.store["1"] = dict(session)
        response.set_cookie("sid", "1")


def test_custom_session_interface(app: Erlen, client: t.Any) -> None:
    si = MemoryInterface()
    app.session_interface = si

    @app.route("/")
    def index() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    assert client.get("/").text == "1"
    assert client.get("/").text == "2"
    assert si.store == {"1": {"n": 2}}


def test_base_interface_is_abstract(app: Erlen) -> None:
    si = SessionInterface()
    assert si.pickle_based is False
    with app.test_request_context():
        with pytest.raises(NotImplementedError):
            si.open_session(app, request)
        with pytest.raises(NotImplementedError):
            si.save_session(app, SecureCookieSession(), Response())


def test_cookie_interface_saves_non_dict_sessions(app: Erlen) -> None:
    # Another session class used with the cookie interface (the mixin's
    # flags default to True: always saved).
    class MappingSession(SessionMixin):
        def __init__(self, data: dict[str, t.Any]) -> None:
            self.data = data

        def __getitem__(self, key: str) -> t.Any:
            return self.data[key]

        def __setitem__(self, key: str, value: t.Any) -> None:
            self.data[key] = value

        def __delitem__(self, key: str) -> None:
            del self.data[key]

        def __iter__(self) -> t.Iterator[str]:
            return iter(self.data)

        def __len__(self) -> int:
            return len(self.data)

    si = app.session_interface
    with app.test_request_context():
        rv = Response()
        si.save_session(app, MappingSession({"a": 1}), rv)
        value = _session_cookie(rv).split(";")[0].split("=", 1)[1]
        assert _serializer("test key").loads(value) == {"a": 1}
        rv = Response()
        si.save_session(app, MappingSession({}), rv)
        assert _attrs(_session_cookie(rv))["max-age"] == "0"


# -- flashing ----------------------------------------------------------------------


def test_flash_across_redirect(app: Erlen, client: t.Any) -> None:
    @app.route("/do")
    def do() -> t.Any:
        flash("plain")
        flash("saved", "info")
        flash(Markup("<b>bad</b>"), "error")
        return redirect("/show")

    @app.route("/show")
    def show() -> t.Any:
        return {
            "all": get_flashed_messages(),
            "cats": [list(p) for p in get_flashed_messages(with_categories=True)],
            "errors": get_flashed_messages(category_filter=["error"]),
            "info_cats": [list(p) for p in get_flashed_messages(True, ("info", "message"))],
            "types": [type(m).__name__ for m in get_flashed_messages()],
        }

    rv = client.get("/do", follow_redirects=True)
    assert rv.json == {
        "all": ["plain", "saved", "<b>bad</b>"],
        "cats": [["message", "plain"], ["info", "saved"], ["error", "<b>bad</b>"]],
        "errors": ["<b>bad</b>"],
        "info_cats": [["message", "plain"], ["info", "saved"]],
        "types": ["str", "str", "Markup"],
    }
    # Read once: gone from the session, and the emptied session drops the cookie.
    assert _attrs(_session_cookie(rv))["max-age"] == "0"
    assert client.get("/show").json["all"] == []


def test_flash_pairs_are_tuples_in_request(app: Erlen, client: t.Any) -> None:
    @app.route("/do")
    def do() -> str:
        flash("a", "c")
        return ""

    @app.route("/show")
    def show() -> str:
        pairs = get_flashed_messages(with_categories=True)
        assert pairs == [("c", "a")] and type(pairs[0]) is tuple
        assert session.get("_flashes") is None
        return ""

    client.get("/do")
    client.get("/show")


def test_flash_and_read_same_request(app: Erlen, client: t.Any) -> None:
    @app.route("/")
    def index() -> t.Any:
        flash("one")
        first = get_flashed_messages()
        flash("two")  # added after the first read: kept for the next request
        return {"first": first, "again": get_flashed_messages()}

    @app.route("/next")
    def next_() -> t.Any:
        return get_flashed_messages()

    assert client.get("/").json == {"first": ["one"], "again": ["one"]}
    assert client.get("/next").json == ["two"]


def test_flash_signal(app: Erlen, client: t.Any) -> None:
    received: list[tuple[t.Any, str, str]] = []

    def receiver(sender: t.Any, message: str, category: str) -> None:
        received.append((sender, message, category))

    @app.route("/")
    def index() -> str:
        flash("hello", "info")
        return ""

    with message_flashed.connected_to(receiver, app):
        client.get("/")
    assert received == [(app, "hello", "info")]
    client.get("/")  # no receivers: nothing sent
    assert len(received) == 1


def test_flash_outside_request(app: Erlen) -> None:
    with pytest.raises(RuntimeError, match="request context"):
        flash("x")
    with pytest.raises(RuntimeError, match="request context"):
        get_flashed_messages()
    with app.app_context():
        with pytest.raises(RuntimeError, match="request context"):
            flash("x")


def test_flash_without_secret_key(app: Erlen) -> None:
    app.config["SECRET_KEY"] = None
    with app.test_request_context():
        assert get_flashed_messages() == []
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            flash("x")


# -- session_transaction -------------------------------------------------------------


def test_session_transaction(views: Erlen, client: t.Any) -> None:
    with client.session_transaction() as sess:
        assert dict(sess) == {}
        sess["a"] = "from test"
    assert client.get("/get/a").text == "'from test'"

    client.get("/set/b/2")
    with client.session_transaction() as sess:
        assert sess["a"] == "from test" and sess["b"] == "2"
        del sess["a"]
    assert client.get("/get/a").text == "None"

    with client.session_transaction() as sess:
        sess.clear()
    assert client.get_cookie("session") is None


def test_session_transaction_unchanged_keeps_cookie(views: Erlen, client: t.Any) -> None:
    client.get("/set/a/1")
    before = client.get_cookie("session").value
    with client.session_transaction() as sess:
        assert sess["a"] == "1"
    assert client.get_cookie("session").value == before


def test_session_transaction_error_discards(views: Erlen, client: t.Any) -> None:
    client.get("/set/a/1")
    with pytest.raises(ZeroDivisionError):
        with client.session_transaction() as sess:
            sess["a"] = "changed"
            1 / 0
    assert client.get("/get/a").text == "'1'"


def test_session_transaction_path_and_host(views: Erlen, client: t.Any) -> None:
    views.config["SESSION_COOKIE_PATH"] = "/sub"
    with client.session_transaction("/sub/page", base_url="http://other.test/") as sess:
        sess["a"] = "x"
    assert client.get_cookie("session", domain="other.test", path="/sub") is not None
    assert client.get_cookie("session") is None


def test_session_transaction_errors(app: Erlen) -> None:
    client = app.test_client(use_cookies=False)
    with pytest.raises(TypeError, match="use_cookies"):
        with client.session_transaction():
            pass

    app.config["SECRET_KEY"] = None
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        with app.test_client().session_transaction():
            pass


# -- interoperability with Flask ---------------------------------------------------------

SECRET = "shared secret"
RICH: dict[str, t.Any] = {
    "tuple": (1, "two", (3.5, None)),
    "bytes": b"\x00\x01binary\xff",
    "markup": Markup("<strong>safe</strong>"),
    "uuid": uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
    "datetime": datetime(2024, 2, 29, 23, 59, 58, tzinfo=UTC),
    "nested": {"list": [1, {"deep": (b"x",)}], " t": "tag-like key", "ü": "é"},
    "tag_like": {" m": "not markup"},
    "number": 42,
    "flag": True,
}


def _flask_app() -> t.Any:
    import flask

    flask_app = flask.Flask("flask_interop")
    flask_app.config.update(SECRET_KEY=SECRET, TESTING=True)
    seen: dict[str, t.Any] = {}

    @flask_app.route("/write")
    def write() -> str:
        flask.session.update(RICH)
        flask.flash("from flask", "info")
        return ""

    @flask_app.route("/read")
    def read() -> str:
        seen.update(flask.session)
        return ""

    flask_app.seen = seen  # type: ignore[attr-defined]
    return flask_app


def test_flask_cookie_read_by_erlen(app: Erlen, client: t.Any) -> None:
    app.config["SECRET_KEY"] = SECRET
    flask_client = _flask_app().test_client()
    flask_client.get("/write")
    value = flask_client.get_cookie("session").value

    seen: dict[str, t.Any] = {}

    @app.route("/read")
    def read() -> str:
        seen.update(dict(session.items()))
        seen["_flashes"] = get_flashed_messages(with_categories=True)
        return ""

    client.set_cookie("session", value)
    client.get("/read")
    assert seen.pop("_flashes") == [("info", "from flask")]
    assert seen == RICH
    assert type(seen["tuple"]) is tuple and type(seen["markup"]) is Markup
    assert type(seen["uuid"]) is uuid.UUID and type(seen["nested"]["list"][1]["deep"]) is tuple


def test_erlen_cookie_read_by_flask(app: Erlen, client: t.Any) -> None:
    app.config["SECRET_KEY"] = SECRET

    @app.route("/write")
    def write() -> str:
        session.update(RICH)
        session.permanent = True
        return ""

    client.get("/write")
    value = client.get_cookie("session").value

    flask_app = _flask_app()
    flask_client = flask_app.test_client()
    flask_client.set_cookie("session", value)
    flask_client.get("/read")
    seen = flask_app.seen
    assert seen.pop("_permanent") is True
    assert seen == RICH
    assert type(seen["tuple"]) is tuple and type(seen["bytes"]) is bytes


def test_flask_rejects_erlen_cookie_with_other_key(app: Erlen, client: t.Any) -> None:
    @app.route("/write")
    def write() -> str:
        session["a"] = 1
        return ""

    client.get("/write")  # signed with "test key"
    flask_app = _flask_app()
    flask_client = flask_app.test_client()
    flask_client.set_cookie("session", client.get_cookie("session").value)
    flask_client.get("/read")
    assert flask_app.seen == {}


def test_same_cookie_as_flask_byte_for_byte(
    app: Erlen, client: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flask

    # Flask's clock (itsdangerous') and Erlen's, stopped at the same second.
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: 1_700_000_000)
    monkeypatch.setattr(_CookieSerializer, "get_timestamp", lambda self: 1_700_000_000)
    app.config["SECRET_KEY"] = SECRET

    @app.route("/write")
    def write() -> str:
        session.update(RICH)
        return ""

    flask_app = _flask_app()

    @flask_app.route("/write-plain")
    def write_plain() -> str:
        flask.session.update(RICH)
        return ""

    erlen_header = _session_cookie(client.get("/write"))
    flask_header = flask_app.test_client().get("/write-plain").headers.getlist("Set-Cookie")
    assert [erlen_header] == flask_header


# -- the cookie format, against itsdangerous ---------------------------------------
#
# Erlen signs and verifies the cookie itself; these compare it with itsdangerous'
# URLSafeTimedSerializer, which is what Flask uses, on generated data and tokens.

_NOW = 1_700_000_000
_TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=20)
    # Repetitive text, so that compressed payloads come up often.
    | st.text(alphabet="ab", min_size=10, max_size=200)
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_sessions = st.dictionaries(st.text(max_size=10), _values, max_size=5)
_keys = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=3, unique=True)
_settings = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ours(keys: list[str]) -> t.Any:
    import hashlib

    return _CookieSerializer(keys, "cookie-session", session_json_serializer, "hmac", hashlib.sha1)


@contextmanager
def _clock(signed_at: int, now: int | None = None) -> t.Iterator[t.Callable[[int], None]]:
    """Stop both clocks (Erlen's and itsdangerous') at ``signed_at``; the
    function yielded moves them to another second."""
    current = [signed_at]

    def get_timestamp(self: t.Any) -> int:
        return current[0]

    def move(ts: int) -> None:
        current[0] = ts

    with mock.patch.object(itsdangerous.TimestampSigner, "get_timestamp", get_timestamp):
        with mock.patch.object(_CookieSerializer, "get_timestamp", get_timestamp):
            yield move


def _outcome(loads: t.Callable[..., t.Any], token: t.Any, **kwargs: t.Any) -> tuple[str, t.Any]:
    try:
        return "ok", loads(token, **kwargs)
    except itsdangerous.BadData as e:
        return "bad", type(e).__name__
    except Exception as e:  # noqa: BLE001 - itsdangerous lets a few errors through
        return "error", type(e).__name__


@_settings
@given(data=_sessions, ts=st.integers(0, 2**37))  # up to the year 6325: datetime ends at 9999
def test_same_tokens_as_itsdangerous(data: dict[str, t.Any], ts: int) -> None:
    ours, theirs = _ours(["k"]), _serializer("k")
    with _clock(ts):
        token = ours.dumps(data)
        assert token == theirs.dumps(data)
        assert theirs.loads(token) == data
        assert ours.loads(token) == data
        assert ours.loads(token, max_age=0, return_timestamp=True) == (
            data,
            datetime.fromtimestamp(ts, UTC),
        )


@pytest.mark.parametrize("size", range(0, 60))
def test_compression_threshold(size: int) -> None:
    """Around the point where compressing starts to pay, both choose alike."""
    ours, theirs = _ours(["k"]), _serializer("k")
    with _clock(_NOW):
        for data in ({"": "a" * size}, {"a" * size: 1}, {"x": "ab" * (size // 2)}, {"n": 10**size}):
            token = ours.dumps(data)
            assert token == theirs.dumps(data)
            assert ours.loads(token) == data


def test_both_payload_forms_covered() -> None:
    ours = _ours(["k"])
    assert not ours.dumps({"n": 1}).startswith(".")
    assert ours.dumps({"n": "a" * 100}).startswith(".")


@_settings
@given(keys=_keys, other=st.text(min_size=1, max_size=12), data=_sessions, pick=st.integers(0, 2))
def test_key_fallbacks_like_itsdangerous(
    keys: list[str], other: str, data: dict[str, t.Any], pick: int
) -> None:
    ours, theirs = _ours(keys), _serializer(*keys)
    with _clock(_NOW):
        # Signed with the newest key.
        token = ours.dumps(data)
        assert token == theirs.dumps(data) == _serializer(keys[-1]).dumps(data)
        # Any of the keys verifies; a key not among them does not.
        signer = keys[pick % len(keys)]
        old_token = _serializer(signer).dumps(data)
        assert ours.loads(old_token) == theirs.loads(old_token) == data
        stranger = _serializer(other).dumps(data)
        assert _outcome(ours.loads, stranger) == _outcome(theirs.loads, stranger)
        assert (_outcome(ours.loads, stranger)[0] == "ok") == (other in keys)


@_settings
@given(
    data=_sessions,
    signed_at=st.integers(0, 2**33),
    age=st.integers(-(2**20), 2**20),
    max_age=st.none() | st.integers(-5, 2**20),
)
def test_expiry_like_itsdangerous(
    data: dict[str, t.Any], signed_at: int, age: int, max_age: int | None
) -> None:
    ours, theirs = _ours(["k"]), _serializer("k")
    with _clock(signed_at) as move:
        token = ours.dumps(data)
        move(signed_at + age)
        expected = _outcome(theirs.loads, token, max_age=max_age)
        assert _outcome(ours.loads, token, max_age=max_age) == expected
        expired = max_age is not None and (age > max_age or age < 0)
        assert expected == (("bad", "SignatureExpired") if expired else ("ok", data))


def _sign_raw(value: bytes) -> str:
    """``value`` signed the way the cookie is, with key ``"k"``, whatever it holds."""
    return (value + b"." + _serializer("k").make_signer().get_signature(value)).decode()


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


_raw_parts = st.text(alphabet=_TOKEN_ALPHABET, max_size=40).map(str.encode)
_b64_of = st.binary(max_size=40).map(_b64)
_zlib_cut_short = _sessions.map(
    lambda d: zlib.compress(session_json_serializer.dumps(d).encode())[:-1]
)


@st.composite
def _malformed(draw: st.DrawFn) -> str:
    """Tokens that are wrong in one way or another, signed or not."""
    kind = draw(
        st.sampled_from(["random", "mutated", "signed payload", "signed timestamp", "signed zlib"])
    )
    with _clock(_NOW):
        valid = _serializer("k").dumps(draw(_sessions))
    if kind == "random":
        return draw(st.text(alphabet=_TOKEN_ALPHABET, max_size=80))
    if kind == "mutated":
        i = draw(st.integers(0, len(valid)))
        junk = draw(st.text(alphabet=_TOKEN_ALPHABET + "=+/!", max_size=3))
        cut = draw(st.integers(0, 3))
        return valid[:i] + junk + valid[i + cut :]
    ts = _b64(_NOW.to_bytes(4, "big"))
    if kind == "signed payload":
        # A correct signature over a payload that is not base64 tagged JSON of a dict.
        payload = draw(_raw_parts | _b64_of | st.just(b"W1pd") | st.just(b"IngiCg"))
        return _sign_raw(payload + b"." + ts)
    if kind == "signed timestamp":
        # A correct signature over a valid payload with an odd timestamp.
        raw = draw(
            st.binary(max_size=12)
            | st.integers(0, 2**80).map(lambda n: n.to_bytes(11, "big").lstrip(b"\0"))
        )
        stamp = draw(st.just(_b64(raw)) | _raw_parts)
        return _sign_raw(
            valid.rsplit(".", 2)[0].encode() + draw(st.sampled_from([b".", b"", b".."])) + stamp
        )
    # A correct signature over "." + base64 of bytes that may not be zlib data.
    body = draw(st.binary(max_size=30) | _zlib_cut_short)
    return _sign_raw(b"." + _b64(body) + b"." + ts)


@_settings
@given(token=_malformed(), max_age=st.none() | st.just(3600))
def test_malformed_tokens_like_itsdangerous(token: str, max_age: int | None) -> None:
    ours, theirs = _ours(["k"]), _serializer("k")
    with _clock(_NOW):
        expected = _outcome(theirs.loads, token, max_age=max_age)
        got = _outcome(ours.loads, token, max_age=max_age)
        if expected[0] == "error":
            # itsdangerous lets an unrepresentable date escape (ValueError and
            # the like); Erlen calls that token bad.
            assert got[0] == "bad"
        else:
            assert got == expected
        # The session interface's own path never raises anything but its
        # private "invalid" signal.
        try:
            ours._loads(token, max_age)
        except _Invalid:
            pass


@settings(max_examples=100, deadline=None)
@given(token=_malformed() | st.text(alphabet=_TOKEN_ALPHABET, max_size=40))
def test_open_session_never_raises(token: str) -> None:
    app = Erlen("malformed")
    app.secret_key = "k"
    si = app.session_interface
    with _clock(_NOW):
        expected = _outcome(
            _serializer("k").loads,
            token,
            max_age=int(app.permanent_session_lifetime.total_seconds()),
        )
        with app.test_request_context(headers={"Cookie": f"session={token}"}):
            sess = si.open_session(app, request)
    assert isinstance(sess, SecureCookieSession)
    if expected[0] == "ok" and isinstance(expected[1], dict):
        assert dict(sess) == expected[1]
    else:
        assert dict(sess) == {}


def test_loads_raises_itsdangerous_errors() -> None:
    ours = _ours(["k"])
    with _clock(_NOW) as move:
        token = ours.dumps({"a": 1})
        with pytest.raises(itsdangerous.BadSignature):
            ours.loads("no separator")
        with pytest.raises(itsdangerous.BadTimeSignature):
            ours.loads(token[:-1] + ("A" if token[-1] != "A" else "B"))
        move(_NOW + 100)
        with pytest.raises(itsdangerous.SignatureExpired) as info:
            ours.loads(token, max_age=10)
        assert info.value.date_signed == datetime.fromtimestamp(_NOW, UTC)
        with pytest.raises(itsdangerous.BadPayload):
            ours.loads(_sign_raw(b"!!!." + token.split(".")[1].encode()))
        with pytest.raises(itsdangerous.BadSignature):
            ours.loads("\udcff.x.y")  # not encodable
        # Another salt is another key: delegated to itsdangerous.
        salted = itsdangerous.URLSafeTimedSerializer(
            "k", salt="other", serializer=session_json_serializer, signer_kwargs=ours.signer_kwargs
        ).dumps({"b": 2})
        assert ours.loads(salted, salt="other") == {"b": 2}
        with pytest.raises(itsdangerous.BadSignature):
            ours.loads(salted)
        assert ours.loads(token.encode()) == {"a": 1}


class _Sha1WithoutBlockSize:
    """A digest that hmac has to treat as a plain callable (no ``block_size``)."""

    def __init__(self, data: bytes = b"") -> None:
        import hashlib

        self._h = hashlib.sha1(data)
        self.digest_size = self._h.digest_size

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def copy(self) -> t.Any:
        new = _Sha1WithoutBlockSize()
        new._h = self._h.copy()
        return new

    def digest(self) -> bytes:
        return self._h.digest()


@pytest.mark.filterwarnings("ignore:No block_size attribute:RuntimeWarning")
@pytest.mark.parametrize(
    "digest", ["sha1", "sha256", "sha512", "blake2b", "md5", "name", "no block size"]
)
@pytest.mark.parametrize("derivation", ["hmac", "concat", "django-concat", "none"])
def test_other_digests_and_derivations(digest: str, derivation: str) -> None:
    import hashlib

    if digest == "name":
        method: t.Any = "sha256"  # hmac takes a name; the concat derivations don't
        if derivation in ("concat", "django-concat"):
            return
    elif digest == "no block size":
        method = _Sha1WithoutBlockSize
    else:
        method = getattr(hashlib, digest)
    # A key longer than any block, used as is by "none".
    keys = ["short", "k" * 300]
    ours = _CookieSerializer(keys, "s", session_json_serializer, derivation, method)
    kwargs = {"key_derivation": derivation, "digest_method": method}
    theirs = itsdangerous.URLSafeTimedSerializer(
        keys, salt="s", serializer=session_json_serializer, signer_kwargs=kwargs
    )
    with _clock(_NOW):
        for data in ({"a": 1}, {"b": "x" * 100}):
            token = ours.dumps(data)
            assert token == theirs.dumps(data)
            assert ours.loads(token) == theirs.loads(token) == data
        older = itsdangerous.URLSafeTimedSerializer(
            "short", salt="s", serializer=session_json_serializer, signer_kwargs=kwargs
        ).dumps({"c": 3})
        assert ours.loads(older) == {"c": 3}


# -- the Set-Cookie shortcut of save_session ---------------------------------------

_COOKIE_CONFIGS = [
    {},
    {"SESSION_COOKIE_NAME": "sid", "SESSION_COOKIE_HTTPONLY": False},
    {
        "SESSION_COOKIE_DOMAIN": ".Example.com:8080",
        "SESSION_COOKIE_PATH": "/a b/",
        "SESSION_COOKIE_SECURE": True,
    },
    {"SESSION_COOKIE_SAMESITE": "lax", "SESSION_COOKIE_PARTITIONED": True},
    {
        "APPLICATION_ROOT": "/app",
        "SESSION_COOKIE_SAMESITE": "Strict",
        "SESSION_COOKIE_DOMAIN": "bücher.example",
    },
    {"SESSION_COOKIE_NAME": "sessión"},
]


def _expected_header(app: Erlen, token: str, expires: t.Any) -> str:
    from erlen.http import dump_cookie

    si = SessionInterface()
    return dump_cookie(
        si.get_cookie_name(app),
        token,
        expires=expires,
        path=si.get_cookie_path(app),
        domain=si.get_cookie_domain(app),
        secure=si.get_cookie_secure(app),
        httponly=si.get_cookie_httponly(app),
        samesite=si.get_cookie_samesite(app),
        partitioned=si.get_cookie_partitioned(app),
    )


@pytest.mark.parametrize("config", _COOKIE_CONFIGS)
@pytest.mark.parametrize("permanent", [False, True])
def test_set_cookie_header_same_as_dump_cookie(
    app: Erlen, config: dict[str, t.Any], permanent: bool
) -> None:
    app.config.update(config)
    si = app.session_interface
    with app.test_request_context("/"):
        sess = si.session_class({"n": 1})
        sess.permanent = permanent
        response = app.response_class("x")
        with mock.patch.object(_CookieSerializer, "get_timestamp", return_value=1700000000):
            si.save_session(app, sess, response)
            token = si.get_signing_serializer(app).dumps({"_permanent": permanent, "n": 1})
        # The shortcut was taken (a template was made for these settings).
        assert si._cookie_template is not None
        headers = response.headers.getlist("Set-Cookie")
        assert len(headers) == 1
        expires = si.get_expiration_time(app, sess)
        if expires is not None:
            # The date is computed twice; compare it apart from the rest.
            got_date = _attrs(headers[0])["expires"]
            assert abs(parse_date(got_date) - expires) < timedelta(seconds=5)
            expires = got_date
        assert headers[0] == _expected_header(app, token, expires)
        assert response.headers.getlist("Vary") == ["Cookie"]


def test_set_cookie_follows_config_changes(app: Erlen) -> None:
    si = app.session_interface

    def header() -> str:
        with app.test_request_context("/"):
            sess = si.session_class()
            sess["n"] = 1
            response = app.response_class("x")
            si.save_session(app, sess, response)
            return response.headers["Set-Cookie"]

    assert header().startswith("session=")
    app.config["SESSION_COOKIE_NAME"] = "other"
    app.config["SESSION_COOKIE_SECURE"] = True
    h = header()
    assert h.startswith("other=") and "; Secure" in h
    app.config["SESSION_COOKIE_NAME"] = "bad name"
    with pytest.raises(ValueError):
        header()


def test_set_cookie_overridden_getter_and_set_cookie(app: Erlen) -> None:
    class Interface(SecureCookieSessionInterface):
        def get_cookie_path(self, app: Erlen) -> str:
            return "/custom"

    calls = []

    class MyResponse(Response):
        def set_cookie(self, key: str, value: str = "", *args: t.Any, **kwargs: t.Any) -> None:
            calls.append(key)
            super().set_cookie(key, value, *args, **kwargs)

    app.session_interface = Interface()
    sess = SecureCookieSession()
    sess["n"] = 1
    with app.test_request_context("/"):
        response = app.response_class("x")
        app.session_interface.save_session(app, sess, response)
        assert "Path=/custom" in response.headers["Set-Cookie"]
        app.session_interface = SecureCookieSessionInterface()
        response = MyResponse("x")
        app.session_interface.save_session(app, sess, response)
        assert calls == ["session"]
        assert "Path=/;" in response.headers["Set-Cookie"] or response.headers[
            "Set-Cookie"
        ].endswith("Path=/")


def test_set_cookie_too_big_still_warns(app: Erlen) -> None:
    app.config["MAX_COOKIE_SIZE"] = 100
    sess = SecureCookieSession()
    sess["n"] = uuid.uuid4().hex * 4  # hardly compressible
    with app.test_request_context("/"):
        response = app.response_class("x")
        with pytest.warns(UserWarning, match="cookie is"):
            app.session_interface.save_session(app, sess, response)
        assert response.headers["Set-Cookie"].startswith("session=")


def test_lifetime_setting_changes_are_seen(app: Erlen) -> None:
    si = app.session_interface
    app.config["PERMANENT_SESSION_LIFETIME"] = 100
    assert si._max_age(app) == 100
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=50)
    assert si._max_age(app) == 50

    class App(Erlen):
        @property
        def permanent_session_lifetime(self) -> timedelta:  # type: ignore[override]
            return timedelta(seconds=7)

    other = App(__name__)
    assert si._max_age(other) == 7


def test_overridden_expiry_and_should_set_cookie(app: Erlen) -> None:
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

    class Interface(SecureCookieSessionInterface):
        def get_expiration_time(self, app: Erlen, session: SessionMixin) -> datetime | None:
            return when

        def should_set_cookie(self, app: Erlen, session: SessionMixin) -> bool:
            return True

    app.session_interface = Interface()
    with app.test_request_context("/"):
        response = app.response_class("x")
        # Not modified, yet saved: should_set_cookie() says so.
        app.session_interface.save_session(app, SecureCookieSession({"n": 1}), response)
        assert _attrs(response.headers["Set-Cookie"])["expires"] == "Wed, 02 Jan 2030 03:04:05 GMT"


@_settings
@given(
    data=_sessions,
    signed_at=st.integers(0, 2**33),
    age=st.integers(-(2**20), 2**20),
    max_age=st.none() | st.integers(-5, 2**20),
)
def test_expiry_like_itsdangerous_once_verified(
    data: dict[str, t.Any], signed_at: int, age: int, max_age: int | None
) -> None:
    """A token verified once still expires on time."""
    ours, theirs = _ours(["k"]), _serializer("k")
    with _clock(signed_at) as move:
        token = ours.dumps(data)
        assert ours.loads(token) == data
        move(signed_at + age)
        expected = _outcome(theirs.loads, token, max_age=max_age)
        assert _outcome(ours.loads, token, max_age=max_age) == expected
        assert _outcome(ours.loads, token, max_age=max_age) == expected


def test_each_load_gives_a_fresh_object() -> None:
    ours = _ours(["k"])
    token = ours.dumps({"items": [1, 2], "user": {"id": 7}})
    first = ours.loads(token)
    first["items"].append(3)
    first["user"]["id"] = 8
    assert ours.loads(token) == {"items": [1, 2], "user": {"id": 7}}
    assert ours.loads(token) is not ours.loads(token)


def test_a_good_token_verifies_after_bad_ones() -> None:
    ours = _ours(["k"])
    token = ours.dumps({"n": 1})
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    stranger = _ours(["other"]).dumps({"admin": True})
    for bad in (tampered, stranger, "garbage", token + "x"):
        with pytest.raises(itsdangerous.BadSignature):
            ours.loads(bad)
    assert ours.loads(token) == {"n": 1}
    blob = secrets.token_urlsafe(6000)  # random: compression can't shrink it
    huge = ours.dumps({"blob": blob})
    assert ours.loads(huge)["blob"] == blob


def test_resigning_same_payload_in_same_second_gives_same_token() -> None:
    ours, theirs = _ours(["k"]), _serializer("k")
    with _clock(_NOW) as move:
        token = ours.dumps({"n": 1})
        assert ours.dumps({"n": 1}) == token == theirs.dumps({"n": 1})
        assert ours.dumps({"n": 2}) == theirs.dumps({"n": 2}) != token
        move(_NOW + 1)
        later = ours.dumps({"n": 2})
        assert later == theirs.dumps({"n": 2})
        assert ours.loads(later) == {"n": 2}


# -- the shortcut that writes the Set-Cookie header: every shape of response ----


def test_cookie_header_with_vary_from_the_view(app: Erlen, client: t.Any) -> None:
    @app.route("/vary")
    def vary() -> t.Any:
        session["n"] = 1
        return "x", {"Vary": "Accept"}

    rv = client.get("/vary")
    assert rv.headers.getlist("Vary") == ["Accept, Cookie"]
    assert len(_cookie_headers(rv)) == 1


def test_cookie_header_after_hook_touched_headers(app: Erlen, client: t.Any) -> None:
    @app.route("/hooked")
    def hooked() -> str:
        session["n"] = 1
        return "x"

    @app.after_request
    def touch(response: Response) -> Response:
        response.headers["X-Seen"] = "1"
        return response

    rv = client.get("/hooked")
    assert rv.headers["X-Seen"] == "1"
    assert rv.headers.getlist("Vary") == ["Cookie"]
    assert _attrs(_session_cookie(rv)) == {"httponly": "", "path": "/"}


def test_response_class_with_plain_max_cookie_size(app: Erlen, client: t.Any) -> None:
    class Tiny(Response):
        max_cookie_size = 20

    app.response_class = Tiny

    @app.route("/big")
    def big() -> str:
        session["n"] = "x" * 40
        return "x"

    with pytest.warns(UserWarning, match="over the limit"):
        rv = client.get("/big")
    assert _session_cookie(rv).startswith("session=")


def test_max_cookie_size_from_config(app: Erlen, client: t.Any) -> None:
    app.config["MAX_COOKIE_SIZE"] = 30

    @app.route("/big")
    def big() -> str:
        session["n"] = "x" * 40
        return "x"

    with pytest.warns(UserWarning, match="over the limit"):
        rv = client.get("/big")
    assert _session_cookie(rv).startswith("session=")
    app.config["MAX_COOKIE_SIZE"] = 0  # no limit: no warning
    assert _session_cookie(client.get("/big")).startswith("session=")


def test_expiry_that_is_not_a_datetime(app: Erlen, client: t.Any) -> None:
    class EpochExpiry(SecureCookieSessionInterface):
        def get_expiration_time(self, app: Erlen, session: t.Any) -> t.Any:
            return 2_000_000_000  # set_cookie takes seconds since the epoch too

    app.session_interface = EpochExpiry()

    @app.route("/set")
    def set_() -> str:
        session["n"] = 1
        return "x"

    attrs = _attrs(_session_cookie(client.get("/set")))
    assert attrs["expires"] == "Wed, 18 May 2033 03:33:20 GMT"


def test_remembered_payload_that_no_longer_loads_is_an_empty_session(
    app: Erlen, client: t.Any
) -> None:
    """A serializer whose loads() fails the second time: a fresh session, not a 500."""

    class Flaky:
        def __init__(self) -> None:
            self.calls = 0

        def dumps(self, obj: t.Any) -> str:
            return session_json_serializer.dumps(obj)

        def loads(self, text: t.Any) -> t.Any:
            self.calls += 1
            if self.calls > 1:
                raise ValueError("changed its mind")
            return session_json_serializer.loads(text)

    class FlakyInterface(SecureCookieSessionInterface):
        serializer = Flaky()

    app.session_interface = FlakyInterface()

    @app.route("/set")
    def set_() -> str:
        session["n"] = 1
        return "x"

    @app.route("/get")
    def get() -> str:
        return repr(session.get("n"))

    client.get("/set")
    assert client.get("/get").text == "1"
    assert client.get("/get").text == "None"


def test_session_interface_as_a_class_attribute(client_interface: str) -> None:
    # As in Flask: a subclass's class attribute is the app's interface (it was
    # replaced by the default one in __init__), and its getters decide.
    class PathAware(SecureCookieSessionInterface):
        def get_cookie_name(self, app: Erlen) -> str:
            return "other" if request.path.endswith("other") else super().get_cookie_name(app)

    class App(Erlen):
        session_interface = PathAware()

    app = App(__name__)
    app.secret_key = "k"
    assert isinstance(app.session_interface, PathAware)

    @app.post("/set/<path:where>")
    def set_(where: str) -> str:
        session["value"] = request.form["value"]
        return ""

    @app.get("/get/<path:where>")
    def get(where: str) -> str:
        return t.cast(str, session.get("value", "none"))

    client = app.test_client(interface=client_interface)
    client.post("/set/x", data={"value": "42"})
    client.post("/set/other", data={"value": "616"})
    assert client.get("/get/x").text == "42"
    assert client.get("/get/other").text == "616"
    assert Erlen(__name__).session_interface is not Erlen(__name__).session_interface


# -- serializer edges (coverage of the rarer paths) ----------------------------------


def test_serializer_needs_a_key() -> None:
    import hashlib

    with pytest.raises(ValueError, match="secret key"):
        _CookieSerializer([], "s", session_json_serializer, "hmac", hashlib.sha1)


def test_serializer_signs_with_the_newest_key() -> None:
    ours = _ours(["old", "new"])
    assert ours.secret_key == b"new"
    assert _serializer("new").loads(ours.dumps({"a": 1})) == {"a": 1}


def test_digest_method_failing_its_probe_still_signs() -> None:
    # A digest constructor that fails when first called (the probe) leaves
    # the choice to hmac; the tokens are still itsdangerous's.
    import hashlib

    calls = []

    def flaky_sha1(*args: t.Any) -> t.Any:
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("not yet")
        return hashlib.sha1(*args)

    # No key derivation, so the probe is the first call.
    ours = _CookieSerializer(["k"], "s", session_json_serializer, "none", flaky_sha1)
    theirs = itsdangerous.URLSafeTimedSerializer(
        ["k"],
        salt="s",
        serializer=session_json_serializer,
        signer_kwargs={"key_derivation": "none", "digest_method": hashlib.sha1},
    )
    with _clock(_NOW):
        token = ours.dumps({"a": 1})
        assert calls[0] == ()
        assert token == theirs.dumps({"a": 1})
        assert ours.loads(token) == {"a": 1}


class _BytesSerializer:
    """A serializer that makes bytes, as pickle-like ones do."""

    @staticmethod
    def dumps(obj: t.Any) -> bytes:
        return repr(obj).encode()

    @staticmethod
    def loads(data: bytes) -> t.Any:
        assert type(data) is bytes
        import ast

        return ast.literal_eval(data.decode())


def test_bytes_serializer_round_trip() -> None:
    import hashlib

    ours = _CookieSerializer(["k"], "s", _BytesSerializer, "hmac", hashlib.sha1)
    assert not ours.is_text_serializer
    theirs = itsdangerous.URLSafeTimedSerializer(
        ["k"],
        salt="s",
        serializer=_BytesSerializer,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    with _clock(_NOW):
        token = ours.dumps({"a": [1, 2]})
        assert token == theirs.dumps({"a": [1, 2]})
        assert ours.loads(token) == {"a": [1, 2]}


def test_loads_accepts_a_bytearray() -> None:
    ours = _ours(["k"])
    token = ours.dumps({"a": 1})
    assert ours.loads(bytearray(token.encode())) == {"a": 1}
    assert ours.loads(memoryview(token.encode())) == {"a": 1}


class _NoDatetimes(datetime):
    """A datetime whose fromtimestamp fails, as it does on some platforms for
    times a signature can carry (Windows' gmtime past year 3000)."""

    @classmethod
    def fromtimestamp(cls, *args: t.Any, **kwargs: t.Any) -> t.Any:
        raise OSError(22, "Invalid argument")


def test_unrepresentable_timestamp_is_malformed(monkeypatch: pytest.MonkeyPatch) -> None:
    import erlen.signing

    ours = _ours(["k"])
    with _clock(_NOW) as move:
        token = ours.dumps({"a": 1})
        monkeypatch.setattr(erlen.signing, "datetime", _NoDatetimes)
        # itsdangerous: a timestamp it can't turn into a datetime is malformed.
        with pytest.raises(itsdangerous.BadTimeSignature, match="Malformed timestamp"):
            ours.loads(token, return_timestamp=True)
        assert ours.loads(token) == {"a": 1}
        # An expired token still says it expired, without the date.
        move(_NOW + 100)
        with pytest.raises(itsdangerous.SignatureExpired) as info:
            ours.loads(token, max_age=10)
        assert info.value.date_signed is None


@pytest.mark.parametrize(
    "fake",
    [
        # The value comes out quoted: not the shape the template assumes.
        lambda name, value, expires=None, **kw: f'{name}="{value}"; Path=/',
        # No expiry written: the timed stand-in can't be found.
        lambda name, value, expires=None, **kw: f"{name}={value}; Path=/",
    ],
)
def test_cookie_template_refuses_unexpected_shapes(
    fake: t.Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import erlen.sessions

    monkeypatch.setattr(erlen.sessions, "dump_cookie", fake)
    settings = ("session", None, "/", True, False, None, False)
    assert erlen.sessions._make_cookie_template(settings) is None


def test_cookie_template_for_stock_settings() -> None:
    import erlen.sessions
    from erlen.http import dump_cookie

    settings = ("session", None, "/", True, False, None, False)
    template = erlen.sessions._make_cookie_template(settings)
    assert template is not None
    assert template.header("v", None) == dump_cookie("session", "v", path="/", httponly=True)


class _LooseSerializer:
    """A serializer from an overridden get_signing_serializer: not ours."""

    def __init__(self, inner: t.Any) -> None:
        self.inner = inner

    def loads(self, value: str, max_age: int | None = None) -> t.Any:
        return self.inner.loads(value, max_age=max_age)

    def dumps(self, obj: t.Any) -> t.Any:
        return self.inner.dumps(obj)


def test_overridden_serializer_bad_cookie_and_non_dict(views: Erlen, client: t.Any) -> None:
    stock = views.session_interface.get_signing_serializer(views)

    class Interface(SecureCookieSessionInterface):
        def get_signing_serializer(self, app: Erlen) -> t.Any:
            return _LooseSerializer(stock)

    views.session_interface = Interface()
    client.get("/set/a/1")
    assert client.get("/get/a").text == "'1'"
    # A bad signature from another serializer's loads: itsdangerous' BadData.
    client.set_cookie("session", "garbage.value.sig")
    rv = client.get("/get/a")
    assert rv.status_code == 200 and rv.text == "None"
    # Signed with the key, but a list rather than a session.
    client.set_cookie("session", stock.dumps([1, 2]))
    rv = client.get("/get/a")
    assert rv.status_code == 200 and rv.text == "None"


@pytest.mark.parametrize("read", [True, False])
def test_overridden_should_set_cookie_false(app: Erlen, client: t.Any, read: bool) -> None:
    class Interface(SecureCookieSessionInterface):
        def should_set_cookie(self, app: Erlen, session: t.Any) -> bool:
            return False

    app.session_interface = Interface()

    @app.route("/write")
    def write() -> str:
        session["a"] = 1
        return "ok"

    @app.route("/touch")
    def touch() -> str:
        if read:
            return repr(session.get("a"))
        return "untouched"

    client.get("/write")  # not saved: should_set_cookie says no
    assert not [h for h in _cookie_headers(client.get("/write")) if h.startswith("session=")]
    with client.session_transaction() as sess:
        sess["a"] = 1
    rv = client.get("/touch")
    assert "session=" not in rv.headers.get("Set-Cookie", "")
    assert ("Cookie" in rv.headers.get("Vary", "")) is read


def test_overridden_should_set_cookie_false_unread_session(app: Erlen) -> None:
    class Interface(SecureCookieSessionInterface):
        def should_set_cookie(self, app: Erlen, session: t.Any) -> bool:
            return False

    sess = SecureCookieSession({"a": 1})
    sess.accessed = False
    response = Response("x")
    Interface().save_session(app, sess, response)
    assert "Set-Cookie" not in response.headers and "Vary" not in response.headers
    sess.accessed = True
    Interface().save_session(app, sess, response)
    assert "Set-Cookie" not in response.headers and response.headers["Vary"] == "Cookie"


def test_overridden_getter_without_secret_key_gives_null_session() -> None:
    class Interface(SecureCookieSessionInterface):
        def get_cookie_name(self, app: Erlen) -> str:
            return "custom"

    app = Erlen(__name__)
    app.session_interface = Interface()
    with app.test_request_context("/", headers={"Cookie": "custom=x"}):
        assert app.session_interface.open_session(app, request._get_current_object()) is None  # type: ignore[attr-defined]
    app.secret_key = "k"
    token = _ours(["k"]).dumps({"a": 1})
    with app.test_request_context("/", headers={"Cookie": f"session=x; custom={token}"}):
        opened = app.session_interface.open_session(app, request._get_current_object())  # type: ignore[attr-defined]
        assert opened == {"a": 1}
