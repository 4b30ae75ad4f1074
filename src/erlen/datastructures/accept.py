"""The ``Accept``, ``Accept-Language`` and ``Accept-Charset`` headers, parsed.

.. versionadded:: 0.1
"""

from __future__ import annotations

import codecs
import re
import typing as t
from collections.abc import Iterable, Iterator
from functools import lru_cache

from .structures import _immutable_error

__all__ = ["Accept", "CharsetAccept", "LanguageAccept", "MIMEAccept"]


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

    def __init__(self, values: Accept | Iterable[tuple[str, float]] | None = ()) -> None:
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
    def best_match(self, matches: Iterable[str], default: str | None = None) -> str | None:
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
    def best_match(self, matches: Iterable[str], default: str | None = None) -> str | None:
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
