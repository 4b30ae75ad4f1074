"""Converters: the ``<converter:name>`` part of a rule, text to value and back.

:class:`BaseConverter` and the built-in converters, and
:data:`DEFAULT_CONVERTERS`, the registry a :class:`~erlen.routing.Map`
starts with. A converter knows nothing of rules or matching: it has a regex,
a weight, and the two conversions.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
import typing as t
from urllib.parse import quote

if t.TYPE_CHECKING:
    import uuid

    from .map import Map

__all__ = [
    "AnyConverter",
    "BaseConverter",
    "DEFAULT_CONVERTERS",
    "FloatConverter",
    "IntegerConverter",
    "NumberConverter",
    "PathConverter",
    "UUIDConverter",
    "UnicodeConverter",
    "ValidationError",
]

# Left unescaped in built paths: RFC 3986 "pchar" punctuation, plus "/" so
# path values keep their slashes.
_PATH_SAFE = "!$&'()*+,/:;=@"


class ValidationError(ValueError):
    """Raised by :meth:`BaseConverter.to_python` to reject a value its regex
    accepted: the rule does not match, and matching goes on with the next
    candidate. Raised by :meth:`BaseConverter.to_url`, it makes building skip
    the rule.

    NOTE: the matcher treats any :class:`ValueError` from ``to_python`` the
    same way, so converters may call parsers like ``int`` or
    ``date.fromisoformat`` directly.

    .. versionadded:: 0.1
    """


class BaseConverter:
    """Base class of the converters named in rule placeholders.

    A converter has a :attr:`regex` that a URL part must fully match, turns
    the matched text into a value (:meth:`to_python`) and back
    (:meth:`to_url`). Register subclasses in :attr:`Map.converters` before
    adding rules that use them.

    :param map: The map of the rule using the converter.
    :param args: Positional arguments from the placeholder, as in
        ``<name(1, "x"):var>``; ignored here.
    :param kwargs: Keyword arguments from the placeholder; ignored here.

    .. versionadded:: 0.1
    """

    #: The regular expression a value must fully match.
    regex: str = "[^/]+"
    #: Converters with lower weights are tried first.
    weight: int = 100
    #: Whether values never contain ``/``: such converters match one path
    #: segment, others the rest of the path. A subclass setting :attr:`regex`
    #: but not this gets ``False`` if the regex contains ``/``.
    part_isolating: bool = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        if "regex" in cls.__dict__ and "part_isolating" not in cls.__dict__:
            cls.part_isolating = "/" not in cls.regex

    def __init__(self, map: Map, *args: t.Any, **kwargs: t.Any) -> None:
        self.map = map

    def to_python(self, value: str) -> t.Any:
        """Convert matched text to the value passed to the view.

        :param value: The text matched by :attr:`regex`.
        :return: The value; here, the text unchanged.
        :raises ValidationError: If the rule must not match after all.
        """
        return value

    def to_url(self, value: t.Any) -> str:
        """Convert a value to quoted text for a built URL.

        :param value: The value given to ``url_for``.
        :return: ``str(value)``, percent-quoted for a URL path.
        :raises ValueError: If the value cannot be represented.
        """
        return quote(str(value), safe=_PATH_SAFE)


class UnicodeConverter(BaseConverter):
    """The default converter (``default``, ``string``): text without ``/``.

    :param map: The map of the rule.
    :param minlength: The minimum length.
    :param maxlength: The maximum length, or ``None`` for no limit.
    :param length: An exact length, overriding the two others.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        map: Map,
        minlength: int = 1,
        maxlength: int | None = None,
        length: int | None = None,
    ) -> None:
        super().__init__(map)
        if length is not None:
            self.regex = f"[^/]{{{int(length)}}}"
        else:
            upper = "" if maxlength is None else int(maxlength)
            self.regex = f"[^/]{{{int(minlength)},{upper}}}"


