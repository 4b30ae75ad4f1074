"""erlen.compat: flask and werkzeug names resolving to Erlen's objects.

The root suite has the real Flask and Werkzeug installed (as peers for the
benchmarks), and other test modules may have imported them. The ``compat``
fixture takes every ``flask*``/``werkzeug*`` entry out of ``sys.modules``,
installs the compat layer, and afterwards removes the shims and puts the
real modules back, so the tests here see only Erlen and the other test
files are unaffected. What needs a fresh interpreter runs in a subprocess.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
import types
import typing as t
from pathlib import Path

import pytest

import erlen
import erlen.compat
from erlen import Erlen

ROOTS = ("flask", "werkzeug")


def _ours(name: str) -> bool:
    return name.partition(".")[0] in ROOTS


@pytest.fixture
def clean_modules() -> t.Iterator[None]:
    """Hide the real flask/werkzeug modules; restore them and drop any shim afterwards."""
    saved = {name: mod for name, mod in sys.modules.items() if _ours(name)}
    for name in saved:
        del sys.modules[name]
    try:
        yield
    finally:
        erlen.compat.uninstall()
        for name in [n for n in sys.modules if _ours(n)]:
            del sys.modules[name]
        sys.modules.update(saved)


@pytest.fixture
def compat(clean_modules: None) -> None:
    erlen.compat.install()


def _get(dotted: str) -> t.Any:
    module, _, attr = dotted.rpartition(":")
    return getattr(importlib.import_module(module), attr)


FLASK_NAMES = [
    ("flask:Flask", "erlen.app:Erlen"),
    ("flask:request", "erlen:request"),
    ("flask:current_app", "erlen:current_app"),
    ("flask:g", "erlen:g"),
    ("flask:session", "erlen:session"),
    ("flask:Blueprint", "erlen:Blueprint"),
    ("flask:Response", "erlen:Response"),
    ("flask:Request", "erlen:Request"),
    ("flask:jsonify", "erlen:jsonify"),
    ("flask:url_for", "erlen:url_for"),
    ("flask:abort", "erlen:abort"),
    ("flask:render_template", "erlen.templating:render_template"),
    ("flask:request_started", "erlen.signals:request_started"),
    ("flask:template_rendered", "erlen.signals:template_rendered"),
    ("flask.app:Flask", "erlen.app:Erlen"),
    ("flask.sansio.app:App", "erlen.app:Erlen"),
    ("flask.sansio.scaffold:Scaffold", "erlen.scaffold:Scaffold"),
    ("flask.sansio.scaffold:setupmethod", "erlen.scaffold:setupmethod"),
    ("flask.sansio.blueprints:BlueprintSetupState", "erlen.blueprints:BlueprintSetupState"),
    ("flask.blueprints:Blueprint", "erlen.blueprints:Blueprint"),
    ("flask.config:Config", "erlen.config:Config"),
    ("flask.config:ConfigAttribute", "erlen.config:ConfigAttribute"),
    ("flask.ctx:AppContext", "erlen.ctx:AppContext"),
    ("flask.ctx:RequestContext", "erlen.ctx:RequestContext"),
    ("flask.ctx:_AppCtxGlobals", "erlen.ctx:_AppCtxGlobals"),
    ("flask.ctx:after_this_request", "erlen.ctx:after_this_request"),
    ("flask.globals:app_ctx", "erlen.globals:app_ctx"),
    ("flask.globals:request_ctx", "erlen.globals:request_ctx"),
    ("flask.helpers:get_root_path", "erlen._utils:get_root_path"),
    ("flask.helpers:flash", "erlen.helpers:flash"),
    ("flask.helpers:send_file", "erlen.helpers:send_file"),
    ("flask.helpers:get_debug_flag", "erlen.compat._glue:get_debug_flag"),
    ("flask.json:dumps", "erlen.compat._glue:json_dumps"),
    ("flask.json.provider:DefaultJSONProvider", "erlen.json:DefaultJSONProvider"),
    ("flask.json.provider:JSONProvider", "erlen.json:JSONProvider"),
    ("flask.json.tag:TaggedJSONSerializer", "erlen.json.tag:TaggedJSONSerializer"),
    ("flask.logging:default_handler", "erlen.logging:default_handler"),
    ("flask.logging:has_level_handler", "erlen.logging:has_level_handler"),
    ("flask.sessions:SecureCookieSessionInterface", "erlen.sessions:SecureCookieSessionInterface"),
    ("flask.sessions:SessionInterface", "erlen.sessions:SessionInterface"),
    ("flask.signals:Namespace", "blinker:Namespace"),
    ("flask.signals:message_flashed", "erlen.signals:message_flashed"),
    ("flask.templating:Environment", "erlen.templating:Environment"),
    ("flask.testing:FlaskClient", "erlen.testing:ErlenClient"),
    ("flask.testing:FlaskCliRunner", "erlen.testing:ErlenCliRunner"),
    ("flask.testing:EnvironBuilder", "erlen.testing:EnvironBuilder"),
    ("flask.cli:FlaskGroup", "erlen.cli:ErlenGroup"),
    ("flask.cli:ScriptInfo", "erlen.cli:ScriptInfo"),
    ("flask.cli:with_appcontext", "erlen.cli:with_appcontext"),
    ("flask.views:MethodView", "erlen.views:MethodView"),
    ("flask.views:View", "erlen.views:View"),
    ("flask.wrappers:Response", "erlen.wrappers:Response"),
    ("flask.typing:ResponseReturnValue", "erlen.compat.typing:ResponseReturnValue"),
]

WERKZEUG_NAMES = [
    ("werkzeug.exceptions:NotFound", "erlen.exceptions:NotFound"),
    ("werkzeug.exceptions:HTTPException", "erlen.exceptions:HTTPException"),
    ("werkzeug.exceptions:abort", "erlen.exceptions:abort"),
    ("werkzeug.routing:Map", "erlen.routing:Map"),
    ("werkzeug.routing:Rule", "erlen.routing:Rule"),
    ("werkzeug.routing:BaseConverter", "erlen.routing:BaseConverter"),
    ("werkzeug.routing:ValidationError", "erlen.routing:ValidationError"),
    ("werkzeug.routing:BuildError", "erlen.exceptions:BuildError"),
    ("werkzeug.routing:RequestRedirect", "erlen.exceptions:RequestRedirect"),
    ("werkzeug.datastructures:MultiDict", "erlen.datastructures:MultiDict"),
    ("werkzeug.datastructures:ImmutableMultiDict", "erlen.datastructures:ImmutableMultiDict"),
    ("werkzeug.datastructures:CombinedMultiDict", "erlen.datastructures:CombinedMultiDict"),
    ("werkzeug.datastructures:Headers", "erlen.datastructures:Headers"),
    ("werkzeug.datastructures:CallbackDict", "erlen.datastructures:CallbackDict"),
    ("werkzeug.datastructures:FileStorage", "erlen.formparser:FileStorage"),
    ("werkzeug.local:LocalProxy", "erlen.globals:LocalProxy"),
    ("werkzeug.utils:secure_filename", "erlen.helpers:secure_filename"),
    ("werkzeug.utils:redirect", "erlen.helpers:redirect"),
    ("werkzeug.utils:cached_property", "erlen.compat.utils:cached_property"),
    ("werkzeug.utils:import_string", "erlen.compat.utils:import_string"),
    ("werkzeug.utils:send_file", "erlen.helpers:send_file"),
    ("werkzeug.security:generate_password_hash", "erlen.security:generate_password_hash"),
    ("werkzeug.security:check_password_hash", "erlen.security:check_password_hash"),
    ("werkzeug.wrappers:Request", "erlen.wrappers:Request"),
    ("werkzeug.wrappers:Response", "erlen.wrappers:Response"),
    ("werkzeug.wrappers.response:Response", "erlen.wrappers:Response"),
    ("werkzeug.http:parse_options_header", "erlen.http:parse_options_header"),
    ("werkzeug.http:dump_header", "erlen.http:dump_header"),
    ("werkzeug.http:http_date", "erlen.http:http_date"),
    ("werkzeug.http:HTTP_STATUS_CODES", "erlen.http:HTTP_STATUS_CODES"),
    ("werkzeug.urls:url_quote", "erlen.http:url_quote"),
    ("werkzeug.urls:iri_to_uri", "erlen.http:iri_to_uri"),
    ("werkzeug.middleware.proxy_fix:ProxyFix", "erlen.compat.proxy_fix:ProxyFix"),
    ("werkzeug.test:Client", "erlen.testing:ErlenClient"),
    ("werkzeug.serving:run_simple", "erlen.serving:run_simple"),
    ("werkzeug.wsgi:ClosingIterator", "erlen.compat.wsgi:ClosingIterator"),
]


@pytest.mark.usefixtures("compat")
@pytest.mark.parametrize(("shim", "real"), FLASK_NAMES + WERKZEUG_NAMES, ids=lambda v: v)
def test_names_are_erlens_objects(shim: str, real: str) -> None:
    assert _get(shim) is _get(real)


@pytest.mark.usefixtures("compat")
def test_flask_json_dumps_is_spaced_as_flasks(app: Erlen) -> None:
    # Flask's default provider, called without options, writes json.dumps's
    # default separators; Flask-Admin's tests compare that text in its pages'
    # data-json attributes. Erlen's own app.json.dumps stays compact.
    import io

    from flask import json

    assert json.dumps([1, "a"]) == '[1, "a"]'  # no app: the standard library
    with app.app_context():
        assert json.dumps({"b": [1, "é"], "a": None}) == '{"a": null, "b": [1, "\\u00e9"]}'
        assert json.dumps([1], indent=2) == "[\n  1\n]"
        assert json.dumps([1, 2], separators=(",", ":")) == "[1,2]"
        assert app.json.dumps([1, "a"]) == '[1,"a"]'
        out = io.StringIO()
        json.dump({"a": 1}, out)
        assert out.getvalue() == '{"a": 1}'

        class Custom(erlen.json.DefaultJSONProvider):
            def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
                return f"custom {kwargs}"

        app.json = Custom(app)
        assert json.dumps([1]) == "custom {}"  # another provider is called as is


@pytest.mark.usefixtures("compat")
def test_from_import_and_attribute_access() -> None:
    import flask
    from flask import Flask, json, request
    from flask.globals import app_ctx

    assert Flask is Erlen
    assert request is erlen.request
    assert app_ctx is erlen.globals.app_ctx
    # Submodules are attributes of their package, imported on first access.
    assert flask.json is json
    assert flask.json.provider.DefaultJSONProvider is erlen.json.DefaultJSONProvider
    assert json.loads(json.dumps({"a": [1]})) == {"a": [1]}
    assert flask.__version__ == "3.1.3"
    # A resolved name is cached on the module.
    assert "Flask" in vars(flask)


@pytest.mark.usefixtures("compat")
def test_dir_lists_provided_names() -> None:
    import flask
    import werkzeug.utils

    assert {"Flask", "request", "jsonify", "Blueprint"} <= set(dir(flask))
    assert "secure_filename" in dir(werkzeug.utils)


@pytest.mark.usefixtures("compat")
@pytest.mark.parametrize(
    ("statement", "missing"),
    [
        ("from flask import no_such_name", "flask.no_such_name"),
        ("from flask.globals import _request_ctx_stack", "flask.globals._request_ctx_stack"),
        ("from werkzeug.utils import no_such_name", "werkzeug.utils.no_such_name"),
        ("import werkzeug.testapp", "werkzeug.testapp"),
        (
            "from flask.debughelpers import explain_template_loading_attempts",
            "flask.debughelpers.explain_template_loading_attempts",
        ),
        (
            "from werkzeug.middleware.http_proxy import ProxyMiddleware",
            "werkzeug.middleware.http_proxy",
        ),
    ],
)
def test_missing_names_raise_a_clear_import_error(statement: str, missing: str) -> None:
    with pytest.raises(ImportError) as exc_info:
        exec(statement, {})
    assert isinstance(exc_info.value, erlen.compat.CompatImportError)
    message = str(exc_info.value)
    assert "Erlen's compat layer" in message
    assert f"'{missing}'" in message
    # A failed import leaves no half-made module behind.
    assert missing not in sys.modules


@pytest.mark.usefixtures("compat")
def test_a_missing_module_imported_as_a_module_is_a_module_not_found_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As with the real Werkzeug, which has no werkzeug.contrib since 1.0:
    # apps fall back on ModuleNotFoundError (buku's bukuserver does).
    with pytest.raises(ModuleNotFoundError) as exc_info:
        exec("from werkzeug.contrib.fixers import ProxyFix", {})
    assert isinstance(exc_info.value, erlen.compat.CompatModuleNotFoundError)
    assert exc_info.value.name == "werkzeug.contrib"
    assert "Erlen's compat layer" in str(exc_info.value)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("werkzeug.contrib")
    # Asked for as a name (`from x import name`), it stays a plain import
    # error that explains itself, as for any missing name.
    with pytest.raises(ImportError) as exc_info:
        exec("from werkzeug import contrib", {})
    assert not isinstance(exc_info.value, ModuleNotFoundError)
    assert "Erlen's compat layer" in str(exc_info.value)
    # A module imported as a name, whose own code imports the missing module,
    # still gets the ModuleNotFoundError to fall back on.
    package = tmp_path / "compat_fallback_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "fixers.py").write_text(
        "try:\n"
        "    from werkzeug.contrib.fixers import ProxyFix\n"
        "except ModuleNotFoundError:\n"
        "    from werkzeug.middleware.proxy_fix import ProxyFix\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        namespace: dict[str, t.Any] = {}
        exec("from compat_fallback_pkg import fixers", namespace)
        assert namespace["fixers"].ProxyFix is _get("erlen.compat.proxy_fix:ProxyFix")
    finally:
        for name in ("compat_fallback_pkg", "compat_fallback_pkg.fixers"):
            sys.modules.pop(name, None)


@pytest.mark.usefixtures("compat")
def test_missing_attribute_is_an_attribute_error() -> None:
    import flask

    # hasattr/getattr with a default work as on any module: extensions probe
    # for names of older Flask versions this way.
    assert not hasattr(flask, "_app_ctx_stack")
    assert getattr(flask, "nope", 42) == 42
    with pytest.raises(AttributeError, match=r"Erlen's compat layer.*'flask.nope'"):
        flask.nope  # noqa: B018


@pytest.mark.usefixtures("compat")
def test_isinstance_holds_across_flask_werkzeug_and_erlen() -> None:
    from flask import Flask, jsonify
    from werkzeug.exceptions import HTTPException, NotFound
    from werkzeug.wrappers import Response

    app = Flask(__name__)

    @app.route("/")
    def index() -> t.Any:
        rv = jsonify(ok=True)
        assert isinstance(rv, Response)
        return rv

    @app.route("/missing")
    def missing() -> t.Any:
        raise NotFound()

    @app.errorhandler(404)
    def not_found(e: HTTPException) -> t.Any:
        assert isinstance(e, erlen.exceptions.NotFound)
        return "custom 404", 404

    client = app.test_client()
    rv = client.get("/")
    assert isinstance(rv, Response) and isinstance(rv, erlen.Response)
    assert rv.json == {"ok": True}
    rv = client.get("/missing")
    assert (rv.status_code, rv.data) == (404, b"custom 404")


@pytest.mark.usefixtures("compat")
def test_a_typical_flask_app_runs_unchanged() -> None:
    from flask import (
        Blueprint,
        Flask,
        flash,
        get_flashed_messages,
        redirect,
        render_template_string,
        session,
        url_for,
    )
    from flask.views import MethodView

    app = Flask(__name__)
    app.config.update(SECRET_KEY="dev", TESTING=True)
    bp = Blueprint("items", __name__, url_prefix="/items")
    store: dict[int, str] = {}

    class ItemAPI(MethodView):
        def get(self, item_id: int) -> t.Any:
            return {"id": item_id, "name": store[item_id]}

        def put(self, item_id: int) -> t.Any:
            from flask import request

            store[item_id] = request.get_json()["name"]
            flash(f"saved {item_id}")
            return redirect(url_for("items.item", item_id=item_id))

    bp.add_url_rule("/<int:item_id>", view_func=ItemAPI.as_view("item"))
    app.register_blueprint(bp)

    @app.route("/flashes")
    def flashes() -> str:
        session["seen"] = True
        return render_template_string("{{ msgs|join(',') }}", msgs=get_flashed_messages())

    seen: list[str] = []
    app.extensions["demo"] = seen
    app.before_request_funcs.setdefault(None, []).append(lambda: seen.append("before") and None)

    client = app.test_client()
    rv = client.put("/items/3", json={"name": "kettle"})
    assert rv.status_code == 302 and rv.headers["Location"] == "/items/3"
    assert client.get("/items/3").json == {"id": 3, "name": "kettle"}
    assert client.get("/flashes").data == b"saved 3"
    with client.session_transaction() as sess:
        assert sess["seen"] is True
    assert seen == ["before"] * 3


@pytest.mark.usefixtures("compat")
def test_url_build_error_handlers_run() -> None:
    from flask import Flask, url_for

    app = Flask(__name__)
    app.url_build_error_handlers.append(lambda error, endpoint, values: f"/fallback/{endpoint}")
    with app.test_request_context():
        assert url_for("nowhere") == "/fallback/nowhere"


@pytest.mark.usefixtures("compat")
def test_flask_wrappers_base_classes_are_werkzeugs() -> None:
    # Flask-Classful checks a view's return value with
    # isinstance(rv, flask.wrappers.ResponseBase).
    from flask import Flask, Request, Response, make_response
    from flask.wrappers import RequestBase, ResponseBase
    from werkzeug.wrappers import Request as WRequest
    from werkzeug.wrappers import Response as WResponse

    assert ResponseBase is WResponse and RequestBase is WRequest
    assert issubclass(Response, ResponseBase) and issubclass(Request, RequestBase)
    app = Flask(__name__)
    with app.test_request_context():
        assert isinstance(make_response("hi"), ResponseBase)
        assert not isinstance("hi", ResponseBase)


@pytest.mark.usefixtures("compat")
def test_werkzeug_tbtools_is_a_module_without_names() -> None:
    # Dash imports the module and asks hasattr() for get_current_traceback /
    # DebugTraceback, falling back on the plain traceback: the module is
    # there, its names (Werkzeug's debugger insides) are not.
    from werkzeug.debug import tbtools

    assert not hasattr(tbtools, "DebugTraceback")
    assert not hasattr(tbtools, "get_current_traceback")
    with pytest.raises(ImportError, match="werkzeug.debug.tbtools.DebugTraceback"):
        exec("from werkzeug.debug.tbtools import DebugTraceback", {})


@pytest.mark.usefixtures("compat")
def test_context_variable_views() -> None:
    from flask import Flask
    from flask.globals import _cv_app, _cv_request

    app = Flask(__name__)
    assert _cv_app.get(None) is None
    with pytest.raises(LookupError):
        _cv_request.get()
    with app.app_context() as ctx:
        assert _cv_app.get() is ctx
        assert _cv_request.get(None) is None
    with app.test_request_context() as ctx:
        assert _cv_app.get() is ctx
        assert _cv_request.get() is ctx
        assert _cv_request.get().request.path == "/"
    assert "flask.app_ctx" in repr(_cv_app)


@pytest.mark.usefixtures("compat")
def test_werkzeug_test_takes_the_path_first() -> None:
    from werkzeug.test import EnvironBuilder, create_environ

    environ = EnvironBuilder("/x", query_string="a=1", method="POST").get_environ()
    assert (environ["PATH_INFO"], environ["QUERY_STRING"], environ["REQUEST_METHOD"]) == (
        "/x",
        "a=1",
        "POST",
    )
    assert isinstance(EnvironBuilder("/"), erlen.testing.EnvironBuilder)
    assert create_environ("/y?b=2")["QUERY_STRING"] == "b=2"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"FLASK_SKIP_DOTENV": "1"}, False),
        ({"ERLEN_SKIP_DOTENV": "0"}, True),
        ({"ERLEN_SKIP_DOTENV": "yes", "FLASK_SKIP_DOTENV": "0"}, False),
    ],
)
def test_get_load_dotenv(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], expected: bool | None
) -> None:
    from erlen.compat._glue import get_load_dotenv

    monkeypatch.delenv("ERLEN_SKIP_DOTENV", raising=False)
    monkeypatch.delenv("FLASK_SKIP_DOTENV", raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    if expected is None:
        assert get_load_dotenv() is True and get_load_dotenv(False) is False
    else:
        assert get_load_dotenv() is expected


@pytest.fixture
def cli_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> t.Iterator[Path]:
    """An empty current folder and an environment restored whole afterwards (dotenv files write to it)."""
    pytest.importorskip("dotenv")
    saved = dict(os.environ)
    for name in ("ERLEN_APP", "FLASK_APP", "ERLEN_SKIP_DOTENV", "FLASK_SKIP_DOTENV"):
        os.environ.pop(name, None)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    os.environ.clear()
    os.environ.update(saved)


def _write_env_files(folder: Path) -> None:
    (folder / ".flaskenv").write_text("ERLEN_TEST_A=flaskenv\nERLEN_TEST_B=flaskenv\n")
    (folder / ".env").write_text("ERLEN_TEST_B=env\n")
    (folder / ".erlenenv").write_text("ERLEN_TEST_C=erlenenv\n")


@pytest.mark.usefixtures("compat")
def test_cli_reads_flasks_dotenv_files(cli_environ: Path) -> None:
    from flask.cli import load_dotenv

    _write_env_files(cli_environ)
    assert load_dotenv() is True
    assert os.environ["ERLEN_TEST_A"] == "flaskenv"
    assert os.environ["ERLEN_TEST_B"] == "env"  # .env wins over .flaskenv, as in Flask
    assert "ERLEN_TEST_C" not in os.environ


def test_cli_reads_erlens_dotenv_files_without_compat(
    clean_modules: None, cli_environ: Path
) -> None:
    from erlen.cli import load_dotenv

    _write_env_files(cli_environ)
    assert load_dotenv() is True
    assert os.environ["ERLEN_TEST_C"] == "erlenenv"
    assert os.environ["ERLEN_TEST_B"] == "env"
    assert "ERLEN_TEST_A" not in os.environ


@pytest.mark.usefixtures("compat")
@pytest.mark.parametrize(("skip", "loaded"), [("1", False), ("0", True)])
def test_cli_skips_dotenv_files_with_flasks_variable(
    cli_environ: Path, skip: str, loaded: bool
) -> None:
    from click.testing import CliRunner
    from flask.cli import FlaskGroup

    _write_env_files(cli_environ)
    os.environ["FLASK_SKIP_DOTENV"] = skip
    # No arguments: the help, after the env files (an explicit --help comes before them).
    CliRunner().invoke(FlaskGroup())
    assert ("ERLEN_TEST_A" in os.environ) is loaded


@pytest.mark.usefixtures("compat")
def test_cli_names_and_reads_flask_app(cli_environ: Path) -> None:
    from click.testing import CliRunner
    from flask.cli import FlaskGroup

    result = CliRunner().invoke(FlaskGroup(), ["missing"])
    assert result.exit_code == 2
    assert "'--app' or FLASK_APP" in result.stderr
    assert "ERLEN_APP" not in result.stderr
    # The help says where to name the app, as Flask's does (natively it is only the help).
    result = CliRunner().invoke(FlaskGroup(), ["--help"])
    assert result.exit_code == 0 and "Usage:" in result.stdout
    assert "'--app' or FLASK_APP" in result.stderr

    (cli_environ / "compat_cli_hello.py").write_text(
        "import click\nfrom flask import Flask\napp = Flask(__name__)\n\n"
        "@app.cli.command()\ndef greet():\n    click.echo('hi from ' + app.name)\n"
    )
    os.environ["FLASK_APP"] = "compat_cli_hello"
    try:
        result = CliRunner().invoke(FlaskGroup(), ["greet"])
        assert result.exit_code == 0, result.output
        assert result.stdout == "hi from compat_cli_hello\n"
    finally:
        sys.modules.pop("compat_cli_hello", None)


def test_install_is_idempotent_and_uninstall_restores(clean_modules: None) -> None:
    assert not erlen.compat.is_installed()
    hooks = len(sys.meta_path)
    erlen.compat.install()
    erlen.compat.install()
    assert erlen.compat.is_installed()
    assert len(sys.meta_path) == hooks + 1
    import flask

    assert flask.Flask is Erlen
    erlen.compat.uninstall()
    erlen.compat.uninstall()
    assert not erlen.compat.is_installed()
    assert len(sys.meta_path) == hooks
    assert "flask" not in sys.modules


def test_other_top_level_imports_pass_through(compat: None) -> None:
    # The hook answers only for flask and werkzeug.
    import json

    assert json.dumps([1]) == "[1]"
    assert "flask_sqlalchemy_not_there" not in sys.modules
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("flaskx_not_installed")


@pytest.mark.parametrize("root", ["flask", "werkzeug"])
def test_install_after_the_real_one_was_imported_is_refused(clean_modules: None, root: str) -> None:
    sys.modules[root] = types.ModuleType(root)
    with pytest.raises(RuntimeError, match=rf"before '{root}' is imported.*--erlen-compat"):
        erlen.compat.install()
    assert not erlen.compat.is_installed()


def test_werkzeug_false_leaves_werkzeug_alone(clean_modules: None) -> None:
    sys.modules["werkzeug"] = real = types.ModuleType("werkzeug")
    erlen.compat.install(werkzeug=False)
    import flask
    import werkzeug

    assert werkzeug is real
    assert flask.Flask is Erlen


# -- ProxyFix -------------------------------------------------------------------


def _seen_by_app(proxy_fix_kwargs: dict[str, int], headers: dict[str, str]) -> dict[str, t.Any]:
    from erlen.compat.proxy_fix import ProxyFix
    from erlen.testing import EnvironBuilder

    seen: dict[str, t.Any] = {}

    def app(environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> list[bytes]:
        seen.update(environ)
        start_response("204 No Content", [])
        return []

    environ = EnvironBuilder(
        path="/", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.1"}
    ).get_environ()
    assert ProxyFix(app, **proxy_fix_kwargs)(environ, lambda *a: None) == []
    return seen


def test_proxy_fix_defaults_trust_one_for_and_proto() -> None:
    seen = _seen_by_app(
        {},
        {
            "X-Forwarded-For": "1.2.3.4, 5.6.7.8",
            "X-Forwarded-Proto": "HTTPS",
            "X-Forwarded-Host": "evil.example",
        },
    )
    # Only the value the one trusted proxy appended counts.
    assert seen["REMOTE_ADDR"] == "5.6.7.8"
    assert seen["wsgi.url_scheme"] == "https"
    assert seen["HTTP_HOST"] == "localhost"  # x_host=0: not trusted
    assert seen["werkzeug.proxy_fix.orig"]["REMOTE_ADDR"] == "10.0.0.1"


def test_proxy_fix_all_headers() -> None:
    seen = _seen_by_app(
        {"x_for": 2, "x_host": 1, "x_port": 1, "x_prefix": 1},
        {
            "X-Forwarded-For": "1.2.3.4, 5.6.7.8",
            "X-Forwarded-Host": "example.com:8443",
            "X-Forwarded-Port": "9000",
            "X-Forwarded-Prefix": "/app/",
        },
    )
    assert seen["REMOTE_ADDR"] == "1.2.3.4"
    assert (seen["SERVER_NAME"], seen["HTTP_HOST"], seen["SERVER_PORT"]) == (
        "example.com",
        "example.com:9000",
        "9000",
    )
    assert seen["SCRIPT_NAME"] == "/app"


@pytest.mark.parametrize(
    ("headers", "host", "port"),
    [
        ({"X-Forwarded-Host": "[::1]"}, "[::1]", "80"),
        ({"X-Forwarded-Host": "[::1]", "X-Forwarded-Port": "81"}, "[::1]:81", "81"),
        ({"X-Forwarded-Host": "example.com", "X-Forwarded-Port": "x"}, "example.com", "80"),
        ({"X-Forwarded-Port": "8080"}, "localhost:8080", "8080"),
    ],
)
def test_proxy_fix_host_and_port_edges(headers: dict[str, str], host: str, port: str) -> None:
    seen = _seen_by_app({"x_host": 1, "x_port": 1}, headers)
    assert (seen["HTTP_HOST"], seen["SERVER_PORT"]) == (host, port)


def test_proxy_fix_too_few_values_are_ignored() -> None:
    seen = _seen_by_app(
        {"x_for": 2, "x_prefix": 1}, {"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Prefix": ""}
    )
    assert seen["REMOTE_ADDR"] == "10.0.0.1"
    assert seen["SCRIPT_NAME"] == ""


# -- Turning it on without code changes: CLI and pytest ---------------------------

FLASK_APP = """\
from flask import Flask, jsonify
from werkzeug.exceptions import NotFound

