"""Containers for request and response data.

:class:`MultiDict` and friends hold form data, query arguments and cookies,
where a key may repeat. :class:`Headers` is the ordered, case-insensitive
header list of a response; :class:`EnvironHeaders` is a zero-copy, read-only
view of the headers in a WSGI environ. The remaining classes are parsed
forms of specific headers (``Accept*``, ``Authorization``,
``WWW-Authenticate``, ``If-Match``/``If-None-Match``, ``User-Agent``).

These classes sit on the per-request path, so the hot methods are written
for speed; such code is marked ``# PERF:``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import base64
import binascii
import codecs
import copy
import re
import typing as t
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache

# exceptions imports http too; http imports neither of these modules at
# import time, so the three can be imported in any order without a cycle.
from .exceptions import BadRequestKeyError
from .http import (
    dump_header,
    parse_dict_header,
    quote_header_value,
    unquote_etag,
)

if t.TYPE_CHECKING:  # pragma: no cover
    from typing import Self

__all__ = [
    "Accept",
    "Authorization",
    "CallbackDict",
    "CharsetAccept",
    "CombinedMultiDict",
    "ETags",
    "EnvironHeaders",
    "Headers",
    "ImmutableMultiDict",
    "LanguageAccept",
    "MIMEAccept",
    "MultiDict",
    "UserAgent",
    "WWWAuthenticate",
    "iter_multi_items",
]

K = t.TypeVar("K")
V = t.TypeVar("V")
T = t.TypeVar("T")

# Marks "no default given" where None is a valid default.
_missing: t.Any = object()

# PERF: unbound dict methods called directly skip attribute lookup through
# the subclass (and our own overrides of the same names).
# They are typed loosely on purpose: MultiDict's storage (lists of values)
# differs from its public dict[K, V] interface.
_dict_getitem: Callable[[t.Any, t.Any], t.Any] = dict.__getitem__
_dict_get: Callable[..., t.Any] = dict.get
_dict_setitem: Callable[[t.Any, t.Any, t.Any], None] = dict.__setitem__
_dict_update: Callable[[t.Any, t.Any], None] = dict.update
_dict_items: Callable[[t.Any], Iterable[tuple[t.Any, t.Any]]] = dict.items
_dict_values: Callable[[t.Any], Iterable[t.Any]] = dict.values
_dict_pop: Callable[..., t.Any] = dict.pop
_dict_popitem: Callable[[t.Any], tuple[t.Any, t.Any]] = dict.popitem


def iter_multi_items(
    mapping: MultiDict[K, V]
    | Mapping[K, V | list[V] | tuple[V, ...] | set[V]]
    | Iterable[tuple[K, V]],
) -> Iterator[tuple[K, V]]:
    """Iterate over the ``(key, value)`` pairs of multi-value data.

    A :class:`MultiDict` yields every value of every key. For another mapping,
    a list, tuple or set value yields one pair per item and any other value a
    single pair. Anything else is taken to be an iterable of pairs (a
    :class:`Headers` object qualifies).

    :param mapping: The data to iterate over.
    :return: An iterator of pairs.

    .. versionadded:: 0.1
    """
    if isinstance(mapping, MultiDict):
        yield from mapping.items(multi=True)
    elif isinstance(mapping, Mapping):
        for key, value in mapping.items():
            if isinstance(value, (list, tuple, set)):
                for item in value:
                    yield key, item
            else:
                yield key, value
    else:
        yield from mapping


def _immutable_error(obj: object) -> TypeError:
    return TypeError(f"{type(obj).__name__!r} objects are immutable")


# ==========================================================================
# Multi-value dicts
# ==========================================================================


class MultiDict(dict[K, V]):
    """A dict that can hold several values per key.

    Form fields, query arguments and cookies may all repeat a key, yet most
    code wants just one value. A :class:`MultiDict` stores a list of values
    per key and answers ordinary dict access with the *first* value, while
    :meth:`getlist`, :meth:`add` and the other ``*list`` methods work with
    all of them::

        >>> d = MultiDict([("a", "1"), ("a", "2"), ("b", "3")])
        >>> d["a"], d.getlist("a")
        ('1', ['1', '2'])

    A missing key raises :exc:`~erlen.exceptions.BadRequestKeyError`, which
    is a :exc:`KeyError` that an unhandled view error turns into a 400
    response (``request.form["x"]`` for a missing field is the client's
    fault). ``dict(d)`` gives the first value of each key; use
    :meth:`to_dict` with ``flat=False`` for all of them.

    :param mapping: Initial data: another :class:`MultiDict`, a mapping (a
        list, tuple or set value gives several values, an empty one none), or
        an iterable of ``(key, value)`` pairs.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        mapping: MultiDict[K, V]
        | Mapping[K, V | list[V] | tuple[V, ...] | set[V]]
        | Iterable[tuple[K, V]]
        | None = None,
    ) -> None:
        if mapping is None:
            return

        if isinstance(mapping, MultiDict):
            # lists() copies, so the two objects never share value lists.
            _dict_update(self, mapping.lists())
        elif mapping.__class__ is dict or isinstance(mapping, Mapping):
            for key, value in mapping.items():
                if isinstance(value, (list, tuple, set)):
                    if value:
                        _dict_setitem(self, key, list(value))
                else:
                    _dict_setitem(self, key, [value])
        else:
            # PERF: group into a plain dict first; one bulk update is much
            # cheaper than calling back into this subclass per pair.
            grouped: dict[K, list[V]] = {}

            for key, value in mapping:
                if key in grouped:
                    grouped[key].append(value)
                else:
                    grouped[key] = [value]

            _dict_update(self, grouped)

    @classmethod
    def _from_lists(cls, data: dict[K, list[V]]) -> Self:
        """Build an instance that takes ownership of ``data``'s lists.

        PERF: for the parsers in :mod:`erlen.http`, which build exactly this
        structure; skips the per-key copying of the constructor. Subclasses
        with their own ``__init__`` still go through it.
        """
        if cls.__init__ is MultiDict.__init__:
            rv = cls.__new__(cls)
            _dict_update(rv, data)
            return rv

        return cls(data)

    # PERF: these are the most called methods of the class (every
    # request.args / request.form / request.cookies read). One C-level dict
    # lookup; the exception handler costs nothing unless the key is missing.
    def __getitem__(self, key: K) -> V:
        """Return the first value for ``key``.

        :param key: The key to look up.
        :return: The first value stored for the key.
        :raises BadRequestKeyError: If the key is missing (a :exc:`KeyError`
            that becomes a 400 response when not handled).
        """
        try:
            return _dict_getitem(self, key)[0]  # type: ignore[no-any-return]
        except (KeyError, IndexError):
            raise BadRequestKeyError(key) from None

    def __setitem__(self, key: K, value: V) -> None:
        """Set ``key`` to the single value ``value``, replacing any others.

        :param key: The key to set.
        :param value: The new (only) value.
        """
        _dict_setitem(self, key, [value])

    def __iter__(self) -> Iterator[K]:
        """Iterate over the keys.

        Defined (rather than inherited) on purpose: CPython copies a dict
        subclass's raw storage in ``dict(d)`` and ``{**d}`` unless ``__iter__``
        is overridden, which would expose the internal value lists.

        :return: An iterator over the keys.
        """
        return dict.__iter__(self)

    def get(
        self,
        key: K,
        default: t.Any = None,
        type: Callable[[V], t.Any] | None = None,
    ) -> t.Any:
        """Return the first value for ``key``, or ``default``.

        With ``type``, the value is passed through that callable and the
        result returned; if it raises :exc:`ValueError` or :exc:`TypeError`
        the value counts as missing and ``default`` is returned. That makes
        ``request.args.get("page", 1, type=int)`` safe against bad input.

        :param key: The key to look up.
        :param default: Returned when the key is missing or conversion fails.
        :param type: A callable to convert the value with.
        :return: The (converted) value or ``default``.
        """
        values = _dict_get(self, key)

        if not values:
            return default

        if type is None:
            return values[0]

        try:
            return type(values[0])
        except (ValueError, TypeError):
            return default

    def getlist(
        self, key: K, type: Callable[[V], T] | None = None
    ) -> list[t.Any]:
        """Return all values for ``key`` as a new list.

        With ``type``, each value is converted with that callable; values for
        which it raises :exc:`ValueError` or :exc:`TypeError` are left out.

        :param key: The key to look up.
        :param type: A callable to convert each value with.
        :return: The values, or an empty list if the key is missing.
        """
        values: list[V] | None = _dict_get(self, key)

        if values is None:
            return []

        if type is None:
            return list(values)

        result = []

        for value in values:
            try:
                result.append(type(value))
            except (ValueError, TypeError):
                pass

        return result

    def add(self, key: K, value: V) -> None:
        """Append ``value`` to the values of ``key``.

        :param key: The key to add a value for.
        :param value: The value to append.
        """
        values: list[V] | None = _dict_get(self, key)

        if values is None:
            _dict_setitem(self, key, [value])
        else:
            values.append(value)

    def setlist(self, key: K, new_list: Iterable[V]) -> None:
        """Replace the values of ``key`` with the items of ``new_list``.

        :param key: The key to set.
        :param new_list: The new values (copied into a new list).
        """
        _dict_setitem(self, key, list(new_list))

    def setdefault(self, key: K, default: V | None = None) -> V:
        """Return the first value for ``key``, first setting it to ``default``
        if the key has no value.

        :param key: The key to look up.
        :param default: The value to store if the key has none.
        :return: The first value for the key.
        """
        values: list[V] | None = _dict_get(self, key)

        if values is None:
            _dict_setitem(self, key, [default])
            return default  # type: ignore[return-value]

        if not values:
            values.append(default)  # type: ignore[arg-type]

        return values[0]

    def setlistdefault(
        self, key: K, default_list: Iterable[V] | None = None
    ) -> list[V]:
        """Return the live list of values for ``key``, creating it if needed.

        Unlike :meth:`getlist`, the returned list is the stored one, so
        appending to it adds values to the dict.

        :param key: The key to look up.
        :param default_list: The initial values if the key is missing.
        :return: The stored list of values.
        """
        values: list[V] | None = _dict_get(self, key)

        if values is None:
            values = list(default_list or ())
            _dict_setitem(self, key, values)

        return values

    def items(self, multi: bool = False) -> Iterator[tuple[K, V]]:  # type: ignore[override]
        """Iterate over ``(key, value)`` pairs.

        :param multi: Yield a pair for every value instead of only the first
            value of each key.
        :return: An iterator of pairs.
        """
        for key, values in _dict_items(self):
            values = t.cast("list[V]", values)

            if multi:
                for value in values:
                    yield key, value
            elif values:
                yield key, values[0]

    def lists(self) -> Iterator[tuple[K, list[V]]]:
        """Iterate over ``(key, values)`` pairs, each ``values`` a new list.

        :return: An iterator of pairs.
        """
        for key, values in _dict_items(self):
            yield key, list(t.cast("list[V]", values))

    def values(self) -> Iterator[V]:  # type: ignore[override]
        """Iterate over the first value of each key.

        :return: An iterator of values.
        """
        for values in _dict_values(self):
            values = t.cast("list[V]", values)

            if values:
                yield values[0]

    def listvalues(self) -> Iterator[list[V]]:
        """Iterate over the value lists (copies), one per key.

        :return: An iterator of lists.
        """
        for values in _dict_values(self):
            yield list(t.cast("list[V]", values))

    def to_dict(self, flat: bool = True) -> dict[K, t.Any]:
        """Return the data as a plain dict.

        :param flat: Map each key to its first value. If false, map each key
            to a list of all its values.
        :return: A new dict.
        """
        if flat:
            return dict(self.items())

        return dict(self.lists())

    def update(  # type: ignore[override]
        self,
        mapping: MultiDict[K, V]
        | Mapping[K, V | list[V] | tuple[V, ...] | set[V]]
        | Iterable[tuple[K, V]]
        | None = None,
        /,
        **kwargs: V,
    ) -> None:
        """Add the values from ``mapping`` and ``kwargs``.

        Unlike :meth:`dict.update`, existing values are kept: new values are
        appended, as with :meth:`add`.

        :param mapping: Data in any form the constructor accepts.
        :param kwargs: More keys and values.
        """
        if mapping is not None:
            for key, value in iter_multi_items(mapping):
                self.add(key, value)

        for name, value in kwargs.items():
            self.add(name, value)  # type: ignore[arg-type]

    def __or__(self, other: t.Any) -> MultiDict[K, V]:  # type: ignore[override]
        if not isinstance(other, Mapping):
            return NotImplemented

        result = MultiDict(self)
        result.update(other)
        return result

    def __ior__(self, other: t.Any) -> Self:  # type: ignore[override]
        if not isinstance(other, (Mapping, Iterable)):
            return NotImplemented

        self.update(other)
        return self

    def pop(self, key: K, default: t.Any = _missing) -> t.Any:
        """Remove ``key`` and return its first value.

        :param key: The key to remove.
        :param default: Returned if the key is missing.
        :return: The first value of the key, or ``default``.
        :raises BadRequestKeyError: If the key is missing and no default was
            given.
        """
        try:
            values: list[V] = _dict_pop(self, key)
        except KeyError:
            if default is not _missing:
                return default

            raise BadRequestKeyError(key) from None

        if values:
            return values[0]

        if default is not _missing:
            return default

        raise BadRequestKeyError(key)

    def popitem(self) -> tuple[K, V]:
        """Remove a key and return it with its first value.

        :return: ``(key, first_value)``.
        :raises BadRequestKeyError: If the dict is empty.
        """
        try:
            key, values = _dict_popitem(self)
        except KeyError:
            raise BadRequestKeyError() from None

        values = t.cast("list[V]", values)

        if not values:
            raise BadRequestKeyError(key)

        return key, values[0]

    def poplist(self, key: K) -> list[V]:
        """Remove ``key`` and return all its values.

        :param key: The key to remove.
        :return: The values, or an empty list if the key was missing.
        """
        return t.cast("list[V]", _dict_pop(self, key, []))

    def popitemlist(self) -> tuple[K, list[V]]:
        """Remove a key and return it with all its values.

        :return: ``(key, values)``.
        :raises BadRequestKeyError: If the dict is empty.
        """
        try:
            return t.cast("tuple[K, list[V]]", _dict_popitem(self))
        except KeyError:
            raise BadRequestKeyError() from None

    def copy(self) -> MultiDict[K, V]:
        """Return a shallow copy (value lists are copied, values are not).

        :return: A new object of the same class.
        """
        return self.__class__(self)

    def deepcopy(self, memo: dict[int, t.Any] | None = None) -> MultiDict[K, V]:
        """Return a deep copy: the values are copied too.

        :param memo: The :func:`copy.deepcopy` memo dict.
        :return: A new object of the same class.
        """
        return self.__class__(copy.deepcopy(self.to_dict(flat=False), memo))

    def __copy__(self) -> MultiDict[K, V]:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, t.Any]) -> MultiDict[K, V]:
        return self.deepcopy(memo)

    def __reduce_ex__(self, protocol: t.SupportsIndex) -> tuple[t.Any, ...]:
        # Pickle as "call the class with all pairs": the default dict
        # pickling would feed the internal lists through __setitem__, and
        # immutable subclasses could not be restored at all.
        return (self.__class__, (list(self.items(multi=True)),))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.items(multi=True))!r})"


