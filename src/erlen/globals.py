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

    ``LocalProxy(get)`` returns an instance of a small subclass made for that
    getter; every attribute read, write and operator goes to ``get()``.

    :param get: A no-argument function returning the object to forward to;
        it raises :class:`RuntimeError` when there is none.

    .. versionadded:: 0.1
    """

    __slots__ = ()

    def __new__(cls, get: t.Callable[[], t.Any]) -> LocalProxy:
        # PERF: __getattribute__ with the getter bound as a default argument.
        # A __getattr__ fallback would first fail a normal lookup on the proxy
        # itself, which costs several times more per `request.args`.
        def __getattribute__(
            self: LocalProxy, name: str, _get: t.Callable[[], t.Any] = get
        ) -> t.Any:
            if name[0] == "_":
                if name == "_get_current_object":
                    return _get
                if name == "__class__":  # so isinstance(request, Request) holds
                    try:
                        return type(_get())
                    except RuntimeError:
                        return proxy_class
                if name == "__wrapped__":
                    try:
                        return _get()
                    except RuntimeError:
                        # Unbound, nothing is wrapped: an AttributeError keeps
                        # hasattr() and inspect.unwrap() working, which
                        # doctest's scan of a module that imported the proxy
                        # relies on (Werkzeug's proxy answers there too).
                        raise AttributeError("__wrapped__") from None
            return getattr(_get(), name)

        def __setattr__(
            self: LocalProxy, name: str, value: t.Any, _get: t.Callable[[], t.Any] = get
        ) -> None:
            setattr(_get(), name, value)

        def __delattr__(self: LocalProxy, name: str, _get: t.Callable[[], t.Any] = get) -> None:
            delattr(_get(), name)

        proxy_class = type(
            cls.__name__,
            (cls,),
            {
                "__slots__": (),
                "__getattribute__": __getattribute__,
                "__setattr__": __setattr__,
                "__delattr__": __delattr__,
                "__module__": cls.__module__,
            },
        )
        return object.__new__(proxy_class)

    if t.TYPE_CHECKING:

        def _get_current_object(self) -> t.Any:
            """Return the object the proxy stands for right now."""

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
            return f"<{LocalProxy.__name__} unbound>"

    def __str__(self) -> str:
        return str(self._get_current_object())

    def __dir__(self) -> list[str]:
        try:
            return dir(self._get_current_object())
        except RuntimeError:
            return []

    # `with app_ctx:` and the like: the protocol is looked up on the type,
    # so it is forwarded explicitly, as Werkzeug's proxy does.
    def __enter__(self) -> t.Any:
        return self._get_current_object().__enter__()

    def __exit__(self, *exc: t.Any) -> t.Any:
        return self._get_current_object().__exit__(*exc)

    async def __aenter__(self) -> t.Any:
        return await self._get_current_object().__aenter__()

    async def __aexit__(self, *exc: t.Any) -> t.Any:
        return await self._get_current_object().__aexit__(*exc)


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


def _request_proxy() -> Request:
    """The ``request`` proxy: a :class:`LocalProxy` of :func:`_request` whose
    reads of public names look the context up themselves.

    PERF: ``request.args`` and the like are the most frequent proxy reads
    of a request; this makes each one Python call instead of two.
    """
    proxy = LocalProxy(_request)
    general = type(proxy).__getattribute__

    def __getattribute__(
        self: LocalProxy,
        name: str,
        _general: t.Callable[[LocalProxy, str], t.Any] = general,
        _cv_get: t.Callable[[None], AppContext | None] = _cv.get,
    ) -> t.Any:
        if name[0] != "_":
            ctx = _cv_get(None)
            if ctx is not None:
                request = ctx.request
                if request is not None:
                    return getattr(request, name)
        # Private and special names, and the error outside a request.
        return _general(self, name)

    type(proxy).__getattribute__ = __getattribute__  # type: ignore[method-assign,assignment]
    return t.cast("Request", proxy)


def _session() -> t.Any:
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(_no_req_msg)
    return ctx.session


def _app_ctx() -> AppContext:
    ctx = _cv.get(None)
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    # A request inside an outer app context of the same app uses that
    # context, as in Flask: the same object (extensions key per-context state
    # on its identity, Flask-SQLAlchemy its session) and the same g.
    return ctx._outer or ctx


def _request_ctx() -> AppContext:
    ctx = _cv.get(None)
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    return ctx


def _default_template_ctx_processor() -> dict[str, t.Any]:
    """The values every template gets: ``g`` in an app context, ``request``
    and ``session`` in a request.

    It is the first of an app's ``template_context_processors[None]``, where
    Flask keeps its own default processor (extensions' tests look for theirs
    after it). Erlen's rendering adds these values itself, keeping the
    session lazy, and skips this function; calling it returns the same.
    """
    ctx = _cv.get(None)
    if ctx is None:
        return {}
    if ctx.request is None:
        return {"g": ctx.g}
    opened = ctx._session
    return {"g": ctx.g, "request": ctx.request, "session": session if opened is None else opened}


#: The application handling the current request or app context.
current_app: Erlen = LocalProxy(_app)  # type: ignore[assignment]
#: A namespace for data during one app context (one request).
g: _AppCtxGlobals = LocalProxy(_g)  # type: ignore[assignment]
#: The current request.
request: Request = _request_proxy()
#: The current session (opened on first use).
session: t.Any = LocalProxy(_session)
#: The active context object (app or request context).
app_ctx: AppContext = LocalProxy(_app_ctx)  # type: ignore[assignment]
request_ctx: AppContext = LocalProxy(_request_ctx)  # type: ignore[assignment]
