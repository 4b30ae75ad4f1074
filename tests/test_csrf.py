"""CSRF protection: tokens, the before-request check, exemptions, errors."""

from __future__ import annotations

import re
import typing as t
from functools import wraps

import pytest

from erlen import Blueprint, Erlen, render_template_string, request, session
from erlen.csrf import CSRFError, CSRFProtect, generate_csrf, validate_csrf
from erlen.exceptions import BadRequest
from erlen.testing import ErlenClient


@pytest.fixture
def csrf(app: Erlen) -> CSRFProtect:
    csrf = CSRFProtect(app)

    @app.route("/form", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def form() -> str:
        if request.method == "GET":
            return render_template_string('<input name="csrf_token" value="{{ csrf_token() }}">')
        return f"done {request.method}"

    return csrf


def get_token(client: ErlenClient) -> str:
    match = re.search(r'value="([^"]+)"', client.get("/form").text)
    assert match is not None
    return match.group(1)


def test_init_app_registers_and_sets_defaults(app: Erlen) -> None:
    csrf = CSRFProtect()
    csrf.init_app(app)
    assert app.extensions["erlen.csrf"] is csrf
    assert app.config["CSRF_ENABLED"] is True
    assert app.config["CSRF_TIME_LIMIT"] == 3600
    assert issubclass(CSRFError, BadRequest)


def test_get_needs_no_token_and_post_with_form_token_passes(
    client: ErlenClient, csrf: CSRFProtect
) -> None:
    token = get_token(client)
    assert client.post("/form", data={"csrf_token": token}).text == "done POST"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_unsafe_methods_without_token_get_400(
    client: ErlenClient, csrf: CSRFProtect, method: str
) -> None:
    rv = client.open("/form", method=method)
    assert rv.status_code == 400
    assert "The CSRF token is missing." in rv.text


@pytest.mark.parametrize("header", ["X-CSRFToken", "X-CSRF-Token"])
def test_token_in_header(client: ErlenClient, csrf: CSRFProtect, header: str) -> None:
    token = get_token(client)
    rv = client.put("/form", json={"a": 1}, headers={header: token})
    assert rv.text == "done PUT"


def test_one_token_per_request_and_stable_session_value(app: Erlen, csrf: CSRFProtect) -> None:
    with app.test_request_context():
        first = generate_csrf()
        assert generate_csrf() == first
        value = session["csrf_token"]
    with app.test_request_context():
        session["csrf_token"] = value
        generate_csrf()
        assert session["csrf_token"] == value


def test_new_token_after_the_session_is_cleared_in_the_same_request(
    app: Erlen, csrf: CSRFProtect
) -> None:
    with app.test_request_context():
        first = generate_csrf()
        session.clear()  # e.g. login_user() rotating the session
        second = generate_csrf()
        assert second != first
        validate_csrf(second)
        with pytest.raises(CSRFError):
            validate_csrf(first)


def test_token_from_other_session_is_invalid(app: Erlen, csrf: CSRFProtect) -> None:
    other = app.test_client()
    token = get_token(other)
    client = app.test_client()
    get_token(client)  # this client's session has its own value
    rv = client.post("/form", data={"csrf_token": token})
    assert rv.status_code == 400 and "The CSRF token is invalid." in rv.text


def test_token_without_session_value(app: Erlen, csrf: CSRFProtect) -> None:
    token = get_token(app.test_client())
    rv = app.test_client().post("/form", data={"csrf_token": token})
    assert rv.status_code == 400 and "session token is missing" in rv.text


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "1.2.3",
        ".",
        "x.",
        "1700000000.",
        "abc.def",
        "１７.sig",
        "\u00e9\u00e9.\u00e9",
        "9" * 5000 + ".x",
    ],
)
def test_tampered_or_garbage_tokens_are_invalid(
    client: ErlenClient, csrf: CSRFProtect, token: str
) -> None:
    get_token(client)
    rv = client.post("/form", data={"csrf_token": token})
    assert rv.status_code == 400 and "The CSRF token is invalid." in rv.text


def test_flipped_signature_is_invalid(client: ErlenClient, csrf: CSRFProtect) -> None:
    issued, signature = get_token(client).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert client.post("/form", data={"csrf_token": f"{issued}.{flipped}"}).status_code == 400
    # The time is signed too.
    assert (
        client.post("/form", data={"csrf_token": f"{int(issued) + 1}.{signature}"}).status_code
        == 400
    )


