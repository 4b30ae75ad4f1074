"""The matcher: a segment trie over the compiled rules of a map.

:meth:`Map.update <erlen.routing.Map.update>` inserts each rule's steps
(:func:`_insert`) and sorts the dynamic edges once (:func:`_sort_edges`);
:meth:`Map.match <erlen.routing.Map.match>` walks the trie (:func:`_walk`):
a static dict transition first, then the node's dynamic edges in weight
order, backtracking on failure. The cost depends on the depth of the path,
not on the number of rules. Everything here is private to the package.

.. versionadded:: 0.1
"""

from __future__ import annotations

import bisect
import re
import typing as t

from .._compiled import mypyc_attr
from .converters import BaseConverter, NumberConverter
from .rules import _MIXED, _TAIL, _WHOLE, _Step

if t.TYPE_CHECKING:
    from .rules import Rule

__all__: list[str] = []


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
        self.fullmatch: t.Callable[[str], t.Any] = re.compile(step.pattern, re.DOTALL).fullmatch
        if step.kind == _TAIL and len(step.converters) > 1:
            # NOTE: a regex with several converters that may span "/" (or a
            # path converter before another converter) backtracks in
            # polynomial time of a degree that grows with the converters
            # (issue 15, finding 4); a tail of one converter is linear and
            # keeps the regex.
            self.fullmatch = _Tail(step).fullmatch
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


#: The most characters a tail's generic converters may examine per match
#: (see :class:`_Tail`); past it the tail does not match (a 404).
TAIL_BUDGET = 1_000_000

_ANY, _SEGMENT, _GENERIC = 0, 1, 2  # converter classes of a tail


# A Python class when compiled too: a native one can't alias a dict method.
@mypyc_attr(native_class=False)
class _TailMatch(dict[str, str]):
    """The groups of a tail match, read like a regex match's."""

    group = dict.__getitem__


