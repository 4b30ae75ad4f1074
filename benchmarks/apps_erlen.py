"""The benchmark app written for Erlen, with the Flask API.

It is ``apps_flask.py`` with ``flask`` replaced by ``erlen``: that is the
point of Erlen, and it keeps the comparison like for like.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from erlen import Erlen, jsonify, request


def _route_view(i: int) -> Callable[[int], str]:
    def view(id: int) -> str:
        return f"r{i} id={id}"

    return view


def create_app(routes: Iterable[int] = (), *, base: bool = True) -> Erlen:
    """Build the app: the base routes (unless ``base`` is false), then ``/r{i}/<int:id>``."""
    app = Erlen(__name__)

    if base:
        _add_base_routes(app)
    # Registered last, so the requested /r999/<int:id> is the last rule of all.
    for i in routes:
        app.add_url_rule(f"/r{i}/<int:id>", f"r{i}", _route_view(i))
    return app


def _add_base_routes(app: Erlen) -> None:
    @app.route("/")
    def hello() -> str:
        return "Hello, World!"

    @app.route("/user/<name>")
    def user(name: str) -> str:
        return f"Hello, {name}!"

    @app.route("/search")
    def search() -> str:
        q = request.args.get("q", "")
        page = request.args.get("page", 1, type=int)
        tags = request.args.getlist("tag")
        return f"q={q} page={page} tags={','.join(tags)}"

    @app.route("/json")
    def json_view() -> dict[str, Any]:
        return {"message": "Hello, World!", "items": [1, 2, 3]}

    @app.post("/echo")
    def echo() -> Any:
        return jsonify(request.get_json())

    @app.post("/form")
    def form() -> str:
        return f"name={request.form['name']} email={request.form['email']}"
