"""``werkzeug.middleware.shared_data``: serve static files in front of a WSGI app.

.. versionadded:: 0.1
"""

from __future__ import annotations

import mimetypes
import os
import time
import typing as t
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from io import BytesIO

from ..helpers import safe_join
from ..http import http_date
from .http import is_resource_modified
from .utils import get_content_type
from .wsgi import get_path_info, wrap_file

__all__ = ["SharedDataMiddleware"]

WSGIApp = Callable[[dict[str, t.Any], Callable[..., t.Any]], Iterable[bytes]]
#: Opens an exported file: ``(binary file, modification time, size)``.
Opener = Callable[[], tuple[t.IO[bytes], datetime, int]]
#: Finds a path below an export: ``(the file's name, its opener)``, or ``(None, None)``.
Loader = Callable[[str | None], tuple[str, Opener] | tuple[None, None]]


class SharedDataMiddleware:
    """Serve files from directories, single files or packages under URL prefixes.

    For development, or small deployments without a web server in front:
    ``SharedDataMiddleware(app, {"/static": "/srv/static", "/favicon.ico":
    "/srv/favicon.ico", "/assets": ("mypackage", "assets")})``. A ``GET`` or
    ``HEAD`` for a file below a prefix is answered here, with ``ETag``,
    ``Last-Modified`` and cache headers and ``304`` for a current copy;
    everything else (other methods, missing files, paths escaping the
    directory, disallowed names) goes to ``app``.

    :param app: The WSGI app to fall back to.
    :param exports: ``{url prefix: directory, file, or (package, path in it)}``
        (a mapping or a list of pairs; the first match wins).
    :param disallow: A :mod:`fnmatch` pattern of file names not to serve.
    :param cache: Send ``ETag``/``Cache-Control``/``Expires`` and answer
        conditional requests.
    :param cache_timeout: Seconds clients may keep a file.
    :param fallback_mimetype: The type of files :mod:`mimetypes` does not know.
    """

    def __init__(
        self,
        app: WSGIApp,
        exports: Mapping[str, str | tuple[str, str]] | Iterable[tuple[str, str | tuple[str, str]]],
        disallow: str | None = None,
        cache: bool = True,
        cache_timeout: int = 60 * 60 * 12,
        fallback_mimetype: str = "application/octet-stream",
    ) -> None:
        self.app = app
        self.exports: list[tuple[str, Loader]] = []
        self.cache = cache
        self.cache_timeout = cache_timeout
        self.fallback_mimetype = fallback_mimetype
        pairs = exports.items() if isinstance(exports, Mapping) else exports
        for prefix, target in pairs:
            if isinstance(target, tuple):
                loader = self.get_package_loader(*target)
            elif isinstance(target, (str, os.PathLike)):
                target = os.fspath(target)
                if os.path.isfile(target):
                    loader = self.get_file_loader(target)
                else:
                    loader = self.get_directory_loader(target)
            else:
                raise TypeError(f"unknown export for {prefix!r}: {target!r}")
            self.exports.append((prefix, loader))
        if disallow is not None:
            from fnmatch import fnmatch

            def is_allowed(filename: str) -> bool:
                return not fnmatch(filename, disallow)

            self.is_allowed = is_allowed  # type: ignore[method-assign]

    def is_allowed(self, filename: str) -> bool:
        """Whether ``filename`` may be served (all are, unless ``disallow`` was given)."""
        return True

    def _opener(self, filename: str) -> Opener:
        def open_file() -> tuple[t.IO[bytes], datetime, int]:
            stat = os.stat(filename)
            mtime = datetime.fromtimestamp(stat.st_mtime, UTC)
            return open(filename, "rb"), mtime, stat.st_size

        return open_file

    def get_file_loader(self, filename: str) -> Loader:
        """A loader that serves ``filename`` for the prefix itself."""

        def loader(path: str | None) -> tuple[str, Opener] | tuple[None, None]:
            if path:
                return None, None
            return os.path.basename(filename), self._opener(filename)

        return loader

    def get_package_loader(self, package: str, package_path: str) -> Loader:
        """A loader for the files below ``package_path`` inside ``package``."""
        from importlib.resources import files

        root = files(package).joinpath(package_path)
        loaded_at = datetime.now(UTC)

        def loader(path: str | None) -> tuple[str, Opener] | tuple[None, None]:
            if path is None:
                return None, None
            # safe_join only checks the parts here: the resource may be in a zip.
            if safe_join(".", path) is None:
                return None, None
            resource = root.joinpath(*path.split("/"))
            if not resource.is_file():
                return None, None
            real = os.fspath(resource) if isinstance(resource, os.PathLike) else None
            if real is not None and os.path.isfile(real):
                return os.path.basename(real), self._opener(real)

            def open_resource() -> tuple[t.IO[bytes], datetime, int]:
                data = resource.read_bytes()
                return BytesIO(data), loaded_at, len(data)

            return resource.name, open_resource

        return loader

    def get_directory_loader(self, directory: str) -> Loader:
        """A loader for the files below ``directory``."""

        def loader(path: str | None) -> tuple[str, Opener] | tuple[None, None]:
            filename = safe_join(directory, path) if path is not None else directory
            if filename is None or not os.path.isfile(filename):
                return None, None
            return os.path.basename(filename), self._opener(filename)

        return loader

    def generate_etag(self, mtime: datetime, file_size: int, real_filename: str) -> str:
        """An entity tag from the file's modification time, size and name."""
        name_hash = zlib.adler32(real_filename.encode("utf-8")) & 0xFFFFFFFF
        return f"erlen-sdm-{mtime.timestamp():.0f}-{file_size}-{name_hash}"

    def _find(self, path: str) -> tuple[str, Opener] | tuple[None, None]:
        for prefix, loader in self.exports:
            base = prefix.rstrip("/")
            if path == prefix or path == base:
                found = loader(None)
            elif path.startswith(f"{base}/"):
                found = loader(path[len(base) + 1 :])
            else:
                continue
            if found[0] is not None:
                return found
        return None, None

    def __call__(
        self, environ: dict[str, t.Any], start_response: Callable[..., t.Any]
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        real_filename, opener = self._find(get_path_info(environ))
        if real_filename is None or opener is None or not self.is_allowed(real_filename):
            return self.app(environ, start_response)

        guessed = mimetypes.guess_type(real_filename)[0]
        mime_type = get_content_type(guessed or self.fallback_mimetype, "utf-8")
        file, mtime, size = opener()
        headers = [("Date", http_date())]
        if self.cache:
            etag = self.generate_etag(mtime, size, real_filename)
            headers += [
                ("ETag", f'"{etag}"'),
                ("Cache-Control", f"max-age={self.cache_timeout}, public"),
            ]
            if not is_resource_modified(environ, etag, last_modified=mtime):
                file.close()
                start_response("304 Not Modified", headers)
                return []
            headers.append(("Expires", http_date(time.time() + self.cache_timeout)))
        else:
            headers.append(("Cache-Control", "public"))
        headers += [
            ("Content-Type", mime_type),
            ("Content-Length", str(size)),
            ("Last-Modified", http_date(mtime)),
        ]
        start_response("200 OK", headers)
        if method == "HEAD":
            file.close()
            return []
        return t.cast(Iterable[bytes], wrap_file(environ, file))
