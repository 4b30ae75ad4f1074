"""URL routing: rules, converters, and a sans-I/O matcher and builder.

A :class:`Map` holds :class:`Rule` objects. :meth:`Map.match` turns a decoded
path (plus method, domain and WebSocket flag) into the matched rule and its
converted arguments; :meth:`Map.build` does the reverse for ``url_for``.
Neither touches a request, so WSGI and ASGI apps share them.
:meth:`Map.bind` returns a :class:`MapAdapter` with Werkzeug's bound API.

Why matching is fast (see :meth:`Map.update`): rules compile once, lazily;
a rule without variables is a dict lookup; the others live in a segment
trie where each path segment follows a static dict transition first, then
the node's dynamic edges in weight order, backtracking on failure. The cost
depends on the depth of the path, not on the number of rules.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
import threading
import typing as t
from urllib.parse import quote, urljoin

from .exceptions import BuildError, MethodNotAllowed, NotFound, RequestRedirect
from .http import url_encode

if t.TYPE_CHECKING:
    import uuid

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

# Left unescaped in built paths: RFC 3986 "pchar" punctuation, plus "/" so
# path values keep their slashes.
_PATH_SAFE = "!$&'()*+,/:;=@"


def _redirect_path(path: str) -> str:
    # Quote a decoded path for a redirect. NOTE: leading slashes collapse to
    # one, as "//evil.example/" would be a protocol-relative URL to another
    # host (an open redirect).
    return "/" + quote(path.lstrip("/"), safe=_PATH_SAFE)


# -- converters ------------------------------------------------------------


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

# -- rule string parsing -----------------------------------------------------

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_QUOTED = r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"""
_PLACEHOLDER_RE = re.compile(
    rf"<\s*(?:(?P<conv>{_IDENT})\s*(?:\((?P<args>(?:[^()\"']|{_QUOTED})*)\)\s*)?:\s*)?"
    rf"(?P<name>{_IDENT})\s*>"
)
_ARG_RE = re.compile(
    rf"""\s*(?:(?P<key>{_IDENT})\s*=\s*)?
    (?:"(?P<dq>(?:[^"\\]|\\.)*)"|'(?P<sq>(?:[^'\\]|\\.)*)'|(?P<bare>[^\s,"'=()]+))
    \s*(?:,|\Z)""",
    re.VERBOSE,
)
_INT_RE = re.compile(r"[+-]?[0-9]+")
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)
_CONSTANTS = {"True": True, "False": False, "None": None}
_MULTI_SLASH_RE = re.compile("/{2,}")
_REDIRECT_VAR_RE = re.compile(r"<([^<>]*)>")

# A parsed pattern: static text or (name, converter, converter identity).
_Token = str | tuple[str, BaseConverter, tuple[t.Any, ...]]


def _parse_converter_args(text: str) -> tuple[tuple[t.Any, ...], dict[str, t.Any]]:
    # The "(...)" of a placeholder: numbers, True/False/None, quoted strings
    # and bare words (as strings), optionally as key=value.
    args: list[t.Any] = []
    kwargs: dict[str, t.Any] = {}
    pos = 0
    while text.strip() and pos < len(text):
        m = _ARG_RE.match(text, pos)
        if m is None:
            raise ValueError(f"cannot parse converter arguments {text!r}")
        value: t.Any = m["bare"]
        if value is None:
            value = _ESCAPE_RE.sub(r"\1", m["dq"] if m["dq"] is not None else m["sq"])
        elif value in _CONSTANTS:
            value = _CONSTANTS[value]
        elif _INT_RE.fullmatch(value):
            value = int(value)
        elif _FLOAT_RE.fullmatch(value):
            value = float(value)
        if m["key"] is not None:
            kwargs[m["key"]] = value
        elif kwargs:
            raise ValueError(f"positional argument after keyword in {text!r}")
        else:
            args.append(value)
        pos = m.end()
    return tuple(args), kwargs


_WHOLE, _MIXED, _TAIL = 0, 1, 2  # step kinds: segment is one variable / mixed / rest of path


