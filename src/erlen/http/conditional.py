"""Conditional and range requests (RFC 9110 sections 13 and 14).

What :meth:`Response.make_conditional <erlen.Response.make_conditional>`
(and so :func:`~erlen.send_file`) uses: the ``If-*`` preconditions checked
against a response's ``ETag`` and ``Last-Modified``, a single byte
``Range`` (with ``If-Range``), and the views that send only that range of a
body. Pure functions of header values and the response; this module is not
imported with :mod:`erlen.http` (it needs :mod:`erlen.exceptions`, which
imports :mod:`erlen.http`), only by the response wrapper.

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
import typing as t

from ..exceptions import RequestedRangeNotSatisfiable
from .dates import parse_date
from .headers import parse_etags

if t.TYPE_CHECKING:  # pragma: no cover
    from ..wrappers import Response


def _evaluate_preconditions(headers: t.Any, response: Response) -> int | None:
    """The status a GET/HEAD request's ``If-*`` headers call for, or ``None``.

    RFC 9110 section 13.2.2: If-Match, else If-Unmodified-Since (412 when
    they fail); then If-None-Match, else If-Modified-Since (304 when the
    client's copy is current). Compared with the response's ``ETag`` and
    ``Last-Modified`` headers.
    """
    get = headers.get
    if_match = get("If-Match")
    if_none_match = get("If-None-Match")
    if_unmodified = None if if_match else get("If-Unmodified-Since")
    if_modified = None if if_none_match else get("If-Modified-Since")
    if not (if_match or if_none_match or if_unmodified or if_modified):
        return None  # PERF: the usual request, with no conditions to parse
    etag, weak = response.get_etag()
    last_modified = response.last_modified if (if_unmodified or if_modified) else None
    if if_match:
        tags = parse_etags(if_match)
        # Strong comparison: a weak response tag never satisfies If-Match.
        if not (tags.star_tag or (etag is not None and not weak and tags.is_strong(etag))):
            return 412
    elif last_modified is not None:
        since = parse_date(if_unmodified)
        if since is not None and last_modified > since:
            return 412
    if if_none_match:
        tags = parse_etags(if_none_match)
        # Weak comparison, as RFC 9110 requires for If-None-Match.
        if tags.star_tag or (etag is not None and tags.contains_weak(etag)):
            return 304
    elif last_modified is not None:
        since = parse_date(if_modified)
        if since is not None and last_modified <= since:
            return 304
    return None


def _is_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _if_range_holds(value: str, response: Response) -> bool:
    # RFC 9110 section 13.1.5: an entity tag must match strongly, a date
    # exactly; anything else means "send the whole, changed, file".
    if value.startswith("W/"):
        return False
    if value.startswith('"'):
        etag, weak = response.get_etag()
        return etag is not None and not weak and value == f'"{etag}"'
    date = parse_date(value)
    return date is not None and date == response.last_modified


def _parse_byte_range(headers: t.Any, response: Response, length: int) -> tuple[int, int] | None:
    """The ``(start, stop)`` byte range to send, or ``None`` to send everything.

    :raises RequestedRangeNotSatisfiable: A byte range that is malformed or
        starts past the end.
    """
    value = headers.get("Range")
    if not value:
        return None
    if_range = headers.get("If-Range")
    if if_range is not None and not _if_range_holds(if_range.strip(), response):
        return None
    unit, sep, spec = value.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None  # RFC 9110: a range unit the server does not know is ignored
    if "," in spec:
        return None  # several ranges (multipart/byteranges) are not supported
    first, dash, last = spec.strip().partition("-")
    first, last = first.strip(), last.strip()
    if dash and not first and _is_digits(last):
        suffix = int(last)  # "-N": the last N bytes
        if suffix > 0:
            return max(length - suffix, 0), length
    elif dash and _is_digits(first) and (not last or _is_digits(last)):
        start = int(first)
        stop = length if not last else min(int(last) + 1, length)
        if start < stop:
            return start, stop
    raise RequestedRangeNotSatisfiable(length)


def _apply_range(response: Response, start: int, stop: int) -> t.Any:
    """The part of a response body from byte ``start`` to ``stop``."""
    body = response.response
    if response.is_sequence:
        return [response.get_data()[start:stop]]
    if hasattr(body, "read"):
        return _RangeFile(body, start, stop - start)
    return _RangeIterator(body, start, stop - start, response.charset)


class _RangeFile:
    """A file-like view of ``length`` bytes of a file from ``start`` on.

    It has ``read`` and ``close`` but deliberately no ``fileno``: a server's
    ``sendfile`` would send from the wrong offset or past the range.
    """

    __slots__ = ("_file", "_remaining")

    def __init__(self, f: t.Any, start: int, length: int) -> None:
        self._file = f
        self._remaining = length
        if start:
            seekable = getattr(f, "seekable", None)
            if seekable is not None and seekable():
                # Relative to the current position, where the body starts.
                f.seek(start, os.SEEK_CUR)
            else:
                while start > 0:
                    skipped = f.read(min(start, 65536))
                    if not skipped:
                        break
                    start -= len(skipped)

    def read(self, size: int = -1) -> bytes:
        remaining = self._remaining
        if remaining <= 0:
            return b""
        data = self._file.read(remaining if size < 0 else min(size, remaining))
        self._remaining = remaining - len(data)
        return t.cast(bytes, data)

    def __iter__(self) -> _RangeFile:
        return self

    def __next__(self) -> bytes:
        data = self.read(65536)
        if not data:
            raise StopIteration
        return data

    def close(self) -> None:
        self._file.close()


class _RangeIterator:
    """Yield ``length`` bytes of an iterable body from ``start`` on."""

    __slots__ = ("_body", "_iter", "_skip", "_remaining", "_charset")

    def __init__(self, body: t.Iterable[t.Any], start: int, length: int, charset: str) -> None:
        self._body = body
        self._iter = iter(body)
        self._skip = start
        self._remaining = length
        self._charset = charset

    def __iter__(self) -> _RangeIterator:
        return self

    def __next__(self) -> bytes:
        while self._remaining > 0:
            chunk = next(self._iter)
            if isinstance(chunk, str):
                chunk = chunk.encode(self._charset)
            if self._skip:
                if len(chunk) <= self._skip:
                    self._skip -= len(chunk)
                    continue
                chunk = chunk[self._skip :]
                self._skip = 0
            chunk = bytes(chunk[: self._remaining])
            self._remaining -= len(chunk)
            return chunk
        raise StopIteration

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            close()
