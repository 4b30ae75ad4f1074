"""The one request path: the steps of a request, and the two drivers that run them.

Both server interfaces serve a request with the code in this module:

- The **steps** call no user code: matching, the shortcut for a plain
  ``str`` return, response conversion, error-handler lookup, the decision
  to propagate an unhandled error, the lists of hooks to run and the
  session save. Each is written once (the context's push and quick pop are
  :class:`~erlen.ctx.RequestContext`'s).
- The **sync driver** (:func:`run`, :func:`full_dispatch_request`,
  :func:`preprocess_request`, ...) is what Flask's overridable methods on
  :class:`~erlen.Erlen` do; ``app.wsgi_app`` runs it, and the ASGI adapter
  runs it on one worker thread for a request whose view is a plain ``def``
  (see :mod:`erlen.concurrency`). Where the app's class overrides one of
  those methods, the driver calls the app's method, so the override is
  honoured; where it does not, the function here, one call less.
- The **async driver** (:func:`arun` and the ``a``-prefixed functions)
  serves, on the event loop, a request whose view is an ``async def``. It
  awaits coroutine functions and calls plain ones, so every piece of the
  request's user code runs on the loop's thread. It is used only when the
  app's class overrides none of the methods in :data:`DRIVER_METHODS`
  (worked out once per class); otherwise the sync driver serves such a
  request too, and the view's coroutine runs on the server's loop.

Which driver serves a request is :func:`choose_driver`.
"""

from __future__ import annotations

import sys
import typing as t
from collections.abc import Iterator as _Iterator
from itertools import chain
from types import CoroutineType

from . import signals as _signals
from ._utils import call_wsgi_app
from .concurrency import acall, is_async, run_coroutine
from .exceptions import (
    BadRequestKeyError,
    HTTPException,
    InternalServerError,
    RoutingException,
    SecurityError,
    _EmptyPath,
)
from .globals import _cv
from .http import host_is_trusted
from .wrappers import Response
from .wrappers.response import _text_response

if t.TYPE_CHECKING:
    from .app import Erlen
    from .ctx import AppContext, RequestContext
    from .routing import Rule
    from .wrappers import Request

_RESPONSE_INIT = Response.__init__

# PERF: the context variable's methods, bound once. CPython 3.11 compiles
# `_cv.get(None)` on a module global to a plain attribute load, which it
# never specializes for a C object's method; a bound method global is one
# specialized load.
_cv_get = _cv.get
_cv_set = _cv.set
_cv_reset = _cv.reset

#: The methods of :class:`~erlen.Erlen` that run user code (hooks, views,
#: handlers, teardown). A class that overrides any of them has every
#: request served by the sync driver, which calls them.
DRIVER_METHODS = frozenset(
    (
        "full_dispatch_request",
        "preprocess_request",
        "dispatch_request",
        "handle_http_exception",
        "handle_user_exception",
        "handle_exception",
        "finalize_request",
        "process_response",
        "do_teardown_request",
        "do_teardown_appcontext",
        "ensure_sync",
        "async_to_sync",
    )
)

#: Every method whose override changes how a request is served: the
#: drivers' methods, and the two the adapters shortcut.
OVERRIDABLE = DRIVER_METHODS | {"make_response", "asgi_app"}

_overrides: dict[type, frozenset[str]] = {}


def overridden(cls: type[Erlen], base: type[Erlen]) -> frozenset[str]:
    """The names of ``base``'s dispatch methods that ``cls`` overrides (cached per class)."""
    names = _overrides.get(cls)
    if names is None:
        names = _overrides[cls] = frozenset(
            n for n in OVERRIDABLE if getattr(cls, n) is not getattr(base, n)
        )
    return names


# -- steps: no user code ----------------------------------------------------------


def match(app: Erlen, request: Request) -> None:
    """Match the request once, storing the rule and arguments (or the error) on it."""
    if request.url_rule is not None:
        return  # matched already (the ASGI adapter matches first)
    url_map = app.url_map
    if url_map.host_matching or app.subdomain_matching or app.config["TRUSTED_HOSTS"] is not None:
        match_request(app, request)
        return
    # PERF: the common case of match_request, inlined.
    path = request.path
    if request.routing_exception is not None:
        if not _clear_empty_path(request):
            return  # failed early
        path = ""
    try:
        request.url_rule, request.view_args = url_map.match(
            path, request.method, url_map.default_subdomain
        )
    except HTTPException as e:
        request.routing_exception = e


