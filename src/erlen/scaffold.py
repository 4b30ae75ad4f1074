"""Registration shared by the app and blueprints.

:class:`Scaffold` holds what both record: routes, hooks, error handlers, URL
processors and context processors, in the same dictionaries Flask exposes
(keyed by blueprint name, ``None`` for the app), because extensions read and
write them directly. Nothing here runs per request.
"""

from __future__ import annotations

import os
import sys
import typing as t
from collections import defaultdict
from functools import update_wrapper

from ._utils import cached_property, get_root_path
from .concurrency import is_async
from .exceptions import HTTPException, default_exceptions

if t.TYPE_CHECKING:
    from jinja2 import BaseLoader

_F = t.TypeVar("_F", bound=t.Callable[..., t.Any])

_sentinel = object()


def setupmethod(f: _F) -> _F:
    """Mark a method that may only be called while the app is being set up.

    After the first request, calling it raises :class:`AssertionError`:
    changes then would reach only some worker threads or processes.
    """
    name = f.__name__

    def wrapper_func(self: Scaffold, *args: t.Any, **kwargs: t.Any) -> t.Any:
        self._check_setup_finished(name)
        return f(self, *args, **kwargs)

    return t.cast(_F, update_wrapper(wrapper_func, f))


class Scaffold:
    """Common registration API of :class:`~erlen.Erlen` and ``Blueprint``.

    :param import_name: The name of the module the object is defined in,
        usually ``__name__``; it locates the static and template folders.
    :param static_folder: Folder of static files, relative to ``root_path``.
    :param static_url_path: URL prefix of static files.
    :param template_folder: Folder of templates, relative to ``root_path``.
    :param root_path: Overrides the folder derived from ``import_name``.

    .. versionadded:: 0.1
    """

    name: str
    _static_folder: str | None = None
    _static_url_path: str | None = None

    def __init__(
        self,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        root_path: str | None = None,
    ) -> None:
        self.import_name = import_name
        self.static_folder = static_folder
        self.static_url_path = static_url_path
        self.template_folder = template_folder
        if root_path is None:
            root_path = get_root_path(self.import_name)
        self.root_path = root_path

        #: Endpoint → view function.
        self.view_functions: dict[str, t.Callable[..., t.Any]] = {}
        #: Scope (blueprint name or ``None``) → code (or ``None``) → class → handler.
        self.error_handler_spec: dict[
            str | None, dict[int | None, dict[type[Exception], t.Callable[..., t.Any]]]
        ] = defaultdict(lambda: defaultdict(dict))
        self.before_request_funcs: dict[str | None, list[t.Callable[[], t.Any]]] = defaultdict(list)
        self.after_request_funcs: dict[str | None, list[t.Callable[[t.Any], t.Any]]] = defaultdict(
            list
        )
        self.teardown_request_funcs: dict[
            str | None, list[t.Callable[[BaseException | None], t.Any]]
        ] = defaultdict(list)
        self.template_context_processors: dict[
            str | None, list[t.Callable[[], dict[str, t.Any]]]
        ] = defaultdict(list)
        self.url_value_preprocessors: dict[
            str | None, list[t.Callable[[str | None, dict[str, t.Any] | None], None]]
        ] = defaultdict(list)
        self.url_default_functions: dict[
            str | None, list[t.Callable[[str, dict[str, t.Any]], None]]
        ] = defaultdict(list)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def _check_setup_finished(self, f_name: str) -> None:
        raise NotImplementedError

    @property
    def static_folder(self) -> str | None:
        """The absolute path of the static folder, or ``None``."""
        if self._static_folder is not None:
            return os.path.join(self.root_path, self._static_folder)
        return None

    @static_folder.setter
    def static_folder(self, value: str | os.PathLike[str] | None) -> None:
        if value is not None:
            value = os.fspath(value).rstrip(r"\/")
        self._static_folder = value

    @property
    def has_static_folder(self) -> bool:
        """Whether a static folder is configured."""
        return self.static_folder is not None

    @property
    def static_url_path(self) -> str | None:
        """The URL prefix for static files (default: ``/`` + the folder's name)."""
        if self._static_url_path is not None:
            return self._static_url_path
        if self.static_folder is not None:
            basename = os.path.basename(self.static_folder)
            return f"/{basename}".rstrip("/")
        return None

    @static_url_path.setter
    def static_url_path(self, value: str | None) -> None:
        if value is not None:
            value = value.rstrip("/")
        self._static_url_path = value

    @cached_property
    def jinja_loader(self) -> BaseLoader | None:
        """The Jinja loader for this object's own templates.

        A :class:`jinja2.FileSystemLoader` over ``template_folder`` (relative
        to ``root_path``), or ``None`` without a template folder. The app's
        environment asks the app's loader first, then each blueprint's.
        Assign another loader to change where templates come from.

        .. versionadded:: 0.1
        """
        if self.template_folder is None:
            return None
        # PERF: Jinja is imported when templates are first used, not by `import erlen`.
        from jinja2 import FileSystemLoader

        return FileSystemLoader(os.path.join(self.root_path, self.template_folder))

    # -- routes --------------------------------------------------------------

    def _method_route(
        self, method: str, rule: str, options: dict[str, t.Any]
    ) -> t.Callable[[_F], _F]:
        if "methods" in options:
            raise TypeError("Use the 'route' decorator to use the 'methods' argument.")
        return self.route(rule, methods=[method], **options)

    @setupmethod
    def get(self, rule: str, **options: t.Any) -> t.Callable[[_F], _F]:
        """Shortcut for ``route(rule, methods=["GET"])``."""
        return self._method_route("GET", rule, options)

    @setupmethod
    def post(self, rule: str, **options: t.Any) -> t.Callable[[_F], _F]:
        """Shortcut for ``route(rule, methods=["POST"])``."""
        return self._method_route("POST", rule, options)

    @setupmethod
    def put(self, rule: str, **options: t.Any) -> t.Callable[[_F], _F]:
        """Shortcut for ``route(rule, methods=["PUT"])``."""
        return self._method_route("PUT", rule, options)

    @setupmethod
    def delete(self, rule: str, **options: t.Any) -> t.Callable[[_F], _F]:
        """Shortcut for ``route(rule, methods=["DELETE"])``."""
        return self._method_route("DELETE", rule, options)

    @setupmethod
    def patch(self, rule: str, **options: t.Any) -> t.Callable[[_F], _F]:
        """Shortcut for ``route(rule, methods=["PATCH"])``."""
        return self._method_route("PATCH", rule, options)

    @setupmethod
    def route(self, rule: str, **options: t.Any) -> t.Callable[[_F], _F]:
        """Register the decorated function as the view for a URL rule.

        ``@app.route("/user/<int:id>", methods=["GET", "POST"])``. The
        endpoint defaults to the function's name. Options are those of
        :meth:`add_url_rule`.
        """

        def decorator(f: _F) -> _F:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, f, **options)
            return f

        return decorator

    @setupmethod
    def websocket(self, rule: str, **options: t.Any) -> t.Callable[[_F], _F]:
        """Register the decorated ``async def`` function as the WebSocket handler for a URL rule.

        ``@app.websocket("/ws/<room>")``. Inside it, the :data:`~erlen.websocket`
        global is the connection (``accept``, ``receive``, ``send``, ...);
        ``request`` describes the handshake. Served under ASGI only.

        :param rule: The URL rule string.
        :param options: Options of :meth:`add_url_rule` (``endpoint``,
            ``defaults``, ``subdomain``, ...), except ``methods``.
        :raises TypeError: The function is not a coroutine function.

        .. versionadded:: 0.1
        """

        def decorator(f: _F) -> _F:
            if not is_async(f):
                raise TypeError(
                    f"The WebSocket handler {getattr(f, '__name__', f)!r} must be an"
                    " 'async def' function: it runs on the ASGI server's event loop."
                )
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(
                rule,
                endpoint,
                f,
                provide_automatic_options=False,
                methods=["GET"],
                websocket=True,
                **options,
            )
            return f

        return decorator

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: t.Callable[..., t.Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Register a URL rule; see :meth:`Erlen.add_url_rule`."""
        raise NotImplementedError

    @setupmethod
    def endpoint(self, endpoint: str) -> t.Callable[[_F], _F]:
        """Register the decorated function as the view for ``endpoint``
        (for rules added with :meth:`add_url_rule` and no view)."""

        def decorator(f: _F) -> _F:
            self.view_functions[endpoint] = f
            return f

        return decorator

    # -- hooks ---------------------------------------------------------------

    @setupmethod
    def before_request(self, f: _F) -> _F:
        """Run ``f()`` before each request; a non-``None`` return is the response
        and skips the view."""
        self.before_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def after_request(self, f: _F) -> _F:
        """Run ``f(response)`` after each request; it returns the response to
        send. Functions run in reverse order of registration."""
        self.after_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def teardown_request(self, f: _F) -> _F:
        """Run ``f(error)`` when the request context ends, even after an error.

        ``error`` is the unhandled exception or ``None``; the return value is
        ignored and exceptions are logged-and-reraised after all ran.
        """
        self.teardown_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def context_processor(self, f: _F) -> _F:
        """Register a function returning a dict merged into every template's context."""
        self.template_context_processors[None].append(f)
        return f

    @setupmethod
    def url_value_preprocessor(self, f: _F) -> _F:
        """Run ``f(endpoint, values)`` after matching, before ``before_request``;
        it may pop values from the view arguments."""
        self.url_value_preprocessors[None].append(f)
        return f

    @setupmethod
    def url_defaults(self, f: _F) -> _F:
        """Run ``f(endpoint, values)`` when building URLs; it may add values."""
        self.url_default_functions[None].append(f)
        return f

    # -- errors --------------------------------------------------------------

    @setupmethod
    def errorhandler(self, code_or_exception: type[Exception] | int) -> t.Callable[[_F], _F]:
        """Register the decorated function to handle an error.

        ``@app.errorhandler(404)`` or ``@app.errorhandler(KeyError)``. The
        handler receives the exception and returns a response like a view.
        Handlers for a class also handle its subclasses; the closest class in
        the exception's MRO wins, and a handler for a status code is chosen
        before one for a class.
        """

        def decorator(f: _F) -> _F:
            self.register_error_handler(code_or_exception, f)
            return f

        return decorator

    @setupmethod
    def register_error_handler(
        self, code_or_exception: type[Exception] | int, f: t.Callable[..., t.Any]
    ) -> None:
        """Non-decorator form of :meth:`errorhandler`."""
        exc_class, code = self._get_exc_class_and_code(code_or_exception)
        self.error_handler_spec[None][code][exc_class] = f

    @staticmethod
    def _get_exc_class_and_code(
        exc_class_or_code: type[Exception] | int,
    ) -> tuple[type[Exception], int | None]:
        """Normalize an error handler key to (exception class, code or ``None``)."""
        exc_class: type[Exception]
        if isinstance(exc_class_or_code, int):
            try:
                exc_class = default_exceptions[exc_class_or_code]
            except KeyError:
                raise ValueError(
                    f"'{exc_class_or_code}' is not a recognized HTTP error code. Use a"
                    " subclass of HTTPException with that code instead."
                ) from None
        else:
            exc_class = exc_class_or_code
        if isinstance(exc_class, Exception):
            raise TypeError(
                f"{exc_class!r} is an instance, not a class. Handlers can only be"
                " registered for Exception classes or HTTP error codes."
            )
        if not isinstance(exc_class, type) or not issubclass(exc_class, Exception):
            raise ValueError(
                f"'{getattr(exc_class, '__name__', exc_class)}' is not a subclass of"
                " Exception. Handlers can only be registered for Exception classes"
                " or HTTP error codes."
            )
        if issubclass(exc_class, HTTPException):
            return exc_class, exc_class.code
        return exc_class, None


def _endpoint_from_view_func(view_func: t.Callable[..., t.Any]) -> str:
    """The default endpoint for a view: its ``__name__``."""
    assert view_func is not None, "expected view func if endpoint is not provided."
    return view_func.__name__


def find_instance_path(import_name: str, root_path: str, app_name: str) -> str:
    """The default instance folder of an app, found as Flask finds it.

    ``instance`` beside the app's top-level module, or beside (not inside)
    its top-level package; for an installed package,
    ``<sys.prefix>/var/<app_name>-instance``. When the import name can't be
    found (an app made in a shell), ``instance`` under ``root_path``.
    """
    import importlib.util

    top = import_name.partition(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return os.path.join(root_path, "instance")
    locations = list(spec.submodule_search_locations or ())
    if not locations:  # a module: its folder
        folder = os.path.dirname(os.path.abspath(spec.origin or root_path))
    elif spec.origin not in (None, "namespace"):  # a package: beside it
        folder = os.path.dirname(os.path.dirname(os.path.abspath(spec.origin)))
    else:
        # A namespace package spread over several folders: the one that
        # holds the app's own subpackage, else the first.
        folder = os.path.dirname(_namespace_location(import_name, locations))
    prefix = _install_prefix(folder)
    if prefix is None:
        return os.path.join(folder, "instance")
    return os.path.join(prefix, "var", f"{app_name}-instance")


def _namespace_location(import_name: str, locations: list[str]) -> str:
    """The folder of a namespace package that holds ``import_name``'s package."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        inner = os.path.commonpath(list(spec.submodule_search_locations))
        for location in locations:
            if inner == location or inner.startswith(location.rstrip(os.sep) + os.sep):
                return location
    return locations[0]


def _install_prefix(folder: str) -> str | None:
    """The prefix a package folder is installed under, or ``None`` when it
    is not installed (a project checkout): ``sys.prefix`` for a folder
    inside it, else the prefix of the ``site-packages`` folder it is in."""
    prefix = os.path.abspath(sys.prefix)
    if folder == prefix or folder.startswith(prefix.rstrip(os.sep) + os.sep):
        return prefix
    parent, name = os.path.split(folder)
    if name.lower() != "site-packages":
        return None
    grandparent, lib = os.path.split(parent)
    if lib.lower() == "lib":  # Windows: <prefix>/Lib/site-packages
        return grandparent
    if os.path.basename(grandparent).lower() == "lib":  # <prefix>/lib/pythonX.Y/site-packages
        return os.path.dirname(grandparent)
    return parent
