"""Which ``flask`` and ``werkzeug`` module holds which Erlen object.

Each entry maps a shim module name to a :class:`Shim`: the Erlen modules
whose public names it re-exports (searched in order), and single names that
live elsewhere or under another name (``"module:attr"``). Nothing here is
imported until a shim module's attribute is first read.
"""

from __future__ import annotations

import typing as t


class Shim(t.NamedTuple):
    """How one shim module finds its names.

    :param sources: Erlen modules searched in order for a public name.
    :param names: ``name -> "module:attr"`` for names found elsewhere or
        renamed (``"module"`` alone: the module itself); these win over
        ``sources`` and may be private.
    """

    sources: tuple[str, ...] = ()
    names: t.Mapping[str, str] = {}


_C = "erlen.compat._glue"
#: ``erlen.wrappers`` and its modules: every name the one module had (its
#: imports too) is still found after the package split.
_WRAPPERS = ("erlen.wrappers", "erlen.wrappers.request", "erlen.wrappers.response")

#: The ``flask`` names, as Flask 3.1 lays them out.
FLASK: dict[str, Shim] = {
    "flask": Shim(
        ("erlen",),
        {
            "Flask": "erlen.app:Erlen",
            "__version__": f"{_C}:FLASK_VERSION",
            # Flask's top level re-exports the signals.
            **{
                name: f"erlen.signals:{name}"
                for name in (
                    "appcontext_popped",
                    "appcontext_pushed",
                    "appcontext_tearing_down",
                    "before_render_template",
                    "got_request_exception",
                    "message_flashed",
                    "request_finished",
                    "request_started",
                    "request_tearing_down",
                    "template_rendered",
                )
            },
        },
    ),
    "flask.app": Shim(("erlen.app",), {"Flask": "erlen.app:Erlen"}),
    "flask.sansio": Shim(),
    "flask.sansio.app": Shim(
        ("erlen.app",), {"App": "erlen.app:Erlen", "Flask": "erlen.app:Erlen"}
    ),
    "flask.sansio.scaffold": Shim(
        ("erlen.scaffold",),
        {"setupmethod": "erlen.scaffold:setupmethod", "_sentinel": "erlen.scaffold:_sentinel"},
    ),
    "flask.sansio.blueprints": Shim(("erlen.blueprints",)),
    "flask.blueprints": Shim(("erlen.blueprints",)),
    "flask.config": Shim(("erlen.config",)),
    "flask.ctx": Shim(
        ("erlen.ctx",),
        {"_AppCtxGlobals": "erlen.ctx:_AppCtxGlobals", "_sentinel": "erlen.ctx:_sentinel"},
    ),
    "flask.debughelpers": Shim(
        (),
        {
            "DebugFilesKeyError": "erlen.wrappers.request:DebugFilesKeyError",
            "FormDataRoutingRedirect": "erlen.debughelpers:FormDataRoutingRedirect",
        },
    ),
    "flask.globals": Shim(
        ("erlen.globals",),
        {
            "app_ctx": "erlen.globals:app_ctx",
            "request_ctx": "erlen.globals:request_ctx",
            "_cv_app": f"{_C}:cv_app",
            "_cv_request": f"{_C}:cv_request",
        },
    ),
    "flask.helpers": Shim(
        ("erlen.helpers",),
        {
            "get_root_path": "erlen._utils:get_root_path",
            "get_debug_flag": f"{_C}:get_debug_flag",
            "get_load_dotenv": f"{_C}:get_load_dotenv",
            "get_template_attribute": "erlen.templating:get_template_attribute",
            # Flask's helpers module imports werkzeug, and tests patch through
            # it (Flask-DebugToolbar: flask.helpers.werkzeug.utils...).
            "werkzeug": "werkzeug",
        },
    ),
    "flask.json": Shim(("erlen.json",), {"dumps": f"{_C}:json_dumps", "dump": f"{_C}:json_dump"}),
    "flask.json.provider": Shim(("erlen.json",)),
    "flask.json.tag": Shim(("erlen.json.tag",)),
    "flask.logging": Shim(
        ("erlen.logging",), {"has_level_handler": "erlen.logging:has_level_handler"}
    ),
    "flask.sessions": Shim(("erlen.sessions",)),
    "flask.signals": Shim(
        ("erlen.signals",), {"Namespace": "blinker:Namespace", "_signals": "erlen.signals:_signals"}
    ),
    "flask.templating": Shim(("erlen.templating",)),
    "flask.testing": Shim(
        ("erlen.testing",),
        {
            "FlaskClient": "erlen.testing:ErlenClient",
            "FlaskCliRunner": "erlen.testing:ErlenCliRunner",
        },
    ),
    "flask.cli": Shim(("erlen.cli", "erlen.compat.cli"), {"FlaskGroup": "erlen.cli:ErlenGroup"}),
    "flask.typing": Shim(("erlen.compat.typing",)),
    "flask.views": Shim(("erlen.views",)),
    # Flask's module imports Werkzeug's wrappers under these names, and
    # extensions import them from there (Flask-Classful's ResponseBase).
    "flask.wrappers": Shim(
        _WRAPPERS,
        {
            "RequestBase": "erlen.wrappers.request:Request",
            "ResponseBase": "erlen.wrappers.response:Response",
        },
    ),
}

