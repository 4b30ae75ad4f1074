"""A plain ``def`` app behaves the same under WSGI and under ASGI (issue 14).

Every test here runs over both interfaces (``[wsgi]`` and ``[asgi]``, see
``conftest.py``). They pin what the examples' tests showed over ASGI: a
request's plain hooks, view, error handlers and teardown share one thread
(code that keeps a thread-bound object such as a sqlite3 connection on
``g`` works), and methods an app subclass overrides are called.
"""

from __future__ import annotations

import sqlite3
import threading
import typing as t

from erlen import Erlen, abort, g
from erlen.exceptions import HTTPException, NotFound


def test_plain_hooks_view_and_teardown_share_one_thread(app: Erlen, client: t.Any) -> None:
    threads: dict[str, int] = {}

    @app.url_value_preprocessor
    def preprocess(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        threads["url_value_preprocessor"] = threading.get_ident()

    @app.before_request
    def before() -> None:
        threads["before_request"] = threading.get_ident()

    @app.route("/")
    def index() -> str:
        threads["view"] = threading.get_ident()
        return "ok"

    @app.after_request
    def after(response: t.Any) -> t.Any:
        threads["after_request"] = threading.get_ident()
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        threads["teardown_request"] = threading.get_ident()

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        threads["teardown_appcontext"] = threading.get_ident()

    assert client.get("/").text == "ok"
    assert len(threads) == 6
    assert len(set(threads.values())) == 1, threads


def test_error_handler_runs_in_the_views_thread(app: Erlen, client: t.Any) -> None:
    threads: dict[str, int] = {}

    @app.route("/")
    def index() -> str:
        threads["view"] = threading.get_ident()
        abort(404)

    @app.errorhandler(404)
    def not_found(e: HTTPException) -> tuple[str, int]:
        threads["errorhandler"] = threading.get_ident()
        return "handled", 404

    rv = client.get("/")
    assert rv.status_code == 404 and rv.text == "handled"
    assert threads["view"] == threads["errorhandler"]


def test_sqlite_connection_on_g_across_hooks(app: Erlen, client: t.Any) -> None:
    # The Flask tutorial's pattern: open in a hook, use in the view, close
    # in teardown. sqlite3 refuses use from another thread.
    @app.before_request
    def open_db() -> None:
        g.db = sqlite3.connect(":memory:")

    @app.route("/")
    def index() -> str:
        return str(g.db.execute("select 40 + 2").fetchone()[0])

    @app.teardown_appcontext
    def close_db(exc: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.close()

    assert client.get("/").text == "42"


def test_overridden_handle_http_exception_is_called(client_interface: str) -> None:
    class App(Erlen):
        def handle_http_exception(self, e: HTTPException) -> t.Any:
            return f"overridden {e.code}", e.code

    app = App("parity_override_app", root_path="/nonexistent-erlen-root")
    app.config.update(TESTING=True)
    rv = app.test_client().get("/missing")
    assert rv.status_code == 404 and rv.text == "overridden 404"


def test_overridden_handle_user_exception_and_dispatch_request_are_called(
    client_interface: str,
) -> None:
    calls: list[str] = []

    class App(Erlen):
        def dispatch_request(self) -> t.Any:
            calls.append("dispatch_request")
            return super().dispatch_request()

        def handle_user_exception(self, e: Exception) -> t.Any:
            calls.append(f"handle_user_exception {type(e).__name__}")
            return super().handle_user_exception(e)

    app = App("parity_override_app2", root_path="/nonexistent-erlen-root")
    app.config.update(TESTING=True)

    @app.route("/")
    def index() -> str:
        raise NotFound()

    assert app.test_client().get("/").status_code == 404
    assert calls == ["dispatch_request", "handle_user_exception NotFound"]
