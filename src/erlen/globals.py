"""The context variable and the proxies that read it.

One :class:`~contextvars.ContextVar` holds the active context (see
:mod:`erlen.ctx`); ``current_app``, ``g``, ``request`` and ``session`` are
proxies that look it up on every use, so they are correct per thread and per
asyncio task.
"""

from __future__ import annotations

import typing as t
from contextvars import ContextVar

if t.TYPE_CHECKING:
    from .app import Erlen
    from .ctx import AppContext, _AppCtxGlobals
    from .wrappers import Request

_cv: ContextVar[AppContext] = ContextVar("erlen.ctx")

_no_app_msg = """\
Working outside of application context.

This code needs the active application (current_app, g, url_for, ...).
Push one with 'with app.app_context():' around it, or use the test client
or 'app.test_request_context()' in tests."""

_no_req_msg = """\
Working outside of request context.

This code reads data about the current HTTP request (request, session).
Use it in a view function, or push a context with
'with app.test_request_context():' in tests."""


class LocalProxy:
    """A stand-in object that forwards everything to the current context's object.

    :param get: A no-argument function returning the object to forward to;
        it raises :class:`RuntimeError` when there is none.

    .. versionadded:: 0.1
    """

    __slots__ = ("_get", "__wrapped__")

    def __init__(self, get: t.Callable[[], t.Any]) -> None:
        object.__setattr__(self, "_get", get)

    def _get_current_object(self) -> t.Any:
        """Return the object the proxy stands for right now."""
        return object.__getattribute__(self, "_get")()

    # PERF: attribute reads are the common case (request.args, current_app.config).
    def __getattr__(self, name: str) -> t.Any:
        if name == "__wrapped__":
            return object.__getattribute__(self, "_get")()
        return getattr(object.__getattribute__(self, "_get")(), name)

    def __setattr__(self, name: str, value: t.Any) -> None:
        setattr(self._get_current_object(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._get_current_object(), name)

    def __getitem__(self, key: t.Any) -> t.Any:
        return self._get_current_object()[key]

    def __setitem__(self, key: t.Any, value: t.Any) -> None:
        self._get_current_object()[key] = value

    def __delitem__(self, key: t.Any) -> None:
        del self._get_current_object()[key]

    def __contains__(self, key: t.Any) -> bool:
        return key in self._get_current_object()

    def __iter__(self) -> t.Iterator[t.Any]:
        return iter(self._get_current_object())

    def __len__(self) -> int:
        return len(self._get_current_object())

    def __bool__(self) -> bool:
        try:
            return bool(self._get_current_object())
        except RuntimeError:
            return False

    def __eq__(self, other: object) -> bool:
        return bool(self._get_current_object() == other)

    def __ne__(self, other: object) -> bool:
        return bool(self._get_current_object() != other)

    def __hash__(self) -> int:
        return hash(self._get_current_object())

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return self._get_current_object()(*args, **kwargs)

    def __repr__(self) -> str:
        try:
            return repr(self._get_current_object())
        except RuntimeError:
            return f"<{type(self).__name__} unbound>"

    def __str__(self) -> str:
        return str(self._get_current_object())

    def __dir__(self) -> list[str]:
        try:
            return dir(self._get_current_object())
        except RuntimeError:
            return []

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # so isinstance(request, Request) holds
        try:
            return type(self._get_current_object())
        except RuntimeError:
            return LocalProxy


def _app() -> Erlen:
    ctx = _cv.get(None)
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    return ctx.app


def _g() -> _AppCtxGlobals:
    ctx = _cv.get(None)
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    return ctx.g


def _request() -> Request:
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(_no_req_msg)
    return ctx.request


def _session() -> t.Any:
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(_no_req_msg)
    return ctx.session


def _app_ctx() -> AppContext:
    ctx = _cv.get(None)
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    return ctx


#: The application handling the current request or app context.
current_app: Erlen = LocalProxy(_app)  # type: ignore[assignment]
#: A namespace for data during one app context (one request).
g: _AppCtxGlobals = LocalProxy(_g)  # type: ignore[assignment]
#: The current request.
request: Request = LocalProxy(_request)  # type: ignore[assignment]
#: The current session (opened on first use).
session: t.Any = LocalProxy(_session)
#: The active context object (app or request context).
app_ctx: AppContext = LocalProxy(_app_ctx)  # type: ignore[assignment]
request_ctx: AppContext = LocalProxy(_app_ctx)  # type: ignore[assignment]