class _Step:
    """One dynamic trie transition of a rule: a regex over one segment (or,
    for a tail, the rest of the path) with the converters of its groups.
    Steps with equal ``key`` (same regex and converters) share a trie edge.
    """

    __slots__ = ("kind", "pattern", "converters", "key", "order", "suffixed")

    def __init__(self, kind: int, tokens: list[_Token], suffixed: bool = False) -> None:
        self.kind = kind
        self.suffixed = suffixed
        pattern: list[str] = []
        converters: list[BaseConverter] = []
        ids: list[t.Any] = []
        static_len = 0
        for tok in tokens:
            if isinstance(tok, str):
                pattern.append(re.escape(tok))
                static_len += len(tok)
            else:
                pattern.append(f"(?P<_{len(converters)}>{tok[1].regex})")
                converters.append(tok[1])
                ids.append(tok[2])
        if suffixed:
            # The rule ends in "/": make it optional so its absence can be
            # redirected; the lookbehind keeps a greedy converter off it.
            pattern.append("(?<!/)(?P<_slash>/?)")
        self.pattern = "".join(pattern)
        self.converters = tuple(converters)
        self.key = (kind, self.pattern, tuple(ids))
        # Edge order at a node: segments before tails, more static text
        # first, then lighter converters (int 50 < string 100 < path 200).
        self.order = (kind == _TAIL, -static_len, tuple(c.weight for c in converters))


# -- rules -------------------------------------------------------------------


