"""Flask's overridable dispatch methods, honoured the same way under WSGI and ASGI.

Every test here runs over both interfaces (see conftest.BOTH_INTERFACES), and
each with a plain ``def`` view and an ``async def`` one, since under ASGI
the two are served by different drivers unless a method is overridden.
The expected outcomes are Flask 3.1's.
"""

from __future__ import annotations

import logging
import typing as t

import pytest

from erlen import Erlen, Response, abort
from erlen.exceptions import HTTPException, NotFound


def _make(cls: type[Erlen], kind: str, body: t.Callable[[], t.Any] | None = None) -> Erlen:
    app = cls("erlen_override_test", root_path="/nonexistent-erlen-root")
    app.config.update(SECRET_KEY="k")
    view_body = body or (lambda: "view")

    if kind == "sync":

        @app.route("/")
        def index() -> t.Any:
            return view_body()

    else:

        @app.route("/")
        async def index() -> t.Any:
            return view_body()

    return app


KINDS = pytest.mark.parametrize("kind", ["sync", "async"])


@KINDS
def test_full_dispatch_request(kind: str) -> None:
    class App(Erlen):
        def full_dispatch_request(self) -> Response:
            response = super().full_dispatch_request()
            response.headers["X-Full"] = "yes"
            return response

    app = _make(App, kind)
    response = app.test_client().get("/")
    assert (response.data, response.headers["X-Full"]) == (b"view", "yes")
    # A 404 goes through it too.
    assert app.test_client().get("/missing").headers["X-Full"] == "yes"


@KINDS
def test_preprocess_request_is_called_without_hooks(kind: str) -> None:
    # Flask calls preprocess_request for every request, hooks or not.
    calls: list[str] = []

    class App(Erlen):
        def preprocess_request(self) -> t.Any:
            calls.append("pre")
            return super().preprocess_request()

    app = _make(App, kind)
    assert app.test_client().get("/").data == b"view"
    assert calls == ["pre"]


@KINDS
def test_preprocess_request_can_answer(kind: str) -> None:
    class App(Erlen):
        def preprocess_request(self) -> t.Any:
            return "from preprocess"

    app = _make(App, kind)
    assert app.test_client().get("/").data == b"from preprocess"


@KINDS
def test_dispatch_request(kind: str) -> None:
    class App(Erlen):
        def dispatch_request(self) -> t.Any:
            rv = super().dispatch_request()
            return f"<{rv}>"

    app = _make(App, kind)
    assert app.test_client().get("/").data == b"<view>"


@KINDS
def test_handle_http_exception(kind: str) -> None:
    class App(Erlen):
        def handle_http_exception(self, e: HTTPException) -> t.Any:
            return f"custom {e.code}", e.code

    app = _make(App, kind, lambda: abort(403))
    client = app.test_client()
    assert (client.get("/").status_code, client.get("/").data) == (403, b"custom 403")
    # Routing errors reach it too (Flask: the default 404 page is not sent).
    missing = client.get("/missing")
    assert (missing.status_code, missing.data) == (404, b"custom 404")


@KINDS
def test_handle_user_exception(kind: str) -> None:
    class App(Erlen):
        def handle_user_exception(self, e: Exception) -> t.Any:
            if isinstance(e, ValueError):
                return f"user: {e}", 400
            return super().handle_user_exception(e)

    def fail() -> t.Any:
        raise ValueError("bad value")

    app = _make(App, kind, fail)
    response = app.test_client().get("/")
    assert (response.status_code, response.data) == (400, b"user: bad value")
    assert app.test_client().get("/missing").status_code == 404


@KINDS
def test_handle_exception(kind: str) -> None:
    seen: list[str] = []

    class App(Erlen):
        def handle_exception(self, e: Exception) -> Response:
            seen.append(type(e).__name__)
            return self.response_class("handled", status=503)

    def fail() -> t.Any:
        raise KeyError("boom")

    app = _make(App, kind, fail)
    response = app.test_client().get("/")
    assert (response.status_code, response.data, seen) == (503, b"handled", ["KeyError"])


@KINDS
def test_finalize_request(kind: str) -> None:
    class App(Erlen):
        def finalize_request(self, rv: t.Any, from_error_handler: bool = False) -> Response:
            response = super().finalize_request(rv, from_error_handler)
            response.headers["X-Finalized"] = str(from_error_handler)
            return response

    app = _make(App, kind)
    assert app.test_client().get("/").headers["X-Finalized"] == "False"
    assert app.test_client().get("/missing").headers["X-Finalized"] == "False"


@KINDS
def test_process_response(kind: str) -> None:
    class App(Erlen):
        def process_response(self, response: Response) -> Response:
            response = super().process_response(response)
            response.headers["X-Processed"] = "1"
            return response

    app = _make(App, kind)
    assert app.test_client().get("/").headers["X-Processed"] == "1"


