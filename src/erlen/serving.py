"""A small threaded development server (not for production).

It serves one app on one address with HTTP/1.1 keep-alive, one thread per
connection, and stops cleanly on Ctrl+C. Production deployments use a real
WSGI server (gunicorn, waitress, ...).
"""

from __future__ import annotations

import socketserver
import sys
import typing as t
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

__all__ = ["run_simple", "make_server"]


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: t.Any) -> None:
        sys.stderr.write(f"{self.address_string()} - - [{self.log_date_time_string()}] {format % args}\n")


class ThreadedWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """A WSGI server handling each connection in its own thread."""

    daemon_threads = True
    allow_reuse_address = True


def make_server(host: str, port: int, app: t.Any, threaded: bool = True) -> WSGIServer:
    """Create (but don't start) a development server for ``app``."""
    cls = ThreadedWSGIServer if threaded else WSGIServer
    server = cls((host, port), _Handler)
    server.set_app(app)
    return server


def run_simple(host: str, port: int, application: t.Any, threaded: bool = True, **options: t.Any) -> None:
    """Serve ``application`` until interrupted.

    :param host: Interface to bind, e.g. ``127.0.0.1``.
    :param port: Port to bind (``0`` picks a free one).
    :param threaded: One thread per connection.
    """
    server = make_server(host, port, application, threaded=threaded)
    name = getattr(application, "name", "app")
    bound_port = server.server_address[1]
    print(f" * Serving Erlen app '{name}'", flush=True)
    print(" * This is a development server. Do not use it in production; use a WSGI server such as gunicorn.", flush=True)
    print(f" * Running on http://{host}:{bound_port}/ (Press CTRL+C to quit)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print(" * Shutting down", flush=True)
    finally:
        server.server_close()