app = Flask(__name__)

@app.route("/hello")
def hello():
    return jsonify(engine=type(app).__module__)
"""


def _run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ERLEN_", "FLASK_", "PYTEST_"))
    }
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--compat"], {}),
        ([], {"ERLEN_COMPAT": "1"}),
    ],
    ids=["flag", "env"],
)
def test_cli_runs_a_flask_app(tmp_path: Path, args: list[str], env: dict[str, str]) -> None:
    (tmp_path / "flaskapp.py").write_text(FLASK_APP)
    rv = _run(["-m", "erlen", *args, "--app", "flaskapp", "routes"], tmp_path, env)
    assert rv.returncode == 0, rv.stderr
    assert "hello" in rv.stdout and "/hello" in rv.stdout


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--compat"], {}),
        ([], {"ERLEN_COMPAT": "1"}),
    ],
    ids=["flag", "env"],
)
def test_cli_reads_the_app_from_flaskenv(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    # The layer is on before the env files are read, so they are Flask's.
    pytest.importorskip("dotenv")
    (tmp_path / "flaskapp.py").write_text(FLASK_APP)
    (tmp_path / ".flaskenv").write_text("FLASK_APP=flaskapp\n")
    rv = _run(["-m", "erlen", *args, "routes"], tmp_path, env)
    assert rv.returncode == 0, rv.stderr
    assert "/hello" in rv.stdout

    # FLASK_SKIP_DOTENV is seen though the layer is switched on by an option.
    rv = _run(["-m", "erlen", *args, "routes"], tmp_path, {**env, "FLASK_SKIP_DOTENV": "1"})
    assert rv.returncode == 2
    assert "'--app' or FLASK_APP" in rv.stderr


def test_cli_without_compat_gets_the_real_flask(tmp_path: Path) -> None:
    # Without the flag the app imports the real Flask (installed here as a
    # peer), which is not an Erlen app, so discovery finds none.
    (tmp_path / "flaskapp.py").write_text(FLASK_APP)
    rv = _run(["-m", "erlen", "--app", "flaskapp", "routes"], tmp_path, {"ERLEN_COMPAT": "0"})
    assert rv.returncode != 0
    assert "hello" not in rv.stdout


def test_cli_flag_in_process(
    clean_modules: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from erlen.cli import cli

    (tmp_path / "flaskapp_inproc.py").write_text(FLASK_APP)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ERLEN_COMPAT", raising=False)
    try:
        result = CliRunner().invoke(
            cli, ["--compat", "--app", "flaskapp_inproc", "routes"], catch_exceptions=False
        )
    finally:
        sys.modules.pop("flaskapp_inproc", None)
    assert result.exit_code == 0, result.output
    assert "/hello" in result.output
    assert erlen.compat.is_installed()


CONFTEST = """\
import flask
import pytest

