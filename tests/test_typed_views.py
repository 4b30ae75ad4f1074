"""erlen.typed: validated input and typed output, over WSGI and ASGI."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import io
import json
import logging
import subprocess
import sys
import typing

import pytest

pydantic = pytest.importorskip("pydantic")

from pydantic import BaseModel, Field, field_validator  # noqa: E402

from erlen import Blueprint, Response, redirect  # noqa: E402
from erlen.typed import (  # noqa: E402
    InvalidJSON,
    NotJSON,
    ValidationError,
    doc,
    input,
    output,
    problem_details,
    security,
    view_spec,
)


class BookmarkIn(BaseModel):
    url: str
    title: str = Field(max_length=20)
    tags: list[str] = []


class BookmarkOut(BaseModel):
    id: int
    url: str
    title: str
    tags: list[str]


class Stored(BookmarkOut):
    # A field the output model does not have: it must never be sent.
    owner_password_hash: str


class Conflict(BaseModel):
    existing_id: int


class Page(BaseModel):
    page: int = 1
    tag: list[str] = []
    sort: str | None = None


def _problem(rv) -> dict:
    assert rv.content_type == "application/problem+json"
    return json.loads(rv.data)


# -- JSON body -----------------------------------------------------------------


@pytest.fixture
def bookmarks(app):
    seen = []

    @app.post("/bookmarks")
    @input(BookmarkIn)
    @output(BookmarkOut, status=201)
    @output(Conflict, status=409)
    def create(body: BookmarkIn):
        seen.append(body)
        if body.url == "https://taken.example":
            return {"existing_id": 7}, 409
        return Stored(id=1, owner_password_hash="secret-hash", **body.model_dump())

    return seen


def test_json_body_is_validated_into_the_model(client, bookmarks):
    rv = client.post("/bookmarks", json={"url": "https://a.example", "title": "A", "tags": ["x"]})
    assert rv.status_code == 201
    assert rv.content_type == "application/json"
    assert json.loads(rv.data) == {"id": 1, "url": "https://a.example", "title": "A", "tags": ["x"]}
    assert isinstance(bookmarks[0], BookmarkIn)


def test_output_filters_fields_the_model_does_not_have(client, bookmarks):
    rv = client.post("/bookmarks", json={"url": "https://a.example", "title": "A"})
    assert b"secret-hash" not in rv.data
    assert "owner_password_hash" not in json.loads(rv.data)


def test_each_status_has_its_model(client, bookmarks):
    rv = client.post("/bookmarks", json={"url": "https://taken.example", "title": "T"})
    assert rv.status_code == 409
    assert json.loads(rv.data) == {"existing_id": 7}


def test_invalid_body_is_422_listing_every_field(client, bookmarks):
    rv = client.post("/bookmarks", json={"title": "x" * 21, "tags": ["ok", 3]})
    assert rv.status_code == 422
    problem = _problem(rv)
    assert problem["status"] == 422
    assert problem["type"] == "about:blank"
    assert problem["title"] == "Unprocessable Entity"
    found = {(e["location"], e["pointer"], e["type"]) for e in problem["errors"]}
    assert found == {
        ("json", "/url", "missing"),
        ("json", "/title", "string_too_long"),
        ("json", "/tags/1", "string_type"),
    }
    assert all(e["detail"] for e in problem["errors"])
    assert bookmarks == []


def test_input_values_are_not_echoed_in_errors(client, bookmarks):
    rv = client.post("/bookmarks", json={"url": "https://a.example", "title": "<script>" * 5})
    assert rv.status_code == 422
    assert b"<script>" not in rv.data


@pytest.mark.parametrize(
    "body", [b"{not json", b"", b'{"url": "\xff"}', b"[" * 10_000, b'{"url": "a"} trailing']
)
def test_body_that_is_not_json_is_400(client, bookmarks, body):
    rv = client.post("/bookmarks", data=body, content_type="application/json")
    assert rv.status_code == 400
    assert _problem(rv)["detail"] == InvalidJSON.description
    assert bookmarks == []


def test_json_of_the_wrong_shape_is_422_not_400(client, bookmarks):
    rv = client.post("/bookmarks", json=[1, 2])
    assert rv.status_code == 422
    assert _problem(rv)["errors"][0]["pointer"] == ""


def test_other_content_type_is_415(client, bookmarks):
    rv = client.post("/bookmarks", data={"url": "https://a.example", "title": "A"})
    assert rv.status_code == 415
    assert _problem(rv)["detail"] == NotJSON.description


def test_json_suffix_content_type_is_json(client, bookmarks):
    rv = client.post(
        "/bookmarks",
        data=b'{"url": "u", "title": "t"}',
        content_type="application/vnd.api+json",
    )
    assert rv.status_code == 201


def test_body_over_the_size_limit_is_413(app, client, bookmarks):
    app.config["MAX_CONTENT_LENGTH"] = 10
    rv = client.post("/bookmarks", json={"url": "https://a.example", "title": "A"})
    assert rv.status_code == 413


def test_json_input_takes_any_type_pydantic_validates(app, client):
    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    @app.post("/points")
    @input(list[Point], arg="points")
    def points(points: list[Point]):
        return {"sum": sum(p.x + p.y for p in points), "type": type(points[0]).__name__}

    rv = client.post("/points", json=[{"x": 1, "y": 2}, {"x": "3", "y": 4}])
    assert rv.get_json() == {"sum": 10, "type": "Point"}
    rv = client.post("/points", json=[{"x": 1}])
    assert rv.status_code == 422
    assert _problem(rv)["errors"][0]["pointer"] == "/0/y"


def test_pointer_escapes_slash_and_tilde(app, client):
    class Odd(BaseModel):
        a_b: int = Field(alias="a/b~c")

    @app.post("/odd")
    @input(Odd)
    def odd(body: Odd):
        return str(body.a_b)

    rv = client.post("/odd", json={})
    assert _problem(rv)["errors"][0]["pointer"] == "/a~1b~0c"


# -- query, form, headers, cookies ----------------------------------------------


@pytest.fixture
def listing(app):
    @app.get("/bookmarks")
    @input(Page, "query")
    def list_bookmarks(query: Page):
        return query.model_dump()


def test_query_string_with_repeated_keys(client, listing):
    rv = client.get("/bookmarks?page=2&tag=a&tag=b&sort=new&sort=old&other=1")
    # A list field takes every value; the others take the first.
    assert rv.get_json() == {"page": 2, "tag": ["a", "b"], "sort": "new"}


def test_query_string_defaults(client, listing):
    assert client.get("/bookmarks").get_json() == {"page": 1, "tag": [], "sort": None}


def test_query_from_other_multi_dict_classes(app, client):
    from erlen import request
    from erlen.datastructures import ImmutableMultiDict, MultiDict

    class Args(ImmutableMultiDict):  # not the default class: read through its methods
        pass

    @app.before_request
    def swap():
        if request.path == "/sub":
            request.args = Args(request.args.items(multi=True))
        elif request.path == "/empty":
            # A key with no values reads as a missing key does (a 400).
            args = MultiDict(request.args.items(multi=True))
            args.setlist("page", [])
            request.args = args

    @app.get("/sub")
    @app.get("/empty")
    @input(Page, "query")
    @output(Page)
    def listing(query: Page):
        return query

    assert client.get("/sub?page=3&tag=a&tag=b").get_json() == {
        "page": 3,
        "tag": ["a", "b"],
        "sort": None,
    }
    assert client.get("/empty?page=3").status_code == 400


def test_invalid_query_is_422(client, listing):
    rv = client.get("/bookmarks?page=two")
    assert rv.status_code == 422
    (error,) = _problem(rv)["errors"]
    assert (error["location"], error["pointer"], error["type"]) == ("query", "/page", "int_parsing")


def test_form_fields_and_files(app, client):
    class Upload(BaseModel, arbitrary_types_allowed=True):
        name: str
        count: int
        labels: list[str] = []
        attachment: object = None

    @app.post("/upload")
    @input(Upload, "form")
    def upload(form: Upload):
        return {
            "name": form.name,
            "count": form.count,
            "labels": form.labels,
            "file": form.attachment.read().decode() if form.attachment else None,
        }

    rv = client.post(
        "/upload",
        data={
            "name": "n",
            "count": "3",
            "labels": ["a", "b"],
            "attachment": (io.BytesIO(b"content"), "a.txt"),
        },
    )
    assert rv.get_json() == {"name": "n", "count": 3, "labels": ["a", "b"], "file": "content"}
    rv = client.post("/upload", data={"count": "x"})
    found = {(e["location"], e["pointer"]) for e in _problem(rv)["errors"]}
    assert found == {("form", "/name"), ("form", "/count")}


def test_headers_by_hyphenated_name_or_alias(app, client):
    class Meta(BaseModel):
        x_request_id: int
        accept_language: list[str] = []
        token: str | None = Field(default=None, alias="X-Api-Key")

    @app.get("/meta")
    @input(Meta, "headers", arg="meta")
    def meta(meta: Meta):
        return meta.model_dump()

    rv = client.get(
        "/meta",
        headers=[
            ("x-request-id", "42"),
            ("Accept-Language", "de"),
            ("Accept-Language", "en"),
            ("X-API-KEY", "k"),
        ],
    )
    assert rv.get_json() == {"x_request_id": 42, "accept_language": ["de", "en"], "token": "k"}
    rv = client.get("/meta", headers={"X-Request-Id": "nope"})
    (error,) = _problem(rv)["errors"]
    # The header's name, as the client sent it, not the Python name.
    assert (error["location"], error["pointer"]) == ("headers", "/x-request-id")


def test_cookies(app, client):
    class Prefs(BaseModel):
        theme: str = "light"
        font_size: int = 12

    @app.get("/prefs")
    @input(Prefs, "cookies")
    def prefs(cookies: Prefs):
        return cookies.model_dump()

    client.set_cookie("font_size", "14")
    assert client.get("/prefs").get_json() == {"theme": "light", "font_size": 14}
    client.set_cookie("font_size", "big")
    assert client.get("/prefs").status_code == 422


def test_several_inputs_in_the_order_written(app, client):
    calls = []

    class Q(BaseModel):
        q: int

    class Body(BaseModel):
        b: int

    @app.post("/both/<int:item>")
    @input(Q, "query")
    @input(Body)
    def both(item: int, query: Q, body: Body):
        calls.append((item, query.q, body.b))
        return "ok"

    assert client.post("/both/5?q=1", json={"b": 2}).data == b"ok"
    assert calls == [(5, 1, 2)]
    assert [i.location for i in view_spec(app.view_functions["both"]).inputs] == ["query", "json"]
    # The first failing input is reported.
    rv = client.post("/both/5?q=x", json={})
    assert _problem(rv)["errors"][0]["location"] == "query"


@pytest.mark.parametrize("asynchronous", [False, True], ids=["def", "async"])
def test_inputs_reach_the_parameters_they_name(app, client, asynchronous):
    # Views whose parameters are exactly their inputs get them positionally
    # (the wrapper's fast call); every other shape keeps the keyword call.
    # Each must bind every input to the parameter of its name.
    class Q(BaseModel):
        q: int

    class Body(BaseModel):
        b: int

    def only_kwargs(f):
        # A wrapper that can't take positional arguments: the inputs must
        # reach it by keyword.
        if asynchronous:

            @functools.wraps(f)
            async def wrapper(**kwargs):
                return await f(**kwargs)

        else:

            @functools.wraps(f)
            def wrapper(**kwargs):
                return f(**kwargs)

        return wrapper

    def make(fn):
        # A new function (``async def`` for the async case) with fn's own
        # parameters, which calls fn.
        signature = inspect.signature(fn)
        call = ", ".join(f"{p}={p}" for p in signature.parameters)
        namespace = {}
        keyword = "async def" if asynchronous else "def"
        exec(f"{keyword} view{signature}:\n    return fn({call})", {"fn": fn}, namespace)
        return namespace["view"]

    def same_order(query, body):
        return f"{query.q} {body.b}"

    def other_order(body, query):
        return f"{query.q} {body.b}"

    def with_default(query, body, extra="x"):
        return f"{query.q} {body.b} {extra}"

    def with_keyword_only(query, *, body):
        return f"{query.q} {body.b}"

    for name, fn in [
        ("same_order", same_order),
        ("other_order", other_order),
        ("with_default", with_default),
        ("with_keyword_only", with_keyword_only),
    ]:
        app.post(f"/{name}", endpoint=name)(input(Q, "query")(input(Body)(make(fn))))
        app.post(f"/{name}/wrapped", endpoint=f"{name}_wrapped")(
            input(Q, "query")(input(Body)(only_kwargs(make(fn))))
        )

    @app.post("/item/<int:item>")
    @input(Body)
    def item(item: int, body: Body):
        return f"{item} {body.b}"

    # Not a plain function: the keyword call.
    def labelled(label, body):
        return f"{label} {body.b}"

    app.add_url_rule(
        "/partial", "partial", input(Body)(functools.partial(labelled, "p")), methods=["POST"]
    )

    for name in ["same_order", "other_order", "with_default", "with_keyword_only"]:
        for path in (f"/{name}", f"/{name}/wrapped"):
            rv = client.post(f"{path}?q=1", json={"b": 2})
            assert rv.status_code == 200, (path, rv.data)
            assert rv.data.startswith(b"1 2"), path
            # The first input written is checked first, whatever the parameters' order.
            rv = client.post(f"{path}?q=x", json={})
            assert [e["location"] for e in _problem(rv)["errors"]] == ["query"], path
    assert client.post("/with_default?q=1", json={"b": 2}).data == b"1 2 x"
    # With a URL argument too: the keyword call.
    assert client.post("/item/7", json={"b": 3}).data == b"7 3"
    assert client.post("/partial", json={"b": 4}).data == b"p 4"


# -- errors --------------------------------------------------------------------


def test_error_handler_replaces_the_format(app, client, bookmarks):
    @app.errorhandler(ValidationError)
    def invalid(error: ValidationError):
        return {"message": "bad input", "fields": [e["pointer"] for e in error.errors]}, 400

    rv = client.post("/bookmarks", json={"title": "t"})
    assert rv.status_code == 400
    assert rv.get_json() == {"message": "bad input", "fields": ["/url"]}


def test_error_handler_by_code(app, client, bookmarks):
    @app.errorhandler(422)
    def invalid(error):
        return f"{type(error).__name__}: {len(error.errors)}", 422

    rv = client.post("/bookmarks", json={})
    assert rv.data == b"ValidationError: 2"


def test_validator_bug_is_500_and_logged(app, client, caplog):
    app.testing = False

    class Buggy(BaseModel):
        n: int

        @field_validator("n")
        @classmethod
        def check(cls, n: int) -> int:
            if n < 0:
                raise ValueError("must not be negative")  # a validation error: 422
            return {}["missing"]  # a bug: KeyError

    @app.post("/buggy")
    @input(Buggy)
    def buggy(body: Buggy):
        return "unreachable"

    assert client.post("/buggy", json={"n": -1}).status_code == 422
    with caplog.at_level(logging.ERROR, logger=app.name):
        rv = client.post("/buggy", json={"n": 1})
    assert rv.status_code == 500
    assert b"KeyError" not in rv.data and b"Traceback" not in rv.data
    assert "Exception on /buggy [POST]" in caplog.text
    assert "KeyError" in caplog.text


def test_output_that_does_not_fit_the_model_is_500(app, client, caplog):
    app.testing = False

    @app.get("/broken")
    @output(BookmarkOut)
    def broken():
        return {"id": "not a number"}

    with caplog.at_level(logging.ERROR, logger=app.name):
        rv = client.get("/broken")
    assert rv.status_code == 500
    assert b"not a number" not in rv.data
    assert "ValidationError" in caplog.text


def test_undeclared_status_is_500(app, client, caplog):
    app.testing = False

    @app.get("/teapot")
    @output(BookmarkOut)
    def teapot():
        return {"id": 1}, 418

    with caplog.at_level(logging.ERROR, logger=app.name):
        assert client.get("/teapot").status_code == 500
    assert "status 418, which no @output declares" in caplog.text


def test_undeclared_status_propagates_in_testing(app, client):
    @app.get("/teapot")
    @output(BookmarkOut)
    def teapot():
        return {"id": 1}, "418 I'M A TEAPOT"

    with pytest.raises(LookupError, match="418"):
        client.get("/teapot")


# -- output --------------------------------------------------------------------


def test_output_from_attributes_headers_and_lists(app, client):
    class Row:
        def __init__(self, n: int) -> None:
            self.id, self.url, self.title, self.tags = n, f"u{n}", "t", []
            self.password_hash = "hash"

    @app.get("/rows")
    @output(list[BookmarkOut])
    def rows():
        return [Row(1), Row(2)], {"X-Total": "2"}

    rv = client.get("/rows")
    assert rv.status_code == 200
    assert rv.headers["X-Total"] == "2"
    assert [r["id"] for r in rv.get_json()] == [1, 2]
    assert b"hash" not in rv.data


def test_output_from_an_object_that_answers_any_attribute(app, client):
    # A record whose __getattr__ answers every name (a lazy row with a
    # default): it has no __next__ on its type, so it is a body to serialize,
    # not an iterator to pass through (asking the instance said it was one).
    class LazyRow:
        def __init__(self, **values: object) -> None:
            self._values = values

        def __getattr__(self, name: str) -> object:
            return self._values.get(name, [])

    @app.get("/lazy")
    @output(BookmarkOut)
    def lazy():
        return LazyRow(id=3, url="u3", title="t")

    @app.get("/lazy-async")
    @output(BookmarkOut)
    async def lazy_async():
        return LazyRow(id=4, url="u4", title="t", tags=["a"])

    rv = client.get("/lazy")
    assert (rv.status_code, rv.get_json()) == (
        200,
        {"id": 3, "url": "u3", "title": "t", "tags": []},
    )
    assert client.get("/lazy-async").get_json()["tags"] == ["a"]


def test_output_of_the_models_own_instance(app, client):
    @app.get("/page")
    @output(Page)
    async def page():
        return Page(page=3, tag=["x"])

    assert client.get("/page").get_json() == {"page": 3, "tag": ["x"], "sort": None}
    assert client.get("/page").get_json()["page"] == 3  # the type's answer, cached, holds


def test_output_with_status_and_headers(app, client):
    @app.put("/b/<int:id>")
    @output(BookmarkOut, 201)
    @output(BookmarkOut, 200)
    def put(id: int):
        item = BookmarkOut(id=id, url="u", title="t", tags=[])
        return item, 201 if id == 1 else 200, [("Location", f"/b/{id}")]

    rv = client.put("/b/1")
    assert (rv.status_code, rv.headers["Location"]) == (201, "/b/1")
    assert client.put("/b/2").status_code == 200


def test_lowest_declared_status_is_the_default(app, client):
    @app.post("/made")
    @output(Conflict, status=409)
    @output(BookmarkOut, status=201)
    def made():
        return {"id": 1, "url": "u", "title": "t", "tags": []}

    assert client.post("/made").status_code == 201


def test_no_content_output(app, client):
    @app.delete("/b/<int:id>")
    @output(None, status=204)
    def delete(id: int):
        return ""

    rv = client.delete("/b/3")
    assert rv.status_code == 204
    assert rv.data == b""


def test_responses_and_streams_pass_through(app, client):
    @app.get("/elsewhere")
    @output(BookmarkOut)
    def elsewhere():
        return redirect("/there")

    @app.get("/stream")
    @output(BookmarkOut)
    def stream():
        def chunks():
            yield "a"
            yield "b"

        return Response(chunks(), mimetype="text/plain")

    @app.get("/generator")
    @output(BookmarkOut)
    def generator():
        yield "x"
        yield "y"

    assert client.get("/elsewhere").status_code == 302
    assert client.get("/stream").data == b"ab"
    assert client.get("/generator").data == b"xy"


# -- async views, other decorators, blueprints ---------------------------------


def test_async_view(app, client):
    @app.post("/async")
    @input(BookmarkIn)
    @output(BookmarkOut, status=201)
    async def create(body: BookmarkIn):
        return {"id": 9, **body.model_dump()}

    rv = client.post("/async", json={"url": "u", "title": "t"})
    assert (rv.status_code, rv.get_json()["id"]) == (201, 9)
    assert client.post("/async", json={}).status_code == 422


@pytest.mark.parametrize("asynchronous", [False, True], ids=["def", "async"])
def test_json_input_asks_a_request_class_own_get_data_and_is_json(app, client, asynchronous):
    # A request class's own get_data and is_json decide, as on every path
    # (the ASGI side's body in memory is read without calling Request's own).
    from erlen.wrappers import Request

    class Unwrapping(Request):
        def get_data(self, cache=True, as_text=False, parse_form_data=False):
            data = super().get_data(cache, as_text, parse_form_data)
            return json.dumps(json.loads(data)["wrapped"]).encode()

    class Refusing(Request):
        @property
        def is_json(self):
            return False

    if asynchronous:

        @app.post("/")
        @input(BookmarkIn)
        async def create(body: BookmarkIn):
            return body.url

    else:

        @app.post("/")
        @input(BookmarkIn)
        def create(body: BookmarkIn):
            return body.url

    assert Request._plain_json and not Unwrapping._plain_json and not Refusing._plain_json
    payload = {"url": "u", "title": "t"}
    assert client.post("/", json=payload).data == b"u"
    app.request_class = Unwrapping
    assert client.post("/", json={"wrapped": {**payload, "url": "inner"}}).data == b"inner"
    app.request_class = Refusing
    assert client.post("/", json=payload).status_code == 415


def test_other_decorators_in_between(app, client):
    calls = []

    def logged(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            calls.append("logged")
            return f(*args, **kwargs)

        return wrapper

    @app.post("/mixed")
    @output(BookmarkOut)
    @logged
    @input(BookmarkIn)
    def mixed(body: BookmarkIn):
        return {"id": 1, **body.model_dump()}

    rv = client.post("/mixed", json={"url": "u", "title": "t", "tags": []})
    assert rv.get_json() == {"id": 1, "url": "u", "title": "t", "tags": []}
    # @input ran below the other decorator: it runs first, then the input is checked.
    assert client.post("/mixed", json={}).status_code == 422
    assert calls == ["logged", "logged"]


def test_blueprint_views(app, client):
    bp = Blueprint("api", __name__, url_prefix="/api")

    @bp.post("/bookmarks")
    @input(BookmarkIn)
    @output(BookmarkOut, 201)
    def create(body: BookmarkIn):
        return {"id": 3, **body.model_dump()}

    app.register_blueprint(bp)
    assert client.post("/api/bookmarks", json={"url": "u", "title": "t"}).status_code == 201
    assert client.post("/api/bookmarks", json={"url": "u"}).status_code == 422


def test_undecorated_views_are_not_touched(app):
    def plain():
        return "plain"

    app.add_url_rule("/plain", view_func=plain)
    assert app.view_functions["plain"] is plain
    assert view_spec(plain) is None


def test_doc_and_security_do_not_wrap(app):
    def described():
        return "x"

    decorated = security("token")(doc("Summary", tags=["t"], hide=True)(described))
    assert decorated is described
    spec = view_spec(described)
    assert (spec.summary, spec.tags, spec.hidden, spec.security) == (
        "Summary",
        ["t"],
        True,
        ["token"],
    )


def test_doc_below_input_is_kept(app):
    @input(BookmarkIn)
    @doc(responses={404: "Missing"}, deprecated=True, operation_id="make")
    def make(body):
        return ""

    spec = view_spec(make)
    assert (spec.responses, spec.deprecated, spec.operation_id) == ({404: "Missing"}, True, "make")
    assert len(spec.inputs) == 1


def test_declaration_mistakes_fail_at_setup():
    with pytest.raises(ValueError, match="location must be one of"):
        input(Page, "body")
    with pytest.raises(TypeError, match="takes a model class"):
        input(list[int], "query")
    with pytest.raises(ValueError, match="two inputs"):

        @input(Page, "query", arg="x")
        @input(BookmarkIn, arg="x")
        def view(x):
            return ""


def test_import_loads_no_pydantic():
    code = (
        "import sys, erlen, erlen.typed; assert 'pydantic' not in sys.modules, 'pydantic imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_async_view_with_output_only(app, client):
    @app.get("/async-out")
    @output(BookmarkOut)
    async def out():
        return Stored(id=2, url="u", title="t", tags=[], owner_password_hash="h")

    rv = client.get("/async-out")
    assert rv.get_json() == {"id": 2, "url": "u", "title": "t", "tags": []}


def test_tuple_of_another_length_is_a_type_error(app, client):
    @app.get("/four")
    @output(BookmarkOut)
    def four():
        return {}, 200, {}, "extra"

    with pytest.raises(TypeError, match="valid response tuple"):
        client.get("/four")


@pytest.mark.parametrize(
    ("annotation", "multi"),
    [
        (list, True),
        (tuple[int, ...], True),
        (set[str] | None, True),
        (typing.Optional[frozenset[int]], True),  # noqa: UP045 - the old spelling is a Union too
        (typing.Annotated[list[str], "meta"] | None, True),
        (int, False),
        (str | None, False),
        (dict[str, str], False),
    ],
)
def test_which_fields_take_several_values(annotation, multi):
    from erlen.typed import _is_multi

    assert _is_multi(annotation) is multi


def test_output_without_a_body_dumps_nothing():
    from erlen.typed import Output

    assert Output(None, 204).dump({"anything": 1}) == b""
    assert Output(BookmarkOut, 200).dump(
        {"id": 1, "url": "u", "title": "t", "tags": [], "x": 1}
    ) == (b'{"id":1,"url":"u","title":"t","tags":[]}')


# -- every HTTP error as problem details ---------------------------------------------


def test_problem_details_handler_answers_every_http_error(app, client, bookmarks):
    from erlen import abort
    from erlen.exceptions import HTTPException, Unauthorized
    from erlen.openapi.spec import PROBLEM_SCHEMA

    jsonschema = pytest.importorskip("jsonschema")
    app.register_error_handler(HTTPException, problem_details)

    @app.get("/missing")
    def missing():
        abort(404, "No such bookmark.")

    @app.get("/private")
    def private():
        raise Unauthorized("Log in first.", www_authenticate="Bearer")

    @app.get("/ready")
    def ready():
        abort(Response("made by the view", 409, mimetype="text/plain"))

    rv = client.get("/missing")
    assert rv.status_code == 404
    assert _problem(rv) == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No such bookmark.",
    }
    rv = client.get("/private")
    assert (rv.status_code, rv.headers["WWW-Authenticate"]) == (401, "Bearer")
    assert _problem(rv)["detail"] == "Log in first."
    rv = client.delete("/missing")
    assert rv.status_code == 405
    assert "GET" in rv.headers["Allow"]
    assert _problem(rv)["status"] == 405
    # An error with its own response is sent as it is.
    rv = client.get("/ready")
    assert (rv.status_code, rv.data, rv.mimetype) == (409, b"made by the view", "text/plain")
    # The input errors keep their field list.
    rv = client.post("/bookmarks", json={})
    assert rv.status_code == 422 and _problem(rv)["errors"]
    # Every one of them fits the schema the spec documents for errors.
    for path, method in [("/missing", "get"), ("/private", "get"), ("/missing", "delete")]:
        jsonschema.validate(_problem(getattr(client, method)(path)), PROBLEM_SCHEMA)
    jsonschema.validate(_problem(client.post("/bookmarks", json={})), PROBLEM_SCHEMA)


# -- the JSON response a typed view renders, with and without the quick path ---


class Blob(BaseModel):
    data: str


@pytest.mark.parametrize("asynchronous", [False, True])
@pytest.mark.parametrize("size", [10, 2000])
def test_rendered_response_headers_and_status(app, client, asynchronous, size):
    if asynchronous:

        @app.get("/blob")
        @output(Blob, status=201)
        async def blob():
            return {"data": "x" * size}

    else:

        @app.get("/blob")
        @output(Blob, status=201)
        def blob():
            return {"data": "x" * size}

    rv = client.get("/blob")
    body = json.dumps({"data": "x" * size}, separators=(",", ":")).encode()
    assert rv.status == Response(b"", 201).status and rv.data == body
    assert rv.headers["Content-Type"] == "application/json"
    assert rv.headers["Content-Length"] == str(len(body))


def test_rendered_response_of_a_class_without_length_or_with_its_own_status(app, client):
    seen = []

    class Quiet(Response):
        automatically_set_content_length = False

    class Traced(Response):
        @Response.status.setter  # type: ignore[attr-defined, untyped-decorator]
        def status(self, value):
            seen.append(value)
            Response.status.fset(self, value)  # type: ignore[attr-defined]

    @app.get("/blob")
    @output(Blob, status=202)
    async def blob():
        return {"data": "y"}

    app.response_class = Quiet
    rv = client.get("/blob")
    assert rv.status_code == 202 and rv.get_json() == {"data": "y"}
    assert "Content-Length" not in rv.headers or rv.headers["Content-Length"] == "12"
    app.response_class = Traced
    rv = client.get("/blob")
    assert rv.status_code == 202 and rv.get_json() == {"data": "y"} and seen == [202]


def test_rendered_response_of_a_class_with_its_own_init(app, client):
    class Tagged(Response):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.headers["X-Tagged"] = "yes"

    app.response_class = Tagged

    @app.get("/blob")
    @output(Blob)
    async def blob():
        return {"data": "z"}

    rv = client.get("/blob")
    assert rv.headers["X-Tagged"] == "yes" and rv.get_json() == {"data": "z"}


def test_overridden_make_response_sees_an_async_views_response(client_interface):
    from erlen import Erlen
    from erlen.testing import FlaskClient

    seen = []

    class Seeing(Erlen):
        def make_response(self, rv):
            seen.append(type(rv).__name__)
            return super().make_response(rv)

    app = Seeing(__name__)

    @app.get("/blob")
    @output(Blob)
    async def blob():
        return {"data": "z"}

    @app.get("/text")
    async def text():
        return Response("plain")

    client = app.test_client()
    assert isinstance(client, FlaskClient)
    assert client.get("/blob").get_json() == {"data": "z"}
    assert client.get("/text").data == b"plain"
    assert seen == ["Response", "Response"]