class Rule:
    """A URL pattern mapped to an endpoint.

    Placeholders are ``<name>``, ``<converter:name>`` or
    ``<converter(args):name>``. The pattern is parsed when the rule is added
    to a :class:`Map`, which is when a bad one raises.

    :param string: The URL pattern; must start with ``/``.
    :param endpoint: What handles the rule (for Erlen, a view name).
    :param methods: Accepted methods (upper-cased); ``None`` accepts any.
        ``HEAD`` is added when ``GET`` is present.
    :param defaults: Values added to the matched arguments. A rule only
        builds when given values agree with its defaults.
    :param strict_slashes: Redirect requests lacking the rule's trailing
        slash; if ``False``, match with or without it. ``None``: the map's.
    :param merge_slashes: Redirect paths with repeated slashes to the merged
        path when that matches. ``None``: the map's.
    :param redirect_to: Redirect matches: a string whose ``<name>``
        placeholders are filled from the arguments, or a callable called as
        ``redirect_to(map, **arguments)`` that returns the URL.
    :param subdomain: Subdomain pattern (may hold placeholders); ``None``
        is the map's default subdomain. Unused with host matching.
    :param host: Host pattern, used instead when the map has host matching.
    :param build_only: Never match; only build URLs.
    :param websocket: Match WebSocket requests only (and only this does).
    :param alias: Redirect matches to the URL the endpoint builds with the
        same values (if the map has ``redirect_defaults``).
    :raises ValueError: If *string* doesn't start with ``/``, or a WebSocket
        rule allows methods other than GET, HEAD and OPTIONS.
    :raises TypeError: If *methods* is a string.

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
                raise ValueError("WebSocket rules can only use GET, HEAD and OPTIONS.")
        #: The names of the rule's variables, known once added to a map.
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
        #: Whether the app answers OPTIONS for this rule; set by the app.
        self.provide_automatic_options = False
        # Compiled by bind() (pattern) and Map.update() (redirect info).
        self._converters: dict[str, BaseConverter] = {}
        self._names: tuple[str, ...] = ()
        self._special = False
        self._providers: tuple[Rule, ...] = ()

    def bind(self, map: Map) -> None:
        """Attach the rule to *map* and compile its pattern (done by
        :meth:`Map.add`).

        :param map: The map.
        :raises RuntimeError: If the rule already belongs to a map.
        :raises ValueError: If a placeholder is malformed, a variable is
            repeated, or ``redirect_to`` names an unknown variable.
        :raises LookupError: If a converter is not in ``map.converters``.
        :raises TypeError: If a converter rejects its arguments.
        """
        if self.map is not None:
            raise RuntimeError(f"URL rule {self!r} is already bound to a map.")
        if self.strict_slashes is None:
            self.strict_slashes = map.strict_slashes
        if self.merge_slashes is None:
            self.merge_slashes = map.merge_slashes
        if self.subdomain is None:
            self.subdomain = map.default_subdomain
        path = _MULTI_SLASH_RE.sub("/", self.rule) if self.merge_slashes else self.rule
        self._converters = {}
        domain = self._parse(map, (self.host if map.host_matching else self.subdomain) or "")
        self._path = self._parse(map, path)
        self._names = tuple(self._converters)
        self.arguments = set(self._names)
        text = _static_text(domain)
        self._domain_step: str | _Step = _Step(_MIXED, domain) if text is None else text
        self._steps = _path_steps(self._path)
        self._static_path = path if all(isinstance(s, str) for s in self._steps) else None
        self._build_domain = _pieces(domain, quote_static=False)
        self._build_path = _pieces(self._path, quote_static=True)
        self._known = frozenset(self.arguments.union(self.defaults or ()))
        self._required = tuple(a for a in self._names if a not in (self.defaults or ()))
        if isinstance(self.redirect_to, str):
            for name in _REDIRECT_VAR_RE.findall(self.redirect_to):
                if name not in self._known:
                    raise ValueError(
                        f"redirect_to of URL rule {self.rule!r} uses {name!r},"
                        " which is not a variable of the rule."
                    )
        self.map = map

    def _parse(self, map: Map, text: str) -> list[_Token]:
        # Split a pattern into static text and variables with converters.
        tokens: list[_Token] = []
        pos = 0
        while (start := text.find("<", pos)) >= 0:
            if start > pos:
                tokens.append(text[pos:start])
            m = _PLACEHOLDER_RE.match(text, start)
            if m is None:
                raise ValueError(f"URL rule {self.rule!r} is malformed at {text[start:]!r}.")
            conv_name, name = m["conv"] or "default", m["name"]
            if name in self._converters:
                raise ValueError(f"URL rule {self.rule!r} uses the variable {name!r} twice.")
            if conv_name not in map.converters:
                raise LookupError(
                    f"the converter {conv_name!r} does not exist (in URL rule {self.rule!r})"
                )
            try:
                args, kwargs = _parse_converter_args(m["args"] or "")
                conv = map.converters[conv_name](map, *args, **kwargs)
            except (ValueError, TypeError) as e:
                raise type(e)(
                    f"bad arguments for converter {conv_name!r} in URL rule {self.rule!r}: {e}"
                ) from None
            self._converters[name] = conv
            # Converters made alike convert alike, so their edges can merge.
            tokens.append((name, conv, (type(conv), args, tuple(sorted(kwargs.items())))))
            pos = m.end()
        if pos < len(text):
            tokens.append(text[pos:])
        return tokens

    def suitable_for(self, values: t.Mapping[str, t.Any], method: str | None = None) -> bool:
        """Whether this rule can build a URL for *values* and *method*: it
        accepts the method, every variable has a value (given or default),
        and given values for its defaults equal them.

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
        """Build the domain and quoted path for *values*.

        :param values: Values of the variables (defaults fill missing ones).
        :param append_unknown: Append other values as the query string.
        :return: ``(domain, path)``, or ``None`` if a converter refused a
            value or a variable has none.
        """
        merged = {**self.defaults, **values} if self.defaults else values
        domain, path = self._build_domain, self._build_path
        try:
            if not isinstance(domain, str):
                domain = "".join([p if isinstance(p, str) else p[1](merged[p[0]]) for p in domain])
            if not isinstance(path, str):
                path = "".join([p if isinstance(p, str) else p[1](merged[p[0]]) for p in path])
        except (ValueError, KeyError):
            return None
        # PERF: issuperset() checks for unknown keys without a Python loop.
        if append_unknown and not self._known.issuperset(values):
            query = {k: v for k, v in values.items() if k not in self._known}
            if encoded := url_encode(query):
                path = f"{path}?{encoded}"
        return domain, path

    def __str__(self) -> str:
        return self.rule

    def __repr__(self) -> str:
        methods = f" ({', '.join(sorted(self.methods))})" if self.methods is not None else ""
        return f"<{type(self).__name__} {self.rule!r}{methods} -> {self.endpoint}>"


# Precomputed URL builder: the text itself when there are no variables, else
# static text and (name, to_url) pairs to join.
_Pieces = str | tuple[str | tuple[str, t.Callable[[t.Any], str]], ...]


def _pieces(tokens: list[_Token], quote_static: bool) -> _Pieces:
    def static(text: str) -> str:
        return quote(text, safe=_PATH_SAFE) if quote_static else text

    text = _static_text(tokens)
    if text is not None:
        return static(text)
    return tuple(static(x) if isinstance(x, str) else (x[0], x[1].to_url) for x in tokens)