def _clear_empty_path(request: Request) -> bool:
    """Whether the ``routing_exception`` set before matching is the empty path's marker.

    If so it is cleared: the request is matched as the path ``""``, which
    gives the real outcome. Any other is an error found while reading the
    request, which stays.
    """
    if isinstance(request.routing_exception, _EmptyPath):
        request.routing_exception = None
        return True
    return False


def domain_for(app: Erlen, request: Request) -> str | None:
    """The domain part routing matches on: host, subdomain or the default.

    ``None`` when subdomain matching is on and the host is outside
    ``SERVER_NAME``: :func:`match_request` then matches it as the
    subdomain ``<invalid>``.
    """
    url_map = app.url_map
    if url_map.host_matching:
        return request.host.lower()
    server_name = app.config["SERVER_NAME"]
    if app.subdomain_matching and server_name:
        host = request.host.lower()
        server_name = server_name.lower()
        subdomain = _subdomain_of(host, server_name)
        if subdomain is None:
            # As Werkzeug: a SERVER_NAME with the scheme's default port names
            # the host without it, as the request's host is written.
            default_port = ":443" if request.scheme == "https" else ":80"
            if server_name.endswith(default_port):
                subdomain = _subdomain_of(host, server_name[: -len(default_port)])
        return subdomain
    return url_map.default_subdomain or ""


def _subdomain_of(host: str, server_name: str) -> str | None:
    """The subdomain part of ``host`` under ``server_name`` (``""`` for it
    itself); ``None`` when ``host`` is outside it."""
    if host == server_name:
        return ""
    if host.endswith("." + server_name):
        return host[: -len(server_name) - 1]
    return None


#: The module the warning about a host outside ``SERVER_NAME`` is
#: attributed to, for warning filters; ``None``: the code that matched the
#: request. The compat layer sets ``"flask.app"``: Flask code filters the
#: warning as coming from there.
warning_module: str | None = None
_warning_registry: dict[t.Any, t.Any] = {}


def _outside_server_name(app: Erlen, request: Request) -> str:
    """The subdomain a host outside ``SERVER_NAME`` is matched as: ``<invalid>``, with a warning.

    As Werkzeug does: only a rule whose subdomain is a variable matches it
    (with that value); every other rule answers 404. The warning says why
    (often a server reached by its IP address, or a wrong ``SERVER_NAME``);
    it starts with the words Werkzeug's does, which warning filters name.
    """
    import warnings

    message = (
        f"Current server name {request.host!r} is neither SERVER_NAME"
        f" {app.config['SERVER_NAME']!r} nor one of its subdomains: it is matched as the"
        " subdomain '<invalid>'."
    )
    if warning_module is None:
        warnings.warn(message, stacklevel=3)
    else:
        caller = sys._getframe(2)
        warnings.warn_explicit(
            message,
            UserWarning,
            caller.f_code.co_filename,
            caller.f_lineno,
            module=warning_module,
            registry=_warning_registry,
        )
    return "<invalid>"


def match_request(app: Erlen, request: Request, websocket: bool = False) -> None:
    """Match the request (any domain mode), storing the outcome on it.

    ``websocket`` matches a WebSocket handshake against the WebSocket
    rules (always as ``GET``), with the same host checks.
    """
    path = request.path
    if request.routing_exception is not None:
        if not _clear_empty_path(request):
            return
        path = ""
    trusted = app.config["TRUSTED_HOSTS"]
    if trusted is not None and not host_is_trusted(request.host, trusted):
        request.routing_exception = SecurityError(f"The host {request.host!r} is not trusted.")
        return
    try:
        domain = domain_for(app, request)
        if domain is None:
            domain = _outside_server_name(app, request)
        if websocket:
            request.url_rule, request.view_args = app.url_map.match(
                path, "GET", domain, websocket=True
            )
        else:
            request.url_rule, request.view_args = app.url_map.match(path, request.method, domain)
    except HTTPException as e:
        request.routing_exception = e


