"""The test client's ASGI transport: an environ as an ``http`` scope, and one exchange.

:func:`environ_to_scope` gives the scope an ASGI server would give the app
for the request an environ describes; :class:`_ASGIExchange` feeds the body
through ``receive``, collects what the app gives ``send`` and, with
``validate``, checks every message against the ASGI spec
(:class:`ASGIValidationError`), as :mod:`wsgiref.validate` checks WSGI.
"""

from __future__ import annotations

import typing as t

from ..datastructures import Headers

__all__ = ["ASGIValidationError", "environ_to_scope", "PRESERVE_CONTEXT_EXTENSION"]

#: The scope extension that carries the test client's preserve-context hook
#: (the ASGI twin of the environ's ``erlen._preserve_context``): a callable
#: the app calls with the request context before popping it.
PRESERVE_CONTEXT_EXTENSION = "erlen.preserve_context"

#: Bodies up to this size go in one ``http.request`` message; larger ones
#: are split into :data:`_BODY_MESSAGES` messages, so code that streams a
#: body across messages is exercised.
_ONE_MESSAGE = 1024
_BODY_MESSAGES = 4

#: Response header names whose usual spelling ``str.title`` gets wrong.
_HEADER_SPELLINGS = {
    "etag": "ETag",
    "www-authenticate": "WWW-Authenticate",
    "content-md5": "Content-MD5",
    "x-xss-protection": "X-XSS-Protection",
    "dnt": "DNT",
    "te": "TE",
}


class ASGIValidationError(AssertionError):
    """The app broke the ASGI protocol in an exchange with the test client.

    An :class:`AssertionError`, like the errors :mod:`wsgiref.validate`
    raises for WSGI slips.
    """


