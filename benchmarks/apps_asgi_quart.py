"""The ASGI benchmark app for Quart (the Flask API on asyncio)."""

from __future__ import annotations

from typing import Any

from asgi_cases import JSON_DOC
from quart import Quart, request


def create_app() -> Quart:
    """Build the app with the four ASGI cases' routes."""
    app = Quart(__name__)

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
        return await request.get_json()

    return app


app = create_app()
