"""Where code runs: coroutines from sync code, sync code from the event loop.

Every bridge between blocking code and ``asyncio`` lives here, so the rules
are in one place:

- Under WSGI, a coroutine function reached through ``ensure_sync`` (an
  ``async def`` view or hook) runs on an event loop kept per thread
  (:func:`run_coroutine`).
- Under ASGI, the sync part of a request runs on one worker thread of the
  app's bounded pool (``ASGI_MAX_THREADS``). A coroutine function it calls
  through ``ensure_sync`` runs on the server's own loop, which the thread
  waits for (:func:`server_loop`). That thread also advances the request's
  streamed body and closes it (:class:`RequestThread`), so thread-bound
  objects (sqlite3 connections, thread-local sessions) made by the view or
  its hooks are used on the thread that made them, as under a threaded WSGI
  server.
- Sync code that runs on the loop's own thread and must wait for a
  coroutine cannot wait on that loop; :func:`run_beside_loop` runs it on a
  helper thread's loop instead.

``asyncio`` is imported on first use: a WSGI app that never awaits never
pays for it.
"""

from __future__ import annotations

import sys
import threading
import typing as t
from contextvars import copy_context
from functools import partial
from types import CoroutineType, FunctionType

if t.TYPE_CHECKING:
    import asyncio

    from .app import Erlen

__all__ = [
    "acall",
    "is_async",
    "run_coroutine",
    "run_beside_loop",
    "wait_on_loop",
    "run_sync",
    "server_loop",
    "RequestThread",
    "WorkerPool",
]

# inspect.CO_COROUTINE, without importing inspect (slow to import).
CO_COROUTINE = 0x80


def is_async(func: t.Callable[..., t.Any]) -> bool:
    """Whether calling ``func`` returns a coroutine (cheap for plain functions).

    .. versionadded:: 0.1
    """
    if type(func) is FunctionType:
        return bool(func.__code__.co_flags & CO_COROUTINE)
    import inspect

    return inspect.iscoroutinefunction(func)


async def acall(func: t.Callable[..., t.Any], *args: t.Any, **kwargs: t.Any) -> t.Any:
    """Call ``func``; await its result when it is a coroutine (an ``async def``'s)."""
    rv = func(*args, **kwargs)
    if rv.__class__ is CoroutineType:
        rv = await rv
    return rv


# -- coroutines from sync code -----------------------------------------------

