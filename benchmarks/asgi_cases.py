"""The ASGI benchmark cases and an in-process driver for any ASGI app.

Each case is an HTTP request sent straight to a framework's ASGI callable
(no server, no sockets): ``receive`` hands over a prebuilt body message and
``send`` keeps the messages, so what is timed is the framework alone.  In the
fixed traffic a case sends its one request over and over; in the varied
traffic (the headline) a pool of distinct requests in turn, the variants of
the WSGI cases of the same name (``cases.py``): other path values, bodies,
a tracing header.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cases import CASES_BY_NAME, Variant

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

#: The frameworks, by name: the app as a server names it (``module:attribute``).
#: ``erlen-sync`` is Erlen with plain ``def`` views: the cost of a sync app under ASGI.
FRAMEWORKS = {
    "erlen": "apps_asgi_erlen:app",
    "erlen-sync": "apps_asgi_erlen:sync_app",
    "starlette": "apps_asgi_starlette:app",
    "quart": "apps_asgi_quart:app",
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

    def scope(self, variant: Variant | None = None) -> dict[str, Any]:
        """The request's scope (of ``variant``, one of the varied traffic's, if given)."""
        path = self.path if variant is None else variant.path
        body = self.body if variant is None else variant.body or b""
        headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
        if variant is not None:
            headers += [
                (name[5:].lower().replace("_", "-").encode(), value.encode())
                for name, value in variant.headers.items()
            ]
        if body:
            headers += [
                (b"content-length", str(len(body)).encode()),
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
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers,
            "state": {},
        }

    def requests(self, traffic: str, size: int) -> list[AsgiRequest]:
        """What the case sends: its one request (``fixed``) or ``size`` distinct ones."""
        if traffic == "fixed":
            return [AsgiRequest(self.scope(), self.body, self.text, self.json)]
        variants = [CASES_BY_NAME[self.name].variant(i) for i in range(size)]
        return [AsgiRequest(self.scope(v), v.body or b"", v.text, v.json) for v in variants]

    def check(self, status: int, body: bytes, request: AsgiRequest | None = None) -> None:
        """Raise AssertionError unless ``status``/``body`` are the expected answer."""
        text, doc = (self.text, self.json) if request is None else (request.text, request.json)
        assert status == 200, f"{self.name}: status {status}"
        if text is not None:
            assert body.decode() == text, f"{self.name}: body {body!r}"
        else:
            assert json.loads(body) == doc, f"{self.name}: body {body!r}"


@dataclass(frozen=True)
class AsgiRequest:
    """One request of a case, ready to send, and its expected answer."""

    scope: dict[str, Any]
    body: bytes
    text: str | None
    json: Any


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


def make_caller(app: Callable[..., Any], requests: list[AsgiRequest]) -> Callable[[int], Any]:
    """A coroutine function ``run(n)`` sending ``n`` requests; returns the last answer.

    The requests are sent in turn, each call going on where the last one
    stopped, so a request comes back only after all the others.
    """
    prepared = [
        (r.scope, {"type": "http.request", "body": r.body, "more_body": False}) for r in requests
    ]
    disconnect = {"type": "http.disconnect"}
    position = 0

    async def run(n: int) -> tuple[int, bytes]:
        nonlocal position
        status = 0
        chunks: list[bytes] = []
        size = len(prepared)
        start = position
        position = (start + n) % size
        batch = [prepared[(start + k) % size] for k in range(n)]
        for scope, request_message in batch:
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
