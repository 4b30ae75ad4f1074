"""erlen.broadcast: channels read from threads and coroutines, in memory and through a real Redis.

Every test of :class:`TestMemory` runs again in :class:`TestRedis` against
the real ``redis-server`` of ``conftest.redis_server``; the Redis-only
tests (two processes' worth of ``Broadcast`` objects, a server that
stops) follow.
"""

from __future__ import annotations

import asyncio
import threading
import time
import typing as t

import pytest

from erlen import Erlen, websocket
from erlen.broadcast import (
    DEFAULT_MAX_QUEUE,
    Broadcast,
    SubscriberDropped,
    SubscriptionClosed,
)


def wait_until(check: t.Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


class TestMemory:
    @pytest.fixture
    def url(self) -> str:
        return "memory://"

    @pytest.fixture
    def broadcast(self, url: str) -> t.Iterator[Broadcast]:
        broadcast = Broadcast(url=url, max_queue=8)
        yield broadcast
        broadcast.close()

    def test_publish_reaches_a_sync_subscriber_in_order(self, broadcast: Broadcast) -> None:
        with broadcast.subscribe("news") as sub:
            for n in range(5):
                broadcast.publish("news", f"m{n}")
            assert [sub.get(5) for _ in range(5)] == [f"m{n}" for n in range(5)]

    def test_every_subscriber_gets_each_message_and_channels_are_apart(
        self, broadcast: Broadcast
    ) -> None:
        with (
            broadcast.subscribe("a") as a1,
            broadcast.subscribe("a") as a2,
            broadcast.subscribe("b") as b,
        ):
            assert broadcast.subscribers("a") == 2
            broadcast.publish("a", "for a")
            broadcast.publish("b", "for b")
            assert a1.get(5) == "for a"
            assert a2.get(5) == "for a"
            assert b.get(5) == "for b"
            with pytest.raises(TimeoutError):
                a1.get(0.05)

    def test_async_subscriber_with_a_publisher_thread(self, broadcast: Broadcast) -> None:
        async def main() -> list[str]:
            async with broadcast.asubscribe("c") as sub:
                thread = threading.Thread(
                    target=lambda: [broadcast.publish("c", str(n)) for n in range(3)]
                )
                thread.start()
                got = [await sub.aget(5) for _ in range(3)]
                thread.join()
                await broadcast.apublish("c", "from the loop")
                got.append(await sub.aget(5))
                return got

        assert asyncio.run(main()) == ["0", "1", "2", "from the loop"]

    def test_thread_subscriber_with_an_async_publisher(self, broadcast: Broadcast) -> None:
        got: list[str] = []
        ready = threading.Event()

        def reader() -> None:
            with broadcast.subscribe("c") as sub:
                ready.set()
                got.extend(sub.get(5) for _ in range(2))

        thread = threading.Thread(target=reader)
        thread.start()
        assert ready.wait(5)

        async def publish() -> None:
            await broadcast.apublish("c", "x")
            await broadcast.apublish("c", "y")

        asyncio.run(publish())
        thread.join(5)
        assert got == ["x", "y"]

    def test_leaving_stops_delivery(self, broadcast: Broadcast) -> None:
        with broadcast.subscribe("c") as sub:
            pass
        assert sub.closed and sub.reason == "unsubscribed"
        assert broadcast.subscribers("c") == 0
        broadcast.publish("c", "nobody hears")
        with pytest.raises(SubscriptionClosed):
            sub.get(0.01)
        # The channel can be joined again.
        with broadcast.subscribe("c") as again:
            broadcast.publish("c", "heard")
            assert again.get(5) == "heard"

    def test_iteration_ends_when_the_broadcast_closes(self, broadcast: Broadcast) -> None:
        got: list[str] = []
        with broadcast.subscribe("c") as sub:
            broadcast.publish("c", "last")

            def close_soon() -> None:
                wait_until(lambda: not sub._queue)
                time.sleep(0.05)
                broadcast.close()

            thread = threading.Thread(target=close_soon)
            thread.start()
            got.extend(sub)  # blocks until close() wakes it
            thread.join(5)
        assert got == ["last"]
        assert sub.reason == "the broadcast was closed"

    def test_async_iteration_ends_when_the_broadcast_closes(self, broadcast: Broadcast) -> None:
        async def main() -> list[str]:
            async with broadcast.asubscribe("c") as sub:
                await broadcast.apublish("c", "last")
                loop = asyncio.get_running_loop()
                loop.call_later(0.05, threading.Thread(target=broadcast.close).start)
                return [message async for message in sub]

        assert asyncio.run(main()) == ["last"]

    def test_a_subscriber_that_falls_behind_is_dropped_alone(self, broadcast: Broadcast) -> None:
        with broadcast.subscribe("c") as slow, broadcast.subscribe("c") as fast:
            for n in range(8):
                broadcast.publish("c", str(n))
                assert fast.get(5) == str(n)
            assert len(slow._queue) == 8  # the limit (max_queue=8), not yet over it
            broadcast.publish("c", "one too many")
            assert fast.get(5) == "one too many"
            assert slow.closed and not slow._queue  # dropped, its memory freed
            assert broadcast.subscribers("c") == 1
            with pytest.raises(SubscriberDropped, match="fell 8 messages behind"):
                slow.get()
            with pytest.raises(SubscriberDropped):
                next(iter(slow))  # iterating says so too: the stream is not complete
            broadcast.publish("c", "after")
            assert fast.get(5) == "after"

    def test_a_dropped_async_subscriber_raises_in_async_for(self, broadcast: Broadcast) -> None:
        async def main() -> None:
            async with broadcast.asubscribe("c") as sub:
                for n in range(9):
                    await broadcast.apublish("c", str(n))
                _wait_until(lambda: sub.closed)  # see test_listening_raises_when_dropped
                with pytest.raises(SubscriberDropped):
                    async for _ in sub:
                        pass

        asyncio.run(main())

    def test_timeouts_and_listen_idle(self, broadcast: Broadcast) -> None:
        with broadcast.subscribe("c") as sub:
            with pytest.raises(TimeoutError, match="no message on 'c'"):
                sub.get(0.02)
            listening = sub.listen(0.02)
            assert next(listening) is None
            broadcast.publish("c", "m")
            assert next(listening) == "m"

        async def main() -> list[str | None]:
            async with broadcast.asubscribe("c") as sub:
                with pytest.raises(TimeoutError):
                    await sub.aget(0.02)
                listening = sub.alisten(0.02)
                first = await anext(listening)
                await broadcast.apublish("c", "m")
                second = await anext(listening)
                await listening.aclose()
                return [first, second]

        assert asyncio.run(main()) == [None, "m"]

    def test_listen_ends_with_the_subscription(self, broadcast: Broadcast) -> None:
        with broadcast.subscribe("c") as sub:
            sub.close()
            assert list(sub.listen(1)) == []

    def test_one_coroutine_reads_a_subscription(self, broadcast: Broadcast) -> None:
        async def main() -> None:
            async with broadcast.asubscribe("c") as sub:
                first = asyncio.ensure_future(sub.aget())
                await asyncio.sleep(0)
                with pytest.raises(RuntimeError, match="already reading"):
                    await sub.aget()
                await broadcast.apublish("c", "m")
                assert await first == "m"

        asyncio.run(main())

    def test_a_subscription_must_be_entered_once(self, broadcast: Broadcast) -> None:
        sub = broadcast.subscribe("c")
        with pytest.raises(RuntimeError, match="Enter the subscription first"):
            sub.get()
        with pytest.raises(RuntimeError, match="Enter the subscription first"):
            asyncio.run(sub.aget())
        with sub, pytest.raises(RuntimeError, match="entered once"):
            sub.__enter__()
        assert "closed" in repr(sub)

    def test_messages_and_channels_are_checked(self, broadcast: Broadcast) -> None:
        with pytest.raises(TypeError, match="json.dumps"):
            broadcast.publish("c", {"not": "a str"})  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="non-empty str"):
            broadcast.publish("", "m")
        with pytest.raises(TypeError, match="non-empty str"):
            broadcast.subscribe(b"c")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            asyncio.run(broadcast.apublish("c", b"bytes"))  # type: ignore[arg-type]

    def test_a_cancelled_reader_leaves_no_waiter(self, broadcast: Broadcast) -> None:
        async def main() -> str:
            async with broadcast.asubscribe("c") as sub:
                reader = asyncio.ensure_future(sub.aget())
                await asyncio.sleep(0)
                reader.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await reader
                assert sub._waiter is None
                await broadcast.apublish("c", "m")
                return await sub.aget(5)

        assert asyncio.run(main()) == "m"

    def test_listening_raises_when_dropped(self, broadcast: Broadcast) -> None:
        # NOTE: over Redis the messages arrive after publish() returns; a
        # reader started at once could keep up and never be dropped (the test
        # hung then), so each part waits for the drop before it listens.
        with broadcast.subscribe("c") as sub:
            for n in range(9):
                broadcast.publish("c", str(n))
            _wait_until(lambda: sub.closed)
            with pytest.raises(SubscriberDropped):
                for message in sub.listen(1):
                    assert message is not None, "listen() went idle instead of raising"

        async def main() -> None:
            async with broadcast.asubscribe("c") as sub:
                for n in range(9):
                    await broadcast.apublish("c", str(n))
                _wait_until(lambda: sub.closed)
                with pytest.raises(SubscriberDropped):
                    async for message in sub.alisten(1):
                        assert message is not None, "alisten() went idle instead of raising"

        asyncio.run(main())

    def test_closing_twice_and_reuse_after_close(self, broadcast: Broadcast) -> None:
        with broadcast.subscribe("c") as sub:
            broadcast.close()
            broadcast.close()
            assert sub.closed
            sub.close("again")
            assert sub.reason == "the broadcast was closed"  # the first reason stays
        # It reconnects on first use.
        with broadcast.subscribe("c") as sub:
            broadcast.publish("c", "again")
            assert sub.get(5) == "again"

    def test_websocket_handler_reads_its_socket_and_a_channel(self, url: str) -> None:
        # The chat pattern: one task relays the room's channel to the socket
        # while the handler reads the socket and publishes.
        app = Erlen(__name__)
        app.config.update(BROADCAST_URL=url)
        broadcast = Broadcast(app)

        @app.websocket("/ws/<room>")
        async def chat(room: str) -> None:
            await websocket.accept()
            async with broadcast.asubscribe(room) as sub:

                async def relay() -> None:
                    async for message in sub:
                        await websocket.send(message)

                relaying = asyncio.ensure_future(relay())
                try:
                    async for text in websocket:
                        await broadcast.apublish(room, f"{room}: {text}")
                finally:
                    relaying.cancel()

        client = app.test_client()
        try:
            with (
                client.websocket_connect("/ws/r1") as ws1,
                client.websocket_connect("/ws/r1") as ws2,
            ):
                wait_until(lambda: broadcast.subscribers("r1") == 2)
                ws1.send_text("hi")
                assert ws1.receive_text() == "r1: hi"
                assert ws2.receive_text() == "r1: hi"
                broadcast.publish("r1", "from a view")  # sync code, e.g. a plain view
                assert ws2.receive_text() == "from a view"
            wait_until(lambda: broadcast.subscribers("r1") == 0)
        finally:
            broadcast.close()