def test_garbage_session_value_is_replaced(
    app: Erlen, client: ErlenClient, csrf: CSRFProtect
) -> None:
    with client.session_transaction() as sess:
        sess["csrf_token"] = {"not": "a string"}
    rv = client.post("/form", data={"csrf_token": "1.x"})
    assert "session token is missing" in rv.text
    token = get_token(client)
    assert client.post("/form", data={"csrf_token": token}).text == "done POST"


def test_expired_token(
    app: Erlen, client: ErlenClient, csrf: CSRFProtect, monkeypatch: pytest.MonkeyPatch
) -> None:
    import erlen.csrf

    monkeypatch.setattr(erlen.csrf, "time", lambda: 1_700_000_000)
    token = get_token(client)
    monkeypatch.setattr(erlen.csrf, "time", lambda: 1_700_003_600)
    assert client.post("/form", data={"csrf_token": token}).text == "done POST"
    monkeypatch.setattr(erlen.csrf, "time", lambda: 1_700_003_601)
    rv = client.post("/form", data={"csrf_token": token})
    assert rv.status_code == 400 and "The CSRF token has expired." in rv.text
    app.config["CSRF_TIME_LIMIT"] = None
    assert client.post("/form", data={"csrf_token": token}).text == "done POST"


def test_validate_csrf_directly(
    app: Erlen, csrf: CSRFProtect, monkeypatch: pytest.MonkeyPatch
) -> None:
    import erlen.csrf

    with app.test_request_context():
        monkeypatch.setattr(erlen.csrf, "time", lambda: 1_000)
        token = generate_csrf()
        monkeypatch.setattr(erlen.csrf, "time", lambda: 1_100)
        validate_csrf(token)
        validate_csrf(token, time_limit=100)
        with pytest.raises(CSRFError, match="expired"):
            validate_csrf(token, time_limit=99)
        with pytest.raises(CSRFError, match="missing"):
            validate_csrf(None)
        with pytest.raises(CSRFError, match="invalid"):
            validate_csrf(12345)


def test_disabled(app: Erlen, client: ErlenClient, csrf: CSRFProtect) -> None:
    app.config["CSRF_ENABLED"] = False
    assert client.post("/form").text == "done POST"
    # Templates can still render tokens.
    assert get_token(client)


def test_check_default_off_and_manual_protect(app: Erlen, csrf: CSRFProtect) -> None:
    @app.post("/manual")
    def manual() -> str:
        csrf.protect()
        return "checked"

    client = app.test_client()
    app.config["CSRF_CHECK_DEFAULT"] = False
    assert client.post("/form").text == "done POST"
    assert client.post("/manual").status_code == 400
    token = get_token(client)
    assert client.post("/manual", data={"csrf_token": token}).text == "checked"
    app.config["CSRF_ENABLED"] = False
    assert client.post("/manual").text == "checked"


