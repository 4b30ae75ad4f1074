"""URL routing: rules, converters, and a sans-I/O matcher and builder.

A :class:`Map` holds :class:`Rule` objects. :meth:`Map.match` turns a decoded
request path (plus method, domain and WebSocket flag) into the matched rule
and its converted arguments; :meth:`Map.build` does the reverse for
``url_for``. Neither touches a request object, so the app (WSGI or ASGI)
decides where paths and hosts come from. :meth:`Map.bind` returns a small
:class:`MapAdapter` that offers the familiar bound ``match``/``build`` API.

How matching stays fast (see :meth:`Map.update`):

* Rules are compiled once, lazily, on the first match or build after rules
  were added.
* A rule without variables is found with one dict lookup keyed by
  ``(domain, path)``.
* Other rules live in a segment trie: the path is split once on ``/`` and
  each segment follows a static dict transition first, then the node's
  dynamic edges (one precompiled regex each) in weight order, backtracking
  on failure. The cost depends on the depth of the path, not on the number
  of rules.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
import threading
import typing as t
import uuid
from urllib.parse import quote
from urllib.parse import urljoin

from .exceptions import BuildError
from .exceptions import MethodNotAllowed
from .exceptions import NotFound
from .exceptions import RequestRedirect

__all__ = [
    "AnyConverter",
    "BaseConverter",
    "DEFAULT_CONVERTERS",
    "FloatConverter",
    "IntegerConverter",
    "Map",
    "MapAdapter",
    "NumberConverter",
    "PathConverter",
    "Rule",
    "UUIDConverter",
    "UnicodeConverter",
    "ValidationError",
]

# Characters left unescaped in a path segment when building URLs: the
# sub-delimiters plus ":", "@" and "/" (RFC 3986 "pchar", and "/" so path
# values keep their slashes).
_PATH_SAFE = "!$&'()*+,/:;=@"


def _url_encode(values: t.Mapping[str, t.Any]) -> str:
    # Encodes the query string of built URLs: ``None`` values are skipped and
    # list/tuple values repeat their key.
    # TODO: switch to ``erlen.http.url_encode`` once it exists.
    from urllib.parse import urlencode

    pairs: list[tuple[str, t.Any]] = []
    for key, value in values.items():
        if isinstance(value, (list, tuple)):
            pairs.extend((key, v) for v in value if v is not None)
        elif value is not None:
            pairs.append((key, value))
    return urlencode(pairs)


def _redirect_path(path: str) -> str:
    # Quote a decoded path for a Location header. NOTE: leading slashes are
    # collapsed to one: "//evil.example/" would be a protocol-relative URL
    # pointing at another host (an open redirect).
    return "/" + quote(path.lstrip("/"), safe=_PATH_SAFE)


# --------------------------------------------------------------------------
# Converters
# --------------------------------------------------------------------------


class ValidationError(ValueError):
    """Raised by a converter's :meth:`~BaseConverter.to_python` to reject a
    value that its regex accepted.

    The matcher then treats the rule as not matching and keeps looking, so a
    later rule can still match the same path. Raised from
    :meth:`~BaseConverter.to_url`, it makes URL building skip the rule.

    .. versionadded:: 0.1
    """


class BaseConverter:
    """Base class for the converters named in rule placeholders.

    A converter has a :attr:`regex` that a URL part must fully match, and
    turns the matched text into a Python value (:meth:`to_python`) and back
    (:meth:`to_url`). Register a subclass in :attr:`Map.converters` before
    adding rules that use it.

    :param map: The map the rule using this converter belongs to.
    :param args: Positional arguments from the placeholder, as in
        ``<name(1, "x"):var>``; ignored by this base class.
    :param kwargs: Keyword arguments from the placeholder.

    .. versionadded:: 0.1
    """

    #: The regular expression a value must fully match.
    regex: str = "[^/]+"
    #: Lower weights are tried first when several converters could match.
    weight: int = 100
    #: Whether values never contain ``/``. Part-isolating converters match
    #: one path segment; others match the rest of the path at once. When a
    #: subclass sets :attr:`regex` but not this, it becomes ``False`` if the
    #: regex contains ``/``.
    part_isolating: bool = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        if "regex" in cls.__dict__ and "part_isolating" not in cls.__dict__:
            cls.part_isolating = "/" not in cls.regex

    def __init__(self, map: Map, *args: t.Any, **kwargs: t.Any) -> None:
        self.map = map

    def to_python(self, value: str) -> t.Any:
        """Convert the matched text to the value passed to the view.

        :param value: The text matched by :attr:`regex`.
        :return: The value; this base class returns the text unchanged.
        :raises ValidationError: If the value must not match after all.
        """
        return value

    def to_url(self, value: t.Any) -> str:
        """Convert a value to quoted text for a built URL.

        :param value: The value given to ``url_for``.
        :return: ``str(value)``, percent-quoted for a URL path.
        :raises ValueError: If the value cannot be represented; URL building
            then skips the rule.
        """
        return quote(str(value), safe=_PATH_SAFE)


class UnicodeConverter(BaseConverter):
    """The default converter: any text without a slash.

    :param map: The map the rule belongs to.
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
            repeat = f"{{{int(length)}}}"
        else:
            upper = "" if maxlength is None else str(int(maxlength))
            repeat = f"{{{int(minlength)},{upper}}}"
        self.regex = f"[^/]{repeat}"


