"""erlen.sse through the test client, over WSGI and ASGI.

The real servers (a client leaving under uvicorn, events arriving one by
one under a threaded WSGI server) are in ``test_sse_servers.py``; the
fan-out load in ``test_broadcast_load.py``.
"""

from __future__ import annotations

import asyncio
import threading
import time
import typing as t

import pytest

from erlen import Erlen
from erlen.broadcast import Broadcast
from erlen.sse import ServerSentEvent, event_stream, last_event_id
from erlen.testing import ErlenClient


def wait_until(check: t.Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_headers_and_event_fields(app: Erlen, client: ErlenClient) -> None:
    closed = []

    @app.get("/events")
    def events() -> t.Any:
        def generate() -> t.Iterator[t.Any]:
            try:
                yield ServerSentEvent("hello", event="greeting", id="1")
                yield "just data"
                yield None
                yield ServerSentEvent(comment="a note\nover two lines", id="", retry=500)
            finally:
                closed.append(True)

        return event_stream(generate(), retry=2000)

    response = client.get("/events")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert "Content-Length" not in response.headers
    assert response.data == (
        b":\nretry: 2000\n\n"
        b"event: greeting\nid: 1\ndata: hello\n\n"
        b"data: just data\n\n"
        b":\n\n"
        b": a note\n: over two lines\nid\nretry: 500\n\n"
    )
    assert closed == [True]


def test_multi_line_data_is_split_into_data_lines(app: Erlen, client: ErlenClient) -> None:
    @app.get("/events")
    def events() -> t.Any:
        return event_stream(iter(["a\r\nb\rc\nd", ServerSentEvent("x\n"), "line\u2028separator é"]))

    assert client.get("/events").data == (
        b":\n\n"
        b"data: a\ndata: b\ndata: c\ndata: d\n\n"
        b"data: x\ndata: \n\n" + "data: line\u2028separator é\n\n".encode()
        # Only CR and LF end lines in the format; other separators are data.
    )


def test_async_generator_source(app: Erlen, client: ErlenClient) -> None:
    closed = []

    @app.get("/events")
    async def events() -> t.Any:
        async def generate() -> t.AsyncIterator[ServerSentEvent]:
            try:
                for n in range(3):
                    await asyncio.sleep(0)
                    yield ServerSentEvent(f"n{n}", id=str(n))
            finally:
                closed.append(True)

        return event_stream(generate())

    response = client.get("/events")
    assert response.data == b":\n\n" + b"".join(
        f"id: {n}\ndata: n{n}\n\n".encode() for n in range(3)
    )
    assert closed == [True]


def test_last_event_id_resumes_the_stream(app: Erlen, client: ErlenClient) -> None:
    @app.get("/events")
    def events() -> t.Any:
        after = last_event_id()
        start = int(after) + 1 if after is not None else 0
        return event_stream(ServerSentEvent(str(n), id=str(n)) for n in range(start, 3))

    assert client.get("/events").data.count(b"data:") == 3
    resumed = client.get("/events", headers={"Last-Event-ID": "1"})
    assert resumed.data == b":\n\nid: 2\ndata: 2\n\n"
    assert client.get("/events", headers={"Last-Event-ID": ""}).data.count(b"data:") == 3


def test_a_bad_last_event_id_is_a_400(app: Erlen, client: ErlenClient) -> None:
    @app.get("/events")
    def events() -> t.Any:
        return event_stream(iter([str(last_event_id())]))

    assert client.get("/events", headers={"Last-Event-ID": "x" * 1025}).status_code == 400
    assert client.get("/events", headers={"Last-Event-ID": "x" * 1024}).status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"event": "a\nb"}, ValueError, "line break"),
        ({"event": "a\rb"}, ValueError, "line break"),
        ({"id": "1\n"}, ValueError, "line break"),
        ({"id": "1\0"}, ValueError, "NUL"),
        ({"retry": -1}, ValueError, "milliseconds"),
        ({"retry": True}, ValueError, "milliseconds"),
        ({"retry": "100"}, ValueError, "milliseconds"),
        ({"data": b"bytes"}, TypeError, "data is a str"),
        ({"event": 1}, TypeError, "event is a str"),
        ({"comment": 1}, TypeError, "comment is a str"),
    ],
)
def test_fields_that_would_break_the_framing_are_refused(
    kwargs: dict[str, t.Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        ServerSentEvent(**kwargs)


def test_event_repr_and_bad_stream_arguments() -> None:
    assert repr(ServerSentEvent("d", id="1")) == "ServerSentEvent(data='d', id='1')"
    with pytest.raises(TypeError, match="iterable or async iterable"):
        event_stream(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="iterable or async iterable"):
        event_stream("not events")
    with pytest.raises(ValueError, match="milliseconds"):
        event_stream(iter(()), retry=-5)


def test_a_bad_item_stops_the_stream_with_a_type_error(app: Erlen, client: ErlenClient) -> None:
    @app.get("/events")
    def events() -> t.Any:
        return event_stream(iter(["fine", b"bytes"]))

    with pytest.raises(TypeError, match="yields ServerSentEvent objects"):
        client.get("/events")


def test_a_custom_response_class_is_used(app: Erlen, client: ErlenClient) -> None:
    class MyResponse(app.response_class):  # type: ignore[name-defined,misc]
        pass

    app.response_class = MyResponse
    seen = []

    @app.get("/events")
    def events() -> t.Any:
        response = event_stream(iter(["x"]))
        seen.append(type(response))
        return response

    client.get("/events")
    assert seen == [MyResponse]


@pytest.fixture
def broadcast(app: Erlen) -> t.Iterator[Broadcast]:
    broadcast = Broadcast(app)
    yield broadcast
    broadcast.close()


def publish_then_close(broadcast: Broadcast, messages: list[str], pause: float = 0.0) -> None:
    """In a thread: once the stream has joined the channel, publish, then end the stream."""

    def run() -> None:
        wait_until(lambda: broadcast.subscribers("news") == 1)
        time.sleep(pause)
        for message in messages:
            broadcast.publish("news", message)
        wait_until(lambda: broadcast.subscribers("news") == 0 or _drained(broadcast))
        broadcast.close()

    threading.Thread(target=run, daemon=True).start()


def _drained(broadcast: Broadcast) -> bool:
    with broadcast._lock:
        subs = [sub for channel in broadcast._channels.values() for sub in channel]
    return all(not sub._queue for sub in subs)


@pytest.mark.parametrize("view_kind", ["sync", "async"])
def test_a_subscription_streams_the_channel(
    app: Erlen, client: ErlenClient, broadcast: Broadcast, view_kind: str
) -> None:
    if view_kind == "sync":

        @app.get("/news")
        def news() -> t.Any:
            return event_stream(broadcast.subscribe("news"), heartbeat=None)

    else:

        @app.get("/news")
        async def news() -> t.Any:
            return event_stream(broadcast.asubscribe("news"), heartbeat=None)

    publish_then_close(broadcast, ["one", "two\nlines"])
    response = client.get("/news")
    assert response.data == b":\n\ndata: one\n\ndata: two\ndata: lines\n\n"
    assert broadcast.subscribers("news") == 0


def test_a_quiet_channel_gets_heartbeats(
    app: Erlen, client: ErlenClient, broadcast: Broadcast
) -> None:
    @app.get("/news")
    def news() -> t.Any:
        return event_stream(broadcast.subscribe("news"), heartbeat=0.01, retry=100)

    publish_then_close(broadcast, ["late"], pause=0.1)
    body = client.get("/news").data
    assert body.startswith(b":\nretry: 100\n\n:\n\n")  # opening, then at least one heartbeat
    # The channel closes just after the message, so a heartbeat may still come
    # in between on a busy machine: after the message, heartbeats only.
    head, sep, tail = body.partition(b"data: late\n\n")
    assert sep
    assert set(head.removeprefix(b":\nretry: 100\n\n").split(b"\n\n")) == {b":", b""}
    assert set(tail.split(b"\n\n")) <= {b":", b""}


def test_a_dropped_subscriber_ends_its_stream_with_a_comment() -> None:
    # Driven by hand, so the reader is surely behind when the messages come.
    broadcast = Broadcast(max_queue=2)
    body = event_stream(broadcast.subscribe("c"), heartbeat=None).response
    chunks = iter(body)
    assert next(chunks) == b":\n\n"  # joined
    for n in range(3):
        broadcast.publish("c", str(n))
    assert next(chunks).startswith(b": dropped: fell 2 messages behind on channel 'c'")
    with pytest.raises(StopIteration):
        next(chunks)
    assert broadcast.subscribers("c") == 0

    async def main() -> list[bytes]:
        body = event_stream(broadcast.asubscribe("c"), heartbeat=None).response
        chunks = aiter(body)
        got = [await anext(chunks)]
        for n in range(3):
            await broadcast.apublish("c", str(n))
        got.extend([chunk async for chunk in chunks])
        return got

    opening, dropped = asyncio.run(main())
    assert (opening, dropped[:10]) == (b":\n\n", b": dropped:")
    assert broadcast.subscribers("c") == 0


def test_closing_an_unread_stream_closes_its_source() -> None:
    closed = []

    def generate() -> t.Iterator[str]:
        try:
            yield "x"
        finally:
            closed.append(True)

    source = generate()
    next(source)  # started elsewhere; the response never iterated it
    event_stream(source).close()
    assert closed == [True]


def test_asgi_client_leaving_ends_the_stream_and_its_subscription() -> None:
    # In process: the client disconnects while a body message is being sent;
    # the adapter acloses the body, so the async generator's finally runs at
    # once (not when garbage-collected) and the subscription is left.
    app = Erlen(__name__)
    broadcast = Broadcast(app)
    finished = []

    @app.get("/news")
    async def news() -> t.Any:
        async def generate() -> t.AsyncIterator[t.Any]:
            try:
                async with broadcast.asubscribe("news") as sub:
                    yield None
                    async for message in sub:
                        yield message
            finally:
                finished.append(True)

        return event_stream(generate())

    from live_servers import http_scope

    async def main() -> list[bytes]:
        bodies: list[bytes] = []
        opened = asyncio.Event()

        async def receive() -> dict[str, t.Any]:
            if not bodies:
                return {"type": "http.request", "body": b"", "more_body": False}
            await opened.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, t.Any]) -> None:
            if message["type"] == "http.response.body":
                bodies.append(message["body"])
                if len(bodies) == 3:  # the opening and the first heartbeat
                    opened.set()
                    # A slow network: the client leaves while this send
                    # waits, with the generator paused at its yield.
                    await asyncio.sleep(10)
            else:
                bodies.append(b"")

        await asyncio.wait_for(app(http_scope("/news"), receive, send), 5)
        # Checked here: asyncio.run() would close a forgotten generator as it ends.
        assert finished == [True]
        assert broadcast.subscribers("news") == 0
        return bodies

    bodies = asyncio.run(main())
    assert bodies[1:3] == [b":\n\n", b":\n\n"]


def test_messages_queued_behind_one_go_out_in_one_write() -> None:
    # A subscriber that got behind catches up in one send, not one per message.
    broadcast = Broadcast()
    chunks = iter(event_stream(broadcast.subscribe("c")).response)
    assert next(chunks) == b":\n\n"
    for n in range(3):
        broadcast.publish("c", str(n))
    assert next(chunks) == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"
    broadcast.close()
    assert list(chunks) == []

    async def main() -> list[bytes]:
        chunks = aiter(event_stream(broadcast.asubscribe("c")).response)
        got = [await anext(chunks)]
        for n in range(2):
            await broadcast.apublish("c", str(n))
        got.append(await anext(chunks))
        broadcast.close()
        got.extend([chunk async for chunk in chunks])
        return got

    assert asyncio.run(main()) == [b":\n\n", b"data: 0\n\ndata: 1\n\n"]