def choose_driver(app: Erlen, request: Request) -> tuple[t.Callable[..., t.Any] | None, bool]:
    """The matched request's view, and whether the async driver serves it on the event loop.

    The view is ``None`` when no view answers: a routing error (404, 405, a
    redirect) or an automatic OPTIONS response. The loop serves an ``async
    def`` view, and a request no view answers in an app without request
    hooks; a worker thread serves a plain ``def`` view, and every request
    when the app's class overrides a method of :data:`DRIVER_METHODS`.
    """
    rule = request.url_rule
    if rule is None or request.routing_exception is not None:
        view = None
    elif rule.provide_automatic_options and request.method == "OPTIONS":
        view = None
    else:
        view = app.view_functions[rule.endpoint]  # type: ignore[index]
    if not app._plain_methods:
        return view, False
    if view is None:
        return view, not (
            app.before_request_funcs
            or app.url_value_preprocessors
            or app.after_request_funcs
            or app.teardown_request_funcs
            or app.teardown_appcontext_funcs
        )
    # PERF: asked once per view (as ensure_sync's wrappers are kept): a
    # dict lookup costs less than reading the code flags, attribute reads
    # CPython 3.11 does not specialize. Bounded, as that cache is.
    try:
        found = app._view_is_async.get(view)
    except TypeError:  # an unhashable callable object
        return view, is_async(view)
    if found is None:
        found = is_async(view)
        if len(app._view_is_async) < 1024:
            app._view_is_async[view] = found
    return view, found


def _started(app: Erlen) -> None:
    if not app._got_first_request:
        app._got_first_request = True
    if _signals.request_started.receivers:
        _signals.request_started.send(app, _async_wrapper=app.ensure_sync)


def quick_response(app: Erlen, ctx: AppContext, rv: t.Any) -> Response | None:
    """The response for a view's ``str`` when nothing is to run after the view, else ``None``.

    PERF: the same response ``finalize_request`` would build, in one call.
    """
    if (
        rv.__class__ is str
        and app._plain_finalize
        and ctx._session is None
        and ctx._after_request_functions is None
        and not app.after_request_funcs
        and not _signals.request_finished.receivers
    ):
        cls = app.response_class
        if cls.__init__ is _RESPONSE_INIT:
            return _text_response(cls, rv)
        return cls(rv)
    return None


def split_response_tuple(rv: tuple[t.Any, ...]) -> tuple[t.Any, t.Any, t.Any]:
    """A view's ``(body, status, headers)``, ``(body, status)`` or ``(body, headers)``
    as ``(body, status, headers)``, a missing part ``None``.

    :raises TypeError: A tuple of another length.
    """
    if len(rv) == 3:
        return rv
    if len(rv) == 2:
        if isinstance(rv[1], (dict, tuple, list)) or hasattr(rv[1], "to_wsgi_list"):
            return rv[0], None, rv[1]
        return rv[0], rv[1], None
    raise TypeError(
        "The view function did not return a valid response tuple. The tuple"
        " must have the form (body, status, headers), (body, status), or"
        " (body, headers)."
    )


_base_get_response = HTTPException.get_response


def make_response(app: Erlen, rv: t.Any) -> Response:
    """:meth:`Erlen.make_response <erlen.Erlen.make_response>`."""
    rv_type = type(rv)
    # PERF: the most common returns first, with exact type checks.
    if rv_type is str or rv_type is bytes:
        return app.response_class(rv)
    if rv_type is dict or rv_type is list:
        return app.json.response(rv)
    status = headers = None
    if rv_type is tuple:
        rv, status, headers = split_response_tuple(rv)
    if rv is None:
        request = _cv.get().request
        endpoint = request.endpoint if request is not None else None
        raise TypeError(
            f"The view function for {endpoint!r} did not return a valid response."
            " The function either returned None or ended without a return statement."
        )
    if not isinstance(rv, Response):
        if isinstance(rv, HTTPException):  # first: every default error page comes here
            if type(rv).get_response is _base_get_response:
                rv = rv.get_response()
            else:
                # NOTE: Flask serves the error as a WSGI app, which calls
                # get_response(environ): an override written for Werkzeug
                # may take the environ as a required argument.
                request = _cv.get().request
                rv = rv.get_response(request.environ if request is not None else None)
        elif isinstance(rv, (str, bytes, bytearray)) or isinstance(rv, _Iterator):
            rv = app.response_class(rv, status=status, headers=headers)
            status = headers = None
        elif isinstance(rv, (dict, list)):
            rv = app.json.response(rv)
        elif hasattr(rv, "__aiter__"):
            # An async iterator streams under ASGI (erlen.asgi sends it).
            rv = app.response_class(rv, status=status, headers=headers)
            status = headers = None
        elif callable(rv):
            rv = _response_from_wsgi_app(app, rv)
        else:
            request = _cv.get().request
            endpoint = request.endpoint if request is not None else None
            raise TypeError(
                f"The view function for {endpoint!r} did not return a valid response."
                " The return type must be a string, dict, list, tuple with headers or"
                " status, Response instance, iterator, or WSGI callable, but it was a"
                f" {type(rv).__name__}."
            )
    response: Response = rv
    if status is not None:
        response.status = status
    if headers:
        response.headers.update(headers)
    return response


