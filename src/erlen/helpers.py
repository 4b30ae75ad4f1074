"""Helpers used from views: URLs, redirects, responses, streaming."""

from __future__ import annotations

import os
import posixpath
import typing as t
from functools import update_wrapper
from html import escape

from .ctx import after_this_request, copy_current_request_context, has_app_context, has_request_context
from .exceptions import NotFound, abort
from .globals import _cv
from .http import iri_to_uri

if t.TYPE_CHECKING:
    from .wrappers import Response

__all__ = [
    "url_for",
    "redirect",
    "make_response",
    "abort",
    "stream_with_context",
    "after_this_request",
    "copy_current_request_context",
    "has_app_context",
    "has_request_context",
    "safe_join",
    "send_from_directory",
]


def url_for(
    endpoint: str,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: t.Any,
) -> str:
    """Build the URL for an endpoint.

    ``url_for("user", id=7)`` → ``/user/7``. Values that are not rule
    arguments become the query string; ``".name"`` is relative to the
    current blueprint.

    :param _anchor: Append ``#anchor``.
    :param _method: Pick the rule that accepts this method.
    :param _scheme: The URL scheme (needs ``_external``).
    :param _external: Build an absolute URL (default: in a request, only
        when needed; outside one, always).
    :raises BuildError: No rule of the endpoint fits the values.

    .. versionadded:: 0.1
    """
    ctx = _cv.get(None)
    if ctx is None:
        raise RuntimeError(
            "Attempted to generate a URL without the application context being"
            " pushed. This has to be executed when application context is available."
        )
    return ctx.app.url_for(
        endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external, **values
    )


def _redirect(location: str, code: int, response_class: type[Response] | None) -> Response:
    if response_class is None:
        from .wrappers import Response as response_class
    html_location = escape(location)
    response = response_class(
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
        "<h1>Redirecting...</h1>\n"
        f'<p>You should be redirected to <a href="{html_location}">{html_location}</a>.'
        " If not, follow the link.\n",
        code,
        mimetype="text/html",
    )
    response.headers.set("Location", iri_to_uri(location))
    return response


def redirect(location: str, code: int = 302, Response: type[Response] | None = None) -> Response:
    """A response that sends the client to ``location``.

    :param code: 301, 302 (default), 303, 307 or 308.
    :param Response: The response class (default: the app's).

    .. versionadded:: 0.1
    """
    ctx = _cv.get(None)
    if ctx is not None and Response is None:
        return ctx.app.redirect(location, code)
    return _redirect(location, code, Response)


def make_response(*args: t.Any) -> Response:
    """Turn view-style return values into a response, to change it before returning.

    ``make_response("body", 404, {"X": "y"})`` accepts what a view may return.

    .. versionadded:: 0.1
    """
    ctx = _cv.get(None)
    if ctx is None:
        raise RuntimeError("make_response() needs an active application context.")
    if not args:
        return ctx.app.response_class()
    if len(args) == 1:
        args = args[0]
    return ctx.app.make_response(args)


def stream_with_context(generator_or_function: t.Any) -> t.Any:
    """Keep the request context active while a streamed response is generated.

    Wrap a generator (or decorate a generator function) returned from a view;
    without it, ``request`` is gone once the view has returned.

    .. versionadded:: 0.1
    """
    if not hasattr(generator_or_function, "__next__") and callable(generator_or_function):

        def decorator(*args: t.Any, **kwargs: t.Any) -> t.Any:
            return stream_with_context(generator_or_function(*args, **kwargs))

        return update_wrapper(decorator, generator_or_function)

    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(
            "'stream_with_context' can only be used when a request"
            " context is active, such as in a view function."
        )
    gen = iter(generator_or_function)

    def generator() -> t.Iterator[t.Any]:
        # NOTE: pushing the same context a second time makes the pop after
        # the view a nested one; the last pop, and teardown, happen when the
        # stream ends or is closed.
        with ctx:
            yield None
            try:
                yield from gen
            finally:
                close = getattr(gen, "close", None)
                if close is not None:
                    close()

    wrapped = generator()
    next(wrapped)  # push now, while the view's context is still active
    return wrapped


_WINDOWS_DEVICE_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"COM{i}" for i in range(1, 10)]
    + [f"LPT{i}" for i in range(1, 10)]
    + ["COM¹", "COM²", "COM³", "LPT¹", "LPT²", "LPT³"]
)


def safe_join(directory: str, *pathnames: str) -> str | None:
    """Join untrusted path parts below ``directory``; ``None`` if one would escape it.

    Rejected: ``..`` segments, absolute paths, backslashes, drive letters,
    UNC paths, NUL bytes and Windows device names (``CON``, ``NUL.txt``, ...).

    .. versionadded:: 0.1
    """
    if not directory:
        directory = "."
    parts = [directory]
    for filename in pathnames:
        if filename == "":
            continue
        # NOTE: backslashes, NUL and ":" (drive letters, UNC, alternate data
        # streams) are refused outright rather than interpreted per platform.
        if "\\" in filename or "\x00" in filename or ":" in filename:
            return None
        filename = posixpath.normpath(filename)
        if filename.startswith("/") or filename == ".." or filename.startswith("../"):
            return None
        for segment in filename.split("/"):
            if segment.split(".", 1)[0].strip().upper() in _WINDOWS_DEVICE_NAMES:
                return None
        parts.append(filename)
    return posixpath.join(*parts)


def send_from_directory(directory: str | os.PathLike[str], path: str, **kwargs: t.Any) -> Response:
    """Send a file from ``directory``; a path that escapes it or does not exist is a 404.

    .. versionadded:: 0.1
    """
    directory = os.fspath(directory)
    full = safe_join(directory, path)
    if full is None:
        raise NotFound()
    if not os.path.isabs(full):
        ctx = _cv.get(None)
        if ctx is not None:
            full = os.path.join(ctx.app.root_path, full)
    if not os.path.isfile(full):
        raise NotFound()
    return send_file(full, **kwargs)


def send_file(path_or_file: t.Any, mimetype: str | None = None, as_attachment: bool = False, download_name: str | None = None, **kwargs: t.Any) -> Response:
    """Send a file's contents (a minimal version; the full one has conditional and range support).

    .. versionadded:: 0.1
    """
    import mimetypes

    from .wrappers import Response as _Response

    ctx = _cv.get(None)
    response_class = ctx.app.response_class if ctx is not None else _Response
    if isinstance(path_or_file, (str, os.PathLike)):
        path = os.fspath(path_or_file)
        name = download_name or os.path.basename(path)
        f: t.Any = open(path, "rb")
        size: int | None = os.path.getsize(path)
    else:
        f = path_or_file
        name = download_name or os.path.basename(getattr(f, "name", "") or "")
        size = None
    if mimetype is None:
        mimetype = (mimetypes.guess_type(name)[0] if name else None) or "application/octet-stream"
    rv = response_class(f, mimetype=mimetype, direct_passthrough=True)
    if size is not None:
        rv.headers.set("Content-Length", str(size))
    if as_attachment:
        rv.headers.set("Content-Disposition", f'attachment; filename="{name}"')
    return rv