class AnyConverter(BaseConverter):
    """Matches exactly one of the given items, as in ``<any(about, help):page>``.

    :param map: The map the rule belongs to.
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
        """Quote *value* if it is one of the items.

        :raises ValueError: If the value is not one of the items.
        """
        if str(value) not in self.items:
            choices = ", ".join(repr(item) for item in self.items)
            raise ValueError(f"{value!r} is not one of {choices}")
        return super().to_url(value)


class PathConverter(BaseConverter):
    """Like the default converter but also accepts slashes (not leading).

    Tried after all part-isolating converters (weight 200).

    .. versionadded:: 0.1
    """

    regex = "[^/].*?"
    weight = 200


class NumberConverter(BaseConverter):
    """Base class for :class:`IntegerConverter` and :class:`FloatConverter`.

    :param map: The map the rule belongs to.
    :param fixed_digits: If non-zero, the number must be written with exactly
        this many characters (leading zeros); built URLs are padded to it.
    :param min: The minimum accepted value.
    :param max: The maximum accepted value.
    :param signed: Accept a leading ``-``.

    .. versionadded:: 0.1
    """

    weight = 50
    #: Turns the matched text (or a value to build) into a number.
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
        """Convert the text and check the length and bounds.

        :raises ValidationError: If the length or a bound does not hold.
        """
        if self.fixed_digits and len(value) != self.fixed_digits:
            raise ValidationError()
        try:
            number = self.num_convert(value)
        except ValueError:
            # NOTE: int() refuses more than 4300 digits; treat it as no match.
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
        text = str(self.num_convert(value))
        if self.fixed_digits:
            text = text.zfill(self.fixed_digits)
        return text


class IntegerConverter(NumberConverter):
    """Matches non-negative integers (or signed ones with ``signed=True``).

    NOTE: only ASCII digits match; Python's ``\\d`` and :func:`int` would
    also accept other scripts' digits such as ``٤٢``.

    .. versionadded:: 0.1
    """

    regex = "[0-9]+"


class FloatConverter(NumberConverter):
    """Matches floats written with ASCII digits and a dot, like ``1.5``.

    :param map: The map the rule belongs to.
    :param min: The minimum accepted value.
    :param max: The maximum accepted value.
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
    """Matches a hex UUID with dashes and converts it to :class:`uuid.UUID`.

    .. versionadded:: 0.1
    """

    regex = (
        "[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}"
    )

    def to_python(self, value: str) -> uuid.UUID:
        """Parse the matched text as a UUID."""
        return uuid.UUID(value)

    def to_url(self, value: t.Any) -> str:
        """Format the UUID in its canonical form."""
        return str(value)


#: The converters every :class:`Map` starts with, by placeholder name.
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

# --------------------------------------------------------------------------
# Rule string parsing
# --------------------------------------------------------------------------

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_PLACEHOLDER_RE = re.compile(
    rf"""
    <\s*
    (?:
        (?P<converter>{_IDENT})\s*
        (?:\((?P<args>(?:[^()"']|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')*)\)\s*)?
        :\s*
    )?
    (?P<name>{_IDENT})\s*
    >
    """,
    re.VERBOSE,
)
_ARG_RE = re.compile(
    rf"""
    \s*
    (?:(?P<key>{_IDENT})\s*=\s*)?
    (?:
        "(?P<dq>(?:[^"\\]|\\.)*)"
      | '(?P<sq>(?:[^'\\]|\\.)*)'
      | (?P<bare>[^\s,"'=()]+)
    )
    \s*(?:,|\Z)
    """,
    re.VERBOSE,
)
_INT_RE = re.compile(r"[+-]?[0-9]+")
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)
_CONSTANTS: dict[str, t.Any] = {"True": True, "False": False, "None": None}
_MULTI_SLASH_RE = re.compile("/{2,}")
_REDIRECT_VAR_RE = re.compile(r"<([^<>]*)>")

# A parsed rule or domain pattern: static text, or (variable, converter).
_Token = t.Union[str, t.Tuple[str, BaseConverter]]


def _parse_literal(token: str) -> t.Any:
    # Bare words in converter arguments: constants, numbers, else text.
    if token in _CONSTANTS:
        return _CONSTANTS[token]
    if _INT_RE.fullmatch(token):
        return int(token)
    if _FLOAT_RE.fullmatch(token):
        return float(token)
    return token


def _parse_converter_args(text: str) -> tuple[tuple[t.Any, ...], dict[str, t.Any]]:
    """Parse the ``(...)`` part of a placeholder into args and kwargs."""
    args: list[t.Any] = []
    kwargs: dict[str, t.Any] = {}
    pos = 0
    if not text.strip():
        return (), {}
    while pos < len(text):
        m = _ARG_RE.match(text, pos)
        if m is None:
            raise ValueError(f"cannot parse converter arguments {text!r}")
        if m["bare"] is not None:
            value = _parse_literal(m["bare"])
        else:
            quoted = m["dq"] if m["dq"] is not None else m["sq"]
            value = _ESCAPE_RE.sub(r"\1", quoted)
        if m["key"] is not None:
            kwargs[m["key"]] = value
        elif kwargs:
            raise ValueError(f"positional argument after keyword in {text!r}")
        else:
            args.append(value)
        pos = m.end()
    return tuple(args), kwargs


def _tokenize(text: str) -> list[tuple[str, str | None, str] | str]:
    """Split a rule or domain pattern into static text and placeholders."""
    tokens: list[tuple[str, str | None, str] | str] = []
    pos = 0
    while True:
        start = text.find("<", pos)
        if start < 0:
            if pos < len(text):
                tokens.append(text[pos:])
            return tokens
        if start > pos:
            tokens.append(text[pos:start])
        m = _PLACEHOLDER_RE.match(text, start)
        if m is None:
            raise ValueError(f"malformed placeholder at {text[start:]!r}")
        tokens.append((m["converter"] or "default", m["args"], m["name"]))
        pos = m.end()


class _Step:
    """A dynamic trie transition of one rule: a compiled regex and converters.

    Steps of different rules with the same ``key`` share one trie edge.
    """

    __slots__ = ("kind", "pattern", "converters", "key", "order", "suffixed")

    def __init__(self, kind: int, tokens: list[_Token], suffixed: bool = False) -> None:
        self.kind = kind
        self.suffixed = suffixed
        self.converters = tuple(tok[1] for tok in tokens if not isinstance(tok, str))
        pattern = []
        static_len = 0
        index = 0
        for tok in tokens:
            if isinstance(tok, str):
                pattern.append(re.escape(tok))
                static_len += len(tok)
            else:
                pattern.append(f"(?P<_{index}>{tok[1].regex})")
                index += 1
        if suffixed:
            # The rule ends in "/": make it optional so a request without it
            # can be redirected; the lookbehind stops a greedy converter from
            # swallowing the slash.
            pattern.append("(?<!/)(?P<_slash>/?)")
        self.pattern = "".join(pattern)
        self.key: tuple[t.Any, ...] = (
            kind,
            self.pattern,
            tuple(_converter_key(c) for c in self.converters),
        )
        # Weight order among a node's edges: segments before tails, more
        # static text first, then lighter converters (int < string < path).
        self.order = (kind == _TAIL, -static_len, tuple(c.weight for c in self.converters))