def _response_from_wsgi_app(app: Erlen, wsgi_app: t.Callable[..., t.Any]) -> Response:
    request = _cv.get().request
    assert request is not None
    status, headers, data = call_wsgi_app(wsgi_app, request.environ)
    return app.response_class(data, status=status, headers=headers)


def find_error_handler(
    app: Erlen, e: Exception, blueprints: list[str]
) -> t.Callable[..., t.Any] | None:
    """The handler for ``e``: by code before class, blueprint before app, closest class first."""
    exc_class, code = app._get_exc_class_and_code(type(e))
    names = (*blueprints, None)
    spec = app.error_handler_spec
    for c in (code, None) if code is not None else (None,):
        for name in names:
            handler_map = spec.get(name, {}).get(c)
            if not handler_map:
                continue
            for cls in exc_class.__mro__:
                handler = handler_map.get(cls)
                if handler is not None:
                    return handler
    return None


def _blueprints(ctx: AppContext) -> list[str]:
    request = ctx.request
    return request.blueprints if request is not None else []


def _before_hooks(
    app: Erlen, request: Request
) -> tuple[list[t.Callable[..., t.Any]], list[t.Callable[..., t.Any]]]:
    """URL value preprocessors and ``before_request`` functions, app first."""
    names = (None, *reversed(request.blueprints))
    preprocessors = [f for name in names for f in app.url_value_preprocessors.get(name, ())]
    before = [f for name in names for f in app.before_request_funcs.get(name, ())]
    return preprocessors, before


def _after_hooks(app: Erlen, ctx: AppContext) -> t.Iterator[t.Callable[[Response], t.Any]]:
    """``after_this_request`` functions, then ``after_request`` ones (blueprints first, reversed)."""
    if ctx._after_request_functions:
        yield from ctx._after_request_functions
    if app.after_request_funcs:
        for name in chain(_blueprints(ctx), (None,)):
            yield from reversed(app.after_request_funcs.get(name, ()))


def _save_session(app: Erlen, ctx: AppContext, response: Response) -> None:
    # PERF: the session is saved only if something opened it.
    session = ctx._session
    if session is not None:
        si = app.session_interface
        if not si.is_null_session(session):
            si.save_session(app, session, response)


def _finished(app: Erlen, response: Response) -> None:
    # Callers check for receivers first (PERF: no call without them).
    _signals.request_finished.send(app, _async_wrapper=app.ensure_sync, response=response)


def _finalize_failed(app: Erlen, from_error_handler: bool) -> None:
    """An after-request step raised: re-raise it, or log it while answering an error."""
    if not from_error_handler:
        raise  # the after-request step's error
    app.logger.exception("Request finalizing failed with an error while handling an error")


def _is_http_error(app: Erlen, e: Exception) -> bool:
    """Whether ``e`` goes to ``handle_http_exception`` (an HTTP error not trapped)."""
    if isinstance(e, BadRequestKeyError) and (app.debug or app.config["TRAP_BAD_REQUEST_ERRORS"]):
        e.show_exception = True
    return isinstance(e, HTTPException) and not app.trap_http_exception(e)


def _http_error_handler(app: Erlen, e: HTTPException) -> t.Callable[..., t.Any] | None:
    """The handler registered for an HTTP error; ``None``: the error is its own response."""
    if e.code is None or isinstance(e, RoutingException) or not app.error_handler_spec:
        return None
    return find_error_handler(app, e, _blueprints(_cv.get()))


def _error_handler(app: Erlen, e: Exception) -> t.Callable[..., t.Any]:
    """The handler registered for any other exception; re-raises ``e`` when there is none."""
    handler = find_error_handler(app, e, _blueprints(_cv.get()))
    if handler is None:
        raise e
    return handler


