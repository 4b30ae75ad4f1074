"""Parse and format HTTP header values, cookies, dates and query strings.

Everything here is a pure function of strings or bytes: no I/O, no WSGI
environ, no request object. The request and response wrappers call into
this package to turn raw header text into Python values and back. Its
modules, as in Werkzeug's ``http`` and ``urls``:

- :mod:`.status`: :data:`HTTP_STATUS_CODES`;
- :mod:`.headers`: quoting, and parsing and dumping of structured header
  values (lists, dicts, options, ``Accept``, entity tags, authentication);
- :mod:`.dates`: HTTP dates;
- :mod:`.cookies`: ``Cookie`` and ``Set-Cookie``;
- :mod:`.urls`: query strings, URL quoting, IRIs, trusted hosts;
- :mod:`.conditional`: ``If-*`` and ``Range`` requests (private, and not
  imported with the package: only the response wrapper needs it).

Every public name is importable from ``erlen.http`` itself.

.. versionadded:: 0.1
"""

from __future__ import annotations

# erlen.exceptions imports this package at import time, and
# erlen.datastructures imports both; so no module imported here imports
# either of them at module level.
from .cookies import dump_cookie, parse_cookie
from .dates import http_date, parse_date
from .headers import (
    dump_header,
    dump_options_header,
    generate_etag,
    parse_accept_header,
    parse_authorization_header,
    parse_dict_header,
    parse_etags,
    parse_list_header,
    parse_options_header,
    parse_www_authenticate_header,
    quote_etag,
    quote_header_value,
    unquote_etag,
    unquote_header_value,
)
from .status import HTTP_STATUS_CODES
from .urls import (
    host_is_trusted,
    iri_to_uri,
    url_decode,
    url_encode,
    url_quote,
    url_unquote,
)

__all__ = [
    "HTTP_STATUS_CODES",
    "dump_cookie",
    "dump_header",
    "dump_options_header",
    "generate_etag",
    "host_is_trusted",
    "http_date",
    "iri_to_uri",
    "parse_accept_header",
    "parse_authorization_header",
    "parse_cookie",
    "parse_date",
    "parse_dict_header",
    "parse_etags",
    "parse_list_header",
    "parse_options_header",
    "parse_www_authenticate_header",
    "quote_etag",
    "quote_header_value",
    "unquote_etag",
    "unquote_header_value",
    "url_decode",
    "url_encode",
    "url_quote",
    "url_unquote",
]
