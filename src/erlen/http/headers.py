"""Quote, parse and dump header values: lists, dicts, options, ``Accept``,
entity tags and authentication headers.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
import typing as t
from collections.abc import Iterable, Mapping
from urllib.parse import unquote

if t.TYPE_CHECKING:  # pragma: no cover
    from ..datastructures import Accept, Authorization, ETags, WWWAuthenticate

# erlen.exceptions imports erlen.http at import time, and erlen.datastructures
# imports both; so no module of this package imports either of them at module
# level (see the lazy imports below).

__all__ = [
    "dump_header",
    "dump_options_header",
    "generate_etag",
    "parse_accept_header",
    "parse_authorization_header",
    "parse_dict_header",
    "parse_etags",
    "parse_list_header",
    "parse_options_header",
    "parse_www_authenticate_header",
    "quote_etag",
    "quote_header_value",
    "unquote_etag",
    "unquote_header_value",
]

_TAccept = t.TypeVar("_TAccept", bound="Accept")

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
    return [unquote_header_value(item) for item in (x.strip(" \t") for x in items) if item]


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
def parse_accept_header(value: str | None, cls: type[Accept] | None = None) -> Accept:
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
        from ..datastructures import Accept

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
    from ..datastructures import ETags

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
    from ..datastructures import Authorization

    return Authorization.from_header(value)


def parse_www_authenticate_header(value: str | None) -> WWWAuthenticate | None:
    """Parse a ``WWW-Authenticate`` header; see :meth:`.WWWAuthenticate.from_header`.

    :param value: The header value, or ``None``.
    :return: The parsed challenge, or ``None`` if absent.

    .. versionadded:: 0.1
    """
    from ..datastructures import WWWAuthenticate

    return WWWAuthenticate.from_header(value)