def _server_error(app: Erlen, e: Exception) -> tuple[t.Any, t.Callable[..., t.Any] | None]:
    """Signal, then propagate ``e`` or log it: the 500 error and its handler.

    :raises Exception: ``e`` itself, in testing or debug mode or with
        ``PROPAGATE_EXCEPTIONS``.
    """
    if _signals.got_request_exception.receivers:
        _signals.got_request_exception.send(app, _async_wrapper=app.ensure_sync, exception=e)
    propagate = app.config["PROPAGATE_EXCEPTIONS"]
    if propagate is None:
        propagate = app.testing or app.debug
    if propagate:
        if sys.exc_info()[1] is e:
            raise  # as it is, traceback and all
        raise e
    app.log_exception((type(e), e, e.__traceback__))
    server_error = InternalServerError(original_exception=e)
    return server_error, find_error_handler(app, server_error, _blueprints(_cv.get()))


def _teardown_request_funcs(app: Erlen, ctx: AppContext) -> list[t.Callable[..., t.Any]]:
    names = chain(_blueprints(ctx), (None,))
    return [f for name in names for f in reversed(app.teardown_request_funcs.get(name, ()))]


def before_pop(
    app: Erlen,
    ctx: RequestContext,
    preserve: t.Callable[[RequestContext], None] | None,
    error: BaseException | None,
) -> BaseException | None:
    """Hand the context to the test client's hook; the error teardown functions see."""
    if preserve is not None:
        preserve(ctx)
    if error is not None and app.should_ignore_error(error):
        return None
    return error


# -- the sync driver ------------------------------------------------------------------


def run(
    app: Erlen, ctx: RequestContext, preserve: t.Callable[[RequestContext], None] | None = None
) -> Response:
    """Serve one request in the current thread: push, dispatch, handle errors, pop.

    The whole of a sync request: ``wsgi_app`` calls it, and the ASGI adapter
    calls it on the request's worker thread. The context is popped (teardown
    functions run) before the response is sent, as in Flask.

    :param preserve: Called with the context before it is popped (the test
        client keeps it for ``with client:`` blocks).
    """
    error: BaseException | None = None
    try:
        try:
            # PERF: push()'s common case (nothing outside, no receivers) inlined.
            if _cv_get(None) is None and not _signals.appcontext_pushed.receivers:
                ctx._tokens.append(_cv_set(ctx))
            else:
                ctx.push()
            if app._plain_full_dispatch:
                return full_dispatch_request(app, ctx)
            return app.full_dispatch_request()
        except Exception as e:
            error = e
            if ctx._after_response is not None:
                ctx._after_response = None  # as in full_dispatch_request
            return handle_exception(app, e) if app._plain_methods else app.handle_exception(e)
        except BaseException:
            error = sys.exc_info()[1]
            raise
    finally:
        if preserve is not None or error is not None:
            error = before_pop(app, ctx, preserve, error)
        # PERF: pop()'s common case inlined (a call per request): with no
        # teardown work due, popping is resetting the variable. The async
        # driver (arun) holds the same check: change both together.
        tokens = ctx._tokens
        if (
            len(tokens) == 1
            and not app.teardown_request_funcs
            and not app.teardown_appcontext_funcs
            and not ctx.request._files  # type: ignore[union-attr]
            and not _signals.request_tearing_down.receivers
            and not _signals.appcontext_tearing_down.receivers
            and not _signals.appcontext_popped.receivers
            and _cv_get(None) is ctx
        ):
            _cv_reset(tokens.pop())
        else:
            ctx.pop(error)


