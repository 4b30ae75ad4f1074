"""erlen.openapi: the OpenAPI 3.1 document of an app, served and on the command line."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("pydantic")
openapi_spec_validator = pytest.importorskip("openapi_spec_validator")

from pydantic import BaseModel, Field  # noqa: E402

from erlen import Blueprint, Erlen  # noqa: E402
from erlen.openapi import OpenAPI, api_key, bearer_auth, session_cookie  # noqa: E402
from erlen.openapi.spec import build_spec  # noqa: E402
from erlen.typed import doc, input, output, security  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


class TagIn(BaseModel):
    name: str = Field(min_length=1, description="The tag's name.")


class TagOut(BaseModel):
    id: int
    name: str


class Filters(BaseModel):
    page: int = 1
    tag: list[str] = []
    q: str = Field(description="Search text.")
    sort: str | None = Field(None, deprecated=True)


class Meta(BaseModel):
    x_request_id: str | None = None


class Prefs(BaseModel):
    theme: str = "light"


class Upload(BaseModel):
    title: str


def _full_app(app: Erlen) -> OpenAPI:
    """An app using every feature the spec describes."""
    bp = Blueprint("tags", __name__, url_prefix="/tags")

    @bp.post("/")
    @input(TagIn, example={"name": "python"})
    @output(TagOut, status=201, description="The new tag.", example={"id": 1, "name": "python"})
    def create(body: TagIn):
        """Create a tag.

        The name must be new.
        """
        return {"id": 1, "name": body.name}

    @bp.get("/")
    @input(Filters, "query")
    @input(Meta, "headers")
    @input(Prefs, "cookies")
    @output(list[TagOut])
    @security()
    def list_tags(query: Filters, headers: Meta, cookies: Prefs):
        """List tags."""
        return []

    @bp.route("/<int:id>", methods=["GET", "DELETE"])
    @output(TagOut)
    @output(None, status=204)
    @doc(responses={404: "No such tag"})
    def one(id: int):
        return {"id": id, "name": "x"}

    @app.post("/upload")
    @input(Upload, "form")
    @security("key")
    def upload(form: Upload):
        return "ok"

    @app.get("/files/<path:name>/<uuid:key>/<any(small, large):size>/<float(signed=True):x>")
    def files(**kwargs):
        return "file"

    @app.get("/old")
    @doc("An old view.", "Use /tags.", deprecated=True, tags=["legacy"])
    def old():
        return "old"

    @app.get("/secret")
    @doc(hide=True)
    def secret():
        return "hidden"

    app.register_blueprint(bp)
    return OpenAPI(
        app,
        title="Tags",
        version="2.0",
        description="Tags *and* more.",
        security_schemes={
            "token": bearer_auth("JWT"),
            "session": session_cookie(),
            "key": api_key("X-API-Key", description="Ask us for one."),
        },
        security=["token", "session"],
        servers=[{"url": "https://api.example.test"}],
        tags=[{"name": "tags", "description": "Everything about tags."}],
        info={"license": {"name": "BSD-3-Clause", "identifier": "BSD-3-Clause"}},
    )


@pytest.fixture
def spec(app: Erlen) -> dict:
    return _full_app(app).spec(app)


def test_spec_is_valid_openapi_3_1(spec):
    openapi_spec_validator.validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert spec["info"] == {
        "title": "Tags",
        "version": "2.0",
        "description": "Tags *and* more.",
        "license": {"name": "BSD-3-Clause", "identifier": "BSD-3-Clause"},
    }
    assert spec["servers"] == [{"url": "https://api.example.test"}]


def test_paths_methods_and_what_is_left_out(spec):
    assert {path: sorted(ops) for path, ops in spec["paths"].items()} == {
        "/tags/": ["get", "post"],
        "/tags/{id}": ["delete", "get"],
        "/upload": ["post"],
        "/files/{name}/{key}/{size}/{x}": ["get"],
        "/old": ["get"],
    }  # not the static route, HEAD, automatic OPTIONS, a hidden view or the spec itself


def test_path_arguments_typed_from_converters(spec):
    params = {
        p["name"]: p for p in spec["paths"]["/files/{name}/{key}/{size}/{x}"]["get"]["parameters"]
    }
    assert all(p["in"] == "path" and p["required"] for p in params.values())
    assert params["name"]["schema"]["type"] == "string"
    assert params["key"]["schema"] == {"type": "string", "format": "uuid"}
    assert params["size"]["schema"] == {"type": "string", "enum": ["small", "large"]}
    assert params["x"]["schema"] == {"type": "number"}
    one = spec["paths"]["/tags/{id}"]["get"]["parameters"]
    assert one == [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}
    ]


def test_converter_bounds(app):
    @app.get("/n/<int(min=1, max=9):a>/<int(signed=True):b>/<float(min=0.5):c>/<d>")
    def n(a, b, c, d):
        return ""

    api = OpenAPI(app)
    params = api.spec(app)["paths"]["/n/{a}/{b}/{c}/{d}"]["get"]["parameters"]
    assert [p["schema"] for p in params] == [
        {"type": "integer", "minimum": 1, "maximum": 9},
        {"type": "integer"},
        {"type": "number", "minimum": 0.5},
        {"type": "string", "pattern": "^[^/]+$"},
    ]


def test_docstrings_tags_and_operation_ids(spec):
    create = spec["paths"]["/tags/"]["post"]
    assert create["summary"] == "Create a tag."
    assert create["description"] == "The name must be new."
    assert create["tags"] == ["tags"]
    assert create["operationId"] == "tags.create"
    old = spec["paths"]["/old"]["get"]
    assert (old["summary"], old["description"], old["deprecated"], old["tags"]) == (
        "An old view.",
        "Use /tags.",
        True,
        ["legacy"],
    )
    # Several methods on one rule: one operation each, with its own id.
    assert {op["operationId"] for op in spec["paths"]["/tags/{id}"].values()} == {
        "tags.one_get",
        "tags.one_delete",
    }
    assert "tags" not in spec["paths"]["/upload"]["post"]
    assert spec["tags"] == [
        {"name": "tags", "description": "Everything about tags."},
        {"name": "legacy"},
    ]


def test_one_endpoint_under_two_rules_has_unique_ids(app):
    @app.get("/a")
    @app.get("/b")
    def twice():
        return ""

    spec = OpenAPI(app).spec(app)
    ids = [spec["paths"][p]["get"]["operationId"] for p in ("/a", "/b")]
    assert sorted(ids) == ["twice", "twice_2"]
    openapi_spec_validator.validate(spec)


def test_request_bodies_and_parameters(spec):
    body = spec["paths"]["/tags/"]["post"]["requestBody"]
    assert body == {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/TagIn"},
                "example": {"name": "python"},
            }
        },
    }
    listing = spec["paths"]["/tags/"]["get"]["parameters"]
    by_name = {(p["in"], p["name"]): p for p in listing}
    assert set(by_name) == {
        ("query", "page"),
        ("query", "tag"),
        ("query", "q"),
        ("query", "sort"),
        ("header", "x-request-id"),
        ("cookie", "theme"),
    }
    assert by_name["query", "q"]["required"] is True
    assert by_name["query", "q"]["description"] == "Search text."
    assert by_name["query", "page"]["required"] is False
    assert by_name["query", "sort"]["deprecated"] is True
    assert "deprecated" not in by_name["query", "sort"]["schema"]
    assert by_name["query", "tag"]["schema"]["type"] == "array"
    form = spec["paths"]["/upload"]["post"]["requestBody"]["content"]
    assert set(form) == {"application/x-www-form-urlencoded", "multipart/form-data"}


def test_responses(spec):
    create = spec["paths"]["/tags/"]["post"]["responses"]
    assert sorted(create) == ["201", "400", "415", "422"]
    assert create["201"]["description"] == "The new tag."
    assert create["201"]["content"]["application/json"]["example"] == {"id": 1, "name": "python"}
    assert create["422"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
    }
    # Query input only: a 422 but no 400 or 415.
    assert sorted(spec["paths"]["/tags/"]["get"]["responses"]) == ["200", "422"]
    array = spec["paths"]["/tags/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert array["schema"] == {"type": "array", "items": {"$ref": "#/components/schemas/TagOut"}}
    one = spec["paths"]["/tags/{id}"]["get"]["responses"]
    assert one["204"] == {"description": "No Content"}
    assert one["404"] == {
        "description": "No such tag",
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
        },
    }
    assert spec["paths"]["/old"]["get"]["responses"] == {
        "200": {"description": "Successful response"}
    }
    schemas = spec["components"]["schemas"]
    assert {"TagIn", "TagOut", "ProblemDetails"} <= set(schemas)
    assert schemas["TagIn"]["properties"]["name"]["minLength"] == 1


def test_security(spec):
    assert spec["security"] == [{"token": []}, {"session": []}]
    schemes = spec["components"]["securitySchemes"]
    assert schemes["token"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["session"]["in"] == "cookie"
    assert schemes["session"]["name"] == "session"  # the app's SESSION_COOKIE_NAME
    assert schemes["key"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "Ask us for one.",
    }
    assert spec["paths"]["/upload"]["post"]["security"] == [{"key": []}]
    assert spec["paths"]["/tags/"]["get"]["security"] == []  # @security(): public
    assert "security" not in spec["paths"]["/tags/"]["post"]  # the API's default


def test_session_cookie_name_from_config(app):
    app.config["SESSION_COOKIE_NAME"] = "sid"
    spec = OpenAPI(app, security_schemes={"s": session_cookie()}).spec(app)
    assert spec["components"]["securitySchemes"]["s"]["name"] == "sid"
    named = session_cookie("other")
    assert named["name"] == "other"
    assert bearer_auth(description="A token.") == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token.",
    }
    assert api_key("key", "query") == {"type": "apiKey", "in": "query", "name": "key"}


def test_undeclared_security_names_fail(app):
    with pytest.raises(ValueError, match="not declared"):
        OpenAPI(app, security=["nope"])

    @app.get("/x")
    @security("nope")
    def x():
        return ""

    with pytest.raises(ValueError, match="'x' names security schemes that are not declared"):
        OpenAPI(app).spec(app)
    with pytest.raises(ValueError, match="location must be"):
        api_key("k", "body")


def test_no_components_without_models(app):
    @app.get("/")
    def index():
        return "hi"

    spec = OpenAPI(app).spec(app)
    assert "components" not in spec and "security" not in spec and "tags" not in spec
    assert spec["info"] == {"title": app.name, "version": "0.1.0"}
    openapi_spec_validator.validate(spec)


def test_websocket_and_redirect_rules_are_left_out(app):
    @app.websocket("/ws")
    async def ws():
        pass

    app.add_url_rule("/moved", "moved", lambda: "", redirect_to="/")
    app.add_url_rule("/built", "built", lambda: "", build_only=True)
    spec = OpenAPI(app).spec(app)
    assert spec["paths"] == {}


def test_build_spec_takes_endpoints_to_hide(app):
    @app.get("/a")
    def a():
        return ""

    spec = build_spec(app, info={"title": "t", "version": "1"}, hide={"a"})
    assert spec["paths"] == {}


# -- served and on the command line ----------------------------------------------


def test_served_at_openapi_json(app, client):
    api = _full_app(app)
    rv = client.get("/openapi.json")
    assert rv.status_code == 200
    assert rv.content_type == "application/json"
    assert rv.get_json() == json.loads(json.dumps(api.spec(app)))
    assert client.get("/openapi.json").data == rv.data


def test_built_once(app, client, monkeypatch):
    import erlen.openapi

    calls = []
    real = erlen.openapi.build_spec
    monkeypatch.setattr(
        erlen.openapi, "build_spec", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    OpenAPI(app)
    for _ in range(3):
        assert client.get("/openapi.json").status_code == 200
    assert calls == [1]


def test_configurable_url(app, client):
    app.config["OPENAPI_URL"] = "/api/spec.json"
    OpenAPI(app)
    assert client.get("/api/spec.json").status_code == 200
    assert client.get("/openapi.json").status_code == 404


def test_url_none_serves_nothing(app, client):
    app.config["OPENAPI_URL"] = None
    api = OpenAPI(app)
    assert client.get("/openapi.json").status_code == 404
    assert "openapi_spec" not in app.view_functions
    # No spec to read, so no reference page either.
    assert client.get("/docs").status_code == 404
    assert api.spec(app)["paths"] == {}


def test_init_app_in_a_factory():
    api = OpenAPI(title="Factory")

    def create_app():
        app = Erlen("factory")
        api.init_app(app)
        return app

    first, second = create_app(), create_app()
    assert first.test_client().get("/openapi.json").get_json()["info"]["title"] == "Factory"
    assert api.spec(second) is not api.spec(first)


def test_cli_command_prints_the_spec(app):
    api = _full_app(app)
    result = app.test_cli_runner().invoke(args=["openapi"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(json.dumps(api.spec(app)))


def test_erlen_openapi_from_the_shell(tmp_path: Path):
    (tmp_path / "api.py").write_text(
        textwrap.dedent(
            """
            from pydantic import BaseModel
            from erlen import Erlen
            from erlen.openapi import OpenAPI
            from erlen.typed import input

            class Item(BaseModel):
                name: str

            app = Erlen(__name__)
            OpenAPI(app, title="Shell")

            @app.post("/items")
            @input(Item)
            def add(body):
                return "ok"
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERLEN_")}
    result = subprocess.run(
        [sys.executable, "-m", "erlen", "--app", "api", "openapi"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    spec = json.loads(result.stdout)
    assert spec["info"]["title"] == "Shell"
    assert "/items" in spec["paths"]
    openapi_spec_validator.validate(spec)


# -- the reference page --------------------------------------------------------


def test_reference_page(app, client):
    OpenAPI(app, title="<Tags>")
    rv = client.get("/docs")
    assert rv.status_code == 200
    assert rv.mimetype == "text/html"
    page = rv.get_data(as_text=True)
    assert "<title>&lt;Tags&gt; – API reference</title>" in page
    assert 'data-spec-url="/openapi.json"' in page
    # Every file the page loads is the app's own: nothing from another host.
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sorted(urls) == ["/docs/init.js", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"]
    for url, mimetype in zip(
        sorted(urls), ["text/javascript", "text/javascript", "text/css"], strict=True
    ):
        asset = client.get(url)
        assert asset.status_code == 200
        assert asset.mimetype == mimetype
        assert asset.headers["Cache-Control"] == "public, max-age=86400"
    assert b"SwaggerUIBundle" in client.get("/docs/init.js").data


def test_reference_page_under_a_mount_point(app, client):
    OpenAPI(app)
    page = client.get(
        "/docs", environ_overrides={"SCRIPT_NAME": "/api"}, base_url="http://localhost/api/"
    )
    assert 'data-spec-url="/api/openapi.json"' in page.get_data(as_text=True)


@pytest.mark.parametrize("name", ["LICENSE", "VERSION", "..", "../__init__.py", "swagger-ui"])
def test_reference_page_serves_only_its_files(app, client, name):
    OpenAPI(app)
    assert client.get(f"/docs/{name}").status_code == 404


def test_reference_page_url_configurable_or_off(app, client):
    app.config["OPENAPI_DOCS_URL"] = "/reference/"
    OpenAPI(app)
    assert client.get("/reference/").status_code == 200
    assert client.get("/reference/init.js").status_code == 200
    assert client.get("/docs").status_code == 404
    other = Erlen("other")
    other.config["OPENAPI_DOCS_URL"] = None
    OpenAPI(other)
    assert other.test_client().get("/docs").status_code == 404
    assert "openapi_docs" not in other.view_functions


def test_reference_page_needs_the_spec_url():
    app = Erlen("no_spec")
    app.config.update(OPENAPI_URL=None, OPENAPI_DOCS_URL="/docs")
    with pytest.raises(ValueError, match="OPENAPI_DOCS_URL needs OPENAPI_URL"):
        OpenAPI(app)


def test_vendored_swagger_ui_is_the_pinned_release():
    script = _vendor_script()
    folder = ROOT / "src" / "erlen" / "openapi" / "ui" / "swagger-ui"
    assert (
        folder / "VERSION"
    ).read_text() == f"swagger-ui-dist {script.VERSION}\n{script.INTEGRITY}\n"
    for name in script.FILES:
        assert (folder / name).stat().st_size > 0


def test_class_based_views_declare_per_method(app, client):
    from erlen.views import MethodView

    class TagAPI(MethodView):
        """Tags."""

        @output(list[TagOut])
        def get(self):
            return [{"id": 1, "name": "a", "secret": "s"}]

        @input(TagIn)
        @output(TagOut, status=201)
        def post(self, body: TagIn):
            """Create a tag."""
            return {"id": 2, "name": body.name}

        def delete(self):
            return "", 204

    app.add_url_rule("/tags", view_func=TagAPI.as_view("tag_api"))
    api = OpenAPI(app)
    assert client.get("/tags").get_json() == [{"id": 1, "name": "a"}]
    assert client.post("/tags", json={"name": "b"}).status_code == 201
    assert client.post("/tags", json={"name": ""}).status_code == 422
    spec = api.spec(app)
    openapi_spec_validator.validate(spec)
    ops = spec["paths"]["/tags"]
    assert ops["post"]["summary"] == "Create a tag."
    assert "requestBody" in ops["post"] and sorted(ops["post"]["responses"]) == [
        "201",
        "400",
        "415",
        "422",
    ]
    assert ops["get"]["summary"] == "Tags."  # the class's docstring
    assert (
        ops["get"]["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
    )
    assert ops["delete"]["responses"] == {"200": {"description": "Successful response"}}


def _vendor_script():
    spec = importlib.util.spec_from_file_location(
        "vendor_swagger_ui_run", ROOT / "scripts" / "vendor_swagger_ui.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_vendor_script_checks_and_writes_the_files(tmp_path, monkeypatch, capsys):
    import io
    import tarfile

    script = _vendor_script()
    contents = {name: f"/* {name} */\n".encode() for name in script.FILES}
    contents["swagger-ui-bundle.js"] = b"var a=1;\n//# sourceMappingURL=swagger-ui-bundle.js.map\n"
    tarball = io.BytesIO()
    with tarfile.open(fileobj=tarball, mode="w:gz") as tar:
        for name, data in contents.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = tarball.getvalue()

    def fake_npm(cmd, **kwargs):
        # What `npm pack` does: the package's tarball into --pack-destination.
        assert cmd[:3] == ["npm", "pack", f"swagger-ui-dist@{script.VERSION}"]
        Path(cmd[cmd.index("--pack-destination") + 1], "swagger-ui-dist.tgz").write_bytes(data)

    monkeypatch.setattr(script.subprocess, "run", fake_npm)
    monkeypatch.setattr(script, "TARGET", tmp_path / "ui")
    # A tarball that is not the pinned one is refused, and nothing is written.
    assert script.main() == 1
    assert not (tmp_path / "ui").exists()
    assert "does not match the pinned integrity" in capsys.readouterr().err

    monkeypatch.setattr(script, "INTEGRITY", script._integrity(data))
    assert script.main() == 0
    written = {p.name: p.read_bytes() for p in (tmp_path / "ui").iterdir()}
    assert set(written) == {*script.FILES, "VERSION"}
    # The source map is not shipped, so the comment naming it goes.
    assert written["swagger-ui-bundle.js"] == b"var a=1;\n"
    assert written["swagger-ui.css"] == b"/* swagger-ui.css */\n"
    assert written["VERSION"].decode().startswith(f"swagger-ui-dist {script.VERSION}\n")


# -- msgspec Structs, dataclasses and TypedDicts ---------------------------------


def test_msgspec_and_dataclass_models_in_the_spec(app):
    msgspec = pytest.importorskip("msgspec")
    from test_typed_models import BookmarkIn, BookmarkOut, DataQuery, Meta, PageQuery, TypedQuery

    class Shared(BaseModel):
        id: int

    @app.post("/m")
    @input(BookmarkIn)
    @input(Meta, "headers")
    @output(BookmarkOut, status=201)
    @output(Shared, status=200)
    def make(body, headers):
        return ""

    @app.get("/m")
    @input(PageQuery, "query")
    @output(list[BookmarkOut])
    def listing(query):
        return []

    @app.get("/dc")
    @input(DataQuery, "query")
    def dc(query):
        return ""

    @app.get("/td")
    @input(TypedQuery, "query")
    def td(query):
        return ""

    spec = OpenAPI(app).spec(app)
    openapi_spec_validator.validate(spec)
    schemas = spec["components"]["schemas"]
    # msgspec's components and pydantic's side by side, refs pointing into components.
    assert {"BookmarkIn", "BookmarkOut", "Meta", "PageQuery", "Shared", "ProblemDetails"} <= set(
        schemas
    )
    assert schemas["BookmarkIn"]["properties"]["title"]["maxLength"] == 20
    post = spec["paths"]["/m"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BookmarkIn"
    }
    ok = post["responses"]["201"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/BookmarkOut"}
    headers = {p["name"]: p for p in post["parameters"]}
    assert set(headers) == {"x-request-id", "accept-language", "X-Api-Key"}
    assert headers["x-request-id"]["required"] is True
    assert headers["accept-language"]["schema"]["type"] == "array"
    listed = spec["paths"]["/m"]["get"]
    assert listed["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/BookmarkOut"},
    }
    query = {p["name"]: p for p in listed["parameters"]}
    assert query["tag"]["schema"]["type"] == "array"
    assert query["page"]["schema"] == {"type": "integer", "default": 1}
    for path in ("/dc", "/td"):
        params = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert params["tag"]["schema"]["type"] == "array", path
        assert params["page"]["schema"]["type"] == "integer", path
    assert msgspec.json.decode(json.dumps(spec)) == spec


# -- error responses ---------------------------------------------------------------


def test_declared_errors_have_a_problem_details_body(app):
    class Taken(BaseModel):
        existing_id: int

    @app.get("/a/<int:id>")
    @output(Taken, status=409, description="Taken")
    @doc(responses={302: "Moved", 401: None, 404: "No such item", 409: "Ignored", 503: "Later"})
    def a(id: int):
        return ""

    spec = OpenAPI(app).spec(app)
    openapi_spec_validator.validate(spec)
    responses = spec["paths"]["/a/{id}"]["get"]["responses"]
    problem = {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
    }
    # A redirect has no body; an error has problem details; None is the reason phrase.
    assert responses["302"] == {"description": "Moved"}
    assert responses["401"] == {"description": "Unauthorized", "content": problem}
    assert responses["404"] == {"description": "No such item", "content": problem}
    assert responses["503"] == {"description": "Later", "content": problem}
    # An @output for the status documents its own body instead.
    assert responses["409"]["description"] == "Taken"
    assert responses["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Taken"
    }
    # No input on the view: the schema is there for the declared errors alone.
    assert spec["components"]["schemas"]["ProblemDetails"]["title"] == "ProblemDetails"


def test_no_problem_schema_without_errors(app):
    @app.get("/r")
    @doc(responses={302: "Moved"})
    def r():
        return ""

    assert "components" not in OpenAPI(app).spec(app)
