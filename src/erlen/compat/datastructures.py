"""Werkzeug's header value types that Erlen's core does without.

``werkzeug.datastructures`` (and ``werkzeug.http``'s parsers) hand these
out: ``Cache-Control`` as a dict with properties, ``Range`` /
``Content-Range`` / ``If-Range`` values, a case-insensitive set for headers
like ``Allow``, a ``Content-Security-Policy`` dict, and the small dict
mixins and conversion dicts extensions build on. Erlen's own request and
response never need them, so they live here and cost nothing until a
``werkzeug`` import asks for one.

.. versionadded:: 0.1
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Iterable, Iterator

from ..datastructures import MultiDict
from ..http import dump_header, http_date, quote_etag

__all__ = [
    "ContentRange",
    "ContentSecurityPolicy",
    "FileMultiDict",
    "HeaderSet",
    "IfRange",
    "ImmutableDictMixin",
    "ImmutableHeadersMixin",
    "ImmutableListMixin",
    "ImmutableMultiDictMixin",
    "ImmutableTypeConversionDict",
    "Range",
    "RequestCacheControl",
    "ResponseCacheControl",
    "TypeConversionDict",
    "UpdateDictMixin",
    "cache_control_property",
    "csp_property",
]

_missing: t.Any = object()


def _immutable(self: t.Any, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    raise TypeError(f"{type(self).__name__!r} objects are immutable")


class ImmutableListMixin:
    """Makes a ``list`` subclass refuse changes (and hash by its items)."""

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _immutable
    append = remove = extend = insert = pop = reverse = sort = _immutable

    def __hash__(self) -> int:
        return hash(tuple(self))  # type: ignore[arg-type]


class ImmutableDictMixin:
    """Makes a ``dict`` subclass refuse changes (and hash by its items)."""

    __setitem__ = __delitem__ = __ior__ = _immutable
    setdefault = update = pop = popitem = clear = _immutable

    @classmethod
    def fromkeys(cls, keys: Iterable[t.Any], value: t.Any = None) -> t.Any:
        """A new instance with ``keys``, each mapped to ``value``."""
        return cls(dict.fromkeys(keys, value))  # type: ignore[call-arg]

    def __hash__(self) -> int:
        return hash(frozenset(self.items()))  # type: ignore[attr-defined]


class ImmutableMultiDictMixin(ImmutableDictMixin):
    """:class:`ImmutableDictMixin` plus the multi-value methods of a ``MultiDict``."""

    add = addlist = setlist = setlistdefault = poplist = popitemlist = _immutable


class ImmutableHeadersMixin:
    """Makes a ``Headers`` subclass refuse changes."""

    __setitem__ = __delitem__ = _immutable
    set = setdefault = setlist = setlistdefault = add = extend = update = _immutable
    insert = pop = popitem = remove = clear = add_header = _immutable


class UpdateDictMixin(dict):  # type: ignore[type-arg]
    """Calls ``self.on_update(self)`` after every change of the dict."""

    on_update: Callable[[t.Any], None] | None = None

    def _changed(self) -> None:
        if self.on_update is not None:
            self.on_update(self)

    def __setitem__(self, key: t.Any, value: t.Any) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: t.Any) -> None:
        super().__delitem__(key)
        self._changed()

    def setdefault(self, key: t.Any, default: t.Any = None) -> t.Any:
        """As for ``dict``; reports a change only when ``key`` was missing."""
        if key in self:
            return self[key]
        self[key] = default
        return default

    def pop(self, key: t.Any, default: t.Any = _missing) -> t.Any:
        """As for ``dict``; reports a change only when ``key`` was there."""
        if key not in self:
            if default is _missing:
                raise KeyError(key)
            return default
        value = super().pop(key)
        self._changed()
        return value

    def popitem(self) -> tuple[t.Any, t.Any]:
        """As for ``dict``, then reports the change."""
        item = super().popitem()
        self._changed()
        return item

    def update(self, *args: t.Any, **kwargs: t.Any) -> None:
        """As for ``dict``, then reports the change."""
        super().update(*args, **kwargs)
        self._changed()

    def clear(self) -> None:
        """As for ``dict``, then reports the change."""
        super().clear()
        self._changed()

    def __ior__(self, other: t.Any) -> t.Any:  # type: ignore[misc]
        self.update(other)
        return self


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


class HeaderSet:
    """A case-insensitive, ordered set of header tokens (``Allow``, ``Vary``, ...).

    Membership and removal ignore case; the items keep the case they were
    added with. ``str()`` is the header value.

    :param headers: The initial items.
    :param on_update: Called with the set after each change.
    """

    def __init__(
        self,
        headers: Iterable[str] | None = None,
        on_update: Callable[[HeaderSet], None] | None = None,
    ) -> None:
        self._headers: list[str] = []
        self._set: set[str] = set()
        self.on_update = on_update
        for header in headers or ():
            self._add(header)

    def _add(self, header: str) -> bool:
        key = header.lower()
        if key in self._set:
            return False
        self._set.add(key)
        self._headers.append(header)
        return True

    def _changed(self) -> None:
        if self.on_update is not None:
            self.on_update(self)

    def add(self, header: str) -> None:
        """Add ``header`` unless it is there (in any case)."""
        self.update((header,))

    def update(self, iterable: Iterable[str]) -> None:
        """Add every item of ``iterable`` that is not there yet."""
        if any([self._add(h) for h in iterable]):
            self._changed()

    def remove(self, header: str) -> None:
        """Remove ``header`` (any case); ``KeyError`` when missing."""
        key = header.lower()
        if key not in self._set:
            raise KeyError(header)
        self._set.remove(key)
        self._headers = [h for h in self._headers if h.lower() != key]
        self._changed()

    def discard(self, header: str) -> None:
        """Remove ``header`` (any case) if it is there."""
        try:
            self.remove(header)
        except KeyError:
            pass

    def find(self, header: str) -> int:
        """The index of ``header`` (any case), or ``-1``."""
        key = header.lower()
        for index, item in enumerate(self._headers):
            if item.lower() == key:
                return index
        return -1

    def index(self, header: str) -> int:
        """The index of ``header`` (any case); ``IndexError`` when missing."""
        index = self.find(header)
        if index < 0:
            raise IndexError(header)
        return index

    def clear(self) -> None:
        """Remove every item."""
        self._set.clear()
        self._headers.clear()
        self._changed()

    def as_set(self, preserve_casing: bool = False) -> set[str]:
        """The items as a ``set``, lowercased unless ``preserve_casing``."""
        return set(self._headers) if preserve_casing else set(self._set)

    def to_header(self) -> str:
        """The header value: the items, comma-separated, quoted where needed."""
        return dump_header(self._headers)

    def __getitem__(self, index: int) -> str:
        return self._headers[index]

    def __delitem__(self, index: int) -> None:
        header = self._headers.pop(index)
        self._set.discard(header.lower())
        self._changed()

    def __setitem__(self, index: int, header: str) -> None:
        old = self._headers[index]
        self._set.discard(old.lower())
        self._headers[index] = header
        self._set.add(header.lower())
        self._changed()

    def __contains__(self, header: object) -> bool:
        return isinstance(header, str) and header.lower() in self._set

    def __len__(self) -> int:
        return len(self._set)

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __bool__(self) -> bool:
        return bool(self._set)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HeaderSet):
            return self._set == other._set
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._headers!r})"


class cache_control_property:  # noqa: N801 - Werkzeug's name
    """A ``Cache-Control`` directive as a property of a cache-control dict.

    :param key: The directive (``"max-age"``).
    :param empty: The value when the directive is there without a value;
        ``None`` for directives whose value is required.
    :param type: ``bool`` for flag directives (``True`` when present;
        setting a false value removes it); a converter such as ``int`` for
        valued ones (an unconvertible value reads as ``None``); ``None`` for
        the text as it is.
    """

    def __init__(self, key: str, empty: t.Any, type: t.Any, *, doc: str | None = None) -> None:  # noqa: A002
        self.key = key
        self.empty = empty
        self.type = type
        self.__doc__ = doc or f"The ``{key}`` directive."

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: t.Any, owner: type | None = None) -> t.Any:
        if obj is None:
            return self
        if self.key not in obj:
            return False if self.type is bool else None
        if self.type is bool:
            return True
        value = obj[self.key]
        if value is None:
            return self.empty
        if self.type is not None:
            try:
                return self.type(value)
            except (ValueError, TypeError):
                return None
        return value

    def __set__(self, obj: t.Any, value: t.Any) -> None:
        if self.type is bool:
            if value:
                obj[self.key] = None
            else:
                obj.pop(self.key, None)
        elif value is None or value is False:
            obj.pop(self.key, None)
        elif value is True:
            obj[self.key] = None
        else:
            obj[self.key] = str(value if self.type is None else self.type(value))

    def __delete__(self, obj: t.Any) -> None:
        obj.pop(self.key, None)


class _CacheControl(UpdateDictMixin):
    """A parsed ``Cache-Control`` header: a dict of directives with properties."""

    no_store = cache_control_property("no-store", None, bool)
    max_age = cache_control_property("max-age", None, int)
    no_transform = cache_control_property("no-transform", None, bool)
    stale_if_error = cache_control_property("stale-if-error", None, int)

    def __init__(
        self,
        values: t.Mapping[str, t.Any] | Iterable[tuple[str, t.Any]] | None = None,
        on_update: Callable[[t.Any], None] | None = None,
    ) -> None:
        dict.__init__(self, values or ())
        self.on_update = on_update

    def to_header(self) -> str:
        """The ``Cache-Control`` header value."""
        return dump_header(self)

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        pairs = " ".join(f"{k}={v!r}" for k, v in sorted(self.items()))
        return f"<{type(self).__name__} {pairs}>"


class RequestCacheControl(ImmutableDictMixin, _CacheControl):  # type: ignore[misc]
    """A request's ``Cache-Control`` header, read-only."""

    no_cache = cache_control_property("no-cache", None, bool)
    max_stale = cache_control_property("max-stale", True, int)
    min_fresh = cache_control_property("min-fresh", None, int)
    only_if_cached = cache_control_property("only-if-cached", None, bool)


class ResponseCacheControl(_CacheControl):
    """A response's ``Cache-Control`` header; setting a property changes the dict."""

    no_cache = cache_control_property("no-cache", True, None)
    public = cache_control_property("public", None, bool)
    private = cache_control_property("private", True, None)
    must_revalidate = cache_control_property("must-revalidate", None, bool)
    proxy_revalidate = cache_control_property("proxy-revalidate", None, bool)
    s_maxage = cache_control_property("s-maxage", None, int)
    immutable = cache_control_property("immutable", None, bool)
    must_understand = cache_control_property("must-understand", None, bool)
    stale_while_revalidate = cache_control_property("stale-while-revalidate", None, int)


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
