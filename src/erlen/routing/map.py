"""The map: a set of rules, matched and built as one.

:class:`Map` adds rules, compiles them on first use (a static dict for rules
without variables, the trie of :mod:`erlen.routing.matcher` for the others,
and a per-endpoint build index), matches a request (:meth:`Map.match`,
:meth:`Map.allowed_methods`) and builds URLs (:meth:`Map.build`).
:meth:`Map.bind` returns a :class:`MapAdapter` with Werkzeug's bound API.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
import threading
import typing as t
from urllib.parse import quote, urljoin

from ..exceptions import BuildError, MethodNotAllowed, NotFound, RequestRedirect
from ..http import url_encode
from .converters import _PATH_SAFE, DEFAULT_CONVERTERS, BaseConverter
from .matcher import (
    _Edge,
    _insert,
    _last_variables,
    _match_last,
    _Node,
    _SlashRequired,
    _sort_edges,
    _walk,
)
from .rules import _MULTI_SLASH_RE, _REDIRECT_VAR_RE, Rule, RuleFactory

__all__ = ["Map", "MapAdapter"]


def _redirect_path(path: str) -> str:
    # Quote a decoded path for a redirect. NOTE: leading slashes collapse to
    # one, as "//evil.example/" would be a protocol-relative URL to another
    # host (an open redirect).
    return "/" + quote(path.lstrip("/"), safe=_PATH_SAFE)


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
        rules: t.Iterable[RuleFactory] | None = None,
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
        self._last_variables: dict[str, dict[str, tuple[_Node, _Edge]]] = {}
        self._domains: dict[str, _Node] = {}
        self._domain_edges: list[_Edge] = []
        self._build_index: dict[t.Any, list[Rule]] = {}
        self._empty_domain = ""
        self._empty_static: dict[str, list[Rule]] | None = None
        self._empty_last: dict[str, tuple[_Node, _Edge]] | None = None
        for rule in rules or ():
            self.add(rule)

    def add(self, rulefactory: RuleFactory) -> None:
        """Add a rule, or the rules of a factory (:class:`Submount`, ...); the map recompiles on its next match or build.

        :param rulefactory: A rule not yet in a map, or a :class:`RuleFactory`.
        :raises ValueError: If a rule's pattern is malformed.
        :raises LookupError: If a rule names an unknown converter.
        :raises RuntimeError: If a rule is already in a map.
        """
        for rule in rulefactory.get_rules(self):
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
            last_variables: dict[str, dict[str, tuple[_Node, _Edge]]] = {}
            for domain, node in root.static.items():
                _last_variables(node, "", last_variables.setdefault(domain, {}))
            self._static = static
            self._last_variables = last_variables
            self._domains = root.static
            self._domain_edges = root.edges
            self._build_index = build_index
            self._empty_domain = "" if self.host_matching else self.default_subdomain
            self._empty_static = static.get(self._empty_domain)
            self._empty_last = last_variables.get(self._empty_domain)
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
        :return: The rule and its arguments: the converted variables and
            the rule's defaults (which win where both name a value), in a new dict.
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
        # PERF: rules without variables: two dict lookups (nested dicts are
        # cheaper than a (domain, path) tuple key), one for the usual empty
        # domain, whose tables are kept at hand.
        if not domain:
            domain = self._empty_domain
            table = self._empty_static
            last = self._empty_last
        else:
            table = self._static.get(domain)
            last = self._last_variables.get(domain)
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
                found = None
                if last:
                    # PERF: a path ending in a variable segment that an
                    # indexed node takes: no split, no walk (see matcher);
                    # a miss costs a 404 about a third of what it saves.
                    head, _, part = path.rpartition("/")
                    hit = last.get(head)
                    if hit is not None:
                        taken = _match_last(hit[0], hit[1], part, method, websocket)
                        if taken is not None:
                            # PERF: the rule has that one variable: its
                            # arguments are made here, with no list of values.
                            rule, value = taken
                            args = {rule._names[0]: value}
                            if rule.defaults:
                                args.update(rule.defaults)  # they win, as below
                            if rule._special:
                                self._redirect_special(rule, args, method)
                            return rule, args
                node = self._domains.get(domain)
                if node is not None and path[:1] == "/":
                    parts = path.split("/")
                    if parts[1] and parts[1] not in node.static and not node.edges:
                        # PERF: no rule even starts like this path (a typical
                        # 404): a walk, and the one collecting methods for a
                        # 405, would stop at once, and with merged slashes the
                        # first segment would be the same (it is not empty).
                        raise NotFound()
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
            # As Werkzeug: a rule's defaults win over its matched values
            # (a rule with a default for one of its own variables answers
            # that default).
            args.update(rule.defaults)
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
