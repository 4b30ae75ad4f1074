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
        return t.cast("Response", self._app.response_class(self.dumps(obj) + "\n", mimetype="application/json"))


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

    def __init__(self, app: Erlen) -> None:
        super().__init__(app)
        self._encoders: dict[tuple[t.Any, ...], _json.JSONEncoder] = {}

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
        return self._encoder(None).encode(obj)

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Parse JSON from ``str`` or bytes."""
        return _json.loads(s, **kwargs)

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        """Serialize to a response: indented in debug mode, compact otherwise."""
        obj = self._prepare_response_obj(args, kwargs)
        compact = self.compact
        if compact is None:
            compact = not self._app.debug
        body = self._encoder(None if compact else 2).encode(obj) + "\n"
        return t.cast("Response", self._app.response_class(body, mimetype=self.mimetype))


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
