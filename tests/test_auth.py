"""The login manager: current_user, login/logout, login_required, remember-me, next."""

from __future__ import annotations

import typing as t
from datetime import timedelta

import pytest

from erlen import (
    Blueprint,
    Erlen,
    flash,
    get_flashed_messages,
    render_template_string,
    request,
    session,
)
from erlen.auth import (
    AnonymousUser,
    AnonymousUserMixin,
    LoginManager,
    UserMixin,
    _make_remember_token,
    current_user,
    is_safe_next,
    login_required,
    login_url,
    login_user,
    logout_user,
    safe_next_url,
)
from erlen.testing import ErlenClient


class User(UserMixin):
    def __init__(self, id: int, name: str, active: bool = True) -> None:
        self.id = id
        self.name = name
        self.active = active

    @property
    def is_active(self) -> bool:
        return self.active


USERS = {
    "1": User(1, "ann"),
    "2": User(2, "bob"),
    "3": User(3, "cid", active=False),
    "ü": User("ü", "üma"),
}  # type: ignore[arg-type]


@pytest.fixture
def loads() -> list[str]:
    return []


@pytest.fixture
def manager(app: Erlen, loads: list[str]) -> LoginManager:
    manager = LoginManager(app)
    manager.login_view = "login"

    @manager.user_loader
    def load(user_id: str) -> User | None:
        loads.append(user_id)
        return USERS.get(user_id)

    @app.route("/login", methods=["GET", "POST"])
    def login() -> str:
        if request.method == "POST":
            user = USERS[request.form["id"]]
            ok = login_user(user, remember=request.form.get("remember") == "1")
            return f"ok={ok}"
        return f"login page next={request.args.get('next')!r}"

    @app.route("/logout")
    def logout() -> str:
        logout_user()
        return "bye"

    @app.route("/me")
    def me() -> str:
        return f"{current_user.is_authenticated}:{getattr(current_user, 'name', '-')}"

    @app.route("/private")
    @login_required
    def private() -> str:
        return f"secret of {current_user.name}"

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    return manager


def login(client: ErlenClient, user_id: str = "1", remember: bool = False) -> None:
    rv = client.post("/login", data={"id": user_id, "remember": "1" if remember else "0"})
    assert rv.text == "ok=True"


# -- user classes --------------------------------------------------------------


def test_user_mixin_and_anonymous() -> None:
    user = User(7, "x")
    assert (user.is_authenticated, user.is_active, user.is_anonymous, user.get_id()) == (
        True,
        True,
        False,
        "7",
    )
    assert user == User(7, "y") and user != User(8, "x") and user != "7"
    assert len({user, User(7, "y"), User(8, "x")}) == 2
    anon = AnonymousUser()
    assert (anon.is_authenticated, anon.is_active, anon.is_anonymous, anon.get_id()) == (
        False,
        False,
        True,
        None,
    )
    assert repr(anon) == "<AnonymousUser>"
    assert isinstance(anon, AnonymousUserMixin)


def test_user_mixin_without_id() -> None:
    with pytest.raises(NotImplementedError, match="get_id"):
        UserMixin().get_id()
    assert UserMixin().__eq__(object()) is NotImplemented
    assert UserMixin().__ne__(object()) is NotImplemented


def test_user_mixin_plain_default_is_active() -> None:
    class Plain(UserMixin):
        id = 5

    assert Plain().is_active and Plain().get_id() == "5"


# -- setup -----------------------------------------------------------------------


def test_init_app_registers_extension_and_defaults(app: Erlen) -> None:
    manager = LoginManager()
    assert "erlen.auth" not in app.extensions
    manager.init_app(app)
    assert app.extensions["erlen.auth"] is manager
    assert app.config["REMEMBER_COOKIE_NAME"] == "remember_token"
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=365)
    assert manager.login_message == "Please log in to access this page."
    assert manager.login_message_category == "message"


def test_no_manager_is_a_clear_error(app: Erlen) -> None:
    with app.test_request_context():
        with pytest.raises(RuntimeError, match="no LoginManager"):
            login_user(User(1, "a"))
        with pytest.raises(RuntimeError, match="no LoginManager"):
            bool(current_user.is_authenticated)


