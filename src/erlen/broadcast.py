"""Publish/subscribe channels for WebSocket handlers and event streams.

One :class:`Broadcast` per app, configured from ``BROADCAST_URL``::

    from erlen.broadcast import Broadcast

    broadcast = Broadcast(app)          # or Broadcast() and broadcast.init_app(app)

    broadcast.publish("news", "hello")  # sync code
    await broadcast.apublish("news", "hello")  # async code

    with broadcast.subscribe("news") as sub:  # a thread (a WSGI request)
        for message in sub:
            ...

    async with broadcast.asubscribe("news") as sub:  # a coroutine (ASGI)
        async for message in sub:
            ...

``memory://`` (the default) delivers within one process; ``redis://`` (or
``rediss://``) goes through Redis pub/sub, so every process and machine
subscribed to a channel gets what any of them publishes. Messages are
``str``. Delivery is at most once and only to subscriptions open at the
time: pub/sub keeps no history.

Why not the ``broadcaster`` package (encode/broadcaster, 0.3.1): it is
asyncio-only (a subscriber is an ``asyncio.Queue`` fed by a task on one
loop), while a subscriber here may be a WSGI thread; its per-subscriber
queues are unbounded, so one slow subscriber grows memory without limit;
and it is marked alpha. So the one hub below serves threads and coroutines
alike, with a bounded queue per subscription.

A subscription's queue holds at most ``BROADCAST_MAX_QUEUE`` messages (256).
A subscriber that falls that far behind is dropped: its queued messages
are discarded, it leaves the channel, and its next read raises
:class:`SubscriberDropped`. The others are never held up by it.
"""

from __future__ import annotations

import os
import threading
import typing as t
from collections import deque

if t.TYPE_CHECKING:
    import asyncio
    from concurrent.futures import Future

    from .app import Erlen

__all__ = [
    "Broadcast",
    "Subscription",
    "SubscriptionClosed",
    "SubscriberDropped",
]

#: ``BROADCAST_MAX_QUEUE`` when the config does not set it.
DEFAULT_MAX_QUEUE = 256
#: Seconds to wait for Redis to confirm a subscription or a publish.
_REDIS_TIMEOUT = 10.0

_NEW, _OPEN, _CLOSED = 0, 1, 2


class SubscriptionClosed(Exception):
    """A read from a subscription that has ended (left the channel, or the broadcast closed).

    Iterating a subscription stops quietly when it ends this way; :meth:`Subscription.get`
    raises it.

    .. versionadded:: 0.1
    """


class SubscriberDropped(SubscriptionClosed):
    """The subscriber fell ``max_queue`` messages behind and was dropped from its channel.

    Iterating raises it too: a stream that ends for this reason is not
    complete, and the code reading it should know (an event stream ends the
    response, so the browser reconnects).

    .. versionadded:: 0.1
    """


