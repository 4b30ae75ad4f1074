"""JSON for requests and responses, through a replaceable provider.

``app.json`` is a :class:`JSONProvider`; the default one uses the standard
library and understands dates, UUIDs, decimals, dataclasses and objects with
``__html__``. Replace it by setting ``app.json_provider_class`` before the app
is created, or ``app.json`` afterwards (an orjson provider drops in the same
way).

:mod:`erlen.json.tag` holds the tagged JSON the session cookie is written in.
"""

from __future__ import annotations

import json as _json
import typing as t
from datetime import date

from ..globals import _cv
from ..http import http_date

# The C encoder behind json.JSONEncoder (see DefaultJSONProvider._encode_compact).
_c_make_encoder = getattr(_json.encoder, "c_make_encoder", None)
# The scanner behind json.loads() without hooks (see DefaultJSONProvider.loads).
_scan_once = _json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # set in __init__
_JSON_OPENERS = (b"{", b"[")

# The optional fast library (orjson), imported on first use: None until
# then, False when it is not installed or fails the check in _load_orjson.
_orjson: t.Any = None
# orjson's options on the fast path: dates, dataclasses and subclasses of the
# built-in types (whose standard output comes from ``default`` or from the
# base type) are handed to _refuse, so the standard encoder writes them.
_ORJSON_BASE_OPTIONS = 0
# A body byte as "0" when it is a digit, else " " (DefaultJSONProvider.loads).
_DIGITS_TABLE = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
# 19 digits in a row: an integer that may not fit in 64 bits, which orjson
# would read as a float where json.loads gives an int.
_LONG_NUMBER = b"0" * 19
# Values whose text differs between orjson releases or from the standard
# encoder: floats at each boundary of repr's notation, escapes, key order.
_ORJSON_PROBES: list[t.Any] = [
    [1e15, 123456789012345.6, 1e16, 1.5e16, 1e17, 1e22, 1e300, 1.7976931348623157e308],
    [0.1, -0.0, 1.0, 100.0, 1e-4, 1.5e-4, 1e-5, 2.5e-7, 1e-10, 1e-300, 5e-324],
    [2**63 - 1, 2**63, 2**64 - 1, -(2**63), True, False, "", '\x00\x1f"\\/\b\f\n\r\t~'],
    {"b": 1, "a": {"B": [], "A": {}}, "\uffff": 2, "\U0001f600": 3, "\u00e9": 4, "Z": 5},
]


def _load_orjson() -> t.Any:
    """orjson, or False when it is not installed or writes a probe otherwise.

    The check runs once: a release that formats a number or an escape
    differently from the standard library turns the fast path off rather
    than change a response.
    """
    global _orjson, _ORJSON_BASE_OPTIONS
    if _orjson is None:
        try:
            import orjson
        except ImportError:
            _orjson = False
            return False
        _ORJSON_BASE_OPTIONS = (
            orjson.OPT_PASSTHROUGH_DATETIME
            | orjson.OPT_PASSTHROUGH_DATACLASS
            | orjson.OPT_PASSTHROUGH_SUBCLASS
        )
        for value in _ORJSON_PROBES:
            for sort_keys in (True, False):
                for ensure_ascii in (True, False):
                    out = _orjson_dumps(orjson, value, sort_keys, ensure_ascii)
                    expected = _json.dumps(
                        value, sort_keys=sort_keys, ensure_ascii=ensure_ascii, separators=(",", ":")
                    )
                    if out is not None and out != expected:
                        _orjson = False
                        return False
        _orjson = orjson
    return _orjson


def _refuse(o: t.Any) -> t.Any:
    # orjson's default on the fast path: anything it does not write itself
    # goes to the standard encoder, with the provider's own default.
    raise TypeError


def _orjson_dumps(orjson: t.Any, obj: t.Any, sort_keys: bool, ensure_ascii: bool) -> str | None:
    """``obj`` as compact JSON by orjson, or None where it could differ.

    The text returned is the standard library's compact output. orjson
    refuses (so the standard encoder writes) integers beyond 64 bits,
    non-string keys, lone surrogates, cycles, deep nesting, subclasses of
    the built-in types, dates and dataclasses. Where its text can differ,
    the output is checked, and a false alarm only costs time:

    - ``null``: it writes NaN and the infinities as ``null``;
    - ``0.0000`` and ``e-``: below 1e-4 it writes ``0.00001`` and ``1e-7``
      where repr gives ``1e-05`` and ``1e-07``;
    - with ``ensure_ascii``, any character outside printable ASCII, which
      the standard encoder escapes (DEL included).

    PERF: the checks run on the decoded text (``in`` on a str is several
    times cheaper than on bytes, and ``isascii`` is a flag), which is also
    what the response is built from.
    """
    options = _ORJSON_BASE_OPTIONS | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    try:
        text: str = orjson.dumps(obj, default=_refuse, option=options).decode()
    except orjson.JSONEncodeError:
        return None
    if "null" in text or "e-" in text or "0.0000" in text:
        return None
    if ensure_ascii and (not text.isascii() or "\x7f" in text):
        return None
    return text