def test_no_user_loader_is_a_clear_error(app: Erlen) -> None:
    LoginManager(app)
    with app.test_request_context():
        session["_user_id"] = "1"
        with pytest.raises(RuntimeError, match="user_loader"):
            bool(current_user.is_authenticated)


def test_outside_contexts() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        bool(current_user.is_authenticated)
    with pytest.raises(RuntimeError, match="request context"):
        login_user(User(1, "a"))
    with pytest.raises(RuntimeError, match="request context"):
        logout_user()
    with pytest.raises(RuntimeError, match="request context"):
        safe_next_url()


def test_app_context_without_request_is_anonymous(app: Erlen, manager: LoginManager) -> None:
    with app.app_context():
        assert current_user.is_anonymous


def test_custom_anonymous_user(app: Erlen, manager: LoginManager, client: ErlenClient) -> None:
    class Guest(AnonymousUserMixin):
        name = "guest"

    manager.anonymous_user = Guest
    assert client.get("/me").text == "False:guest"


# -- logging in and out --------------------------------------------------------


def test_anonymous_by_default_and_login_logout(client: ErlenClient, manager: LoginManager) -> None:
    assert client.get("/me").text == "False:-"
    login(client)
    assert client.get("/me").text == "True:ann"
    assert client.get("/logout").text == "bye"
    assert client.get("/me").text == "False:-"


def test_user_loaded_once_per_request(
    app: Erlen, client: ErlenClient, manager: LoginManager, loads: list[str]
) -> None:
    @app.route("/many")
    def many() -> str:
        return "".join(current_user.name for _ in range(5))

    login(client)
    loads.clear()
    assert client.get("/many").text == "ann" * 5
    assert loads == ["1"]


def test_requests_not_touching_current_user_do_nothing(
    client: ErlenClient, manager: LoginManager, loads: list[str]
) -> None:
    login(client, remember=True)
    client.delete_cookie("session")
    loads.clear()
    rv = client.get("/plain")
    assert rv.text == "plain" and loads == []
    assert "Set-Cookie" not in rv.headers


def test_inactive_user_is_refused(client: ErlenClient, manager: LoginManager) -> None:
    rv = client.post("/login", data={"id": "3"})
    assert rv.text == "ok=False"
    assert client.get("/me").text == "False:-"


def test_user_deactivated_after_login_is_anonymous(
    client: ErlenClient, manager: LoginManager
) -> None:
    login(client, "2")
    USERS["2"].active = False
    try:
        assert client.get("/me").text == "False:-"
    finally:
        USERS["2"].active = True


def test_deleted_user_is_anonymous(client: ErlenClient, manager: LoginManager) -> None:
    with client.session_transaction() as sess:
        sess["_user_id"] = "999"
    assert client.get("/me").text == "False:-"


def test_non_string_user_id_in_session_is_anonymous(
    client: ErlenClient, manager: LoginManager, loads: list[str]
) -> None:
    with client.session_transaction() as sess:
        sess["_user_id"] = 1
    assert client.get("/me").text == "False:-"
    assert loads == []


def test_non_ascii_user_id(client: ErlenClient, manager: LoginManager) -> None:
    login(client, "ü", remember=True)
    client.delete_cookie("session")
    assert client.get("/me").text == "True:üma"


def test_login_rotates_session_keeping_flashes_and_permanent(
    app: Erlen, client: ErlenClient, manager: LoginManager
) -> None:
    @app.route("/plant")
    def plant() -> str:
        session["planted"] = "by attacker"
        session["csrf_token"] = "a" * 40
        session.permanent = True
        flash("hello")
        return "planted"

    @app.route("/dump")
    def dump() -> str:
        return repr(sorted(session.keys())) + repr(get_flashed_messages())

    client.get("/plant")
    login(client)
    assert client.get("/dump").text == "['_flashes', '_permanent', '_user_id']['hello']"
    with client.session_transaction() as sess:
        assert sess.permanent