class TestRedis(TestMemory):
    @pytest.fixture
    def url(self, redis_url: str) -> str:
        return redis_url


def test_config_and_init_app() -> None:
    app = Erlen(__name__)
    broadcast = Broadcast()
    assert (broadcast.url, broadcast.max_queue) == ("memory://", DEFAULT_MAX_QUEUE)
    app.config.update(BROADCAST_URL="redis://127.0.0.1:1/0", BROADCAST_MAX_QUEUE=3)
    broadcast.init_app(app)
    assert app.extensions["broadcast"] is broadcast
    assert (broadcast.url, broadcast.max_queue) == ("redis://127.0.0.1:1/0", 3)
    assert broadcast.aclose in app.after_serving_funcs
    # Arguments win over the config.
    explicit = Broadcast(app, url="memory://", max_queue=5)
    assert (explicit.url, explicit.max_queue) == ("memory://", 5)
    # Nothing connects before first use: an unreachable Redis is fine until then.
    assert broadcast._backend is None


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("BROADCAST_URL", "amqp://x", "BROADCAST_URL must be"),
        ("BROADCAST_MAX_QUEUE", 0, "positive int"),
        ("BROADCAST_MAX_QUEUE", "10", "positive int"),
        ("BROADCAST_MAX_QUEUE", True, "positive int"),
    ],
)
def test_bad_config_is_refused_at_setup(key: str, value: object, match: str) -> None:
    app = Erlen(__name__)
    app.config[key] = value
    with pytest.raises(ValueError, match=match):
        Broadcast(app)


