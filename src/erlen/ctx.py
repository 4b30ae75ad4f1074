"""Application and request contexts.

A context makes ``current_app``, ``g``, ``request`` and ``session`` point at
the right objects while a request (or a CLI command, or a test) runs. Erlen
keeps one context variable (:data:`erlen.globals._cv`); a request context is
an app context that also carries a request, so pushing one is a single
``ContextVar.set``.

Flask's observable rules hold: pushing a request context inside a context
of the same app (an app context or another request's) shares its ``g``;
teardown functions run when the context that owns them is popped; errors
raised by teardown functions are collected and re-raised after all have run.
"""

from __future__ import annotations

import sys
import typing as t
from contextvars import Token
from functools import update_wrapper

from . import dispatch as _dispatch
from . import signals as _signals
from .globals import _cv

if t.TYPE_CHECKING:
    from .app import Erlen
    from .wrappers import Request, Response

_sentinel = object()
_new_object = object.__new__


class _AppCtxGlobals:
    """The ``g`` namespace: a plain object with a few dict-like helpers.

    .. versionadded:: 0.1
    """

    def get(self, name: str, default: t.Any = None) -> t.Any:
        """Return attribute ``name``, or ``default`` when it is not set."""
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: t.Any = _sentinel) -> t.Any:
        """Remove attribute ``name`` and return it (or ``default``)."""
        if default is _sentinel:
            return self.__dict__.pop(name)
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: t.Any = None) -> t.Any:
        """Return attribute ``name``, setting it to ``default`` first if unset."""
        return self.__dict__.setdefault(name, default)

    def __contains__(self, item: str) -> bool:
        return item in self.__dict__

    def __iter__(self) -> t.Iterator[str]:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        ctx = _cv.get(None)
        if ctx is not None:
            # Flask's name under the compat layer, whose apps' tests compare it.
            shim = sys.modules.get("flask")
            name = "flask" if shim is not None and hasattr(shim, "__shim__") else "erlen"
            return f"<{name}.g of {ctx.app.name!r}>"
        return object.__repr__(self)