_WHOLE, _MIXED, _TAIL = 0, 1, 2


def _converter_key(conv: BaseConverter) -> tuple[t.Any, ...]:
    # Converters with equal keys convert equally, so their edges can merge.
    return (type(conv), getattr(conv, "_erlen_args", id(conv)))


# --------------------------------------------------------------------------
# Rule
# --------------------------------------------------------------------------


class Rule:
    """A URL pattern mapped to an endpoint.

    Placeholders look like ``<name>``, ``<converter:name>`` or
    ``<converter(args):name>``; converter arguments are Python-like literals
    (numbers, ``True``/``False``/``None``, quoted strings, bare words). The
    pattern is parsed when the rule is added to a :class:`Map`.

    :param string: The URL pattern; must start with ``/``.
    :param endpoint: The name of what handles the rule (for Erlen, a view).
    :param methods: Accepted HTTP methods, upper-cased; ``None`` accepts any.
        ``HEAD`` is added when ``GET`` is present.
    :param defaults: Values added to the matched arguments. When building,
        a rule is only used if given values agree with its defaults.
    :param strict_slashes: Redirect a request without the trailing slash of
        a rule ending in one; when ``False``, both forms match. ``None`` uses
        the map's setting.
    :param merge_slashes: Redirect paths with repeated slashes to the merged
        path when that matches. ``None`` uses the map's setting.
    :param redirect_to: Redirect matches here: a string whose ``<name>``
        placeholders are filled from the arguments, or a callable called as
        ``redirect_to(map, **arguments)`` returning the URL.
    :param subdomain: Subdomain pattern (may contain placeholders); ``None``
        uses the map's default subdomain. Ignored with host matching.
    :param host: Host pattern, used instead of the subdomain when the map
        has ``host_matching``.
    :param build_only: Never match; only used to build URLs.
    :param websocket: Only match WebSocket requests (and only those).
    :param alias: Redirect matches to the URL the endpoint builds to with the
        same values (when the map has ``redirect_defaults``).
    :raises ValueError: If *string* doesn't start with a slash, or a
        WebSocket rule allows methods other than GET, HEAD and OPTIONS.
    :raises TypeError: If *methods* is a single string.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        string: str,
        endpoint: str | None = None,
        *,
        methods: t.Iterable[str] | None = None,
        defaults: t.Mapping[str, t.Any] | None = None,
        strict_slashes: bool | None = None,
        merge_slashes: bool | None = None,
        redirect_to: str | t.Callable[..., str] | None = None,
        subdomain: str | None = None,
        host: str | None = None,
        build_only: bool = False,
        websocket: bool = False,
        alias: bool = False,
    ) -> None:
        if not string.startswith("/"):
            raise ValueError(f"URL rule {string!r} must start with a slash ('/').")
        self.rule = string
        self.endpoint = endpoint
        self.methods: set[str] | None = None
        if methods is not None:
            if isinstance(methods, str):
                raise TypeError("'methods' must be a collection of strings, not a string.")
            self.methods = {m.upper() for m in methods}
            if "GET" in self.methods:
                self.methods.add("HEAD")
            if websocket and self.methods - {"GET", "HEAD", "OPTIONS"}:
                raise ValueError(
                    "WebSocket rules can only use the GET, HEAD and OPTIONS methods."
                )
        #: The names of the rule's variables; filled when added to a map.
        self.arguments: set[str] = set()
        self.defaults = defaults
        self.strict_slashes = strict_slashes
        self.merge_slashes = merge_slashes
        self.redirect_to = redirect_to
        self.subdomain = subdomain
        self.host = host
        self.build_only = build_only
        self.websocket = websocket
        self.alias = alias
        #: The map the rule was added to.
        self.map: Map | None = None
        #: Whether the app answers OPTIONS for this rule itself.
        self.provide_automatic_options = False
        # Filled by bind() and by Map.update().
        self._converters: dict[str, BaseConverter] = {}
        self._names: tuple[str, ...] = ()
        self._special = False
        self._providers: tuple[Rule, ...] = ()

    def bind(self, map: Map) -> None:
        """Attach the rule to *map* and parse its pattern; :meth:`Map.add`
        calls this.

        :param map: The map.
        :raises RuntimeError: If the rule already belongs to a map.
        :raises ValueError: If a placeholder is malformed or a variable name
            is repeated.
        :raises LookupError: If a converter name is not in ``map.converters``.
        """
        if self.map is not None:
            raise RuntimeError(f"URL rule {self!r} is already bound to a map.")
        if self.strict_slashes is None:
            self.strict_slashes = map.strict_slashes
        if self.merge_slashes is None:
            self.merge_slashes = map.merge_slashes
        if self.subdomain is None:
            self.subdomain = map.default_subdomain
        domain = (self.host if map.host_matching else self.subdomain) or ""
        path = self.rule
        if self.merge_slashes:
            path = _MULTI_SLASH_RE.sub("/", path)
        self._converters = {}
        self._domain = self._resolve(map, domain)
        self._path = self._resolve(map, path)
        self._names = tuple(self._converters)
        self.arguments = set(self._names)
        self._compile_steps()
        self._compile_builder()
        if isinstance(self.redirect_to, str):
            known = self.arguments.union(self.defaults or ())
            for name in _REDIRECT_VAR_RE.findall(self.redirect_to):
                if name not in known:
                    raise ValueError(
                        f"redirect_to {self.redirect_to!r} of URL rule {self.rule!r}"
                        f" uses {name!r}, which is not a variable of the rule."
                    )
        self.map = map

    def _resolve(self, map: Map, text: str) -> list[_Token]:
        # Parse *text* and instantiate its converters.
        try:
            raw = _tokenize(text)
        except ValueError as e:
            raise ValueError(f"URL rule {self.rule!r} is malformed: {e}") from None
        tokens: list[_Token] = []
        for tok in raw:
            if isinstance(tok, str):
                tokens.append(tok)
                continue
            conv_name, arg_text, name = tok
            if name in self._converters:
                raise ValueError(f"URL rule {self.rule!r} uses the variable {name!r} twice.")
            if conv_name not in map.converters:
                raise LookupError(
                    f"the converter {conv_name!r} does not exist (in URL rule {self.rule!r})"
                )
            try:
                args, kwargs = _parse_converter_args(arg_text or "")
                conv = map.converters[conv_name](map, *args, **kwargs)
            except (ValueError, TypeError) as e:
                raise type(e)(
                    f"bad arguments for converter {conv_name!r} in URL rule"
                    f" {self.rule!r}: {e}"
                ) from None
            # Remember how the converter was made, so equal ones share edges.
            try:
                conv._erlen_args = (args, tuple(sorted(kwargs.items())))  # type: ignore[attr-defined]
            except AttributeError:  # pragma: no cover - a converter with __slots__
                pass
            self._converters[name] = conv
            tokens.append((name, conv))
        return tokens

    def _compile_steps(self) -> None:
        # The domain is one step; the path splits into one step per segment
        # until the first non-part-isolating converter, which starts a tail
        # step matching the rest of the path at once.
        dom = self._domain
        self._domain_step: str | _Step = (
            "".join(t.cast(list[str], dom)) if all(isinstance(x, str) for x in dom)
            else _Step(_MIXED, dom)
        )
        segments: list[list[_Token]] = [[]]
        for tok in self._path:
            if isinstance(tok, str):
                first, *rest = tok.split("/")
                if first:
                    segments[-1].append(first)
                segments.extend([piece] if piece else [] for piece in rest)
            else:
                segments[-1].append(tok)
        del segments[0]  # the empty text before the leading slash
        steps: list[str | _Step] = []
        for i, seg in enumerate(segments):
            if all(isinstance(x, str) for x in seg):
                steps.append("".join(t.cast(list[str], seg)))
            elif any(not isinstance(x, str) and not x[1].part_isolating for x in seg):
                tail: list[_Token] = []
                for j, rest_seg in enumerate(segments[i:]):
                    if j:
                        tail.append("/")
                    tail.extend(rest_seg)
                suffixed = not segments[-1] and len(segments) - i > 1
                if suffixed:
                    tail.pop()  # the final "/"; the step's pattern re-adds it
                steps.append(_Step(_TAIL, tail, suffixed))
                break
            elif len(seg) == 1:
                steps.append(_Step(_WHOLE, seg))
            else:
                steps.append(_Step(_MIXED, seg))
        self._steps = steps
        self._static_path = self.rule if all(isinstance(s, str) for s in steps) else None
        if self._static_path is not None and self.merge_slashes:
            self._static_path = _MULTI_SLASH_RE.sub("/", self._static_path)

    def _compile_builder(self) -> None:
        # PERF: build from precomputed pieces: quoted static text, or
        # (variable, to_url) pairs.
        def pieces(tokens: list[_Token], quote_static: bool) -> tuple[t.Any, ...]:
            out: list[t.Any] = []
            for tok in tokens:
                if isinstance(tok, str):
                    out.append(quote(tok, safe=_PATH_SAFE) if quote_static else tok)
                else:
                    out.append((tok[0], tok[1].to_url))
            return tuple(out)

        self._build_domain = pieces(self._domain, False)
        self._build_path = pieces(self._path, True)
        defaults = self.defaults or {}
        self._known = frozenset(self.arguments.union(defaults))
        self._required = tuple(a for a in self._names if a not in defaults)

    def suitable_for(self, values: t.Mapping[str, t.Any], method: str | None = None) -> bool:
        """Whether this rule can build a URL for *values* and *method*.

        It can if it accepts the method, every variable has a value (given or
        default), and given values for its defaults equal the defaults.

        :param values: The values to build with.
        :param method: The method, or ``None`` for any.
        :return: ``True`` if :meth:`build` may be used.
        """
        if method is not None and self.methods is not None and method not in self.methods:
            return False
        for name in self._required:
            if name not in values:
                return False
        if self.defaults:
            for key, value in self.defaults.items():
                if key in values and values[key] != value:
                    return False
        return True

    def build(
        self, values: t.Mapping[str, t.Any], append_unknown: bool = True
    ) -> tuple[str, str] | None:
        """Build the domain and the quoted path for *values*.

        :param values: Values for the variables (defaults fill in missing
            ones); others become the query string if *append_unknown*.
        :param append_unknown: Add unknown values as a query string.
        :return: ``(domain, path)``, or ``None`` if a converter refused a
            value or a variable has no value.
        """
        merged = {**self.defaults, **values} if self.defaults else values
        try:
            domain = "".join(
                [p if p.__class__ is str else p[1](merged[p[0]]) for p in self._build_domain]
            )
            path = "".join(
                [p if p.__class__ is str else p[1](merged[p[0]]) for p in self._build_path]
            )
        except (ValueError, KeyError):
            return None
        if append_unknown:
            query = {k: v for k, v in values.items() if k not in self._known}
            if query:
                encoded = _url_encode(query)
                if encoded:
                    path = f"{path}?{encoded}"
        return domain, path

    def __str__(self) -> str:
        return self.rule

    def __repr__(self) -> str:
        methods = f" ({', '.join(sorted(self.methods))})" if self.methods is not None else ""
        return f"<{type(self).__name__} {self.rule!r}{methods} -> {self.endpoint}>"


# --------------------------------------------------------------------------
# The compiled matcher
# --------------------------------------------------------------------------


class _Node:
    """A trie node: static transitions, dynamic edges, and the rules that end here."""

    __slots__ = ("static", "edges", "rules")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.edges: list[_Edge] = []
        self.rules: list[Rule] = []


class _Edge:
    """A dynamic transition shared by rules whose steps have equal keys."""

    __slots__ = ("kind", "check", "fullmatch", "convert", "groups", "suffixed", "node", "order")

    def __init__(self, step: _Step, order: tuple[t.Any, ...]) -> None:
        self.kind = step.kind
        self.suffixed = step.suffixed
        self.order = order
        self.node = _Node()
        converters = step.converters
        self.groups = tuple((c.to_python, f"_{i}") for i, c in enumerate(converters))
        self.fullmatch = re.compile(step.pattern, re.DOTALL).fullmatch
        conv = converters[0]
        # PERF: a whole segment never contains "/", so common converters need
        # no regex: the default one accepts any non-empty segment, a plain
        # int any run of ASCII digits; neither needs a Python-level
        # to_python (None means "keep the text").
        self.check = _CHECK_REGEX
        self.convert: t.Callable[[str], t.Any] | None = conv.to_python
        if step.kind != _WHOLE:
            return
        if conv.regex in ("[^/]+", "[^/]{1,}"):
            self.check = _CHECK_NONEMPTY
        elif conv.regex == "[0-9]+":
            self.check = _CHECK_DIGITS
        to_python = type(conv).to_python
        if to_python is BaseConverter.to_python:
            self.convert = None
        elif (
            to_python is NumberConverter.to_python
            and type(conv).num_convert is int
            and not t.cast(NumberConverter, conv).fixed_digits
            and t.cast(NumberConverter, conv).min is None
            and t.cast(NumberConverter, conv).max is None
        ):
            self.convert = int


_CHECK_REGEX, _CHECK_NONEMPTY, _CHECK_DIGITS = 0, 1, 2


class _SlashRequired(Exception):
    """The path matches only with an added trailing slash."""


def _pick(rules: list[Rule], method: str, websocket: bool, allowed: set[str] | None) -> Rule | None:
    # The first rule accepting the method and WebSocket flag; collect the
    # methods of the others into *allowed* for a 405.
    for rule in rules:
        methods = rule.methods
        if methods is not None and method not in methods:
            if allowed is not None:
                allowed.update(methods)
        elif rule.websocket == websocket:
            return rule
    return None


def _pick_slash(rules: list[Rule], method: str, websocket: bool) -> Rule | None:
    # The path lacks the trailing slash of these rules: redirect to add it,
    # or match directly when the rule isn't strict about slashes.
    for rule in rules:
        if rule.websocket == websocket and (rule.methods is None or method in rule.methods):
            if rule.strict_slashes:
                raise _SlashRequired()
            return rule
    return None


def _walk(
    node: _Node, parts: list[str], i: int, n: int, values: list[t.Any],
    method: str, websocket: bool, allowed: set[str] | None,
) -> Rule | None:
    """Match ``parts[i:]`` below *node*, appending converted values.

    Static transitions are tried first, then dynamic edges in weight order,
    backtracking (and dropping their values) when a branch fails.
    """
    if i == n:
        for rule in node.rules:
            methods = rule.methods
            if methods is not None and method not in methods:
                if allowed is not None:
                    allowed.update(methods)
            elif rule.websocket == websocket:
                return rule
        slash = node.static.get("")
        return None if slash is None else _pick_slash(slash.rules, method, websocket)
    part = parts[i]
    child = node.static.get(part)
    if child is not None:
        rule = _walk(child, parts, i + 1, n, values, method, websocket, allowed)
        if rule is not None:
            return rule
    if node.edges:
        mark = len(values)
        rest = None
        for edge in node.edges:
            if edge.kind == _WHOLE:
                check = edge.check
                if check == _CHECK_NONEMPTY:
                    if not part:
                        continue
                elif check == _CHECK_DIGITS:
                    if not (part.isdigit() and part.isascii()):
                        continue
                elif edge.fullmatch(part) is None:
                    continue
                convert = edge.convert
                if convert is None:
                    values.append(part)
                else:
                    try:
                        values.append(convert(part))
                    except ValueError:  # NOTE: includes ValidationError
                        continue
                rule = _walk(edge.node, parts, i + 1, n, values, method, websocket, allowed)
            else:
                if edge.kind == _MIXED:
                    m = edge.fullmatch(part)
                else:
                    if rest is None:
                        rest = "/".join(parts[i:])
                    m = edge.fullmatch(rest)
                if m is None:
                    continue
                try:
                    for to_python, group in edge.groups:
                        values.append(to_python(m.group(group)))
                except ValueError:
                    del values[mark:]
                    continue
                if edge.kind == _MIXED:
                    rule = _walk(edge.node, parts, i + 1, n, values, method, websocket, allowed)
                elif edge.suffixed and not m.group("_slash"):
                    rule = _pick_slash(edge.node.rules, method, websocket)
                else:
                    rule = _pick(edge.node.rules, method, websocket, allowed)
            if rule is not None:
                return rule
            del values[mark:]
    if not part and i == n - 1:
        # A trailing slash the rules here don't have: only lenient rules match.
        lenient = [r for r in node.rules if not r.strict_slashes]
        return _pick(lenient, method, websocket, allowed)
    return None


def _insert(node: _Node, steps: t.Sequence[str | _Step], rule: Rule,
            edges: dict[tuple[t.Any, ...], _Edge], index: int) -> None:
    # Add *rule* below *node*, merging steps into existing equal edges.
    for step in steps:
        if isinstance(step, str):
            node = node.static.setdefault(step, _Node())
            continue
        key = (id(node), step.key)
        edge = edges.get(key)
        if edge is None:
            edge = edges[key] = _Edge(step, (*step.order, index))
            node.edges.append(edge)
        node = edge.node
    node.rules.append(rule)


def _sort_edges(node: _Node) -> None:
    node.edges.sort(key=lambda e: e.order)
    for child in node.static.values():
        _sort_edges(child)
    for edge in node.edges:
        _sort_edges(edge.node)


# --------------------------------------------------------------------------
# Map
# --------------------------------------------------------------------------


class Map:
    """The set of URL rules of an application, with matching and building.

    :param rules: Rules to add right away.
    :param default_subdomain: The subdomain of rules that don't set one.
    :param strict_slashes: Default of :attr:`Rule.strict_slashes`.
    :param merge_slashes: Default of :attr:`Rule.merge_slashes`; also
        enables the merged-path retry when matching.
    :param redirect_defaults: Redirect a match to an earlier rule of the same
        endpoint whose defaults give the same values (``/page/1`` to
        ``/page/`` when ``/page/`` has ``defaults={"n": 1}``), and alias rules
        to their canonical URL.
    :param converters: Converters added to (or replacing) the defaults.
    :param host_matching: Match rules against the full host (their ``host``)
        instead of the subdomain.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        rules: t.Iterable[Rule] | None = None,
        *,
        default_subdomain: str = "",
        strict_slashes: bool = True,
        merge_slashes: bool = True,
        redirect_defaults: bool = True,
        converters: t.Mapping[str, type[BaseConverter]] | None = None,
        host_matching: bool = False,
    ) -> None:
        self.default_subdomain = default_subdomain
        self.strict_slashes = strict_slashes
        self.merge_slashes = merge_slashes
        self.redirect_defaults = redirect_defaults
        self.host_matching = host_matching
        #: Converter classes by placeholder name; add custom ones here
        #: before adding the rules that use them.
        self.converters: dict[str, type[BaseConverter]] = dict(DEFAULT_CONVERTERS)
        if converters:
            self.converters.update(converters)
        self._rules: list[Rule] = []
        self._rules_by_endpoint: dict[t.Any, list[Rule]] = {}
        # Compiled state, rebuilt by update() while _dirty is set.
        self._lock = threading.Lock()
        self._dirty = True
        self._static: dict[tuple[str, str], list[Rule]] = {}
        self._domains: dict[str, _Node] = {}
        self._domain_edges: list[_Edge] = []
        self._build_index: dict[t.Any, list[Rule]] = {}
        self._empty_domain = ""
        for rule in rules or ():
            self.add(rule)

    def add(self, rule: Rule) -> None:
        """Add a rule; the map recompiles on its next match or build.

        :param rule: The rule; it must not belong to another map.
        :raises ValueError: If the rule's pattern is malformed.
        :raises LookupError: If the rule names an unknown converter.
        :raises RuntimeError: If the rule is already bound to a map.
        """
        rule.bind(self)
        with self._lock:
            self._rules.append(rule)
            self._rules_by_endpoint.setdefault(rule.endpoint, []).append(rule)
            self._dirty = True

    def iter_rules(self, endpoint: str | None = None) -> t.Iterator[Rule]:
        """Iterate over the rules (of one endpoint) in registration order.

        :param endpoint: Only this endpoint's rules; ``None`` for all.
        :return: An iterator of rules; empty for an unknown endpoint.
        """
        if endpoint is not None:
            return iter(list(self._rules_by_endpoint.get(endpoint, ())))
        return iter(list(self._rules))

    def is_endpoint_expecting(self, endpoint: str, *arguments: str) -> bool:
        """Whether a rule of *endpoint* has all the given variables.

        :param endpoint: The endpoint.
        :param arguments: Variable names.
        :return: ``True`` if some rule of the endpoint has them all.
        """
        wanted = set(arguments)
        return any(wanted <= r.arguments for r in self._rules_by_endpoint.get(endpoint, ()))

    def update(self) -> None:
        """Compile the rules for matching and building, if they changed.

        Called automatically by :meth:`match` and :meth:`build`; call it at
        startup to keep the compile cost off the first request. Thread-safe:
        concurrent callers wait for one compile.
        """
        with self._lock:
            if not self._dirty:
                return
            static: dict[tuple[str, str], list[Rule]] = {}
            root = _Node()
            edges: dict[tuple[t.Any, ...], _Edge] = {}
            for index, rule in enumerate(self._rules):
                if rule.build_only:
                    continue
                dom = rule._domain_step
                if isinstance(dom, str) and rule._static_path is not None:
                    static.setdefault((dom, rule._static_path), []).append(rule)
                _insert(root, [dom, *rule._steps], rule, edges, index)
            _sort_edges(root)
            build_index: dict[t.Any, list[Rule]] = {}
            for endpoint, rules in self._rules_by_endpoint.items():
                # Prefer canonical rules, then more variables, then more
                # defaults; sorted() keeps registration order among equals.
                build_index[endpoint] = sorted(
                    rules,
                    key=lambda r: (r.alias, -len(r._known), -len(r.defaults or ())),
                )
            for rules in build_index.values():
                for pos, rule in enumerate(rules):
                    rule._providers = tuple(
                        other for other in rules[:pos]
                        if other.defaults and not other.build_only
                        and other._known == rule._known
                    ) if self.redirect_defaults else ()
                    rule._special = bool(
                        rule.redirect_to is not None or rule._providers
                        or (rule.alias and self.redirect_defaults)
                    )
            self._static = static
            self._domains = root.static
            self._domain_edges = root.edges
            self._build_index = build_index
            self._empty_domain = "" if self.host_matching else self.default_subdomain
            self._dirty = False

    # -- matching ----------------------------------------------------------

    def match(
        self, path: str, method: str = "GET", domain: str = "", websocket: bool = False
    ) -> tuple[Rule, dict[str, t.Any]]:
        """Find the rule for a request.

        :param path: The percent-decoded path below the app root, starting
            with ``/``.
        :param method: The upper-case request method.
        :param domain: The host with host matching, else the subdomain;
            ``""`` means the default subdomain.
        :param websocket: Whether this is a WebSocket request.
        :return: The rule and its arguments: the converted variables merged
            over the rule's defaults (a new dict each call).
        :raises NotFound: If no rule matches.
        :raises MethodNotAllowed: If rules match the path but not the method;
            ``valid_methods`` lists theirs.
        :raises RequestRedirect: If the canonical URL differs: a missing
            trailing slash, repeated slashes, ``redirect_to``, an alias, or a
            rule providing defaults. ``new_url`` is a quoted path starting
            with ``/`` (or what ``redirect_to`` gave), without the script root
            or query string.
        """
        if self._dirty:
            self.update()
        if not domain:
            domain = self._empty_domain
        # PERF: rules without variables are one dict lookup away.
        rules = self._static.get((domain, path))
        if rules is not None:
            for rule in rules:
                methods = rule.methods
                if (methods is None or method in methods) and rule.websocket == websocket:
                    args = dict(rule.defaults) if rule.defaults else {}
                    if rule._special:
                        self._redirect_special(rule, args, method)
                    return rule, args
        try:
            found = self._find(path, method, domain, websocket, None)
        except _SlashRequired:
            raise RequestRedirect(_redirect_path(path + "/")) from None
        if found is None:
            self._fail(path, method, domain, websocket)
        rule, values = found
        names = rule._names
        # PERF: most rules have one variable; skip zip() for them.
        args = {names[0]: values[0]} if len(names) == 1 else dict(zip(names, values))
        if rule.defaults:
            args = {**rule.defaults, **args}
        if rule._special:
            self._redirect_special(rule, args, method)
        return rule, args

    def _find(
        self, path: str, method: str, domain: str, websocket: bool, allowed: set[str] | None
    ) -> tuple[Rule, list[t.Any]] | None:
        # Walk the trie for (domain, path); static domains before patterns.
        parts = path.split("/")
        if parts[0]:
            # NOTE: a path without its leading slash is matched as if it had one.
            parts.insert(0, "")
        n = len(parts)
        values: list[t.Any] = []
        node = self._domains.get(domain)
        if node is not None:
            rule = _walk(node, parts, 1, n, values, method, websocket, allowed)
            if rule is not None:
                return rule, values
        for edge in self._domain_edges:
            m = edge.fullmatch(domain)
            if m is None:
                continue
            try:
                values = [to_python(m.group(g)) for to_python, g in edge.groups]
            except ValueError:
                continue
            rule = _walk(edge.node, parts, 1, n, values, method, websocket, allowed)
            if rule is not None:
                return rule, values
        return None

    def _fail(self, path: str, method: str, domain: str, websocket: bool) -> t.NoReturn:
        # Nothing matched: try the merged-slashes path, then decide 405/404.
        paths = [path]
        if self.merge_slashes and "//" in path:
            merged = _MULTI_SLASH_RE.sub("/", path)
            try:
                found = self._find(merged, method, domain, websocket, None)
            except _SlashRequired:
                raise RequestRedirect(_redirect_path(merged + "/")) from None
            if found is not None and found[0].merge_slashes:
                raise RequestRedirect(_redirect_path(merged))
            paths.append(merged)
        # PERF: the walk only records allowed methods on this failure path.
        allowed: set[str] = set()
        for candidate in paths:
            self._find(candidate, method, domain, websocket, allowed)
        if allowed:
            raise MethodNotAllowed(sorted(allowed))
        raise NotFound()

    def _redirect_special(self, rule: Rule, args: dict[str, t.Any], method: str) -> None:
        # Raise RequestRedirect for alias, defaults-provider and redirect_to
        # rules; return normally if none applies.
        if rule.alias and self.redirect_defaults:
            for other in self._build_index[rule.endpoint]:
                if not other.alias and other.suitable_for(args, method):
                    built = other.build(args, append_unknown=False)
                    if built is not None:
                        raise RequestRedirect(built[1])
        for provider in rule._providers:
            if provider.suitable_for(args, method):
                built = provider.build(args, append_unknown=False)
                if built is not None:
                    raise RequestRedirect(built[1])
        target = rule.redirect_to
        if isinstance(target, str):
            def fill(m: re.Match[str]) -> str:
                name = m[1]
                conv = rule._converters.get(name)
                return conv.to_url(args[name]) if conv else quote(str(args[name]), _PATH_SAFE)

            raise RequestRedirect(_REDIRECT_VAR_RE.sub(fill, target))
        if target is not None:
            raise RequestRedirect(target(self, **args))

    def allowed_methods(self, path: str, domain: str = "", websocket: bool = False) -> list[str]:
        """The methods the rules matching *path* accept (for ``OPTIONS``).

        :param path: As for :meth:`match`.
        :param domain: As for :meth:`match`.
        :param websocket: As for :meth:`match`.
        :return: Sorted method names; empty if none match, or a matching rule
            accepts any method.
        """
        try:
            self.match(path, "--", domain, websocket)
        except MethodNotAllowed as e:
            return list(e.valid_methods or ())
        except (NotFound, RequestRedirect):
            pass
        return []

    # -- building ----------------------------------------------------------

    def build(
        self,
        endpoint: str,
        values: t.Mapping[str, t.Any] | None = None,
        method: str | None = None,
        append_unknown: bool = True,
    ) -> tuple[str, str]:
        """Build the URL of *endpoint*.

        Candidate rules are tried in this order: non-alias before alias, more
        variables (plus defaults) first, more defaults first, then
        registration order. The first rule that fits (see
        :meth:`Rule.suitable_for`) and whose converters accept the values
        wins. Without *method*, rules accepting ``GET`` are preferred.

        :param endpoint: The endpoint.
        :param values: Values for the variables; ``None`` values are ignored
            and the rest become the query string (lists repeat the key).
            A multi-dict (with ``getlist``) may give several values per key.
        :param method: Only use rules accepting this method.
        :param append_unknown: Append unknown values as a query string.
        :return: ``(domain, path)``: the subdomain (the host with host
            matching; ``""`` when none) and the quoted path with the query.
        :raises BuildError: If no rule fits.
        """
        if self._dirty:
            self.update()
        clean: dict[str, t.Any] = {}
        if values:
            getlist = getattr(values, "getlist", None)
            if getlist is not None:
                for key in values:
                    items = [v for v in getlist(key) if v is not None]
                    if items:
                        clean[key] = items[0] if len(items) == 1 else items
            else:
                clean = {k: v for k, v in values.items() if v is not None}
        rules = self._build_index.get(endpoint, ())
        for want in ("GET", None) if method is None else (method,):
            for rule in rules:
                if rule.suitable_for(clean, want):
                    built = rule.build(clean, append_unknown)
                    if built is not None:
                        return built
        raise BuildError(endpoint, clean, method, self)

    def bind(
        self,
        server_name: str,
        script_name: str | None = "/",
        subdomain: str | None = None,
        url_scheme: str = "http",
        default_method: str = "GET",
        path_info: str | None = None,
        query_args: t.Mapping[str, t.Any] | str | None = None,
    ) -> MapAdapter:
        """Bind the map to a server for Werkzeug-style matching and building.

        :param server_name: The host (with port if not the default).
        :param script_name: Where the app is mounted.
        :param subdomain: The current subdomain; ``None`` for the default.
        :param url_scheme: ``http``, ``https``, ``ws`` or ``wss``.
        :param default_method: Method used when none is given.
        :param path_info: Path used by :meth:`MapAdapter.match` by default.
        :param query_args: Query string added to redirect URLs.
        :return: A new :class:`MapAdapter`.
        :raises RuntimeError: If a subdomain is given with host matching.
        """
        if self.host_matching and subdomain is not None:
            raise RuntimeError("a subdomain cannot be bound with host matching enabled")
        return MapAdapter(
            self, server_name.lower(), script_name or "/",
            self.default_subdomain if subdomain is None else subdomain,
            url_scheme, path_info or "/", default_method, query_args,
        )

    def __repr__(self) -> str:
        rules = "".join(f"\n    {rule!r}," for rule in self._rules)
        return f"{type(self).__name__}([{rules}\n])" if rules else f"{type(self).__name__}([])"


