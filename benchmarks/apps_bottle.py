"""The benchmark app written idiomatically for Bottle."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bottle import Bottle, request


def _route_view(i: int) -> Callable[[int], str]:
    def view(id: int) -> str:
        return f"r{i} id={id}"

    return view


def create_app(routes: Iterable[int] = (), *, base: bool = True) -> Bottle:
    """Build the app: the base routes (unless ``base`` is false), then ``/r{i}/<id:int>``."""
    app = Bottle()

    if base:
        _add_base_routes(app)
    # Registered last, so the requested /r999/<id:int> is the last rule of all.
    for i in routes:
        app.route(f"/r{i}/<id:int>", callback=_route_view(i))
    return app


def _add_base_routes(app: Bottle) -> None:
    @app.get("/")
    def hello() -> str:
        return "Hello, World!"

    @app.get("/user/<name>")
    def user(name: str) -> str:
        return f"Hello, {name}!"

    @app.get("/search")
    def search() -> str:
        q = request.query.get("q", "")
        page = int(request.query.get("page", 1))
        tags = request.query.getall("tag")
        return f"q={q} page={page} tags={','.join(tags)}"

    @app.get("/json")
    def json_view() -> dict[str, Any]:
        return {"message": "Hello, World!", "items": [1, 2, 3]}

    @app.post("/echo")
    def echo() -> Any:
        return request.json

    @app.post("/form")
    def form() -> str:
        return f"name={request.forms.get('name')} email={request.forms.get('email')}"