class Subscription:
    """One subscriber's view of a channel: a bounded queue, read from a thread or a coroutine.

    Made by :meth:`Broadcast.subscribe` (or :meth:`~Broadcast.asubscribe`);
    it joins the channel when entered (``with`` or ``async with``) and
    leaves it on exit. One reader at a time.

    .. versionadded:: 0.1
    """

    def __init__(self, broadcast: Broadcast, channel: str) -> None:
        self.broadcast = broadcast
        self.channel = channel
        self.max_queue = broadcast.max_queue
        self._queue: deque[str] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._state = _NEW
        #: Why the subscription ended (``None`` while it is open).
        self.reason: str | None = None
        self._dropped = False
        # The coroutine waiting in aget(): its loop, future and the loop's thread.
        self._waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None], int] | None = None

    def __repr__(self) -> str:
        state = ("new", "open", "closed")[self._state]
        return f"<Subscription {self.channel!r} {state}, {len(self._queue)} queued>"

    # -- joining and leaving -------------------------------------------------------

    def __enter__(self) -> Subscription:
        ready = self._join()
        if not ready.done():
            try:
                ready.result(_REDIS_TIMEOUT)
            except BaseException:
                self.close("the subscription failed")
                raise
        elif ready.exception() is not None:
            self.close("the subscription failed")
            ready.result()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Subscription:
        import asyncio

        ready = self._join()
        # PERF: the memory backend is ready at once; no trip through the loop.
        if not ready.done() or ready.exception() is not None:
            try:
                async with asyncio.timeout(_REDIS_TIMEOUT):
                    await asyncio.wrap_future(ready)
            except BaseException:
                self.close("the subscription failed")
                raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def _join(self) -> Future[None]:
        if self._state != _NEW:
            raise RuntimeError("A subscription can be entered once; subscribe() again instead.")
        self._state = _OPEN
        return self.broadcast._add(self)

    def close(self, reason: str = "unsubscribed") -> None:
        """Leave the channel; reads return what is queued, then end.

        :param reason: Kept as :attr:`reason`.
        """
        with self._cond:
            if self._state == _CLOSED:
                return
            was_open = self._state == _OPEN
            self._close_locked(reason)
        if was_open:
            self.broadcast._remove(self)

    def _close_locked(self, reason: str) -> None:
        self._state = _CLOSED
        self.reason = reason
        self._cond.notify_all()
        self._wake_locked()

    @property
    def closed(self) -> bool:
        """Whether the subscription has ended (see :attr:`reason`)."""
        return self._state == _CLOSED

    # -- delivery (any thread) -----------------------------------------------------

    def _deliver(self, message: str) -> bool:
        """Queue ``message``; ``False`` when that overflowed the queue and dropped the subscriber."""
        with self._cond:
            if self._state != _OPEN:  # closed by its reader while this message was on its way
                return True
            if len(self._queue) >= self.max_queue:
                # NOTE: dropping frees the memory at once and keeps the
                # publisher's pace independent of this reader.
                self._queue.clear()
                self._dropped = True
                self._close_locked(
                    f"dropped: fell {self.max_queue} messages behind on channel"
                    f" {self.channel!r} (BROADCAST_MAX_QUEUE)"
                )
                return False
            self._queue.append(message)
            self._cond.notify()
            self._wake_locked()
        return True

    def _wake_locked(self) -> None:
        waiter = self._waiter
        if waiter is None:
            return
        self._waiter = None
        loop, future, thread = waiter
        try:
            if thread == threading.get_ident():
                _set_done(future)  # PERF: on the waiter's own loop, no trip through it
            else:
                loop.call_soon_threadsafe(_set_done, future)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    def _ended(self) -> SubscriptionClosed:
        cls = SubscriberDropped if self._dropped else SubscriptionClosed
        return cls(self.reason)

    # -- reading -------------------------------------------------------------------

    def get(self, timeout: float | None = None) -> str:
        """The next message, waiting for it (blocking the thread).

        :param timeout: Seconds to wait at most (``None``: no limit).
        :raises TimeoutError: Nothing arrived within ``timeout``.
        :raises SubscriberDropped: The subscriber fell behind and was dropped.
        :raises SubscriptionClosed: The subscription ended and its queue is empty.
        """
        with self._cond:
            if self._state == _NEW:
                raise RuntimeError(_NOT_ENTERED)
            if not self._queue and self._state == _OPEN:
                if not self._cond.wait_for(self._ready, timeout):
                    raise TimeoutError(f"no message on {self.channel!r} within {timeout} s")
            if self._queue:
                return self._queue.popleft()
            raise self._ended()

    def _ready(self) -> bool:
        return bool(self._queue) or self._state != _OPEN

    async def aget(self, timeout: float | None = None) -> str:
        """The next message, awaiting it (the loop runs on meanwhile).

        Raises as :meth:`get` does.
        """
        import asyncio

        try:
            async with asyncio.timeout(timeout):
                return await self._next_message()
        except TimeoutError:
            raise TimeoutError(f"no message on {self.channel!r} within {timeout} s") from None

    async def _next_message(self) -> str:
        import asyncio

        while True:
            with self._cond:
                if self._queue:
                    return self._queue.popleft()
                if self._state != _OPEN:
                    if self._state == _NEW:
                        raise RuntimeError(_NOT_ENTERED)
                    raise self._ended()
                if self._waiter is not None:
                    raise RuntimeError("Another coroutine is already reading this subscription.")
                loop = asyncio.get_running_loop()
                future = loop.create_future()
                self._waiter = (loop, future, threading.get_ident())
            try:
                await future
            finally:
                with self._cond:
                    if self._waiter is not None and self._waiter[1] is future:
                        self._waiter = None

    def _take_queued(self) -> list[str]:
        """Whatever is queued now, without waiting (an event stream sends it in one write)."""
        with self._cond:
            taken = list(self._queue)
            self._queue.clear()
        return taken

    def __iter__(self) -> Subscription:
        return self

    def __next__(self) -> str:
        try:
            return self.get()
        except SubscriberDropped:
            raise
        except SubscriptionClosed:
            raise StopIteration from None

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> str:
        try:
            return await self.aget()
        except SubscriberDropped:
            raise
        except SubscriptionClosed:
            raise StopAsyncIteration from None

    def listen(self, idle: float) -> t.Iterator[str | None]:
        """Messages as they come, and ``None`` after each ``idle`` seconds without one.

        The ``None`` lets a loop do something while the channel is quiet,
        such as an event stream's heartbeat. Ends as iteration does.
        """
        while True:
            try:
                yield self.get(idle)
            except TimeoutError:
                yield None
            except SubscriberDropped:
                raise
            except SubscriptionClosed:
                return

    async def alisten(self, idle: float) -> t.AsyncIterator[str | None]:
        """The async twin of :meth:`listen`."""
        while True:
            try:
                yield await self.aget(idle)
            except TimeoutError:
                yield None
            except SubscriberDropped:
                raise
            except SubscriptionClosed:
                return