@KINDS
def test_make_response(kind: str) -> None:
    class App(Erlen):
        def make_response(self, rv: t.Any) -> Response:
            if isinstance(rv, int):
                rv = str(rv)
            return super().make_response(rv)

    app = _make(App, kind, lambda: 42)
    assert app.test_client().get("/").data == b"42"


@KINDS
def test_do_teardown_request_and_appcontext(kind: str) -> None:
    calls: list[str] = []

    class App(Erlen):
        def do_teardown_request(self, exc: BaseException | None = None) -> None:
            calls.append("request")
            super().do_teardown_request(exc)

        def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
            calls.append("appcontext")
            super().do_teardown_appcontext(exc)

    app = _make(App, kind)

    @app.teardown_request
    def td_request(exc: BaseException | None) -> None:
        calls.append("td-request")

    @app.teardown_appcontext
    def td_app(exc: BaseException | None) -> None:
        calls.append("td-app")

    assert app.test_client().get("/").data == b"view"
    assert calls == ["request", "td-request", "appcontext", "td-app"]


@KINDS
def test_log_exception(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    logged: list[str] = []

    class App(Erlen):
        def log_exception(self, exc_info: t.Any) -> None:
            logged.append(f"{exc_info[0].__name__}: {exc_info[1]}")

    def fail() -> t.Any:
        raise RuntimeError("logged here")

    app = _make(App, kind, fail)
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/")
    assert response.status_code == 500
    assert logged == ["RuntimeError: logged here"]
    assert not [r for r in caplog.records if r.name == app.logger.name]


@KINDS
def test_should_ignore_error(kind: str) -> None:
    seen: list[BaseException | None] = []

    class App(Erlen):
        def should_ignore_error(self, error: BaseException | None) -> bool:
            return isinstance(error, KeyError)

    def fail() -> t.Any:
        raise KeyError("ignored")

    app = _make(App, kind, fail)

    @app.teardown_request
    def td(exc: BaseException | None) -> None:
        seen.append(exc)

    assert app.test_client().get("/").status_code == 500
    assert seen == [None]


@KINDS
def test_trap_http_exception(kind: str) -> None:
    class App(Erlen):
        def trap_http_exception(self, e: Exception) -> bool:
            return isinstance(e, NotFound)

    app = _make(App, kind, lambda: abort(404))
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(NotFound):
        app.test_client().get("/")


def test_overrides_are_worked_out_once_per_class() -> None:
    from erlen import dispatch

    class App(Erlen):
        def handle_http_exception(self, e: HTTPException) -> t.Any:
            return e

    first, second = App("a"), App("b")
    assert dispatch.overridden(App, Erlen) == {"handle_http_exception"}
    assert dispatch.overridden(App, Erlen) is dispatch.overridden(App, Erlen)
    # Any override of a method that runs user code moves async views off the loop.
    assert not first._plain_methods and not second._plain_methods
    assert Erlen("plain")._plain_methods


@KINDS
def test_ensure_sync(kind: str) -> None:
    # Flask calls views and hooks through ensure_sync; an override sees them all.
    wrapped: list[str] = []

    class App(Erlen):
        def ensure_sync(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
            wrapped.append(getattr(func, "__name__", "?"))
            return super().ensure_sync(func)

    app = _make(App, kind)

    @app.before_request
    def before() -> None:
        return None

    assert app.test_client().get("/").data == b"view"
    assert wrapped[:2] == ["before", "index"]


@KINDS
def test_methods_replaced_on_the_app_object(kind: str) -> None:
    # Regression: extensions replace dispatch methods on the app itself
    # (Flask-RESTful: app.handle_user_exception = partial(router, original)).
    # Only a subclass's override was honoured; these were never called.
    def boom() -> t.Any:
        abort(406)

    app = _make(Erlen, kind, boom)
    original = app.handle_user_exception
    seen: list[int] = []

    def routed(e: Exception) -> t.Any:
        if isinstance(e, HTTPException) and e.code is not None:
            seen.append(e.code)
            return {"routed": e.code}, e.code
        return original(e)

    app.handle_user_exception = routed  # type: ignore[method-assign]
    response = app.test_client().get("/")
    assert (response.status_code, response.get_json(), seen) == (406, {"routed": 406}, [406])

    # Taking the replacement away restores Erlen's own method.
    del app.handle_user_exception
    assert app.test_client().get("/").content_type.startswith("text/html")
    assert seen == [406]


def test_process_response_replaced_on_the_app_object() -> None:
    app = _make(Erlen, "sync")
    original = app.process_response

    def stamped(response: Response) -> Response:
        response = original(response)
        response.headers["X-Stamped"] = "yes"
        return response

    app.process_response = stamped  # type: ignore[method-assign]
    assert app.test_client().get("/").headers["X-Stamped"] == "yes"
