"""Server-Sent Events: ``text/event-stream`` responses, fed by a generator or a channel.

:func:`event_stream` makes the response; what it streams is a generator
(sync or async) of :class:`ServerSentEvent` objects, ``str`` (an event's
data) or ``None`` (nothing new: a heartbeat comment), or a
:class:`~erlen.broadcast.Subscription`, whose messages become events::

    from erlen.sse import ServerSentEvent, event_stream, last_event_id

    @app.get("/ticks")
    def ticks():
        start = int(last_event_id() or 0) + 1  # where a reconnecting browser left off

        def events():
            for n in range(start, start + 10):
                yield ServerSentEvent(f"tick {n}", id=str(n))
                time.sleep(1)

        return event_stream(events())

    @app.get("/news")
    async def news():
        return event_stream(broadcast.asubscribe("news"))

Where a stream runs: under WSGI the server's thread for the request is
held while the stream lasts (a thread per client: size the server's
threads for it). Under ASGI an async generator, or a subscription, is
streamed on the event loop with no thread, and stops (its ``finally`` runs,
the subscription ends) when the client disconnects; a sync generator is
advanced on a worker thread of the app's pool. A client that went away is
noticed under WSGI when the next write fails, which the heartbeat bounds.
"""

from __future__ import annotations

import re
import typing as t

from .broadcast import SubscriberDropped, Subscription

if t.TYPE_CHECKING:
    from .wrappers import Response

__all__ = ["ServerSentEvent", "event_stream", "last_event_id", "DEFAULT_HEARTBEAT"]

#: Seconds of silence on a channel before a heartbeat comment is sent.
DEFAULT_HEARTBEAT = 15.0
#: Longest ``Last-Event-ID`` accepted (a longer one is a 400).
MAX_LAST_EVENT_ID = 1024

# The line ends of the event-stream format (CRLF, LF, CR); str.splitlines
# would also split on characters the format keeps as data.
_LINE_END = re.compile(r"\r\n|\r|\n")

_HEARTBEAT = b":\n\n"

Item = t.Union["ServerSentEvent", str, None]


class ServerSentEvent:
    """One event of a stream, checked when made.

    :param data: The data; a multi-line string becomes one ``data:`` line per line.
    :param event: The event type (``addEventListener(event, ...)`` in the
        browser; ``message`` when ``None``). No line break.
    :param id: The event id, sent back by a reconnecting browser as
        ``Last-Event-ID``. No line break or NUL; ``""`` resets it.
    :param retry: The browser's reconnection delay, in milliseconds.
    :param comment: A comment (ignored by the browser), before the fields.
    :raises ValueError: A field that would break the stream's framing.

    .. versionadded:: 0.1
    """

    __slots__ = ("data", "event", "id", "retry", "comment")

    def __init__(
        self,
        data: str | None = None,
        *,
        event: str | None = None,
        id: str | None = None,  # noqa: A002 - the field's name in the format
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        if data is not None and not isinstance(data, str):
            raise TypeError(f"An event's data is a str, not {type(data).__name__}.")
        for name, value in (("event", event), ("id", id)):
            if value is None:
                continue
            if not isinstance(value, str):
                raise TypeError(f"An event's {name} is a str, not {type(value).__name__}.")
            if "\n" in value or "\r" in value:
                raise ValueError(f"An event's {name} must not contain a line break: {value!r}")
        if id is not None and "\0" in id:
            raise ValueError(f"An event's id must not contain NUL: {id!r}")
        if retry is not None and (type(retry) is not int or retry < 0):
            raise ValueError(f"retry is a number of milliseconds (an int >= 0), not {retry!r}")
        if comment is not None and not isinstance(comment, str):
            raise TypeError(f"A comment is a str, not {type(comment).__name__}.")
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry
        self.comment = comment

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in self.__slots__
            if getattr(self, name) is not None
        )
        return f"ServerSentEvent({fields})"

    def encode(self) -> bytes:
        """The event in the ``text/event-stream`` format (UTF-8), ending with its blank line."""
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(f": {line}" if line else ":" for line in _LINE_END.split(self.comment))
        if self.event is not None:
            lines.append(f"event: {self.event}")
        if self.id is not None:
            lines.append(f"id: {self.id}" if self.id else "id")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        if self.data is not None:
            lines.extend(f"data: {line}" for line in _LINE_END.split(self.data))
        lines.append("\n")
        return "\n".join(lines).encode("utf-8")