class AnyConverter(BaseConverter):
    """Matches one of the given items: ``<any(about, "help me"):page>``.

    :param map: The map of the rule.
    :param items: The accepted values.
    :raises ValueError: If no items are given.

    .. versionadded:: 0.1
    """

    def __init__(self, map: Map, *items: t.Any) -> None:
        super().__init__(map)
        if not items:
            raise ValueError("the 'any' converter needs at least one item")
        self.items = tuple(str(item) for item in items)
        self.regex = f"(?:{'|'.join(re.escape(item) for item in self.items)})"

    def to_url(self, value: t.Any) -> str:
        """Quote *value*, which must be one of the items.

        :raises ValueError: If it is not.
        """
        if str(value) not in self.items:
            raise ValueError(f"{value!r} is not one of {', '.join(self.items)}")
        return super().to_url(value)


class PathConverter(BaseConverter):
    """Like the default converter, but slashes are allowed (not leading).

    Tried after the part-isolating converters (weight 200).

    .. versionadded:: 0.1
    """

    regex = "[^/].*?"
    weight = 200


class NumberConverter(BaseConverter):
    """Base of :class:`IntegerConverter` and :class:`FloatConverter`.

    :param map: The map of the rule.
    :param fixed_digits: If non-zero, the exact number of characters (with
        leading zeros); built URLs are zero-padded to it.
    :param min: The minimum value.
    :param max: The maximum value.
    :param signed: Accept a leading ``-``.

    .. versionadded:: 0.1
    """

    weight = 50
    #: Turns matched text, or a value to build, into a number.
    num_convert: t.Callable[[t.Any], t.Any] = int

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: t.Any = None,
        max: t.Any = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map)
        if signed:
            self.regex = f"-?{self.regex}"
        self.fixed_digits = fixed_digits
        self.min = min
        self.max = max
        self.signed = signed

    def to_python(self, value: str) -> t.Any:
        """Convert the text, checking length and bounds.

        :raises ValidationError: If a check fails.
        """
        if self.fixed_digits and len(value) != self.fixed_digits:
            raise ValidationError()
        try:
            number = self.num_convert(value)
        except ValueError:  # NOTE: int() refuses over 4300 digits
            raise ValidationError() from None
        if (self.min is not None and number < self.min) or (
            self.max is not None and number > self.max
        ):
            raise ValidationError()
        return number

    def to_url(self, value: t.Any) -> str:
        """Format the number, zero-padded to ``fixed_digits``.

        :raises ValueError: If the value is not a number.
        """
        return str(self.num_convert(value)).zfill(self.fixed_digits)


class IntegerConverter(NumberConverter):
    """Matches integers (``int``); negative ones only with ``signed=True``.

    NOTE: only ASCII digits: ``\\d`` and :func:`int` also accept other
    scripts' digits such as ``٤٢``.

    .. versionadded:: 0.1
    """

    regex = "[0-9]+"


class FloatConverter(NumberConverter):
    """Matches floats written with ASCII digits and a dot, like ``1.5``.

    :param map: The map of the rule.
    :param min: The minimum value.
    :param max: The maximum value.
    :param signed: Accept a leading ``-``.

    .. versionadded:: 0.1
    """

    regex = r"[0-9]+\.[0-9]+"
    num_convert = float

    def __init__(
        self,
        map: Map,
        min: float | None = None,
        max: float | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, min=min, max=max, signed=signed)


class UUIDConverter(BaseConverter):
    """Matches a hex UUID with dashes; the value is a :class:`uuid.UUID`.

    .. versionadded:: 0.1
    """

    regex = "[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}"

    def to_python(self, value: str) -> uuid.UUID:
        """Parse the text as a UUID."""
        import uuid  # PERF: lazy; only apps with uuid rules pay for it

        return uuid.UUID(value)

    def to_url(self, value: t.Any) -> str:
        """Format the UUID (any value, with :func:`str`)."""
        return str(value)


#: The converters a :class:`Map` starts with, by placeholder name.
#:
#: .. versionadded:: 0.1
DEFAULT_CONVERTERS: dict[str, type[BaseConverter]] = {
    "default": UnicodeConverter,
    "string": UnicodeConverter,
    "any": AnyConverter,
    "path": PathConverter,
    "int": IntegerConverter,
    "float": FloatConverter,
    "uuid": UUIDConverter,
}