_DS = "erlen.datastructures"
_XDS = "erlen.compat.datastructures"
#: The immutable containers Erlen's core has no class for.
_IMMUTABLE = {"ImmutableDict": f"{_C}:ImmutableDict", "ImmutableList": f"{_C}:ImmutableList"}
_ROUTING_ERRORS = {
    name: f"erlen.exceptions:{name}"
    for name in ("BuildError", "RequestRedirect", "RoutingException")
}

#: The ``werkzeug`` names, as Werkzeug 3.1 lays them out (its internals and
#: what Erlen does its own way are on the exclusion list in docs/compat.md).
WERKZEUG: dict[str, Shim] = {
    "werkzeug": Shim(
        (),
        {
            "Client": "erlen.testing:ErlenClient",
            "Request": "erlen.wrappers:Request",
            "Response": "erlen.wrappers:Response",
            "run_simple": "erlen.serving:run_simple",
        },
    ),
    # Private, but imported at the top of extensions' modules (Flask-SocketIO).
    "werkzeug._internal": Shim((), {"_log": f"{_C}:log"}),
    "werkzeug._reloader": Shim(
        (), {"run_with_reloader": "erlen.compat.reloader:run_with_reloader"}
    ),
    "werkzeug.datastructures": Shim(
        (_DS, _XDS),
        {"FileStorage": "erlen.formparser:FileStorage", **_IMMUTABLE},
    ),
    "werkzeug.datastructures.accept": Shim((f"{_DS}.accept",)),
    "werkzeug.datastructures.auth": Shim((f"{_DS}.auth",)),
    "werkzeug.datastructures.cache_control": Shim((_XDS,)),
    "werkzeug.datastructures.csp": Shim((_XDS,)),
    "werkzeug.datastructures.etag": Shim((f"{_DS}.etag",)),
    "werkzeug.datastructures.file_storage": Shim((f"{_DS}.file_storage", _XDS)),
    "werkzeug.datastructures.headers": Shim((f"{_DS}.headers",)),
    "werkzeug.datastructures.mixins": Shim((_XDS,)),
    "werkzeug.datastructures.range": Shim((_XDS,)),
    "werkzeug.datastructures.structures": Shim((f"{_DS}.structures", _XDS), _IMMUTABLE),
    "werkzeug.debug": Shim(("erlen.compat.debug",)),
    # The module, without its names (Erlen's debugger renders its own
    # tracebacks): code that checks them with hasattr() and falls back, as
    # Dash's error pages do, imports it.
    "werkzeug.debug.tbtools": Shim(),
    "werkzeug.exceptions": Shim(
        ("erlen.exceptions",),
        {"abort": "erlen.exceptions:abort", "_aborter": "erlen.exceptions:_aborter"},
    ),
    "werkzeug.formparser": Shim(
        ("erlen.formparser",),
        {
            "default_stream_factory": f"{_C}:default_stream_factory",
            "parse_form_data": f"{_C}:parse_form_data",
            "SpooledTemporaryFile": "tempfile:SpooledTemporaryFile",
        },
    ),
    "werkzeug.http": Shim(("erlen.http", "erlen.compat.http")),
    "werkzeug.local": Shim(("erlen.compat.local",), {"LocalProxy": "erlen.globals:LocalProxy"}),
    "werkzeug.middleware": Shim(),
    "werkzeug.middleware.dispatcher": Shim(("erlen.compat.dispatcher",)),
    "werkzeug.middleware.lint": Shim(("erlen.compat.lint",)),
    "werkzeug.middleware.profiler": Shim(("erlen.compat.profiler",)),
    "werkzeug.middleware.proxy_fix": Shim(("erlen.compat.proxy_fix",)),
    "werkzeug.middleware.shared_data": Shim(("erlen.compat.shared_data",)),
    "werkzeug.routing": Shim(
        ("erlen.routing",),
        {**_ROUTING_ERRORS, "parse_converter_args": "erlen.routing.rules:_parse_converter_args"},
    ),
    "werkzeug.routing.converters": Shim(("erlen.routing.converters",)),
    "werkzeug.routing.exceptions": Shim((), _ROUTING_ERRORS),
    "werkzeug.routing.map": Shim(("erlen.routing.map",)),
    "werkzeug.routing.rules": Shim(
        ("erlen.routing.rules",),
        {"parse_converter_args": "erlen.routing.rules:_parse_converter_args"},
    ),
    "werkzeug.sansio": Shim(),
    "werkzeug.sansio.http": Shim(
        (),
        {
            "is_resource_modified": "erlen.compat.http:resource_modified",
            "parse_cookie": "erlen.http:parse_cookie",
        },
    ),
    "werkzeug.sansio.request": Shim((), {"Request": "erlen.wrappers:Request"}),
    "werkzeug.sansio.response": Shim((), {"Response": "erlen.wrappers:Response"}),
    "werkzeug.sansio.utils": Shim(
        (),
        {
            "get_content_length": "erlen.compat.wsgi:sansio_get_content_length",
            "get_current_url": "erlen.compat.wsgi:sansio_get_current_url",
            "get_host": "erlen.compat.wsgi:sansio_get_host",
            "host_is_trusted": "erlen.http:host_is_trusted",
        },
    ),
    "werkzeug.security": Shim(("erlen.security",), {"safe_join": "erlen.helpers:safe_join"}),
    "werkzeug.serving": Shim(("erlen.serving",)),
    "werkzeug.test": Shim(
        ("erlen.testing",),
        {
            "Client": "erlen.testing:ErlenClient",
            "Cookie": "erlen.testing.client:_Cookie",
            "EnvironBuilder": f"{_C}:EnvironBuilder",
            "create_environ": f"{_C}:create_environ",
            "encode_multipart": f"{_C}:encode_multipart",
            "run_wsgi_app": f"{_C}:run_wsgi_app",
            "stream_encode_multipart": f"{_C}:stream_encode_multipart",
        },
    ),
    "werkzeug.urls": Shim(
        (),
        {
            "uri_to_iri": "erlen.compat.http:uri_to_iri",
            **{
                name: f"erlen.http:{name}"
                for name in ("iri_to_uri", "url_decode", "url_encode", "url_quote", "url_unquote")
            },
        },
    ),
    "werkzeug.user_agent": Shim((f"{_DS}.user_agent",)),
    "werkzeug.utils": Shim(
        ("erlen.compat.utils",),
        {
            "redirect": "erlen.helpers:redirect",
            "safe_join": "erlen.helpers:safe_join",
            "secure_filename": "erlen.helpers:secure_filename",
            "send_file": "erlen.helpers:send_file",
            "send_from_directory": "erlen.helpers:send_from_directory",
        },
    ),
    "werkzeug.wrappers": Shim(_WRAPPERS),
    "werkzeug.wrappers.request": Shim(("erlen.wrappers.request", "erlen.wrappers.response")),
    "werkzeug.wrappers.response": Shim(("erlen.wrappers.response", "erlen.wrappers.request")),
    "werkzeug.wsgi": Shim(("erlen.compat.wsgi", "erlen.wsgi")),
}
