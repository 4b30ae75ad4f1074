"""Werkzeug's header value types that Erlen's core does without.

``werkzeug.datastructures`` (and ``werkzeug.http``'s parsers) hand these
out: ``Range`` / ``Content-Range`` / ``If-Range`` values, a
``Content-Security-Policy`` dict, and the conversion dicts extensions build
on. Erlen's own request and response never need them, so they live here
and cost nothing until a ``werkzeug`` import asks for one. The
``Cache-Control`` dicts, :class:`~erlen.datastructures.HeaderSet` and the
dict mixins are the core's (the request and response use them) and are
re-exported here.

.. versionadded:: 0.1
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Iterable

# Re-exported (the werkzeug.datastructures shim finds them here); they are
# the core's now, documented there.
from ..datastructures import HeaderSet as HeaderSet
from ..datastructures import MultiDict
from ..datastructures.cache_control import RequestCacheControl as RequestCacheControl
from ..datastructures.cache_control import ResponseCacheControl as ResponseCacheControl
from ..datastructures.cache_control import cache_control_property as cache_control_property
from ..datastructures.mixins import ImmutableDictMixin, UpdateDictMixin
from ..datastructures.mixins import ImmutableHeadersMixin as ImmutableHeadersMixin
from ..datastructures.mixins import ImmutableListMixin as ImmutableListMixin
from ..datastructures.mixins import ImmutableMultiDictMixin as ImmutableMultiDictMixin
from ..http import http_date, quote_etag

__all__ = [
    "ContentRange",
    "ContentSecurityPolicy",
    "FileMultiDict",
    "IfRange",
    "ImmutableTypeConversionDict",
    "Range",
    "TypeConversionDict",
    "csp_property",
]


class TypeConversionDict(dict):  # type: ignore[type-arg]
    """A ``dict`` whose :meth:`get` can convert the value.

    ``d.get("page", 1, type=int)`` is the value as an ``int``, or ``1`` when
    the key is missing or the conversion raises ``ValueError``/``TypeError``.
    """

    def get(self, key: t.Any, default: t.Any = None, type: t.Any = None) -> t.Any:  # noqa: A002
        """The value of ``key`` (converted with ``type``), else ``default``."""
        try:
            value = self[key]
        except KeyError:
            return default
        if type is None:
            return value
        try:
            return type(value)
        except (ValueError, TypeError):
            return default


class ImmutableTypeConversionDict(ImmutableDictMixin, TypeConversionDict):  # type: ignore[misc]
    """A :class:`TypeConversionDict` that refuses changes; :meth:`copy` is mutable."""

    def copy(self) -> TypeConversionDict:
        """A mutable :class:`TypeConversionDict` with the same items."""
        return TypeConversionDict(self)

    def __copy__(self) -> ImmutableTypeConversionDict:
        return self


class FileMultiDict(MultiDict[str, t.Any]):
    """A ``MultiDict`` of uploads, for building test requests."""

    def add_file(
        self,
        name: str,
        file: t.Any,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> None:
        """Add a file under ``name``: a path, a file object, or a ``FileStorage``."""
        from ..datastructures.file_storage import FileStorage

        if isinstance(file, FileStorage):
            value = file
        else:
            if isinstance(file, str):
                filename = file if filename is None else filename
                file = open(file, "rb")  # noqa: SIM115 - the FileStorage owns it
            if filename is not None and content_type is None:
                import mimetypes

                content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            value = FileStorage(file, filename, name, content_type)
        self.add(name, value)


class csp_property:  # noqa: N801 - Werkzeug's name
    """A ``Content-Security-Policy`` directive as a property: its value text, or ``None``."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.__doc__ = f"The ``{key}`` directive."

    def __get__(self, obj: t.Any, owner: type | None = None) -> t.Any:
        return self if obj is None else obj.get(self.key)

    def __set__(self, obj: t.Any, value: str | None) -> None:
        if value is None:
            obj.pop(self.key, None)
        else:
            obj[self.key] = value

    def __delete__(self, obj: t.Any) -> None:
        obj.pop(self.key, None)


class ContentSecurityPolicy(UpdateDictMixin):
    """A ``Content-Security-Policy`` header: ``{directive: value}`` with properties."""

    def __init__(
        self,
        values: t.Mapping[str, str] | Iterable[tuple[str, str]] = (),
        on_update: Callable[[t.Any], None] | None = None,
    ) -> None:
        dict.__init__(self, values)
        self.on_update = on_update

    def to_header(self) -> str:
        """The header value: ``directive value; ...``."""
        return "; ".join(f"{key} {value}" for key, value in self.items())

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        pairs = " ".join(f"{k}={v!r}" for k, v in sorted(self.items()))
        return f"<{type(self).__name__} {pairs}>"


