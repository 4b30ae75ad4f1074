"""Small adapters for Flask and Werkzeug names that Erlen spells differently.

Only what has no direct Erlen counterpart lives here; everything else in the
shim modules is Erlen's own object.
"""

from __future__ import annotations

import os
import typing as t

from .. import json as _erlen_json
from ..globals import _cv
from ..testing import EnvironBuilder as _ErlenEnvironBuilder

if t.TYPE_CHECKING:
    from ..ctx import AppContext

#: The Flask release whose API the compat layer follows; ``flask.__version__``.
FLASK_VERSION = "3.1.3"
#: The Werkzeug release whose names the compat layer follows.
WERKZEUG_VERSION = "3.1.9"

_missing: t.Any = object()


class _ContextView:
    """A read-only stand-in for Flask's ``_cv_app`` / ``_cv_request`` variables.

    Flask keeps the app and the request context in two context variables;
    Erlen keeps one context (a request context is also the app context) in
    one. Extensions only call ``.get()`` on Flask's, so this answers that.

    :param request_only: Answer only when the active context carries a request.
    """

    __slots__ = ("name", "_request_only")

    def __init__(self, name: str, request_only: bool) -> None:
        self.name = name
        self._request_only = request_only

    def get(self, default: t.Any = _missing) -> AppContext | t.Any:
        """The active context, else ``default`` (``LookupError`` without one)."""
        ctx = _cv.get(None)
        if ctx is not None:
            if not self._request_only:
                # The outer app context a request runs in, as Flask's _cv_app.
                return ctx._outer or ctx
            if ctx.request is not None:
                return ctx
        if default is _missing:
            raise LookupError(self)
        return default

    def __repr__(self) -> str:
        return f"<erlen.compat view of the context variable {self.name!r}>"


cv_app = _ContextView("flask.app_ctx", request_only=False)
cv_request = _ContextView("flask.request_ctx", request_only=True)


def get_debug_flag() -> bool:
    """``flask.helpers.get_debug_flag``: whether ``ERLEN_DEBUG`` or, when that
    is unset, ``FLASK_DEBUG`` asks for debug mode."""
    value = os.environ.get("ERLEN_DEBUG", os.environ.get("FLASK_DEBUG", ""))
    return bool(value) and value.lower() not in ("0", "false", "no", "off")


# Flask's default provider calls json.dumps with its default separators when
# given no options; Erlen's writes compact JSON then (see erlen.json).
_FLASK_SEPARATORS = (", ", ": ")


def json_dumps(obj: t.Any, **kwargs: t.Any) -> str:
    """``flask.json.dumps``: the current app's provider, with Flask's spacing.

    Erlen's :class:`~erlen.json.DefaultJSONProvider` writes ``[1,"a"]`` when
    called without options; Flask's writes ``[1, "a"]``, and extensions put
    that text in pages their tests compare (Flask-Admin's ``data-json``
    attributes). So an Erlen default provider called without options gets
    json's default separators here; another provider is called as is.
    Outside an app context, the standard library writes it, as in Flask.
    """
    ctx = _cv.get(None)
    if ctx is None:
        return _erlen_json.dumps(obj, **kwargs)
    provider = ctx.app.json
    # With any option given, Erlen's provider already calls json.dumps as Flask's does.
    if not kwargs and type(provider).dumps is _erlen_json.DefaultJSONProvider.dumps:
        kwargs["separators"] = _FLASK_SEPARATORS
    return provider.dumps(obj, **kwargs)


