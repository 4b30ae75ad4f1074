"""Rules: one URL pattern, parsed, compiled and built.

:class:`Rule` parses its pattern when added to a map (placeholders, the
converters' arguments), compiles it into what the matcher needs (a static
path, or one step per segment: text, or a regex with its converters), and
precomputes its URL builder. Matching many rules at once is
:mod:`erlen.routing.matcher`'s job.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
import typing as t
from string import Template
from urllib.parse import quote

from ..http import url_encode
from .converters import _PATH_SAFE, BaseConverter

if t.TYPE_CHECKING:
    from .map import Map

__all__ = [
    "EndpointPrefix",
    "Rule",
    "RuleFactory",
    "RuleTemplate",
    "RuleTemplateFactory",
    "Subdomain",
    "Submount",
]

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
_SLASH_SPLIT_RE = re.compile("(/)")

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

    __slots__ = ("kind", "pattern", "converters", "key", "order", "suffixed", "tokens")

    def __init__(self, kind: int, tokens: list[_Token], suffixed: bool = False) -> None:
        self.kind = kind
        self.suffixed = suffixed
        #: The static text and converters, for the tail matcher.
        self.tokens = tokens
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


class RuleFactory:
    """Something that gives rules to a map: :meth:`Map.add` takes any of these.

    A :class:`Rule` gives itself; :class:`Submount`, :class:`Subdomain`,
    :class:`EndpointPrefix` and :class:`RuleTemplate` give changed copies of
    the rules (or factories) they hold, so one group of rules can be mounted
    under a path, a subdomain or an endpoint prefix. The rules are made when
    the factory is added, never while matching.

    .. versionadded:: 0.1
    """

    def get_rules(self, map: Map) -> t.Iterable[Rule]:
        """The rules to add to ``map``, each one not yet in a map."""
        raise NotImplementedError()


def _expand(factories: t.Iterable[RuleFactory], map: Map) -> t.Iterator[Rule]:
    """Fresh copies of the rules ``factories`` give, ready to change."""
    for factory in factories:
        for rule in factory.get_rules(map):
            yield rule.empty()


class Submount(RuleFactory):
    """Its rules, with ``path`` in front of each pattern.

    ``Submount("/blog", [Rule("/", endpoint="index")])`` gives ``/blog/``.

    .. versionadded:: 0.1
    """

    def __init__(self, path: str, rules: t.Iterable[RuleFactory]) -> None:
        self.path = path.rstrip("/")
        self.rules = list(rules)

    def get_rules(self, map: Map) -> t.Iterator[Rule]:
        for rule in _expand(self.rules, map):
            rule.rule = self.path + rule.rule
            yield rule


class Subdomain(RuleFactory):
    """Its rules, all on ``subdomain`` (which may hold placeholders, e.g. ``<user>``).

    .. versionadded:: 0.1
    """

    def __init__(self, subdomain: str, rules: t.Iterable[RuleFactory]) -> None:
        self.subdomain = subdomain
        self.rules = list(rules)

    def get_rules(self, map: Map) -> t.Iterator[Rule]:
        for rule in _expand(self.rules, map):
            rule.subdomain = self.subdomain
            yield rule


class EndpointPrefix(RuleFactory):
    """Its rules, with ``prefix`` in front of each endpoint.

    .. versionadded:: 0.1
    """

    def __init__(self, prefix: str, rules: t.Iterable[RuleFactory]) -> None:
        self.prefix = prefix
        self.rules = list(rules)

    def get_rules(self, map: Map) -> t.Iterator[Rule]:
        for rule in _expand(self.rules, map):
            rule.endpoint = f"{self.prefix}{rule.endpoint}"
            yield rule


class RuleTemplate:
    """Rules whose patterns, endpoints, subdomains and string defaults hold ``$name`` fields.

    Calling it with the fields' values (as ``dict()`` takes them) gives a
    :class:`RuleTemplateFactory` to add to a map::

        resource = RuleTemplate([Rule("/$name/", endpoint="$name.list")])
        url_map = Map([resource(name="users"), resource(name="posts")])

    The fields are :class:`string.Template`'s; a missing one raises
    ``KeyError`` when the factory is added.

    .. versionadded:: 0.1
    """

    def __init__(self, rules: t.Iterable[RuleFactory]) -> None:
        self.rules = list(rules)

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> RuleTemplateFactory:
        return RuleTemplateFactory(self.rules, dict(*args, **kwargs))


class RuleTemplateFactory(RuleFactory):
    """A :class:`RuleTemplate`'s rules with its fields filled from ``context``.

    .. versionadded:: 0.1
    """

    def __init__(self, rules: t.Iterable[RuleFactory], context: dict[str, t.Any]) -> None:
        self.rules = list(rules)
        self.context = context

    def _fill(self, text: str) -> str:
        return Template(text).substitute(self.context)

    def get_rules(self, map: Map) -> t.Iterator[Rule]:
        for rule in _expand(self.rules, map):
            rule.rule = self._fill(rule.rule)
            if isinstance(rule.endpoint, str):
                rule.endpoint = self._fill(rule.endpoint)
            if rule.subdomain is not None:
                rule.subdomain = self._fill(rule.subdomain)
            if rule.defaults:
                rule.defaults = {
                    key: self._fill(value) if isinstance(value, str) else value
                    for key, value in rule.defaults.items()
                }
            yield rule


class Rule(RuleFactory):
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
        self._domain = domain
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

    @property
    def _trace(self) -> list[tuple[bool, str]]:
        # Werkzeug's record of a compiled rule, (is_dynamic, text) per part:
        # the domain's, a (False, "|") separator, then the path's. It is
        # private there too, but API doc builders read it for the path
        # parameters in order (flask-smorest), so it is built on demand
        # from the parsed tokens; nothing on the request path uses it.
        if self.map is None:
            return []

        def parts(tokens: list[_Token]) -> list[tuple[bool, str]]:
            # Static text comes in pieces split at each slash, as Werkzeug's.
            rv: list[tuple[bool, str]] = []
            for tok in tokens:
                if isinstance(tok, str):
                    rv.extend((False, piece) for piece in _SLASH_SPLIT_RE.split(tok) if piece)
                else:
                    rv.append((True, tok[0]))
            return rv

        return [*parts(self._domain), (False, "|"), *parts(self._path)]

    def get_rules(self, map: Map) -> t.Iterator[Rule]:
        """The rule itself (a rule is its own factory)."""
        yield self

    def get_empty_kwargs(self) -> dict[str, t.Any]:
        """The keyword arguments that make a copy of this rule (see :meth:`empty`)."""
        return {
            "endpoint": self.endpoint,
            "methods": self.methods,
            "defaults": dict(self.defaults) if self.defaults else self.defaults,
            "strict_slashes": self.strict_slashes,
            "merge_slashes": self.merge_slashes,
            "redirect_to": self.redirect_to,
            "subdomain": self.subdomain,
            "host": self.host,
            "build_only": self.build_only,
            "websocket": self.websocket,
            "alias": self.alias,
        }

    def empty(self) -> Rule:
        """A copy of this rule that is in no map, e.g. to change and add to another map."""
        return type(self)(self.rule, **self.get_empty_kwargs())

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
