"""erlen.typed with msgspec Structs, dataclasses and TypedDicts, in every location."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import subprocess
import sys
import typing

import pytest

pytest.importorskip("pydantic")
msgspec = pytest.importorskip("msgspec")

import pydantic  # noqa: E402
import typing_extensions  # noqa: E402
from pydantic import Field  # noqa: E402

from erlen.typed import Input, Output, input, output  # noqa: E402
from erlen.typed.adapters import MsgspecAdapter, PydanticAdapter, adapter_for  # noqa: E402

# -- models (at module level: their annotations are strings, resolved here) ----


class BookmarkIn(msgspec.Struct):
    url: str
    title: typing.Annotated[str, msgspec.Meta(max_length=20)]
    tags: list[str] = []


class BookmarkOut(msgspec.Struct):
    id: int
    url: str
    title: str
    tags: list[str]


class Stored(BookmarkOut):
    # A field the output model does not have: it must never be sent.
    password_hash: str = ""


class Outer(msgspec.Struct):
    inner: BookmarkIn
    counts: dict[str, int] = {}


class PageQuery(msgspec.Struct):
    page: int = 1
    tag: list[str] = []
    sort: str | None = None
    exact: bool = False


class Meta(msgspec.Struct, rename={"key": "X-Api-Key"}):
    x_request_id: int
    accept_language: list[str] = []
    key: str | None = None


class Prefs(msgspec.Struct):
    theme: str = "light"
    font_size: int = 12


class Upload(msgspec.Struct):
    name: str
    count: int
    labels: list[str] = []
    attachment: typing.Any = None


class Checked(msgspec.Struct):
    n: int

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError("must not be negative")  # msgspec: a validation error
        if self.n == 13:
            raise RuntimeError("a bug in the model")


@dataclasses.dataclass
class DataQuery:
    page: int = 1
    tag: list[str] = dataclasses.field(default_factory=list)
    sort: str | None = None


class TypedQuery(typing_extensions.TypedDict, total=False):
    page: int
    tag: list[str]


@pydantic.dataclasses.dataclass
class AliasedHeaders:
    x_request_id: int
    key: str | None = Field(default=None, alias="X-Api-Key")
    accept_language: list[str] = Field(default_factory=list)


class CookieDict(typing_extensions.TypedDict):
    theme: str
    font_size: int


@dataclasses.dataclass
class FormData:
    name: str
    labels: list[str] = dataclasses.field(default_factory=list)


def _problem(rv) -> dict:
    assert rv.content_type == "application/problem+json"
    return json.loads(rv.data)


def _errors(rv) -> set[tuple[str, str, str]]:
    return {(e["location"], e["pointer"], e["type"]) for e in _problem(rv)["errors"]}


# -- msgspec: the JSON body ------------------------------------------------------


@pytest.fixture
def bookmarks(app):
    seen = []

    @app.post("/bookmarks")
    @input(BookmarkIn)
    @output(BookmarkOut, status=201)
    def create(body: BookmarkIn):
        seen.append(body)
        return Stored(1, body.url, body.title, body.tags, password_hash="secret-hash")

    return seen


def test_msgspec_json_body_is_decoded_into_the_struct(client, bookmarks):
    rv = client.post("/bookmarks", json={"url": "https://a.example", "title": "A", "tags": ["x"]})
    assert rv.status_code == 201
    assert rv.content_type == "application/json"
    assert json.loads(rv.data) == {"id": 1, "url": "https://a.example", "title": "A", "tags": ["x"]}
    assert type(bookmarks[0]) is BookmarkIn
    assert b"secret-hash" not in rv.data


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"title": "t"}, ("json", "/url", "missing")),
        ({"url": "u", "title": "t", "tags": ["a", 2]}, ("json", "/tags/1", "type_error")),
        ({"url": "u", "title": "x" * 21}, ("json", "/title", "value_error")),
        ([1, 2], ("json", "", "type_error")),
    ],
)
def test_msgspec_invalid_body_is_422_with_the_field(client, bookmarks, body, error):
    rv = client.post("/bookmarks", json=body)
    assert rv.status_code == 422
    problem = _problem(rv)
    assert (problem["status"], problem["title"]) == (422, "Unprocessable Entity")
    (found,) = problem["errors"]
    assert (found["location"], found["pointer"], found["type"]) == error
    # The message, without msgspec's "- at `$...`" (the pointer says where).
    assert found["detail"] and " - at " not in found["detail"]
    assert bookmarks == []


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b'{"url": "a"} trailing', b'{"url": "a", "title": "t"} x', b"[" * 10_000],
)
def test_msgspec_body_that_is_not_json_is_400(client, bookmarks, body):
    rv = client.post("/bookmarks", data=body, content_type="application/json")
    assert rv.status_code == 400
    assert _problem(rv)["status"] == 400
    assert bookmarks == []


def test_msgspec_other_content_type_is_415(client, bookmarks):
    rv = client.post("/bookmarks", data="url=u", content_type="application/x-www-form-urlencoded")
    assert rv.status_code == 415


def test_msgspec_nested_paths(app, client):
    @app.post("/outer")
    @input(Outer)
    def outer(body: Outer):
        return body.inner.url

    rv = client.post("/outer", json={"inner": {"url": "u", "title": "t"}})
    assert rv.data == b"u"
    rv = client.post("/outer", json={"inner": {"url": "u", "title": "t", "tags": [1]}})
    assert _errors(rv) == {("json", "/inner/tags/0", "type_error")}
    rv = client.post("/outer", json={"inner": {"title": "t"}})
    assert _errors(rv) == {("json", "/inner/url", "missing")}
    # msgspec names no key of a dict: "[...]", kept as a step of the pointer.
    rv = client.post("/outer", json={"inner": {"url": "u", "title": "t"}, "counts": {"a": "x"}})
    assert _errors(rv) == {("json", "/counts/...", "type_error")}


def test_msgspec_list_in_and_out(app, client):
    @app.post("/many")
    @input(list[BookmarkIn], arg="items")
    @output(list[BookmarkOut])
    def many(items: list[BookmarkIn]):
        return [
            {"id": n, "url": b.url, "title": b.title, "tags": b.tags, "extra": 1}
            for n, b in enumerate(items)
        ]

    rv = client.post("/many", json=[{"url": "u", "title": "t"}])
    assert rv.get_json() == [{"id": 0, "url": "u", "title": "t", "tags": []}]
    rv = client.post("/many", json=[{"url": "u", "title": "t"}, {"title": "t"}])
    assert _errors(rv) == {("json", "/1/url", "missing")}


def test_msgspec_output_from_dicts_rows_and_subclasses(app, client):
    @dataclasses.dataclass
    class Row:
        id: int
        url: str
        title: str
        tags: list[str]
        password_hash: str

    values = {
        "dict": {"id": 1, "url": "u", "title": "t", "tags": [], "password_hash": "h"},
        "row": Row(1, "u", "t", [], "h"),
        "sub": Stored(1, "u", "t", [], "h"),
        "same": BookmarkOut(1, "u", "t", []),
    }

    @app.get("/out/<kind>")
    @output(BookmarkOut)
    def out(kind: str):
        return values[kind]

    for kind in values:
        rv = client.get(f"/out/{kind}")
        assert rv.get_json() == {"id": 1, "url": "u", "title": "t", "tags": []}, kind


def test_msgspec_output_that_does_not_fit_is_500(app, client, caplog):
    app.testing = False

    @app.get("/broken")
    @output(BookmarkOut)
    def broken():
        return {"id": "not a number", "url": "u", "title": "t", "tags": []}

    with caplog.at_level(logging.ERROR, logger=app.name):
        rv = client.get("/broken")
    assert rv.status_code == 500
    assert b"not a number" not in rv.data
    assert "ValidationError" in caplog.text


def test_msgspec_model_bug_is_500_and_its_value_error_422(app, client, caplog):
    app.testing = False

    @app.post("/checked")
    @input(Checked)
    def checked(body: Checked):
        return str(body.n)

    assert client.post("/checked", json={"n": 1}).data == b"1"
    rv = client.post("/checked", json={"n": -1})
    assert rv.status_code == 422
    assert _problem(rv)["errors"][0]["detail"] == "must not be negative"
    with caplog.at_level(logging.ERROR, logger=app.name):
        rv = client.post("/checked", json={"n": 13})
    assert rv.status_code == 500
    assert b"RuntimeError" not in rv.data and b"Traceback" not in rv.data
    assert "RuntimeError" in caplog.text


# -- msgspec: query, headers, cookies, form ----------------------------------------


def test_msgspec_query_coerces_strings_and_takes_repeated_keys(app, client):
    @app.get("/list")
    @input(PageQuery, "query")
    def listing(query: PageQuery):
        return msgspec.to_builtins(query)

    rv = client.get("/list?page=2&tag=a&tag=b&sort=new&sort=old&exact=true&other=1")
    assert rv.get_json() == {"page": 2, "tag": ["a", "b"], "sort": "new", "exact": True}
    assert client.get("/list").get_json() == {"page": 1, "tag": [], "sort": None, "exact": False}
    rv = client.get("/list?page=two")
    assert rv.status_code == 422
    assert _errors(rv) == {("query", "/page", "type_error")}


def test_msgspec_headers_by_hyphenated_name_or_rename(app, client):
    @app.get("/meta")
    @input(Meta, "headers", arg="meta")
    def meta(meta: Meta):
        return msgspec.to_builtins(meta)

    rv = client.get(
        "/meta",
        headers=[
            ("x-request-id", "42"),
            ("Accept-Language", "de"),
            ("Accept-Language", "en"),
            ("X-API-KEY", "k"),
        ],
    )
    assert rv.get_json() == {"x_request_id": 42, "accept_language": ["de", "en"], "X-Api-Key": "k"}
    rv = client.get("/meta", headers={"X-Request-Id": "nope"})
    assert _errors(rv) == {("headers", "/x-request-id", "type_error")}
    # A missing header is named as the client would send it, too.
    assert _errors(client.get("/meta")) == {("headers", "/x-request-id", "missing")}


def test_msgspec_cookies(app, client):
    @app.get("/prefs")
    @input(Prefs, "cookies")
    def prefs(cookies: Prefs):
        return msgspec.to_builtins(cookies)

    client.set_cookie("font_size", "14")
    assert client.get("/prefs").get_json() == {"theme": "light", "font_size": 14}
    client.set_cookie("font_size", "big")
    assert _errors(client.get("/prefs")) == {("cookies", "/font_size", "type_error")}


def test_msgspec_form_fields_and_files(app, client):
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
    # msgspec stops at the first error: one field.
    assert _errors(client.post("/upload", data={"count": "3"})) == {("form", "/name", "missing")}


# -- dataclasses and TypedDicts in every location (pydantic) ----------------------


def test_dataclass_and_typeddict_query(app, client):
    @app.get("/dc")
    @input(DataQuery, "query")
    def dc(query: DataQuery):
        assert isinstance(query, DataQuery)
        return dataclasses.asdict(query)

    @app.get("/td")
    @input(TypedQuery, "query")
    def td(query: TypedQuery):
        return dict(query)

    rv = client.get("/dc?page=2&tag=a&tag=b&sort=x&sort=y")
    assert rv.get_json() == {"page": 2, "tag": ["a", "b"], "sort": "x"}
    assert client.get("/dc").get_json() == {"page": 1, "tag": [], "sort": None}
    assert _errors(client.get("/dc?page=x")) == {("query", "/page", "int_parsing")}
    assert client.get("/td?page=3&tag=a&tag=b").get_json() == {"page": 3, "tag": ["a", "b"]}
    assert client.get("/td").get_json() == {}


def test_pydantic_dataclass_headers_with_alias(app, client):
    @app.get("/meta")
    @input(AliasedHeaders, "headers", arg="meta")
    def meta(meta: AliasedHeaders):
        return {"id": meta.x_request_id, "key": meta.key, "languages": meta.accept_language}

    rv = client.get(
        "/meta",
        headers=[
            ("X-Request-Id", "7"),
            ("X-Api-Key", "k"),
            ("Accept-Language", "de, en"),
        ],
    )
    assert rv.get_json() == {"id": 7, "key": "k", "languages": ["de", "en"]}
    assert _errors(client.get("/meta")) == {("headers", "/x-request-id", "missing")}


def test_typeddict_cookies_and_dataclass_form(app, client):
    @app.get("/prefs")
    @input(CookieDict, "cookies")
    def prefs(cookies: CookieDict):
        return dict(cookies)

    @app.post("/form")
    @input(FormData, "form")
    def form(form: FormData):
        return dataclasses.asdict(form)

    client.set_cookie("theme", "dark")
    client.set_cookie("font_size", "14")
    assert client.get("/prefs").get_json() == {"theme": "dark", "font_size": 14}
    rv = client.post("/form", data={"name": "n", "labels": ["a", "b"]})
    assert rv.get_json() == {"name": "n", "labels": ["a", "b"]}
    assert _errors(client.post("/form", data={})) == {("form", "/name", "missing")}


# -- the adapters ---------------------------------------------------------------------


class Built(pydantic.BaseModel):
    n: int = Field(ge=1)
    tags: list[str] = []


class Deferred(Built):
    # Built on first use: pydantic's TypeAdapter holds a stand-in for its
    # validator, so the adapter goes through the TypeAdapter's methods
    # (for a built model it calls pydantic-core's own).
    model_config = pydantic.ConfigDict(defer_build=True)


@pytest.mark.parametrize("model", [Built, Deferred])
def test_pydantic_models_built_or_deferred(app, client, model):
    @app.post("/in")
    @input(model)
    @output(model, status=201)
    def body(body):
        assert type(body) is model
        return {"n": body.n, "tags": body.tags}

    @app.get("/q")
    @input(model, "query")
    @output(model)
    async def query(query):
        return query

    rv = client.post("/in", json={"n": 2, "tags": ["a"]})
    assert (rv.status_code, rv.get_json()) == (201, {"n": 2, "tags": ["a"]})
    rv = client.get("/q?n=3&tags=a&tags=b")
    assert (rv.status_code, rv.get_json()) == (200, {"n": 3, "tags": ["a", "b"]})
    rv = client.post("/in", json={"n": 0})
    assert (rv.status_code, _errors(rv)) == (422, {("json", "/n", "greater_than_equal")})
    assert client.get("/q?n=x").status_code == 422
    assert client.post("/in", data=b"{", content_type="application/json").status_code == 400


def test_the_library_is_picked_by_the_model():
    assert isinstance(adapter_for(BookmarkIn), MsgspecAdapter)
    assert isinstance(adapter_for(list[BookmarkIn]), MsgspecAdapter)
    assert isinstance(adapter_for(typing.Annotated[BookmarkIn | None, "x"]), MsgspecAdapter)
    assert isinstance(adapter_for(DataQuery), PydanticAdapter)
    assert isinstance(adapter_for(list[int]), PydanticAdapter)
    assert isinstance(adapter_for(dict[str, int]), PydanticAdapter)


def test_a_location_other_than_json_needs_a_record_type():
    with pytest.raises(TypeError, match="takes a model class"):
        input(list[BookmarkIn], "query")
    with pytest.raises(TypeError, match="takes a model class"):
        input(int, "headers")
    assert Input(Prefs, "cookies", "cookies")._fields == (
        ("theme", "theme", False),
        ("font_size", "font_size", False),
    )


def test_msgspec_output_without_a_model_instance_is_converted():
    assert Output(BookmarkOut, 200).dump(
        {"id": 1, "url": "u", "title": "t", "tags": [], "x": 1}
    ) == (b'{"id":1,"url":"u","title":"t","tags":[]}')


def test_pydantic_models_never_load_msgspec():
    code = (
        "import sys\n"
        "from pydantic import BaseModel\n"
        "from erlen.typed import input, output\n"
        "class M(BaseModel):\n"
        "    x: int\n"
        "input(M)(lambda body: body); output(M)(lambda: None)\n"
        "assert 'msgspec' not in sys.modules, 'msgspec imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


class Anything(msgspec.Struct):
    value: typing.Any = None


def test_msgspec_body_nested_too_deep_is_400(app, client):
    @app.post("/any")
    @input(Anything)
    def anything(body: Anything):
        return "ok"

    deep = b'{"value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    rv = client.post("/any", data=deep, content_type="application/json")
    assert rv.status_code == 400
    assert client.post("/any", json={"value": [[1]]}).data == b"ok"


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    kind: typing.Literal["a", "b"] = "a"


def test_msgspec_errors_never_echo_input(app, client):
    @app.post("/strict")
    @input(Strict)
    def strict(body: Strict):
        return body.kind

    assert client.post("/strict", json={"kind": "b"}).data == b"b"
    rv = client.post("/strict", json={"kind": "<script> - at `$.x`"})
    assert b"<script>" not in rv.data
    (error,) = _problem(rv)["errors"]
    assert (error["pointer"], error["detail"], error["type"]) == (
        "/kind",
        "Invalid enum value",
        "value_error",
    )
    # An unknown key is named in the pointer (as pydantic does), not in the message.
    (error,) = _problem(client.post("/strict", json={"other": 1}))["errors"]
    assert (error["pointer"], error["detail"], error["type"]) == (
        "/other",
        "Object contains unknown field",
        "unknown_field",
    )


def test_msgspec_models_need_no_pydantic():
    # erlen[msgspec] alone: views and the spec work without importing pydantic.
    code = (
        "import sys, msgspec\n"
        "from erlen import Erlen\n"
        "from erlen.openapi import OpenAPI\n"
        "from erlen.typed import input, output\n"
        "class M(msgspec.Struct):\n"
        "    x: int\n"
        "app = Erlen('m')\n"
        "@app.post('/m')\n"
        "@input(M)\n"
        "@output(M)\n"
        "def m(body):\n"
        "    return body\n"
        "@app.get('/q')\n"
        "@input(M, 'query')\n"
        "def q(query):\n"
        "    return str(query.x)\n"
        "api = OpenAPI(app)\n"
        "client = app.test_client()\n"
        "assert client.post('/m', json={'x': 1}).json == {'x': 1}\n"
        "assert client.get('/q?x=2').data == b'2'\n"
        "spec = api.spec(app)\n"
        "assert spec['components']['schemas']['M']['required'] == ['x']\n"
        "assert 'pydantic' not in sys.modules, 'pydantic imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
