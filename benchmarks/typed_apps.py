"""The typed-views benchmark's apps: the same small API in Erlen, FastAPI and APIFlask.

Two endpoints, written as each framework's documentation shows:

* ``POST /bookmarks``: a JSON body validated into a model (a URL, a title of
  1 to 200 characters, up to 20 tags), answered with 201 and the output
  model (the input plus an ``id``).
* ``GET /bookmarks?page=2&per_page=10&tag=python&tag=web&q=flask``: the query
  string validated into a model (bounded integers, a repeated key as a list,
  an optional string), answered with it as the output model.

Erlen and FastAPI share the pydantic models; APIFlask uses marshmallow
schemas with the same rules (its default). Each ``make_*`` returns the app;
``ASYNC`` selects ``async def`` views where a framework runs them on the
event loop (FastAPI always, Erlen for its ASGI side).
"""

# No `from __future__ import annotations`: FastAPI reads the views' annotations
# at run time, and some name types imported inside make_fastapi.
import typing as t

from pydantic import BaseModel, Field

#: The request body of the POST case and the query string of the GET case.
POST_BODY = (
    b'{"url": "https://example.com/a", "title": "Example", "tags": ["python", "web", "api"]}'
)
QUERY = b"page=2&per_page=10&tag=python&tag=web&q=flask"
#: What each answers (as parsed JSON).
POST_ANSWER = {
    "id": 1,
    "url": "https://example.com/a",
    "title": "Example",
    "tags": ["python", "web", "api"],
}
QUERY_ANSWER = {"page": 2, "per_page": 10, "tag": ["python", "web"], "q": "flask"}


class BookmarkIn(BaseModel):
    url: str = Field(max_length=2000)
    title: str = Field(min_length=1, max_length=200)
    tags: list[str] = Field(default=[], max_length=20)


class BookmarkOut(BaseModel):
    id: int
    url: str
    title: str
    tags: list[str]


class ListQuery(BaseModel):
    page: int = Field(1, ge=1, le=10_000)
    per_page: int = Field(20, ge=1, le=100)
    tag: list[str] = []
    q: str | None = Field(None, max_length=100)


def make_erlen(asynchronous: bool = False) -> t.Any:
    from erlen import Erlen
    from erlen.typed import input, output

    app = Erlen("typed_bench")

    if asynchronous:

        @app.post("/bookmarks")
        @input(BookmarkIn)
        @output(BookmarkOut, status=201)
        async def create(body: BookmarkIn) -> t.Any:
            return {"id": 1, **body.model_dump()}

        @app.get("/bookmarks")
        @input(ListQuery, "query")
        @output(ListQuery)
        async def search(query: ListQuery) -> t.Any:
            return query

    else:

        @app.post("/bookmarks")
        @input(BookmarkIn)
        @output(BookmarkOut, status=201)
        def create(body: BookmarkIn) -> t.Any:
            return {"id": 1, **body.model_dump()}

        @app.get("/bookmarks")
        @input(ListQuery, "query")
        @output(ListQuery)
        def search(query: ListQuery) -> t.Any:
            return query

    return app


def make_erlen_msgspec() -> t.Any:
    """Erlen's WSGI side with msgspec Structs for models (the same rules) instead of pydantic."""
    import msgspec
    from msgspec import Meta

    from erlen import Erlen
    from erlen.typed import input, output

    class BookmarkInS(msgspec.Struct):
        url: t.Annotated[str, Meta(max_length=2000)]
        title: t.Annotated[str, Meta(min_length=1, max_length=200)]
        tags: t.Annotated[list[str], Meta(max_length=20)] = []

    class BookmarkOutS(msgspec.Struct):
        id: int
        url: str
        title: str
        tags: list[str]

    class ListQueryS(msgspec.Struct):
        page: t.Annotated[int, Meta(ge=1, le=10_000)] = 1
        per_page: t.Annotated[int, Meta(ge=1, le=100)] = 20
        tag: list[str] = []
        q: t.Annotated[str, Meta(max_length=100)] | None = None

    app = Erlen("typed_bench_msgspec")

    @app.post("/bookmarks")
    @input(BookmarkInS)
    @output(BookmarkOutS, status=201)
    def create(body: BookmarkInS) -> t.Any:
        return BookmarkOutS(1, body.url, body.title, body.tags)

    @app.get("/bookmarks")
    @input(ListQueryS, "query")
    @output(ListQueryS)
    def search(query: ListQueryS) -> t.Any:
        return query

    return app