def json_dump(obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
    """``flask.json.dump``: :func:`json_dumps` written to a text file."""
    fp.write(json_dumps(obj, **kwargs))


def get_load_dotenv(default: bool = True) -> bool:
    """Whether the CLI should load ``.env`` files (``ERLEN_SKIP_DOTENV`` or ``FLASK_SKIP_DOTENV`` off)."""
    value = os.environ.get("ERLEN_SKIP_DOTENV", os.environ.get("FLASK_SKIP_DOTENV"))
    if not value:
        return default
    return value.lower() in ("0", "false", "no")


class EnvironBuilder(_ErlenEnvironBuilder):
    """Werkzeug's ``EnvironBuilder`` signature: the path comes first, no app.

    Erlen's (like Flask's ``flask.testing.EnvironBuilder``) takes the app
    first; code written against ``werkzeug.test`` passes the path first.
    """

    def __init__(self, path: str = "/", *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(None, path, *args, **kwargs)


def create_environ(*args: t.Any, **kwargs: t.Any) -> dict[str, t.Any]:
    """A WSGI environ for a made-up request; the arguments are :class:`EnvironBuilder`'s."""
    return EnvironBuilder(*args, **kwargs).get_environ()


def _read_only(self: t.Any, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    raise TypeError(f"{type(self).__name__!r} objects are immutable")


class ImmutableDict(dict):  # type: ignore[type-arg]
    """A ``dict`` that refuses changes; Werkzeug's ``ImmutableDict``.

    Flask-Babel and other extensions keep default options in one. It hashes
    by its items, and :meth:`copy` returns a plain, mutable ``dict``.
    """

    __setitem__ = __delitem__ = _read_only
    setdefault = update = pop = popitem = clear = _read_only
    __ior__ = _read_only

    def copy(self) -> dict[t.Any, t.Any]:
        """A mutable ``dict`` with the same items."""
        return dict(self)

    def __copy__(self) -> ImmutableDict:
        return self

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce_ex__(self, protocol: t.SupportsIndex) -> tuple[t.Any, ...]:
        return type(self), (dict(self),)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict.__repr__(self)})"


class ImmutableList(tuple):  # type: ignore[type-arg]
    """Werkzeug's ``ImmutableList``: a read-only sequence (here a ``tuple``)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"


def default_stream_factory(
    total_content_length: int | None,
    content_type: str | None,
    filename: str | None,
    content_length: int | None = None,
) -> t.IO[bytes]:
    """Where an upload is written: memory up to 500 KiB, then a temporary file."""
    import tempfile

    max_size = 1024 * 500
    if total_content_length is None or total_content_length > max_size:
        return t.cast(t.IO[bytes], tempfile.SpooledTemporaryFile(max_size=max_size, mode="rb+"))
    import io

    return io.BytesIO()


def parse_form_data(environ: dict[str, t.Any], **kwargs: t.Any) -> tuple[t.Any, t.Any, t.Any]:
    """``(stream, form, files)`` of the request in ``environ``, parsed by Erlen's request.

    Keyword arguments (Werkzeug's parser options) are accepted for
    Werkzeug's signature; ``max_content_length`` is honored, the rest use
    Erlen's limits.
    """
    from ..wrappers import Request
    from ..wsgi import make_request

    request = make_request(Request, environ)
    if kwargs.get("max_content_length") is not None:
        request.max_content_length = kwargs["max_content_length"]
    return request.stream, request.form, request.files


def run_wsgi_app(
    app: t.Callable[..., t.Any], environ: dict[str, t.Any], buffered: bool = False
) -> tuple[list[bytes], str, t.Any]:
    """Call a WSGI app: ``(body chunks, status, Headers)``; the body is read whole."""
    from .._utils import call_wsgi_app
    from ..datastructures import Headers

    status, headers, body = call_wsgi_app(app, environ)
    return [body], status, Headers(headers)


def stream_encode_multipart(
    data: t.Any,
    use_tempfile: bool = True,
    threshold: int = 1024 * 500,
    boundary: str | None = None,
) -> tuple[t.IO[bytes], int, str]:
    """A ``multipart/form-data`` body of ``data``: ``(stream, length, boundary)``.

    Values are strings, files, ``FileStorage`` objects or ``(file,
    filename[, content_type])`` tuples, as for the test client's ``data``.
    The body is built in memory (``use_tempfile`` and ``threshold`` are
    accepted for Werkzeug's signature).
    """
    import io

    from ..datastructures import MultiDict
    from ..datastructures.file_storage import FileStorage
    from ..http import parse_options_header
    from ..testing.environ import _encode_multipart

    fields: MultiDict[str, t.Any] = MultiDict()
    for key, value in MultiDict(data).items(multi=True):
        if isinstance(value, FileStorage):
            value = (value.stream, value.filename, value.content_type)
        fields.add(key, value)
    body, content_type = _encode_multipart(fields)
    made = parse_options_header(content_type)[1]["boundary"]
    if boundary is not None:
        # The made boundary is random and long, so it occurs only as the delimiter.
        body = body.replace(made.encode("ascii"), boundary.encode("ascii"))
    else:
        boundary = made
    return io.BytesIO(body), len(body), boundary


def encode_multipart(values: t.Any, boundary: str | None = None) -> tuple[str, bytes]:
    """A ``multipart/form-data`` body of ``values``: ``(boundary, body)``."""
    stream, _, boundary = stream_encode_multipart(values, use_tempfile=False, boundary=boundary)
    return boundary, stream.read()


def log(type: str, message: str, *args: t.Any, **kwargs: t.Any) -> None:  # noqa: A002
    """Werkzeug's private ``_log``: ``message`` on the ``werkzeug`` logger at level ``type``.

    Extensions (Flask-SocketIO) call it for their warnings.
    """
    import logging

    getattr(logging.getLogger("werkzeug"), type)(message.rstrip(), *args, **kwargs)