def _static_text(tokens: list[_Token]) -> str | None:
    # The text of a token list without variables, else None.
    if all(isinstance(x, str) for x in tokens):
        return "".join(t.cast("list[str]", tokens))
    return None


def _path_steps(tokens: list[_Token]) -> list[str | _Step]:
    # One step per "/"-separated segment: its text if static, else a regex
    # step; a non-part-isolating converter starts a tail step that matches
    # the rest of the path at once.
    segments: list[list[_Token]] = [[]]
    for tok in tokens:
        if isinstance(tok, str):
            first, *rest = tok.split("/")
            segments[-1].extend([first] if first else [])
            segments.extend([piece] if piece else [] for piece in rest)
        else:
            segments[-1].append(tok)
    del segments[0]  # the nothing before the leading slash
    steps: list[str | _Step] = []
    for i, seg in enumerate(segments):
        text = _static_text(seg)
        if text is not None:
            steps.append(text)
        elif all(isinstance(x, str) or x[1].part_isolating for x in seg):
            steps.append(_Step(_WHOLE if len(seg) == 1 else _MIXED, seg))
        else:
            tail: list[_Token] = list(seg)
            for rest_seg in segments[i + 1 :]:
                tail += ["/", *rest_seg]
            suffixed = i < len(segments) - 1 and not segments[-1]
            steps.append(_Step(_TAIL, tail[:-1] if suffixed else tail, suffixed))
            break
    return steps


# -- the compiled matcher -------------------------------------------------------


class _Node:
    """A trie node: static transitions, dynamic edges, rules ending here."""

    __slots__ = ("static", "edges", "rules")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.edges: list[_Edge] = []
        self.rules: list[Rule] = []


_CHECK_REGEX, _CHECK_NONEMPTY, _CHECK_DIGITS = 0, 1, 2


class _Edge:
    """A dynamic transition, shared by the rules whose steps are equal."""

    __slots__ = ("kind", "check", "fullmatch", "convert", "groups", "suffixed", "node", "order")

    def __init__(self, step: _Step, order: tuple[t.Any, ...]) -> None:
        self.kind = step.kind
        self.suffixed = step.suffixed
        self.order = order
        self.node = _Node()
        # NOTE: DOTALL, so a decoded "%0A" in a path value still matches.
        self.fullmatch = re.compile(step.pattern, re.DOTALL).fullmatch
        self.groups = tuple((c.to_python, f"_{i}") for i, c in enumerate(step.converters))
        conv = step.converters[0]
        self.check = _CHECK_REGEX
        self.convert: t.Callable[[str], t.Any] | None = conv.to_python
        if step.kind != _WHOLE:
            return
        # PERF: a segment holds no "/", so the usual converters need no regex
        # (the default one takes any non-empty segment, int ASCII digits) and
        # no Python-level to_python (None: keep the text; or int itself).
        if conv.regex in ("[^/]+", "[^/]{1,}"):
            self.check = _CHECK_NONEMPTY
        elif conv.regex == "[0-9]+":
            self.check = _CHECK_DIGITS
        to_python = type(conv).to_python
        if to_python is BaseConverter.to_python:
            self.convert = None
        elif isinstance(conv, NumberConverter) and to_python is NumberConverter.to_python:
            if type(conv).num_convert is int and not conv.fixed_digits:
                if conv.min is None and conv.max is None:
                    self.convert = int


class _SlashRequired(Exception):
    """The path matches only with a trailing slash added."""


def _pick(rules: list[Rule], method: str, websocket: bool, allowed: set[str] | None) -> Rule | None:
    # The first rule fitting the method and WebSocket flag; the methods of
    # the others go into *allowed* (when collecting them for a 405).
    for rule in rules:
        methods = rule.methods
        if methods is not None and method not in methods:
            if allowed is not None:
                allowed.update(methods)
        elif rule.websocket == websocket:
            return rule
    return None


def _pick_slash(rules: list[Rule], method: str, websocket: bool) -> Rule | None:
    # The path lacks these rules' trailing slash: redirect to add it, or
    # match if the rule isn't strict about slashes.
    for rule in rules:
        if rule.websocket == websocket and (rule.methods is None or method in rule.methods):
            if rule.strict_slashes:
                raise _SlashRequired()
            return rule
    return None


