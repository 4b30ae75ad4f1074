"""erlen.concurrency: the bridges between sync code and asyncio."""

from __future__ import annotations

import asyncio
import gc
import threading
import typing as t
import warnings
from contextvars import ContextVar

import pytest

from erlen.concurrency import WorkerPool, run_coroutine, wait_on_loop


def test_run_coroutine_reuses_one_loop_per_thread() -> None:
    async def current() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    assert run_coroutine(current()) is run_coroutine(current())


def test_a_threads_loop_is_closed_when_the_thread_ends() -> None:
    # Regression: each thread's loop was left to the garbage collector
    # unclosed, a ResourceWarning per thread on a threaded server.
    loops: list[asyncio.AbstractEventLoop] = []

    async def remember() -> None:
        loops.append(asyncio.get_running_loop())

    thread = threading.Thread(target=run_coroutine, args=(remember(),))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        thread.start()
        thread.join(10)
        gc.collect()
    assert loops and loops[0].is_closed()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


# -- WorkerPool: the ASGI worker threads ----------------------------------------


def test_pool_reuses_an_idle_thread_and_starts_no_more_than_its_size() -> None:
    workers = WorkerPool(2)

    async def main() -> list[str]:
        names = [await workers.call(lambda: threading.current_thread().name) for _ in range(3)]
        # Four at once on two threads: the last two wait for a free one.
        gate = threading.Event()

        def blocked() -> str:
            gate.wait(5)
            return threading.current_thread().name

        calls = asyncio.gather(*(workers.call(blocked) for _ in range(4)))
        await asyncio.sleep(0.05)
        gate.set()
        return names + await asyncio.wait_for(calls, 5)

    try:
        names = asyncio.run(main())
    finally:
        workers.shutdown()
    assert len(set(names[:3])) == 1  # one after another: the same thread each time
    assert len(set(names)) == 2 and all(n.startswith("erlen-asgi") for n in names)


def test_pool_call_raises_what_the_function_raised() -> None:
    workers = WorkerPool(1)

    def fail() -> None:
        raise LookupError("gone")

    try:
        with pytest.raises(LookupError, match="gone"):
            asyncio.run(workers.call(fail))
    finally:
        workers.shutdown()


def test_a_call_cancelled_while_it_waits_for_a_thread_does_not_run() -> None:
    workers = WorkerPool(1)
    gate = threading.Event()
    ran: list[str] = []

    async def main() -> None:
        busy = asyncio.ensure_future(workers.call(gate.wait, 5))
        waiting = asyncio.ensure_future(workers.call(ran.append, "late"))
        await asyncio.sleep(0.05)
        waiting.cancel()
        await asyncio.sleep(0)
        gate.set()
        await asyncio.wait_for(busy, 5)
        assert await workers.call(ran.append, "next") is None

    try:
        asyncio.run(main())
    finally:
        workers.shutdown()
    assert ran == ["next"]


def test_shutdown_ends_idle_threads_at_once_and_busy_ones_after_their_work() -> None:
    workers = WorkerPool(2)
    both = threading.Barrier(2, timeout=5)
    gate = threading.Event()
    busy_threads: list[threading.Thread] = []

    def meet() -> threading.Thread:
        both.wait()  # two at once: two threads
        return threading.current_thread()

    def busy() -> None:
        busy_threads.append(threading.current_thread())
        gate.wait(5)

    async def main() -> set[threading.Thread]:
        threads = set(await asyncio.gather(workers.call(meet), workers.call(meet)))
        running = asyncio.ensure_future(workers.call(busy))
        while not busy_threads:
            await asyncio.sleep(0.005)
        workers.shutdown()
        (idle,) = threads - set(busy_threads)
        idle.join(5)
        assert not idle.is_alive()
        assert busy_threads[0].is_alive()  # still at work
        gate.set()
        await asyncio.wait_for(running, 5)
        return threads

    assert len(asyncio.run(main())) == 2
    busy_threads[0].join(5)
    assert not busy_threads[0].is_alive()


