"""Parse the ``Cookie`` header and dump ``Set-Cookie`` values.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
import typing as t
import warnings
from datetime import datetime, timedelta
from time import time as _now
from urllib.parse import quote

from .dates import http_date
from .urls import _build_multidict, _default_multidict

if t.TYPE_CHECKING:  # pragma: no cover
    from ..datastructures import MultiDict

__all__ = ["dump_cookie", "parse_cookie"]

_cookie_unescape_re = re.compile(rb"\\([0-3][0-7]{2}|.)", re.DOTALL)


def _cookie_unescape_match(match: re.Match[bytes]) -> bytes:
    escaped = match.group(1)

    if len(escaped) == 1:
        return escaped

    return bytes((int(escaped, 8),))


def _cookie_unquote(value: str) -> str:
    """Decode the inside of a quoted cookie value (``\\"``, ``\\\\``, ``\\ooo``)."""
    # Octal escapes encode single bytes of the UTF-8 value, so work on bytes.
    raw = _cookie_unescape_re.sub(_cookie_unescape_match, value.encode("utf-8", "surrogatepass"))
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
        cls = _default_multidict()

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


def _cookie_value(header: str, name: str) -> str | None:
    """The first value of cookie ``name`` in ``header``, as
    ``parse_cookie(header).get(name)`` gives it, or ``None``.

    PERF: the session reads its one cookie on every request that uses it;
    this stops at that cookie and builds no :class:`~.MultiDict` of the others.
    """
    if not name:
        # parse_cookie keeps no pair with an empty name.
        return None
    if not header.isascii():
        # As parse_cookie: UTF-8 tunnelled through latin-1 is re-decoded.
        try:
            header = header.encode("latin-1").decode()
        except UnicodeError:
            pass
    for pair in header.split(";"):
        key, eq, value = pair.partition("=")
        if eq and key.strip() == name:
            value = value.strip()
            if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
                value = value[1:-1]
                if "\\" in value:
                    value = _cookie_unquote(value)
            return value
    return None


# Characters a cookie value may contain without quoting: RFC 6265
# cookie-octets plus a few that every browser accepts (http.cookies' set).
_cookie_plain_value_re = re.compile(r"[\w!#$%&'()*+\-./:<=>?@\[\]^`{|}~]*", re.ASCII)
# Bytes that must be escaped inside a quoted cookie value.
_cookie_escape_re = re.compile(rb'[\x00-\x1f",;\\\x7f-\xff]')
_cookie_escapes: dict[bytes, bytes] = {b'"': b'\\"', b"\\": b"\\\\"}
_cookie_escapes.update(
    (bytes((code,)), b"\\%03o" % code) for code in (*range(0x20), *b",;", *range(0x7F, 0x100))
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
    max_age: timedelta | int | str | None = None,
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
                f"Invalid cookie domain {domain!r}: whitespace, control character or ';'."
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
                raise ValueError(f"Invalid cookie expires {expires!r}: control character or ';'.")
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
            f"The {key!r} cookie is too large: {len(header)} bytes, over the limit of"
            f" {max_size} bytes ({len(value)} of them are the value). Browsers"
            " may silently ignore it.",
            stacklevel=2,
        )

    return header