def _walk(
    node: _Node,
    parts: list[str],
    i: int,
    n: int,
    values: list[t.Any],
    method: str,
    websocket: bool,
    allowed: set[str] | None,
) -> Rule | None:
    # Match parts[i:] below node, appending converted values. Static
    # transitions first, then edges in weight order; a failed branch drops
    # its values (values[mark:]) and the next one is tried.
    rule: Rule | None
    while True:
        if i == n:
            for candidate in node.rules:  # PERF: _pick() inlined
                methods = candidate.methods
                if methods is not None and method not in methods:
                    if allowed is not None:
                        allowed.update(methods)
                elif candidate.websocket == websocket:
                    return candidate
            slash = node.static.get("")
            return None if slash is None else _pick_slash(slash.rules, method, websocket)
        part = parts[i]
        child = node.static.get(part)
        if node.edges or (not part and i == n - 1):
            break
        # PERF: nothing to backtrack to at this node: descend in a loop.
        if child is None:
            return None
        node = child
        i += 1
    if child is not None:
        rule = _walk(child, parts, i + 1, n, values, method, websocket, allowed)
        if rule is not None:
            return rule
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
        # A trailing slash that the rules here lack: only lenient ones match.
        return _pick([r for r in node.rules if not r.strict_slashes], method, websocket, allowed)
    return None


def _sort_edges(node: _Node) -> None:
    node.edges.sort(key=lambda e: e.order)
    for child in node.static.values():
        _sort_edges(child)
    for edge in node.edges:
        _sort_edges(edge.node)


def _insert(
    node: _Node, steps: list[str | _Step], rule: Rule, edges: dict[t.Any, _Edge], index: int
) -> None:
    # Add a rule below node; equal steps from the same node share one edge.
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


# -- the map ------------------------------------------------------------------