if t.TYPE_CHECKING:
    from ..app import Erlen
    from ..wrappers import Response

__all__ = ["JSONProvider", "DefaultJSONProvider", "dumps", "loads", "dump", "load", "jsonify"]


class JSONProvider:
    """The interface of ``app.json``: ``dumps``, ``loads`` and ``response``.

    :param app: The application the provider serves.

    .. versionadded:: 0.1
    """

    def __init__(self, app: Erlen) -> None:
        import weakref

        self._app = weakref.proxy(app)

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize ``obj`` to a JSON string."""
        raise NotImplementedError

    def dump(self, obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
        """Serialize ``obj`` to a text file."""
        fp.write(self.dumps(obj, **kwargs))

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Parse a JSON string or UTF-8 bytes."""
        raise NotImplementedError

    def load(self, fp: t.IO[t.AnyStr], **kwargs: t.Any) -> t.Any:
        """Parse JSON from a file."""
        return self.loads(fp.read(), **kwargs)

    def _prepare_response_obj(self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]) -> t.Any:
        if args and kwargs:
            raise TypeError("app.json.response() takes either args or kwargs, not both")
        if not args and not kwargs:
            return None
        if len(args) == 1:
            return args[0]
        return args or kwargs

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        """Serialize the arguments into an ``application/json`` response.

        One positional argument is used as is; several become a list;
        keyword arguments become an object.
        """
        obj = self._prepare_response_obj(args, kwargs)
        return t.cast(
            "Response",
            self._app.response_class(self.dumps(obj) + "\n", mimetype="application/json"),
        )


