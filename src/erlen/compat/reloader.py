"""``werkzeug._reloader.run_with_reloader`` on Erlen's file watching.

Private in Werkzeug, but extensions that run their own servers (Flask-SocketIO
with eventlet or gevent) import it at the top of their module. Erlen's own
reloader (:mod:`erlen.reloader`) hands its child a listening socket; this one
restarts any function: the watcher runs the same command line as a child
process that calls ``main_func``, and starts it again when a watched file
changes (which files, :class:`~erlen.reloader.WatchedPaths` decides).

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
import subprocess
import typing as t
from collections.abc import Callable, Iterable

__all__ = ["run_with_reloader"]

#: How long a child gets to stop before it is killed, in seconds.
_STOP_TIMEOUT = 5.0


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def run_with_reloader(
    main_func: Callable[[], t.Any],
    extra_files: Iterable[str] | None = None,
    exclude_patterns: Iterable[str] | None = None,
    interval: int | float = 1,
    reloader_type: str = "auto",
) -> None:
    """Call ``main_func`` in a child process, restarted when a source file changes.

    In the child (``ERLEN_RUN_MAIN=true``) it just calls ``main_func``.

    :param extra_files: More files (or folders) to watch.
    :param exclude_patterns: :mod:`fnmatch` patterns of files not to watch.
    :param interval: Accepted for Werkzeug's signature (changes are watched
        with :mod:`watchfiles`, not polled).
    :param reloader_type: Accepted for Werkzeug's signature (always watchfiles).
    """
    from ..reloader import RUN_MAIN_ENV, WatchedPaths, _child_args

    if os.environ.get(RUN_MAIN_ENV) == "true":
        main_func()
        return

    import watchfiles  # PERF: only the reloader needs it

    paths = WatchedPaths(extra_files, exclude_patterns)
    env = dict(os.environ, **{RUN_MAIN_ENV: "true"})
    args = _child_args()
    print(" * Restarting with watchfiles", flush=True)
    child = subprocess.Popen(args, env=env)
    try:
        for changes in watchfiles.watch(
            *paths.roots, watch_filter=paths, recursive=False, step=50, debounce=500
        ):
            path = sorted(path for _, path in changes)[0]
            print(f" * Detected change in {path!r}, reloading", flush=True)
            _stop(child)
            child = subprocess.Popen(args, env=env)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(child)
