"""Errors that explain a mistake in debug mode, where Flask's ``flask.debughelpers`` has them.

Both are raised only with ``debug`` on, instead of a behaviour that would
silently lose what the client sent.
"""

from __future__ import annotations

import typing as t

from .wrappers.request import DebugFilesKeyError

if t.TYPE_CHECKING:
    from .wrappers import Request

__all__ = ["DebugFilesKeyError", "FormDataRoutingRedirect"]


class FormDataRoutingRedirect(AssertionError):
    """Raised in debug mode instead of a 301/302 routing redirect (a missing
    trailing slash) for a request with a body: the browser would follow it
    with a GET and drop the form data.

    .. versionadded:: 0.1
    """

    def __init__(self, request: Request, new_url: str) -> None:
        from urllib.parse import urljoin

        target = urljoin(request.url, new_url)
        message = (
            f"A {request.method} request was sent to {request.url!r}, but routing"
            f" redirects it to the canonical URL {target!r}. The browser would"
            " follow the redirect with a GET and drop the form data. Send the"
            " request to the canonical URL, or use a 307/308 redirect (the"
            " routing default), which keeps the method and body."
        )
        if request.base_url + "/" == target.partition("?")[0]:
            message += " (The URL was defined with a trailing slash.)"
        super().__init__(message)