def _encode(item: Item) -> bytes:
    if item is None:
        return _HEARTBEAT
    if isinstance(item, str):
        return b"".join(b"data: %s\n" % line.encode() for line in _LINE_END.split(item)) + b"\n"
    if isinstance(item, ServerSentEvent):
        return item.encode()
    raise TypeError(
        "An event stream yields ServerSentEvent objects, str (data) or None (a heartbeat),"
        f" not {type(item).__name__}."
    )


def _encode_batch(item: str | None, sub: Subscription) -> bytes:
    """``item`` and what queued up behind it, as one write.

    PERF: a subscriber that got behind catches up in a few large sends
    instead of one per message.
    """
    if item is None:
        return _HEARTBEAT
    return b"".join(map(_encode, [item, *sub._take_queued()]))


def last_event_id() -> str | None:
    """The ``Last-Event-ID`` a reconnecting browser sent, or ``None``.

    It is the id of the last event the browser got, so the stream can go on
    after it (from the app's own record of events: a channel keeps no
    history). Call it in the view, where the request is.

    :raises erlen.exceptions.BadRequest: Longer than 1024 characters, or contains NUL.

    .. versionadded:: 0.1
    """
    from .exceptions import BadRequest
    from .globals import request

    value: str | None = request.headers.get("Last-Event-ID")
    if not value:
        return None
    if len(value) > MAX_LAST_EVENT_ID or "\0" in value:
        raise BadRequest("The Last-Event-ID header is too long or not text.")
    return value


def event_stream(
    source: t.Iterable[Item] | t.AsyncIterable[Item] | Subscription,
    *,
    retry: int | None = None,
    heartbeat: float | None = DEFAULT_HEARTBEAT,
    status: int = 200,
    headers: t.Any = None,
) -> Response:
    """A ``text/event-stream`` response that sends ``source``'s events as they come.

    :param source: A generator or iterable (sync or async) of
        :class:`ServerSentEvent`, ``str`` (data) or ``None`` (a heartbeat
        comment); or a subscription (not yet entered) whose messages are
        sent as data: it is joined when the stream starts and left when
        it ends.
    :param retry: The browser's reconnection delay in milliseconds, sent first.
    :param heartbeat: For a subscription: seconds of silence before a
        comment line is sent, which keeps proxies from closing the
        connection and finds out that a client left (``None``: none).
    :param status: The status code.
    :param headers: More headers.

    The stream opens with a comment line (and ``retry``), sent once a
    subscription is joined, so the headers reach the client at once. The
    response has ``Cache-Control: no-cache`` and ``X-Accel-Buffering: no``
    (nginx passes each event on instead of buffering). A subscriber
    dropped for falling behind (``BROADCAST_MAX_QUEUE``) ends the stream
    after a comment saying so; the browser then reconnects.

    .. versionadded:: 0.1
    """
    if retry is not None and (type(retry) is not int or retry < 0):
        raise ValueError(f"retry is a number of milliseconds (an int >= 0), not {retry!r}")
    opening = b":\n" + (b"retry: %d\n" % retry if retry is not None else b"") + b"\n"
    body: _SyncEvents
    if isinstance(source, Subscription):
        body = _ChannelEvents(source, heartbeat, opening)
    elif hasattr(source, "__aiter__"):
        body = _AsyncEvents(t.cast("t.AsyncIterable[Item]", source), opening)
    elif hasattr(source, "__iter__") and not isinstance(source, (str, bytes)):
        body = _SyncEvents(source, opening)
    else:
        raise TypeError(
            "event_stream() takes an iterable or async iterable of events, or a subscription,"
            f" not {type(source).__name__}."
        )
    from .globals import _cv

    ctx = _cv.get(None)
    if ctx is not None:
        response_class: type[Response] = ctx.app.response_class
    else:
        from .wrappers import Response as response_class
    response = response_class(
        body, status=status, headers=headers, content_type="text/event-stream; charset=utf-8"
    )
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