def test_logout_clears_session(app: Erlen, client: ErlenClient, manager: LoginManager) -> None:
    @app.route("/put")
    def put() -> str:
        session["cart"] = [1, 2]
        return "ok"

    login(client)
    client.get("/put")
    client.get("/logout")
    with client.session_transaction() as sess:
        assert dict(sess) == {}


def test_login_user_inside_view_sets_current_user_immediately(
    app: Erlen, client: ErlenClient, manager: LoginManager, loads: list[str]
) -> None:
    @app.route("/login-and-show")
    def login_and_show() -> str:
        before = current_user.is_authenticated
        login_user(USERS["2"])
        middle = current_user.name
        logout_user()
        return f"{before} {middle} {current_user.is_authenticated}"

    assert client.get("/login-and-show").text == "False bob False"


def test_login_without_secret_key(app: Erlen, manager: LoginManager) -> None:
    app.config["SECRET_KEY"] = None
    with app.test_request_context():
        assert current_user.is_anonymous  # reading works: the null session is empty
        with pytest.raises(RuntimeError, match="secret key"):
            login_user(USERS["1"])
        assert logout_user() is True  # nothing to clear, no error


def test_login_user_with_anonymous_id_is_an_error(app: Erlen, manager: LoginManager) -> None:
    class NoId(UserMixin):
        def get_id(self) -> t.Any:
            return None

    with app.test_request_context():
        with pytest.raises(ValueError, match="None"):
            login_user(NoId())


# -- login_required ----------------------------------------------------------------


def test_login_required_redirects_with_next_and_flash(
    app: Erlen, client: ErlenClient, manager: LoginManager
) -> None:
    rv = client.get("/private?a=1&b=%C3%A4")
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/login?next=/private?a%3D1%26b%3D%25C3%25A4"
    rv = client.get(rv.headers["Location"])
    assert rv.text == "login page next='/private?a=1&b=%C3%A4'"
    with client.session_transaction() as sess:
        assert sess["_flashes"] == [("message", "Please log in to access this page.")]
    login(client)
    assert client.get("/private").text == "secret of ann"


def test_login_required_next_keeps_script_root_and_quotes_path(
    client: ErlenClient, manager: LoginManager, app: Erlen
) -> None:
    @app.route("/päth")
    @login_required
    def path() -> str:
        return "x"

    rv = client.get("/päth", environ_base={"SCRIPT_NAME": "/mnt"})
    assert rv.headers["Location"] == "/mnt/login?next=/mnt/p%25C3%25A4th"


def test_login_required_custom_message_or_none(client: ErlenClient, manager: LoginManager) -> None:
    manager.login_message = "Log in first"
    manager.login_message_category = "warning"
    client.get("/private")
    with client.session_transaction() as sess:
        assert sess["_flashes"] == [("warning", "Log in first")]
        del sess["_flashes"]
    manager.login_message = None
    client.get("/private")
    with client.session_transaction() as sess:
        assert "_flashes" not in sess


def test_login_required_401_for_json_clients(client: ErlenClient, manager: LoginManager) -> None:
    rv = client.get("/private", headers={"Accept": "application/json"})
    assert rv.status_code == 401
    rv = client.get("/private", headers={"Accept": "text/html,application/json;q=0.9"})
    assert rv.status_code == 302
    rv = client.get("/private", headers={"Accept": "*/*"})
    assert rv.status_code == 302


def test_login_required_401_without_login_view(client: ErlenClient, manager: LoginManager) -> None:
    manager.login_view = None
    assert client.get("/private").status_code == 401


def test_login_view_as_url(client: ErlenClient, manager: LoginManager) -> None:
    manager.login_view = "/sso?realm=x"
    assert client.get("/private").headers["Location"] == "/sso?realm=x&next=%2Fprivate"
    manager.login_view = "https://sso.example/login"
    assert client.get("/private").headers["Location"] == "https://sso.example/login?next=%2Fprivate"


def test_login_url_helper(app: Erlen, manager: LoginManager) -> None:
    with app.test_request_context():
        assert login_url("login") == "/login"
        assert login_url("login", "/x") == "/login?next=/x"
        assert login_url("/in") == "/in"