class ImmutableMultiDict(MultiDict[K, V]):
    """A read-only :class:`MultiDict`, used for parsed request data.

    Every mutating method raises :exc:`TypeError`. Instances are hashable.
    :meth:`copy` returns a mutable :class:`MultiDict`.

    .. versionadded:: 0.1
    """

    def _immutable(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        """Not supported: this object is read-only.

        :raises TypeError: Always.
        """
        raise _immutable_error(self)

    __setitem__ = __delitem__ = add = setlist = setdefault = _immutable
    setlistdefault = update = pop = popitem = poplist = popitemlist = _immutable
    clear = __ior__ = _immutable

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items(multi=True)))

    def copy(self) -> MultiDict[K, V]:
        """Return a mutable :class:`MultiDict` with the same data.

        :return: A new :class:`MultiDict`.
        """
        return MultiDict(self)

    def __copy__(self) -> Self:
        # Immutable, so a copy would be indistinguishable.
        return self


class CombinedMultiDict(ImmutableMultiDict[K, V]):
    """A read-only view over several :class:`MultiDict` objects.

    Lookups go through the dicts in order: ``d[key]`` and :meth:`get` return
    the value from the first dict that has the key, while :meth:`getlist`
    concatenates the values from all of them. Keys are reported once each.
    ``request.values`` combines ``request.args`` and ``request.form`` this way.

    The view holds no data of its own, so changes to the underlying dicts
    show through.

    :param dicts: The dicts to combine, highest priority first.

    .. versionadded:: 0.1
    """

    def __init__(self, dicts: Iterable[MultiDict[K, V]] | None = None) -> None:
        super().__init__()
        self.dicts: list[MultiDict[K, V]] = list(dicts or ())

    def __reduce_ex__(self, protocol: t.SupportsIndex) -> tuple[t.Any, ...]:
        return (self.__class__, (self.dicts,))

    def __getitem__(self, key: K) -> V:
        for d in self.dicts:
            values = _dict_get(d, key)

            if values:
                return values[0]  # type: ignore[no-any-return]

        raise BadRequestKeyError(key)

    def get(
        self,
        key: K,
        default: t.Any = None,
        type: Callable[[V], t.Any] | None = None,
    ) -> t.Any:
        """Return the first value for ``key`` from the first dict having it.

        A value that fails conversion with ``type`` gives ``default``; later
        dicts are not consulted then.

        :param key: The key to look up.
        :param default: Returned when the key is missing or conversion fails.
        :param type: A callable to convert the value with.
        :return: The (converted) value or ``default``.
        """
        for d in self.dicts:
            values = _dict_get(d, key)

            if values:
                if type is None:
                    return values[0]

                try:
                    return type(values[0])
                except (ValueError, TypeError):
                    return default

        return default

    def getlist(
        self, key: K, type: Callable[[V], T] | None = None
    ) -> list[t.Any]:
        """Return the values for ``key`` from all dicts, in order.

        :param key: The key to look up.
        :param type: A callable to convert each value with; values it
            rejects are left out.
        :return: A new list.
        """
        result: list[t.Any] = []

        for d in self.dicts:
            result.extend(d.getlist(key, type))

        return result

    def _unique_keys(self) -> dict[K, None]:
        keys: dict[K, None] = {}

        for d in self.dicts:
            keys.update(dict.fromkeys(d.keys()))

        return keys

    def keys(self) -> t.KeysView[K]:  # type: ignore[override]
        """Return the keys of all dicts, each once, in first-seen order.

        :return: A keys view.
        """
        return self._unique_keys().keys()

    def __iter__(self) -> Iterator[K]:
        return iter(self._unique_keys())

    def __len__(self) -> int:
        return len(self._unique_keys())

    def __contains__(self, key: object) -> bool:
        return any(key in d for d in self.dicts)

    def __bool__(self) -> bool:
        return any(self.dicts)

    def items(self, multi: bool = False) -> Iterator[tuple[K, V]]:  # type: ignore[override]
        """Iterate over ``(key, value)`` pairs.

        :param multi: Yield every value of every dict instead of the first
            value of each key.
        :return: An iterator of pairs.
        """
        if multi:
            for d in self.dicts:
                yield from d.items(multi=True)
        else:
            for key in self._unique_keys():
                yield key, self[key]

    def lists(self) -> Iterator[tuple[K, list[V]]]:
        """Iterate over ``(key, values)``, each with the values of all dicts.

        :return: An iterator of pairs.
        """
        for key in self._unique_keys():
            yield key, self.getlist(key)

    def values(self) -> Iterator[V]:  # type: ignore[override]
        """Iterate over the first value of each key.

        :return: An iterator of values.
        """
        for key in self._unique_keys():
            yield self[key]

    def listvalues(self) -> Iterator[list[V]]:
        """Iterate over the combined value lists of each key.

        :return: An iterator of lists.
        """
        for key in self._unique_keys():
            yield self.getlist(key)

    def to_dict(self, flat: bool = True) -> dict[K, t.Any]:
        """Return the combined data as a plain dict.

        :param flat: Map each key to its first value. If false, map each key
            to a list of all its values.
        :return: A new dict.
        """
        if flat:
            return dict(self.items())

        return dict(self.lists())

    def copy(self) -> MultiDict[K, V]:
        """Return a mutable :class:`MultiDict` holding the combined data.

        :return: A new :class:`MultiDict`.
        """
        return MultiDict(self)

    def __copy__(self) -> Self:
        return self.__class__(self.dicts)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return self.to_dict(flat=False) == other.to_dict(flat=False)

        if isinstance(other, Mapping):
            return self.to_dict(flat=False) == dict(other)

        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dicts!r})"


