"""The ``Cache-Control`` header as a dict of directives with properties.

A request's (:attr:`erlen.Request.cache_control`) is read-only; a
response's (:attr:`erlen.Response.cache_control`) writes itself back to the
header when changed. Imported on first use of either property.

.. versionadded:: 0.1
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Iterable

from ..http import dump_header
from .mixins import ImmutableDictMixin, UpdateDictMixin

__all__ = [
    "RequestCacheControl",
    "ResponseCacheControl",
    "cache_control_property",
]


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
