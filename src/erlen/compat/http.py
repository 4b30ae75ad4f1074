"""``werkzeug.http`` functions that Erlen's own :mod:`erlen.http` leaves out.

Parsers and writers for ``Cache-Control``, ``Range``/``Content-Range``/
``If-Range``, ``Age``, CSP and header sets, returning the types of
:mod:`erlen.compat.datastructures`, and the hop-by-hop and entity header
checks. Erlen's request and response do not use them; Flask code written
against Werkzeug (and Flask's own tests) does.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime
import enum
import re
import typing as t
from collections.abc import Callable

from ..http import (
    generate_etag,
    parse_date,
    parse_dict_header,
    parse_etags,
    parse_list_header,
    unquote_etag,
)
from .datastructures import (
    ContentRange,
    ContentSecurityPolicy,
    HeaderSet,
    IfRange,
    Range,
    RequestCacheControl,
)

__all__ = [
    "COEP",
    "COOP",
    "dump_age",
    "dump_csp_header",
    "is_byte_range_valid",
    "is_entity_header",
    "is_hop_by_hop_header",
    "is_resource_modified",
    "parse_age",
    "parse_cache_control_header",
    "parse_content_range_header",
    "parse_csp_header",
    "parse_if_range_header",
    "parse_range_header",
    "parse_set_header",
    "remove_entity_headers",
    "remove_hop_by_hop_headers",
    "uri_to_iri",
]

_C = t.TypeVar("_C")

# RFC 9110 section 7.6.1 names these for a single connection; a proxy must drop them.
_HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    )
)
# RFC 2616's entity headers: what a 304 must not repeat (Werkzeug's list).
_ENTITY = frozenset(
    (
        "allow",
        "content-encoding",
        "content-language",
        "content-length",
        "content-location",
        "content-md5",
        "content-range",
        "content-type",
        "expires",
        "last-modified",
    )
)


class COEP(enum.StrEnum):
    """``Cross-Origin-Embedder-Policy`` values."""

    UNSAFE_NONE = "unsafe-none"
    REQUIRE_CORP = "require-corp"


class COOP(enum.StrEnum):
    """``Cross-Origin-Opener-Policy`` values."""

    UNSAFE_NONE = "unsafe-none"
    SAME_ORIGIN_ALLOW_POPUPS = "same-origin-allow-popups"
    SAME_ORIGIN = "same-origin"


def parse_set_header(
    value: str | None, on_update: Callable[[HeaderSet], None] | None = None
) -> HeaderSet:
    """A comma-separated header (``Allow``, ``Vary``) as a :class:`HeaderSet`."""
    return HeaderSet(parse_list_header(value) if value else (), on_update)


def parse_cache_control_header(
    value: str | None,
    on_update: Callable[[t.Any], None] | None = None,
    cls: Callable[..., _C] | None = None,
) -> _C:
    """A ``Cache-Control`` header as ``cls`` (:class:`RequestCacheControl` by default)."""
    make: Callable[..., t.Any] = RequestCacheControl if cls is None else cls
    return t.cast(_C, make(parse_dict_header(value) if value else (), on_update))


def parse_csp_header(
    value: str | None,
    on_update: Callable[[t.Any], None] | None = None,
    cls: Callable[..., _C] | None = None,
) -> _C:
    """A ``Content-Security-Policy`` header as ``cls`` (:class:`ContentSecurityPolicy`)."""
    make: Callable[..., t.Any] = ContentSecurityPolicy if cls is None else cls
    items = []
    for directive in (value or "").split(";"):
        key, _, rest = directive.strip().partition(" ")
        if key:
            items.append((key, rest.strip()))
    return t.cast(_C, make(items, on_update))


def dump_csp_header(header: ContentSecurityPolicy) -> str:
    """The header value of a :class:`ContentSecurityPolicy`."""
    return header.to_header()


def dump_age(age: datetime.timedelta | int | None = None) -> str | None:
    """An ``Age``/delta-seconds value: whole seconds; ``None`` stays ``None``."""
    if age is None:
        return None
    seconds = int(age.total_seconds()) if isinstance(age, datetime.timedelta) else int(age)
    if seconds < 0:
        raise ValueError("age cannot be negative")
    return str(seconds)


def parse_age(value: str | None = None) -> datetime.timedelta | None:
    """An ``Age``/delta-seconds value as a ``timedelta``; ``None`` if it is not one."""
    if not value or not value.isascii() or not value.isdigit():
        return None
    try:
        return datetime.timedelta(seconds=int(value))
    except OverflowError:
        return None


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None


def parse_range_header(value: str | None, make_inclusive: bool = True) -> Range | None:
    """A ``Range`` header (``bytes=0-499,-500``) as a :class:`Range`, or ``None`` if invalid.

    Each range becomes ``(start, stop)`` with ``stop`` exclusive;
    ``make_inclusive`` is accepted for Werkzeug's signature.
    """
    if not value or "=" not in value:
        return None
    units, _, spec = value.partition("=")
    units = units.strip().lower()
    ranges: list[tuple[int, int | None]] = []
    last_end = 0
    for item in spec.split(","):
        first, dash, last = item.strip().partition("-")
        if not dash:
            return None
        if not first:
            # A suffix range: the last N units.
            length = _int(last)
            if not length or last_end < 0:
                return None
            ranges.append((-length, None))
            last_end = -1
            continue
        start = _int(first)
        if start is None or start < last_end or last_end < 0:
            return None
        if not last.strip():
            ranges.append((start, None))
            last_end = -1
            continue
        end = _int(last)
        if end is None or end < start:
            return None
        ranges.append((start, end + 1))
        last_end = end + 1
    return Range(units, ranges) if units and ranges else None


def parse_content_range_header(
    value: str | None, on_update: Callable[[ContentRange], None] | None = None
) -> ContentRange | None:
    """A ``Content-Range`` header (``bytes 0-499/1234``) as a :class:`ContentRange`, or ``None``."""
    if not value:
        return None
    units, _, rest = value.strip().partition(" ")
    span, slash, total = rest.strip().partition("/")
    if not units or not slash:
        return None
    length = None if total == "*" else _int(total)
    if length is None and total != "*":
        return None
    if span == "*":
        return ContentRange(units, None, None, length, on_update)
    first, dash, last = span.partition("-")
    start, end = _int(first), _int(last)
    if not dash or start is None or end is None:
        return None
    if not is_byte_range_valid(start, end + 1, length):
        return None
    return ContentRange(units, start, end + 1, length, on_update)


def parse_if_range_header(value: str | None) -> IfRange:
    """An ``If-Range`` header as an :class:`IfRange`: a date, else an entity tag."""
    if not value:
        return IfRange()
    date = parse_date(value)
    if date is not None:
        return IfRange(date=date)
    # A weak tag never matches (RFC 9110 section 13.1.5); only its value is kept.
    return IfRange(unquote_etag(value)[0])


def is_byte_range_valid(start: int | None, stop: int | None, length: int | None) -> bool:
    """Whether ``start``/``stop`` (exclusive) is a possible byte range of ``length`` bytes."""
    if (start is None) != (stop is None):
        return False
    if start is None or stop is None:
        return length is None or length >= 0
    if start >= stop or start < 0:
        return False
    return length is None or start < length


def is_hop_by_hop_header(header: str) -> bool:
    """Whether ``header`` is hop-by-hop (``Connection``, ``Transfer-Encoding``, ...)."""
    return header.lower() in _HOP_BY_HOP


def is_entity_header(header: str) -> bool:
    """Whether ``header`` describes the body (``Content-Type``, ``Expires``, ...)."""
    return header.lower() in _ENTITY


def remove_hop_by_hop_headers(headers: t.Any) -> None:
    """Drop the hop-by-hop headers from a list of ``(name, value)`` pairs or a ``Headers``, in place."""
    headers[:] = [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP]


def remove_entity_headers(
    headers: t.Any, allowed: t.Iterable[str] = ("expires", "content-location")
) -> None:
    """Drop the entity headers but ``allowed`` from ``headers``, in place (for a 304)."""
    keep = {h.lower() for h in allowed}
    headers[:] = [(k, v) for k, v in headers if k.lower() not in _ENTITY or k.lower() in keep]


def is_resource_modified(
    environ: t.Mapping[str, t.Any] | None = None,
    etag: str | None = None,
    data: bytes | None = None,
    last_modified: datetime.datetime | str | None = None,
    ignore_if_range: bool = True,
) -> bool:
    """Whether a conditional GET in ``environ`` must get the full resource (not a 304).

    The ``If-None-Match``/``If-Match``/``If-Modified-Since`` headers (and
    ``If-Range`` with a ``Range``, unless ``ignore_if_range``) are checked
    against ``etag`` (made from ``data`` when not given) and ``last_modified``.
    """
    get = (environ or {}).get
    return resource_modified(
        get("HTTP_RANGE"),
        get("HTTP_IF_RANGE"),
        get("HTTP_IF_MODIFIED_SINCE"),
        get("HTTP_IF_NONE_MATCH"),
        get("HTTP_IF_MATCH"),
        etag=etag,
        data=data,
        last_modified=last_modified,
        ignore_if_range=ignore_if_range,
    )


def resource_modified(
    http_range: str | None = None,
    http_if_range: str | None = None,
    http_if_modified_since: str | None = None,
    http_if_none_match: str | None = None,
    http_if_match: str | None = None,
    etag: str | None = None,
    data: bytes | None = None,
    last_modified: datetime.datetime | str | None = None,
    ignore_if_range: bool = True,
) -> bool:
    """:func:`is_resource_modified` on header values (``werkzeug.sansio.http``'s form)."""
    if etag is None and data is not None:
        etag = generate_etag(data)
    if isinstance(last_modified, str):
        last_modified = parse_date(last_modified)
    if last_modified is not None:
        # HTTP dates have whole seconds.
        last_modified = last_modified.replace(microsecond=0)
    if_range = None
    if not ignore_if_range and http_range is not None:
        if_range = parse_if_range_header(http_if_range)
    if if_range is not None and if_range.date is not None:
        since = if_range.date
    else:
        since = parse_date(http_if_modified_since)
    unmodified = bool(since and last_modified and last_modified <= since)
    if etag:
        etag = unquote_etag(etag)[0]
        if if_range is not None and if_range.etag is not None:
            unmodified = parse_etags(if_range.etag).contains(etag)
        else:
            none_match = parse_etags(http_if_none_match)
            if none_match:
                unmodified = none_match.contains_weak(etag)
            match = parse_etags(http_if_match)
            if match:
                unmodified = not match.is_strong(etag)
    return not unmodified


_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_UNRESERVED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")


def _decode_escapes(match: re.Match[str]) -> str:
    raw = bytes.fromhex(match.group().replace("%", ""))
    out = []
    # Undecodable bytes come back as lone surrogates and stay escaped; so do
    # ASCII characters other than the unreserved ones, which may mean
    # something in the URL ("%2F" is not "/").
    for char in raw.decode("utf-8", "surrogateescape"):
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"%{code - 0xDC00:02X}")
        elif code > 127 or char in _UNRESERVED:
            out.append(char)
        else:
            out.append(f"%{code:02X}")
    return "".join(out)