_NOT_ENTERED = (
    "Enter the subscription first: `with broadcast.subscribe(channel) as sub:`"
    " or `async with broadcast.asubscribe(channel) as sub:`."
)


def _set_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Broadcast:
    """Channels to publish to and subscribe to, in one process or across many through Redis.

    :param app: The app to configure from (see :meth:`init_app`).
    :param url: ``"memory://"`` or ``"redis://host:port/db"``; overrides
        ``BROADCAST_URL``.
    :param max_queue: Messages a subscriber may fall behind before it is
        dropped; overrides ``BROADCAST_MAX_QUEUE``.

    Nothing connects until the first publish or subscription, and the
    subscriptions end (iteration stops) when the ASGI server stops serving
    (``lifespan.shutdown``) or :meth:`close` is called.

    .. versionadded:: 0.1
    """

    def __init__(
        self, app: Erlen | None = None, url: str | None = None, *, max_queue: int | None = None
    ) -> None:
        self._url = url
        self._max_queue = max_queue
        self.url = url or "memory://"
        self.max_queue = max_queue or DEFAULT_MAX_QUEUE
        self._lock = threading.Lock()
        self._channels: dict[str, set[Subscription]] = {}
        # The backend's answer to "is the channel subscribed": a future per channel.
        self._ready: dict[str, Future[None]] = {}
        self._backend: _Backend | None = None
        if url is not None:
            _check_url(url)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Erlen) -> None:
        """Read ``BROADCAST_URL`` and ``BROADCAST_MAX_QUEUE``; end subscriptions when ``app`` stops serving.

        The instance is ``app.extensions["broadcast"]``.
        """
        if self._url is None:
            self.url = _check_url(app.config.get("BROADCAST_URL") or "memory://")
        if self._max_queue is None:
            size = app.config.get("BROADCAST_MAX_QUEUE", DEFAULT_MAX_QUEUE)
            if not isinstance(size, int) or isinstance(size, bool) or size < 1:
                raise ValueError(f"BROADCAST_MAX_QUEUE must be a positive int, not {size!r}.")
            self.max_queue = size
        app.extensions["broadcast"] = self
        app.after_serving(self.aclose)

    # -- publishing ----------------------------------------------------------------

    def publish(self, channel: str, message: str) -> None:
        """Send ``message`` to every subscriber of ``channel`` (from sync code).

        With Redis it returns once Redis has taken the message.
        """
        _check(channel, message)
        pending = self._get_backend().publish(channel, message)
        if pending is not None:
            pending.result(_REDIS_TIMEOUT)

    async def apublish(self, channel: str, message: str) -> None:
        """Send ``message`` to every subscriber of ``channel`` (from async code)."""
        _check(channel, message)
        pending = self._get_backend().publish(channel, message)
        if pending is not None:
            import asyncio

            async with asyncio.timeout(_REDIS_TIMEOUT):
                await asyncio.wrap_future(pending)

    # -- subscribing ---------------------------------------------------------------

    def subscribe(self, channel: str) -> Subscription:
        """A subscription to ``channel``, joined by ``with`` (or ``async with``).

        For example::

            with broadcast.subscribe("news") as sub:
                for message in sub:
                    ...
        """
        _check(channel)
        return Subscription(self, channel)

    def asubscribe(self, channel: str) -> Subscription:
        """:meth:`subscribe`, spelled for ``async with``.

        For example::

            async with broadcast.asubscribe("news") as sub:
                async for message in sub:
                    ...
        """
        _check(channel)
        return Subscription(self, channel)

    def subscribers(self, channel: str) -> int:
        """How many subscriptions of this process are open on ``channel``."""
        with self._lock:
            return len(self._channels.get(channel, ()))

    def _add(self, sub: Subscription) -> Future[None]:
        backend = self._get_backend()
        with self._lock:
            subs = self._channels.get(sub.channel)
            if subs is None:
                subs = self._channels[sub.channel] = set()
                self._ready[sub.channel] = backend.subscribe(sub.channel)
            subs.add(sub)
            return self._ready[sub.channel]

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._channels.get(sub.channel)
            if subs is None or sub not in subs:  # pragma: no cover - two threads dropped it at once
                return
            subs.discard(sub)
            if subs:
                return
            del self._channels[sub.channel]
            del self._ready[sub.channel]
            backend = self._backend
        if backend is not None:
            backend.unsubscribe(sub.channel)

    def _deliver(self, channel: str, message: str) -> None:
        """Hand ``message`` to this process's subscribers of ``channel`` (any thread)."""
        with self._lock:
            subs = self._channels.get(channel)
            if not subs:
                return
            targets = tuple(subs)
        for sub in targets:
            if not sub._deliver(message):
                self._remove(sub)

    # -- lifetime ------------------------------------------------------------------

    def _get_backend(self) -> _Backend:
        backend = self._backend
        if backend is not None and backend.pid == os.getpid():
            return backend
        with self._lock:
            # NOTE: a forked worker (gunicorn --preload) has the parent's
            # object but not its thread: it starts its own.
            if self._backend is None or self._backend.pid != os.getpid():
                if self.url.startswith("memory:"):
                    self._backend = _MemoryBackend(self)
                else:
                    self._backend = _RedisBackend(self, self.url)
            return self._backend

    def close(self) -> None:
        """End every subscription (their iteration stops) and disconnect from Redis.

        The broadcast can be used again afterwards; it reconnects on first use.
        """
        with self._lock:
            subs = [sub for channel in self._channels.values() for sub in channel]
            backend, self._backend = self._backend, None
        for sub in subs:
            sub.close("the broadcast was closed")
        if backend is not None:
            backend.close()

    async def aclose(self) -> None:
        """:meth:`close` from async code (registered for ``lifespan.shutdown``)."""
        import asyncio

        with self._lock:
            subs = [sub for channel in self._channels.values() for sub in channel]
            backend, self._backend = self._backend, None
        for sub in subs:
            sub.close("the broadcast was closed")
        if backend is not None:
            # Joining the Redis thread blocks; not on the server's loop.
            await asyncio.to_thread(backend.close)


