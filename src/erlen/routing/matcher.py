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

import re
import typing as t

from .converters import BaseConverter, NumberConverter
from .rules import _MIXED, _WHOLE, _Step

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
