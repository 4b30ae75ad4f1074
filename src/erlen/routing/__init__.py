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

Its modules, along Werkzeug's seams (each imports only those above it):

- :mod:`.converters`: :class:`BaseConverter`, the built-in converters and
  :data:`DEFAULT_CONVERTERS`;
- :mod:`.rules`: :class:`Rule`: parsing a pattern, compiling it into trie
  steps, building its URL; the rule factories (:class:`Submount`,
  :class:`Subdomain`, :class:`EndpointPrefix`, :class:`RuleTemplate`) that
  add groups of rules;
- :mod:`.matcher`: the segment trie, its insertion and its walk (private);
- :mod:`.map`: :class:`Map` (adding rules, compiling, ``match``,
  ``allowed_methods``, ``build``, ``bind``) and :class:`MapAdapter`.

Every public name is importable from ``erlen.routing`` itself.

.. versionadded:: 0.1
"""

from __future__ import annotations

# NOTE: reachable as erlen.routing.X before the package split (the module
# imported them); kept so that, and werkzeug.routing.X through the compat
# shim, still resolve.
from ..exceptions import BuildError as BuildError
from ..exceptions import MethodNotAllowed as MethodNotAllowed
from ..exceptions import NotFound as NotFound
from ..exceptions import RequestRedirect as RequestRedirect
from ..http import url_encode as url_encode
from .converters import (
    DEFAULT_CONVERTERS,
    AnyConverter,
    BaseConverter,
    FloatConverter,
    IntegerConverter,
    NumberConverter,
    PathConverter,
    UnicodeConverter,
    UUIDConverter,
    ValidationError,
)
from .map import Map, MapAdapter
from .rules import (
    EndpointPrefix,
    Rule,
    RuleFactory,
    RuleTemplate,
    RuleTemplateFactory,
    Subdomain,
    Submount,
)
from .rules import _parse_converter_args as _parse_converter_args

__all__ = [
    "AnyConverter",
    "BaseConverter",
    "DEFAULT_CONVERTERS",
    "EndpointPrefix",
    "FloatConverter",
    "IntegerConverter",
    "Map",
    "MapAdapter",
    "NumberConverter",
    "PathConverter",
    "Rule",
    "RuleFactory",
    "RuleTemplate",
    "RuleTemplateFactory",
    "Subdomain",
    "Submount",
    "UUIDConverter",
    "UnicodeConverter",
    "ValidationError",
]
