"""Dict and list mixins: immutable containers and dicts that report changes.

:class:`UpdateDictMixin` calls ``on_update`` after each change, which is
how a parsed header (``Cache-Control``, ``Content-Security-Policy``) written
through its properties updates the response's header; the ``Immutable*``
mixins make a container refuse changes, as a request's parsed headers do.

.. versionadded:: 0.1
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Iterable

__all__ = [
    "ImmutableDictMixin",
    "ImmutableHeadersMixin",
    "ImmutableListMixin",
    "ImmutableMultiDictMixin",
    "UpdateDictMixin",
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