class CallbackDict(dict[K, V]):
    """A dict that reports its own changes.

    After every change (setting, deleting, updating, popping, clearing) the
    ``on_update`` callable is called with the dict. Sessions use this to know
    whether they must be saved.

    :param initial: Initial contents, as for :class:`dict`.
    :param on_update: Called with the dict after each change.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        initial: Mapping[K, V] | Iterable[tuple[K, V]] | None = None,
        on_update: Callable[[CallbackDict[K, V]], None] | None = None,
    ) -> None:
        if initial is None:
            super().__init__()
        else:
            super().__init__(initial)

        self.on_update = on_update

    def _changed(self) -> None:
        if self.on_update is not None:
            self.on_update(self)

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: K) -> None:
        super().__delitem__(key)
        self._changed()

    def clear(self) -> None:
        """Remove every item, then report the change."""
        super().clear()
        self._changed()

    def popitem(self) -> tuple[K, V]:
        """Remove and return the last inserted item, then report the change.

        :return: The ``(key, value)`` pair.
        :raises KeyError: If the dict is empty.
        """
        item = super().popitem()
        self._changed()
        return item

    def pop(self, key: K, default: t.Any = _missing) -> t.Any:
        """Remove ``key`` and return its value; report only if it existed.

        :param key: The key to remove.
        :param default: Returned if the key is missing.
        :return: The value or ``default``.
        :raises KeyError: If the key is missing and no default was given.
        """
        if key in self:
            value = super().pop(key)
            self._changed()
            return value

        if default is _missing:
            raise KeyError(key)

        return default

    def setdefault(self, key: K, default: t.Any = None) -> t.Any:
        """Return the value of ``key``, setting it to ``default`` if missing.

        The change is reported only if the key was added.

        :param key: The key to look up.
        :param default: The value to store if the key is missing.
        :return: The existing or stored value.
        """
        if key in self:
            return self[key]

        super().__setitem__(key, default)
        self._changed()
        return default

    def update(self, *args: t.Any, **kwargs: V) -> None:
        """Update like :meth:`dict.update`, then report the change.

        :param args: A mapping or an iterable of pairs.
        :param kwargs: More keys and values.
        """
        super().update(*args, **kwargs)
        self._changed()

    def __ior__(self, other: t.Any) -> Self:  # type: ignore[override,misc]
        self.update(other)
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"


# ==========================================================================
# Headers
# ==========================================================================


def _plain_header(key: t.Any, value: t.Any) -> bool:
    """Whether a name and value are str, printable ASCII: then nothing needs
    checking; anything else (tabs included) goes through :func:`_header_value`."""
    # PERF: four C-level tests; CR, LF and NUL are not printable.
    return (
        value.__class__ is str
        and key.__class__ is str
        and value.isascii()
        and value.isprintable()
        and key.isprintable()
    )


def _header_value(key: str, value: t.Any) -> str:
    """Convert a header value to str and reject header injection.

    A CR or LF in a name or value would end the header line early and let
    whoever controls the text add headers or a body of their own (response
    splitting); NUL is rejected by servers and proxies inconsistently. All
    three are refused outright rather than stripped, so the bug is noticed.
    """
    if value.__class__ is not str:
        value = str(value)

    # PERF: three substring tests are about twice as fast as a regex search.
    if "\n" in value or "\r" in value or "\0" in value:
        raise ValueError(
            f"Header values must not contain CR, LF or NUL characters (header"
            f" {key!r}); this prevents header injection."
        )

    if not value.isascii():
        # PEP 3333 (and HTTP itself) carry header values as latin-1 bytes; a
        # character outside it would fail later, in the server, as a 500.
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(
                f"Header values must be latin-1 text (header {key!r}); encode other"
                " characters first, e.g. with percent-encoding or RFC 8187."
            ) from None

    if key.__class__ is not str and not isinstance(key, str):
        raise TypeError(f"Header names must be str, not {type(key).__name__}.")

    if "\n" in key or "\r" in key or "\0" in key:
        raise ValueError(
            f"Header names must not contain CR, LF or NUL characters: {key!r}."
        )

    return value  # type: ignore[no-any-return]


def _with_params(value: t.Any, params: dict[str, t.Any]) -> str:
    """Append ``; key=value`` parameters, the way ``Headers.add`` documents."""
    parts = [str(value)]

    for name, param in params.items():
        # Python names cannot contain "-", so "filename_star" style
        # spellings stand for the header's dashed names.
        name = name.replace("_", "-")

        if param is None:
            parts.append(name)
        elif name[-1] == "*":
            parts.append(f"{name}={param}")
        else:
            parts.append(f"{name}={quote_header_value(param)}")

    return "; ".join(parts)


class Headers:
    """An ordered, case-insensitive list of HTTP headers.

    Headers behave like a dict for lookups (``h["Content-Type"]``,
    ``h.get("content-type")``), but keep every ``(name, value)`` pair in
    order and allow a name to repeat, which ``Set-Cookie`` needs. Iterating
    yields the pairs.

    Values are converted with :func:`str`. A name or value containing CR, LF
    or NUL raises :exc:`ValueError` wherever it is added, because it could
    inject headers into the response. Names are assumed to come from the
    application, not from user input.

    The only state is ``_list``, a plain list of ``(str, str)`` tuples, which
    is what a WSGI server expects.

    :param defaults: Initial headers: another :class:`Headers`, a
        :class:`MultiDict`, a mapping (list, tuple or set values add the name
        several times) or an iterable of pairs.

    .. versionadded:: 0.1
    """

    __slots__ = ("_list",)

    _list: list[tuple[str, str]]

    def __init__(
        self,
        defaults: Headers
        | MultiDict[str, t.Any]
        | Mapping[str, t.Any]
        | Iterable[tuple[str, t.Any]]
        | None = None,
    ) -> None:
        self._list = []

        if defaults is not None:
            self.extend(defaults)

    # -- reading ------------------------------------------------------------

    @t.overload
    def __getitem__(self, key: str) -> str: ...
    @t.overload
    def __getitem__(self, key: int) -> tuple[str, str]: ...
    @t.overload
    def __getitem__(self, key: slice) -> Headers: ...
    def __getitem__(self, key: str | int | slice) -> str | tuple[str, str] | Headers:
        """Return the first value for a name, or the pair(s) at an index.

        :param key: A header name (case-insensitive), an index or a slice.
        :return: The value, the ``(name, value)`` pair, or a new
            :class:`Headers` for a slice.
        :raises BadRequestKeyError: If there is no header with that name
            (a :exc:`KeyError`).
        """
        if key.__class__ is str:
            lowered = key.lower()

            # PERF: code nearly always asks with the spelling that set the
            # header, so the cheap exact comparison usually short-circuits
            # the lower() call.
            for name, value in self._list:
                if name == key or name.lower() == lowered:
                    return value

            raise BadRequestKeyError(key)

        if isinstance(key, slice):
            rv = Headers.__new__(Headers)
            rv._list = self._list[key]
            return rv

        if isinstance(key, int):
            return self._list[key]

        if isinstance(key, str):
            return self[str(key)]

        raise BadRequestKeyError(key)

    def get(
        self,
        key: str,
        default: t.Any = None,
        type: Callable[[str], t.Any] | None = None,
    ) -> t.Any:
        """Return the first value for a header name, or ``default``.

        With ``type``, the value is converted with that callable; if it raises
        :exc:`ValueError` or :exc:`TypeError`, ``default`` is returned
        instead (``h.get("Content-Length", type=int)``).

        :param key: The header name, in any case.
        :param default: Returned when the header is missing or conversion
            fails.
        :param type: A callable to convert the value with.
        :return: The (converted) value or ``default``.
        """
        lowered = key.lower()

        # PERF: same search as __getitem__, inlined.
        for name, value in self._list:  # noqa: B007 - the match is used after the loop
            if name == key or name.lower() == lowered:
                break
        else:
            return default

        if type is None:
            return value

        try:
            return type(value)
        except (ValueError, TypeError):
            return default

    def getlist(
        self, key: str, type: Callable[[str], t.Any] | None = None
    ) -> list[t.Any]:
        """Return all values for a header name, in order.

        With ``type``, each value is converted; values that fail conversion
        (:exc:`ValueError` or :exc:`TypeError`) are left out.

        :param key: The header name, in any case.
        :param type: A callable to convert each value with.
        :return: The values (an empty list if the header is missing).
        """
        lowered = key.lower()
        values = [v for k, v in self._list if k.lower() == lowered]

        if type is None:
            return values

        result = []

        for value in values:
            try:
                result.append(type(value))
            except (ValueError, TypeError):
                pass

        return result

    def get_all(self, name: str) -> list[str]:
        """Return all values for a header name (:mod:`wsgiref` spelling of
        :meth:`getlist`).

        :param name: The header name.
        :return: The values.
        """
        return self.getlist(name)

    def __contains__(self, key: object) -> bool:
        """Tell whether a header with this name (in any case) is present."""
        if not isinstance(key, str):
            return False

        lowered = key.lower()

        for name, _ in self._list:
            if name == key or name.lower() == lowered:
                return True

        return False

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """Iterate over the ``(name, value)`` pairs."""
        return iter(self._list)

    def __len__(self) -> int:
        return len(self._list)

    def __bool__(self) -> bool:
        return bool(self._list)

    def keys(self, lower: bool = False) -> Iterator[str]:
        """Iterate over the names (repeated names repeat).

        :param lower: Lower-case the names.
        :return: An iterator of names.
        """
        if lower:
            return (k.lower() for k, _ in self._list)

        return (k for k, _ in self._list)

    def values(self) -> Iterator[str]:
        """Iterate over the values, in order.

        :return: An iterator of values.
        """
        return (v for _, v in self._list)

    def items(self, lower: bool = False) -> Iterator[tuple[str, str]]:
        """Iterate over the ``(name, value)`` pairs.

        :param lower: Lower-case the names.
        :return: An iterator of pairs.
        """
        if lower:
            return ((k.lower(), v) for k, v in self._list)

        return iter(list(self._list))

    def to_wsgi_list(self) -> list[tuple[str, str]]:
        """Return the headers as a new list of ``(name, value)`` tuples, the
        form WSGI's ``start_response`` takes.

        :return: A list of pairs.
        """
        return list(self._list)

    def copy(self) -> Headers:
        """Return a copy that can be changed independently.

        :return: A new headers object of the same class.
        """
        # PERF: the values were validated when added; just copy the list.
        rv = self.__class__.__new__(self.__class__)
        rv._list = list(self._list)
        return rv

    def __copy__(self) -> Headers:
        return self.copy()

    def _grouped(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}

        for name, value in self._list:
            grouped.setdefault(name.lower(), []).append(value)

        return grouped

    def __eq__(self, other: object) -> bool:
        """Compare as HTTP does: names case-insensitively, the order of
        different names ignored, the order of a repeated name's values kept."""
        if not isinstance(other, Headers):
            return NotImplemented

        return self._grouped() == other._grouped()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._list)!r})"

    def __str__(self) -> str:
        """Return the headers as an HTTP/1.1 header block, ending with the
        blank line."""
        return "".join([f"{k}: {v}\r\n" for k, v in self._list]) + "\r\n"

    # -- writing ------------------------------------------------------------

    def add(self, key: str, value: t.Any, /, **params: t.Any) -> None:
        """Append a header, keeping any others with the same name.

        Keyword arguments become ``; name=value`` parameters of the value,
        with ``_`` in names written as ``-``; values are quoted when needed
        and a ``None`` value writes the bare name::

            h.add("Content-Disposition", "attachment", filename="a b.txt")
            # Content-Disposition: attachment; filename="a b.txt"

        :param key: The header name.
        :param value: The header value (converted with :func:`str`).
        :param params: Parameters to append to the value.
        :raises ValueError: If the name or value contains CR, LF or NUL.
        """
        if params:
            value = _with_params(value, params)

        if not _plain_header(key, value):
            value = _header_value(key, value)

        self._list.append((key, value))

    def add_header(self, key: str, value: t.Any, /, **params: t.Any) -> None:
        """Same as :meth:`add` (the :mod:`wsgiref` name).

        :param key: The header name.
        :param value: The header value.
        :param params: Parameters to append to the value.
        """
        self.add(key, value, **params)

    def set(self, key: str, value: t.Any, /, **params: t.Any) -> None:
        """Set a header, replacing every other header with that name.

        The first existing header of that name is replaced in place (so the
        header keeps its position) and later ones are removed; if there is
        none, the header is appended. ``params`` work as for :meth:`add`.

        :param key: The header name.
        :param value: The header value (converted with :func:`str`).
        :param params: Parameters to append to the value.
        :raises ValueError: If the name or value contains CR, LF or NUL.
        """
        if params:
            value = _with_params(value, params)

        if not _plain_header(key, value):
            value = _header_value(key, value)

        items = self._list
        lowered = key.lower()

        for index, (name, _) in enumerate(items):
            if name.lower() == lowered:
                items[index] = (key, value)
                tail = items[index + 1 :]

                if tail:
                    items[index + 1 :] = [i for i in tail if i[0].lower() != lowered]

                return

        items.append((key, value))

    def setlist(self, key: str, values: Iterable[t.Any]) -> None:
        """Replace all headers of a name with one header per value.

        The first value takes the place of the first existing header (see
        :meth:`set`), the rest are appended. An empty ``values`` removes the
        header.

        :param key: The header name.
        :param values: The new values.
        :raises ValueError: If the name or any value contains CR, LF or NUL
            (nothing is changed then).
        """
        checked = [_header_value(key, value) for value in values]

        if not checked:
            self.remove(key)
            return

        self.set(key, checked[0])

        for value in checked[1:]:
            self._list.append((key, value))

    def setdefault(self, key: str, default: t.Any) -> str:
        """Return the first value for a name, adding ``default`` if missing.

        :param key: The header name.
        :param default: The value to add when the header is missing.
        :return: The existing or newly added value.
        """
        value: str | None = self.get(key)

        if value is None:
            value = _header_value(key, default)
            self._list.append((key, value))

        return value

    def setlistdefault(self, key: str, default: Iterable[t.Any]) -> list[str]:
        """Return all values for a name, first setting them to ``default`` if
        the header is missing.

        Unlike :meth:`MultiDict.setlistdefault`, the returned list is a copy;
        changing it does not change the headers.

        :param key: The header name.
        :param default: The values to set when the header is missing.
        :return: The values.
        """
        if key not in self:
            self.setlist(key, default)

        return self.getlist(key)

    def extend(
        self,
        arg: Headers
        | MultiDict[str, t.Any]
        | Mapping[str, t.Any]
        | Iterable[tuple[str, t.Any]]
        | None = None,
        /,
        **kwargs: t.Any,
    ) -> None:
        """Add headers, keeping existing ones (use :meth:`update` to replace).

        :param arg: Headers in any form the constructor accepts.
        :param kwargs: More headers (list, tuple or set values add several).
        :raises ValueError: If a name or value contains CR, LF or NUL
            (nothing is added then).
        """
        new: list[tuple[str, str]] = []

        if arg is not None:
            if isinstance(arg, Headers) and arg.__class__ is Headers:
                # Already validated.
                new.extend(arg._list)
            else:
                for key, value in iter_multi_items(arg):
                    new.append((key, _header_value(key, value)))

        for key, value in iter_multi_items(kwargs):
            new.append((key, _header_value(key, value)))

        self._list.extend(new)

    def update(
        self,
        arg: Headers
        | MultiDict[str, t.Any]
        | Mapping[str, t.Any]
        | Iterable[tuple[str, t.Any]]
        | None = None,
        /,
        **kwargs: t.Any,
    ) -> None:
        """Replace headers: each name given replaces all existing headers of
        that name (see :meth:`setlist`); other headers are kept.

        A name given several times (repeated pairs, a list value, a
        :class:`MultiDict` key with several values) gets all those values.

        :param arg: Headers in any form the constructor accepts.
        :param kwargs: More headers.
        :raises ValueError: If a name or value contains CR, LF or NUL.
        """
        grouped: dict[str, tuple[str, list[t.Any]]] = {}

        def collect(source: t.Any) -> None:
            for key, value in iter_multi_items(source):
                lowered = key.lower()

                if lowered in grouped:
                    grouped[lowered][1].append(value)
                else:
                    grouped[lowered] = (key, [value])

        if arg is not None:
            collect(arg)

        collect(kwargs)

        for key, values in grouped.values():
            self.setlist(key, values)

    def __or__(self, other: t.Any) -> Headers:
        if not isinstance(other, (Mapping, Headers)):
            return NotImplemented

        rv = self.copy()
        rv.update(other)
        return rv

    def __ior__(self, other: t.Any) -> Self:
        if not isinstance(other, (Mapping, Iterable)):
            return NotImplemented

        self.update(other)
        return self

    @t.overload
    def __setitem__(self, key: str, value: t.Any) -> None: ...
    @t.overload
    def __setitem__(self, key: int, value: tuple[str, t.Any]) -> None: ...
    @t.overload
    def __setitem__(self, key: slice, value: Iterable[tuple[str, t.Any]]) -> None: ...
    def __setitem__(self, key: str | int | slice, value: t.Any) -> None:
        """Set a header by name (like :meth:`set`), or replace the pair at an
        index or slice.

        :raises ValueError: If a name or value contains CR, LF or NUL.
        """
        if isinstance(key, str):
            self.set(key, value)
        elif isinstance(key, slice):
            self._list[key] = [(k, _header_value(k, v)) for k, v in value]
        else:
            name, item = value
            self._list[key] = (name, _header_value(name, item))

    def remove(self, key: str) -> None:
        """Remove every header with this name (no error if there is none).

        :param key: The header name, in any case.
        """
        lowered = key.lower()
        self._list[:] = [item for item in self._list if item[0].lower() != lowered]

    def __delitem__(self, key: str | int | slice) -> None:
        """Remove all headers with a name, or the pair(s) at an index or
        slice."""
        if isinstance(key, str):
            self.remove(key)
        else:
            del self._list[key]

    @t.overload
    def pop(self) -> tuple[str, str]: ...
    @t.overload
    def pop(self, key: int) -> tuple[str, str]: ...
    @t.overload
    def pop(self, key: str, default: t.Any = ...) -> t.Any: ...
    def pop(self, key: str | int | None = None, default: t.Any = _missing) -> t.Any:
        """Remove a header and return it.

        :param key: A header name: remove all headers of that name and return
            the first value. An index: remove and return that pair. ``None``:
            remove and return the last pair.
        :param default: Returned if a named header is missing.
        :return: The value or the pair.
        :raises BadRequestKeyError: If a named header is missing and no
            default was given.
        """
        if key is None:
            return self._list.pop()

        if isinstance(key, int):
            return self._list.pop(key)

        value = self.get(key, _missing)

        if value is _missing:
            if default is _missing:
                raise BadRequestKeyError(key)

            return default

        self.remove(key)
        return value

    def popitem(self) -> tuple[str, str]:
        """Remove and return the last ``(name, value)`` pair.

        :return: The pair.
        :raises KeyError: If there are no headers.
        """
        try:
            return self._list.pop()
        except IndexError:
            raise KeyError("popitem(): headers are empty") from None

    def clear(self) -> None:
        """Remove all headers."""
        self._list.clear()


