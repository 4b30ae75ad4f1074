"""Response and request headers.

:class:`Headers` is the ordered, case-insensitive header list of a response;
:class:`EnvironHeaders` is a zero-copy, read-only view of the headers in a
WSGI environ. These sit on the per-request path, so the hot methods are
written for speed; such code is marked ``# PERF:``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Iterable, Iterator, Mapping

from ..exceptions import BadRequestKeyError
from ..http import quote_header_value
from .structures import MultiDict, _immutable_error, _missing, iter_multi_items

if t.TYPE_CHECKING:  # pragma: no cover
    from typing import Self

__all__ = ["EnvironHeaders", "Headers"]

T = t.TypeVar("T")


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
        raise ValueError(f"Header names must not contain CR, LF or NUL characters: {key!r}.")

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

    def getlist(self, key: str, type: Callable[[str], t.Any] | None = None) -> list[t.Any]:
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

    def getlist(self, key: str, type: Callable[[str], t.Any] | None = None) -> list[t.Any]:
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
