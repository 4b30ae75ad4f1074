"""The ASGI benchmark app for Erlen: ``async def`` views with the Flask API.

The same object serves WSGI too; here it is called as an ASGI app.
"""

from __future__ import annotations

from typing import Any

from asgi_cases import JSON_DOC

from erlen import Erlen, request


def create_app() -> Erlen:
    """Build the app with the four ASGI cases' routes."""
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


app = create_app()