def test_unauthorized_handler(client: ErlenClient, manager: LoginManager) -> None:
    @manager.unauthorized_handler
    def handler() -> tuple[str, int]:
        return "go away", 403

    rv = client.get("/private")
    assert (rv.status_code, rv.text) == (403, "go away")


def test_login_required_options_and_login_disabled(
    app: Erlen, client: ErlenClient, manager: LoginManager
) -> None:
    @app.route("/open")
    @login_required
    def open_view() -> str:
        return "open"

    assert client.options("/private").status_code == 200
    assert client.get("/open").status_code == 302
    app.config["LOGIN_DISABLED"] = True
    assert client.get("/open").text == "open"


def test_login_required_async_view(app: Erlen, client: ErlenClient, manager: LoginManager) -> None:
    @app.route("/async")
    @login_required
    async def async_view() -> str:
        return f"async {current_user.name}"

    assert client.get("/async").status_code == 302
    login(client)
    assert client.get("/async").text == "async ann"


def test_login_required_blueprint_login_view(
    app: Erlen, client: ErlenClient, manager: LoginManager
) -> None:
    bp = Blueprint("auth", __name__)

    @bp.route("/signin")
    def signin() -> str:
        return "signin"

    app.register_blueprint(bp, url_prefix="/auth")
    manager.login_view = "auth.signin"
    assert client.get("/private").headers["Location"] == "/auth/signin?next=/private"


def test_current_user_in_templates(
    app: Erlen, client: ErlenClient, manager: LoginManager, loads: list[str]
) -> None:
    @app.route("/tpl")
    def tpl() -> str:
        return render_template_string(
            "{% if current_user.is_authenticated %}hi {{ current_user.name }}{% else %}anon{% endif %}"
        )

    @app.route("/tpl-lazy")
    def tpl_lazy() -> str:
        return render_template_string("no user here")

    assert client.get("/tpl").text == "anon"
    login(client)
    loads.clear()
    assert client.get("/tpl-lazy").text == "no user here"
    assert loads == []
    assert client.get("/tpl").text == "hi ann"


# -- remember me -------------------------------------------------------------------


def _set_cookie_headers(rv: t.Any, name: str = "remember_token") -> list[str]:
    return [h for h in rv.headers.getlist("Set-Cookie") if h.startswith(name + "=")]


def test_remember_cookie_attributes(client: ErlenClient, manager: LoginManager) -> None:
    rv = client.post("/login", data={"id": "1", "remember": "1"})
    (header,) = _set_cookie_headers(rv)
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert f"Max-Age={365 * 24 * 3600}" in header
    assert "Secure" not in header


def test_remember_cookie_only_holds_id_time_and_binding(
    app: Erlen, client: ErlenClient, manager: LoginManager
) -> None:
    login(client, remember=True)
    value = client.get_cookie("remember_token").value
    encoded_id, issued, binding, signature = value.split(".")
    assert encoded_id == "MQ"  # base64 of "1"
    assert issued.isdigit() and len(binding) == 43 and len(signature) == 43


