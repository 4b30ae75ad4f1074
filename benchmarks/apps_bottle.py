"""The benchmark app written idiomatically for Bottle."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bottle import Bottle, jinja2_template, request, response
from cases import TEMPLATE_ITEMS

#: Where ``jinja2_template`` finds ``bench.html``.  Bottle caches a template
#: by the identity of this list, so it must be the same list on every call.
TEMPLATE_LOOKUP = [str(Path(__file__).resolve().parent / "templates")]
#: Jinja2 settings, applied when Bottle first loads the template.
TEMPLATE_SETTINGS: dict[str, Any] = {"autoescape": True}
#: Signs the cookie of the ``session`` app.
SECRET_KEY = "benchmark secret key, not a real one"


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

    @app.get("/template")
    def template() -> str:
        html: str = jinja2_template(
            "bench.html",
            name=request.query.get("name", ""),
            items=TEMPLATE_ITEMS,
            template_lookup=TEMPLATE_LOOKUP,
            template_settings=TEMPLATE_SETTINGS,
        )
        return html

    @app.post("/upload")
    def upload() -> str:
        title = request.forms.get("title")
        file = request.files.get("file")
        data = file.file.read()
        return f"title={title} file={file.raw_filename} size={len(data)} head={data[:8].hex()}"


def create_session_app() -> Bottle:
    """An app with only ``/session``.

    Bottle has no sessions: as a rough peer, it keeps ``n`` in one signed
    cookie (``get_cookie``/``set_cookie`` with ``secret``).
    """
    app = Bottle()

    @app.get("/session")
    def counter() -> str:
        n = int(request.get_cookie("n", "0", secret=SECRET_KEY)) + 1
        response.set_cookie("n", str(n), secret=SECRET_KEY, path="/", httponly=True)
        return f"n={n}"

    return app