def full_dispatch_request(app: Erlen, ctx: AppContext | None = None) -> Response:
    """:meth:`Erlen.full_dispatch_request <erlen.Erlen.full_dispatch_request>`."""
    if ctx is None:
        ctx = _cv.get()
    # PERF: annotations, not t.cast (a call), on the request path.
    request: Request = ctx.request  # type: ignore[assignment]
    plain = app._plain_methods
    try:
        if not app._got_first_request or _signals.request_started.receivers:
            _started(app)
        url_map = app.url_map
        if (
            request.url_rule is None
            and request.routing_exception is None
            and not (url_map.host_matching or app.subdomain_matching)
            and app.config["TRUSTED_HOSTS"] is None
        ):
            # PERF: match's common case inlined (a call per request).
            try:
                request.url_rule, request.view_args = url_map.match(
                    request.path, request.method, url_map.default_subdomain
                )
            except HTTPException as e:
                request.routing_exception = e
        else:
            match(app, request)
        rv = None
        # PERF: the hook machinery runs only when some hook is registered.
        if app.before_request_funcs or app.url_value_preprocessors or not app._plain_preprocess:
            rv = app.preprocess_request()
        if rv is None:
            if app._plain_dispatch and request.routing_exception is None:
                # PERF: dispatch_request's common case, inlined.
                rule: Rule = request.url_rule  # type: ignore[assignment]
                # PERF: the method first: it is rarely OPTIONS.
                if request.method == "OPTIONS" and rule.provide_automatic_options:
                    rv = app.make_default_options_response()
                else:
                    view = app.view_functions[rule.endpoint]  # type: ignore[index]
                    args = request.view_args
                    # PERF: a call without `**` when there is nothing to pass
                    # (a `**` call copies the dict and binds by keyword).
                    rv = view(**args) if args else view()
                    if rv.__class__ is CoroutineType:
                        rv = run_coroutine(rv)
            else:
                rv = dispatch_request(app) if plain else app.dispatch_request()
    except Exception as e:
        if ctx._after_response is not None:
            ctx._after_response = None  # a request that failed drops its after-response work
        rv = handle_user_exception(app, e) if plain else app.handle_user_exception(e)
    # PERF: quick_response inlined (a call per request): a view's str with
    # nothing to run after the view is the response at once.
    if (
        rv.__class__ is str
        and app._plain_finalize
        and ctx._session is None
        and ctx._after_request_functions is None
        and not app.after_request_funcs
        and not _signals.request_finished.receivers
    ):
        cls = app.response_class
        return _text_response(cls, rv) if cls.__init__ is _RESPONSE_INIT else cls(rv)
    return finalize_request(app, rv, False) if plain else app.finalize_request(rv)


def preprocess_request(app: Erlen) -> t.Any:
    """:meth:`Erlen.preprocess_request <erlen.Erlen.preprocess_request>`."""
    request: Request = _cv.get().request  # type: ignore[assignment]
    preprocessors, before = _before_hooks(app, request)
    for url_func in preprocessors:
        app.ensure_sync(url_func)(request.endpoint, request.view_args)
    for before_func in before:
        rv = app.ensure_sync(before_func)()
        if rv is not None:
            return rv
    return None


def dispatch_request(app: Erlen) -> t.Any:
    """:meth:`Erlen.dispatch_request <erlen.Erlen.dispatch_request>`."""
    request: Request = _cv.get().request  # type: ignore[assignment]
    if request.routing_exception is not None:
        app.raise_routing_exception(request)
    rule: Rule = request.url_rule  # type: ignore[assignment]
    if rule.provide_automatic_options and request.method == "OPTIONS":
        return app.make_default_options_response()
    # As Flask: the view goes through ensure_sync (which an app may override).
    view = app.ensure_sync(app.view_functions[rule.endpoint])  # type: ignore[index]
    rv = view(**request.view_args)  # type: ignore[arg-type]
    if rv.__class__ is CoroutineType:  # a plain function that returned a coroutine
        rv = run_coroutine(rv)
    return rv


def finalize_request(app: Erlen, rv: t.Any, from_error_handler: bool) -> Response:
    """:meth:`Erlen.finalize_request <erlen.Erlen.finalize_request>`."""
    plain = app._plain_finalize
    response = make_response(app, rv) if plain else app.make_response(rv)
    try:
        response = process_response(app, response) if plain else app.process_response(response)
        if _signals.request_finished.receivers:
            _finished(app, response)
    except Exception:
        _finalize_failed(app, from_error_handler)
    return response


def process_response(app: Erlen, response: Response) -> Response:
    """:meth:`Erlen.process_response <erlen.Erlen.process_response>`."""
    ctx = _cv.get()
    if ctx._after_request_functions or app.after_request_funcs:
        for func in _after_hooks(app, ctx):
            response = app.ensure_sync(func)(response)
    if ctx._session is not None:  # PERF: no call when nothing opened the session
        _save_session(app, ctx, response)
    return response


def handle_user_exception(app: Erlen, e: Exception) -> t.Any:
    """:meth:`Erlen.handle_user_exception <erlen.Erlen.handle_user_exception>`."""
    if _is_http_error(app, e):
        if app._plain_methods:
            return handle_http_exception(app, e)  # type: ignore[arg-type]
        return app.handle_http_exception(e)  # type: ignore[arg-type]
    return app.ensure_sync(_error_handler(app, e))(e)