def test_remember_cookie_restores_login_and_is_rotated(
    client: ErlenClient, manager: LoginManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    import erlen.auth

    monkeypatch.setattr(erlen.auth, "time", lambda: 1_700_000_000)
    login(client, remember=True)
    first = client.get_cookie("remember_token").value
    client.delete_cookie("session")  # the browser was closed
    monkeypatch.setattr(erlen.auth, "time", lambda: 1_700_000_500)
    rv = client.get("/me")
    assert rv.text == "True:ann"
    (header,) = _set_cookie_headers(rv)
    second = client.get_cookie("remember_token").value
    assert second != first and ".1700000500." in second
    # The session carries the login again, so the next request needs no cookie work.
    rv = client.get("/me")
    assert rv.text == "True:ann" and _set_cookie_headers(rv) == []


def test_remember_cookie_login_starts_a_fresh_session(
    app: Erlen, client: ErlenClient, manager: LoginManager
) -> None:
    @app.route("/keys")
    def keys() -> str:
        return f"{current_user.name} {sorted(session.keys())}"

    login(client, remember=True)
    with client.session_transaction() as sess:
        sess.clear()
        sess["planted"] = "by attacker"
    assert client.get("/keys").text == "ann ['_user_id']"


def test_remember_cookie_duration_config_and_expiry(
    app: Erlen, client: ErlenClient, manager: LoginManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    import erlen.auth

    app.config["REMEMBER_COOKIE_DURATION"] = 100  # seconds, as an int
    monkeypatch.setattr(erlen.auth, "time", lambda: 1_700_000_000)
    rv = client.post("/login", data={"id": "1", "remember": "1"})
    assert "Max-Age=100" in _set_cookie_headers(rv)[0]
    client.delete_cookie("session")
    monkeypatch.setattr(erlen.auth, "time", lambda: 1_700_000_101)
    rv = client.get("/me")
    assert rv.text == "False:-"
    # The expired cookie is deleted.
    (header,) = _set_cookie_headers(rv)
    assert "Max-Age=0" in header
    assert client.get_cookie("remember_token") is None


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "",
        "a.b.c",
        "MQ.1700000000.AAAA",
        "MQ.1700000000.!!!!",
        "MQ.x.y.z",
        "\u00ff\u00fe.1.2",
    ],
)
def test_garbage_remember_cookie_is_anonymous_and_deleted(
    client: ErlenClient, manager: LoginManager, value: str, loads: list[str]
) -> None:
    client.set_cookie("remember_token", value)
    rv = client.get("/me")
    assert rv.status_code == 200 and rv.text == "False:-"
    assert loads == []
    (header,) = _set_cookie_headers(rv)
    assert "Max-Age=0" in header


def test_tampered_remember_cookie_is_rejected(client: ErlenClient, manager: LoginManager) -> None:
    login(client, remember=True)
    value = client.get_cookie("remember_token").value
    _, issued, binding, signature = value.split(".")
    client.delete_cookie("session")
    client.set_cookie("remember_token", f"Mg.{issued}.{binding}.{signature}")  # claims user 2
    assert client.get("/me").text == "False:-"


def test_remember_cookie_signed_with_other_key_is_rejected(
    app: Erlen, client: ErlenClient, manager: LoginManager
) -> None:
    with app.test_request_context():
        app.config["SECRET_KEY"] = "another key"
        token = _make_remember_token(app, "1")
        app.config["SECRET_KEY"] = "test key"
    client.set_cookie("remember_token", token)
    assert client.get("/me").text == "False:-"


def test_remember_cookie_accepted_with_fallback_key(
    app: Erlen, client: ErlenClient, manager: LoginManager
) -> None:
    login(client, remember=True)
    client.delete_cookie("session")
    app.config.update(SECRET_KEY="new key", SECRET_KEY_FALLBACKS=["test key"])
    assert client.get("/me").text == "True:ann"


def test_remember_cookie_with_bad_signed_content(
    app: Erlen, client: ErlenClient, manager: LoginManager
) -> None:
    # Well signed but not what erlen writes: a non-numeric time, an id that
    # is not base64 of UTF-8, a binding to no version of the user. Only a
    # leaked key could make these.
    import time

    from erlen.auth import _remember_keys
    from erlen.security import _sign

    key = _remember_keys(app)[0]
    for message in (
        "MQ.soon.b",
        "_w.1700000000.b",
        "M.9999999999.b",
        f"MQ.{int(time.time())}.b",
        "MQ.1",
    ):
        client.set_cookie("remember_token", f"{message}.{_sign(key, message)}")
        assert client.get("/me").text == "False:-"


def test_remember_cookie_for_unknown_or_inactive_user(
    app: Erlen, client: ErlenClient, manager: LoginManager
) -> None:
    for user_id in ("999", "3"):
        with app.test_request_context():
            token = _make_remember_token(app, user_id)
        client.set_cookie("remember_token", token)
        rv = client.get("/me")
        assert rv.text == "False:-"
        assert client.get_cookie("remember_token") is None