def test_lifespan_shutdown_ends_subscriptions() -> None:
    app = Erlen(__name__)
    broadcast = Broadcast(app)

    async def main() -> list[str]:
        messages = iter(
            [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}],
        )
        sent: list[str] = []
        shutdown = asyncio.Event()

        async def receive() -> dict[str, str]:
            message = next(messages)
            if message["type"] == "lifespan.shutdown":
                await shutdown.wait()
            return message

        async def send(message: dict[str, str]) -> None:
            sent.append(message["type"])

        async def reader() -> list[str]:
            async with broadcast.asubscribe("c") as sub:
                await broadcast.apublish("c", "before")
                got = [message async for message in sub]
                assert sub.reason == "the broadcast was closed"
                return got

        reading = asyncio.ensure_future(reader())
        lifespan = asyncio.ensure_future(app({"type": "lifespan"}, receive, send))
        await asyncio.sleep(0.05)
        assert not reading.done()
        shutdown.set()
        await asyncio.wait_for(lifespan, 5)
        assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
        return await asyncio.wait_for(reading, 5)

    assert asyncio.run(main()) == ["before"]


def test_two_brokers_on_one_redis_see_each_other(redis_url: str) -> None:
    # Two Broadcast objects with their own connections and threads, as two
    # server processes would have.
    one, two = Broadcast(url=redis_url), Broadcast(url=redis_url)
    try:
        with one.subscribe("room") as on_one, two.subscribe("room") as on_two:
            one.publish("room", "from one")
            two.publish("room", "from two")
            assert [on_one.get(5), on_one.get(5)] == ["from one", "from two"]
            assert [on_two.get(5), on_two.get(5)] == ["from one", "from two"]
            # Multi-line and non-ASCII text goes through unchanged.
            one.publish("room", "zwei\nZeilen ü")
            assert on_two.get(5) == "zwei\nZeilen ü"
    finally:
        one.close()
        two.close()
    assert not one._backend and not two._backend  # threads stopped