def make_fastapi() -> t.Any:
    from fastapi import FastAPI, Query

    app = FastAPI()

    @app.post("/bookmarks", status_code=201)
    async def create(body: BookmarkIn) -> BookmarkOut:
        return BookmarkOut(id=1, **body.model_dump())

    @app.get("/bookmarks")
    async def search(query: t.Annotated[ListQuery, Query()]) -> ListQuery:
        return query

    return app


def make_apiflask() -> t.Any:
    from apiflask import APIFlask, Schema
    from apiflask.fields import Integer, List, String
    from apiflask.validators import Length, Range

    class BookmarkInSchema(Schema):
        url = String(required=True, validate=Length(max=2000))
        title = String(required=True, validate=Length(min=1, max=200))
        tags = List(String(), load_default=[], validate=Length(max=20))

    class BookmarkOutSchema(Schema):
        id = Integer()
        url = String()
        title = String()
        tags = List(String())

    class ListQuerySchema(Schema):
        page = Integer(load_default=1, validate=Range(min=1, max=10_000))
        per_page = Integer(load_default=20, validate=Range(min=1, max=100))
        tag = List(String(), load_default=[])
        q = String(load_default=None, validate=Length(max=100))

    app = APIFlask("typed_bench_apiflask")

    @app.post("/bookmarks")
    @app.input(BookmarkInSchema)
    @app.output(BookmarkOutSchema, status_code=201)
    def create(json_data: dict[str, t.Any]) -> t.Any:
        return {"id": 1, **json_data}

    @app.get("/bookmarks")
    @app.input(ListQuerySchema, location="query")
    @app.output(ListQuerySchema)
    def search(query_data: dict[str, t.Any]) -> t.Any:
        return query_data

    return app


def _replies() -> dict[tuple[str, str], tuple[int, list[tuple[str, str]], bytes]]:
    """The recorded answers a floor app replays: (method, path) → (status, headers, body).

    ``typed_run.py`` records a framework's own answers in process and names
    the JSON file in ``TYPED_FLOOR_REPLIES`` for the server's process.
    """
    import json
    import os

    with open(os.environ["TYPED_FLOOR_REPLIES"], encoding="utf-8") as f:
        recorded = json.load(f)
    return {
        (method, path): (status, [(k, v) for k, v in headers], body.encode("latin-1"))
        for method, path, status, headers, body in recorded
    }


def make_floor_asgi() -> t.Any:
    """A bare ASGI app: reads the request, sends a recorded answer, does nothing else.

    Served by uvicorn it costs what the server itself costs per request
    (HTTP parsing, the event loop, the sockets) with the same bytes on the
    wire as the framework whose answers it replays: the floor under which
    no ASGI framework can go.
    """
    replies = {
        key: (
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            },
            {"type": "http.response.body", "body": body, "more_body": False},
        )
        for key, (status, headers, body) in _replies().items()
    }

    async def app(scope: t.Any, receive: t.Any, send: t.Any) -> None:
        more = True
        while more:  # the body is read, as a framework would
            more = (await receive()).get("more_body", False)
        start, body = replies[scope["method"], scope["path"]]
        await send(start)
        await send(body)

    return app


def make_floor_wsgi() -> t.Any:
    """A bare WSGI app replaying recorded answers: the floor of uvicorn's WSGI interface."""
    from http import HTTPStatus

    replies = {
        key: (f"{status} {HTTPStatus(status).phrase}", headers, [body])
        for key, (status, headers, body) in _replies().items()
    }

    def app(environ: t.Any, start_response: t.Any) -> t.Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            environ["wsgi.input"].read(length)
        status, headers, body = replies[environ["REQUEST_METHOD"], environ["PATH_INFO"]]
        start_response(status, headers)
        return body

    return app


# For uvicorn: `typed_apps:erlen_app` and the others.
def __getattr__(name: str) -> t.Any:
    makers = {
        "erlen_app": lambda: make_erlen(asynchronous=True),
        "erlen_sync_app": make_erlen,
        "fastapi_app": make_fastapi,
        "apiflask_app": make_apiflask,
        "floor_asgi_app": make_floor_asgi,
        "floor_wsgi_app": make_floor_wsgi,
    }
    if name in makers:
        return makers[name]()
    raise AttributeError(name)
