"""The app's logger and its default handler."""

from __future__ import annotations

import logging
import sys
import typing as t

from .globals import _cv

if t.TYPE_CHECKING:
    from .app import Erlen

__all__ = ["default_handler", "create_logger", "wsgi_errors_stream"]


class _WSGIErrorsStream:
    """Writes to the current request's ``wsgi.errors``, else to stderr."""

    def _stream(self) -> t.TextIO:
        ctx = _cv.get(None)
        if ctx is not None and ctx.request is not None:
            stream = ctx.request.environ.get("wsgi.errors")
            if stream is not None:
                return t.cast(t.TextIO, stream)
        return sys.stderr

    # Flask's wsgi_errors_stream is a LocalProxy; code (and Flask's tests)
    # read the stream it stands for this way.
    _get_current_object = _stream

    def write(self, s: str) -> int:
        self._stream().write(s)
        return len(s)

    def flush(self) -> None:
        flush = getattr(self._stream(), "flush", None)
        if flush is not None:
            flush()


#: A stream that finds the right error stream at each write.
wsgi_errors_stream = _WSGIErrorsStream()

#: The handler Erlen adds to an app's logger when logging is not configured.
default_handler = logging.StreamHandler(wsgi_errors_stream)
default_handler.setFormatter(
    logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
)


def has_level_handler(logger: logging.Logger) -> bool:
    """Whether some handler on the logger's chain handles its effective level."""
    level = logger.getEffectiveLevel()
    current: logging.Logger | None = logger
    while current:
        if any(handler.level <= level for handler in current.handlers):
            return True
        if not current.propagate:
            break
        current = current.parent
    return False


def create_logger(app: Erlen) -> logging.Logger:
    """The logger named after the app, with :data:`default_handler` when nothing handles it.

    In debug mode with no level set, the level is DEBUG.
    """
    logger = logging.getLogger(app.name)
    if app.debug and not logger.level:
        logger.setLevel(logging.DEBUG)
    if not has_level_handler(logger):
        logger.addHandler(default_handler)
    return logger
