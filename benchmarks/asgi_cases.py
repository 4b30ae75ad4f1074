"""The ASGI benchmark cases and an in-process driver for any ASGI app.

Each case is one HTTP request sent straight to a framework's ASGI callable
(no server, no sockets): ``receive`` hands over a prebuilt body message and
``send`` keeps the messages, so what is timed is the framework alone.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Body of the ``json`` case.
JSON_DOC: dict[str, Any] = {"message": "Hello, World!", "items": [1, 2, 3]}

#: Request body of the ``json_post`` case, echoed back (as in cases.py).
ECHO_DOC: dict[str, Any] = {
    "id": 1815,
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "active": True,
    "score": 99.5,
    "roles": ["admin", "author"],
    "tags": ["math", "engines", "poetry"],
    "address": {"city": "London", "country": "UK"},
}
ECHO_BODY = json.dumps(ECHO_DOC).encode()

#: The frameworks, by name: module of the app (``create_app()`` and ``app``).
FRAMEWORKS = {
    "erlen": "apps_asgi_erlen",
    "starlette": "apps_asgi_starlette",
    "quart": "apps_asgi_quart",
}


@dataclass(frozen=True)
class AsgiCase:
    """One request and how to recognize the right answer."""

    name: str
    method: str
    path: str
    body: bytes = b""
    content_type: str | None = None
    text: str | None = None
    json: Any = None

    def scope(self) -> dict[str, Any]:
        headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
        if self.body:
            headers += [
                (b"content-length", str(len(self.body)).encode()),
                (b"content-type", (self.content_type or "").encode()),
            ]
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
            "scheme": "http",
            "root_path": "",
            "method": self.method,
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": b"",
            "headers": headers,
            "state": {},
        }

    def check(self, status: int, body: bytes) -> None:
        """Raise AssertionError unless ``status``/``body`` are the expected answer."""
        assert status == 200, f"{self.name}: status {status}"
        if self.text is not None:
            assert body.decode() == self.text, f"{self.name}: body {body!r}"
        else:
            assert json.loads(body) == self.json, f"{self.name}: body {body!r}"


CASES = [
    AsgiCase("hello", "GET", "/", text="Hello, World!"),
    AsgiCase("param", "GET", "/user/ada", text="Hello, ada!"),
    AsgiCase("json", "GET", "/json", json=JSON_DOC),
    AsgiCase(
        "json_post", "POST", "/echo", body=ECHO_BODY, content_type="application/json", json=ECHO_DOC
    ),
]


class Lifespan:
    """Run an app's lifespan startup (and later shutdown) in a background task."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[Any] | None = None

    async def __aenter__(self) -> Lifespan:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.ensure_future(self.app(scope, self.inbox.get, self.outbox.put))
        await self.inbox.put({"type": "lifespan.startup"})
        message = await asyncio.wait_for(self.outbox.get(), 10)
        assert message["type"] == "lifespan.startup.complete", message
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(self.outbox.get(), 10)
        assert self.task is not None
        await asyncio.wait_for(self.task, 10)


def make_caller(app: Callable[..., Any], case: AsgiCase) -> Callable[[int], Any]:
    """A coroutine function ``run(n)`` sending the case's request ``n`` times; returns the last answer."""
    scope = case.scope()
    request_message = {"type": "http.request", "body": case.body, "more_body": False}

    disconnect = {"type": "http.disconnect"}

    async def run(n: int) -> tuple[int, bytes]:
        status = 0
        chunks: list[bytes] = []
        for _ in range(n):
            # Per request, as a server does: a fresh scope; the body once,
            # then (for frameworks that listen for it) a disconnect only
            # after the response is complete.
            pending = [request_message]
            finished = asyncio.Event()

            async def receive(
                pending: list[dict[str, Any]] = pending, finished: asyncio.Event = finished
            ) -> dict[str, Any]:
                if pending:
                    return pending.pop()
                await finished.wait()
                return disconnect

            async def send(message: dict[str, Any], finished: asyncio.Event = finished) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    chunks.clear()
                else:
                    chunks.append(message.get("body", b""))
                    if not message.get("more_body"):
                        finished.set()

            await app(dict(scope), receive, send)
        return status, b"".join(chunks)

    return run