_thread_state = threading.local()


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The server's event loop when called from an ASGI worker thread, else ``None``.

    .. versionadded:: 0.1
    """
    return getattr(_thread_state, "loop", None)


def run_coroutine(coro: t.Coroutine[t.Any, t.Any, t.Any]) -> t.Any:
    """Run a coroutine to its end from sync code and return its result.

    In an ASGI worker thread it runs on the server's loop; on a thread with
    no running loop, on a loop kept for that thread between calls; on a
    loop's own thread (sync code called from async code), beside that loop.

    .. versionadded:: 0.1
    """
    loop = server_loop()
    if loop is not None:
        return wait_on_loop(loop, coro)
    if _loop_running():
        # NOTE: sync code on an event loop's thread (an async view rendering
        # with an async context processor) cannot wait on that loop.
        return run_beside_loop(coro)
    holder = getattr(_thread_state, "runner", None)
    if holder is None:
        holder = _thread_state.runner = _ThreadRunner()
    # NOTE: a Runner runs every coroutine in the context it captured when it
    # was made (the first request's); give it the current one.
    return holder.runner.run(coro, context=copy_context())


def wait_on_loop(loop: asyncio.AbstractEventLoop, coro: t.Coroutine[t.Any, t.Any, t.Any]) -> t.Any:
    """Run a coroutine as a task on ``loop`` (another thread's) and wait for its result.

    What ``asyncio.run_coroutine_threadsafe(coro, loop).result()`` does, with
    less in between (no ``concurrent.futures.Future``, whose wait makes a
    lock and a condition each time): an ASGI worker thread does this for
    each chunk of a request body it reads. The task runs in a copy of the
    caller's context, as there.

    .. versionadded:: 0.1
    """
    done = threading.Lock()
    done.acquire()
    outcome: list[t.Any] = []  # the task, or what stopped it from starting

    def start() -> None:
        try:
            task = loop.create_task(coro)
        except BaseException as e:  # noqa: BLE001 - raised in the waiting thread
            outcome.append(e)
            done.release()
        else:
            task.add_done_callback(finish)

    def finish(task: asyncio.Task[t.Any]) -> None:
        outcome.append(task)
        done.release()

    loop.call_soon_threadsafe(start)
    done.acquire()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0].result()


class _ThreadRunner:
    """The event loop :func:`run_coroutine` keeps for one thread, closed when the thread ends.

    A threaded server starts and ends threads as it likes; the thread-local
    holding this object is cleared as its thread exits, and the loop is
    closed then instead of being left to the garbage collector unclosed.
    """

    __slots__ = ("runner",)

    def __init__(self) -> None:
        import asyncio  # PERF: asyncio costs more to import than all of Erlen

        self.runner = asyncio.Runner()

    def __del__(self) -> None:
        # NOTE: the main thread's thread-local is cleared late in interpreter
        # shutdown, when asyncio's module globals may already be None; the
        # loop ends with the process then, and closing it would only raise.
        if not sys.is_finalizing():
            self.runner.close()


def _loop_running() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_beside_loop(coro: t.Coroutine[t.Any, t.Any, t.Any]) -> t.Any:
    """Run a coroutine to its end on a helper thread's event loop, and wait.

    For sync code that runs on an event loop's own thread and must call a
    coroutine function (``ensure_sync``): that loop cannot run it while
    waiting, so a helper thread does, in a copy of the current context.
    The loop is blocked meanwhile; making the caller ``async`` avoids that.

    .. versionadded:: 0.1
    """
    import asyncio

    context = copy_context()
    result: list[t.Any] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(context.run(asyncio.run, coro))
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller
            failure.append(e)

    thread = threading.Thread(target=run, name="erlen-beside-loop")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


# -- sync code from the event loop ----------------------------------------------

_pool_lock = threading.Lock()


def pool(app: Erlen) -> WorkerPool:
    """The app's worker threads for blocking code under ASGI (``ASGI_MAX_THREADS``)."""
    workers = app.__dict__.get("_asgi_pool")
    if workers is None:
        with _pool_lock:
            workers = app.__dict__.get("_asgi_pool")
            if workers is None:
                size = int(app.config.get("ASGI_MAX_THREADS") or 40)
                workers = app.__dict__["_asgi_pool"] = WorkerPool(size)
    return t.cast("WorkerPool", workers)


def shutdown_pool(app: Erlen) -> None:
    """Let the app's worker threads end (the server stops serving)."""
    workers = app.__dict__.pop("_asgi_pool", None)
    if workers is not None:
        workers.shutdown()


class WorkerPool:
    """At most ``size`` worker threads, started on demand, taking jobs from one queue.

    A job goes to the queue; a new thread is started for it only when no
    thread is idle and there are fewer than ``size``. A thread that finishes
    a job takes the next one queued without sleeping, so under load a few
    busy threads serve many requests with few wake-ups. Smaller than a
    ``ThreadPoolExecutor`` per job (no ``Future``, work item or semaphore):
    handing a job over is a lock and one queue put, which is most of what a
    sync view under ASGI costs beyond its own work.

    The threads are daemons: an idle one never keeps the process alive;
    :meth:`shutdown` ends them.

    .. versionadded:: 0.1
    """

    __slots__ = ("size", "_lock", "_jobs", "_idle", "_waiting", "_threads")

    def __init__(self, size: int) -> None:
        import queue

        #: The most threads the pool runs at once.
        self.size = size
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[t.Any] = queue.SimpleQueue()
        # Threads waiting for a job and not yet promised one by run().
        self._idle = 0
        # Jobs queued while every thread was busy, for the next one free.
        self._waiting = 0
        self._threads = 0

    def run(self, job: t.Callable[[], t.Callable[[], object] | None]) -> None:
        """Run ``job()`` on a free thread, now or once one is free; don't wait for it.

        What ``job`` raises ends its thread (the next job starts another).
        It may return a function that the thread calls once it is free again,
        to hand the job's result over: the caller, when it sends its next job
        at once, then finds this thread free instead of starting another.
        """
        name = None
        with self._lock:
            if self._idle:
                self._idle -= 1
            elif self._threads < self.size:
                self._threads += 1
                name = f"erlen-asgi_{self._threads - 1}"
            else:
                self._waiting += 1
        self._jobs.put(job)
        if name is not None:
            threading.Thread(target=self._work, name=name, daemon=True).start()

    async def call(self, func: t.Callable[..., t.Any], *args: t.Any) -> t.Any:
        """Run ``func(*args)`` on a free thread, as it is (same context, no server loop); wait.

        If the waiting task is cancelled before a thread took the call, the
        call does not run.
        """
        import asyncio

        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def job() -> t.Callable[[], object] | None:
            if future.cancelled():
                return None
            try:
                rv = func(*args)
            except BaseException as e:  # noqa: BLE001 - handed to the awaiting task
                return partial(loop.call_soon_threadsafe, _set_exception, future, e)
            return partial(loop.call_soon_threadsafe, _set_result, future, rv)

        self.run(job)
        return await future

    def shutdown(self) -> None:
        """End the threads once the jobs queued so far have run."""
        with self._lock:
            count = self._threads
        for _ in range(count):
            self._jobs.put(None)

    def _work(self) -> None:
        get = self._jobs.get
        lock = self._lock
        try:
            while (job := get()) is not None:
                then = job()
                with lock:
                    if self._waiting:
                        self._waiting -= 1  # the get() below takes one of them
                    else:
                        self._idle += 1
                if then is not None:
                    # Once counted idle: whoever the result wakes can give
                    # this thread its next job instead of starting another.
                    then()
        finally:
            with lock:
                self._threads -= 1


async def run_sync(
    app: Erlen, func: t.Callable[..., t.Any], *args: t.Any, **kwargs: t.Any
) -> t.Any:
    """Run a blocking function in the app's thread pool, in a copy of the current context.

    The copy carries the active request context, so ``request``, ``g``
    and ``session`` work in ``func``; a coroutine it runs through
    :meth:`~erlen.Erlen.ensure_sync` is run on this event loop.

    :param app: The application whose pool (``ASGI_MAX_THREADS`` threads) to use.
    :param func: The function to call.
    :return: What ``func`` returned.

    .. versionadded:: 0.1
    """
    import asyncio

    loop = asyncio.get_running_loop()
    return await pool(app).call(_in_thread, loop, copy_context(), func, args, kwargs)


def _in_thread(
    loop: asyncio.AbstractEventLoop,
    context: t.Any,
    func: t.Callable[..., t.Any],
    args: tuple[t.Any, ...],
    kwargs: dict[str, t.Any],
) -> t.Any:
    _thread_state.loop = loop
    try:
        return context.run(func, *args, **kwargs)
    finally:
        _thread_state.loop = None


class RequestThread:
    """One worker thread that runs every blocking step of one request.

    :meth:`start` takes a thread from the app's pool and runs the first
    function there (for a sync request: the whole dispatch); the thread then
    stays with the request, running what :meth:`call` sends it (the steps of
    a streamed body, its ``close``), in the same context, until
    :meth:`release`. So code that keeps thread-bound objects (a sqlite3
    connection on ``g``, a thread-scoped database session) sees one thread
    from the first hook to the last teardown, as under a WSGI server.

    A request whose response is a plain list never calls :meth:`call` and
    releases the thread at once.

    .. versionadded:: 0.1
    """

    __slots__ = ("_app", "_loop", "_queue", "_context", "_started", "_stay")

    def __init__(self, app: Erlen) -> None:
        self._app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: t.Any = None
        self._context = copy_context()
        self._started = False
        self._stay: t.Callable[[t.Any], bool] | None = None

    async def start(
        self,
        func: t.Callable[..., t.Any],
        *args: t.Any,
        stay: t.Callable[[t.Any], bool] | None = None,
    ) -> t.Any:
        """Run ``func(*args)`` on a pool thread kept for this request; return its result.

        :param stay: Called on the thread with the result: whether the thread
            is to stay for more steps. ``False`` gives it back to the pool at
            once (a response with nothing left to run), so it is never held
            while a slow client reads.
        """
        import asyncio
        import queue

        loop = self._loop = asyncio.get_running_loop()
        future = loop.create_future()
        # The first step goes through the request's queue like the others.
        self._queue = queue.SimpleQueue()
        self._queue.put((future, func, args))
        self._started = True
        self._stay = stay
        pool(self._app).run(self._serve)
        return await future

    async def call(self, func: t.Callable[..., t.Any], *args: t.Any) -> t.Any:
        """Run ``func(*args)`` on this request's thread (starting it if needed) and wait."""
        if not self._started:
            return await self.start(func, *args)
        future = t.cast("asyncio.AbstractEventLoop", self._loop).create_future()
        self._queue.put((future, func, args))
        return await future

    def release(self) -> None:
        """Give the thread back to the pool once the steps sent so far have run."""
        if self._started:
            self._started = False
            self._queue.put(None)

    def _serve(self) -> t.Callable[[], object] | None:
        loop = t.cast("asyncio.AbstractEventLoop", self._loop)
        get = self._queue.get
        run = self._context.run
        _thread_state.loop = loop
        try:
            while (item := get()) is not None:
                future, func, args = item
                try:
                    rv = run(func, *args)
                except BaseException as e:  # noqa: BLE001 - handed to the awaiting task
                    loop.call_soon_threadsafe(_set_exception, future, e)
                    continue
                stay = self._stay
                if stay is not None:
                    self._stay = None
                    if not stay(rv):
                        self._started = False  # the next call() takes a new thread
                        return partial(loop.call_soon_threadsafe, _set_result, future, rv)
                loop.call_soon_threadsafe(_set_result, future, rv)
            return None
        finally:
            _thread_state.loop = None


def _set_result(future: asyncio.Future[t.Any], value: t.Any) -> None:
    if not future.done():  # the awaiting task may have been cancelled
        future.set_result(value)


def _set_exception(future: asyncio.Future[t.Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
