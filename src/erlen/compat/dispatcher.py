"""``werkzeug.middleware.dispatcher``: several WSGI apps under one, by path prefix.

.. versionadded:: 0.1
"""

from __future__ import annotations

import typing as t

__all__ = ["DispatcherMiddleware"]

WSGIApp = t.Callable[[dict[str, t.Any], t.Callable[..., t.Any]], t.Iterable[bytes]]


class DispatcherMiddleware:
    """Send each request to the app mounted at the longest matching path prefix.

    ``DispatcherMiddleware(frontend, {"/api": api, "/admin": admin})``: a
    request for ``/api/items`` goes to ``api`` with ``/api`` moved from
    ``PATH_INFO`` to the end of ``SCRIPT_NAME`` (so ``url_for`` in that app
    builds ``/api/...`` URLs); ``/apix`` is not under ``/api`` (prefixes
    match whole path segments). Anything else goes to ``app``.

    :param app: The app for paths under no mount point.
    :param mounts: ``{prefix: app}``; prefixes start with ``/`` and have no
        trailing ``/``.
    """

    def __init__(self, app: WSGIApp, mounts: dict[str, WSGIApp] | None = None) -> None:
        self.app = app
        self.mounts = mounts or {}

    def __call__(
        self, environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> t.Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        prefix = path
        # Shorten the path a segment at a time until a mount point matches.
        while prefix and prefix not in self.mounts:
            prefix = prefix.rpartition("/")[0]
        app = self.mounts.get(prefix, self.app) if prefix else self.app
        if prefix:
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
            environ["PATH_INFO"] = path[len(prefix) :]
        return app(environ, start_response)