class Map:
    """The URL rules of an application, with matching and building.

    :param rules: Rules to add right away.
    :param default_subdomain: The subdomain of rules that set none.
    :param strict_slashes: Default of :attr:`Rule.strict_slashes`.
    :param merge_slashes: Default of :attr:`Rule.merge_slashes`, and whether
        matching retries a path with repeated slashes merged.
    :param redirect_defaults: Redirect a match to an earlier rule of the
        endpoint whose defaults give the same values (``/page/1`` to
        ``/page/`` if that has ``defaults={"n": 1}``), and alias rules to
        their canonical URL.
    :param converters: Converters to add to (or replace in) the defaults.
    :param host_matching: Match the full host (:attr:`Rule.host`) instead
        of the subdomain.

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
        #: Converter classes by name; add custom ones before adding rules.
        self.converters: dict[str, type[BaseConverter]] = dict(DEFAULT_CONVERTERS)
        if converters:
            self.converters.update(converters)
        self._rules: list[Rule] = []
        self._rules_by_endpoint: dict[t.Any, list[Rule]] = {}
        # Compiled state: rebuilt by update() while _dirty is set.
        self._lock = threading.Lock()
        self._dirty = True
        self._static: dict[str, dict[str, list[Rule]]] = {}
        self._domains: dict[str, _Node] = {}
        self._domain_edges: list[_Edge] = []
        self._build_index: dict[t.Any, list[Rule]] = {}
        self._empty_domain = ""
        for rule in rules or ():
            self.add(rule)

    def add(self, rule: Rule) -> None:
        """Add a rule; the map recompiles on its next match or build.

        :param rule: A rule not yet in a map.
        :raises ValueError: If the rule's pattern is malformed.
        :raises LookupError: If the rule names an unknown converter.
        :raises RuntimeError: If the rule is already in a map.
        """
        rule.bind(self)
        with self._lock:
            self._rules.append(rule)
            self._rules_by_endpoint.setdefault(rule.endpoint, []).append(rule)
            self._dirty = True

    def iter_rules(self, endpoint: str | None = None) -> t.Iterator[Rule]:
        """Iterate over the rules, in registration order.

        :param endpoint: Only this endpoint's rules (none if unknown).
        :return: An iterator of rules.
        """
        if endpoint is not None:
            return iter(list(self._rules_by_endpoint.get(endpoint, ())))
        return iter(list(self._rules))

    def is_endpoint_expecting(self, endpoint: str, *arguments: str) -> bool:
        """Whether a rule of *endpoint* has all these variables.

        :param endpoint: The endpoint.
        :param arguments: Variable names.
        :return: ``True`` if one rule has them all.
        """
        wanted = set(arguments)
        return any(wanted <= r.arguments for r in self._rules_by_endpoint.get(endpoint, ()))

    def update(self) -> None:
        """Compile the rules for matching and building if they changed.

        :meth:`match` and :meth:`build` call it; call it at startup to keep
        the compile off the first request. Concurrent callers wait for one
        compile.
        """
        with self._lock:
            if not self._dirty:
                return
            static: dict[str, dict[str, list[Rule]]] = {}
            root = _Node()  # its static/edges are the domain transitions
            edges: dict[t.Any, _Edge] = {}
            for index, rule in enumerate(self._rules):
                if rule.build_only:
                    continue
                dom = rule._domain_step
                if isinstance(dom, str) and rule._static_path is not None:
                    static.setdefault(dom, {}).setdefault(rule._static_path, []).append(rule)
                _insert(root, [dom, *rule._steps], rule, edges, index)
            _sort_edges(root)
            build_index: dict[t.Any, list[Rule]] = {}
            for endpoint, rules in self._rules_by_endpoint.items():
                # Canonical rules first, then more variables and defaults,
                # then more defaults; sorted() keeps registration order.
                rules = build_index[endpoint] = sorted(
                    rules, key=lambda r: (r.alias, -len(r._known), -len(r.defaults or ()))
                )
                for pos, rule in enumerate(rules):
                    rule._providers = tuple(
                        other
                        for other in rules[:pos]
                        if other.defaults and not other.build_only and other._known == rule._known
                    )
                    if not self.redirect_defaults:
                        rule._providers = ()
                    rule._special = bool(
                        rule.redirect_to is not None
                        or rule._providers
                        or (rule.alias and self.redirect_defaults)
                    )
            self._static = static
            self._domains = root.static
            self._domain_edges = root.edges
            self._build_index = build_index
            self._empty_domain = "" if self.host_matching else self.default_subdomain
            self._dirty = False

    def match(
        self, path: str, method: str = "GET", domain: str = "", websocket: bool = False
    ) -> tuple[Rule, dict[str, t.Any]]:
        """Find the rule for a request.

        :param path: The percent-decoded path below the app root, from ``/``.
        :param method: The upper-case request method.
        :param domain: The host with host matching, else the subdomain
            (``""`` means the default one).
        :param websocket: Whether this is a WebSocket request.
        :return: The rule and its arguments: the converted variables merged
            over the rule's defaults, in a new dict.
        :raises NotFound: If no rule matches.
        :raises MethodNotAllowed: If rules match the path but not the method;
            ``valid_methods`` lists theirs, sorted.
        :raises RequestRedirect: If the canonical URL differs: trailing
            slash missing, repeated slashes, ``redirect_to``, an alias, or a
            rule providing defaults. ``new_url`` is a quoted path from ``/``
            (or what ``redirect_to`` gave), without script root or query.
        """
        if self._dirty:
            self.update()
        if not domain:
            domain = self._empty_domain
        # PERF: rules without variables: two dict lookups (nested dicts are
        # cheaper than a (domain, path) tuple key).
        table = self._static.get(domain)
        rules = None if table is None else table.get(path)
        if rules is not None:
            for rule in rules:
                methods = rule.methods
                if (methods is None or method in methods) and rule.websocket == websocket:
                    args = dict(rule.defaults) if rule.defaults else {}
                    if rule._special:
                        self._redirect_special(rule, args, method)
                    return rule, args
        try:
            if self._domain_edges:
                found = self._find(path, method, domain, websocket, None)
            else:
                # PERF: no domain patterns: walk the domain's trie directly.
                node = self._domains.get(domain)
                found = None
                if node is not None and path[:1] == "/":
                    parts = path.split("/")
                    values: list[t.Any] = []
                    walked = _walk(node, parts, 1, len(parts), values, method, websocket, None)
                    if walked is not None:
                        found = walked, values
                elif node is not None:
                    found = self._find(path, method, domain, websocket, None)
        except _SlashRequired:
            raise RequestRedirect(_redirect_path(path + "/")) from None
        if found is None:
            self._fail(path, method, domain, websocket)
        rule, values = found
        names = rule._names
        # PERF: most rules have one variable; skip zip() for them.
        args = {names[0]: values[0]} if len(names) == 1 else dict(zip(names, values, strict=False))
        if rule.defaults:
            args = {**rule.defaults, **args}
        if rule._special:
            self._redirect_special(rule, args, method)
        return rule, args

    def _find(
        self, path: str, method: str, domain: str, websocket: bool, allowed: set[str] | None
    ) -> tuple[Rule, list[t.Any]] | None:
        # Walk the trie: the static domain first, then domain patterns.
        parts = path.split("/")
        if parts[0]:  # NOTE: no leading slash: match as if there were one
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
        # Nothing matched: try the path with slashes merged, then 405 or 404.
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
        # PERF: methods for the 405 are collected only on this failure path.
        allowed: set[str] = set()
        for candidate in paths:
            self._find(candidate, method, domain, websocket, allowed)
        if allowed:
            raise MethodNotAllowed(sorted(allowed))
        raise NotFound()

    def _redirect_special(self, rule: Rule, args: dict[str, t.Any], method: str) -> None:
        # Raise the redirect of an alias, defaults-provided or redirect_to
        # rule; return if none applies.
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
                conv = rule._converters.get(m[1])
                value = args[m[1]]
                return conv.to_url(value) if conv else quote(str(value), safe=_PATH_SAFE)

            raise RequestRedirect(_REDIRECT_VAR_RE.sub(fill, target))
        if target is not None:
            raise RequestRedirect(target(self, **args))

    def allowed_methods(self, path: str, domain: str = "", websocket: bool = False) -> list[str]:
        """The methods of the rules matching *path* (for ``OPTIONS``).

        :param path: As for :meth:`match`.
        :param domain: As for :meth:`match`.
        :param websocket: As for :meth:`match`.
        :return: Sorted methods; empty if no rule, or one for any method,
            matches.
        """
        try:
            self.match(path, "--", domain, websocket)
        except MethodNotAllowed as e:
            return list(e.valid_methods or ())
        except (NotFound, RequestRedirect):
            pass
        return []

    def build(
        self,
        endpoint: str,
        values: t.Mapping[str, t.Any] | None = None,
        method: str | None = None,
        append_unknown: bool = True,
    ) -> tuple[str, str]:
        """Build the URL of *endpoint*.

        Candidates: non-alias rules first, then more variables (with
        defaults), more defaults, registration order. The first one that
        fits (:meth:`Rule.suitable_for`) and whose converters accept the
        values wins. Without *method*, rules accepting GET come first.

        :param endpoint: The endpoint.
        :param values: Values of variables; the rest become the query string
            (lists repeat the key). ``None`` values are ignored. A multi-dict
            (with ``getlist``) may give several values for a key.
        :param method: Only use rules accepting this method.
        :param append_unknown: Append unknown values as the query string.
        :return: ``(domain, path)``: the subdomain (the host with host
            matching; ``""`` if none) and the quoted path and query.
        :raises BuildError: If no rule fits.
        """
        if self._dirty:
            self.update()
        clean: dict[str, t.Any] = {}
        getlist = getattr(values, "getlist", None)
        if getlist is not None:
            for key in values:  # type: ignore[union-attr]
                items = [v for v in getlist(key) if v is not None]
                if items:
                    clean[key] = items[0] if len(items) == 1 else items
        elif values:
            clean = {k: v for k, v in values.items() if v is not None}
        rules = self._build_index.get(endpoint) or ()
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
        """Bind the map to a server, for Werkzeug-style matching/building.

        :param server_name: The host (with the port if not the default).
        :param script_name: Where the app is mounted.
        :param subdomain: The current subdomain; ``None`` for the default.
        :param url_scheme: ``http``, ``https``, ``ws`` or ``wss``.
        :param default_method: The method when none is given.
        :param path_info: The default path of :meth:`MapAdapter.match`.
        :param query_args: Query string appended to redirect URLs.
        :return: A new :class:`MapAdapter`.
        :raises RuntimeError: If a subdomain is given with host matching.
        """
        if self.host_matching and subdomain is not None:
            raise RuntimeError("a subdomain cannot be bound with host matching enabled")
        return MapAdapter(
            self,
            server_name.lower(),
            script_name or "/",
            self.default_subdomain if subdomain is None else subdomain,
            url_scheme,
            path_info or "/",
            default_method,
            query_args,
        )

    def __repr__(self) -> str:
        rules = "".join(f"\n    {rule!r}," for rule in self._rules)
        return f"{type(self).__name__}([{rules}\n])" if rules else f"{type(self).__name__}([])"


class MapAdapter:
    """A :class:`Map` bound to a server name, script root and subdomain.

    Werkzeug's bound ``match``/``build`` API over :meth:`Map.match` and
    :meth:`Map.build`, with absolute redirect URLs; made by :meth:`Map.bind`.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        map: Map,
        server_name: str,
        script_name: str,
        subdomain: str,
        url_scheme: str,
        path_info: str,
        default_method: str,
        query_args: t.Mapping[str, t.Any] | str | None,
    ) -> None:
        self.map = map
        self.server_name = server_name
        self.script_name = script_name.rstrip("/") + "/"  # one trailing slash
        self.subdomain = subdomain
        self.url_scheme = url_scheme
        self.path_info = path_info
        self.default_method = default_method
        self.query_args = query_args
        self.websocket = url_scheme in ("ws", "wss")

    def _domain(self) -> str:
        return self.server_name if self.map.host_matching else self.subdomain

    def match(
        self,
        path_info: str | None = None,
        method: str | None = None,
        return_rule: bool = False,
        query_args: t.Mapping[str, t.Any] | str | None = None,
        websocket: bool | None = None,
    ) -> tuple[t.Any, dict[str, t.Any]]:
        """Match a path, like :meth:`Map.match`.

        :param path_info: The path; default: the bound one.
        :param method: The method; default: the bound default method.
        :param return_rule: Return the rule rather than its endpoint.
        :param query_args: Query string appended to redirect URLs.
        :param websocket: Default: whether the scheme is ``ws``/``wss``.
        :return: ``(endpoint or rule, arguments)``.
        :raises NotFound: See :meth:`Map.match`.
        :raises MethodNotAllowed: See :meth:`Map.match`.
        :raises RequestRedirect: With an absolute ``new_url``.
        """
        path = "/" + (self.path_info if path_info is None else path_info).lstrip("/")
        method = (method or self.default_method).upper()
        ws = self.websocket if websocket is None else websocket
        try:
            rule, args = self.map.match(path, method, self._domain(), ws)
        except RequestRedirect as e:
            query = self.query_args if query_args is None else query_args
            raise RequestRedirect(self._absolute(e.new_url, query)) from None
        return (rule if return_rule else rule.endpoint), args

    def _absolute(self, url: str, query: t.Mapping[str, t.Any] | str | None) -> str:
        # An absolute URL on this server; absolute targets stay as they are.
        if "://" in url or url.startswith("//"):
            return url
        host = self.server_name
        if self.subdomain and not self.map.host_matching:
            host = f"{self.subdomain}.{host}"
        base = f"{self.url_scheme}://{host}{self.script_name}"
        url = base[:-1] + url if url.startswith("/") else urljoin(base, url)
        if query and "?" not in url:
            url += "?" + (query if isinstance(query, str) else url_encode(query))
        return url

    def test(self, path_info: str | None = None, method: str | None = None) -> bool:
        """Whether a rule matches (a redirect counts).

        :param path_info: The path; default: the bound one.
        :param method: The method; default: the bound default method.
        :return: ``False`` if matching raises NotFound or MethodNotAllowed.
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
        return self.map.allowed_methods(path, self._domain(), self.websocket)

    def build(
        self,
        endpoint: str,
        values: t.Mapping[str, t.Any] | None = None,
        method: str | None = None,
        force_external: bool = False,
        append_unknown: bool = True,
        url_scheme: str | None = None,
    ) -> str:
        """Build a URL; relative to the server if the domain is the bound one.

        :param endpoint: The endpoint.
        :param values: See :meth:`Map.build`.
        :param method: See :meth:`Map.build`; if omitted, rules accepting the
            bound default method come first.
        :param force_external: Always return an absolute URL.
        :param append_unknown: See :meth:`Map.build`.
        :param url_scheme: The scheme of absolute URLs; default: the bound one.
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
