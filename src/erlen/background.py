"""Work after the response: functions that run once the response has been sent.

A view calls :func:`call_after_response` to have a function run after the
last byte of its response has been handed to the server, so the client is
not kept waiting for work it does not need to see (a notification e-mail,
a cache warm-up, an audit record). It is FastAPI's ``BackgroundTasks``
with Flask's manners: the function gets the arguments it was registered
with and runs inside an application context.

When they run:

- Under WSGI, in the ``close()`` of the response's body iterable, which a
  PEP 3333 server calls after it has sent the body (the adapter wraps the
  body only for a request that registered something).
- Under ASGI, after the final ``http.response.body`` message was sent. A
  plain ``def`` runs on a worker thread of the app's pool (the request's
  own, when it has one), an ``async def`` on the event loop.

They run one after the other, in the order they were registered, each in
a fresh application context of its own: ``current_app`` and ``g`` work
(``g`` is new, not the request's), ``request`` and ``session`` can still be
read (changes to the session are not saved: the cookie has gone), and the
app's ``teardown_appcontext`` functions run after each one, so a database
connection it opened on ``g`` is closed as after a request. Its
``teardown_request`` functions do not run again.

They run only for a request that did not fail: when an exception left a
view or a hook, even one an error handler turned into a response
(``abort(404)`` included), the functions registered so far are dropped, as
FastAPI drops a response's background tasks when its endpoint raises. A
view that *returns* an error response keeps them, and an error handler
may register its own. An exception raised by one of the functions is
logged (``app.logger.exception``); the others still run, and the response,
already sent, is unchanged.

Nothing here runs, and nothing is allocated, for a request that registers
nothing: the adapters check one attribute of the request's context.
"""

from __future__ import annotations

import typing as t
from types import CoroutineType

from . import dispatch as _dispatch
from . import signals as _signals
from .concurrency import RequestThread, is_async, run_coroutine
from .ctx import AppContext
from .globals import _cv

if t.TYPE_CHECKING:
    from .app import Erlen

__all__ = ["call_after_response"]

_P = t.ParamSpec("_P")
_R = t.TypeVar("_R")

#: What the request's context keeps for each registered function.
Call = tuple[t.Callable[..., t.Any], tuple[t.Any, ...], dict[str, t.Any]]


def call_after_response(
    func: t.Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs
) -> t.Callable[_P, _R]:
    """Call ``func(*args, **kwargs)`` after this request's response has been sent.

    Use it in a view (or a hook, or an error handler) for work the client
    need not wait for::

        @app.post("/signup")
        def signup():
            user = create_user(request.form)
            call_after_response(send_welcome_mail, user.id)
            return redirect(url_for("index"))

    ``func`` may be a plain ``def`` or an ``async def``; it runs in an
    application context, with ``request`` readable. Functions run in the
    order they were registered; none runs when the request failed with an
    exception (see :mod:`erlen.background`). ``func`` is returned, so this
    also works as a decorator for a function without arguments.

    :raises RuntimeError: Outside a request, or in a WebSocket handler
        (there is no response to follow).

    .. versionadded:: 0.1
    """
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(
            "'call_after_response' can only be used when a request context is active,"
            " such as in a view function."
        )
    if ctx._borrowed is not None:
        # NOTE: `with app.app_context()` inside a view borrows the request;
        # the work belongs to the request's own context, which the adapter holds.
        ctx = ctx._borrowed
    if "websocket" in ctx.__dict__:
        raise RuntimeError(
            "'call_after_response' cannot be used in a WebSocket handler: there is no"
            " response to wait for. Start an asyncio task, or use a task queue."
        )
    calls = ctx._after_response
    if calls is None:
        calls = ctx._after_response = []
    calls.append((func, args, kwargs))
    return func


def _context(app: Erlen, ctx: AppContext) -> AppContext:
    """A fresh app context that can still read the request (and its session)."""
    actx = AppContext(app)
    # As an app context pushed inside a view: the request is borrowed; g is new.
    actx.request = ctx.request
    actx._borrowed = ctx
    return actx


def _failed(app: Erlen, func: t.Callable[..., t.Any]) -> None:
    name = getattr(func, "__qualname__", None) or repr(func)
    app.logger.exception(f"Error in {name}, called after the response")


def _call(
    app: Erlen, ctx: AppContext, func: t.Callable[..., t.Any], args: t.Any, kwargs: t.Any
) -> None:
    """Run one function in a fresh app context from sync code; log what it raises."""
    actx = _context(app, ctx)
    actx.push()
    error: BaseException | None = None
    try:
        rv = app.ensure_sync(func)(*args, **kwargs)
        if rv.__class__ is CoroutineType:  # a plain function that returned a coroutine
            run_coroutine(rv)
    except Exception as e:
        error = e
        _failed(app, func)
    finally:
        try:
            actx.pop(error)
        except Exception:
            app.logger.exception(
                "Error in a teardown function after a function called after the response"
            )


def run_after_response(app: Erlen, ctx: AppContext) -> None:
    """Run the functions registered on ``ctx``, in order, in the current thread.

    The WSGI side calls this from the body iterable's ``close()``. A
    function registered while they run is run after them.
    """
    calls = ctx._after_response
    i = 0
    # NOTE: by index, as a function may register more while they run.
    while calls is not None and i < len(calls):
        func, args, kwargs = calls[i]
        i += 1
        _call(app, ctx, func, args, kwargs)


async def arun_after_response(app: Erlen, ctx: AppContext, thread: RequestThread | None) -> None:
    """Run the functions registered on ``ctx``, in order: ``async def`` on the loop, others on a thread.

    The ASGI side awaits this after the last body message was sent.

    :param thread: The request's worker thread, if it had one (the caller
        releases it); else one is taken from the pool for the plain
        functions, and given back here.
    """
    calls = ctx._after_response
    worker = thread
    try:
        i = 0
        while calls is not None and i < len(calls):
            func, args, kwargs = calls[i]
            i += 1
            if is_async(func):
                await _acall(app, ctx, func, args, kwargs)
                continue
            if worker is None:
                worker = RequestThread(app)
            await worker.call(_call, app, ctx, func, args, kwargs)
    finally:
        if worker is not None and thread is None:
            worker.release()


async def _acall(
    app: Erlen, ctx: AppContext, func: t.Callable[..., t.Any], args: t.Any, kwargs: t.Any
) -> None:
    """Run one ``async def`` in a fresh app context on the loop; log what it raises."""
    actx = _context(app, ctx)
    actx.push()
    error: BaseException | None = None
    try:
        await func(*args, **kwargs)
    except Exception as e:
        error = e
        _failed(app, func)
    finally:
        try:
            if app._plain_methods and app.teardown_appcontext_funcs:
                # As dispatch.apop: async teardown functions are awaited here,
                # not run beside the loop.
                try:
                    await _dispatch._arun_all(list(reversed(app.teardown_appcontext_funcs)), error)
                    if _signals.appcontext_tearing_down.receivers:
                        _signals.appcontext_tearing_down.send(
                            app, _async_wrapper=app.ensure_sync, exc=error
                        )
                finally:
                    actx._finish_pop()
            else:
                actx.pop(error)
        except Exception:
            app.logger.exception(
                "Error in a teardown function after a function called after the response"
            )