def _wsgi_bytes(value: str) -> bytes:
    """The bytes a PEP 3333 string stands for (latin-1); UTF-8 for text beyond latin-1."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        # A test gave text a WSGI server could never produce; send what a
        # client would put on the wire for it.
        return value.encode("utf-8")


def environ_to_scope(environ: dict[str, t.Any]) -> dict[str, t.Any]:
    """The ASGI 3 ``http`` scope of the request a WSGI environ describes.

    What an ASGI server (uvicorn, hypercorn) would give the app for the same
    request: ``path`` is the full path (``SCRIPT_NAME`` + ``PATH_INFO``)
    decoded as UTF-8, with bytes that are not UTF-8 replaced by U+FFFD as
    those servers do (empty when both are: the app's root asked for without
    its slash, which the app redirects), while ``raw_path`` keeps the percent-encoded bytes;
    ``root_path`` is ``SCRIPT_NAME``; headers are lower-case byte pairs from
    ``CONTENT_TYPE``, ``CONTENT_LENGTH`` and the ``HTTP_*`` keys. The server
    offers ``http.response.pathsend``. The client's preserve-context hook
    (``erlen._preserve_context``) goes in
    ``scope["extensions"]["erlen.preserve_context"]``.

    Other environ keys (``wsgi.*``, custom ones) have no ASGI counterpart
    and are left out.
    """
    from urllib.parse import quote_from_bytes

    script = _wsgi_bytes(environ.get("SCRIPT_NAME", ""))
    path = script + _wsgi_bytes(environ.get("PATH_INFO", ""))
    headers: list[tuple[bytes, bytes]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        headers.append((name.lower().replace("_", "-").encode("latin-1"), _wsgi_bytes(str(value))))
    protocol = environ.get("SERVER_PROTOCOL", "HTTP/1.1")
    remote = environ.get("REMOTE_ADDR")
    server_name = environ.get("SERVER_NAME")
    extensions: dict[str, t.Any] = {"http.response.pathsend": {}}
    if "erlen._preserve_context" in environ:
        extensions[PRESERVE_CONTEXT_EXTENSION] = environ["erlen._preserve_context"]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": protocol.partition("/")[2] or "1.1",
        "method": environ.get("REQUEST_METHOD", "GET").upper(),
        "scheme": environ.get("wsgi.url_scheme", "http"),
        "path": path.decode("utf-8", "replace"),
        "raw_path": quote_from_bytes(path, safe="/:@!$&'()*+,;=~").encode("ascii"),
        "query_string": _wsgi_bytes(environ.get("QUERY_STRING", "")),
        "root_path": script.decode("utf-8", "replace"),
        "headers": headers,
        "client": (remote, int(environ.get("REMOTE_PORT") or 0)) if remote else None,
        "server": (server_name, int(environ.get("SERVER_PORT") or 80)) if server_name else None,
        "extensions": extensions,
    }


def _request_body(environ: dict[str, t.Any]) -> bytes:
    """The body a server would deliver: ``CONTENT_LENGTH`` bytes of ``wsgi.input``.

    Without a length, the whole stream when the request is chunked (or the
    environ says the input is terminated), else nothing, as HTTP/1.1 says.
    """
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = str(environ.get("CONTENT_LENGTH") or "").strip()
    if length.isdigit():
        data = stream.read(int(length))
    elif "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() or environ.get(
        "wsgi.input_terminated"
    ):
        data = stream.read()
    else:
        return b""
    return bytes(data)


class _ASGIExchange:
    """One request over the ASGI interface: the scope, ``receive``, ``send`` and what was sent.

    ``receive`` hands out the body as ``http.request`` messages, then waits
    until the response is complete before it reports ``http.disconnect``
    (a client that stays connected until it has its answer). ``send``
    collects the response; with ``validate`` it checks every message
    against the ASGI spec and raises :class:`ASGIValidationError`.
    """

    def __init__(self, environ: dict[str, t.Any], validate: bool = False) -> None:
        self.scope = environ_to_scope(environ)
        self.validate = validate
        body = _request_body(environ)
        if len(body) <= _ONE_MESSAGE:
            chunks = [body]
        else:
            size = -(-len(body) // _BODY_MESSAGES)
            chunks = [body[i : i + size] for i in range(0, len(body), size)]
        self._messages = [
            {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
            for i, chunk in enumerate(chunks)
        ]
        self._done: t.Any = None  # an asyncio.Event, made on the loop
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        #: Whether the last body message (or a pathsend) was sent.
        self.complete = False

    async def run(self, app: t.Callable[..., t.Awaitable[None]]) -> None:
        """Call ``app(scope, receive, send)``; check the response was completed."""
        import asyncio

        self._done = asyncio.Event()
        try:
            await app(self.scope, self.receive, self.send)
        finally:
            # A task still waiting in receive() learns the client is gone.
            self._done.set()
        if self.validate and not self.complete:
            self._fail(
                "the app returned before completing the response"
                + (
                    " (no http.response.start)"
                    if self.status is None
                    else " (no body message with more_body=False)"
                )
            )

    async def receive(self) -> dict[str, t.Any]:
        """The next ``http.request`` message; ``http.disconnect`` once the response is done."""
        if self._messages:
            return self._messages.pop(0)
        await self._done.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, t.Any]) -> None:
        """Collect (and with ``validate``, check) one message from the app."""
        # Checked first: a message that isn't a dict is reported, not an AttributeError.
        if self.validate:
            self._check(message)
        kind = message.get("type")
        if kind == "http.response.start":
            self.status = message["status"]
            self.headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
        elif kind == "http.response.body":
            self.body.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                self.complete = True
                self._done.set()
        elif kind == "http.response.pathsend":
            with open(message["path"], "rb") as f:
                self.body.append(f.read())
            self.complete = True
            self._done.set()

    def _fail(self, problem: str) -> t.NoReturn:
        raise ASGIValidationError(f"ASGI: {problem}")

    def _check(self, message: dict[str, t.Any]) -> None:
        """The ASGI counterpart of ``wsgiref.validate`` for one sent message."""
        import os

        if not isinstance(message, dict):
            self._fail(f"a message must be a dict, not {type(message).__name__}")
        kind = message.get("type")
        if self.complete:
            self._fail(f"{kind!r} sent after the response was complete")
        if kind == "http.response.start":
            if self.status is not None:
                self._fail("http.response.start sent twice")
            status = message.get("status")
            if type(status) is not int or not 100 <= status <= 599:
                self._fail(f"the status must be an int from 100 to 599, not {status!r}")
            headers = message.get("headers", [])
            if isinstance(headers, (str, bytes, dict)):
                self._fail(f"headers must be an iterable of pairs, not {type(headers).__name__}")
            for pair in headers:
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    self._fail(f"a header must be a [name, value] pair, not {pair!r}")
                name, value = pair
                if type(name) is not bytes or type(value) is not bytes:
                    self._fail(f"header names and values must be bytes, not {pair!r}")
                if name != name.lower():
                    self._fail(f"header names must be lower case, not {name!r}")
                if b"\n" in value or b"\r" in value or b"\n" in name or b"\r" in name:
                    self._fail(f"a header must not contain a line break: {pair!r}")
            if not isinstance(message.get("trailers", False), bool):
                self._fail("trailers must be a bool")
            return
        if kind not in ("http.response.body", "http.response.pathsend"):
            self._fail(f"unknown message type {kind!r} for an http scope")
        if self.status is None:
            self._fail(f"{kind} sent before http.response.start")
        if kind == "http.response.body":
            if type(message.get("body", b"")) is not bytes:
                self._fail(f"the body must be bytes, not {type(message.get('body')).__name__}")
            if not isinstance(message.get("more_body", False), bool):
                self._fail("more_body must be a bool")
            return
        if (
            "http.response.pathsend" not in self.scope["extensions"]
        ):  # pragma: no cover - always offered
            self._fail("http.response.pathsend sent, but the server did not offer it")
        path = message.get("path")
        if not isinstance(path, str) or not os.path.isabs(path):
            self._fail(f"the pathsend path must be an absolute path string, not {path!r}")

    def result(self) -> tuple[str, Headers, bytes]:
        """The status line, headers and body, as :meth:`ErlenClient.run_wsgi_app` returns them."""
        # The lines a Response uses, so a status reads the same over WSGI and ASGI.
        from ..wrappers.response import _STATUS_LINES

        if self.status is None:
            raise ASGIValidationError("ASGI: the app returned without sending http.response.start")
        status = _STATUS_LINES.get(self.status) or f"{self.status} UNKNOWN"
        headers = Headers()
        for name, value in self.headers:
            key = name.decode("latin-1")
            headers.add(_HEADER_SPELLINGS.get(key) or key.title(), value.decode("latin-1"))
        return status, headers, b"".join(self.body)