def test_remember_cookie_ignored_without_secret_key(
    app: Erlen, client: ErlenClient, manager: LoginManager
) -> None:
    login(client, remember=True)
    client.delete_cookie("session")
    app.config["SECRET_KEY"] = None
    rv = client.get("/me")
    assert rv.status_code == 200 and rv.text == "False:-"


def test_logout_deletes_remember_cookie(client: ErlenClient, manager: LoginManager) -> None:
    login(client, remember=True)
    rv = client.get("/logout")
    assert "Max-Age=0" in _set_cookie_headers(rv)[0]
    assert client.get_cookie("remember_token") is None
    assert client.get("/me").text == "False:-"


def test_logout_without_remember_cookie_sets_none(
    client: ErlenClient, manager: LoginManager
) -> None:
    login(client)
    rv = client.get("/logout")
    assert _set_cookie_headers(rv) == []


def test_login_without_remember_drops_old_remember_cookie(
    client: ErlenClient, manager: LoginManager
) -> None:
    login(client, "2", remember=True)
    rv = client.post("/login", data={"id": "1"})
    assert "Max-Age=0" in _set_cookie_headers(rv)[0]
    client.delete_cookie("session")
    assert client.get("/me").text == "False:-"


def test_login_then_logout_in_one_request_deletes(
    app: Erlen, client: ErlenClient, manager: LoginManager
) -> None:
    @app.route("/flip")
    def flip() -> str:
        login_user(USERS["1"], remember=True)
        logout_user()
        return "flipped"

    rv = client.get("/flip")
    (header,) = _set_cookie_headers(rv)
    assert "Max-Age=0" in header


def test_remember_cookie_settings(app: Erlen, client: ErlenClient, manager: LoginManager) -> None:
    app.config.update(
        REMEMBER_COOKIE_NAME="keep",
        REMEMBER_COOKIE_SECURE=True,
        REMEMBER_COOKIE_SAMESITE="Strict",
        REMEMBER_COOKIE_PATH="/app",
        REMEMBER_COOKIE_DURATION=timedelta(days=2),
    )
    rv = client.post("/login", data={"id": "1", "remember": "1"})
    (header,) = _set_cookie_headers(rv, "keep")
    assert "Secure" in header and "SameSite=Strict" in header and "Path=/app" in header
    assert f"Max-Age={2 * 24 * 3600}" in header


# -- next ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/account",
        "/account?tab=1&x=%2F%2Fevil.com",
        "/a:b",
        "/%5Cevil.com",
        "/caf\u00e9",
        "http://localhost/x",
        "https://LOCALHOST/x",
    ],
)
def test_safe_next_accepted(app: Erlen, url: str) -> None:
    with app.test_request_context():
        assert is_safe_next(url)


@pytest.mark.parametrize(
    "url",
    [
        "",
        None,
        42,
        "http://evil.com/",
        "https://evil.com",
        "//evil.com",
        "///evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http:evil.com",
        "https://localhost@evil.com/",
        "ftp://localhost/",
        "/\r\nSet-Cookie: x=1",
        "/x\ny",
        "/\t/evil.com",
        " //evil.com",
        "/ok ",
        "/\u202e/evil",  # right-to-left override
        "/\u00a0",
        "account",  # relative to the current page: refused, only paths from the root
        "http://[::1/",  # unparseable
    ],
)
def test_unsafe_next_rejected(app: Erlen, url: object) -> None:
    with app.test_request_context():
        assert not is_safe_next(url)


def test_absolute_next_rejected_outside_request() -> None:
    assert not is_safe_next("http://localhost/x")
    assert is_safe_next("/x")


def test_safe_next_url(app: Erlen) -> None:
    with app.test_request_context("/login?next=/inbox"):
        assert safe_next_url() == "/inbox"
    with app.test_request_context("/login?next=//evil.com"):
        assert safe_next_url() == "/"
        assert safe_next_url("/home") == "/home"
    with app.test_request_context("/login", method="POST", data={"next": "/from-form"}):
        assert safe_next_url() == "/from-form"
    with app.test_request_context("/login", method="POST", data={"next": "https://evil.com"}):
        assert safe_next_url() == "/"
    with app.test_request_context("/login", environ_base={"SCRIPT_NAME": "/mnt"}):
        assert safe_next_url() == "/mnt/"