@pytest.fixture
def app():
    app = flask.Flask(__name__)

    @app.route("/")
    def index():
        return flask.jsonify(module=flask.Flask.__module__)

    return app
"""

SUITE = """\
def test_runs_on_erlen(client):
    assert client.get("/").json == {"module": "erlen.app"}
"""


@pytest.mark.parametrize(
    ("args", "ini", "env"),
    [
        (["--erlen-compat"], "", {}),
        ([], "[pytest]\nerlen_compat = true\n", {}),
        ([], "", {"ERLEN_COMPAT": "1"}),
    ],
    ids=["option", "ini", "env"],
)
def test_pytest_option_installs_before_conftest(
    tmp_path: Path, args: list[str], ini: str, env: dict[str, str]
) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_suite.py").write_text(SUITE)
    (tmp_path / "pytest.ini").write_text(ini or "[pytest]\n")
    rv = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", *args], tmp_path, env)
    assert rv.returncode == 0, rv.stdout + rv.stderr
    assert "1 passed" in rv.stdout


def test_pytest_without_the_option_uses_the_real_flask(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_suite.py").write_text(SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    rv = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path)
    assert rv.returncode == 1
    assert "1 failed" in rv.stdout


# -- Zero cost when not installed -------------------------------------------------


def test_import_erlen_and_compat_leaves_flask_and_werkzeug_unimported(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        import erlen, erlen.compat, erlen.cli
        import erlen.pytest_plugin
        assert not erlen.compat.is_installed()
        loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug'))
        assert loaded == [], loaded
        # install() itself imports nothing of Flask, Werkzeug or Erlen's features.
        erlen.compat.install()
        loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug', 'jinja2'))
        assert loaded == [], loaded
        print("ok")
        """
    )
    rv = _run(["-c", code], tmp_path)
    assert rv.returncode == 0, rv.stderr
    assert rv.stdout.strip() == "ok"


