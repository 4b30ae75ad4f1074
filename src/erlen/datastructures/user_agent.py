"""The ``User-Agent`` header.

.. versionadded:: 0.1
"""

from __future__ import annotations

__all__ = ["UserAgent"]


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