def handle_http_exception(app: Erlen, e: HTTPException) -> t.Any:
    """:meth:`Erlen.handle_http_exception <erlen.Erlen.handle_http_exception>`."""
    handler = _http_error_handler(app, e)
    if handler is None:
        return e
    return app.ensure_sync(handler)(e)


def handle_exception(app: Erlen, e: Exception) -> Response:
    """:meth:`Erlen.handle_exception <erlen.Erlen.handle_exception>`."""
    server_error, handler = _server_error(app, e)
    if handler is not None:
        server_error = app.ensure_sync(handler)(server_error)
    if app._plain_finalize:
        return finalize_request(app, server_error, True)
    return app.finalize_request(server_error, from_error_handler=True)


def do_teardown_request(app: Erlen, exc: BaseException | None) -> None:
    """:meth:`Erlen.do_teardown_request <erlen.Erlen.do_teardown_request>`."""
    if app.teardown_request_funcs:
        _run_all([app.ensure_sync(f) for f in _teardown_request_funcs(app, _cv.get())], exc)
    if _signals.request_tearing_down.receivers:
        _signals.request_tearing_down.send(app, _async_wrapper=app.ensure_sync, exc=exc)


def do_teardown_appcontext(app: Erlen, exc: BaseException | None) -> None:
    """:meth:`Erlen.do_teardown_appcontext <erlen.Erlen.do_teardown_appcontext>`."""
    if app.teardown_appcontext_funcs:
        _run_all([app.ensure_sync(f) for f in reversed(app.teardown_appcontext_funcs)], exc)
    if _signals.appcontext_tearing_down.receivers:
        _signals.appcontext_tearing_down.send(app, _async_wrapper=app.ensure_sync, exc=exc)


def _run_all(funcs: list[t.Callable[[t.Any], t.Any]], arg: t.Any) -> None:
    """Call every function with ``arg``; re-raise the first error after all ran."""
    first: Exception | None = None
    for func in funcs:
        try:
            func(arg)
        except Exception as e:
            if first is None:
                first = e
    if first is not None:
        raise first


# -- the async driver -----------------------------------------------------------------


async def arun(
    app: Erlen,
    ctx: RequestContext,
    view: t.Callable[..., t.Any] | None,
    preserve: t.Callable[[RequestContext], None] | None = None,
) -> Response:
    """Serve one matched request on the event loop: the async twin of :func:`run`.

    :param view: The view to call (``None`` when no view answers); see
        :func:`choose_driver`. The context is pushed here unless the caller
        pushed it already.
    """
    if not ctx._tokens:
        ctx.push()
    request: Request = ctx.request  # type: ignore[assignment]
    error: BaseException | None = None
    try:
        try:
            if not app._got_first_request or _signals.request_started.receivers:
                _started(app)
            # NOTE: code on the loop must not block on the body: read it first
            # (an error such as 413 goes to the handlers like any other).
            body = request._input
            if body is not None:
                waiting = body.preload(request)
                if waiting is not None:
                    # PERF: the server's receive() awaited here, not in a
                    # coroutine of the adapter's (about 1 k instructions).
                    rest = body.received(request, await waiting)
                    if rest is not None:
                        await rest
            rv = None
            if app.before_request_funcs or app.url_value_preprocessors:
                rv = await apreprocess_request(app, request)
            if rv is None:
                if view is not None:
                    args = request.view_args
                    # PERF: a view without URL arguments is called without
                    # unpacking an empty dict.
                    rv = view(**args) if args else view()
                    if rv.__class__ is CoroutineType:
                        rv = await rv
                elif request.routing_exception is None:
                    rv = app.make_default_options_response()
                else:
                    app.raise_routing_exception(request)
        except Exception as e:
            if ctx._after_response is not None:
                ctx._after_response = None  # as in full_dispatch_request
            rv = await ahandle_user_exception(app, e)
        # PERF: quick_response answers only a str (a call fewer for the rest).
        if rv.__class__ is str:
            response = quick_response(app, ctx, rv)
            if response is not None:
                return response
        if ctx._after_request_functions or app.after_request_funcs:
            return await afinalize_request(app, rv)
        # PERF: afinalize_request's steps when no after-request function is
        # to be awaited, without a coroutine of its own; a response (a typed
        # view's) is what make_response would return for it.
        if app._plain_finalize and isinstance(rv, Response):
            response = rv
        else:
            response = app.make_response(rv)
        if ctx._session is not None:
            _save_session(app, ctx, response)
        if _signals.request_finished.receivers:
            _finished(app, response)
        return response
    except Exception as e:
        error = e
        if ctx._after_response is not None:
            ctx._after_response = None  # as in full_dispatch_request
        return await ahandle_exception(app, e)
    except BaseException as e:
        error = e
        raise
    finally:
        if preserve is not None or error is not None:
            error = before_pop(app, ctx, preserve, error)
        # PERF: pop()'s common case inlined, as in run() (change both
        # together): with no teardown work due, popping is resetting the variable.
        tokens = ctx._tokens
        if (
            len(tokens) == 1
            and not app.teardown_request_funcs
            and not app.teardown_appcontext_funcs
            and not request._files
            and not _signals.request_tearing_down.receivers
            and not _signals.appcontext_tearing_down.receivers
            and not _signals.appcontext_popped.receivers
            and _cv_get(None) is ctx
        ):
            _cv_reset(tokens.pop())
        else:
            await apop(app, ctx, error)


