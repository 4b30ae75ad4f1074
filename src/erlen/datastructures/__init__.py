"""Containers for request and response data.

The package follows Werkzeug's ``datastructures`` seams:

- :mod:`.structures`: :class:`MultiDict` and friends (form data, query
  arguments, cookies, where a key may repeat) and :class:`CallbackDict`;
- :mod:`.headers`: :class:`Headers`, the ordered, case-insensitive header
  list of a response, and :class:`EnvironHeaders`, a zero-copy, read-only
  view of the headers in a WSGI environ;
- :mod:`.accept`, :mod:`.auth`, :mod:`.etag`, :mod:`.user_agent`: parsed
  forms of specific headers (``Accept*``, ``Authorization``,
  ``WWW-Authenticate``, ``If-Match``/``If-None-Match``, ``User-Agent``);
- :mod:`.file_storage`: :class:`FileStorage`, an uploaded file (imported on
  first use, like the multipart parser that makes it).

Every name is importable from ``erlen.datastructures`` itself.

.. versionadded:: 0.1
"""

from __future__ import annotations

import typing as t

from .accept import Accept, CharsetAccept, LanguageAccept, MIMEAccept
from .auth import Authorization, WWWAuthenticate
from .etag import ETags

# The header-name cache is private, but tests read it from here.
from .headers import _ENVIRON_KEYS_MAX as _ENVIRON_KEYS_MAX
from .headers import EnvironHeaders, Headers
from .headers import _environ_keys as _environ_keys
from .structures import (
    CallbackDict,
    CombinedMultiDict,
    HeaderSet,
    ImmutableMultiDict,
    MultiDict,
    iter_multi_items,
)
from .user_agent import UserAgent

if t.TYPE_CHECKING:  # pragma: no cover
    from .file_storage import FileStorage as FileStorage

__all__ = [
    "Accept",
    "Authorization",
    "CallbackDict",
    "CharsetAccept",
    "CombinedMultiDict",
    "ETags",
    "EnvironHeaders",
    "HeaderSet",
    "Headers",
    "ImmutableMultiDict",
    "LanguageAccept",
    "MIMEAccept",
    "MultiDict",
    "UserAgent",
    "WWWAuthenticate",
    "iter_multi_items",
]


def __getattr__(name: str) -> t.Any:
    # PERF: FileStorage brings shutil along and is only needed with uploads;
    # it is imported on first use, as before the package split.
    if name == "FileStorage":
        from .file_storage import FileStorage as FileStorage

        return FileStorage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
