"""Parse and format HTTP header values, cookies, dates and query strings.

Everything here is a pure function of strings or bytes: no I/O, no WSGI
environ, no request object. The request and response wrappers call into this
module to turn raw header text into Python values and back.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
import typing as t
import warnings
from calendar import timegm
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from time import gmtime, struct_time
from time import time as _now
from urllib.parse import (
    quote,
    quote_plus,
    unquote,
    unquote_to_bytes,
    urlsplit,
    urlunsplit,
)

if t.TYPE_CHECKING:  # pragma: no cover
    from .datastructures import Accept, Authorization, ETags, MultiDict, WWWAuthenticate

# erlen.exceptions imports this table at import time, and erlen.datastructures
# imports both modules; so this module must not import either of them at
# module level (see the lazy imports below).

#: Maps every HTTP status code Erlen knows to its reason phrase. The phrases
#: are the RFC 9110 / IANA registry ones (as in :class:`http.HTTPStatus`), plus
#: a few unofficial but common codes.
#:
#: .. versionadded:: 0.1
HTTP_STATUS_CODES: dict[int, str] = {
    100: "Continue",
    101: "Switching Protocols",
    102: "Processing",
    103: "Early Hints",
    200: "OK",
    201: "Created",
    202: "Accepted",
    203: "Non-Authoritative Information",
    204: "No Content",
    205: "Reset Content",
    206: "Partial Content",
    207: "Multi-Status",
    208: "Already Reported",
    226: "IM Used",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    306: "Switch Proxy",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Requested Range Not Satisfiable",
    417: "Expectation Failed",
    418: "I'm a teapot",
    421: "Misdirected Request",
    422: "Unprocessable Entity",
    423: "Locked",
    424: "Failed Dependency",
    425: "Too Early",
    426: "Upgrade Required",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    449: "Retry With",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates",
    507: "Insufficient Storage",
    508: "Loop Detected",
    510: "Not Extended",
    511: "Network Authentication Required",
}

__all__ = [
    "HTTP_STATUS_CODES",
    "dump_cookie",
    "dump_header",
    "dump_options_header",
    "generate_etag",
    "host_is_trusted",
    "http_date",
    "iri_to_uri",
    "parse_accept_header",
    "parse_authorization_header",
    "parse_cookie",
    "parse_date",
    "parse_dict_header",
    "parse_etags",
    "parse_list_header",
    "parse_options_header",
    "parse_www_authenticate_header",
    "quote_etag",
    "quote_header_value",
    "unquote_etag",
    "unquote_header_value",
    "url_decode",
    "url_encode",
    "url_quote",
    "url_unquote",
]

_TAccept = t.TypeVar("_TAccept", bound="Accept")

# --------------------------------------------------------------------------
# Lazy access to erlen.datastructures.
#
# datastructures imports this module, and it also imports erlen.exceptions,
# which imports this module for HTTP_STATUS_CODES. Importing datastructures
# here at module level would make that a circular import that fails when
# exceptions is imported first, so its classes are fetched on first use.
# PERF: the MultiDict class (needed on every request) is cached in a global.
# --------------------------------------------------------------------------

_multidict_cls: type[MultiDict[str, str]] | None = None


def _default_multidict() -> type[MultiDict[str, str]]:
    # Only called while the cache is empty (callers check first).
    global _multidict_cls
    from .datastructures import MultiDict

    _multidict_cls = MultiDict
    return MultiDict


def _build_multidict(
    cls: type[MultiDict[str, str]], data: dict[str, list[str]]
) -> MultiDict[str, str]:
    # PERF: hand the freshly built lists over instead of copying them; a
    # class without that hook (any dict-like class) gets the dict itself.
    from_lists = getattr(cls, "_from_lists", None)

    if from_lists is not None:
        return from_lists(data)  # type: ignore[no-any-return]

    return cls(data)


# --------------------------------------------------------------------------
# Quoting of header values
# --------------------------------------------------------------------------

# RFC 9110 "tchar": the characters a bare (unquoted) token may contain.
_TCHAR = r"!#$%&'*+\-.^_`|~0-9A-Za-z"
_token_re = re.compile(f"[{_TCHAR}]+")
_backslash_escape_re = re.compile(r"\\(.)", re.DOTALL)


def quote_header_value(value: object, allow_token: bool = True) -> str:
    """Quote a header parameter value if it needs quoting.

    The value is converted with :func:`str`. A value made only of RFC 9110
    token characters is returned as it is (unless ``allow_token`` is false);
    anything else, including the empty string, is wrapped in double quotes
    with ``\\`` and ``"`` backslash-escaped. :func:`unquote_header_value`
    reverses this.

    :param value: The value to quote.
    :param allow_token: Leave token-only values unquoted. Pass ``False`` to
        always quote.
    :return: The value, safe to use as a header parameter value.

    .. versionadded:: 0.1
    """
    text = str(value)

    if allow_token and _token_re.fullmatch(text) is not None:
        return text

    if "\\" in text or '"' in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"')

    return f'"{text}"'


def unquote_header_value(value: str) -> str:
    """Undo :func:`quote_header_value`.

    If the value is wrapped in double quotes, the quotes are removed and every
    backslash escape (``\\x``) is replaced by the escaped character. Values
    that are not quoted are returned unchanged.

    :param value: A header parameter value, possibly quoted.
    :return: The unquoted value.

    .. versionadded:: 0.1
    """
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        value = value[1:-1]

        if "\\" in value:
            return _backslash_escape_re.sub(r"\1", value)

    return value


def dump_options_header(header: str | None, options: Mapping[str, t.Any]) -> str:
    """Build a header value followed by ``; key=value`` parameters.

    This is the reverse of :func:`parse_options_header`. Values are quoted
    with :func:`quote_header_value` when they are not plain tokens. Options
    whose value is ``None`` are left out. A key ending in ``*`` marks an
    RFC 2231 extended value (``filename*=UTF-8''...``) that the caller has
    already percent-encoded, so it is written unchanged.

    :param header: The main value, such as ``text/html``. ``None`` to write
        only the parameters.
    :param options: The parameters, in output order.
    :return: The complete header value.

    .. versionadded:: 0.1
    """
    segments = [] if header is None else [header]

    for key, value in options.items():
        if value is None:
            continue

        if key[-1:] == "*":
            segments.append(f"{key}={value}")
        else:
            segments.append(f"{key}={quote_header_value(value)}")

    return "; ".join(segments)


def dump_header(iterable: Mapping[str, t.Any] | Iterable[t.Any]) -> str:
    """Build a comma-separated header value from a list or a dict.

    This is the reverse of :func:`parse_list_header` and
    :func:`parse_dict_header`. List items are quoted when they are not plain
    tokens. For a mapping, each pair is written as ``key=value``, with the
    value quoted when needed; a ``None`` value writes the bare key and a key
    ending in ``*`` keeps its (already encoded) value as is.

    :param iterable: The items or ``key: value`` pairs.
    :return: The header value, items joined by ``", "``.

    .. versionadded:: 0.1
    """
    if isinstance(iterable, Mapping):
        items = []

        for key, value in iterable.items():
            if value is None:
                items.append(key)
            elif key[-1:] == "*":
                items.append(f"{key}={value}")
            else:
                items.append(f"{key}={quote_header_value(value)}")
    else:
        items = [quote_header_value(x) for x in iterable]

    return ", ".join(items)


# --------------------------------------------------------------------------
# Parsing of structured header values
# --------------------------------------------------------------------------


def parse_list_header(value: str) -> list[str]:
    """Split a comma-separated header value into its items.

    Commas inside double-quoted strings do not split. Each item is stripped of
    surrounding spaces and, when the whole item is a quoted string, unquoted
    with :func:`unquote_header_value`; an item that is only partly quoted is
    kept verbatim so later parsing (of ``key="value"`` pairs, say) still sees
    the quotes. Empty items are dropped. A value with an unterminated quoted
    string is malformed and gives an empty list.

    :param value: The header value, such as ``'a, "b, c"'``.
    :return: The items, here ``["a", "b, c"]``.

    .. versionadded:: 0.1
    """
    if '"' not in value:
        # PERF: the common case (no quoting at all) is a plain split.
        return [item for item in (x.strip(" \t") for x in value.split(",")) if item]

    items: list[str] = []
    start = 0
    pos = 0
    end = len(value)
    in_quotes = False

    while pos < end:
        char = value[pos]

        if in_quotes:
            if char == "\\":
                # Skip the escaped character, whatever it is.
                pos += 1
            elif char == '"':
                in_quotes = False
        elif char == '"':
            in_quotes = True
        elif char == ",":
            items.append(value[start:pos])
            start = pos + 1

        pos += 1

    if in_quotes:
        return []

    items.append(value[start:])
    return [
        unquote_header_value(item)
        for item in (x.strip(" \t") for x in items)
        if item
    ]


# RFC 2231 ``charset'language'percent-encoded`` extended values. Only these
# charsets are decoded; anything else is left as sent rather than guessing.
_ext_value_re = re.compile(
    r"([!#$%&*+\-.^_`|~0-9A-Za-z]*)'[!#$%&*+\-.^_`|~0-9A-Za-z]*'"
    rf"([{_TCHAR}]+)\Z"
)
_ext_charsets = frozenset(("ascii", "us-ascii", "utf-8", "iso-8859-1"))


def _split_ext_value(value: str) -> tuple[str | None, str]:
    """Split an RFC 2231 ``charset'lang'payload`` value.

    :return: ``(charset, payload)`` with the charset lower-cased (possibly
        empty), or ``(None, value)`` when the value is not in that form.
    """
    match = _ext_value_re.match(value)

    if match is None:
        return None, value

    return match.group(1).lower(), match.group(2)


def parse_dict_header(value: str) -> dict[str, str | None]:
    """Parse a comma-separated list of ``key=value`` items into a dict.

    Items are split with :func:`parse_list_header`. A value may be a token or
    a quoted string (which is unquoted). An item without ``=`` maps to
    ``None``; an item with an empty key is ignored. A key written as ``key*``
    carries an RFC 2231 ``charset''percent-encoded`` value, which is decoded
    for ASCII, UTF-8 and ISO-8859-1 and stored under ``key``.

    :param value: The header value, such as ``'a=b, c="d, e", f'``.
    :return: Here ``{"a": "b", "c": "d, e", "f": None}``.

    .. versionadded:: 0.1
    """
    result: dict[str, str | None] = {}

    for item in parse_list_header(value):
        key, eq, val = item.partition("=")
        key = key.strip(" \t")

        if not key:
            continue

        if not eq:
            result[key] = None
            continue

        val = val.strip(" \t")

        if key[-1] == "*":
            key = key[:-1]
            charset, val = _split_ext_value(val)

            if charset in _ext_charsets:
                val = unquote(val, encoding=charset, errors="replace")

        result[key] = unquote_header_value(val)

    return result


_option_key_re = re.compile(f"([{_TCHAR}]+)=")
_quoted_string_re = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_option_delim_re = re.compile(r";[ \t]*")
# ``name*``, ``name*0`` or ``name*0*`` (RFC 2231 sections 3 and 4).
_option_marks_re = re.compile(r"(?:\*([0-9]+))?(\*)?\Z")


def parse_options_header(value: str | None) -> tuple[str, dict[str, str]]:
    """Split a header into its main value and its ``; key=value`` parameters.

    ``'text/html; charset="utf-8"'`` gives ``("text/html", {"charset":
    "utf-8"})``. Parameter names are lower-cased. Values may be tokens or
    quoted strings; quoted strings are unquoted (backslash escapes, and the
    ``%22`` that browsers use for a quote in multipart headers, both become
    ``"``). RFC 2231 extended values (``filename*=UTF-8''%E2%82%AC``) and
    continuations (``name*0=...; name*1=...``) are decoded and merged under
    the bare name. Parts that do not parse are skipped; the function never
    raises on malformed input. This is the reverse of
    :func:`dump_options_header`.

    :param value: The header value, or ``None``.
    :return: ``(main_value, parameters)``; ``("", {})`` for an empty value.

    .. versionadded:: 0.1
    """
    if not value:
        return "", {}

    main, sep, rest = value.partition(";")
    main = main.strip(" \t")

    if not sep:
        # PERF: most headers (and most Content-Types) carry no parameters.
        return main, {}

    rest = rest.strip(" \t")

    if not main or not rest:
        return main, {}

    # First pass: find every syntactically valid ``key=value`` part.
    raw: list[tuple[str, str]] = []
    pos = 0
    end = len(rest)

    while pos < end:
        key_match = _option_key_re.match(rest, pos)

        if key_match is not None:
            pos = key_match.end()
            value_match = _token_re.match(rest, pos)

            if value_match is not None:
                raw.append((key_match.group(1).lower(), value_match.group()))
            elif rest.startswith('"', pos):
                value_match = _quoted_string_re.match(rest, pos)

                if value_match is None:
                    # An unterminated quoted string swallows the rest of the
                    # header; nothing after it can be trusted.
                    break

                raw.append((key_match.group(1).lower(), value_match.group()))
                pos = value_match.end()

        delim = _option_delim_re.search(rest, pos)

        if delim is None:
            break

        pos = delim.end()

    # Second pass: decode values, apply RFC 2231 charsets and continuations.
    options: dict[str, str] = {}
    continued: dict[str, list[str]] = {}
    continued_charset: dict[str, str] = {}

    for key, val in raw:
        is_continuation = is_extended = False

        if "*" in key:
            marks = _option_marks_re.search(key)

            if marks is not None and marks.start() != marks.end():
                is_continuation = marks.group(1) is not None
                is_extended = marks.group(2) is not None
                key = key[: marks.start()]

        charset: str | None = None

        if is_extended:
            charset, val = _split_ext_value(val)

            if not charset and is_continuation:
                # Later continuation parts inherit the first part's charset.
                charset = continued_charset.get(key)

            # An unknown charset leaves the payload percent-encoded rather
            # than guessing at it.
            if charset in _ext_charsets:
                val = unquote(val, encoding=charset, errors="replace")
        else:
            val = unquote_header_value(val)

            if "%22" in val:
                val = val.replace("%22", '"')

        if is_continuation:
            # A plain ``key=`` seen earlier is superseded by the continuation.
            options.pop(key, None)
            continued.setdefault(key, []).append(val)

            if charset:
                continued_charset[key] = charset
        else:
            if key in continued:
                del continued[key]
                continued_charset.pop(key, None)

            options[key] = val

    for key, pieces in continued.items():
        options[key] = "".join(pieces)

    return main, options


# A q-value: digits with an optional fraction, or a bare fraction. Anything
# float() would also accept ("inf", "1e3", "nan") is deliberately not allowed.
_q_value_re = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


@t.overload
def parse_accept_header(value: str | None) -> Accept: ...
@t.overload
def parse_accept_header(value: str | None, cls: type[_TAccept]) -> _TAccept: ...
def parse_accept_header(
    value: str | None, cls: type[Accept] | None = None
) -> Accept:
    """Parse an ``Accept``-style header into an :class:`~.Accept` object.

    Each comma-separated item may carry a ``q`` parameter. A ``q`` that is not
    a number makes the whole item be skipped (the client's intent is unknown);
    a number outside ``[0, 1]`` is clamped into that range. Items without
    ``q`` get quality 1. Other parameters stay part of the item's value
    (``text/html; level=1``).

    :param value: The header value, or ``None`` when the header is absent.
    :param cls: The :class:`~.Accept` subclass to build, such as
        :class:`~.MIMEAccept` or :class:`~.LanguageAccept`.
    :return: An instance of ``cls``, sorted by quality (best first). Its
        ``provided`` attribute is false when ``value`` was empty.

    .. versionadded:: 0.1
    """
    if cls is None:
        from .datastructures import Accept

        cls = Accept

    if not value:
        return cls(None)

    result: list[tuple[str, float]] = []

    for item in parse_list_header(value):
        item, options = parse_options_header(item)

        if not item:
            continue

        if "q" in options:
            q_text = options.pop("q").strip(" \t")

            if _q_value_re.fullmatch(q_text) is None:
                continue

            quality = min(max(float(q_text), 0.0), 1.0)
        else:
            quality = 1.0

        if options:
            item = dump_options_header(item, options)

        result.append((item, quality))

    return cls(result)


_etag_re = re.compile(
    r"""
    [ \t]*
    ([Ww]/)?                # weak marker
    (?: "([^"]*)"           # the quoted opaque tag
      | ([^" \t,]+)         # or, leniently, an unquoted one
    )
    [ \t]*
    (?:,|\Z)
    """,
    re.VERBOSE,
)


def quote_etag(etag: str, weak: bool = False) -> str:
    """Wrap an entity tag in double quotes, optionally marking it weak.

    :param etag: The opaque tag, without quotes.
    :param weak: Produce a weak tag (``W/"..."``).
    :return: The quoted tag, ready for an ``ETag`` header.
    :raises ValueError: If the tag contains a double quote, which cannot be
        represented.

    .. versionadded:: 0.1
    """
    if '"' in etag:
        raise ValueError("An entity tag must not contain a double quote.")

    return f'W/"{etag}"' if weak else f'"{etag}"'


@t.overload
def unquote_etag(etag: str) -> tuple[str, bool]: ...
@t.overload
def unquote_etag(etag: None) -> tuple[None, None]: ...
def unquote_etag(etag: str | None) -> tuple[str, bool] | tuple[None, None]:
    """Split a quoted entity tag into its value and weakness.

    ``'W/"abc"'`` gives ``("abc", True)`` and ``'"abc"'`` gives
    ``("abc", False)``. An unquoted tag is returned as it is.

    :param etag: The tag as sent in a header.
    :return: ``(value, is_weak)``, or ``(None, None)`` for an empty input.

    .. versionadded:: 0.1
    """
    if not etag:
        return None, None

    weak = etag[:2] in ("W/", "w/")

    if weak:
        etag = etag[2:]

    if len(etag) >= 2 and etag[0] == '"' and etag[-1] == '"':
        etag = etag[1:-1]

    return etag, weak


def parse_etags(value: str | None) -> ETags:
    """Parse an ``If-Match`` / ``If-None-Match`` header into :class:`~.ETags`.

    ``*`` gives a star tag that matches everything. Strong and weak tags are
    kept apart. Unparseable items are skipped up to the next comma.

    :param value: The header value, or ``None``.
    :return: The parsed tags (empty when ``value`` is empty).

    .. versionadded:: 0.1
    """
    from .datastructures import ETags

    if not value:
        return ETags()

    if value.strip(" \t") == "*":
        return ETags(star_tag=True)

    strong: list[str] = []
    weak: list[str] = []
    pos = 0
    end = len(value)

    while pos < end:
        match = _etag_re.match(value, pos)

        if match is None:
            comma = value.find(",", pos)

            if comma == -1:
                break

            pos = comma + 1
            continue

        marker, quoted, bare = match.groups()
        (weak if marker else strong).append(quoted if quoted is not None else bare)
        pos = match.end()

    return ETags(strong, weak)


def generate_etag(data: bytes) -> str:
    """Compute an entity tag for some content (its SHA-1 hex digest).

    :param data: The response body.
    :return: A 40-character hex string; quote it with :func:`quote_etag`.

    .. versionadded:: 0.1
    """
    from hashlib import sha1  # PERF: lazy; import erlen stays light

    return sha1(data).hexdigest()


def parse_authorization_header(value: str | None) -> Authorization | None:
    """Parse an ``Authorization`` header; see :meth:`.Authorization.from_header`.

    :param value: The header value, or ``None``.
    :return: The parsed credentials, or ``None`` if absent or malformed.

    .. versionadded:: 0.1
    """
    from .datastructures import Authorization

    return Authorization.from_header(value)


def parse_www_authenticate_header(value: str | None) -> WWWAuthenticate | None:
    """Parse a ``WWW-Authenticate`` header; see :meth:`.WWWAuthenticate.from_header`.

    :param value: The header value, or ``None``.
    :return: The parsed challenge, or ``None`` if absent.

    .. versionadded:: 0.1
    """
    from .datastructures import WWWAuthenticate

    return WWWAuthenticate.from_header(value)


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

_weekday_names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_month_names = (
    "",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
# PERF: a lookup is several times faster than formatting with ":02d".
_two_digits = tuple(f"{n:02d}" for n in range(100))


def http_date(
    timestamp: datetime | date | float | struct_time | None = None,
) -> str:
    """Format a point in time as an HTTP date (RFC 9110 IMF-fixdate, GMT).

    ``http_date(0)`` is ``"Thu, 01 Jan 1970 00:00:00 GMT"``. Naive datetimes
    and :class:`~time.struct_time` values are taken to be UTC already (as
    :func:`time.gmtime` and :meth:`datetime.utcnow` produce them); aware
    datetimes are converted to UTC; a plain :class:`~datetime.date` means
    midnight UTC.

    :param timestamp: A datetime, date, Unix timestamp or UTC struct_time.
        ``None`` means now.
    :return: The formatted date.

    .. versionadded:: 0.1
    """
    tt: struct_time | tuple[int, ...]

    if timestamp is None:
        tt = gmtime()
    elif isinstance(timestamp, datetime):
        # utctimetuple() converts aware values and leaves naive ones alone.
        tt = timestamp.utctimetuple()
    elif isinstance(timestamp, date):
        tt = timestamp.timetuple()
    elif isinstance(timestamp, struct_time):
        # Normalise (and recompute the weekday of) hand-built tuples.
        tt = gmtime(timegm(timestamp))
    else:
        tt = gmtime(timestamp)

    # PERF: direct formatting is several times faster than going through
    # email.utils, and this runs for Date/Expires/Last-Modified headers.
    year, month, day, hour, minute, second, weekday = tt[:7]
    digits = _two_digits
    return (
        f"{_weekday_names[weekday]}, {digits[day]} {_month_names[month]} "
        f"{year if year > 999 else f'{year:04d}'} "
        f"{digits[hour]}:{digits[minute]}:{digits[second % 100]} GMT"
    )


def parse_date(value: str | None) -> datetime | None:
    """Parse an HTTP date into an aware UTC :class:`~datetime.datetime`.

    The three formats HTTP allows are accepted: IMF-fixdate
    (``Sun, 06 Nov 1994 08:49:37 GMT``), RFC 850 (``Sunday, 06-Nov-94
    08:49:37 GMT``) and asctime (``Sun Nov  6 08:49:37 1994``), along with
    other RFC 2822 dates. A date without a zone is taken to be UTC; one with
    an offset is converted to UTC.

    :param value: The header value, or ``None``.
    :return: The datetime, or ``None`` when the value is missing or invalid.

    .. versionadded:: 0.1
    """
    if not value:
        return None

    try:
        import email.utils  # PERF: lazy; it pulls in socket and more

        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None

    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)

    return parsed.astimezone(UTC)


# --------------------------------------------------------------------------
# Cookies
# --------------------------------------------------------------------------

_cookie_unescape_re = re.compile(rb"\\([0-3][0-7]{2}|.)", re.DOTALL)


def _cookie_unescape_match(match: re.Match[bytes]) -> bytes:
    escaped = match.group(1)

    if len(escaped) == 1:
        return escaped

    return bytes((int(escaped, 8),))


def _cookie_unquote(value: str) -> str:
    """Decode the inside of a quoted cookie value (``\\"``, ``\\\\``, ``\\ooo``)."""
    # Octal escapes encode single bytes of the UTF-8 value, so work on bytes.
    raw = _cookie_unescape_re.sub(
        _cookie_unescape_match, value.encode("utf-8", "surrogatepass")
    )
    return raw.decode(errors="replace")


def parse_cookie(
    header: str | None, cls: type[MultiDict[str, str]] | None = None
) -> MultiDict[str, str]:
    """Parse a ``Cookie`` request header into a :class:`~.MultiDict`.

    Pairs are separated by ``;`` (always, as browsers do, even inside double
    quotes; :func:`dump_cookie` escapes ``;`` in values) and stripped of
    surrounding whitespace. A
    name that occurs more than once keeps all of its values, in order, so
    ``cookies["name"]`` is the first one sent. A pair without ``=`` or with an
    empty name is ignored: browsers never send those for cookies a server set,
    and accepting them would let a nameless cookie masquerade as (or shadow)
    a real one. Values wrapped in double quotes are unquoted, decoding
    backslash and ``\\ooo`` octal escapes (the form :func:`dump_cookie` and
    :mod:`http.cookies` write).

    A header string holding UTF-8 bytes tunnelled through latin-1 (how WSGI
    servers deliver non-ASCII header bytes) is re-decoded as UTF-8.

    :param header: The ``Cookie`` header value, or ``None``.
    :param cls: The :class:`~.MultiDict` class to return.
    :return: The cookies, names mapped to values.

    .. versionadded:: 0.1
    """
    if cls is None:
        cls = _default_multidict() if _multidict_cls is None else _multidict_cls

    if not header:
        return cls()

    if not header.isascii():
        try:
            header = header.encode("latin-1").decode()
        except UnicodeError:
            # Real text (or not UTF-8): use it as given.
            pass

    cookies: dict[str, list[str]] = {}

    for pair in header.split(";"):
        name, eq, value = pair.partition("=")

        if not eq:
            continue

        name = name.strip()

        if not name:
            continue

        value = value.strip()

        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = value[1:-1]

            if "\\" in value:
                value = _cookie_unquote(value)

        if name in cookies:
            cookies[name].append(value)
        else:
            cookies[name] = [value]

    return _build_multidict(cls, cookies)


# Characters a cookie value may contain without quoting: RFC 6265
# cookie-octets plus a few that every browser accepts (http.cookies' set).
_cookie_plain_value_re = re.compile(r"[\w!#$%&'()*+\-./:<=>?@\[\]^`{|}~]*", re.ASCII)
# Bytes that must be escaped inside a quoted cookie value.
_cookie_escape_re = re.compile(rb'[\x00-\x1f",;\\\x7f-\xff]')
_cookie_escapes: dict[bytes, bytes] = {b'"': b'\\"', b"\\": b"\\\\"}
_cookie_escapes.update(
    (bytes((code,)), b"\\%03o" % code)
    for code in (*range(0x20), *b",;", *range(0x7F, 0x100))
)
# Cookie names: no whitespace, controls, or characters that end a name or
# a pair (browsers accept the other separators, so they are allowed).
_cookie_bad_name_re = re.compile(r'[\x00-\x20\x7f",;=]')
# Attribute values (Path, Domain, Expires) may not carry controls or ";".
_cookie_bad_attr_re = re.compile(r"[\x00-\x1f\x7f;]")
_samesite_values = {"strict": "Strict", "lax": "Lax", "none": "None"}


def _cookie_escape_match(match: re.Match[bytes]) -> bytes:
    return _cookie_escapes[match.group()]


def dump_cookie(
    key: str,
    value: str = "",
    max_age: timedelta | int | None = None,
    expires: str | datetime | float | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = False,
    samesite: str | None = None,
    partitioned: bool = False,
    sync_expires: bool = True,
    max_size: int = 4093,
) -> str:
    """Build the value of a ``Set-Cookie`` response header.

    The value is written bare when it only holds cookie-safe characters and
    otherwise double-quoted, with ``"`` and ``\\`` backslash-escaped and
    control, separator and non-ASCII bytes written as ``\\ooo`` octal escapes
    (what :func:`parse_cookie` and :mod:`http.cookies` decode). Because of
    that escaping a value can never break out of the header.

    Attributes are written in the order Domain, Expires, Max-Age, Secure,
    HttpOnly, Path, SameSite, Partitioned. A leading dot on ``domain`` is
    dropped (RFC 6265 ignores it) as is any ``:port``, and a non-ASCII
    domain is IDNA-encoded. The path is percent-encoded where needed.
    ``partitioned`` implies ``secure`` (browsers require it). When
    ``max_age`` is given without ``expires`` and ``sync_expires`` is true, an
    equivalent ``Expires`` is added for clients that ignore ``Max-Age``.

    :param key: The cookie name. It must not be empty nor contain whitespace,
        control characters, ``"``, ``,``, ``;`` or ``=``.
    :param value: The cookie value.
    :param max_age: Lifetime in seconds (or a :class:`~datetime.timedelta`).
        ``None`` makes a session cookie.
    :param expires: Absolute expiry: a datetime, a Unix timestamp, or an
        already formatted date string.
    :param path: Limit the cookie to this path (``"/"``: the whole site).
        ``None`` omits the attribute.
    :param domain: Share the cookie with this domain and its subdomains.
    :param secure: Only send the cookie over HTTPS.
    :param httponly: Hide the cookie from JavaScript.
    :param samesite: ``"Strict"``, ``"Lax"`` or ``"None"`` (any case).
    :param partitioned: Opt into partitioned (CHIPS) storage.
    :param sync_expires: Derive ``Expires`` from ``max_age``.
    :param max_size: Warn when the header is longer than this many characters
        (browsers silently drop bigger cookies). ``0`` disables the check.
    :return: The header value, without the ``Set-Cookie:`` prefix.
    :raises ValueError: If ``key`` is empty or invalid, if ``path``,
        ``domain`` or ``expires`` contain control characters or ``;`` (which
        would allow injecting attributes or headers), or if ``samesite`` is
        not one of the allowed values.

    .. versionadded:: 0.1
    """
    if not key or _cookie_bad_name_re.search(key) is not None:
        raise ValueError(
            f"Invalid cookie name {key!r}: it must be a non-empty token without"
            " whitespace, control characters or separators."
        )

    if path is not None and path != "/":
        if _cookie_bad_attr_re.search(path) is not None:
            raise ValueError(f"Invalid cookie path {path!r}: control character or ';'.")

        # Leave already percent-encoded text and URL path punctuation alone.
        path = quote(path, safe="%!$&'()*+,/:=@")

    if domain:
        if _cookie_bad_attr_re.search(domain) is not None or " " in domain:
            raise ValueError(
                f"Invalid cookie domain {domain!r}: whitespace, control character"
                " or ';'."
            )

        # RFC 6265 ignores a leading dot; a port is not part of the domain.
        domain = domain.partition(":")[0].lstrip(".")

        if not domain.isascii():
            domain = domain.encode("idna").decode("ascii")

    if isinstance(max_age, timedelta):
        max_age = int(max_age.total_seconds())
    elif max_age is not None:
        # int() rejects anything that is not a number, so nothing else can
        # end up in the header through this argument.
        max_age = int(max_age)

    if expires is not None:
        if isinstance(expires, str):
            if _cookie_bad_attr_re.search(expires) is not None:
                raise ValueError(
                    f"Invalid cookie expires {expires!r}: control character or ';'."
                )
        else:
            expires = http_date(expires)
    elif max_age is not None and sync_expires:
        expires = http_date(_now() + max_age)

    if samesite is not None:
        samesite_value = _samesite_values.get(samesite.lower())

        if samesite_value is None:
            raise ValueError("SameSite must be 'Strict', 'Lax' or 'None'.")

        samesite = samesite_value

    if partitioned:
        secure = True

    if _cookie_plain_value_re.fullmatch(value) is None:
        # Escape per UTF-8 byte so multi-byte characters become \ooo runs.
        escaped = _cookie_escape_re.sub(_cookie_escape_match, value.encode())
        value = f'"{escaped.decode("ascii")}"'

    # A non-ASCII name is sent as its UTF-8 bytes; header strings carry bytes
    # as latin-1 code points (PEP 3333).
    if not key.isascii():
        key = key.encode().decode("latin-1")

    parts = [f"{key}={value}"]

    if domain:
        parts.append(f"Domain={domain}")

    if expires is not None:
        parts.append(f"Expires={expires}")

    if max_age is not None:
        parts.append(f"Max-Age={max_age}")

    if secure:
        parts.append("Secure")

    if httponly:
        parts.append("HttpOnly")

    if path is not None:
        parts.append(f"Path={path}")

    if samesite is not None:
        parts.append(f"SameSite={samesite}")

    if partitioned:
        parts.append("Partitioned")

    header = "; ".join(parts)

    if max_size and len(header) > max_size:
        # Browsers drop oversized cookies without telling anyone, which is
        # miserable to debug; say so here, but still return the header.
        warnings.warn(
            f"The {key!r} cookie is {len(header)} bytes long, over the limit of"
            f" {max_size} bytes ({len(value)} of them are the value). Browsers"
            " may silently ignore it.",
            stacklevel=2,
        )

    return header


# --------------------------------------------------------------------------
# URLs and query strings
# --------------------------------------------------------------------------


def _decode_query_part(part: str) -> str:
    """Decode one key or value of a query string: ``+`` and ``%XX``."""
    if "+" in part:
        part = part.replace("+", " ")

    if "%" in part:
        # A strict decode: percent-encoded bytes that are not UTF-8 raise
        # UnicodeDecodeError, which the caller reports as a 400.
        # PERF: about twice as fast as unquote(), same result.
        part = unquote_to_bytes(part).decode()

    return part


def url_decode(
    s: str | bytes,
    cls: type[MultiDict[str, str]] | None = None,
    separator: str = "&",
) -> MultiDict[str, str]:
    """Parse a query string or ``application/x-www-form-urlencoded`` body.

    Pairs are separated by ``separator``; ``+`` means a space and ``%XX``
    escapes are decoded as UTF-8. A pair without ``=`` gets the value ``""``
    and blank values are kept; empty pairs (``a=1&&b=2``) are skipped. A
    malformed escape such as ``%zz`` stays literal. Repeated keys keep all
    their values in order.

    :param s: The encoded data. Bytes (the form a WSGI server or a body
        provides) must be UTF-8; a str is used as text.
    :param cls: The :class:`~.MultiDict` class to return.
    :param separator: The pair separator.
    :return: The decoded keys and values.
    :raises UnicodeDecodeError: If the bytes, or what percent-escapes decode
        to, are not valid UTF-8.

    .. versionadded:: 0.1
    """
    if cls is None:
        cls = _default_multidict() if _multidict_cls is None else _multidict_cls

    if isinstance(s, (bytes, bytearray)):
        s = s.decode()

    data: dict[str, list[str]] = {}

    if not s:
        return _build_multidict(cls, data)

    # PERF: one scan of the whole string spares two per pair when nothing
    # is encoded (common for simple query strings).
    encoded = "%" in s or "+" in s

    for pair in s.split(separator):
        if not pair:
            continue

        key, _, value = pair.partition("=")

        if encoded:
            if "+" in key or "%" in key:
                key = _decode_query_part(key)

            if "+" in value or "%" in value:
                value = _decode_query_part(value)

        if key in data:
            data[key].append(value)
        else:
            data[key] = [value]

    return _build_multidict(cls, data)


# Characters left as they are in query string keys and values; everything
# else (notably & = + # and space) is percent-encoded (space as "+").
_query_safe = "!$'()*,/:;?@"


def _query_quote(value: t.Any) -> str:
    if not isinstance(value, (str, bytes)):
        value = str(value)

    return quote_plus(value, safe=_query_safe)


def url_encode(
    obj: Mapping[str, t.Any] | Iterable[tuple[str, t.Any]],
    sort: bool = False,
    key: t.Callable[[tuple[str, t.Any]], t.Any] | None = None,
) -> str:
    """Encode data as a query string (``application/x-www-form-urlencoded``).

    Accepts a :class:`~.MultiDict` (every value is written), a dict (a list,
    tuple or set value writes the key once per item) or an iterable of pairs.
    Pairs whose value is ``None`` are skipped. Keys and values are converted
    with :func:`str` (bytes are used as they are), UTF-8 encoded, and
    percent-encoded, with spaces written as ``+``.

    :param obj: The data to encode.
    :param sort: Sort the pairs first.
    :param key: The sort key function, as for :func:`sorted`.
    :return: The query string, without a leading ``?``.

    .. versionadded:: 0.1
    """
    from .datastructures import iter_multi_items

    pairs = [(k, v) for k, v in iter_multi_items(obj) if v is not None]

    if sort:
        pairs.sort(key=key)

    return "&".join(f"{_query_quote(k)}={_query_quote(v)}" for k, v in pairs)


def url_quote(value: str | bytes, safe: str = "/:") -> str:
    """Percent-encode a string for use in a URL (UTF-8, ``safe`` kept).

    :param value: The text or bytes to encode.
    :param safe: Characters to leave unencoded in addition to letters, digits
        and ``_.-~``.
    :return: The encoded text.

    .. versionadded:: 0.1
    """
    return quote(value, safe=safe)


def url_unquote(value: str | bytes, errors: str = "replace") -> str:
    """Decode ``%XX`` escapes (as UTF-8) in a URL component.

    ``+`` is left alone; use :func:`url_decode` for query strings.

    :param value: The encoded text or bytes.
    :param errors: How to handle escapes that are not valid UTF-8, as for
        :meth:`bytes.decode`.
    :return: The decoded text.

    .. versionadded:: 0.1
    """
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("latin-1")

    return unquote(value, errors=errors)


# A lone "%" that does not start an escape would make the URI invalid.
_stray_percent_re = re.compile(r"%(?![0-9A-Fa-f]{2})")
# PERF: a URI made only of these characters, with well-formed escapes, needs
# no work at all, which is the case for almost every redirect target.
_plain_uri_re = re.compile(r"(?:[A-Za-z0-9\-._~:/?#@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")


def _quote_uri_part(value: str, safe: str) -> str:
    if "%" in value:
        value = _stray_percent_re.sub("%25", value)

    # Every remaining "%" starts a valid escape, which must be kept as is.
    return quote(value, safe=safe + "%")


def iri_to_uri(iri: str) -> str:
    """Convert an IRI (a URL with any Unicode in it) to an ASCII URI.

    Non-ASCII and unsafe characters are UTF-8 percent-encoded, component by
    component, keeping each component's delimiters. Existing ``%XX`` escapes
    are kept (a ``%`` that starts no escape becomes ``%25``). A non-ASCII host
    name is IDNA-encoded (``☃.net`` becomes ``xn--n3h.net``). The result is
    safe to use in a ``Location`` header.

    :param iri: The IRI, absolute or relative.
    :return: The equivalent URI.

    .. versionadded:: 0.1
    """
    if _plain_uri_re.fullmatch(iri) is not None:
        return iri

    try:
        parts = urlsplit(iri)
    except ValueError:
        # Unparseable (a broken IPv6 literal, say): still make it ASCII.
        return _quote_uri_part(iri, "!#$&'()*+,/:;=?@[]")
    netloc = parts.netloc

    if netloc:
        userinfo, at, hostport = netloc.rpartition("@")

        if hostport.startswith("["):
            # IPv6 literal; nothing to encode inside the brackets.
            host, port_sep, port = hostport.partition("]")
            host += "]"
            port = port[1:] if port.startswith(":") else port
            port_sep = ":" if port else ""
        else:
            host, port_sep, port = hostport.partition(":")

            if not host.isascii():
                try:
                    host = host.encode("idna").decode("ascii")
                except UnicodeError:
                    # Not a valid IDN (empty label, too long...): keep the
                    # characters but make them ASCII.
                    host = _quote_uri_part(host, "!$&'()*+,;=")

        netloc = f"{host}{port_sep}{_quote_uri_part(port, '')}"

        if at:
            user, colon, password = userinfo.partition(":")
            safe = "!$&'()*+,;="
            netloc = (
                f"{_quote_uri_part(user, safe)}{colon}"
                f"{_quote_uri_part(password, safe)}@{netloc}"
            )

    return urlunsplit(
        (
            parts.scheme,
            netloc,
            _quote_uri_part(parts.path, "!$&'()*+,/:;=@"),
            _quote_uri_part(parts.query, "!$&'()*+,/:;=?@"),
            _quote_uri_part(parts.fragment, "!#$&'()*+,/:;=?@"),
        )
    )


def _strip_port(host: str) -> str:
    if host.startswith("["):  # an IPv6 literal, maybe with a port after "]"
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    name, colon, port = host.rpartition(":")
    return name if colon and port.isdigit() else host


def host_is_trusted(hostname: str | None, trusted_list: str | t.Iterable[str]) -> bool:
    """Whether ``hostname`` (a ``Host`` value, port allowed) is in ``trusted_list``.

    Ports are ignored and case doesn't matter. An entry starting with a dot
    trusts that domain and every subdomain of it: ``".example.com"`` matches
    ``example.com`` and ``api.example.com``.

    :param hostname: The host to check; empty or ``None`` is never trusted.
    :param trusted_list: Host names, or one host name.
    """
    if not hostname:
        return False
    if isinstance(trusted_list, str):
        trusted_list = [trusted_list]
    host = _strip_port(hostname).lower().rstrip(".")
    for entry in trusted_list:
        suffix = entry.startswith(".")
        ref = _strip_port(entry[1:] if suffix else entry).lower().rstrip(".")
        if host == ref or (suffix and host.endswith("." + ref)):
            return True
    return False