async def apreprocess_request(app: Erlen, request: Request) -> t.Any:
    """URL value preprocessors and ``before_request`` functions, on the loop."""
    preprocessors, before = _before_hooks(app, request)
    for url_func in preprocessors:
        await acall(url_func, request.endpoint, request.view_args)
    for before_func in before:
        rv = await acall(before_func)
        if rv is not None:
            return rv
    return None


async def afinalize_request(app: Erlen, rv: t.Any, from_error_handler: bool = False) -> Response:
    """The response for ``rv`` after the after-request steps, on the loop."""
    response = app.make_response(rv)
    try:
        ctx = _cv_get()
        if ctx._after_request_functions or app.after_request_funcs:
            for func in _after_hooks(app, ctx):
                response = await acall(func, response)
        _save_session(app, ctx, response)
        if _signals.request_finished.receivers:
            _finished(app, response)
    except Exception:
        _finalize_failed(app, from_error_handler)
    return response


async def ahandle_user_exception(app: Erlen, e: Exception) -> t.Any:
    """Give ``e`` to its handler (awaited when async); re-raise it when none fits."""
    if _is_http_error(app, e):
        handler = _http_error_handler(app, e)  # type: ignore[arg-type]
        return e if handler is None else await acall(handler, e)
    return await acall(_error_handler(app, e), e)


async def ahandle_exception(app: Erlen, e: Exception) -> Response:
    """Log an unhandled error and answer 500 (or propagate it), on the loop."""
    server_error, handler = _server_error(app, e)
    if handler is not None:
        server_error = await acall(handler, server_error)
    return await afinalize_request(app, server_error, from_error_handler=True)


async def apop(app: Erlen, ctx: RequestContext, error: BaseException | None) -> None:
    """Pop the context, awaiting async teardown functions on the loop."""
    if (
        not (app.teardown_request_funcs or app.teardown_appcontext_funcs)
        or len(ctx._tokens) != 1
        or _cv.get(None) is not ctx
    ):
        ctx.pop(error)  # no function to await, nested, or out of order: pop() answers
        return
    try:
        try:
            if app.teardown_request_funcs:
                await _arun_all(_teardown_request_funcs(app, ctx), error)
            if _signals.request_tearing_down.receivers:
                _signals.request_tearing_down.send(app, _async_wrapper=app.ensure_sync, exc=error)
        finally:
            request: Request = ctx.request  # type: ignore[assignment]
            if request._files:
                request.close()
            if ctx._outer is None:
                if app.teardown_appcontext_funcs:
                    await _arun_all(list(reversed(app.teardown_appcontext_funcs)), error)
                if _signals.appcontext_tearing_down.receivers:
                    _signals.appcontext_tearing_down.send(
                        app, _async_wrapper=app.ensure_sync, exc=error
                    )
    finally:
        ctx._finish_pop()


async def _arun_all(funcs: list[t.Callable[[t.Any], t.Any]], arg: t.Any) -> None:
    first: Exception | None = None
    for func in funcs:
        try:
            await acall(func, arg)
        except Exception as e:
            if first is None:
                first = e
    if first is not None:
        raise first
