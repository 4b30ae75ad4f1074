"""The benchmark app written idiomatically for Falcon: one resource per route."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import falcon
import jinja2
from cases import TEMPLATE_ITEMS

TEMPLATE_FOLDER = Path(__file__).resolve().parent / "templates"


class Hello:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "Hello, World!"


class User:
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = f"Hello, {name}!"


class Search:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        q = req.get_param("q", default="")
        page = req.get_param_as_int("page", default=1)
        tags = req.get_param_as_list("tag", default=[])
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = f"q={q} page={page} tags={','.join(tags)}"


class Json:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"message": "Hello, World!", "items": [1, 2, 3]}


class Echo:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = req.get_media()


class Form:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.get_media()  # URL-encoded forms are a default media type
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = f"name={form['name']} email={form['email']}"


class Template:
    """Falcon + Jinja2: the environment is made once, at start-up."""

    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        name = req.get_param("name", default="")
        resp.content_type = falcon.MEDIA_HTML
        resp.text = self.env.get_template("bench.html").render(name=name, items=TEMPLATE_ITEMS)


class Upload:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        title, filename, data = "", "", b""
        for part in req.get_media():  # multipart/form-data is a default media type
            if part.name == "title":
                title = part.text
            elif part.name == "file":
                filename = part.filename
                data = part.stream.read()
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = f"title={title} file={filename} size={len(data)} head={data[:8].hex()}"


def make_jinja_env() -> jinja2.Environment:
    """Autoescaping for .html, and no up-to-date check per render, as Flask in production."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_FOLDER),
        autoescape=jinja2.select_autoescape(),
        auto_reload=False,
    )


class Numbered:
    """The resource behind ``/r{i}/{id:int}``."""

    def __init__(self, i: int) -> None:
        self.i = i

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = f"r{self.i} id={id}"


def create_app(
    routes: Iterable[int] = (), *, base: bool = True
) -> falcon.App[falcon.Request, falcon.Response]:
    """Build the app: the base routes (unless ``base`` is false), then ``/r{i}/{id:int}``."""
    app = falcon.App()

    if base:
        app.add_route("/", Hello())
        app.add_route("/user/{name}", User())
        app.add_route("/search", Search())
        app.add_route("/json", Json())
        app.add_route("/echo", Echo())
        app.add_route("/form", Form())
        app.add_route("/template", Template(make_jinja_env()))
        app.add_route("/upload", Upload())
    # Registered last, so the requested /r999/{id:int} is the last route of all.
    for i in routes:
        app.add_route(f"/r{i}/{{id:int}}", Numbered(i))
    return app