# -- wait_on_loop: a worker thread waits for a coroutine on the server's loop -------------

_name: ContextVar[str] = ContextVar("_name", default="unset")


def test_wait_on_loop_runs_the_coroutine_on_the_loop_in_the_callers_context() -> None:
    async def where() -> tuple[str, bool]:
        await asyncio.sleep(0)
        return _name.get(), threading.current_thread() is threading.main_thread()

    async def main() -> t.Any:
        loop = asyncio.get_running_loop()

        def call() -> t.Any:
            _name.set("worker")
            return wait_on_loop(loop, where())

        return await asyncio.to_thread(call)

    assert asyncio.run(main()) == ("worker", True)


def test_wait_on_loop_raises_what_the_coroutine_raised_or_what_stopped_it() -> None:
    async def fail() -> None:
        raise KeyError("inner")

    async def main() -> list[BaseException]:
        loop = asyncio.get_running_loop()
        errors: list[BaseException] = []
        for awaitable in (fail(), "not a coroutine"):

            def call(awaitable: t.Any = awaitable) -> None:
                try:
                    wait_on_loop(loop, awaitable)
                except BaseException as e:  # noqa: BLE001 - checked below
                    errors.append(e)

            await asyncio.to_thread(call)
        return errors

    errors = asyncio.run(main())
    assert isinstance(errors[0], KeyError) and isinstance(errors[1], TypeError)


def test_a_job_that_raises_ends_its_thread_and_the_pool_keeps_its_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workers = WorkerPool(1)
    caught: list[t.Any] = []
    monkeypatch.setattr(threading, "excepthook", caught.append)

    def broken() -> None:
        raise OSError("lost")

    async def main() -> str:
        workers.run(broken)
        while not caught:
            await asyncio.sleep(0.005)
        # The one thread is gone; a new one takes the next call.
        return t.cast(str, await asyncio.wait_for(workers.call(lambda: "next"), 5))

    try:
        assert asyncio.run(main()) == "next"
    finally:
        workers.shutdown()
    assert isinstance(caught[0].exc_value, OSError)


def test_after_a_burst_that_queued_jobs_the_pool_still_starts_the_threads_it_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A thread that takes a queued job on its way out of another is not idle:
    # counted so, the pool would later believe in idle threads it does not
    # have, and let jobs wait (here, forever) instead of starting a thread.
    workers = WorkerPool(2)
    caught: list[t.Any] = []
    monkeypatch.setattr(threading, "excepthook", caught.append)
    gate = threading.Event()

    def broken() -> None:
        raise OSError("lost")

    async def main() -> None:
        burst = asyncio.gather(*(workers.call(gate.wait, 5) for _ in range(4)))
        await asyncio.sleep(0.05)
        gate.set()
        await asyncio.wait_for(burst, 5)
        workers.run(broken)  # one of the two threads ends
        while not caught:
            await asyncio.sleep(0.005)
        both = threading.Barrier(2, timeout=2)
        await asyncio.wait_for(asyncio.gather(workers.call(both.wait), workers.call(both.wait)), 5)

    try:
        asyncio.run(main())
    finally:
        workers.shutdown()


def test_thread_runner_left_open_at_interpreter_shutdown(monkeypatch: pytest.MonkeyPatch) -> None:
    # Late in shutdown asyncio's module globals may be None, so closing the
    # loop raised "Exception ignored in _ThreadRunner.__del__" at every exit.
    import sys

    from erlen.concurrency import _ThreadRunner

    holder = _ThreadRunner()
    closed: list[bool] = []
    monkeypatch.setattr(holder.runner, "close", lambda: closed.append(True))
    monkeypatch.setattr(sys, "is_finalizing", lambda: True)
    holder.__del__()
    assert closed == []
    monkeypatch.setattr(sys, "is_finalizing", lambda: False)
    holder.__del__()
    assert closed == [True]
