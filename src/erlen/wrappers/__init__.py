"""The request and response objects, independent of any server interface.

:class:`Request` is built by an adapter (:mod:`erlen.wsgi`, :mod:`erlen.asgi`)
from a handful of plain values: method, path, query bytes, a header mapping,
a body stream and a few connection facts. Everything else (``args``,
``cookies``, ``form``, ``json``, ``accept_*``, ...) is computed on first
access and cached, so a request costs only what its view reads.

:class:`Response` holds a status, a :class:`~erlen.datastructures.Headers`
list and a body that is either a list of bytes or an iterable streamed to the
client; the adapters turn it into their protocol's messages.

Its modules, along Werkzeug's seams (neither imports the other):

- :mod:`.request`: :class:`Request` and its body helpers (the length- and
  limit-checked body stream, the per-request limits, the cache of parsed
  ``Cookie`` headers, the glue to :mod:`erlen.formparser`);
- :mod:`.response`: :class:`Response`, its date headers, the content-type
  helpers, and the conditional part (ETags, ranges, ``make_conditional``).

Both classes are importable from ``erlen.wrappers`` itself.

.. versionadded:: 0.1
"""

from __future__ import annotations

# NOTE: the private names were reachable as erlen.wrappers.X before the
# package split (the module defined them; tests read the cookie cache and
# the content-type cache). The dicts are the submodules' own objects, so
# reading them here sees the live cache; to patch a name, patch it on the
# submodule that uses it.
# (_multipart_parser is not here: request.py rebinds it on first upload.)
from .request import _COOKIE_CACHE_MAX_HEADER as _COOKIE_CACHE_MAX_HEADER
from .request import _COOKIE_CACHE_SIZE as _COOKIE_CACHE_SIZE
from .request import _EMPTY_MULTIDICT as _EMPTY_MULTIDICT
from .request import _FORM_MIMETYPES as _FORM_MIMETYPES
from .request import Request
from .request import _Body as _Body
from .request import _cookie_cache as _cookie_cache
from .request import _EmptyBody as _EmptyBody
from .request import _Limit as _Limit
from .request import _parse_multipart as _parse_multipart
from .response import _CONTENT_TYPES as _CONTENT_TYPES
from .response import _HEADERS_PROPERTY as _HEADERS_PROPERTY
from .response import _STATUS_LINES as _STATUS_LINES
from .response import Response
from .response import _content_type as _content_type
from .response import _content_type_uncached as _content_type_uncached
from .response import _DateHeader as _DateHeader
from .response import _to_bytes as _to_bytes

__all__ = ["Request", "Response"]