class _Tail:
    """Matches a tail of several converters in time linear in the path.

    It gives the regex's answer without its backtracking: ``ok[j][p]`` says
    whether items ``j:`` match ``path[p:]``, filled from the last item back
    (a literal by ``startswith``; the path converter's ``[^/].*?`` and the
    default ``[^/]+`` by a running "some end further on works"; any other
    converter by its regex over the candidate ends, within
    :data:`TAIL_BUDGET`). Then each converter, first to last, takes the end
    its regex would try first (shortest for a lazy one, longest for a greedy
    one) among those after which the rest matches: the regex's own choice.
    """

    __slots__ = ("items", "suffixed")

    def __init__(self, step: _Step) -> None:
        self.suffixed = step.suffixed
        items: list[
            tuple[int, t.Any, bool, bool]
        ] = []  # (class or -1 for text, text or regex, lazy, isolating)
        for token in step.tokens:
            if isinstance(token, str):
                if items and items[-1][0] == -1:
                    items[-1] = (-1, items[-1][1] + token, False, True)
                else:
                    items.append((-1, token, False, True))
                continue
            conv = token[1]
            regex = conv.regex
            if regex == "[^/].*?":
                items.append((_ANY, None, True, False))
            elif regex in ("[^/]+", "[^/]{1,}"):
                items.append((_SEGMENT, None, False, True))
            else:
                lazy = regex.endswith(("*?", "+?", "??", "}?"))
                items.append(
                    (_GENERIC, re.compile(regex, re.DOTALL).fullmatch, lazy, conv.part_isolating)
                )
        self.items = items

    def fullmatch(self, path: str) -> _TailMatch | None:
        slash = ""
        if self.suffixed and path.endswith("/"):
            path, slash = path[:-1], "/"
        if self.suffixed and path.endswith("/"):
            return None  # the regex's (?<!/): a value never ends in the rule's slash
        n = len(path)
        items = self.items
        # slashes[p]: where the segment at p ends (the next "/" or n).
        slashes = [n] * (n + 1)
        end = n
        for p in range(n - 1, -1, -1):
            if path[p] == "/":
                end = p
            slashes[p] = end
        budget = TAIL_BUDGET
        ok: list[list[bool]] = [[False] * (n + 1) for _ in range(len(items) + 1)]
        ok[-1][n] = True
        for j in range(len(items) - 1, -1, -1):
            kind, what, _, isolating = items[j]
            after, here = ok[j + 1], ok[j]
            if kind == -1:
                size = len(what)
                for p in range(n - size + 1):
                    if after[p + size] and path.startswith(what, p):
                        here[p] = True
            elif kind == _ANY:
                later = False  # some q > p has after[q]
                for p in range(n - 1, -1, -1):
                    later = later or after[p + 1]
                    here[p] = later and path[p] != "/"
            elif kind == _SEGMENT:
                for p in range(n - 1, -1, -1):
                    here[p] = path[p] != "/" and (after[p + 1] or here[p + 1])
            else:
                candidates = [q for q in range(n + 1) if after[q]]
                for p in range(n + 1):
                    limit = slashes[p] if isolating else n
                    for k in range(bisect.bisect_left(candidates, p), len(candidates)):
                        q = candidates[k]
                        if q > limit:
                            break
                        budget -= q - p + 1
                        if budget < 0:
                            return None
                        if what(path, p, q) is not None:
                            here[p] = True
                            break
        if not ok[0][0]:
            return None
        groups = _TailMatch()
        p = 0
        number = 0
        for j, (kind, what, lazy, isolating) in enumerate(items):
            if kind == -1:
                p += len(what)
                continue
            after = ok[j + 1]
            limit = slashes[p] if isolating else n
            ends = range(p + 1, limit + 1) if lazy else range(limit, p, -1)
            if kind == _GENERIC:
                ends = range(p, limit + 1) if lazy else range(limit, p - 1, -1)
                found = next(q for q in ends if after[q] and what(path, p, q) is not None)
            else:
                found = next(q for q in ends if after[q])
            groups[f"_{number}"] = path[p:found]
            number += 1
            p = found
        groups["_slash"] = slash
        return groups


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
            if i + 1 == n:
                # PERF: the last segment (the usual place of a variable):
                # what the recursive call does at i == n, without the call.
                rule = None
                below = edge.node
                for candidate in below.rules:
                    methods = candidate.methods
                    if methods is not None and method not in methods:
                        if allowed is not None:
                            allowed.update(methods)
                    elif candidate.websocket == websocket:
                        return candidate
                slash = below.static.get("")
                if slash is not None:
                    rule = _pick_slash(slash.rules, method, websocket)
            else:
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


def _last_variables(node: _Node, prefix: str, out: dict[str, tuple[_Node, _Edge]]) -> None:
    # PERF: index, by the text of their path, the nodes reached by static
    # steps only whose one way on is a single plain variable segment ending
    # the path (/user/<name>, /r999/<int:id>): Map.match then finds a path's
    # rule from its last "/" without splitting and walking it.
    if len(node.edges) == 1:
        edge = node.edges[0]
        below = edge.node
        if (
            edge.kind == _WHOLE
            and edge.check != _CHECK_REGEX
            and not below.edges
            and all(part == "" for part in below.static)
        ):
            out[prefix] = (node, edge)
    for part, child in node.static.items():
        _last_variables(child, f"{prefix}/{part}", out)


def _match_last(
    node: _Node, edge: _Edge, part: str, method: str, websocket: bool
) -> tuple[Rule, t.Any] | None:
    # What _walk finds first for a path whose last segment `part` leaves
    # `node` (indexed by _last_variables) when that is the edge's rule, with
    # the segment's converted value, or None when the walk would go on
    # elsewhere (then it runs in full).
    if not part or part in node.static:
        return None
    if edge.check == _CHECK_DIGITS and not (part.isdigit() and part.isascii()):
        return None
    convert = edge.convert
    value: t.Any = part
    if convert is not None:
        try:
            value = convert(part)
        except ValueError:  # NOTE: includes ValidationError
            return None
    below = edge.node
    for candidate in below.rules:
        methods = candidate.methods
        if (methods is None or method in methods) and candidate.websocket == websocket:
            return candidate, value
    slash = below.static.get("")
    if slash is not None:
        rule = _pick_slash(slash.rules, method, websocket)
        if rule is not None:
            return rule, value
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