def test_exempt_view_in_any_decorator_order(app: Erlen, csrf: CSRFProtect) -> None:
    def other_decorator(f: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        @wraps(f)
        def wrapper(*a: t.Any, **k: t.Any) -> t.Any:
            return f(*a, **k)

        return wrapper

    @app.post("/hook")
    @csrf.exempt
    def hook() -> str:
        return "hooked"

    @app.post("/hook2")
    @other_decorator
    @csrf.exempt
    def hook2() -> str:
        return "hooked2"

    @app.post("/guarded")
    def guarded() -> str:
        return "unreachable"

    client = app.test_client()
    assert client.post("/hook").text == "hooked"
    assert client.post("/hook2").text == "hooked2"
    assert client.post("/guarded").status_code == 400


def test_exempt_by_name(app: Erlen, csrf: CSRFProtect) -> None:
    @app.post("/named")
    def named() -> str:
        return "named"

    csrf.exempt(f"{__name__}.test_exempt_by_name.<locals>.named")
    assert app.test_client().post("/named").text == "named"


def test_exempt_blueprint_with_nested(app: Erlen, csrf: CSRFProtect) -> None:
    api = Blueprint("api", __name__, url_prefix="/api")
    v1 = Blueprint("v1", __name__, url_prefix="/v1")
    web = Blueprint("web", __name__, url_prefix="/web")

    @api.post("/x")
    def api_x() -> str:
        return "api"

    @v1.post("/y")
    def v1_y() -> str:
        return "v1"

    @web.post("/z")
    def web_z() -> str:
        return "web"

    api.register_blueprint(v1)
    app.register_blueprint(api)
    app.register_blueprint(web)
    csrf.exempt(api)
    client = app.test_client()
    assert client.post("/api/x").text == "api"
    assert client.post("/api/v1/y").text == "v1"
    assert client.post("/web/z").status_code == 400


def test_exempt_blueprint_by_name(app: Erlen, csrf: CSRFProtect) -> None:
    hooks = Blueprint("hooks", __name__)

    @hooks.post("/in")
    def incoming() -> str:
        return "in"

    app.register_blueprint(hooks)
    csrf.exempt("hooks")
    assert app.test_client().post("/in").text == "in"


# issue 15, finding 1: exempting one class-based view exempted every class-based
# view of its module, because all as_view() functions shared one module and
# qualified name, which was what csrf.exempt matched on.
def test_exempting_one_class_based_view_leaves_the_others_protected(
    app: Erlen, csrf: CSRFProtect
) -> None:
    from erlen.views import MethodView

    class Webhook(MethodView):
        def post(self) -> str:
            return "hooked"

    class ChangeEmail(MethodView):
        def post(self) -> str:
            return "email changed"

    app.add_url_rule("/hook", view_func=csrf.exempt(Webhook.as_view("hook")))
    app.add_url_rule("/change-email", view_func=ChangeEmail.as_view("change_email"))
    # The same class registered twice: exempting one registration only.
    app.add_url_rule("/hook-guarded", view_func=Webhook.as_view("hook_guarded"))
    client = app.test_client()
    assert client.post("/hook").text == "hooked"
    rv = client.post("/change-email")
    assert rv.status_code == 400 and "The CSRF token is missing." in rv.text
    assert client.post("/hook-guarded").status_code == 400
    assert (
        client.post("/change-email", data={"csrf_token": get_token(client)}).text == "email changed"
    )


# issue 15, finding 1: views made by one factory function share their module
# and qualified name too; exempting one must not exempt its siblings.
def test_exempting_one_view_of_a_factory_leaves_the_others_protected(
    app: Erlen, csrf: CSRFProtect
) -> None:
    def make_view(text: str) -> t.Callable[[], str]:
        def view() -> str:
            return text

        return view

    app.add_url_rule("/open", "open", csrf.exempt(make_view("open")), methods=["POST"])
    app.add_url_rule("/closed", "closed", make_view("closed"), methods=["POST"])
    client = app.test_client()
    assert client.post("/open").text == "open"
    assert client.post("/closed").status_code == 400


# issue 15, finding 1: exemption is carried by the function, so it survives a
# functools.wraps decorator on either side, and a bound method can be exempted.
def test_exempt_marks_survive_wrapping_after_the_fact(app: Erlen, csrf: CSRFProtect) -> None:
    def inner() -> str:
        return "inner"

    @wraps(inner)
    def outer() -> str:
        return inner()

    csrf.exempt(inner)  # after outer copied inner's attributes

    class Handlers:
        def hook(self) -> str:
            return "method"

    handlers = Handlers()
    csrf.exempt(handlers.hook)
    app.add_url_rule("/wrapped", "wrapped", outer, methods=["POST"])
    app.add_url_rule("/method", "method", handlers.hook, methods=["POST"])
    client = app.test_client()
    assert client.post("/wrapped").text == "inner"
    assert client.post("/method").text == "method"


def test_exempt_as_view_by_name_and_unmarkable_views(app: Erlen, csrf: CSRFProtect) -> None:
    from erlen.views import View

    class Hook(View):
        methods = ["POST"]

        def dispatch_request(self) -> str:
            return "hooked"

    app.add_url_rule("/hook", view_func=Hook.as_view("hook"))
    app.add_url_rule("/other", view_func=Hook.as_view("other"))
    csrf.exempt(f"{Hook.__module__}.{Hook.__qualname__}.hook")
    client = app.test_client()
    assert client.post("/hook").text == "hooked"
    assert client.post("/other").status_code == 400
    with pytest.raises(TypeError, match="cannot mark"):
        csrf.exempt(len)


def test_exemption_belongs_to_one_csrf_protect(csrf: CSRFProtect) -> None:
    def hook() -> str:
        return "hooked"

    other_app = Erlen(__name__)
    other_app.secret_key = "test key"
    CSRFProtect(other_app)
    csrf.exempt(hook)
    other_app.add_url_rule("/hook", "hook", hook, methods=["POST"])
    assert other_app.test_client().post("/hook").status_code == 400


def test_unmatched_routes_keep_their_status(client: ErlenClient, csrf: CSRFProtect) -> None:
    assert client.post("/nowhere").status_code == 404


def test_errorhandler_for_csrf_error(app: Erlen, client: ErlenClient, csrf: CSRFProtect) -> None:
    @app.errorhandler(CSRFError)
    def handle(e: CSRFError) -> tuple[str, int]:
        return f"friendly: {e.description}", 400

    rv = client.post("/form")
    assert (rv.status_code, rv.text) == (400, "friendly: The CSRF token is missing.")


def test_missing_secret_key_is_a_clear_runtime_error(app: Erlen, csrf: CSRFProtect) -> None:
    app.config["SECRET_KEY"] = None
    with app.test_request_context():
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            generate_csrf()
    with app.test_request_context(method="POST", data={"csrf_token": "1.x"}):
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            validate_csrf("1.x")


def test_outside_request_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="request context"):
        generate_csrf()


