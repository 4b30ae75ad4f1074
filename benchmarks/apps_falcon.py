"""The benchmark app written idiomatically for Falcon: one resource per route."""

from __future__ import annotations

from collections.abc import Iterable

import falcon


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
    # Registered last, so the requested /r999/{id:int} is the last route of all.
    for i in routes:
        app.add_route(f"/r{i}/{{id:int}}", Numbered(i))
    return app
