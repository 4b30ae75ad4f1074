"""``erlen.asgi.serve_wsgi``: an app with a wrapped ``app.wsgi_app`` on the ASGI side.

Driven with raw ASGI messages and under uvicorn; the app-level behaviour,
over both interfaces, is in ``test_wsgi_middleware.py``.
"""

from __future__ import annotations

import asyncio
import threading
import typing as t

from live_servers import UvicornLiveServer, http_scope

from erlen import Erlen, request
from erlen.compat.proxy_fix import ProxyFix


def _run(app: Erlen, scope: dict[str, t.Any], messages: list[dict[str, t.Any]]) -> list[t.Any]:
    sent: list[t.Any] = []
    incoming = list(messages)

    async def receive() -> dict[str, t.Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(5)  # pragma: no cover - the tests send all they need
        return {"type": "http.disconnect"}  # pragma: no cover

    async def send(message: dict[str, t.Any]) -> None:
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, send), 10))
    return sent


def test_asgi_streams_chunk_by_chunk(app):
    release = threading.Event()

    @app.route("/")
    def index():
        def gen():
            yield "one"
            release.wait(5)
            yield "two"

        return app.response_class(gen())

    app.wsgi_app = ProxyFix(app.wsgi_app)
    seen: list[t.Any] = []

    async def main() -> None:
        incoming = [{"type": "http.request", "body": b""}]

        async def receive() -> dict[str, t.Any]:
            if incoming:
                return incoming.pop()
            await asyncio.sleep(10)
            return {"type": "http.disconnect"}  # pragma: no cover

        async def send(message: dict[str, t.Any]) -> None:
            seen.append(message)
            if message.get("body") == b"one":
                # The first chunk arrived while the view still waits: streamed.
                release.set()

        await asyncio.wait_for(app(http_scope(), receive, send), 10)

    asyncio.run(main())
    assert seen[0]["status"] == 200
    assert [m.get("body") for m in seen[1:]] == [b"one", b"two", b""]


def test_asgi_client_gone_while_reading_the_body(app):
    calls = []
    app.wsgi_app = lambda environ, start_response: calls.append(environ) or []
    scope = http_scope(method="POST")
    scope["headers"].append((b"content-length", b"10"))
    sent = _run(
        app,
        scope,
        [{"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.disconnect"}],
    )
    assert sent == []
    assert calls == []


def test_asgi_environ_is_wsgi(app):
    environs = []

    def wsgi(environ, start_response):
        environs.append(environ)
        start_response("200 OK", [])
        return [b"ok"]

    app.wsgi_app = wsgi
    scope = http_scope("/mount/caf\u00e9")
    scope["root_path"] = "/mount"
    scope["client"] = None
    scope["extensions"] = {}
    sent = _run(app, scope, [{"type": "http.request", "body": b""}])
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    (environ,) = environs
    assert environ["SCRIPT_NAME"] == "/mount"
    assert environ["PATH_INFO"] == "/caf\u00e9".encode().decode("latin-1")
    assert "REMOTE_ADDR" not in environ
    assert environ["wsgi.input"].read() == b""
    assert environ["HTTP_HOST"] == "localhost"
    assert "erlen._preserve_context" not in environ


def test_lifespan_stays_native(app):
    started = []
    app.before_serving(lambda: started.append(True))
    app.wsgi_app = ProxyFix(app.wsgi_app)
    sent = _run(
        app, {"type": "lifespan"}, [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    )
    assert started == [True]
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_proxy_fix_under_uvicorn(app):
    import http.client

    @app.route("/")
    def index():
        return f"{request.remote_addr} {request.scheme}"

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
    server = UvicornLiveServer(app, lifetime=20, lifespan="off")
    # uvicorn applies X-Forwarded-For/-Proto itself by default; off, only
    # the app's ProxyFix can.
    server.server.config.proxy_headers = False
    with server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            conn.request(
                "GET", "/", headers={"X-Forwarded-For": "192.0.2.9", "X-Forwarded-Proto": "https"}
            )
            rv = conn.getresponse()
            assert rv.status == 200
            assert rv.read() == b"192.0.2.9 https"
        finally:
            conn.close()
