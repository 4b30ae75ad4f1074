"""URLs and query strings: decode, encode, quote, IRIs, trusted hosts.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
import typing as t
from collections.abc import Iterable, Mapping
from urllib.parse import (
    quote,
    quote_plus,
    unquote,
    unquote_to_bytes,
    urlsplit,
    urlunsplit,
)

if t.TYPE_CHECKING:  # pragma: no cover
    from ..datastructures import MultiDict

__all__ = ["host_is_trusted", "iri_to_uri", "url_decode", "url_encode", "url_quote", "url_unquote"]

# --------------------------------------------------------------------------
# Lazy access to erlen.datastructures (here and in .cookies).
#
# datastructures imports this package, and it also imports erlen.exceptions,
# which imports this package for HTTP_STATUS_CODES. Importing datastructures
# here at module level would make that a circular import that fails when
# exceptions is imported first, so its classes are fetched on first use.
# PERF: the MultiDict class is cached in a global. (The request passes its
# own class, so this is only the default for direct calls.)
# --------------------------------------------------------------------------

_multidict_cls: type[MultiDict[str, str]] | None = None
#: ``MultiDict.__init__``, once the class is loaded (see _build_multidict).
_multidict_init: t.Any = None
_dict_new = dict.__new__
_dict_update = dict.update


def _default_multidict() -> type[MultiDict[str, str]]:
    global _multidict_cls, _multidict_init
    if _multidict_cls is None:
        from ..datastructures import MultiDict

        _multidict_cls = MultiDict
        _multidict_init = MultiDict.__init__
    return _multidict_cls


def _build_multidict(
    cls: type[MultiDict[str, str]], data: dict[str, list[str]]
) -> MultiDict[str, str]:
    # PERF: a MultiDict class that keeps MultiDict's constructor (the
    # request's ImmutableMultiDict) takes the freshly built lists as they
    # are: what its private _from_lists does, without looking it up and
    # calling it (a third of the cost of parsing a short query string).
    if _multidict_init is None:
        _default_multidict()
    if cls.__init__ is _multidict_init:
        rv = _dict_new(cls)
        _dict_update(rv, data)
        return rv
    # Any other class: hand the lists over through the hook; a class
    # without it (any dict-like class) gets the dict itself.
    from_lists = getattr(cls, "_from_lists", None)

    if from_lists is not None:
        return from_lists(data)  # type: ignore[no-any-return]

    return cls(data)


# --------------------------------------------------------------------------
# URLs and query strings
# --------------------------------------------------------------------------


#: The character of each ``%XX`` escape (``XX`` in either case), as a code point below 256.
_HEX_CHARS = {
    f"{a}{b}": chr(int(a + b, 16))
    for a in "0123456789abcdefABCDEF"
    for b in "0123456789abcdefABCDEF"
}


def _decode_query_part(part: str) -> str:
    """Decode one key or value of a query string: ``+`` and ``%XX``."""
    if "+" in part:
        part = part.replace("+", " ")

    if "%" not in part:
        return part

    # A strict decode: percent-encoded bytes that are not UTF-8 raise
    # UnicodeDecodeError, which the caller reports as a 400.
    if not part.isascii():
        return unquote_to_bytes(part).decode()

    # PERF: text that is ASCII (nearly always) is decoded as text: each
    # escape becomes the code point of its byte, which is the answer when
    # all are ASCII; otherwise the code points are the UTF-8 bytes to
    # decode. The same result as unquote_to_bytes(part).decode(), for a
    # third less.
    bits = part.split("%")
    out = [bits[0]]
    hex_chars = _HEX_CHARS
    for bit in bits[1:]:
        char = hex_chars.get(bit[:2])
        if char is None:  # a malformed escape stays as it is
            out.append("%")
            out.append(bit)
        else:
            out.append(char)
            out.append(bit[2:])
    part = "".join(out)
    return part if part.isascii() else part.encode("latin-1").decode()


def url_decode(
    s: str | bytes | bytearray,
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

    text = s if isinstance(s, str) else s.decode()

    data: dict[str, list[str]] = {}

    # PERF: one scan of the whole string spares two per pair when nothing
    # is encoded (common for simple query strings).
    if "%" in text or "+" in text:
        if separator == "&" and "%26" not in text and "%3D" not in text and "%3d" not in text:
            # PERF: decoding the whole string at once gives what decoding
            # each key and value does when no escape stands for "&" or "="
            # (which would then split wrongly): "+" and the hex digits of an
            # escape are neither, and bytes that are not UTF-8 stay invalid
            # next to an ASCII "&" or "=" (the same UnicodeDecodeError).
            text = _decode_query_part(text)
        else:
            _decode_pairs(text.split(separator), data)
            return _build_multidict(cls, data)

    # PERF: the loop every query string and form body runs, kept to the
    # fewest operations a pair (its cost is most of this function's).
    for pair in text.split(separator):
        if pair:
            key, _, value = pair.partition("=")
            if key in data:
                data[key].append(value)
            else:
                data[key] = [value]

    # PERF: _build_multidict inlined for the request's class, which keeps
    # MultiDict's constructor.
    if cls.__init__ is _multidict_init:
        rv = _dict_new(cls)
        _dict_update(rv, data)
        return rv
    return _build_multidict(cls, data)


def _decode_pairs(pairs: list[str], data: dict[str, list[str]]) -> None:
    """Add each pair's decoded key and value to ``data`` (pairs decoded one by one)."""
    for pair in pairs:
        if not pair:
            continue

        key, _, value = pair.partition("=")

        if "+" in key or "%" in key:
            key = _decode_query_part(key)

        if "+" in value or "%" in value:
            value = _decode_query_part(value)

        if key in data:
            data[key].append(value)
        else:
            data[key] = [value]


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
    from ..datastructures import iter_multi_items

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
                f"{_quote_uri_part(user, safe)}{colon}{_quote_uri_part(password, safe)}@{netloc}"
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