class _SyncEvents:
    """A body of encoded events from a sync iterable: a thread advances it."""

    def __init__(self, source: t.Iterable[Item], opening: bytes) -> None:
        self._source = source
        self._opening = opening
        self._gen: t.Generator[bytes, None, None] | None = None

    def __iter__(self) -> t.Iterator[bytes]:
        self._gen = self._chunks()
        return self._gen

    def _chunks(self) -> t.Generator[bytes, None, None]:
        it = iter(self._source)
        try:
            yield self._opening
            for item in it:
                yield _encode(item)
        finally:
            # Closing this generator must close the app's (its finally runs).
            close = getattr(it, "close", None)
            if close is not None:
                close()

    def close(self) -> None:
        """Stop the stream (the server calls it when the response ends or the client left)."""
        if self._gen is not None:
            self._gen.close()
        else:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()


class _AsyncEvents(_SyncEvents):
    """A body of encoded events from an async iterable: the loop advances it (ASGI).

    Under WSGI it is driven from the server's thread by a loop kept for that
    thread, as an ``async def`` view is.
    """

    def __init__(self, source: t.AsyncIterable[Item], opening: bytes) -> None:
        super().__init__((), opening)
        self._asource = source
        self._agen: t.AsyncGenerator[bytes, None] | None = None

    def __aiter__(self) -> t.AsyncIterator[bytes]:
        self._agen = self._achunks()
        return self._agen

    async def _achunks(self) -> t.AsyncGenerator[bytes, None]:
        it = aiter(self._asource)
        try:
            yield self._opening
            async for item in it:
                yield _encode(item)
        finally:
            aclose = getattr(it, "aclose", None)
            if aclose is not None:
                await aclose()

    async def aclose(self) -> None:
        """Stop the stream (the ASGI adapter awaits it when the client left)."""
        if self._agen is not None:
            await self._agen.aclose()

    def _chunks(self) -> t.Generator[bytes, None, None]:
        from .concurrency import run_coroutine

        agen = self.__aiter__()
        try:
            while True:
                try:
                    yield run_coroutine(_anext(agen))
                except StopAsyncIteration:
                    return
        finally:
            run_coroutine(self.aclose())


async def _anext(it: t.AsyncIterator[bytes]) -> bytes:
    return await it.__anext__()


class _ChannelEvents(_AsyncEvents):
    """A body of a subscription's messages: a thread reads it under WSGI, the loop under ASGI.

    The opening is sent once the subscription is joined: a client that has
    it can count on getting what is published next.
    """

    def __init__(self, sub: Subscription, heartbeat: float | None, opening: bytes) -> None:
        super().__init__(sub, opening)
        self._sub = sub
        self._heartbeat = heartbeat

    def _chunks(self) -> t.Generator[bytes, None, None]:
        with self._sub as sub:
            yield self._opening
            messages = sub if self._heartbeat is None else sub.listen(self._heartbeat)
            try:
                for item in messages:
                    yield _encode_batch(item, sub)
            except SubscriberDropped as e:
                yield _encode(ServerSentEvent(comment=str(e)))

    async def _achunks(self) -> t.AsyncGenerator[bytes, None]:
        async with self._sub as sub:
            yield self._opening
            messages = sub if self._heartbeat is None else sub.alisten(self._heartbeat)
            try:
                async for item in messages:
                    yield _encode_batch(item, sub)
            except SubscriberDropped as e:
                yield _encode(ServerSentEvent(comment=str(e)))