def _default(o: t.Any) -> t.Any:
    # PERF: imported here, so `import erlen` doesn't pay for them.
    import dataclasses
    import decimal
    import uuid

    if isinstance(o, date):
        return http_date(o)
    if isinstance(o, (decimal.Decimal, uuid.UUID)):
        return str(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if hasattr(o, "__html__"):
        return str(o.__html__())
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


class DefaultJSONProvider(JSONProvider):
    """JSON with the standard library, configured like Flask's default.

    Keys are sorted and non-ASCII is escaped by default; output is compact
    unless the app is in debug mode (then indented), ``compact`` decides when
    set.

    .. versionadded:: 0.1
    """

    #: Turns unsupported objects into JSON-able ones.
    default: t.Callable[[t.Any], t.Any] = staticmethod(_default)
    ensure_ascii = True
    sort_keys = True
    compact: bool | None = None
    mimetype = "application/json"
    #: Use orjson, when it is installed, for compact output and for parsing
    #: request bodies, where its result is the standard library's (see
    #: :meth:`_fast_encode` and :meth:`loads`); ``False`` always uses the
    #: standard library.
    fast = True

    def __init__(self, app: Erlen) -> None:
        super().__init__(app)
        self._encoders: dict[tuple[t.Any, ...], _json.JSONEncoder] = {}
        self._compact_encoders: dict[tuple[t.Any, ...], t.Any] = {}

    def _fast_encode(self, obj: t.Any) -> str | None:
        """``obj`` as compact JSON by orjson, or None to use the standard encoder.

        Only with the built-in ``default``: orjson writes UUIDs and enums
        itself, so a replaced ``default`` would not see them.
        """
        if not self.fast or self.default is not _default:
            return None
        orjson = _orjson or _load_orjson()
        if orjson is False:
            return None
        return _orjson_dumps(orjson, obj, self.sort_keys, self.ensure_ascii)

    def _encode_compact(self, obj: t.Any) -> str:
        """``obj`` as compact JSON, what ``self._encoder(None).encode(obj)`` gives.

        PERF: JSONEncoder.encode() builds the C encoder anew on every call;
        here it is built once per settings. It is built without the circular
        reference check (whose memo could not be shared between threads), so
        a cycle ends in RecursionError, and then the full encoder runs to
        raise the usual ValueError.
        """
        key = (self.ensure_ascii, self.sort_keys, self.default)
        enc = self._compact_encoders.get(key)
        if enc is None:
            if _c_make_encoder is None:  # pragma: no cover - CPython always has it
                return self._encoder(None).encode(obj)
            escape = (
                _json.encoder.encode_basestring_ascii
                if self.ensure_ascii
                else _json.encoder.encode_basestring
            )
            enc = self._compact_encoders[key] = _c_make_encoder(
                None, self.default, escape, None, ":", ",", self.sort_keys, False, True
            )
        try:
            return "".join(enc(obj, 0))
        except RecursionError:
            return self._encoder(None).encode(obj)

    def _encoder(self, indent: int | None) -> _json.JSONEncoder:
        # PERF: one encoder per settings, built once; json.dumps with keyword
        # arguments would build a new encoder on every call.
        key = (self.ensure_ascii, self.sort_keys, indent, self.default)
        enc = self._encoders.get(key)
        if enc is None:
            enc = self._encoders[key] = _json.JSONEncoder(
                ensure_ascii=self.ensure_ascii,
                sort_keys=self.sort_keys,
                indent=indent,
                separators=(",", ":") if indent is None else (",", ": "),
                default=self.default,
            )
        return enc

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize ``obj``; keyword arguments go to :func:`json.dumps`."""
        if kwargs:
            kwargs.setdefault("default", self.default)
            kwargs.setdefault("ensure_ascii", self.ensure_ascii)
            kwargs.setdefault("sort_keys", self.sort_keys)
            return _json.dumps(obj, **kwargs)
        out = self._fast_encode(obj)
        return self._encode_compact(obj) if out is None else out

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Parse JSON from ``str`` or bytes."""
        if kwargs:
            return _json.loads(s, **kwargs)
        text: t.Any = s
        if s.__class__ is bytes:
            # PERF: a body that starts an object or array, not followed by
            # a NUL, is UTF-8 by json's own detection (no BOM, not UTF-16/32).
            if s[:1] not in _JSON_OPENERS or s[1:2] == b"\x00":
                return _json.loads(s)
            if self.fast:
                orjson = _orjson or _load_orjson()
                # orjson reads an integer beyond 64 bits as a float: such
                # a body (19 digits in a row, even in a string) takes the
                # standard path, as does anything orjson refuses (NaN,
                # numbers beyond a double, lone surrogates, bad UTF-8,
                # syntax errors: their errors come from json.loads).
                # PERF: find() is cheaper than `in` on bytes here.
                if orjson is not False and s.translate(_DIGITS_TABLE).find(_LONG_NUMBER) < 0:
                    try:
                        return orjson.loads(s)
                    except orjson.JSONDecodeError:
                        pass
            try:
                text = s.decode("utf-8", "surrogatepass")  # what json.loads decodes with
            except UnicodeDecodeError:
                return _json.loads(s)  # raises the same error
        elif s.__class__ is not str:
            return _json.loads(s)
        # PERF: the C scanner alone, as JSONDecoder.decode() runs it after
        # skipping whitespace; anything else (leading or trailing whitespace,
        # extra data, a syntax error) takes the full path for its result or
        # its error message.
        try:
            obj, end = _scan_once(text, 0)
        except (StopIteration, ValueError):
            return _json.loads(text)
        if end != len(text):
            return _json.loads(text)
        return obj

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        """Serialize to a response: indented in debug mode, compact otherwise."""
        obj = self._prepare_response_obj(args, kwargs)
        compact = self.compact
        if compact is None:
            compact = not self._app.debug
        if not compact:
            body = self._encoder(2).encode(obj)
        else:
            out = self._fast_encode(obj)
            body = self._encode_compact(obj) if out is None else out
        body += "\n"
        response: Response = self._app.response_class(body, mimetype=self.mimetype)
        return response


def dumps(obj: t.Any, **kwargs: t.Any) -> str:
    """Serialize with the current app's provider, or the standard library outside one."""
    ctx = _cv.get(None)
    if ctx is not None:
        return ctx.app.json.dumps(obj, **kwargs)
    kwargs.setdefault("default", _default)
    return _json.dumps(obj, **kwargs)


def dump(obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
    """Serialize to a file with the current app's provider."""
    fp.write(dumps(obj, **kwargs))


def loads(s: str | bytes, **kwargs: t.Any) -> t.Any:
    """Parse with the current app's provider, or the standard library outside one."""
    ctx = _cv.get(None)
    if ctx is not None:
        return ctx.app.json.loads(s, **kwargs)
    return _json.loads(s, **kwargs)


def load(fp: t.IO[t.AnyStr], **kwargs: t.Any) -> t.Any:
    """Parse JSON from a file."""
    return loads(fp.read(), **kwargs)


def jsonify(*args: t.Any, **kwargs: t.Any) -> Response:
    """Build an ``application/json`` response (``app.json.response``).

    ``jsonify(x)`` serializes ``x``; ``jsonify(a, b)`` a list;
    ``jsonify(a=1)`` an object. Needs an active app context.

    .. versionadded:: 0.1
    """
    ctx = _cv.get(None)
    if ctx is None:
        raise RuntimeError("jsonify() needs an active application context.")
    return ctx.app.json.response(*args, **kwargs)