# PERF: header name -> WSGI environ key ("Content-Type" -> "CONTENT_TYPE",
# "X-Foo" -> "HTTP_X_FOO"). Apps ask for the same few names all the time;
# bounded so names coming from user input cannot grow it without limit.
_environ_keys: dict[str, str] = {}
_ENVIRON_KEYS_MAX = 512


def _environ_key(name: str) -> str:
    if not isinstance(name, str):
        # Unhashable or odd keys never name a header. NUL cannot be in a key.
        return "\0"

    key = name.upper().replace("-", "_")

    if key != "CONTENT_TYPE" and key != "CONTENT_LENGTH":
        key = "HTTP_" + key

    if len(_environ_keys) < _ENVIRON_KEYS_MAX:
        _environ_keys[name] = key

    return key


class EnvironHeaders(Headers):
    """A read-only :class:`Headers` view of the headers in a WSGI environ.

    The environ is not copied: lookups translate the header name to its
    environ key (``"X-Api-Key"`` to ``HTTP_X_API_KEY``, ``Content-Type`` and
    ``Content-Length`` to ``CONTENT_TYPE`` and ``CONTENT_LENGTH``) and read
    it directly. Iteration yields ``("Title-Case-Name", value)`` pairs.
    WSGI servers often set ``CONTENT_TYPE``/``CONTENT_LENGTH`` to an empty
    string when the request had no such header, so empty values of those two
    count as absent. All mutating methods raise :exc:`TypeError`; :meth:`copy`
    returns a mutable :class:`Headers`.

    :param environ: The WSGI environ.

    .. versionadded:: 0.1
    """

    __slots__ = ("environ",)

    def __init__(self, environ: Mapping[str, t.Any]) -> None:
        # Deliberately no super().__init__(): _list is computed from environ.
        self.environ = environ

    @property
    def _list(self) -> list[tuple[str, str]]:  # type: ignore[override]
        # The whole read API of Headers works from this list; only the hot
        # lookups below read the environ directly.
        items = []

        for key, value in self.environ.items():
            if key[:5] == "HTTP_":
                # Some servers duplicate these as HTTP_*; the CGI names win.
                if key != "HTTP_CONTENT_TYPE" and key != "HTTP_CONTENT_LENGTH":
                    items.append((key[5:].replace("_", "-").title(), value))
            elif (key == "CONTENT_TYPE" or key == "CONTENT_LENGTH") and value:
                items.append((key.replace("_", "-").title(), value))

        return items

    def _lookup(self, key: t.Any) -> str | None:
        # PERF: one dict hit for the name translation, one for the value.
        env_key = _environ_keys.get(key) if key.__class__ is str else None

        if env_key is None:
            env_key = _environ_key(key)

        value: str | None = self.environ.get(env_key)

        # Empty CONTENT_* values mean "not sent" (HTTP_* keys start with H).
        if not value and env_key[0] == "C":
            return None

        return value

    @t.overload
    def __getitem__(self, key: str) -> str: ...
    @t.overload
    def __getitem__(self, key: int) -> tuple[str, str]: ...
    @t.overload
    def __getitem__(self, key: slice) -> Headers: ...
    def __getitem__(self, key: str | int | slice) -> str | tuple[str, str] | Headers:
        if isinstance(key, (int, slice)):
            return super().__getitem__(key)

        value = self._lookup(key)

        if value is None:
            raise BadRequestKeyError(key)

        return value

    def get(
        self,
        key: str,
        default: t.Any = None,
        type: Callable[[str], t.Any] | None = None,
    ) -> t.Any:
        """Return the value of a header, or ``default``.

        :param key: The header name, in any case.
        :param default: Returned when the header is missing (or an empty
            ``Content-Type``/``Content-Length``) or conversion fails.
        :param type: A callable to convert the value with.
        :return: The (converted) value or ``default``.
        """
        # PERF: _lookup() inlined; this is the most called header method.
        env_key = _environ_keys.get(key) if key.__class__ is str else None

        if env_key is None:
            env_key = _environ_key(key)

        value: str | None = self.environ.get(env_key)

        if value is None or (not value and env_key[0] == "C"):
            return default

        if type is None:
            return value

        try:
            return type(value)
        except (ValueError, TypeError):
            return default

    def getlist(
        self, key: str, type: Callable[[str], t.Any] | None = None
    ) -> list[t.Any]:
        """Return the values of a header.

        A WSGI server has already joined repeated headers into one value, so
        the list has at most one item.

        :param key: The header name, in any case.
        :param type: A callable to convert the value with; a value it rejects
            gives an empty list.
        :return: A new list.
        """
        value = self._lookup(key)

        if value is None:
            return []

        if type is None:
            return [value]

        try:
            return [type(value)]
        except (ValueError, TypeError):
            return []

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._lookup(key) is not None

    def __len__(self) -> int:
        return len(self._list)

    def __bool__(self) -> bool:
        return bool(self._list)

    def copy(self) -> Headers:
        """Return the headers as a new, mutable :class:`Headers`.

        :return: A :class:`Headers` object.
        """
        rv = Headers.__new__(Headers)
        rv._list = self._list
        return rv

    def __copy__(self) -> Headers:
        return self.copy()

    def __or__(self, other: t.Any) -> Headers:
        return Headers.__or__(self.copy(), other)

    def __reduce_ex__(self, protocol: t.SupportsIndex) -> tuple[t.Any, ...]:
        return (self.__class__, (self.environ,))

    def _immutable(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        """Not supported: this object is read-only.

        :raises TypeError: Always.
        """
        raise _immutable_error(self)

    add = add_header = set = setlist = setdefault = setlistdefault = _immutable
    extend = update = remove = pop = popitem = clear = _immutable
    __setitem__ = __delitem__ = __ior__ = _immutable


# ==========================================================================
# Accept headers
# ==========================================================================


class Accept(list[tuple[str, float]]):
    """The parsed value of an ``Accept``-style header.

    A list of ``(value, quality)`` pairs, sorted by quality, highest first;
    values of equal quality keep the order the client sent them in. The
    object is read-only.

    Indexing with a string returns that value's quality (``0`` when not
    accepted), and ``in`` tells whether a value is accepted at all. Matching
    follows the rules of the header: ``*`` matches anything, and subclasses
    add wildcards and normalisation for media types (:class:`MIMEAccept`),
    languages (:class:`LanguageAccept`) and charsets
    (:class:`CharsetAccept`). To choose what to send, use
    :meth:`best_match`.

    :param values: The ``(value, quality)`` pairs, or ``None`` when the
        client sent no such header (then :attr:`provided` is false).

    .. versionadded:: 0.1
    """

    #: Whether the client sent the header. An absent header usually means
    #: "anything is fine", an empty one "nothing is".
    provided: bool

    def __init__(
        self, values: Accept | Iterable[tuple[str, float]] | None = ()
    ) -> None:
        if values is None:
            super().__init__()
            self.provided = False
        elif isinstance(values, Accept):
            super().__init__(values)
            self.provided = values.provided
        else:
            # sorted() is stable, also with reverse=True: equal qualities
            # keep the client's order.
            super().__init__(sorted(values, key=_quality_of, reverse=True))
            self.provided = True

    # -- matching rules, refined by subclasses --------------------------------

    def _specificity(self, value: str) -> tuple[bool, ...]:
        """How specific an accepted value is; bigger tuples win."""
        return (value != "*",)

    def _value_matches(self, value: str, item: str) -> bool:
        """Whether ``value`` (from the server) is covered by ``item`` (from
        the client's header)."""
        return item == "*" or item.lower() == value.lower()

    def _client_match(self, value: str) -> tuple[str, float] | None:
        """Find the most specific accepted item covering ``value``.

        A more specific item decides the quality even when a wildcard has a
        higher one (``text/*;q=1, text/plain;q=0`` rejects text/plain).
        Among equally specific items, the first (highest quality) wins.
        """
        best: tuple[str, float] | None = None
        best_specificity: tuple[bool, ...] = ()

        for item, quality in self:
            if self._value_matches(value, item):
                specificity = self._specificity(item)

                if best is None or specificity > best_specificity:
                    best = (item, quality)
                    best_specificity = specificity

        return best

    # -- read API --------------------------------------------------------------

    @t.overload
    def __getitem__(self, key: str) -> float: ...
    @t.overload
    def __getitem__(self, key: t.SupportsIndex) -> tuple[str, float]: ...
    @t.overload
    def __getitem__(self, key: slice) -> list[tuple[str, float]]: ...
    def __getitem__(
        self, key: str | t.SupportsIndex | slice
    ) -> float | tuple[str, float] | list[tuple[str, float]]:
        """Return the quality of a value (for a str), or the item(s) at an
        index or slice."""
        if isinstance(key, str):
            return self.quality(key)

        return list.__getitem__(self, key)

    def quality(self, key: str) -> float:
        """Return the quality the client gives ``key``.

        The most specific matching item decides.

        :param key: The value to look up, such as ``"text/html"``.
        :return: The quality, ``0`` if the value is not accepted.
        """
        match = self._client_match(key)
        return 0 if match is None else match[1]

    def __contains__(self, value: object) -> bool:
        """Tell whether any item covers the value (quality not considered)."""
        if not isinstance(value, str):
            return list.__contains__(self, value)

        return self._covers(value)

    def _covers(self, value: str) -> bool:
        return any(self._value_matches(value, item) for item, _ in self)

    def index(self, key: str | tuple[str, float], *args: t.Any) -> int:
        """Return the position of the first item covering ``key``.

        :param key: A value, or a ``(value, quality)`` pair to find exactly.
        :return: The index.
        :raises ValueError: If nothing matches.
        """
        if isinstance(key, str):
            for index, (item, _) in enumerate(self):
                if self._value_matches(key, item):
                    return index

            raise ValueError(key)

        return list.index(self, key, *args)

    def find(self, key: str | tuple[str, float]) -> int:
        """Like :meth:`index`, but return ``-1`` when nothing matches.

        :param key: A value, or a ``(value, quality)`` pair.
        :return: The index or ``-1``.
        """
        try:
            return self.index(key)
        except ValueError:
            return -1

    def values(self) -> Iterator[str]:
        """Iterate over the accepted values, best first.

        :return: An iterator of values.
        """
        return (value for value, _ in self)

    @property
    def best(self) -> str | None:
        """The value with the highest quality, or ``None`` if empty."""
        return self[0][0] if self else None

    @t.overload
    def best_match(self, matches: Iterable[str]) -> str | None: ...
    @t.overload
    def best_match(self, matches: Iterable[str], default: str) -> str: ...
    def best_match(
        self, matches: Iterable[str], default: str | None = None
    ) -> str | None:
        """Choose which of the server's options the client likes best.

        Each option gets the quality of the most specific item covering it;
        options with quality 0 are unacceptable. The highest quality wins; on
        a tie, the option covered by the more specific item wins (the client
        named it, rather than accepting it by wildcard), and after that the
        option listed first in ``matches``.

        :param matches: The values the server can provide, in the server's
            order of preference.
        :param default: Returned when no option is acceptable.
        :return: The chosen option, or ``default``.
        """
        result = default
        best_quality = 0.0
        best_specificity: tuple[bool, ...] = ()
        found = False

        for option in matches:
            match = self._client_match(option)

            if match is None or match[1] <= 0:
                continue

            quality = match[1]
            specificity = self._specificity(match[0])

            if (
                not found
                or quality > best_quality
                or (quality == best_quality and specificity > best_specificity)
            ):
                result = option
                best_quality = quality
                best_specificity = specificity
                found = True

        return result

    def to_header(self) -> str:
        """Format the items back into a header value.

        :return: Such as ``"text/html,*/*;q=0.5"``.
        """
        return ",".join(
            value if quality == 1 else f"{value};q={quality}" for value, quality in self
        )

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"

    # -- immutability ------------------------------------------------------------

    def _immutable(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        """Not supported: this object is read-only.

        :raises TypeError: Always.
        """
        raise _immutable_error(self)

    append = extend = insert = remove = pop = clear = sort = reverse = _immutable
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _immutable

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __reduce_ex__(self, protocol: t.SupportsIndex) -> tuple[t.Any, ...]:
        return (self.__class__, (list(self) if self.provided else None,))


def _quality_of(item: tuple[str, float]) -> float:
    return item[1]


_mime_split_re = re.compile(r"/|[ \t]*;[ \t]*")


class MIMEAccept(Accept):
    """:class:`Accept` for media types (the ``Accept`` header).

    ``*/*`` covers every type and ``text/*`` every ``text`` subtype; a type
    without parameters covers that type with any parameters, while one with
    parameters only covers types that have them all. Type, subtype and
    parameters are compared case-insensitively, parameters in any order.
    The most specific item decides: with ``text/*;q=1, text/plain;q=0.5``,
    the quality of ``text/plain`` is 0.5.

    .. versionadded:: 0.1
    """

    def _specificity(self, value: str) -> tuple[bool, ...]:
        return tuple(part != "*" for part in _mime_split_re.split(value))

    def _value_matches(self, value: str, item: str) -> bool:
        # The client's item may be garbage; it then matches nothing.
        if "/" not in item:
            return False

        # The server's value comes from the application: fail loudly.
        if "/" not in value:
            raise ValueError(f"Invalid media type {value!r}: expected 'type/subtype'.")

        value_type, value_sub, *value_params = _mime_split_re.split(value.lower())

        if value_type == "*" and value_sub != "*":
            raise ValueError(f"Invalid media type {value!r}: '*/subtype' is not allowed.")

        item_type, item_sub, *item_params = _mime_split_re.split(item.lower())

        if item_type == "*":
            # "*/*" accepts anything; "*/html" is not a valid range.
            return item_sub == "*"

        if value_type == "*":
            return True

        if item_type != value_type:
            return False

        if item_sub == "*" or value_sub == "*":
            return True

        # A range without parameters covers the type with any parameters; a
        # range with parameters only covers types that have all of them
        # (RFC 9110 section 12.5.1: "text/html" gives "text/html;level=3" its
        # quality).
        return item_sub == value_sub and set(item_params) <= set(value_params)

    @property
    def accept_html(self) -> bool:
        """Whether the client accepts HTML (``text/html`` or XHTML)."""
        return self._covers("text/html") or self.accept_xhtml

    @property
    def accept_xhtml(self) -> bool:
        """Whether the client accepts XHTML (or generic XML)."""
        return self._covers("application/xhtml+xml") or self._covers("application/xml")

    @property
    def accept_json(self) -> bool:
        """Whether the client accepts JSON."""
        return self._covers("application/json")


_language_split_re = re.compile(r"[_-]")


def _language_parts(value: str) -> list[str]:
    return _language_split_re.split(value.lower())


def _primary_language(value: str) -> str:
    return _language_split_re.split(value, maxsplit=1)[0]


class LanguageAccept(Accept):
    """:class:`Accept` for language tags (``Accept-Language``).

    Tags compare case-insensitively with ``-`` and ``_`` treated alike
    (``en-US`` equals ``en_us``).

    .. versionadded:: 0.1
    """

    def _value_matches(self, value: str, item: str) -> bool:
        return item == "*" or _language_parts(value) == _language_parts(item)

    @t.overload
    def best_match(self, matches: Iterable[str]) -> str | None: ...
    @t.overload
    def best_match(self, matches: Iterable[str], default: str) -> str: ...
    def best_match(
        self, matches: Iterable[str], default: str | None = None
    ) -> str | None:
        """Choose the best supported language, falling back on primary tags.

        An exact match is tried first (see :meth:`Accept.best_match`). Then,
        if the client accepts ``en-US`` and the server offers ``en``, ``en``
        is chosen. Last, if the client accepts ``en`` and the server only
        offers ``en-GB``, ``en-GB`` is chosen. Only the primary subtag is ever
        dropped, so ``en-US`` never falls back to ``en-GB``. The chosen value
        is returned exactly as listed in ``matches``.

        :param matches: The languages the server supports, preferred first.
        :param default: Returned when nothing matches.
        :return: The chosen language, or ``default``.
        """
        options = list(matches)
        result = super().best_match(options)

        if result is not None:
            return result

        # The client's tags reduced to their primary subtag ("en-US" -> "en"),
        # compared exactly against the options.
        client_primary = Accept([(_primary_language(v), q) for v, q in self])
        result = client_primary.best_match(options)

        if result is not None:
            return result

        # The options reduced to their primary subtag, compared against the
        # client's tags; map the winner back to the first full option.
        primaries = [_primary_language(option) for option in options]
        result = super().best_match(primaries)

        if result is not None:
            return options[primaries.index(result)]

        return default


@lru_cache(maxsize=128)
def _charset_name(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


class CharsetAccept(Accept):
    """:class:`Accept` for charsets (``Accept-Charset``).

    Names are compared by the codec they denote, so ``utf-8``, ``UTF8``
    and ``utf_8`` are equal.

    .. versionadded:: 0.1
    """

    def _value_matches(self, value: str, item: str) -> bool:
        return item == "*" or _charset_name(value) == _charset_name(item)


# ==========================================================================
# Authentication
# ==========================================================================


class _AuthParams:
    """What :class:`Authorization` and :class:`WWWAuthenticate` share: a
    scheme, a token or auth-params, and item/attribute access to the params."""

    type: str
    parameters: dict[str, str | None]
    token: str | None

    def __getattr__(self, name: str) -> str | None:
        # Only called for names not found normally. Private names and our
        # own attribute (missing while unpickling) are never parameters.
        if name[:1] == "_" or name == "parameters":
            raise AttributeError(name)

        return self.parameters.get(name)

    def __getitem__(self, key: str) -> str | None:
        return self.parameters.get(key)

    def get(self, key: str, default: str | None = None) -> str | None:
        """Return a parameter, or ``default``.

        :param key: The parameter name.
        :param default: Returned if missing.
        :return: The value.
        """
        return self.parameters.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.parameters

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented

        return (self.type, self.token, self.parameters) == (
            other.type,
            other.token,
            other.parameters,
        )

    __hash__ = None  # type: ignore[assignment]


class Authorization(_AuthParams):
    """The parsed ``Authorization`` request header.

    :attr:`type` is the lower-cased scheme (``"basic"``, ``"bearer"``,
    ``"digest"``...). Depending on the scheme, either :attr:`parameters`
    (``key=value`` auth-params) or :attr:`token` (a single opaque string) is
    set. ``Basic`` credentials are decoded into the ``username`` and
    ``password`` parameters. Parameters can also be read as attributes or
    items (``auth.realm``, ``auth["realm"]``).

    :param auth_type: The scheme, in any case.
    :param data: The auth-params.
    :param token: The token, for token schemes.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        auth_type: str,
        data: dict[str, str | None] | None = None,
        token: str | None = None,
    ) -> None:
        self.type = auth_type.lower()
        self.parameters: dict[str, str | None] = {} if data is None else data
        self.token = token

    @property
    def data(self) -> dict[str, str | None]:
        """The same dict as :attr:`parameters`."""
        return self.parameters

    @property
    def username(self) -> str | None:
        """The ``username`` parameter (set for ``Basic``)."""
        return self.parameters.get("username")

    @property
    def password(self) -> str | None:
        """The ``password`` parameter (set for ``Basic``)."""
        return self.parameters.get("password")

    @classmethod
    def from_header(cls, value: str | None) -> Self | None:
        """Parse an ``Authorization`` header value.

        ``Basic`` credentials are base64-decoded and split at the first
        ``:``; they are read as UTF-8, or as ISO-8859-1 when they are not
        valid UTF-8 (what older clients send). Other schemes are read as
        auth-params when the credentials contain a ``key=value`` pair, and as
        a token (``Bearer abc``) otherwise.

        :param value: The header value, or ``None``.
        :return: The parsed header, or ``None`` if the value is empty or the
            ``Basic`` credentials are malformed.
        """
        if not value:
            return None

        scheme, _, rest = value.strip().partition(" ")
        scheme = scheme.lower()
        rest = rest.strip()

        if not scheme:
            return None

        if scheme == "basic":
            if not rest:
                return None

            try:
                raw = base64.b64decode(rest, validate=True)
            except (binascii.Error, ValueError):
                return None

            try:
                text = raw.decode()
            except UnicodeDecodeError:
                text = raw.decode("latin-1")

            username, _, password = text.partition(":")
            return cls(scheme, {"username": username, "password": password})

        # An "=" that is not just base64 padding means auth-params.
        if "=" in rest.rstrip("="):
            return cls(scheme, parse_dict_header(rest))

        return cls(scheme, None, rest)

    def to_header(self) -> str:
        """Format the credentials as an ``Authorization`` header value.

        :return: Such as ``"Basic dXNlcjpwYXNz"`` or ``"Bearer abc"``.
        """
        if self.type == "basic":
            credentials = f"{self.username or ''}:{self.password or ''}"
            encoded = base64.b64encode(credentials.encode()).decode("ascii")
            return f"Basic {encoded}"

        if self.token is not None:
            return f"{self.type.title()} {self.token}"

        return f"{self.type.title()} {dump_header(self.parameters)}"

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()}>"


# Parameters that RFC 7235 / RFC 7616 require to be sent as quoted strings.
_always_quoted_auth_params = frozenset(("realm", "domain", "nonce", "opaque", "qop"))


class WWWAuthenticate(_AuthParams):
    """A ``WWW-Authenticate`` challenge, sent with a 401 response.

    :attr:`type` is the lower-cased scheme; :attr:`parameters` holds the
    auth-params (``realm`` and so on) and :attr:`token` a token for token
    schemes. Parameters can also be read, set and deleted as attributes or
    items (``challenge.realm = "Login"``, ``challenge["realm"]``); setting
    one to ``None`` removes it.

    :param auth_type: The scheme, such as ``"basic"``, in any case.
    :param values: The auth-params.
    :param token: A token, instead of parameters.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        auth_type: str,
        values: dict[str, str | None] | None = None,
        token: str | None = None,
    ) -> None:
        self.type = auth_type.lower()
        self.parameters: dict[str, str | None] = dict(values or {})
        self.token = token

    # Attribute names that are the object's own; any other public attribute
    # name stands for a parameter.
    _own_attributes = frozenset(("type", "parameters", "token"))

    def __setattr__(self, name: str, value: t.Any) -> None:
        if name in self._own_attributes or name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self[name] = value

    def __delattr__(self, name: str) -> None:
        if name in self._own_attributes or name.startswith("_"):
            object.__delattr__(self, name)
        else:
            del self[name]

    def __setitem__(self, key: str, value: str | None) -> None:
        if value is None:
            self.parameters.pop(key, None)
        else:
            self.parameters[key] = value

    def __delitem__(self, key: str) -> None:
        self.parameters.pop(key, None)

    @classmethod
    def from_header(cls, value: str | None) -> Self | None:
        """Parse a ``WWW-Authenticate`` header value (a single challenge).

        :param value: The header value, or ``None``.
        :return: The challenge, or ``None`` if the value is empty.
        """
        if not value:
            return None

        scheme, _, rest = value.strip().partition(" ")
        rest = rest.strip()

        if not scheme:
            return None

        if "=" in rest.rstrip("="):
            return cls(scheme, parse_dict_header(rest))

        return cls(scheme, None, rest or None)

    def to_header(self) -> str:
        """Format the challenge as a ``WWW-Authenticate`` header value.

        ``realm``, ``domain``, ``nonce``, ``opaque`` and ``qop`` are always
        quoted, as the RFCs require and as some clients insist on; other
        parameters only when needed.

        :return: Such as ``'Basic realm="Login"'``.
        """
        scheme = self.type.title()

        if self.token is not None:
            return f"{scheme} {self.token}"

        if not self.parameters:
            return scheme

        params = []

        for key, value in self.parameters.items():
            if value is None:
                params.append(key)
            else:
                params.append(
                    f"{key}="
                    + quote_header_value(
                        value, allow_token=key not in _always_quoted_auth_params
                    )
                )

        return f"{scheme} {', '.join(params)}"

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()}>"


# ==========================================================================
# Entity tags
# ==========================================================================


class ETags:
    """A set of entity tags from an ``If-Match`` or ``If-None-Match`` header.

    Strong and weak tags are kept apart; a ``*`` header gives a star tag
    that contains every tag. ``tag in etags`` checks the strong tags (or the
    star).

    :param strong_etags: Strong tags (unquoted).
    :param weak_etags: Weak tags (unquoted, without ``W/``).
    :param star_tag: The header was ``*``.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        strong_etags: Iterable[str] | None = None,
        weak_etags: Iterable[str] | None = None,
        star_tag: bool = False,
    ) -> None:
        # With a star, individual strong tags are meaningless.
        self._strong = frozenset(() if star_tag else strong_etags or ())
        self._weak = frozenset(weak_etags or ())
        self.star_tag = star_tag

    def as_set(self, include_weak: bool = False) -> set[str]:
        """Return the tags as a new set.

        :param include_weak: Include the weak tags too.
        :return: The strong (and maybe weak) tags.
        """
        result = set(self._strong)

        if include_weak:
            result.update(self._weak)

        return result

    def is_weak(self, etag: str) -> bool:
        """Tell whether ``etag`` is one of the weak tags.

        :param etag: The unquoted tag.
        :return: Whether it is listed as weak.
        """
        return etag in self._weak

    def is_strong(self, etag: str) -> bool:
        """Tell whether ``etag`` is one of the strong tags.

        :param etag: The unquoted tag.
        :return: Whether it is listed as strong.
        """
        return etag in self._strong

    def contains(self, etag: str) -> bool:
        """Tell whether ``etag`` matches a strong tag or the star.

        :param etag: The unquoted tag.
        :return: Whether it matches (strong comparison).
        """
        return self.star_tag or etag in self._strong

    def contains_weak(self, etag: str) -> bool:
        """Tell whether ``etag`` matches any tag, weak ones included.

        :param etag: The unquoted tag.
        :return: Whether it matches (weak comparison).
        """
        return etag in self._weak or self.contains(etag)

    def contains_raw(self, etag: str) -> bool:
        """Check a tag as sent (quoted, maybe ``W/``-prefixed).

        A weak tag is compared weakly, a strong one strongly.

        :param etag: The quoted tag.
        :return: Whether it matches.
        """
        value, weak = unquote_etag(etag)

        if value is None:
            return self.star_tag

        return self.contains_weak(value) if weak else self.contains(value)

    def to_header(self) -> str:
        """Format the tags as a header value.

        :return: ``"*"`` or the quoted tags, strong ones first.
        """
        if self.star_tag:
            return "*"

        return ", ".join(
            [f'"{tag}"' for tag in sorted(self._strong)]
            + [f'W/"{tag}"' for tag in sorted(self._weak)]
        )

    def __contains__(self, etag: object) -> bool:
        return isinstance(etag, str) and self.contains(etag)

    def __iter__(self) -> Iterator[str]:
        return iter(self._strong)

    def __len__(self) -> int:
        return len(self._strong)

    def __bool__(self) -> bool:
        return bool(self.star_tag or self._strong or self._weak)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ETags):
            return NotImplemented

        return (self.star_tag, self._strong, self._weak) == (
            other.star_tag,
            other._strong,
            other._weak,
        )

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"


# ==========================================================================
# User agent
# ==========================================================================


class UserAgent:
    """The ``User-Agent`` request header.

    Erlen does not guess the browser or platform from the string (such
    guesses go stale quickly); :attr:`platform`, :attr:`browser`,
    :attr:`version` and :attr:`language` are ``None``. Subclass and fill them
    in if you need parsing.

    :param string: The header value.

    .. versionadded:: 0.1
    """

    platform: str | None = None
    browser: str | None = None
    version: str | None = None
    language: str | None = None

    def __init__(self, string: str) -> None:
        self.string = string

    def to_header(self) -> str:
        """Return the header value.

        :return: The original string.
        """
        return self.string

    def __str__(self) -> str:
        return self.string

    def __bool__(self) -> bool:
        return bool(self.browser or self.string)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UserAgent):
            return NotImplemented

        return self.string == other.string

    def __hash__(self) -> int:
        return hash(self.string)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.string!r}>"


def __getattr__(name: str) -> t.Any:
    # FileStorage lives in formparser (it needs the upload machinery), but
    # Werkzeug users look for it here; import it on first use.
    if name == "FileStorage":
        from .formparser import FileStorage

        return FileStorage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
