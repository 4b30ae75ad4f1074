"""The application object and the one dispatch path every request takes.

:class:`Erlen` collects setup (routes, hooks, error handlers, config) and
runs requests: :meth:`Erlen.wsgi_app` builds the request with the WSGI
adapter, has :func:`erlen.dispatch.run` serve it (push the context,
:meth:`Erlen.full_dispatch_request`, pop) and hands the response back to
the adapter. The ASGI adapter runs the same dispatch (see
:mod:`erlen.dispatch`); the overridable methods here are thin calls into it.

Per-request cost is kept to what the request uses: hook loops run only
when hooks exist, signals are sent only with receivers, the session is opened
only when touched, and routing is a dict lookup for static paths.
"""

from __future__ import annotations

import os
import sys
import typing as t
import weakref
from datetime import timedelta
from itertools import chain
from types import FunctionType

from . import dispatch as _dispatch
from ._utils import cached_property
from .asgi import _AsyncEntry, handle_http
from .asgi import asgi_app as _asgi_app
from .asgi import serve_wsgi as _serve_wsgi
from .background import run_after_response
from .concurrency import CO_COROUTINE, is_async, run_coroutine
from .config import Config, ConfigAttribute
from .ctx import AppContext, RequestContext, _AppCtxGlobals, _request_context
from .exceptions import (
    Aborter,
    BadRequestKeyError,
    BuildError,
    HTTPException,
    RoutingException,
)
from .globals import _cv, _default_template_ctx_processor
from .json import DefaultJSONProvider, JSONProvider
from .routing import Map, Rule
from .scaffold import Scaffold, _endpoint_from_view_func, find_instance_path, setupmethod
from .wrappers import Request, Response
from .wsgi import ClosingIterator, make_request, send_response

if t.TYPE_CHECKING:
    import logging

    from .blueprints import Blueprint
    from .cli import AppGroup
    from .testing import ErlenClient

__all__ = ["Erlen"]

_F = t.TypeVar("_F", bound=t.Callable[..., t.Any])


def _make_timedelta(value: timedelta | int | None) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


def _after_response_body(
    app: Erlen, ctx: RequestContext, body: t.Iterable[bytes]
) -> ClosingIterator:
    """``body``, running the request's after-response work when the server closes it.

    A function of its own (not a lambda in ``wsgi_app``): a closure there
    would make ``wsgi_app`` keep its locals in cells on every request.
    """
    # The server calls close() once the body is sent (PEP 3333).
    return ClosingIterator(body, [lambda: run_after_response(app, ctx)])