# -- revoking remember-me tokens (issue 15, finding 10) ----------------------------


class Account(UserMixin):
    """A user with what UserMixin binds remember-me tokens to by default."""

    def __init__(self, id: int, password_hash: str) -> None:
        self.id = id
        self.password_hash = password_hash
        self.remember_token_version = 0


@pytest.fixture
def accounts(app: Erlen) -> dict[str, Account]:
    accounts = {"1": Account(1, "scrypt:1$a$b")}
    manager = LoginManager(app)
    manager.user_loader(accounts.get)

    @app.post("/login")
    def login() -> str:
        login_user(accounts[request.form["id"]], remember=True)
        return "in"

    @app.post("/logout")
    def logout() -> str:
        logout_user()
        return "out"

    @app.route("/me")
    def me() -> str:
        return f"{current_user.is_authenticated}:{current_user.get_id()}"

    return accounts


def _stolen_remember_cookie(app: Erlen) -> str:
    client = app.test_client()
    assert client.post("/login", data={"id": "1"}).text == "in"
    return client.get_cookie("remember_token").value


def _replay(app: Erlen, token: str) -> str:
    client = app.test_client()  # another browser: no session, only the copied cookie
    client.set_cookie("remember_token", token)
    return client.get("/me").text


# issue 15, finding 10: logging out only asked the browser to delete the cookie;
# a copy of it kept logging its holder in for a year.
def test_remember_token_is_revoked_by_logout(app: Erlen, accounts: dict[str, Account]) -> None:
    client = app.test_client()
    assert client.post("/login", data={"id": "1"}).text == "in"
    stolen = client.get_cookie("remember_token").value
    assert _replay(app, stolen) == "True:1"
    assert client.post("/logout").text == "out"
    assert _replay(app, stolen) == "False:None"
    # Logging in again works, with a new token.
    assert _replay(app, _stolen_remember_cookie(app)) == "True:1"


# issue 15, finding 10: a password change did not end outstanding remember-me
# tokens either; the default binding includes the user's password hash.
def test_remember_token_is_revoked_by_a_password_change(
    app: Erlen, accounts: dict[str, Account]
) -> None:
    stolen = _stolen_remember_cookie(app)
    assert "scrypt" not in stolen  # bound to the hash, not carrying it
    assert _replay(app, stolen) == "True:1"
    accounts["1"].password_hash = "scrypt:1$c$d"
    client = app.test_client()
    client.set_cookie("remember_token", stolen)
    rv = client.get("/me")
    assert rv.text == "False:None"
    assert client.get_cookie("remember_token") is None  # told to drop it


def test_remember_token_bound_to_a_custom_version(app: Erlen) -> None:
    class SessionTokenUser(UserMixin):
        id = 7
        session_token = "a"

        def get_remember_token_version(self) -> str:
            return self.session_token

        def revoke_remember_tokens(self) -> None:
            pass  # revoked elsewhere in this test

    user = SessionTokenUser()
    LoginManager(app).user_loader(lambda user_id: user)

    @app.post("/login")
    def login() -> str:
        login_user(user, remember=True)
        return "in"

    @app.route("/me")
    def me() -> str:
        return str(current_user.is_authenticated)

    stolen = _stolen_remember_cookie(app)
    assert _replay(app, stolen) == "True"
    user.session_token = "b"
    assert _replay(app, stolen) == "False"


def test_user_mixin_remember_token_version_defaults() -> None:
    class Plain(UserMixin):
        id = 1

    # Nothing to bind to: tokens work as before, and logout can't revoke them.
    assert Plain().get_remember_token_version() is None
    Plain().revoke_remember_tokens()
    account = Account(1, "hash")
    before = account.get_remember_token_version()
    account.revoke_remember_tokens()
    assert account.remember_token_version == 1
    assert account.get_remember_token_version() != before
    account.password_hash = "other"
    assert account.get_remember_token_version() not in (before, None)
