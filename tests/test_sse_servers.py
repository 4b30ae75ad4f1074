"""Event streams under real servers on 127.0.0.1: uvicorn (ASGI) and gunicorn's threads (WSGI).

Under ASGI a client that disconnects stops the stream at once: the async
generator's ``finally`` runs and its subscription is left. Under WSGI each
event reaches the client as it is made (no buffering anywhere), and a
client that left is noticed at the next write, which the heartbeat bounds.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import sys
import textwrap
import time
import typing as t

from live_servers import HOST, ServerProcess, UvicornLiveServer, clean_env

from erlen import Erlen
from erlen.broadcast import Broadcast
from erlen.sse import event_stream


def wait_until(check: t.Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def open_stream(
    port: int, path: str
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    conn.request("GET", path, headers={"Accept": "text/event-stream"})
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream; charset=utf-8"
    assert response.getheader("X-Accel-Buffering") == "no"
    return conn, response


def read_until(response: http.client.HTTPResponse, marker: bytes, got: bytearray) -> bytes:
    """Read what the server has sent until ``marker`` is in it (the socket's timeout bounds it)."""
    while marker not in got:
        chunk = response.read1(65536)
        assert chunk, f"the stream ended before {marker!r}: {bytes(got)!r}"
        got.extend(chunk)
    return bytes(got)


def test_uvicorn_client_leaving_stops_the_stream() -> None:
    app = Erlen(__name__)
    broadcast = Broadcast(app)
    finished: list[str] = []

    @app.get("/generated")
    async def generated() -> t.Any:
        async def events() -> t.AsyncIterator[t.Any]:
            try:
                n = 0
                while True:  # endless: only the client leaving stops it
                    yield f"n{n}"
                    n += 1
                    await asyncio.sleep(0.01)
            finally:
                finished.append("generated")

        return event_stream(events())

    @app.get("/channel")
    async def channel() -> t.Any:
        return event_stream(broadcast.asubscribe("news"), heartbeat=0.05)

    with UvicornLiveServer(app, lifetime=30) as server:
        conn, response = open_stream(server.port, "/generated")
        read_until(response, b"data: n3\n\n", bytearray())
        conn.close()  # the client leaves
        wait_until(lambda: finished == ["generated"])

        conn, response = open_stream(server.port, "/channel")
        got = bytearray()
        read_until(response, b":\n\n", got)  # joined
        assert broadcast.subscribers("news") == 1
        broadcast.publish("news", "hello")
        read_until(response, b"data: hello\n\n", got)
        read_until(response, b"data: hello\n\n:\n\n", got)  # a heartbeat follows
        conn.close()
        wait_until(lambda: broadcast.subscribers("news") == 0)


APP = textwrap.dedent(
    """
    from erlen import Erlen, request
    from erlen.broadcast import Broadcast
    from erlen.sse import event_stream

    app = Erlen(__name__)
    broadcast = Broadcast(app)


    @app.get("/events")
    def events():
        return event_stream(broadcast.subscribe("news"), heartbeat=0.1)


    @app.post("/publish")
    def publish():
        broadcast.publish("news", request.get_data(as_text=True))
        return "", 204


    @app.get("/subscribers")
    def subscribers():
        return str(broadcast.subscribers("news"))
    """
)


def test_wsgi_streams_each_event_as_it_comes_under_gunicorn_threads(tmp_path: t.Any) -> None:
    (tmp_path / "sse_app.py").write_text(APP)
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    command = [
        gunicorn,
        "--bind",
        "127.0.0.1:{port}",
        "--worker-class",
        "gthread",
        "--workers",
        "1",
        "--threads",
        "4",
        "sse_app:app",
    ]

    with ServerProcess(command, tmp_path, env=clean_env(), lifetime=60) as server:

        def call(method: str, path: str, body: str | None = None) -> bytes:
            conn = http.client.HTTPConnection(HOST, server.port, timeout=10)
            conn.request(method, path, body=body)
            data = conn.getresponse().read()
            conn.close()
            return data

        conn, response = open_stream(server.port, "/events")
        got = bytearray()
        read_until(response, b":\n\n", got)  # joined (the opening, on the stream's own thread)
        for n in range(3):
            # Each event arrives before the next is published: nothing buffers.
            call("POST", "/publish", f"event {n}")
            read_until(response, f"data: event {n}\n\n".encode(), got)
        assert call("GET", "/subscribers") == b"1"
        conn.close()
        # The stream's thread finds the client gone at its next heartbeat
        # (0.1 s), leaves the channel and goes back to the pool.
        wait_until(lambda: call("GET", "/subscribers") == b"0", timeout=10)
        assert "Traceback" not in server.output(), server.output()
