"""WSGI middleware that trusts ``X-Forwarded-*`` headers from a known number of proxies.

Behind a reverse proxy, the client address, scheme, host, port and mount
prefix the app sees are the proxy's. A proxy that adds ``X-Forwarded-For``,
``-Proto``, ``-Host``, ``-Port`` and ``-Prefix`` tells the real ones; this
middleware copies them into the environ, trusting only the last ``x_*``
values of each header (the ones the trusted proxies appended), since a
client can send any header it likes.

This is the ``werkzeug.middleware.proxy_fix.ProxyFix`` of the compat layer,
usable on its own as well::

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)

.. versionadded:: 0.1
"""

from __future__ import annotations

import typing as t

__all__ = ["ProxyFix"]

_WSGIApp = t.Callable[[dict[str, t.Any], t.Callable[..., t.Any]], t.Iterable[bytes]]


class ProxyFix:
    """Apply ``X-Forwarded-*`` headers set by ``x_*`` trusted proxies to the environ.

    Each count says how many proxies in front of the app set that header;
    ``0`` ignores the header. The original values are kept in
    ``environ["werkzeug.proxy_fix.orig"]`` (the key Werkzeug uses, so code
    reading it keeps working).

    :param app: The WSGI application to wrap.
    :param x_for: Trusted values of ``X-Forwarded-For`` (sets ``REMOTE_ADDR``).
    :param x_proto: Trusted values of ``X-Forwarded-Proto`` (``wsgi.url_scheme``).
    :param x_host: Trusted values of ``X-Forwarded-Host`` (``HTTP_HOST``,
        ``SERVER_NAME``, ``SERVER_PORT``).
    :param x_port: Trusted values of ``X-Forwarded-Port``.
    :param x_prefix: Trusted values of ``X-Forwarded-Prefix`` (``SCRIPT_NAME``).
    """

    def __init__(
        self,
        app: _WSGIApp,
        x_for: int = 1,
        x_proto: int = 1,
        x_host: int = 0,
        x_port: int = 0,
        x_prefix: int = 0,
    ) -> None:
        self.app = app
        self.x_for = x_for
        self.x_proto = x_proto
        self.x_host = x_host
        self.x_port = x_port
        self.x_prefix = x_prefix

    @staticmethod
    def _trusted(value: str | None, trusted: int) -> str | None:
        """The value the outermost trusted proxy saw, or ``None`` if too few proxies appended one."""
        if not value or trusted <= 0:
            return None
        values = [part.strip() for part in value.split(",")]
        if len(values) < trusted:
            return None
        return values[-trusted] or None

    def __call__(
        self, environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> t.Iterable[bytes]:
        get = environ.get
        environ["werkzeug.proxy_fix.orig"] = {
            key: get(key)
            for key in (
                "REMOTE_ADDR",
                "wsgi.url_scheme",
                "HTTP_HOST",
                "SERVER_NAME",
                "SERVER_PORT",
                "SCRIPT_NAME",
            )
        }
        client = self._trusted(get("HTTP_X_FORWARDED_FOR"), self.x_for)
        if client:
            environ["REMOTE_ADDR"] = client
        scheme = self._trusted(get("HTTP_X_FORWARDED_PROTO"), self.x_proto)
        if scheme:
            environ["wsgi.url_scheme"] = scheme.lower()
        host = self._trusted(get("HTTP_X_FORWARDED_HOST"), self.x_host)
        if host:
            environ["HTTP_HOST"] = environ["SERVER_NAME"] = host
            name, sep, host_port = host.rpartition(":")
            # A port only after the last colon; "[::1]" has none.
            if sep and host_port.isdigit():
                environ["SERVER_NAME"] = name
                environ["SERVER_PORT"] = host_port
        forwarded_port = self._trusted(get("HTTP_X_FORWARDED_PORT"), self.x_port)
        if forwarded_port and forwarded_port.isdigit():
            port = forwarded_port
            http_host = environ.get("HTTP_HOST")
            if http_host:
                name, sep, old_port = http_host.rpartition(":")
                if not sep or not old_port.isdigit() or http_host.endswith("]"):
                    name = http_host
                environ["HTTP_HOST"] = f"{name}:{port}"
            environ["SERVER_PORT"] = port
        prefix = self._trusted(get("HTTP_X_FORWARDED_PREFIX"), self.x_prefix)
        if prefix:
            environ["SCRIPT_NAME"] = prefix.rstrip("/")
        return self.app(environ, start_response)
