"""Helpers used from views: URLs, redirects, responses, streaming, message
flashing and files (with :mod:`erlen.http.conditional` for conditional and
range requests)."""

from __future__ import annotations

import io
import os
import posixpath
import re
import stat
import typing as t
from datetime import timedelta
from functools import lru_cache, update_wrapper
from time import time
from urllib.parse import quote

from . import signals as _signals
from .ctx import (
    after_this_request,
    copy_current_request_context,
    has_app_context,
    has_request_context,
)
from .exceptions import NotFound, RequestedRangeNotSatisfiable, abort, redirect_page
from .globals import _cv, _no_req_msg
from .http import http_date, iri_to_uri, quote_header_value

if t.TYPE_CHECKING:
    from datetime import datetime

    from .app import Erlen
    from .wrappers import Response

__all__ = [
    "flash",
    "get_flashed_messages",
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
    "send_file",
    "secure_filename",
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
        from .wrappers import Response as _Response

        response_class = _Response
    response = response_class(redirect_page(location), code, mimetype="text/html")
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


# -- message flashing -------------------------------------------------------


def flash(message: str, category: str = "message") -> None:
    """Store a message for the next request to show (e.g. after a redirect).

    Messages are kept in the session under ``"_flashes"`` as
    ``(category, message)`` pairs until :func:`get_flashed_messages` reads
    them. Sends :data:`~erlen.signals.message_flashed` when it has receivers.

    :param message: The message.
    :param category: A free-form category; ``"message"``, ``"error"``,
        ``"info"`` and ``"warning"`` are the usual ones.
    :raises RuntimeError: Outside a request, or the session is unavailable
        (no ``SECRET_KEY``).

    .. versionadded:: 0.1
    """
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(_no_req_msg)
    session = ctx.session
    # Reassigned rather than appended in place, so the session sees a change.
    flashes = session.get("_flashes", [])
    flashes.append((category, message))
    session["_flashes"] = flashes
    if _signals.message_flashed.receivers:
        app = ctx.app
        _signals.message_flashed.send(
            app, _async_wrapper=app.ensure_sync, message=message, category=category
        )


def get_flashed_messages(
    with_categories: bool = False, category_filter: t.Iterable[str] = ()
) -> list[str] | list[tuple[str, str]]:
    """Return the flashed messages and remove them from the session.

    The first call in a request takes them out of the session; later calls
    in the same request return the same messages again.

    :param with_categories: Return ``(category, message)`` pairs instead of
        messages alone.
    :param category_filter: Return only messages of these categories.
    :raises RuntimeError: Outside a request.

    .. versionadded:: 0.1
    """
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(_no_req_msg)
    # Cached on the request context, since the first read empties the session.
    flashes: list[tuple[str, str]] | None = getattr(ctx, "flashes", None)
    if flashes is None:
        session = ctx.session
        flashes = session.pop("_flashes") if "_flashes" in session else []
        ctx.flashes = flashes
    if category_filter:
        flashes = [f for f in flashes if f[0] in category_filter]
    if with_categories:
        return flashes
    return [f[1] for f in flashes]


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


def send_from_directory(
    directory: str | os.PathLike[str], path: str | os.PathLike[str], **kwargs: t.Any
) -> Response:
    """Send a file from inside ``directory``, with :func:`send_file`.

    ``path`` usually comes from the URL, so it is joined with
    :func:`safe_join`: a path that would leave the directory, or that does
    not name a regular file, is a 404. A relative ``directory`` is taken
    relative to the app's ``root_path``.

    :param directory: The directory the files must be in.
    :param path: The untrusted path below it.
    :param kwargs: Passed on to :func:`send_file`.
    :raises NotFound: The path escapes the directory or is not a file.

    .. versionadded:: 0.1
    """
    full = safe_join(os.fspath(directory), os.fspath(path))
    if full is None:
        raise NotFound()
    if not os.path.isabs(full):
        ctx = _cv.get(None)
        if ctx is not None:
            full = os.path.join(ctx.app.root_path, full)
    if not os.path.isfile(full):
        raise NotFound()
    return send_file(full, **kwargs)


class _MissingFileName(TypeError, ValueError):
    # Werkzeug raises TypeError here and code written for it may catch that;
    # ValueError is what the argument error is, so both match.
    pass


@lru_cache(maxsize=1024)
def _guess_type(name: str) -> tuple[str | None, str | None]:
    # PERF: mimetypes.guess_type costs a few microseconds per call, and a
    # site sends the same few names over and over. (Imported here, like
    # unicodedata and zlib below, to keep `import erlen` light.)
    import mimetypes

    return mimetypes.guess_type(name)


def _content_disposition(disposition: str, name: str) -> str:
    if name.isascii():
        return f"{disposition}; filename={quote_header_value(name, allow_token=False)}"
    # Old clients read the ASCII approximation; current ones the RFC 5987
    # UTF-8 form, whose percent-encoding keeps RFC 5987's attr-chars.
    import unicodedata

    simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    encoded = quote(name, safe="!#$&+^`|")
    return (
        f"{disposition}; filename={quote_header_value(simple, allow_token=False)};"
        f" filename*=UTF-8''{encoded}"
    )


def _config_max_age(app: Erlen, path: str | None) -> int | None:
    getter = getattr(app, "get_send_file_max_age", None)
    if getter is not None:
        return t.cast("int | None", getter(path))
    value = app.config.get("SEND_FILE_MAX_AGE_DEFAULT")
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return t.cast("int | None", value)


def _remaining_size(f: t.Any) -> int | None:
    """Bytes left from the position of a file object, if that can be known cheaply."""
    if isinstance(f, io.BytesIO):
        return f.getbuffer().nbytes - f.tell()
    fileno = getattr(f, "fileno", None)
    if fileno is None:
        return None
    try:
        st = os.fstat(fileno())
        if not stat.S_ISREG(st.st_mode):
            return None
        position: int = f.tell()
        return max(st.st_size - position, 0)
    except (OSError, ValueError, AttributeError):
        return None


def send_file(
    path_or_file: str | os.PathLike[str] | t.IO[bytes],
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: None | int | timedelta | t.Callable[[str | None], int | None] = None,
) -> Response:
    """Send a file's contents, with caching and range support.

    Pass a path, or a binary file object. A relative path is relative to the
    app's ``root_path``; never pass a path from the client (use
    :func:`send_from_directory` for that). The file is the response body,
    so a WSGI server streams it with its ``wsgi.file_wrapper`` (possibly
    ``sendfile``), and the file is closed when the response is.

    For a path, the response gets ``Content-Length``, ``Last-Modified``
    (the file's mtime) and an ``ETag`` built from the mtime, size and path.
    For a file object there is no name: give ``mimetype`` or
    ``download_name``, and ``ETag``/``Last-Modified`` are sent only when
    given. Within a request, the response is made conditional (see
    :meth:`Response.make_conditional <erlen.Response.make_conditional>`):
    304, 412, 206 for a single byte range and 416 for an unsatisfiable one.
    A request for several ranges gets the whole file.

    With ``USE_X_SENDFILE`` set, a path is sent as an ``X-Sendfile``
    header for the front server instead of as the body.

    :param path_or_file: The file path, or a file object opened in binary
        mode (``io.BytesIO`` works).
    :param mimetype: The content type; guessed from the name by default.
        An encoding guessed with it (``.gz``) is sent as ``Content-Encoding``
        unless the file is an attachment.
    :param as_attachment: Ask the browser to save the file
        (``Content-Disposition: attachment``) instead of showing it.
    :param download_name: The name the browser sees; the path's base name by
        default. A non-ASCII name is also sent in RFC 5987 form
        (``filename*=UTF-8''...``).
    :param conditional: Answer conditional and range requests.
    :param etag: ``True`` computes a tag for a path, a string is used as the
        tag, ``False`` sends none.
    :param last_modified: The ``Last-Modified`` time; the file's mtime by
        default.
    :param max_age: Seconds the client may cache the file (``Cache-Control:
        public, max-age=N``), or a function taking the path and returning
        that. ``None`` uses the app's ``get_send_file_max_age`` (from
        ``SEND_FILE_MAX_AGE_DEFAULT``); if that gives ``None``, the client
        must revalidate (``no-cache``).
    :raises ValueError: No name is known to guess the mimetype from, an
        attachment has no name, or the file is in text mode. (The first two
        are also :exc:`TypeError`, which Werkzeug raises there.)

    .. versionadded:: 0.1
    """
    from .wrappers import Response as _Response

    ctx = _cv.get(None)
    app = ctx.app if ctx is not None else None
    request = ctx.request if ctx is not None else None
    response_class = app.response_class if app is not None else _Response
    path: str | None = None
    f: t.Any = None
    size: int | None = None
    mtime: float | None = None

    if isinstance(path_or_file, (str, os.PathLike)):
        path = os.fspath(path_or_file)
        path = os.path.join(app.root_path, path) if app is not None else os.path.abspath(path)
    else:
        f = path_or_file
        if isinstance(f, io.TextIOBase):
            raise ValueError("send_file() needs a file opened in binary mode (or an io.BytesIO).")

    if download_name is None and path is not None:
        download_name = os.path.basename(path)
    encoding = None
    if mimetype is None:
        if download_name is None:
            raise _MissingFileName(
                "send_file() cannot guess the mimetype of a file object without a"
                " name: pass 'mimetype' or 'download_name', or pass a path."
            )
        mimetype, encoding = _guess_type(download_name)
        if mimetype is None:
            mimetype = "application/octet-stream"
    if download_name is None and as_attachment:
        raise _MissingFileName(
            "send_file() needs a name for an attachment: pass 'download_name', or pass a path."
        )

    x_sendfile = path is not None and app is not None and bool(app.config.get("USE_X_SENDFILE"))
    if path is not None:
        if x_sendfile:
            st = os.stat(path)
        else:
            f = open(path, "rb")
            try:
                st = os.fstat(f.fileno())
            except BaseException:  # pragma: no cover - fstat of an open file does not fail
                f.close()
                raise
        size, mtime = st.st_size, st.st_mtime
    else:
        size = _remaining_size(f)

    rv = response_class(None if x_sendfile else f, mimetype=mimetype, direct_passthrough=True)
    headers = rv.headers
    # PERF: headers this function makes itself are appended to the list
    # directly; values that come from the caller go through set() checks.
    hlist = rv._hlist
    if encoding is not None and not as_attachment:
        hlist.append(("Content-Encoding", encoding))
    if download_name is not None:
        headers.add(
            "Content-Disposition",
            _content_disposition("attachment" if as_attachment else "inline", download_name),
        )
    if x_sendfile:
        headers.add("X-Sendfile", t.cast(str, path))
        headers.set("Content-Length", str(size))
    elif size is not None:
        hlist.append(("Content-Length", str(size)))
    if last_modified is not None:
        rv.last_modified = last_modified
    elif mtime is not None:
        hlist.append(("Last-Modified", http_date(mtime)))

    if max_age is None and app is not None:
        max_age = _config_max_age(app, path)
    elif callable(max_age):
        max_age = max_age(path)
    if isinstance(max_age, timedelta):
        max_age = int(max_age.total_seconds())
    if max_age is None:
        hlist.append(("Cache-Control", "no-cache"))
    else:
        max_age = int(max_age)
        hlist.append(
            (
                "Cache-Control",
                f"public, max-age={max_age}" if max_age > 0 else "no-cache, max-age=0",
            )
        )
        hlist.append(("Expires", http_date(int(time() + max_age))))

    if isinstance(etag, str):
        rv.set_etag(etag)
    elif etag and path is not None:
        from zlib import adler32

        check = adler32(os.fsencode(path)) & 0xFFFFFFFF
        hlist.append(("ETag", f'"{mtime}-{size}-{check}"'))

    if conditional and request is not None:
        try:
            rv.make_conditional(
                request, accept_ranges=True, complete_length=None if x_sendfile else size
            )
        except RequestedRangeNotSatisfiable:
            # Only raised with a length, so never for X-Sendfile: f is open.
            f.close()
            raise
        if x_sendfile and rv.status_code in (304, 412):
            # Some front servers send the file whatever the status says.
            headers.remove("X-Sendfile")
    return rv


_filename_unsafe_re = re.compile(r"[^A-Za-z0-9_.-]")


def secure_filename(filename: str) -> str:
    """Turn a client-supplied file name into one safe to store on any file system.

    The result is ASCII only (accents are dropped: ``"ümlaut"`` becomes
    ``"umlaut"``), whitespace runs become ``_``, path separators are
    removed so the name cannot point to another directory, characters
    other than letters, digits, ``_``, ``.`` and ``-`` are dropped, and
    leading and trailing dots and underscores are stripped. A Windows
    device name (``CON``, ``nul.txt``, ...) gets a ``_`` prefix, on every
    platform, since files may move to Windows later.

    ``secure_filename("../../etc/passwd")`` is ``"etc_passwd"``. The result
    may be empty: use a generated name then. It is not unique either.

    :param filename: The name as sent, e.g. :attr:`FileStorage.filename
        <erlen.formparser.FileStorage.filename>`.

    .. versionadded:: 0.1
    """
    import unicodedata

    filename = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    # Both separators on every platform: the name may come from any client.
    filename = filename.replace("/", " ").replace("\\", " ")
    filename = _filename_unsafe_re.sub("", "_".join(filename.split())).strip("._")
    if filename and filename.split(".", 1)[0].upper() in _WINDOWS_DEVICE_NAMES:
        filename = f"_{filename}"
    return filename
