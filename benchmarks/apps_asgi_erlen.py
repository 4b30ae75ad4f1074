"""The ASGI benchmark apps for Erlen: ``async def`` views, and the same in plain ``def``.

The same object serves WSGI too; here it is called as an ASGI app. The
``def`` variant (``erlen-sync`` in ``asgi_cases.FRAMEWORKS``) measures what a
sync view costs under ASGI: each request's sync code runs on a worker thread.
"""

from __future__ import annotations

from typing import Any

from asgi_cases import JSON_DOC

from erlen import Erlen, request


def create_app() -> Erlen:
    """Build the app with the four ASGI cases' routes, as ``async def`` views."""
    app = Erlen(__name__)

    @app.route("/")
    async def hello() -> str:
        return "Hello, World!"

    @app.route("/user/<name>")
    async def user(name: str) -> str:
        return f"Hello, {name}!"

    @app.route("/json")
    async def json_view() -> dict[str, Any]:
        return JSON_DOC

    @app.post("/echo")
    async def echo() -> Any:
        return request.get_json()

    return app


def create_sync_app() -> Erlen:
    """The same routes as plain ``def`` views (each request served on a worker thread)."""
    app = Erlen(__name__)

    @app.route("/")
    def hello() -> str:
        return "Hello, World!"

    @app.route("/user/<name>")
    def user(name: str) -> str:
        return f"Hello, {name}!"

    @app.route("/json")
    def json_view() -> dict[str, Any]:
        return JSON_DOC

    @app.post("/echo")
    def echo() -> Any:
        return request.get_json()

    return app


app = create_app()
sync_app = create_sync_app()