def test_redis_down_is_a_clear_error_and_reconnects(redis_server: t.Any) -> None:
    # A server of its own (the shared one stays up); redis_server makes the
    # test skip, or fail under ERLEN_REDIS_TESTS=require, without Redis.
    import redis_support
    from redis.exceptions import ConnectionError as RedisConnectionError

    with redis_support.RedisServer() as server:
        broadcast = Broadcast(url=server.url)
        try:
            with broadcast.subscribe("c") as sub:
                broadcast.publish("c", "up")
                assert sub.get(5) == "up"
                server.stop()
                with pytest.raises((RedisConnectionError, OSError)):
                    broadcast.publish("c", "down")
                server.start()
                # redis-py reconnects the listener and subscribes again.
                deadline = time.monotonic() + 10
                while True:
                    broadcast.publish("c", "back")
                    try:
                        assert sub.get(0.2) == "back"
                        break
                    except TimeoutError:
                        assert time.monotonic() < deadline, "no message after the restart"
        finally:
            broadcast.close()


def test_a_message_for_a_closed_subscription_is_ignored() -> None:
    # The race of a reader leaving while a message is on its way to it.
    broadcast = Broadcast()
    with broadcast.subscribe("c") as sub:
        pass
    assert sub._deliver("late") is True
    assert not sub._queue


@pytest.mark.parametrize("publisher", ["same thread", "other thread"])
def test_a_waiter_on_a_closed_loop_does_not_break_publishing(publisher: str) -> None:
    # A loop closed without cancelling its tasks leaves a waiter behind; a
    # publish must not fail on it.
    broadcast = Broadcast()
    with broadcast.subscribe("c") as sub:
        loop = asyncio.new_event_loop()
        pending = loop.create_task(sub.aget())
        loop.run_until_complete(asyncio.sleep(0))
        assert sub._waiter is not None
        loop.close()
        if publisher == "same thread":
            broadcast.publish("c", "m")
        else:
            thread = threading.Thread(target=broadcast.publish, args=("c", "m"))
            thread.start()
            thread.join(5)
        assert sub._waiter is None
        assert sub.get(1) == "m"
        assert not pending.done()  # its loop is gone; it never ran again


def test_subscribing_while_redis_is_down_fails_clearly_and_leaves_nothing(
    redis_server: t.Any,
) -> None:
    # A server of its own, stopped before the first subscription.
    import redis_support
    from redis.exceptions import ConnectionError as RedisConnectionError

    with redis_support.RedisServer() as server:
        broadcast = Broadcast(url=server.url)
        try:
            server.stop()
            with pytest.raises((RedisConnectionError, OSError)), broadcast.subscribe("c"):
                pass  # not reached
            assert broadcast.subscribers("c") == 0

            async def asubscribe() -> None:
                async with broadcast.asubscribe("c"):
                    pass  # not reached

            with pytest.raises((RedisConnectionError, OSError)):
                asyncio.run(asubscribe())
            assert broadcast.subscribers("c") == 0
            server.start()
            with broadcast.subscribe("c") as sub:
                broadcast.publish("c", "back")
                assert sub.get(5) == "back"
        finally:
            broadcast.close()