def _decode_host(netloc: str) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    if hostport.startswith("["):
        return netloc
    host, colon, port = hostport.partition(":")
    labels = []
    for label in host.split("."):
        if label.lower().startswith("xn--"):
            try:
                label = label.encode("ascii").decode("idna")
            except UnicodeError:
                pass
        labels.append(label)
    return f"{userinfo}{at}{'.'.join(labels)}{colon}{port}"


def uri_to_iri(uri: str) -> str:
    """A URI as an IRI, for display: UTF-8 escapes and punycode host names decoded.

    Escapes of ASCII characters other than letters, digits and ``-._~``
    stay (``%2F`` is not ``/``), and so do bytes that are not UTF-8, so the
    IRI means the same as the URI. :func:`~erlen.http.iri_to_uri` goes back.
    """
    scheme, sep, rest = uri.partition("://")
    if (
        sep
        and scheme.isascii()
        and scheme.replace("+", "").replace("-", "").replace(".", "").isalnum()
    ):
        # The authority ends at the first "/", "?" or "#".
        end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
        netloc, tail = rest[:end], rest[end:]
        return f"{scheme}://{_decode_host(netloc)}{_ESCAPES.sub(_decode_escapes, tail)}"
    return _ESCAPES.sub(_decode_escapes, uri)