class MapAdapter:
    """A :class:`Map` bound to a server name, script root and subdomain.

    Offers Werkzeug's bound ``match``/``build`` API on top of the sans-I/O
    :meth:`Map.match` and :meth:`Map.build`, with absolute redirect URLs.
    Create one with :meth:`Map.bind`.

    .. versionadded:: 0.1
    """

    def __init__(
        self, map: Map, server_name: str, script_name: str, subdomain: str,
        url_scheme: str, path_info: str, default_method: str,
        query_args: t.Mapping[str, t.Any] | str | None,
    ) -> None:
        self.map = map
        self.server_name = server_name
        # Kept with one trailing slash, as in Werkzeug.
        self.script_name = script_name.rstrip("/") + "/"
        self.subdomain = subdomain
        self.url_scheme = url_scheme
        self.path_info = path_info
        self.default_method = default_method
        self.query_args = query_args
        self.websocket = url_scheme in ("ws", "wss")

    def match(
        self,
        path_info: str | None = None,
        method: str | None = None,
        return_rule: bool = False,
        query_args: t.Mapping[str, t.Any] | str | None = None,
        websocket: bool | None = None,
    ) -> tuple[t.Any, dict[str, t.Any]]:
        """Match a path, as :meth:`Map.match` does.

        :param path_info: The path; defaults to the bound one.
        :param method: The method; defaults to the bound default method.
        :param return_rule: Return the rule instead of its endpoint.
        :param query_args: Query string appended to redirect URLs.
        :param websocket: Defaults to whether the scheme is ``ws``/``wss``.
        :return: ``(endpoint or rule, arguments)``.
        :raises NotFound: See :meth:`Map.match`.
        :raises MethodNotAllowed: See :meth:`Map.match`.
        :raises RequestRedirect: With an absolute ``new_url``.
        """
        path = self.path_info if path_info is None else path_info
        path = "/" + path.lstrip("/")
        method = (method or self.default_method).upper()
        domain = self.server_name if self.map.host_matching else self.subdomain
        try:
            rule, args = self.map.match(
                path, method, domain, self.websocket if websocket is None else websocket
            )
        except RequestRedirect as e:
            query = self.query_args if query_args is None else query_args
            raise RequestRedirect(self._absolute(e.new_url, query)) from None
        return (rule if return_rule else rule.endpoint), args

    def _absolute(self, url: str, query: t.Mapping[str, t.Any] | str | None) -> str:
        # Turn a redirect target into an absolute URL on this server.
        if self.map.host_matching or not self.subdomain:
            netloc = self.server_name
        else:
            netloc = f"{self.subdomain}.{self.server_name}"
        base = f"{self.url_scheme}://{netloc}{self.script_name}"
        url = base[:-1] + url if url.startswith("/") and not url.startswith("//") else urljoin(base, url)
        if query and "?" not in url:
            url += "?" + (query if isinstance(query, str) else _url_encode(query))
        return url

    def test(self, path_info: str | None = None, method: str | None = None) -> bool:
        """Whether the path matches a rule (a redirect counts as a match).

        :param path_info: The path; defaults to the bound one.
        :param method: The method; defaults to the bound default method.
        :return: ``True`` unless matching raises NotFound or MethodNotAllowed.
        """
        try:
            self.match(path_info, method)
        except RequestRedirect:
            pass
        except (NotFound, MethodNotAllowed):
            return False
        return True

    def allowed_methods(self, path_info: str | None = None) -> list[str]:
        """The methods the path accepts; see :meth:`Map.allowed_methods`."""
        path = "/" + (self.path_info if path_info is None else path_info).lstrip("/")
        domain = self.server_name if self.map.host_matching else self.subdomain
        return self.map.allowed_methods(path, domain, self.websocket)

    def build(
        self,
        endpoint: str,
        values: t.Mapping[str, t.Any] | None = None,
        method: str | None = None,
        force_external: bool = False,
        append_unknown: bool = True,
        url_scheme: str | None = None,
    ) -> str:
        """Build a URL, relative to the server when the domain matches.

        :param endpoint: The endpoint.
        :param values: See :meth:`Map.build`.
        :param method: See :meth:`Map.build`; the bound default method is
            preferred when omitted.
        :param force_external: Always return an absolute URL.
        :param append_unknown: See :meth:`Map.build`.
        :param url_scheme: Scheme of absolute URLs; defaults to the bound one.
        :return: The URL, starting with the script root unless absolute.
        :raises BuildError: If no rule fits.
        """
        if method is None and self.default_method != "GET":
            try:
                domain, path = self.map.build(endpoint, values, self.default_method, append_unknown)
            except BuildError:
                domain, path = self.map.build(endpoint, values, None, append_unknown)
        else:
            domain, path = self.map.build(endpoint, values, method, append_unknown)
        if self.map.host_matching:
            host = domain or self.server_name
            local = host == self.server_name
        else:
            host = f"{domain}.{self.server_name}" if domain else self.server_name
            local = domain == self.subdomain
        if local and not force_external:
            return self.script_name[:-1] + path
        scheme = self.url_scheme if url_scheme is None else url_scheme
        return f"{scheme + ':' if scheme else ''}//{host}{self.script_name[:-1]}{path}"