def test_first_subscriptions_at_the_same_time_all_receive(redis_url: str) -> None:
    # Regression: redis-py's PubSub opened one connection per concurrent first
    # SUBSCRIBE and kept the last, so a channel subscribed on the other was
    # never confirmed (a 10 s TimeoutError), e.g. two chat rooms joined at once.
    channels = [f"room{n}" for n in range(8)]

    async def main() -> list[str]:
        broadcast = Broadcast(url=redis_url)
        subs = [broadcast.asubscribe(channel) for channel in channels]
        try:
            async with asyncio.timeout(5):
                await asyncio.gather(*(sub.__aenter__() for sub in subs))
                for channel in channels:
                    await broadcast.apublish(channel, channel)
                return [await sub.aget() for sub in subs]
        finally:
            await broadcast.aclose()

    for _ in range(5):  # the race lost about half the time; five tries all but always hit it
        assert asyncio.run(main()) == channels


def _wait_until(condition: t.Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.005)


# -- rarer paths -----------------------------------------------------------------


def test_a_subscription_closed_before_it_was_entered() -> None:
    broadcast = Broadcast()
    sub = broadcast.subscribe("c")
    sub.close("changed my mind")
    assert sub.closed and sub.reason == "changed my mind"
    assert broadcast.subscribers("c") == 0
    broadcast.close()


def test_closing_a_broadcast_twice_or_unused() -> None:
    unused = Broadcast()
    unused.close()  # never started a backend
    asyncio.run(Broadcast().aclose())  # the same from async code
    broadcast = Broadcast()
    with broadcast.subscribe("c") as sub:
        broadcast.close()
        assert sub.closed and sub.reason == "the broadcast was closed"
        broadcast.close()  # nothing left to close
    assert broadcast.subscribers("c") == 0


class _FailingBackend:
    """A backend whose subscribe has already failed when it returns."""

    def __init__(self) -> None:
        import os

        self.pid = os.getpid()
        self.unsubscribed: list[str] = []

    def subscribe(self, channel: str) -> t.Any:
        from concurrent.futures import Future

        future: Future[None] = Future()
        future.set_exception(ConnectionError("refused"))
        return future

    def unsubscribe(self, channel: str) -> None:
        self.unsubscribed.append(channel)

    def close(self) -> None:
        pass


def test_a_subscription_that_failed_at_once_is_closed_and_raises() -> None:
    broadcast = Broadcast()
    backend = _FailingBackend()
    broadcast._backend = t.cast(t.Any, backend)
    sub = broadcast.subscribe("c")
    with pytest.raises(ConnectionError, match="refused"):
        sub.__enter__()
    assert sub.closed and sub.reason == "the subscription failed"
    assert broadcast.subscribers("c") == 0 and backend.unsubscribed == ["c"]


def test_redis_backend_idle_reads_same_channel_twice_and_closing_twice(redis_url: str) -> None:
    broadcast = Broadcast(url=redis_url)
    try:
        backend = broadcast._get_backend()
        # Two subscriptions of one channel in flight wait for one confirmation.
        first, second = backend.subscribe("twice"), backend.subscribe("twice")
        first.result(5.0)
        second.result(5.0)
        with broadcast.subscribe("idle") as sub:
            time.sleep(1.3)  # past the reader's 1 s poll: it read nothing and went on
            broadcast.publish("idle", "after a pause")
            assert sub.get(timeout=5.0) == "after a pause"
    finally:
        broadcast.close()
    backend.close()  # a second close returns at once
    backend.unsubscribe("twice")  # ignored once closing
    assert not backend._thread.is_alive()


def test_redis_backend_closed_from_its_own_thread_with_a_failing_disconnect(
    redis_url: str,
) -> None:
    broadcast = Broadcast(url=redis_url)
    backend = broadcast._get_backend()
    backend.subscribe("c").result(5.0)
    closed: list[str] = []

    async def broken_close() -> None:
        closed.append("pubsub")
        raise ConnectionError("already gone")

    # A dead connection's close fails: the client is still closed after it.
    backend._pubsub.aclose = broken_close
    client_close = backend._client.aclose

    async def recorded_close() -> None:
        closed.append("client")
        await client_close()

    backend._client.aclose = recorded_close
    # From the backend's own thread (a callback on its loop): no self-join.
    backend._loop.call_soon_threadsafe(backend.close)
    backend._thread.join(5.0)
    assert not backend._thread.is_alive() and backend._closing
    assert closed == ["pubsub", "client"]
    broadcast.close()
