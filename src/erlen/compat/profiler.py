"""``werkzeug.middleware.profiler``: profile each request with :mod:`cProfile`.

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
import sys
import time
import typing as t
from collections.abc import Callable, Iterable

__all__ = ["ProfilerMiddleware"]

WSGIApp = Callable[[dict[str, t.Any], Callable[..., t.Any]], Iterable[bytes]]


class ProfilerMiddleware:
    """Profile every request: the app call and reading its whole body.

    For development only (profiling slows every request down). Each request's
    statistics are printed to ``stream`` and/or written to ``profile_dir``.

    :param app: The WSGI app to profile.
    :param stream: Where the statistics are printed (``None``: not printed).
    :param sort_by: :meth:`pstats.Stats.sort_stats` keys.
    :param restrictions: :meth:`pstats.Stats.print_stats` restrictions (a
        count, a fraction, or a regex on the function names).
    :param profile_dir: A directory to write one ``.prof`` file per request
        to (read them with :mod:`pstats` or snakeviz).
    :param filename_format: The file name, formatted with ``method``,
        ``path`` (slashes as dots), ``elapsed`` (ms) and ``time``; or a
        callable taking the environ and returning the name.
    """

    def __init__(
        self,
        app: WSGIApp,
        stream: t.IO[str] | None = sys.stdout,
        sort_by: Iterable[str] = ("time", "calls"),
        restrictions: Iterable[str | int | float] = (),
        profile_dir: str | None = None,
        filename_format: str | Callable[[dict[str, t.Any]], str] = (
            "{method}.{path}.{elapsed:.0f}ms.{time:.0f}.prof"
        ),
    ) -> None:
        self._app = app
        self._stream = stream
        self._sort_by = tuple(sort_by)
        self._restrictions = tuple(restrictions)
        self._profile_dir = profile_dir
        self._filename_format = filename_format

    def __call__(
        self, environ: dict[str, t.Any], start_response: Callable[..., t.Any]
    ) -> Iterable[bytes]:
        import cProfile
        import pstats

        body: list[bytes] = []

        def run() -> None:
            iterable = self._app(environ, start_response)
            try:
                body.extend(iterable)
            finally:
                close = getattr(iterable, "close", None)
                if close is not None:
                    close()

        profile = cProfile.Profile()
        start = time.time()
        profile.runcall(run)
        elapsed = time.time() - start

        if self._profile_dir is not None:
            if callable(self._filename_format):
                name = self._filename_format(environ)
            else:
                path = environ.get("PATH_INFO", "").strip("/").replace("/", ".") or "root"
                name = self._filename_format.format(
                    method=environ["REQUEST_METHOD"],
                    path=path,
                    elapsed=elapsed * 1000.0,
                    time=time.time(),
                )
            profile.dump_stats(os.path.join(self._profile_dir, name))

        if self._stream is not None:
            stats = pstats.Stats(profile, stream=self._stream)
            stats.sort_stats(*self._sort_by)
            print("-" * 80, file=self._stream)
            print(f"PATH: {environ.get('PATH_INFO', '')!r}", file=self._stream)
            stats.print_stats(*self._restrictions)
            print(f"{'-' * 80}\n", file=self._stream)
        return body
