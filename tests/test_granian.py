"""Erlen under granian, over the wire: its WSGI and its ASGI interface.

One app (written to a file, so granian imports it as a deployment would)
served by one granian worker in a subprocess on 127.0.0.1 and a free port,
for the module's tests; a plain HTTP client checks what reaches the wire: a
GET with a query, a POST body, a streamed response, a 404, a HEAD, an
``async def`` view, and under ASGI a WebSocket echo.
"""

from __future__ import annotations

import http.client
import json
import sys
import textwrap
import typing as t
from pathlib import Path

import pytest
from live_servers import HOST, ServerProcess, clean_env

pytest.importorskip(
    "granian", reason="granian is not installed: pip install 'granian>=2' (in the dev extra)"
)

APP = textwrap.dedent(
    """
    import asyncio

    from erlen import Erlen, request, stream_with_context, websocket

    app = Erlen(__name__)


    @app.get("/")
    def hello():
        return f"Hello, {request.args.get('name', 'World')}!"


    @app.post("/echo")
    def echo():
        data = request.get_json()
        return {"got": data, "length": request.content_length}


    @app.get("/stream")
    def stream():
        @stream_with_context
        def parts():
            for n in range(3):
                yield f"part {n} of {request.path}\\n"

        return parts(), {"Content-Type": "text/plain"}


    @app.get("/async")
    async def slow():
        await asyncio.sleep(0)
        return {"async": True}


    @app.websocket("/ws")
    async def echo_socket():
        await websocket.accept()
        async for message in websocket:
            await websocket.send(f"echo: {message}")
    """
)


@pytest.fixture(scope="module", params=["wsgi", "asgi"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> t.Any:
    """granian serving the app through ``request.param``, one worker, for the module's tests."""
    folder = tmp_path_factory.mktemp(f"granian-{request.param}")
    (folder / "granian_app.py").write_text(APP)
    command = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        request.param,
        "--workers",
        "1",
        "--host",
        HOST,
        "--port",
        "{port}",
        "--log-level",
        "warning",
        *(["--no-ws"] if request.param == "wsgi" else []),
        "granian_app:app",
    ]
    with ServerProcess(command, Path(folder), env=clean_env(), lifetime=90) as running:
        running.interface = request.param  # type: ignore[attr-defined]
        yield running
        output = running.output()
    assert "Traceback" not in output, output


def call(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[http.client.HTTPResponse, bytes]:
    """One request on its own connection (bounded by a 10 s timeout); the response and body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def test_get_with_query(server: t.Any) -> None:
    response, body = call(server.port, "GET", "/?name=granian")
    assert response.status == 200
    assert body == b"Hello, granian!"
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert response.getheader("Content-Length") == "15"


def test_post_json_body(server: t.Any) -> None:
    doc = {"name": "Ada", "tags": ["math", "engines"], "text": "é" * 300}
    payload = json.dumps(doc).encode()
    response, body = call(
        server.port, "POST", "/echo", payload, {"Content-Type": "application/json"}
    )
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(body) == {"got": doc, "length": len(payload)}


def test_streamed_response(server: t.Any) -> None:
    response, body = call(server.port, "GET", "/stream")
    assert response.status == 200
    # No length known in advance: the body goes out in chunks as it is made.
    assert response.getheader("Content-Length") is None
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert body == b"part 0 of /stream\npart 1 of /stream\npart 2 of /stream\n"


def test_not_found(server: t.Any) -> None:
    response, body = call(server.port, "GET", "/missing")
    assert response.status == 404
    assert b"Not Found" in body
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"


def test_head_keeps_length_without_body(server: t.Any) -> None:
    response, body = call(server.port, "HEAD", "/?name=granian")
    assert response.status == 200
    assert body == b""
    assert response.getheader("Content-Length") == "15"


def test_async_view(server: t.Any) -> None:
    response, body = call(server.port, "GET", "/async")
    assert response.status == 200
    assert json.loads(body) == {"async": True}


def test_keep_alive_serves_many_requests_on_one_connection(server: t.Any) -> None:
    conn = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        for n in range(20):
            conn.request("GET", f"/?name=n{n}")
            response = conn.getresponse()
            assert response.read() == f"Hello, n{n}!".encode()
    finally:
        conn.close()


@pytest.mark.parametrize("server", ["asgi"], indirect=True)  # WebSockets are ASGI's
def test_websocket_echo(server: t.Any) -> None:
    from websockets.sync.client import connect

    with connect(f"ws://{HOST}:{server.port}/ws", open_timeout=10, close_timeout=5) as ws:
        for text in ("one", "two", "é" * 1000):
            ws.send(text)
            assert ws.recv(timeout=10) == f"echo: {text}"