class AppContext:
    """The application context: makes ``current_app`` and ``g`` available.

    Use it as ``with app.app_context(): ...``. A request context
    (:class:`RequestContext`) is a subclass that also carries the request.

    :param app: The application.

    .. versionadded:: 0.1
    """

    # PERF: class-level defaults, so creating a context sets only what differs.
    request: Request | None = None
    _g: _AppCtxGlobals | None = None
    _session: t.Any = None
    #: The outer context of the same app whose ``g`` and app-level teardown
    #: this one shares; ``None`` when this context owns them.
    _outer: AppContext | None = None
    _after_request_functions: list[t.Callable[[t.Any], t.Any]] | None = None
    #: Functions to call after the response is sent (erlen.background).
    _after_response: (
        list[tuple[t.Callable[..., t.Any], tuple[t.Any, ...], dict[str, t.Any]]] | None
    ) = None
    #: The request context whose request (and session) this app context
    #: borrowed, when pushed inside it.
    _borrowed: AppContext | None = None
    #: Flashed messages read during this request (see erlen.sessions).
    flashes: list[tuple[str, str]] | None = None
    #: Set when this context was popped while a request context that shares
    #: it was still active (see :meth:`pop`): the context to restore in its
    #: place when that request context is popped.
    _popped_under: bool = False
    _restore_to: AppContext | None = None

    def __init__(self, app: Erlen) -> None:
        self.app = app
        self._tokens: list[Token[AppContext]] = []

    @property
    def g(self) -> _AppCtxGlobals:
        """The ``g`` object of this context, created on first use."""
        owner = self._outer or self
        g = owner._g
        if g is None:
            g = owner._g = self.app.app_ctx_globals_class()
        return g

    @g.setter
    def g(self, value: _AppCtxGlobals) -> None:
        (self._outer or self)._g = value

    @property
    def session(self) -> t.Any:
        """The session, opened on first access (see :mod:`erlen.sessions`)."""
        if self._session is None:
            if self._borrowed is not None:
                # One session per request, also inside a nested app context.
                return self._borrowed.session
            if self.request is None:
                raise RuntimeError("There is no session outside a request context.")
            self._session = self.app._open_session(self.request)
        return self._session

    @session.setter
    def session(self, value: t.Any) -> None:
        self._session = value

    def push(self) -> None:
        """Make this context the active one."""
        tokens = self._tokens
        if not tokens:
            outer = _cv.get(None)
            if outer is not None and outer.app is self.app and outer.request is not None:
                # NOTE: Flask keeps `request` and `session` usable inside
                # `with app.app_context()` entered from a view; the new app
                # context gets its own g.
                self.request = outer.request
                self._borrowed = outer
        tokens.append(_cv.set(self))
        if _signals.appcontext_pushed.receivers and len(tokens) == 1:
            _signals.appcontext_pushed.send(self.app, _async_wrapper=self.app.ensure_sync)

    def pop(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        """Deactivate this context, running teardown functions on the last pop.

        :param exc: The unhandled exception to pass to teardown functions;
            defaults to the one being handled, if any.
        :raises AssertionError: Another context is active (pops out of order).
        """
        tokens = self._tokens
        if not tokens:
            raise RuntimeError(f"Popped {self!r} that is not pushed.")
        active = _cv.get(None)
        # A request context pushed inside this one shares it instead of
        # pushing an app context of its own, as in Flask, whose app and
        # request contexts are two stacks: this one can then be popped while
        # that request context stays active (a test client's `with` block
        # keeps its last request's context pushed until the block ends).
        if active is not self and (
            active is None or active._outer is not self or isinstance(self, RequestContext)
        ):
            raise AssertionError(f"Popped the wrong context ({self!r} is not the active one).")
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        try:
            if len(tokens) == 1:
                self._teardown(exc)
        finally:
            if active is self:
                self._finish_pop()
            else:
                self._pop_under()

    def _pop_under(self) -> None:
        """Pop this context while a request context that shares it stays active."""
        token = self._tokens.pop()
        if not self._tokens:
            self._popped_under = True
            self._restore_to = None if token.old_value is Token.MISSING else token.old_value
            if _signals.appcontext_popped.receivers:
                _signals.appcontext_popped.send(self.app, _async_wrapper=self.app.ensure_sync)

    def _finish_pop(self) -> None:
        """Reset the context variable (after any teardown) and signal the last pop."""
        tokens = self._tokens
        token = tokens.pop()
        try:
            _cv.reset(token)
        except ValueError:
            # Pushed in another contextvars Context: stream_with_context called
            # in an async view (the event loop's task) and popped where the
            # stream is read. Restore what the push replaced, by hand.
            # (None reads as no context: every reader uses _cv.get(None).)
            old = None if token.old_value is Token.MISSING else token.old_value
            _cv.set(t.cast("AppContext", old))
        restored = _cv.get(None)
        if restored is not None and restored._popped_under and not restored._tokens:
            # The context under this one was popped first (see pop): what it
            # replaced is active again, not the popped context.
            _cv.set(t.cast("AppContext", restored._restore_to))
        if not tokens and self._outer is None and _signals.appcontext_popped.receivers:
            _signals.appcontext_popped.send(self.app, _async_wrapper=self.app.ensure_sync)

    def _teardown(self, exc: BaseException | None) -> None:
        app = self.app
        if self._outer is None and (
            app.teardown_appcontext_funcs or _signals.appcontext_tearing_down.receivers
        ):
            app.do_teardown_appcontext(exc)

    def __enter__(self) -> AppContext:
        self.push()
        return self

    def __exit__(self, exc_type: t.Any, exc_value: BaseException | None, tb: t.Any) -> None:
        self.pop(exc_value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.app.name!r}>"


class RequestContext(AppContext):
    """The request context: an app context that also carries the request.

    :param app: The application.
    :param environ: A WSGI environ to build the request from (ignored when
        ``request`` is given).
    :param request: A ready request object.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        app: Erlen,
        environ: dict[str, t.Any] | None = None,
        request: Request | None = None,
        session: t.Any = None,
    ) -> None:
        self.app = app
        self._tokens = []
        if request is None:
            # NOTE: the app builds it: only the adapters know an environ.
            request = app._environ_request(environ or {})
        self.request = request
        if session is not None:
            self._session = session

    @classmethod
    def _for(cls, app: Erlen, request: Request) -> RequestContext:
        """``cls(app, request=request)`` for the adapters, with nothing else to check.

        PERF: calling the class runs ``__init__`` through the type machinery
        (an argument tuple, a second interpreter frame); one of these a
        request adds up.
        """
        self = _new_object(cls)
        self.app = app
        self._tokens = []
        self.request = request
        # PERF: the request path reads these on every request; read from the
        # instance they are looked up faster than as the class's defaults.
        self._session = self._after_request_functions = self._after_response = None
        return self

    def push(self) -> None:
        """Make this context active, sharing ``g`` with an outer context of the same app."""
        tokens = self._tokens
        if not tokens:
            outer = _cv.get(None)
            if outer is not None and outer.app is self.app:
                # NOTE: as in Flask, whose request context pushes no app
                # context when one of the same app is active: also inside
                # another request's context (pytest-flask keeps a test
                # request context pushed for each test, and the test reads
                # the g and the database session that its requests used).
                self._outer = outer._outer or outer
            else:
                self._outer = None
        tokens.append(_cv.set(self))
        if _signals.appcontext_pushed.receivers and len(tokens) == 1 and self._outer is None:
            _signals.appcontext_pushed.send(self.app, _async_wrapper=self.app.ensure_sync)

    def match_request(self) -> None:
        """Match the request against the URL map, storing the outcome on the request."""
        _dispatch.match_request(self.app, self.request)  # type: ignore[arg-type]

    def _teardown(self, exc: BaseException | None) -> None:
        app = self.app
        try:
            # PERF: nothing to call for an app without teardown functions.
            if app.teardown_request_funcs or _signals.request_tearing_down.receivers:
                app.do_teardown_request(exc)
        finally:
            request = self.request
            if request._files:  # type: ignore[union-attr]
                request.close()  # type: ignore[union-attr]
            if self._outer is None and (
                app.teardown_appcontext_funcs or _signals.appcontext_tearing_down.receivers
            ):
                app.do_teardown_appcontext(exc)

    def copy(self) -> RequestContext:
        """A new context for the same request and session, for another thread or greenlet."""
        return type(self)(self.app, request=self.request, session=self._session)


#: ``RequestContext._for``, bound once. PERF: CPython 3.11 never specializes
#: an attribute read on a class, and the WSGI adapter makes a context per request.
_request_context = RequestContext._for


def has_app_context() -> bool:
    """Whether an application context is active.

    .. versionadded:: 0.1
    """
    return _cv.get(None) is not None


def has_request_context() -> bool:
    """Whether a request context is active (``request`` can be used).

    .. versionadded:: 0.1
    """
    ctx = _cv.get(None)
    return ctx is not None and ctx.request is not None


def after_this_request(f: t.Callable[[Response], Response]) -> t.Callable[[Response], Response]:
    """Run ``f(response)`` after this request; it returns the response to send.

    Useful to change the response of a view from deep inside it, e.g. to set
    a cookie. Functions run in the order they were added, before the app's
    ``after_request`` functions.

    .. versionadded:: 0.1
    """
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(
            "'after_this_request' can only be used when a request"
            " context is active, such as in a view function."
        )
    if ctx._after_request_functions is None:
        ctx._after_request_functions = []
    ctx._after_request_functions.append(f)
    return f


_F = t.TypeVar("_F", bound=t.Callable[..., t.Any])


def copy_current_request_context(f: _F) -> _F:
    """Decorate ``f`` so it runs in a copy of the current request context.

    Use it for functions handed to a thread or greenlet that need
    ``request`` or ``session`` after the view returned.

    .. versionadded:: 0.1
    """
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(
            "'copy_current_request_context' can only be used when a"
            " request context is active, such as in a view function."
        )
    ctx = ctx.copy()  # type: ignore[attr-defined]

    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        with ctx:
            return ctx.app.ensure_sync(f)(*args, **kwargs)

    return update_wrapper(wrapper, f)  # type: ignore[return-value]