def _check_url(url: str) -> str:
    if not isinstance(url, str) or not url.startswith(("memory:", "redis://", "rediss://")):
        raise ValueError(
            f"BROADCAST_URL must be 'memory://' or a 'redis://' (or 'rediss://') URL, not {url!r}."
        )
    return url


def _check(channel: str, message: str | None = None) -> None:
    if not isinstance(channel, str) or not channel:
        raise TypeError(f"A channel is a non-empty str, not {channel!r}.")
    if message is not None and not isinstance(message, str):
        raise TypeError(
            f"A broadcast message is a str, not {type(message).__name__}"
            " (json.dumps() a structure first)."
        )


class _Backend(t.Protocol):
    """Where messages go between publish and :meth:`Broadcast._deliver`."""

    #: The process the backend was made in.
    pid: int

    def subscribe(self, channel: str) -> Future[None]:
        """Start receiving ``channel``; the future is done once messages flow."""

    def unsubscribe(self, channel: str) -> None:
        """Stop receiving ``channel``."""

    def publish(self, channel: str, message: str) -> Future[None] | None:
        """Send ``message``; ``None`` when already delivered, else a future."""

    def close(self) -> None:
        """Release connections and threads."""


class _MemoryBackend:
    """One process: publishing delivers at once, on the publisher's thread."""

    def __init__(self, broadcast: Broadcast) -> None:
        from concurrent.futures import Future

        self.pid = os.getpid()
        self._broadcast = broadcast
        self._done: Future[None] = Future()
        self._done.set_result(None)

    def subscribe(self, channel: str) -> Future[None]:
        return self._done

    def unsubscribe(self, channel: str) -> None:
        pass

    def publish(self, channel: str, message: str) -> None:
        self._broadcast._deliver(channel, message)

    def close(self) -> None:
        pass