# One property per CSP directive: `csp.script_src` is the "script-src" value.
for _directive in (
    "base-uri child-src connect-src default-src font-src form-action frame-ancestors"
    " frame-src img-src manifest-src media-src navigate-to object-src prefetch-src"
    " plugin-types report-to report-uri sandbox script-src script-src-attr"
    " script-src-elem style-src style-src-attr style-src-elem worker-src"
).split():
    setattr(ContentSecurityPolicy, _directive.replace("-", "_"), csp_property(_directive))


class Range:
    """A parsed ``Range`` header: a unit and ``(start, stop)`` pairs.

    ``stop`` is exclusive, as in a slice; a suffix range (``bytes=-500``) is
    ``(-500, None)``, an open one (``bytes=500-``) ``(500, None)``.
    """

    def __init__(self, units: str, ranges: list[tuple[int, int | None]]) -> None:
        self.units = units
        self.ranges = ranges

    def range_for_length(self, length: int | None) -> tuple[int, int] | None:
        """The one byte range this asks of ``length`` bytes, as ``(start, stop)``, or ``None``.

        ``None`` for several ranges, other units, an unknown length, or a
        range that does not fit.
        """
        if self.units != "bytes" or length is None or len(self.ranges) != 1:
            return None
        start, stop = self.ranges[0]
        if stop is None:
            stop = length
            if start < 0:
                start += length
        if start < 0 or start >= stop or start >= length:
            return None
        return start, min(stop, length)

    def make_content_range(self, length: int | None) -> ContentRange | None:
        """The :class:`ContentRange` answering this for ``length`` bytes, or ``None``."""
        rng = self.range_for_length(length)
        if rng is None:
            return None
        return ContentRange(self.units, rng[0], rng[1], length)

    def to_header(self) -> str:
        """The ``Range`` header value."""
        parts = []
        for start, stop in self.ranges:
            if stop is None:
                parts.append(f"{start}-" if start >= 0 else str(start))
            else:
                parts.append(f"{start}-{stop - 1}")
        return f"{self.units}={','.join(parts)}"

    def to_content_range_header(self, length: int | None) -> str | None:
        """The ``Content-Range`` value answering this for ``length`` bytes, or ``None``."""
        rng = self.range_for_length(length)
        if rng is None:
            return None
        return f"{self.units} {rng[0]}-{rng[1] - 1}/{length}"

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {str(self)!r}>"


class ContentRange:
    """A ``Content-Range`` value: unit, ``start``, exclusive ``stop``, total ``length``.

    ``start`` and ``stop`` are ``None`` for an unsatisfied range
    (``bytes */1000``), ``length`` is ``None`` when unknown (``/*``).
    """

    def __init__(
        self,
        units: str | None,
        start: int | None,
        stop: int | None,
        length: int | None = None,
        on_update: Callable[[ContentRange], None] | None = None,
    ) -> None:
        self.on_update = on_update
        self.set(start, stop, length, units)

    def set(
        self,
        start: int | None,
        stop: int | None,
        length: int | None = None,
        units: str | None = "bytes",
    ) -> None:
        """Set every part at once."""
        self.units, self.start, self.stop, self.length = units, start, stop, length
        if self.on_update is not None:
            self.on_update(self)

    def unset(self) -> None:
        """Make it empty (no header)."""
        self.set(None, None, units=None)

    def to_header(self) -> str:
        """The header value, or ``""`` when unset."""
        if self.units is None:
            return ""
        length = "*" if self.length is None else str(self.length)
        if self.start is None:
            return f"{self.units} */{length}"
        return f"{self.units} {self.start}-{t.cast(int, self.stop) - 1}/{length}"

    def __bool__(self) -> bool:
        return self.units is not None

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {str(self)!r}>"


class IfRange:
    """An ``If-Range`` value: an entity tag or a date (or neither)."""

    def __init__(self, etag: str | None = None, date: t.Any = None) -> None:
        self.etag = etag
        self.date = date

    def to_header(self) -> str:
        """The header value: the quoted tag, the HTTP date, or ``""``."""
        if self.date is not None:
            return http_date(self.date)
        if self.etag is not None:
            return quote_etag(self.etag)
        return ""

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {str(self)!r}>"
