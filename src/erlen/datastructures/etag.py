"""The ``If-Match`` and ``If-None-Match`` headers: a set of entity tags.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..http import unquote_etag

__all__ = ["ETags"]


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
