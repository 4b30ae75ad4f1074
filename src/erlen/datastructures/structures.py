"""Dicts where a key may repeat, and a dict that reports changes.

:class:`MultiDict` (and its immutable and combined forms) holds form data,
query arguments and cookies; :class:`CallbackDict` calls a function whenever
it is modified (the session uses it).

.. versionadded:: 0.1
"""

from __future__ import annotations

import copy
import typing as t
from collections.abc import Callable, Iterable, Iterator, Mapping

# exceptions imports http too; http imports neither of these modules at
# import time, so the three can be imported in any order without a cycle.
from ..exceptions import BadRequestKeyError
from ..http import dump_header

if t.TYPE_CHECKING:  # pragma: no cover
    from typing import Self

__all__ = [
    "HeaderSet",
    "CallbackDict",
    "CombinedMultiDict",
    "ImmutableMultiDict",
    "MultiDict",
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

    def getlist(self, key: K, type: Callable[[V], T] | None = None) -> list[t.Any]:
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

    def setlistdefault(self, key: K, default_list: Iterable[V] | None = None) -> list[V]:
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

    def getlist(self, key: K, type: Callable[[V], T] | None = None) -> list[t.Any]:
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

    def __copy__(self) -> MultiDict[K, V]:  # type: ignore[override]
        # As in Werkzeug, copy.copy() is copy(): a mutable MultiDict of the
        # data (privacyidea copies request.values so, then changes the copy).
        return self.copy()

    def deepcopy(self, memo: dict[int, t.Any] | None = None) -> MultiDict[K, V]:
        """Return a mutable :class:`MultiDict` holding a deep copy of the combined data.

        :param memo: The :func:`copy.deepcopy` memo dict.
        :return: A new :class:`MultiDict`.
        """
        return MultiDict(copy.deepcopy(self.to_dict(flat=False), memo))

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