def test_fallback_secret_key(app: Erlen, client: ErlenClient, csrf: CSRFProtect) -> None:
    token = get_token(client)
    app.config.update(SECRET_KEY="rotated", SECRET_KEY_FALLBACKS=["test key"])
    assert client.post("/form", data={"csrf_token": token}).text == "done POST"
    app.config["SECRET_KEY_FALLBACKS"] = None
    assert client.post("/form", data={"csrf_token": token}).status_code == 400


def test_custom_field_and_headers(app: Erlen, client: ErlenClient, csrf: CSRFProtect) -> None:
    app.config.update(CSRF_FIELD_NAME="_csrf", CSRF_HEADERS=["X-My-Token"])
    token = get_token(client)
    assert client.post("/form", data={"csrf_token": token}).status_code == 400
    assert client.post("/form", data={"_csrf": token}).text == "done POST"
    assert client.post("/form", headers={"X-My-Token": token}).text == "done POST"


def test_login_rotation_invalidates_old_tokens(app: Erlen, csrf: CSRFProtect) -> None:
    from erlen.auth import LoginManager, UserMixin, login_user

    class U(UserMixin):
        id = 1

    manager = LoginManager(app)
    manager.user_loader(lambda user_id: U())

    @app.post("/login")
    def login() -> str:
        login_user(U())
        return "in"

    client = app.test_client()
    token = get_token(client)
    assert client.post("/login", data={"csrf_token": token}).text == "in"
    assert client.post("/form", data={"csrf_token": token}).status_code == 400
    assert client.post("/form", data={"csrf_token": get_token(client)}).text == "done POST"


# -- HTTPS: the Referer must be same-origin ---------------------------------------


def https_post(
    client: ErlenClient, token: str, referrer: str | None, host: str = "example.com"
) -> t.Any:
    headers = {"Host": host}
    if referrer is not None:
        headers["Referer"] = referrer
    return client.post(
        "/form", data={"csrf_token": token}, headers=headers, base_url=f"https://{host}"
    )


def https_token(client: ErlenClient) -> str:
    rv = client.get("/form", base_url="https://example.com")
    match = re.search(r'value="([^"]+)"', rv.text)
    assert match is not None
    return match.group(1)


def test_https_requires_same_origin_referrer(app: Erlen, csrf: CSRFProtect) -> None:
    client = app.test_client()
    token = https_token(client)
    assert https_post(client, token, "https://example.com/form").text == "done POST"
    rv = https_post(client, token, None)
    assert rv.status_code == 400 and "The referrer header is missing." in rv.text
    for bad in (
        "https://evil.com/form",
        "http://example.com/form",
        "https://example.com:8443/",
        "https://example.com:x/",
        "garbage",
    ):
        rv = https_post(client, token, bad)
        assert rv.status_code == 400 and "The referrer does not match the host." in rv.text, bad


def test_https_referrer_check_can_be_turned_off(app: Erlen, csrf: CSRFProtect) -> None:
    app.config["CSRF_SSL_STRICT"] = False
    client = app.test_client()
    token = https_token(client)
    assert https_post(client, token, None).text == "done POST"


def test_https_still_needs_token(app: Erlen, csrf: CSRFProtect) -> None:
    client = app.test_client()
    https_token(client)
    rv = https_post(client, "", "https://example.com/")
    assert "The CSRF token is missing." in rv.text
