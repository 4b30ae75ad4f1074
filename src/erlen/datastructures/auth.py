"""The ``Authorization`` and ``WWW-Authenticate`` headers, parsed.

.. versionadded:: 0.1
"""

from __future__ import annotations

import base64
import binascii
import typing as t

from ..http import dump_header, parse_dict_header, quote_header_value

if t.TYPE_CHECKING:  # pragma: no cover
    from typing import Self

__all__ = ["Authorization", "WWWAuthenticate"]


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
                    + quote_header_value(value, allow_token=key not in _always_quoted_auth_params)
                )

        return f"{scheme} {', '.join(params)}"

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()}>"