class Erlen(Scaffold):
    """The application: a WSGI callable with Flask's setup API.

    ``app = Erlen(__name__)``, then decorate views with :meth:`route`.

    :param import_name: The app's module name, usually ``__name__``.
    :param static_url_path: URL prefix of the static folder.
    :param static_folder: Static files folder, relative to ``root_path``.
    :param static_host: Host of the static route when ``host_matching`` is on.
    :param host_matching: Match rules by host (``host=`` on rules).
    :param subdomain_matching: Match the subdomain relative to ``SERVER_NAME``.
    :param template_folder: Templates folder, relative to ``root_path``.
    :param instance_path: The instance folder (default: ``instance`` beside
        the app's package).
    :param instance_relative_config: Resolve config files against the
        instance folder instead of ``root_path``.
    :param root_path: The app's folder, when it can't be found from
        ``import_name``.

    .. versionadded:: 0.1
    """

    #: Class of request objects.
    request_class: type[Request] = Request
    #: Class of response objects.
    response_class: type[Response] = Response
    #: Options for the Jinja environment (``autoescape`` and the extensions
    #: are Erlen's unless given here), read when it is first made.
    jinja_options: dict[str, t.Any] = {}
    #: The session interface. A subclass may set one as a class attribute
    #: (as in Flask); otherwise each app gets a
    #: :class:`~erlen.sessions.SecureCookieSessionInterface` (made in
    #: ``__init__``, so ``import erlen`` doesn't load the sessions module).
    session_interface: t.Any = None
    #: Class of ``g``.
    app_ctx_globals_class = _AppCtxGlobals
    #: Class of :attr:`config`.
    config_class = Config
    #: Class of :attr:`aborter`.
    aborter_class = Aborter
    #: Class of :attr:`json`.
    json_provider_class: type[JSONProvider] = DefaultJSONProvider
    #: Class of :attr:`url_map`.
    url_map_class = Map
    #: Class of rules made by :meth:`add_url_rule`.
    url_rule_class = Rule
    #: Class of the test client; ``None`` uses :class:`erlen.testing.ErlenClient`.
    test_client_class: type[ErlenClient] | None = None
    #: Class of the CLI test runner; ``None`` uses Erlen's.
    test_cli_runner_class: type[t.Any] | None = None

    testing = ConfigAttribute[bool]("TESTING")
    secret_key = ConfigAttribute[str | bytes | None]("SECRET_KEY")
    permanent_session_lifetime = ConfigAttribute[timedelta](
        "PERMANENT_SESSION_LIFETIME",
        get_converter=_make_timedelta,  # type: ignore[arg-type]
    )

    default_config: dict[str, t.Any] = {
        "DEBUG": None,
        "TESTING": False,
        "PROPAGATE_EXCEPTIONS": None,
        "SECRET_KEY": None,
        "SECRET_KEY_FALLBACKS": None,
        "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
        "USE_X_SENDFILE": False,
        # Host names requests may name (entries with a leading dot cover
        # subdomains); another Host is a 400. None: any host.
        "TRUSTED_HOSTS": None,
        "SERVER_NAME": None,
        "APPLICATION_ROOT": "/",
        "SESSION_COOKIE_NAME": "session",
        "SESSION_COOKIE_DOMAIN": None,
        "SESSION_COOKIE_PATH": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_PARTITIONED": False,
        "SESSION_COOKIE_SAMESITE": None,
        "SESSION_REFRESH_EACH_REQUEST": True,
        # NOTE: Flask leaves the body size unlimited by default; Erlen is
        # secure by default and caps it at 16 MiB (set None to lift it).
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 500_000,
        "MAX_FORM_PARTS": 1_000,
        "SEND_FILE_MAX_AGE_DEFAULT": None,
        "TRAP_BAD_REQUEST_ERRORS": None,
        "TRAP_HTTP_EXCEPTIONS": False,
        "EXPLAIN_TEMPLATE_LOADING": False,
        "PREFERRED_URL_SCHEME": "http",
        "TEMPLATES_AUTO_RELOAD": None,
        "MAX_COOKIE_SIZE": 4093,
        "PROVIDE_AUTOMATIC_OPTIONS": True,
        # ASGI: threads for plain `def` views; the largest WebSocket message.
        "ASGI_MAX_THREADS": 40,
        "WEBSOCKET_MAX_MESSAGE_SIZE": 1024 * 1024,
        # Origins (scheme://host[:port]) whose pages may open WebSockets besides the app's own and TRUSTED_HOSTS; "*": any.
        "WEBSOCKET_ALLOWED_ORIGINS": None,
    }

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = "static",
        static_host: str | None = None,
        host_matching: bool = False,
        subdomain_matching: bool = False,
        template_folder: str | os.PathLike[str] | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
    ) -> None:
        super().__init__(
            import_name=import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            root_path=root_path,
        )
        if instance_path is None:
            instance_path = self.auto_find_instance_path()
        elif not os.path.isabs(instance_path):
            raise ValueError(
                "If an instance path is provided it must be absolute. A relative path was given instead."
            )
        #: The instance folder: for files that are not part of the code.
        self.instance_path = instance_path
        self.config = self.make_config(instance_relative_config)
        self.aborter = self.make_aborter()
        #: The JSON provider (``dumps``, ``loads``, ``response``).
        self.json: JSONProvider = self.json_provider_class(self)
        #: Functions called with (error, endpoint, values) when ``url_for`` fails.
        self.url_build_error_handlers: list[
            t.Callable[[Exception, str, dict[str, t.Any]], str]
        ] = []
        self.teardown_appcontext_funcs: list[t.Callable[[BaseException | None], None]] = []
        self.shell_context_processors: list[t.Callable[[], dict[str, t.Any]]] = []
        #: Registered blueprints by name.
        self.blueprints: dict[str, t.Any] = {}
        #: Extension state, keyed by extension name (see ``init_app``).
        self.extensions: dict[str, t.Any] = {}
        self.url_map = self.url_map_class(host_matching=host_matching)
        self.subdomain_matching = subdomain_matching
        #: Template registration points, used by :mod:`erlen.templating`.
        self.jinja_env_options: dict[str, t.Any] = {}
        self.template_filters: dict[str, t.Callable[..., t.Any]] = {}
        self.template_globals: dict[str, t.Any] = {}
        self.template_tests: dict[str, t.Callable[..., bool]] = {}
        # First in the list, as Flask's default processor is; rendering skips it.
        self.template_context_processors[None].append(_default_template_ctx_processor)
        self._got_first_request = False
        self._set_plain_flags()
        self._sync_cache: dict[t.Callable[..., t.Any], t.Callable[..., t.Any]] = {}
        #: view → whether it is a coroutine function (erlen.dispatch.choose_driver).
        self._view_is_async: dict[t.Callable[..., t.Any], bool] = {}
        if self.session_interface is None:
            self.session_interface = self._default_session_interface()
        #: Functions run when an ASGI server starts and stops serving the app
        #: (the ``lifespan`` protocol); see :meth:`before_serving`.
        self.before_serving_funcs: list[t.Callable[[], t.Any]] = []
        self.after_serving_funcs: list[t.Callable[[], t.Any]] = []
        # NOTE: servers that pick ASGI by inspecting `app.__call__` (uvicorn,
        # hypercorn) find a coroutine function here, while a WSGI server's
        # `app(environ, start_response)` still goes straight to the class's
        # plain __call__ (see erlen.asgi._AsyncEntry).
        self.__dict__["__call__"] = _AsyncEntry(self)

        if self.has_static_folder:
            assert bool(static_host) == host_matching, (
                "Invalid static_host/host_matching combination"
            )
            # A weak reference: a view holding the app would be a cycle, and
            # an app its last user drops would wait for the garbage collector.
            app_ref = weakref.ref(self)
            self.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                endpoint="static",
                host=static_host,
                view_func=lambda **kw: app_ref().send_static_file(**kw),  # type: ignore[union-attr]
            )

    @staticmethod
    def _default_session_interface() -> t.Any:
        from .sessions import SecureCookieSessionInterface

        return SecureCookieSessionInterface()

    # -- names and setup -----------------------------------------------------

    def _set_plain_flags(self) -> None:
        # Which dispatch methods are overridden, by the class (worked out
        # once per class) or on this object: each shortcut of erlen.dispatch
        # is taken only where the method it stands for is Erlen's own.
        overridden = _dispatch.overridden(type(self), Erlen) | (
            _dispatch.OVERRIDABLE & self.__dict__.keys()
        )
        self._plain_full_dispatch = "full_dispatch_request" not in overridden
        self._plain_preprocess = "preprocess_request" not in overridden
        self._plain_dispatch = not overridden & {"dispatch_request", "ensure_sync", "async_to_sync"}
        self._plain_finalize = not overridden & {
            "finalize_request",
            "make_response",
            "process_response",
        }
        #: ``app.wsgi_app`` was replaced on this object (WSGI middleware):
        #: ASGI ``http`` requests go through it too (``asgi.serve_wsgi``).
        self._wrapped_wsgi = "wsgi_app" in self.__dict__
        #: ``wsgi_app`` is Erlen's own: ``__call__`` may run its body itself.
        self._plain_wsgi = not self._wrapped_wsgi and type(self).wsgi_app is Erlen.wsgi_app
        self._plain_asgi = "asgi_app" not in overridden and not self._wrapped_wsgi
        #: No method that runs user code is overridden: the sync driver may
        #: call erlen.dispatch's functions directly, and the ASGI adapter may
        #: serve async views on the event loop.
        self._plain_methods = not overridden & _dispatch.DRIVER_METHODS

    def __setattr__(self, name: str, value: t.Any) -> None:
        # NOTE: extensions replace dispatch methods on the app object itself
        # (Flask-RESTful: app.handle_exception = partial(router, app.handle_exception));
        # the drivers must call those as they call a subclass's override.
        object.__setattr__(self, name, value)
        if name in _dispatch.OVERRIDABLE or name == "wsgi_app":
            self._set_plain_flags()

    def __delattr__(self, name: str) -> None:
        object.__delattr__(self, name)
        if name in _dispatch.OVERRIDABLE or name == "wsgi_app":
            self._set_plain_flags()

    @cached_property
    def name(self) -> str:
        """The app's name: the import name, or the script's name for ``__main__``."""
        if self.import_name == "__main__":
            fn = getattr(sys.modules["__main__"], "__file__", None)
            if fn is None:
                return "__main__"
            return str(os.path.splitext(os.path.basename(fn))[0])
        return self.import_name

    @property
    def debug(self) -> bool:
        """Debug mode: tracebacks propagate, JSON is indented. Never in production."""
        return bool(self.config["DEBUG"])

    @debug.setter
    def debug(self, value: bool) -> None:
        self.config["DEBUG"] = value
        if self.config["TEMPLATES_AUTO_RELOAD"] is None and "jinja_env" in self.__dict__:
            self.jinja_env.auto_reload = value

    @cached_property
    def logger(self) -> logging.Logger:
        """The ``logging`` logger named after the app."""
        from .logging import create_logger

        return create_logger(self)

    def make_config(self, instance_relative: bool = False) -> Config:
        """Create :attr:`config` with the defaults (``DEBUG`` from ``ERLEN_DEBUG``)."""
        root_path = self.instance_path if instance_relative else self.root_path
        defaults = dict(self.default_config)
        defaults["DEBUG"] = os.environ.get("ERLEN_DEBUG", "").lower() in ("1", "true", "yes", "on")
        return self.config_class(root_path, defaults)

    def make_aborter(self) -> Aborter:
        """Create :attr:`aborter`, used by :func:`~erlen.abort`."""
        return self.aborter_class()

    def auto_find_instance_path(self) -> str:
        """The default instance folder, found as Flask finds it.

        ``instance`` beside the app's top-level module, or beside (not inside)
        its top-level package; for an installed package,
        ``<sys.prefix>/var/<name>-instance``. When the import name can't be
        found (an app made in a shell), ``instance`` under :attr:`root_path`.
        """
        return find_instance_path(self.import_name, self.root_path, self.name)

    def open_instance_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> t.IO[t.Any]:
        """Open a file in the instance folder."""
        path = os.path.join(self.instance_path, resource)
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = None
    ) -> t.IO[t.Any]:
        """Open a file relative to :attr:`root_path` for reading."""
        if mode not in {"r", "rt", "rb"}:
            raise ValueError("Resources can only be opened for reading.")
        path = os.path.join(self.root_path, resource)
        if mode == "rb":
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_first_request:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called on the application."
                " It has already handled its first request, so a change now would reach"
                " only some of its workers.\nMake sure every import, decorator and"
                " function that sets up the application runs before it serves."
            )

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: t.Callable[..., t.Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Register a URL rule and, optionally, its view function.

        :param rule: The URL rule string, e.g. ``"/user/<int:id>"``.
        :param endpoint: The endpoint name (default: the view's ``__name__``).
        :param view_func: The view to call for the endpoint.
        :param provide_automatic_options: Answer ``OPTIONS`` automatically
            (default: unless the view handles ``OPTIONS`` itself).
        :param options: ``methods``, ``defaults``, ``strict_slashes``,
            ``redirect_to``, ``subdomain``, ``host``, ``merge_slashes``,
            ``build_only``, ``websocket``.
        :raises AssertionError: Another view already has the endpoint.
        """
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)  # type: ignore[arg-type]
        options["endpoint"] = endpoint
        methods = options.pop("methods", None)
        if methods is None:
            methods = getattr(view_func, "methods", None) or ("GET",)
        if isinstance(methods, str):
            raise TypeError(
                "Allowed methods must be a list of strings, for example:"
                ' @app.route(..., methods=["POST"])'
            )
        methods = {item.upper() for item in methods}
        required_methods = set(getattr(view_func, "required_methods", ()))
        if provide_automatic_options is None:
            provide_automatic_options = getattr(view_func, "provide_automatic_options", None)
        if provide_automatic_options is None:
            if "OPTIONS" not in methods and self.config["PROVIDE_AUTOMATIC_OPTIONS"]:
                provide_automatic_options = True
                required_methods.add("OPTIONS")
            else:
                provide_automatic_options = False
        methods |= required_methods
        rule_obj = self.url_rule_class(rule, methods=methods, **options)
        rule_obj.provide_automatic_options = provide_automatic_options
        self.url_map.add(rule_obj)
        if view_func is not None:
            old_func = self.view_functions.get(endpoint)
            if old_func is not None and old_func != view_func:
                raise AssertionError(
                    "View function mapping is overwriting an existing endpoint"
                    f" function: {endpoint}"
                )
            self.view_functions[endpoint] = view_func

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: t.Any) -> None:
        """Register a :class:`~erlen.Blueprint` on the app.

        Its recorded routes, hooks, handlers and processors are added to
        the app (see :meth:`Blueprint.register <erlen.Blueprint.register>`).
        A blueprint may be registered more than once, each time under a
        different ``name``.

        :param blueprint: The blueprint to register.
        :param options: ``url_prefix`` (put before its rules), ``subdomain``
            (its rules' subdomain), ``url_defaults`` (default view
            arguments), ``name`` (the name to register it under; default
            its own) and ``cli_group``. Each overrides the blueprint's own.
        :raises ValueError: The name is already registered.

        .. versionadded:: 0.1
        """
        blueprint.register(self, options)

    def iter_blueprints(self) -> t.ValuesView[Blueprint]:
        """The registered blueprints, in registration order.

        .. versionadded:: 0.1
        """
        return self.blueprints.values()

    @setupmethod
    def teardown_appcontext(self, f: _F) -> _F:
        """Run ``f(error)`` when the app context ends (after each request too)."""
        self.teardown_appcontext_funcs.append(f)
        return f

    @setupmethod
    def shell_context_processor(self, f: _F) -> _F:
        """Register a function returning names for ``erlen shell``."""
        self.shell_context_processors.append(f)
        return f

    @setupmethod
    def template_filter(self, name: str | None = None) -> t.Callable[[_F], _F]:
        """Register the decorated function as a Jinja filter."""

        def decorator(f: _F) -> _F:
            self.add_template_filter(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_filter(self, f: t.Callable[..., t.Any], name: str | None = None) -> None:
        """Register a Jinja filter."""
        self.template_filters[name or f.__name__] = f
        env = self.__dict__.get("jinja_env")
        if env is not None:
            env.filters[name or f.__name__] = f

    @setupmethod
    def template_test(self, name: str | None = None) -> t.Callable[[_F], _F]:
        """Register the decorated function as a Jinja test."""

        def decorator(f: _F) -> _F:
            self.add_template_test(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_test(self, f: t.Callable[..., bool], name: str | None = None) -> None:
        """Register a Jinja test."""
        self.template_tests[name or f.__name__] = f
        env = self.__dict__.get("jinja_env")
        if env is not None:
            env.tests[name or f.__name__] = f

    @setupmethod
    def template_global(self, name: str | None = None) -> t.Callable[[_F], _F]:
        """Register the decorated function as a Jinja global."""

        def decorator(f: _F) -> _F:
            self.add_template_global(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_global(self, f: t.Callable[..., t.Any], name: str | None = None) -> None:
        """Register a Jinja global."""
        self.template_globals[name or f.__name__] = f
        env = self.__dict__.get("jinja_env")
        if env is not None:
            env.globals[name or f.__name__] = f

    # -- templates -----------------------------------------------------------

    @cached_property
    def jinja_env(self) -> t.Any:
        """The app's Jinja environment, created on first use (see :mod:`erlen.templating`)."""
        return self.create_jinja_environment()

    def create_jinja_environment(self) -> t.Any:
        """Create :attr:`jinja_env`; override to customize it."""
        from .templating import create_jinja_environment

        return create_jinja_environment(self)

    def create_global_jinja_loader(self) -> t.Any:
        """The loader of :attr:`jinja_env`: the app's templates, then blueprints'."""
        from .templating import DispatchingJinjaLoader

        return DispatchingJinjaLoader(self)

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        """Whether to autoescape a template (``.html``, ``.htm``, ``.xml``,
        ``.xhtml``, ``.svg``, and strings rendered from code)."""
        if filename is None:
            return True
        return filename.endswith((".html", ".htm", ".xml", ".xhtml", ".svg"))

    def update_template_context(self, context: dict[str, t.Any]) -> None:
        """Add the context processors' values to ``context`` (explicit values win)."""
        from .templating import update_template_context

        update_template_context(self, context)

    def make_shell_context(self) -> dict[str, t.Any]:
        """Names available in ``erlen shell``: ``app``, ``g`` and the processors' values."""
        from .globals import g

        rv: dict[str, t.Any] = {"app": self, "g": g}
        for processor in self.shell_context_processors:
            rv.update(processor())
        return rv

    # -- contexts ------------------------------------------------------------

    def app_context(self) -> AppContext:
        """A new application context: ``with app.app_context(): ...``."""
        return AppContext(self)

    def request_context(self, environ: dict[str, t.Any]) -> RequestContext:
        """A request context for a WSGI environ, its URL already matched.

        As in Flask, ``request.endpoint``, ``url_rule`` and ``view_args`` are
        set inside ``with app.test_request_context("/path"):`` (extensions
        such as Flask-RESTful read them there). Serving a request does not
        come through here: it matches in :meth:`full_dispatch_request`.
        """
        ctx = RequestContext(self, request=make_request(self.request_class, environ))
        ctx.match_request()
        return ctx

    def _environ_request(self, environ: dict[str, t.Any]) -> Request:
        """A request of :attr:`request_class` for a WSGI environ (``RequestContext(app, environ)``)."""
        return make_request(self.request_class, environ)

    def test_request_context(self, *args: t.Any, **kwargs: t.Any) -> RequestContext:
        """A request context for a made-up request; arguments as for the test client's ``open``."""
        from .testing import EnvironBuilder

        builder = EnvironBuilder(self, *args, **kwargs)
        try:
            return self.request_context(builder.get_environ())
        finally:
            builder.close()

    def test_client(self, use_cookies: bool = True, **kwargs: t.Any) -> ErlenClient:
        """A test client that sends requests to this app without a server."""
        cls: t.Any = self.test_client_class
        if cls is None:
            from .testing import ErlenClient

            cls = ErlenClient
        return cls(self, self.response_class, use_cookies=use_cookies, **kwargs)  # type: ignore[no-any-return]

    @cached_property
    def cli(self) -> AppGroup:
        """The app's click command group: ``@app.cli.command()`` adds ``erlen`` commands.

        Created on first use, so ``import erlen`` doesn't load click.
        """
        from .cli import AppGroup

        return AppGroup(self.name)

    def test_cli_runner(self, **kwargs: t.Any) -> t.Any:
        """A click runner for the app's CLI commands."""
        cls: t.Any = self.test_cli_runner_class
        if cls is None:
            from .testing import ErlenCliRunner

            cls = ErlenCliRunner
        return cls(self, **kwargs)

    # -- async ---------------------------------------------------------------

    def ensure_sync(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        """Return ``func``, or a blocking wrapper when it is a coroutine function."""
        # PERF: for plain functions the code flags answer without a call.
        if type(func) is FunctionType:
            if not func.__code__.co_flags & CO_COROUTINE:
                return func
        elif not is_async(func):
            return func
        wrapped = self._sync_cache.get(func)
        if wrapped is None:
            wrapped = self.async_to_sync(func)
            if len(self._sync_cache) < 1024:  # bounded: per-call closures must not grow it
                self._sync_cache[func] = wrapped
        return wrapped

    def async_to_sync(
        self, func: t.Callable[..., t.Coroutine[t.Any, t.Any, t.Any]]
    ) -> t.Callable[..., t.Any]:
        """Wrap a coroutine function to block until it ran (see :func:`erlen.concurrency.run_coroutine`)."""

        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            return run_coroutine(func(*args, **kwargs))

        wrapper.__name__ = getattr(func, "__name__", "wrapper")
        wrapper.__wrapped__ = func  # type: ignore[attr-defined]
        return wrapper

    # -- the request path ----------------------------------------------------

    def wsgi_app(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Iterable[bytes]:
        """The WSGI application; wrap *this* with middleware, not ``app`` itself:
        ``app.wsgi_app = Middleware(app.wsgi_app)``.

        The request is served by :func:`erlen.dispatch.run` (push the
        context, :meth:`full_dispatch_request`, :meth:`handle_exception` on
        an error, pop the context); then the response is sent.
        """
        ctx = _request_context(self, make_request(self.request_class, environ))
        # PERF: `in` first: the key is there only under the test client.
        preserve = (
            environ["erlen._preserve_context"] if "erlen._preserve_context" in environ else None
        )
        response = _dispatch.run(self, ctx, preserve)
        body = send_response(response, environ, start_response)
        if ctx._after_response is not None:
            return _after_response_body(self, ctx, body)
        return body

    def __call__(
        self, environ: dict[str, t.Any], start_response: t.Any = None, send: t.Any = None
    ) -> t.Any:
        """Serve a WSGI request, or an ASGI connection: one object for both servers.

        ``app(environ, start_response)`` is WSGI and calls :meth:`wsgi_app`;
        ``app(scope, receive, send)`` is ASGI 3 and returns the coroutine of
        :meth:`asgi_app`; ``app(scope)`` is ASGI 2 and returns a callable
        taking ``(receive, send)``. Middleware applies either way.
        """
        if send is None:
            if start_response is not None:
                if self._plain_wsgi:
                    # PERF: wsgi_app's body, inlined (a call per request).
                    ctx = _request_context(self, make_request(self.request_class, environ))
                    preserve = (
                        environ["erlen._preserve_context"]
                        if "erlen._preserve_context" in environ
                        else None
                    )
                    response = _dispatch.run(self, ctx, preserve)
                    body = send_response(response, environ, start_response)
                    if ctx._after_response is not None:
                        return _after_response_body(self, ctx, body)
                    return body
                return self.wsgi_app(environ, start_response)
            from functools import partial

            return partial(self.asgi_app, environ)
        # PERF: http straight to the adapter unless asgi_app was replaced (on
        # the class, or on this object: __setattr__ clears _plain_asgi then).
        if environ["type"] == "http" and self._plain_asgi:
            return handle_http(self, environ, start_response, send)
        return self.asgi_app(environ, start_response, send)

    async def asgi_app(self, scope: dict[str, t.Any], receive: t.Any, send: t.Any) -> None:
        """The ASGI application; wrap *this* with ASGI middleware:
        ``app.asgi_app = Middleware(app.asgi_app)``.

        Serves ``http``, ``websocket`` and ``lifespan`` scopes; see
        :mod:`erlen.asgi`.

        .. versionadded:: 0.1
        """
        # PERF: http, the common scope, without a further hop.
        if scope["type"] == "http":
            if self._wrapped_wsgi:
                # WSGI middleware on app.wsgi_app (ProxyFix) applies here
                # too, through a worker thread; WebSockets stay native.
                await _serve_wsgi(self, self.wsgi_app, scope, receive, send)
            else:
                await handle_http(self, scope, receive, send)
        else:
            await _asgi_app(self, scope, receive, send)

    @setupmethod
    def before_serving(self, f: _F) -> _F:
        """Run ``f()`` (or await it) in an app context when an ASGI server starts serving.

        Called for the ``lifespan.startup`` message, before the first
        request; an exception fails the startup. WSGI has no such event:
        under a WSGI server these functions are not called.

        .. versionadded:: 0.1
        """
        self.before_serving_funcs.append(f)
        return f

    @setupmethod
    def after_serving(self, f: _F) -> _F:
        """Run ``f()`` (or await it) in an app context when an ASGI server stops serving.

        Called for the ``lifespan.shutdown`` message, in registration order.

        .. versionadded:: 0.1
        """
        self.after_serving_funcs.append(f)
        return f

    def should_ignore_error(self, error: BaseException | None) -> bool:
        """Whether teardown functions should see ``None`` instead of ``error``."""
        return False

    def full_dispatch_request(self) -> Response:
        """Match, run hooks and the view, handle errors, build the response.

        Calls :meth:`preprocess_request` (when a hook is registered or the
        method is overridden), :meth:`dispatch_request`,
        :meth:`handle_user_exception` on an error and
        :meth:`finalize_request`, under WSGI and ASGI alike.
        """
        return _dispatch.full_dispatch_request(self)

    def create_url_adapter(self, request: Request | None) -> t.Any:
        """A Werkzeug-style ``MapAdapter`` bound to the request (or to ``SERVER_NAME``)."""
        if request is not None:
            return self.url_map.bind(
                request.host,
                script_name=request.root_path or "/",
                subdomain=_dispatch.domain_for(self, request) if self.subdomain_matching else None,
                url_scheme=request.scheme,
                default_method=request.method,
                path_info=request.path,
                query_args=request.query_string.decode("latin-1"),
            )
        if self.config["SERVER_NAME"] is not None:
            return self.url_map.bind(
                self.config["SERVER_NAME"],
                script_name=self.config["APPLICATION_ROOT"],
                url_scheme=self.config["PREFERRED_URL_SCHEME"],
            )
        return None

    def raise_routing_exception(self, request: Request) -> t.NoReturn:
        """Raise the routing error; in debug mode a 308 that would drop a form body
        is a clear error instead."""
        exc = request.routing_exception
        assert exc is not None
        if isinstance(exc, RoutingException) and hasattr(exc, "new_url"):
            self._finish_redirect(exc, request)
            if (
                self.debug
                and getattr(exc, "code", 308) not in (307, 308)
                and request.method not in ("GET", "HEAD", "OPTIONS")
            ):
                from .debughelpers import FormDataRoutingRedirect

                raise FormDataRoutingRedirect(request, exc.new_url)
        raise exc

    def _finish_redirect(self, exc: t.Any, request: Request) -> None:
        # The router knows only the path; add the mount point and the query.
        new_url = exc.new_url
        if new_url.startswith("/") and not getattr(exc, "_finished", False):
            from urllib.parse import quote

            new_url = quote(request.script_root) + new_url
            if request.query_string:
                new_url += "?" + request.query_string.decode("latin-1")
            exc.new_url = new_url
            exc._finished = True

    def preprocess_request(self) -> Response | None:
        """Run URL value preprocessors and ``before_request`` functions.

        :return: The first non-``None`` value a ``before_request`` function
            returned (it becomes the response), else ``None``.
        """
        return _dispatch.preprocess_request(self)  # type: ignore[no-any-return]

    def dispatch_request(self) -> t.Any:
        """Call the matched view and return its value (not yet a response)."""
        return _dispatch.dispatch_request(self)

    def make_default_options_response(self) -> Response:
        """The automatic ``OPTIONS`` response: empty, with ``Allow``."""
        request = _cv.get().request
        assert request is not None
        methods = self.url_map.allowed_methods(
            request.path, _dispatch.domain_for(self, request) or ""
        )
        rv = self.response_class()
        rv.headers.set("Allow", ", ".join(sorted(methods)))
        return rv

    def finalize_request(self, rv: t.Any, from_error_handler: bool = False) -> Response:
        """Turn a view's value into the response and run the after-request steps.

        :param from_error_handler: Errors in the after-request steps are
            logged and ignored (the 500 path must not fail again).
        """
        return _dispatch.finalize_request(self, rv, from_error_handler)

    def process_response(self, response: Response) -> Response:
        """Run ``after_this_request`` and ``after_request`` functions, save the session."""
        return _dispatch.process_response(self, response)

    def make_response(self, rv: t.Any) -> Response:
        """Convert a view's return value into a :attr:`response_class` instance.

        Accepted: ``str``/``bytes`` (the body), ``dict``/``list`` (JSON), a
        response, an iterator (streamed), an ``HTTPException``, a WSGI
        callable, or a tuple ``(body, status)``, ``(body, headers)``,
        ``(body, status, headers)``.

        :raises TypeError: The value is none of those (``None`` included);
            the message names the view.
        """
        return _dispatch.make_response(self, rv)

    # -- errors --------------------------------------------------------------

    def _find_error_handler(
        self, e: Exception, blueprints: list[str]
    ) -> t.Callable[..., t.Any] | None:
        # Flask's private name for the lookup, which some extensions call.
        return _dispatch.find_error_handler(self, e, blueprints)

    def trap_http_exception(self, e: Exception) -> bool:
        """Whether an HTTP error should propagate like any exception (for debugging)."""
        if self.config["TRAP_HTTP_EXCEPTIONS"]:
            return True
        trap_bad_request = self.config["TRAP_BAD_REQUEST_ERRORS"]
        if trap_bad_request is None and self.debug and isinstance(e, BadRequestKeyError):
            return True
        if trap_bad_request:
            from .exceptions import BadRequest

            return isinstance(e, BadRequest)
        return False

    def handle_http_exception(self, e: HTTPException) -> t.Any:
        """Give an HTTP error to its registered handler, else return it as the response."""
        return _dispatch.handle_http_exception(self, e)

    def handle_user_exception(self, e: Exception) -> t.Any:
        """Handle an exception raised while dispatching; re-raise it when no handler fits."""
        return _dispatch.handle_user_exception(self, e)

    def handle_exception(self, e: Exception) -> Response:
        """Handle an exception no handler took: log it and answer 500.

        In testing or debug mode (or with ``PROPAGATE_EXCEPTIONS``), the
        exception propagates instead. A handler for 500 or
        ``InternalServerError`` receives an :class:`InternalServerError` whose
        ``original_exception`` is ``e``.
        """
        return _dispatch.handle_exception(self, e)

    def log_exception(self, exc_info: t.Any) -> None:
        """Log an unhandled exception with the request's method and path."""
        request = _cv.get().request
        where = f" on {request.path} [{request.method}]" if request is not None else ""
        self.logger.error(f"Exception{where}", exc_info=exc_info)

    # -- teardown ------------------------------------------------------------

    def do_teardown_request(self, exc: BaseException | None = None) -> None:
        """Run ``teardown_request`` functions (blueprints first, reverse order)."""
        _dispatch.do_teardown_request(self, exc)

    def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
        """Run ``teardown_appcontext`` functions (reverse order)."""
        _dispatch.do_teardown_appcontext(self, exc)

    # -- sessions ------------------------------------------------------------

    def _open_session(self, request: Request) -> t.Any:
        si = self.session_interface
        if si is None:
            raise RuntimeError("No session interface is configured for this app.")
        session = si.open_session(self, request)
        if session is None:
            session = si.make_null_session(self)
        return session

    # -- URLs ----------------------------------------------------------------

    def inject_url_defaults(self, endpoint: str, values: dict[str, t.Any]) -> None:
        """Run ``url_defaults`` functions for the endpoint (app, then blueprints)."""
        if not self.url_default_functions:
            return
        names: t.Iterable[str | None] = (None,)
        if "." in endpoint:
            parts = endpoint.rpartition(".")[0].split(".")
            names = chain((None,), (".".join(parts[:i]) for i in range(1, len(parts) + 1)))
        for name in names:
            for func in self.url_default_functions.get(name, ()):
                func(endpoint, values)

    def handle_url_build_error(
        self, error: BuildError, endpoint: str, values: dict[str, t.Any]
    ) -> str:
        """Try ``url_build_error_handlers``; re-raise ``error`` when none gives a URL."""
        for handler in self.url_build_error_handlers:
            try:
                rv = handler(error, endpoint, values)
            except BuildError as e:
                error = e
            else:
                if rv is not None:
                    return rv
        if error is sys.exc_info()[1]:
            raise
        raise error

    def url_for(
        self,
        /,  # a rule argument may be named "self", as in Flask
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: t.Any,
    ) -> str:
        """Build the URL for an endpoint; see :func:`erlen.url_for`."""
        from urllib.parse import quote

        ctx = _cv.get(None)
        request = ctx.request if ctx is not None else None
        if request is not None:
            if endpoint[:1] == ".":
                blueprint = request.blueprint
                endpoint = f"{blueprint}{endpoint}" if blueprint is not None else endpoint[1:]
            if _external is None:
                _external = _scheme is not None
            script_root = request.script_root
            host = request.host
            scheme = request.scheme
            current_domain = (
                _dispatch.domain_for(self, request)
                if (self.url_map.host_matching or self.subdomain_matching)
                else None
            )
        else:
            server_name = self.config["SERVER_NAME"]
            if server_name is None:
                raise RuntimeError(
                    "Unable to build URLs outside an active request without"
                    " 'SERVER_NAME' configured. Also configure 'APPLICATION_ROOT'"
                    " and 'PREFERRED_URL_SCHEME' as needed."
                )
            if _external is None:
                _external = True
            script_root = self.config["APPLICATION_ROOT"].rstrip("/")
            host = server_name
            scheme = self.config["PREFERRED_URL_SCHEME"]
            current_domain = None
        if _scheme is not None and not _external:
            raise ValueError("When specifying '_scheme', '_external' must be True.")
        self.inject_url_defaults(endpoint, values)
        try:
            domain, path = self.url_map.build(endpoint, values, method=_method)
        except BuildError as error:
            values.update(_anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external)
            return self.handle_url_build_error(error, endpoint, values)
        if domain and domain != current_domain:
            # A rule on another subdomain or host can only be reached absolutely.
            _external = True
            if self.url_map.host_matching:
                host = domain
            else:
                base = self.config["SERVER_NAME"] or host
                host = f"{domain}.{base}"
        elif domain == "" and current_domain not in (None, "") and not self.url_map.host_matching:
            _external = True
            host = self.config["SERVER_NAME"] or host
        rv = quote(script_root) + path
        if _external:
            rv = f"{_scheme or scheme}://{host}{rv}"
        if _anchor is not None:
            rv += "#" + quote(_anchor, safe="%!#$&'()*+,/:;=?@")
        return rv

    def redirect(self, location: str, code: int = 302) -> Response:
        """A redirect response; :func:`erlen.redirect` calls this inside an app context."""
        from .helpers import _redirect

        return _redirect(location, code, self.response_class)

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """Seconds a browser may cache a sent file: ``SEND_FILE_MAX_AGE_DEFAULT``.

        ``None`` (the default) sends ``no-cache``, so browsers revalidate with
        the ETag. Override to choose by ``filename`` (e.g. by extension).
        """
        value = self.config["SEND_FILE_MAX_AGE_DEFAULT"]
        if value is None:
            return None
        if isinstance(value, timedelta):
            return int(value.total_seconds())
        return int(value)

    def send_static_file(self, filename: str) -> Response:
        """Serve a file from the static folder (used by the ``static`` route)."""
        if not self.has_static_folder:
            raise RuntimeError("'static_folder' must be set to serve static_files.")
        from .helpers import send_from_directory

        max_age = self.get_send_file_max_age(filename)
        return send_from_directory(t.cast(str, self.static_folder), filename, max_age=max_age)

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        load_dotenv: bool = True,
        **options: t.Any,
    ) -> None:
        """Serve the app with the development server (not for production).

        :param host: Interface to listen on (default ``127.0.0.1``).
        :param port: Port (default ``5000``).
        :param debug: Turn debug mode on or off. In debug mode the reloader
            and the interactive debugger are on unless ``use_reloader`` or
            ``use_debugger`` say otherwise.
        """
        if os.environ.get("ERLEN_RUN_FROM_CLI") == "true":
            print(
                " * Ignoring a call to 'app.run()': the 'erlen' command is serving the app."
                " Put 'app.run()' under 'if __name__ == \"__main__\":'.",
                file=sys.stderr,
            )
            return
        from .serving import run_simple

        # Under the compat layer, Flask apps' tests patch
        # werkzeug.serving.run_simple to stop app.run() from serving: call
        # whatever that name holds now, as Flask does. Only the shim module
        # counts (it has __shim__); a real Werkzeug's server is not Erlen's.
        shim = sys.modules.get("werkzeug.serving")
        if shim is not None and hasattr(shim, "__shim__"):
            run_simple = shim.run_simple
        if debug is not None:
            self.debug = bool(debug)
        server_name = self.config.get("SERVER_NAME")
        sn_host = sn_port = None
        if server_name:
            sn_host, _, sn_port = server_name.partition(":")
        host = host or sn_host or "127.0.0.1"
        if port is None:  # NOTE: 0 is a real choice (any free port)
            port = int(sn_port) if sn_port else 5000
        # As in Flask: debug mode turns the reloader on unless told otherwise.
        options.setdefault("use_reloader", self.debug)
        options.setdefault("use_debugger", self.debug)
        options.setdefault("threaded", True)
        options.setdefault("asgi", None)  # the ASGI side (WebSockets) when uvicorn is installed
        run_simple(host, port, self, **options)