class _RedisBackend:
    """Redis pub/sub through ``redis.asyncio``, on an event loop of its own thread.

    The one connection that listens and the one pool that publishes are
    used only from that thread, so sync and async callers (any thread, any
    loop) share them: they hand it coroutines and wait on the futures.
    Messages are handed to :meth:`Broadcast._deliver` from there.
    """

    def __init__(self, broadcast: Broadcast, url: str) -> None:
        import asyncio

        import redis.asyncio

        self.pid = os.getpid()
        self._broadcast = broadcast
        self._loop = asyncio.new_event_loop()
        self._client = redis.asyncio.Redis.from_url(url)
        self._pubsub = self._client.pubsub()
        self._confirm: dict[str, asyncio.Future[None]] = {}
        self._listening = asyncio.Event()
        # NOTE: redis-py's PubSub connects on its first command without a lock:
        # two first subscribes at once each took a connection, and the channel
        # subscribed on the one dropped never confirmed. One command at a time.
        self._commands = asyncio.Lock()
        self._closing = False
        self._thread = threading.Thread(
            target=self._run, name=f"erlen-broadcast {url.split('@')[-1]}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        import asyncio

        asyncio.set_event_loop(self._loop)
        self._reader = self._loop.create_task(
            self._read()
        )  # held: the loop only keeps weak references
        try:
            self._loop.run_forever()
        finally:
            # NOTE: every task, not only the reader: a (un)subscribe still
            # pending when the loop closed was garbage-collected later, in
            # the middle of a reconnect, and failed on the closed loop with
            # its socket left open.
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._disconnect())
            self._loop.close()

    async def _disconnect(self) -> None:
        for closer in (self._pubsub.aclose, self._client.aclose):
            try:
                await closer()
            except Exception:  # noqa: S110, BLE001 - closing a dead connection
                pass

    async def _read(self) -> None:
        import asyncio

        from redis.exceptions import RedisError

        deliver = self._broadcast._deliver
        while True:
            if not self._pubsub.subscribed:
                self._listening.clear()
                await self._listening.wait()
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except (RedisError, OSError) as e:
                # NOTE: redis-py reconnects and subscribes again on the next
                # read; what was published meanwhile is lost (pub/sub).
                self._fail_confirmations(e)
                await asyncio.sleep(0.5)
                continue
            if message is None:
                continue
            kind = message["type"]
            channel = message["channel"].decode("utf-8", "replace")
            if kind == "message":
                deliver(channel, message["data"].decode("utf-8", "replace"))
            elif kind == "subscribe":
                waiting = self._confirm.pop(channel, None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(None)

    def _fail_confirmations(self, error: BaseException) -> None:
        for waiting in self._confirm.values():
            if not waiting.done():
                waiting.set_exception(error)
        self._confirm.clear()

    def _submit(self, coro: t.Coroutine[t.Any, t.Any, None]) -> Future[None]:
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def _subscribe(self, channel: str) -> None:
        confirmed = self._confirm.get(channel)
        if confirmed is None:
            confirmed = self._confirm[channel] = self._loop.create_future()
        try:
            async with self._commands:
                await self._pubsub.subscribe(channel)
        except BaseException:
            self._confirm.pop(channel, None)
            raise
        self._listening.set()
        await confirmed

    async def _unsubscribe(self, channel: str) -> None:
        async with self._commands:
            await self._pubsub.unsubscribe(channel)

    async def _publish(self, channel: str, message: str) -> None:
        await self._client.publish(channel, message)

    def subscribe(self, channel: str) -> Future[None]:
        return self._submit(self._subscribe(channel))

    def unsubscribe(self, channel: str) -> None:
        if not self._closing:
            self._submit(self._unsubscribe(channel))

    def publish(self, channel: str, message: str) -> Future[None]:
        return self._submit(self._publish(channel, message))

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        try:
            self._loop.call_soon_threadsafe(self._loop.stop)
        except RuntimeError:  # pragma: no cover - the loop already closed
            return
        if self._thread is not threading.current_thread():
            self._thread.join(_REDIS_TIMEOUT)