def test_runs_where_flask_and_werkzeug_are_not_installed(tmp_path: Path) -> None:
    # A blocker on sys.meta_path plays the venv without Flask and Werkzeug.
    code = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in ('flask', 'werkzeug'):
                    raise ModuleNotFoundError(name)

        sys.meta_path.insert(0, Block())
        try:
            import flask
        except ModuleNotFoundError:
            pass
        else:
            raise AssertionError('flask importable before install()')
        import erlen.compat
        erlen.compat.install()
        from flask import Flask, request
        from werkzeug.wrappers import Response
        app = Flask(__name__)

        @app.post('/echo')
        def echo():
            return request.get_data()

        rv = app.test_client().post('/echo', data=b'hi')
        assert isinstance(rv, Response) and rv.data == b'hi'
        print("ok")
        """
    )
    rv = _run(["-c", code], tmp_path)
    assert rv.returncode == 0, rv.stderr
    assert rv.stdout.strip() == "ok"


@pytest.mark.usefixtures("compat")
def test_immutable_dict_and_list() -> None:
    import copy
    import pickle

    from werkzeug.datastructures import ImmutableDict, ImmutableList

    d = ImmutableDict(a=1)
    for change in (
        lambda: d.__setitem__("b", 2),
        lambda: d.__delitem__("a"),
        lambda: d.update(b=2),
        lambda: d.setdefault("b", 2),
        lambda: d.pop("a"),
        lambda: d.popitem(),
        lambda: d.clear(),
    ):
        with pytest.raises(TypeError, match="'ImmutableDict' objects are immutable"):
            change()
    mutable = d.copy()
    mutable["b"] = 2
    assert type(mutable) is dict and d == {"a": 1}
    assert copy.copy(d) is d
    assert hash(d) == hash(ImmutableDict(a=1))
    assert (
        pickle.loads(pickle.dumps(d)) == d and type(pickle.loads(pickle.dumps(d))) is ImmutableDict
    )
    assert repr(d) == "ImmutableDict({'a': 1})"
    items = ImmutableList([1, 2])
    assert list(items) == [1, 2] and repr(items) == "ImmutableList([1, 2])"
    with pytest.raises(AttributeError):
        items.append(3)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("compat")
def test_package_metadata_answers_for_the_provided_packages() -> None:
    import importlib.metadata

    # Code checks importlib.metadata.version("flask") where Flask may not be installed.
    assert importlib.metadata.version("flask") == "3.1.3"
    assert importlib.metadata.version("Werkzeug") == "3.1.9"
    dist = importlib.metadata.distribution("flask")
    assert "Erlen's compat layer" in dist.metadata["Summary"]
    assert dist.read_text("RECORD") is None
    assert dist.locate_file("x").parent.name == "compat"
    listed = {d.metadata["Name"] for d in importlib.metadata.distributions()}
    assert {"Flask", "Werkzeug"} <= listed
    # Other packages are answered as before.
    assert importlib.metadata.version("click")


@pytest.mark.usefixtures("compat")
def test_flask_subclass_hooks_and_classes_are_honored() -> None:
    # What extensions and apps override on Flask, through the flask names.
    from flask import Flask, Request, Response, render_template_string, request, session
    from flask.globals import request_ctx
    from flask.sessions import SecureCookieSessionInterface
    from flask.testing import FlaskClient, FlaskCliRunner

    class MyResponse(Response):
        pass

    class MyRequest(Request):
        pass

    class MyFlask(Flask):
        response_class = MyResponse
        request_class = MyRequest

        def handle_user_exception(self, e: Exception) -> t.Any:
            if isinstance(e, KeyError):
                return "handled KeyError", 418
            return super().handle_user_exception(e)

        def handle_exception(self, e: Exception) -> t.Any:
            return self.response_class(f"handled {type(e).__name__}", 503)

        def create_jinja_environment(self) -> t.Any:
            env = super().create_jinja_environment()
            env.globals["answer"] = 42
            return env

    class MyInterface(SecureCookieSessionInterface):
        salt = "another-salt"

    app = MyFlask(__name__)
    app.config["SECRET_KEY"] = "k"
    app.session_interface = MyInterface()
    seen: dict[str, t.Any] = {}

    @app.route("/")
    def index() -> str:
        ctx = request_ctx._get_current_object()  # type: ignore[attr-defined]
        current = request._get_current_object()  # type: ignore[attr-defined]
        seen.update(
            request=isinstance(current, MyRequest), app=ctx.app, same=ctx.request is current
        )
        session["x"] = 1
        return render_template_string("{{ answer }}")

    @app.route("/key")
    def key() -> str:
        raise KeyError("x")

    @app.route("/boom")
    def boom() -> str:
        raise ValueError("x")

    client = app.test_client()
    assert isinstance(client, FlaskClient) and isinstance(app.test_cli_runner(), FlaskCliRunner)
    rv = client.get("/")
    assert isinstance(rv, MyResponse) and rv.data == b"42"
    assert seen == {"request": True, "app": app, "same": True}
    with client.session_transaction() as sess:
        assert dict(sess) == {"x": 1}
    rv = client.get("/key")
    assert (rv.status_code, rv.data) == (418, b"handled KeyError")
    rv = client.get("/boom")
    assert (rv.status_code, rv.data) == (503, b"handled ValueError")


@pytest.mark.usefixtures("compat")
def test_star_import() -> None:
    namespace: dict[str, t.Any] = {}
    exec("from flask import *", namespace)
    assert namespace["Flask"] is Erlen and namespace["request"] is erlen.request
    assert not any(name.startswith("_") for name in namespace if name != "__builtins__")


def test_request_from_values() -> None:
    # Werkzeug's Request.from_values, used by extensions' test suites.
    request = erlen.Request.from_values("/x?a=1", method="POST", data={"f": "v"})
    assert isinstance(request, erlen.Request)
    assert (request.path, request.method) == ("/x", "POST")
    assert request.args["a"] == "1" and request.form["f"] == "v"


def test_test_request_context_matches_the_url(app: Erlen) -> None:
    # As in Flask, the endpoint is known inside test_request_context().
    @app.route("/items/<int:item_id>", methods=["GET"])
    def item(item_id: int) -> str:
        return str(item_id)

    with app.test_request_context("/items/3"):
        assert erlen.request.endpoint == "item"
        assert erlen.request.view_args == {"item_id": 3}
    with app.test_request_context("/nowhere"):
        assert erlen.request.endpoint is None
        assert erlen.request.routing_exception is not None
        assert erlen.request.routing_exception.code == 404
    # The URL adapter knows the request's method, as Werkzeug's bind_to_environ does.
    with app.test_request_context("/items/3", method="POST"):
        adapter = app.create_url_adapter(erlen.request._get_current_object())  # type: ignore[attr-defined]
        with pytest.raises(erlen.exceptions.MethodNotAllowed) as exc_info:
            adapter.match()
        assert "GET" in exc_info.value.valid_methods


def test_a_streamed_body_can_be_rewrapped_in_after_request(app: Erlen, client: t.Any) -> None:
    # What Flask-Compress does with a streamed response: it takes the body's
    # iterator (iter_encoded) and puts a generator over it back as the body.
    # The iterator must be over the body as it was when taken, not over
    # whatever `response.response` is later (itself: "generator already executing").
    @app.route("/stream")
    def stream() -> t.Any:
        def chunks() -> t.Iterator[str]:
            yield "a"
            yield "b"

        return erlen.Response(chunks())

    @app.after_request
    def rewrap(response: erlen.Response) -> erlen.Response:
        if response.is_streamed:
            encoded = response.iter_encoded()

            def upper() -> t.Iterator[bytes]:
                for chunk in encoded:
                    yield chunk.upper()

            response.response = upper()
        return response

    assert client.get("/stream").data == b"AB"


@pytest.mark.usefixtures("compat")
def test_the_imports_that_failed_on_extensions_and_flasks_suite() -> None:
    # Issue 20: Flask-Admin, Flask-SocketIO and Flask's own test modules
    # stopped at these imports.
    import erlen.compat.debug
    import erlen.compat.http
    from erlen.compat.cli import get_version as erlen_get_version

    ns: dict[str, t.Any] = {}
    exec(
        "from werkzeug import Response\n"
        "from werkzeug.debug import DebuggedApplication\n"
        "from werkzeug.http import parse_cache_control_header, parse_set_header\n"
        "from werkzeug.middleware.dispatcher import DispatcherMiddleware\n"
        "from werkzeug.middleware.shared_data import SharedDataMiddleware\n"
        "from flask.cli import get_version\n"
        # Private, but at the top of Flask-SocketIO's module:
        "from werkzeug._reloader import run_with_reloader\n"
        "from werkzeug._internal import _log\n",
        ns,
    )
    import erlen.compat.reloader

    assert ns["run_with_reloader"] is erlen.compat.reloader.run_with_reloader
    assert ns["Response"] is erlen.Response
    assert ns["DebuggedApplication"] is erlen.compat.debug.DebuggedApplication
    assert ns["parse_cache_control_header"] is erlen.compat.http.parse_cache_control_header
    assert ns["get_version"] is erlen_get_version
    assert ns["parse_set_header"]("a, b").to_header() == "a, b"


def test_abort_421_is_misdirected_request(app: Erlen, client: t.Any) -> None:
    @app.route("/")
    def index() -> t.Any:
        erlen.abort(421)

    rv = client.get("/")
    assert rv.status_code == 421 and b"Misdirected Request" in rv.data


@pytest.mark.usefixtures("compat")
@pytest.mark.parametrize(
    ("args", "server_name", "expected"),
    [
        ((), None, ("127.0.0.1", 5000)),
        (("localhost", 8000), None, ("localhost", 8000)),
        ((None, None), "pocoo.org:8080", ("pocoo.org", 8080)),
        (("localhost", 0), "localhost:8080", ("localhost", 0)),
    ],
)
def test_app_run_calls_the_patched_werkzeug_run_simple(
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[t.Any, ...],
    server_name: str | None,
    expected: tuple[str, int],
) -> None:
    # Flask's run() looks werkzeug.serving.run_simple up when called, so a
    # test that patches it there gets the call instead of a real server.
    import werkzeug.serving

    # Were Erlen's own server called, the test would fail, not serve.
    monkeypatch.setattr("erlen.serving.run_simple", lambda *a, **kw: pytest.fail("real server"))
    calls: list[tuple[t.Any, ...]] = []
    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *a, **kw: calls.append((a, kw)))
    app = Erlen(__name__)
    app.config["SERVER_NAME"] = server_name
    app.run(*args)
    [(positional, options)] = calls
    assert positional == (*expected, app)
    assert options["use_reloader"] is False and options["threaded"] is True


def test_app_run_without_compat_ignores_the_werkzeug_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without the compat layer, a real (or fake) werkzeug.serving is not Erlen's server.
    fake = types.ModuleType("werkzeug.serving")
    fake.run_simple = lambda *a, **kw: pytest.fail("werkzeug's run_simple was called")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "werkzeug.serving", fake)
    calls: list[tuple[t.Any, ...]] = []
    monkeypatch.setattr("erlen.serving.run_simple", lambda *a, **kw: calls.append(a))
    app = Erlen(__name__)
    app.run(port=1234)
    assert calls == [("127.0.0.1", 1234, app)]


@pytest.mark.usefixtures("compat")
def test_test_client_user_agent_is_werkzeugs_under_compat(app: Erlen, client: t.Any) -> None:
    import werkzeug  # noqa: F401 - the shim, imported as a Flask app's test would

    @app.route("/ua")
    def ua() -> str:
        return erlen.request.user_agent.string

    assert app.test_client().get("/ua").text == "Werkzeug/3.1.9"


@pytest.mark.usefixtures("compat")
def test_from_prefixed_env_reads_flask_variables_under_compat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import flask

    monkeypatch.setenv("FLASK_INT", "1")
    monkeypatch.setenv("FLASK_EXIST__inner__ik", "2")
    monkeypatch.setenv("ERLEN_OTHER", "x")
    app = flask.Flask(__name__)
    app.config["EXIST"] = {"inner": {"ik": 1}, "flag": True}
    app.config.from_prefixed_env()
    assert app.config["INT"] == 1
    assert app.config["EXIST"] == {"inner": {"ik": 2}, "flag": True}
    assert "OTHER" not in app.config
    app.config.from_prefixed_env("ERLEN")
    assert app.config["OTHER"] == "x"


@pytest.mark.usefixtures("compat")
def test_g_repr_says_flask_under_compat(app: Erlen) -> None:
    import flask

    with app.app_context():
        assert repr(flask.g._get_current_object()) == f"<flask.g of {app.name!r}>"


@pytest.mark.usefixtures("compat")
def test_test_client_sends_secure_cookies_over_http_under_compat(app: Erlen) -> None:
    # Werkzeug's client ignores Secure; Flask's own session tests rely on it.
    import werkzeug  # noqa: F401 - the shim

    @app.route("/set")
    def set_() -> erlen.Response:
        rv = erlen.Response("")
        rv.set_cookie("sec", "1", secure=True)
        return rv

    @app.route("/get")
    def get() -> str:
        return ",".join(erlen.request.cookies)

    client = app.test_client()
    client.get("/set")
    assert client.get("/get").text == "sec"


@pytest.mark.usefixtures("compat")
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"FLASK_DEBUG": "True"}, True),
        ({"FLASK_DEBUG": "0"}, False),
        ({"FLASK_DEBUG": ""}, False),
        ({"ERLEN_DEBUG": "0", "FLASK_DEBUG": "1"}, False),
        ({"ERLEN_DEBUG": "1"}, True),
    ],
)
def test_flask_get_debug_flag_reads_flask_debug(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: bool
) -> None:
    from flask.helpers import get_debug_flag

    monkeypatch.delenv("ERLEN_DEBUG", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert get_debug_flag() is expected


@pytest.mark.usefixtures("compat")
def test_cv_app_is_the_outer_app_context_inside_a_request(app: Erlen, client: t.Any) -> None:
    from flask.globals import _cv_app, _cv_request

    seen = {}

    @app.route("/")
    def index() -> str:
        seen["app"] = _cv_app.get()
        seen["request"] = _cv_request.get()
        return ""

    with app.app_context() as outer:
        client.get("/")
    assert seen["app"] is outer and seen["request"] is not outer


@pytest.mark.usefixtures("compat")
def test_host_outside_server_name_warns_from_flask_app_under_compat() -> None:
    # Flask code filters this warning by Flask's module (its own suite ignores
    # "Current server name" from "flask.app"): under the compat layer the
    # warning is attributed there, and without it to Erlen's code.
    import warnings

    import flask

    from erlen import dispatch

    assert dispatch.warning_module == "flask.app"
    app = flask.Flask(__name__, subdomain_matching=True)
    app.config["SERVER_NAME"] = "dev.test"

    @app.route("/")
    def index() -> str:
        return "index"

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert app.test_client().get("/", "http://foo.other.test").status_code == 404
    assert [w.filename for w in caught] and all(
        "Current server name" in str(w.message) for w in caught
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("error")
        warnings.filterwarnings("ignore", "Current server name", UserWarning, "flask.app")
        assert app.test_client().get("/", "http://foo.other.test").status_code == 404
    erlen.compat.uninstall()
    assert dispatch.warning_module is None


def test_environ_holds_the_request_only_under_compat(
    app: Erlen, client: t.Any, clean_modules: None
) -> None:
    # Werkzeug's request puts itself in its environ and Flask code reads it
    # back (Flask's own suite does); Erlen does too under the compat layer,
    # and only there: the two would hold each other, kept for the collector.
    seen: list[t.Any] = []

    @app.route("/")
    def index() -> str:
        from erlen import request

        seen.append(request.environ.get("werkzeug.request"))
        seen.append(request._get_current_object())  # type: ignore[attr-defined]
        return ""

    client.get("/")
    erlen.compat.install()
    client.get("/")
    erlen.compat.uninstall()
    client.get("/")
    (off, _), (on, request_on), (off_again, _) = zip(seen[::2], seen[1::2], strict=True)
    assert off is None and off_again is None
    assert on is request_on


@pytest.mark.usefixtures("clean_modules")
def test_status_lines_take_werkzeugs_upper_case_reason() -> None:
    # Werkzeug's Response.status upper-cases the reason phrase, and Flask
    # apps' tests compare with it (flask-smorest: "201 CREATED",
    # Flask-Reuploaded: "404 NOT FOUND"). Under the compat layer Erlen's
    # status lines read the same, over WSGI and ASGI; without it they keep
    # the RFC 9110 spelling.
    def run() -> tuple[str, str, str]:
        app = Erlen(__name__)

        @app.post("/items")
        def create() -> t.Any:
            return {"id": 1}, 201

        client = app.test_client()
        made = client.post("/items").status
        missing = client.get("/nowhere").status
        return made, missing, erlen.Response("x", status=418).status

    assert run() == ("201 Created", "404 Not Found", "418 I'm a teapot")
    erlen.compat.install()
    from flask import Response

    assert run() == ("201 CREATED", "404 NOT FOUND", "418 I'M A TEAPOT")
    assert Response(status=404).status == "404 NOT FOUND"
    assert Response().status == "200 OK"
    erlen.compat.uninstall()
    assert run() == ("201 Created", "404 Not Found", "418 I'm a teapot")


@pytest.mark.usefixtures("compat")
def test_flask_helpers_werkzeug_is_the_werkzeug_module() -> None:
    # Flask's helpers module imports werkzeug, and extensions' tests patch
    # through it (Flask-DebugToolbar patches
    # "flask.helpers.werkzeug.utils.send_from_directory").
    from unittest import mock

    import flask.helpers
    import werkzeug
    import werkzeug.utils

    assert flask.helpers.werkzeug is werkzeug
    with mock.patch("flask.helpers.werkzeug.utils.send_from_directory") as patched:
        assert werkzeug.utils.send_from_directory is patched
    assert werkzeug.utils.send_from_directory is erlen.helpers.send_from_directory
