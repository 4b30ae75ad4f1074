"""erlen.concurrency: the bridges between sync code and asyncio."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings

from erlen.concurrency import run_coroutine


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
