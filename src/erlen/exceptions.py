"""HTTP errors as exception classes.

Each class carries its status ``code`` and a default ``description`` and can
render itself as a small HTML response with :meth:`HTTPException.get_response`.
A view (or anything it calls) raises one, or calls :func:`abort`, and the app
turns it into the response, after giving registered error handlers a chance.

The routing outcomes that are not plain errors live here too
(:class:`RequestRedirect`, :class:`BuildError`), so that :mod:`erlen.routing`
and the app share one vocabulary.
"""

from __future__ import annotations

import typing as t
from html import escape

from .http import HTTP_STATUS_CODES, iri_to_uri

if t.TYPE_CHECKING:
    from .wrappers import Response

__all__ = [
    "HTTPException",
    "abort",
    "Aborter",
    "default_exceptions",
]


class HTTPException(Exception):
    """Base class for every error that maps to an HTTP status.

    Raise a subclass, not this class; a raised instance becomes the response
    unless an error handler for its code or class is registered.

    :param description: Overrides the class's default description, shown in
        the body of the error page.
    :param response: A ready response to send instead of the generated page
        (:func:`abort` uses this for ``abort(response)``).

    .. versionadded:: 0.1
    """

    code: int | None = None
    description: str | None = None

    def __init__(self, description: str | None = None, response: Response | None = None) -> None:
        super().__init__()
        if description is not None:
            self.description = description
        self.response = response

    @property
    def name(self) -> str:
        """The status's reason phrase, e.g. ``"Not Found"``."""
        if self.code is None:
            return "Unknown Error"
        return HTTP_STATUS_CODES.get(self.code, "Unknown Error")

    def get_description(self, environ: t.Any = None, scope: t.Any = None) -> str:
        """The description as escaped HTML paragraph content."""
        description = escape(self.description or "").replace("\n", "<br>")
        return f"<p>{description}</p>"

    def get_body(self, environ: t.Any = None, scope: t.Any = None) -> str:
        """The HTML page sent as the body of the error response."""
        return (
            "<!doctype html>\n<html lang=en>\n"
            f"<title>{self.code} {escape(self.name)}</title>\n"
            f"<h1>{escape(self.name)}</h1>\n"
            f"{self.get_description(environ, scope)}\n"
        )

    def get_headers(self, environ: t.Any = None, scope: t.Any = None) -> list[tuple[str, str]]:
        """Headers of the error response; subclasses add ``Allow`` and friends."""
        return [("Content-Type", "text/html; charset=utf-8")]

    def get_response(self, environ: t.Any = None, scope: t.Any = None) -> Response:
        """Build the response for this error.

        :return: ``self.response`` when one was given, else a new HTML response
            with this error's status, body and headers.
        """
        Response = _Response or _response_class()
        if self.response is not None:
            return self.response
        cls = type(self)
        if cls.get_headers is HTTPException.get_headers and cls.get_body is HTTPException.get_body:
            # PERF: the common error page depends only on the class and the
            # description: render it once, then reuse the bytes.
            key = (cls, self.description)
            body = _PAGES.get(key)
            if body is None:
                body = self.get_body(environ, scope).encode()
                if len(_PAGES) < 256:
                    _PAGES[key] = body
            return Response(body, self.code or 500)
        return Response(
            self.get_body(environ, scope),
            self.code or 500,
            self.get_headers(environ, scope),
        )

    def __call__(self, environ: t.Any, start_response: t.Any) -> t.Iterable[bytes]:
        """Serve this error as a WSGI application."""
        return self.get_response(environ)(environ, start_response)

    def __str__(self) -> str:
        code = self.code if self.code is not None else "???"
        return f"{code} {self.name}: {self.description}"

    def __repr__(self) -> str:
        code = self.code if self.code is not None else "???"
        return f"<{type(self).__name__} '{code}: {self.name}'>"


#: Rendered error pages by (class, description); bounded, see get_response.
_PAGES: dict[tuple[type, str | None], bytes] = {}

_Response: type[Response] | None = None


def _response_class() -> type[Response]:
    """:class:`erlen.wrappers.Response`, imported on first use (it imports this module).

    PERF: kept here once imported: a ``from .wrappers import Response`` in
    ``get_response`` would run the import system's handling of a package's
    names, Python code, for every error page.
    """
    global _Response
    from .wrappers import Response

    _Response = Response
    return Response


class BadRequest(HTTPException):
    """*400 Bad Request*: the request could not be understood."""

    code = 400
    description = "The browser (or proxy) sent a request that this server could not understand."


class BadRequestKeyError(BadRequest, KeyError):
    """A key was missing from request data (``request.form["x"]``).

    It is a :class:`KeyError` so ``except KeyError`` keeps working, and a
    :class:`BadRequest` so an uncaught one becomes a 400, not a 500. The
    missing key is named in the description only when :attr:`show_exception`
    is true (the app sets it in debug mode), so production pages don't echo
    input back.
    """

    #: Name the missing key in the description (debug mode).
    show_exception = False

    def __init__(self, arg: object = None, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.args = () if arg is None else (arg,)

    @property  # type: ignore[override]
    def description(self) -> str | None:
        if self.show_exception and self.args:
            return f"{self._description}\nKeyError: {self.args[0]!r}"
        return self._description

    @description.setter
    def description(self, value: str | None) -> None:
        self._description = value

    _description: str | None = BadRequest.description

    def __str__(self) -> str:
        return HTTPException.__str__(self)


class ClientDisconnected(BadRequest):
    """The client went away before sending the whole body."""


class SecurityError(BadRequest):
    """Something in the request looked like an attack; answered with a 400."""


class BadHost(BadRequest):
    """The ``Host`` header was malformed or not trusted."""


class Unauthorized(HTTPException):
    """*401 Unauthorized*: credentials are missing or wrong.

    :param www_authenticate: One or more ``WWW-Authenticate`` values (objects
        with ``to_header()`` or strings) sent with the response.
    """

    code = 401
    description = (
        "The server could not verify that you are authorized to access the URL"
        " requested. You either supplied the wrong credentials (e.g. a bad"
        " password), or your browser doesn't understand how to supply the"
        " credentials required."
    )

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        www_authenticate: t.Any = None,
    ) -> None:
        super().__init__(description, response)
        if www_authenticate is not None and not isinstance(www_authenticate, (list, tuple)):
            www_authenticate = [www_authenticate]
        self.www_authenticate = www_authenticate

    def get_headers(self, environ: t.Any = None, scope: t.Any = None) -> list[tuple[str, str]]:
        headers = super().get_headers(environ, scope)
        for value in self.www_authenticate or ():
            header = value.to_header() if hasattr(value, "to_header") else str(value)
            headers.append(("WWW-Authenticate", header))
        return headers


class Forbidden(HTTPException):
    """*403 Forbidden*: the client may not access this resource."""

    code = 403
    description = (
        "You don't have the permission to access the requested resource. It is"
        " either read-protected or not readable by the server."
    )


class NotFound(HTTPException):
    """*404 Not Found*: no resource at this URL."""

    code = 404
    description = (
        "The requested URL was not found on the server. If you entered the URL"
        " manually please check your spelling and try again."
    )


class MethodNotAllowed(HTTPException):
    """*405 Method Not Allowed*: the URL exists but not for this method.

    :param valid_methods: The methods the URL accepts; sent in ``Allow``.
    """

    code = 405
    description = "The method is not allowed for the requested URL."

    def __init__(
        self,
        valid_methods: t.Iterable[str] | None = None,
        description: str | None = None,
        response: Response | None = None,
    ) -> None:
        super().__init__(description, response)
        self.valid_methods = None if valid_methods is None else list(valid_methods)

    def get_headers(self, environ: t.Any = None, scope: t.Any = None) -> list[tuple[str, str]]:
        headers = super().get_headers(environ, scope)
        if self.valid_methods:
            headers.append(("Allow", ", ".join(self.valid_methods)))
        return headers


class NotAcceptable(HTTPException):
    """*406 Not Acceptable*: no representation matches the ``Accept`` headers."""

    code = 406
    description = (
        "The resource identified by the request is only capable of generating"
        " response entities which have content characteristics not acceptable"
        " according to the accept headers sent in the request."
    )


class RequestTimeout(HTTPException):
    """*408 Request Timeout*."""

    code = 408
    description = "The server closed the network connection because the client did not finish the request within the time allowed."


class Conflict(HTTPException):
    """*409 Conflict*: the request conflicts with the resource's state."""

    code = 409
    description = "A conflict happened while processing the request. The resource might have been modified while the request was being processed."


class Gone(HTTPException):
    """*410 Gone*: the resource existed but was removed for good."""

    code = 410
    description = "The requested URL is no longer available on this server and there is no forwarding address."


class LengthRequired(HTTPException):
    """*411 Length Required*: a body was sent without ``Content-Length``."""

    code = 411
    description = "A request with this method requires a valid Content-Length header."


class PreconditionFailed(HTTPException):
    """*412 Precondition Failed*: an ``If-*`` precondition did not hold."""

    code = 412
    description = "The precondition on the request for the URL failed positive evaluation."


class RequestEntityTooLarge(HTTPException):
    """*413 Content Too Large*: the body is over a configured limit."""

    code = 413
    description = "The data value transmitted exceeds the capacity limit."


class RequestURITooLarge(HTTPException):
    """*414 URI Too Long*."""

    code = 414
    description = "The length of the requested URL exceeds the capacity limit for this server. The request cannot be processed."


class UnsupportedMediaType(HTTPException):
    """*415 Unsupported Media Type*: the body's content type is not accepted."""

    code = 415
    description = "The server does not support the media type transmitted in the request."


class RequestedRangeNotSatisfiable(HTTPException):
    """*416 Range Not Satisfiable*.

    :param length: The full length of the resource, sent as
        ``Content-Range: bytes */length``.
    """

    code = 416
    description = "The server cannot provide the requested range."

    def __init__(
        self,
        length: int | None = None,
        units: str = "bytes",
        description: str | None = None,
        response: Response | None = None,
    ) -> None:
        super().__init__(description, response)
        self.length = length
        self.units = units

    def get_headers(self, environ: t.Any = None, scope: t.Any = None) -> list[tuple[str, str]]:
        headers = super().get_headers(environ, scope)
        if self.length is not None:
            headers.append(("Content-Range", f"{self.units} */{self.length}"))
        return headers


class ExpectationFailed(HTTPException):
    """*417 Expectation Failed*."""

    code = 417
    description = "The server could not meet the requirements of the Expect header"


class ImATeapot(HTTPException):
    """*418 I'm a teapot* (RFC 2324)."""

    code = 418
    description = "This server is a teapot, not a coffee machine"


class MisdirectedRequest(HTTPException):
    """*421 Misdirected Request*: this server does not answer for the request's authority."""

    code = 421
    description = "The server cannot answer for this request's host."


class UnprocessableEntity(HTTPException):
    """*422 Unprocessable Content*: well-formed but semantically wrong."""

    code = 422
    description = (
        "The request was well-formed but was unable to be followed due to semantic errors."
    )


class Locked(HTTPException):
    """*423 Locked*."""

    code = 423
    description = "The resource that is being accessed is locked."


class FailedDependency(HTTPException):
    """*424 Failed Dependency*."""

    code = 424
    description = "The method could not be performed on the resource because the requested action depended on another action and that action failed."


class PreconditionRequired(HTTPException):
    """*428 Precondition Required*: a conditional request is required."""

    code = 428
    description = (
        'This request is required to be conditional; try using "If-Match" or "If-Unmodified-Since".'
    )


class _RetryAfter(HTTPException):
    """Adds an optional ``Retry-After`` header (seconds or a date)."""

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        retry_after: t.Any = None,
    ) -> None:
        super().__init__(description, response)
        self.retry_after = retry_after

    def get_headers(self, environ: t.Any = None, scope: t.Any = None) -> list[tuple[str, str]]:
        headers = super().get_headers(environ, scope)
        if self.retry_after is not None:
            value = self.retry_after
            if not isinstance(value, (int, str)):
                from .http import http_date

                value = http_date(value)
            headers.append(("Retry-After", str(value)))
        return headers


class TooManyRequests(_RetryAfter):
    """*429 Too Many Requests*: rate limited; ``retry_after`` may say when."""

    code = 429
    description = "This user has exceeded an allotted request count. Try again later."


class RequestHeaderFieldsTooLarge(HTTPException):
    """*431 Request Header Fields Too Large*."""

    code = 431
    description = "One or more header fields exceeds the maximum size."


class UnavailableForLegalReasons(HTTPException):
    """*451 Unavailable For Legal Reasons*."""

    code = 451
    description = "Unavailable for legal reasons."


class InternalServerError(HTTPException):
    """*500 Internal Server Error*.

    When an unhandled exception becomes a 500, the handler receives an
    instance whose :attr:`original_exception` is what was raised.

    :param original_exception: The exception that caused this error.
    """

    code = 500
    description = (
        "The server encountered an internal error and was unable to complete"
        " your request. Either the server is overloaded or there is an error in"
        " the application."
    )

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        original_exception: BaseException | None = None,
    ) -> None:
        super().__init__(description, response)
        self.original_exception = original_exception


class NotImplemented(HTTPException):  # noqa: A001 - the name users expect
    """*501 Not Implemented*: the server does not support this method."""

    code = 501
    description = "The server does not support the action requested by the browser."


class BadGateway(HTTPException):
    """*502 Bad Gateway*."""

    code = 502
    description = "The proxy server received an invalid response from an upstream server."


class ServiceUnavailable(_RetryAfter):
    """*503 Service Unavailable*; ``retry_after`` may say when to come back."""

    code = 503
    description = "The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later."


class GatewayTimeout(HTTPException):
    """*504 Gateway Timeout*."""

    code = 504
    description = "The connection to an upstream server timed out."


class HTTPVersionNotSupported(HTTPException):
    """*505 HTTP Version Not Supported*."""

    code = 505
    description = "The server does not support the HTTP protocol version used in the request."


class RoutingException(Exception):
    """Base for routing outcomes that are not a matched rule."""


class RequestRedirect(HTTPException, RoutingException):
    """*308 Permanent Redirect* raised by the router for a canonical URL.

    The router sets :attr:`new_url` to the canonical path; the app prefixes
    the script root and re-appends the query string before responding. 308
    (not 301) keeps the method and body of a POST.

    :param new_url: Where to redirect.
    """

    code = 308

    def __init__(self, new_url: str) -> None:
        super().__init__(new_url)
        self.new_url = new_url

    def get_body(self, environ: t.Any = None, scope: t.Any = None) -> str:
        return redirect_page(self.new_url)

    def get_headers(self, environ: t.Any = None, scope: t.Any = None) -> list[tuple[str, str]]:
        return [*super().get_headers(environ, scope), ("Location", iri_to_uri(self.new_url))]


def redirect_page(location: str) -> str:
    """The small HTML page of a redirect response, linking to ``location``."""
    html_location = escape(location)
    return (
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
        "<h1>Redirecting...</h1>\n"
        f'<p>You should be redirected to <a href="{html_location}">{html_location}</a>.'
        " If not, follow the link.\n"
    )


class BuildError(RoutingException, LookupError):
    """``url_for`` could not build a URL for the endpoint and values.

    The message says what went wrong: an unknown endpoint (with close
    matches), a method no rule accepts, or the values a rule still needs.

    :param endpoint: The endpoint asked for.
    :param values: The values given.
    :param method: The method asked for, if any.
    :param adapter: Anything with ``iter_rules(endpoint=None)`` (a ``Map``),
        used to explain the failure.
    """

    def __init__(
        self,
        endpoint: str,
        values: t.Mapping[str, t.Any],
        method: str | None,
        adapter: t.Any = None,
    ) -> None:
        self.endpoint = endpoint
        self.values = values
        self.method = method
        self.adapter = adapter
        LookupError.__init__(self, self._message())

    def _rules(self, endpoint: str | None = None) -> list[t.Any]:
        if self.adapter is None:
            return []
        source = getattr(self.adapter, "map", self.adapter)
        return list(source.iter_rules(endpoint))

    def _message(self) -> str:
        message = [f"Could not build url for endpoint {self.endpoint!r}"]
        if self.method:
            message.append(f" ({self.method!r})")
        if self.values:
            message.append(f" with values {sorted(self.values)!r}")
        message.append(".")
        rules = self._rules()
        if self.adapter is None:
            return "".join(message)
        own = [r for r in rules if r.endpoint == self.endpoint]
        if not own:
            import difflib  # only on this error path

            names = sorted({str(r.endpoint) for r in rules})
            close = difflib.get_close_matches(self.endpoint, names, n=1)
            if close:
                message.append(f" Did you mean {close[0]!r} instead?")
            else:
                message.append(" No rule has that endpoint.")
            return "".join(message)
        if self.method and not any(r.methods is None or self.method in r.methods for r in own):
            methods = sorted({m for r in own for m in (r.methods or ())})
            message.append(f" Did you mean to use methods {methods!r}?")
            return "".join(message)
        given = set(self.values)
        best = min(own, key=lambda r: len(set(r.arguments) - given - set(r.defaults or ())))
        missing = sorted(set(best.arguments) - given - set(best.defaults or ()))
        if missing:
            message.append(f" Did you forget to specify values {missing!r}?")
        else:
            message.append(
                " The values given do not fit any rule for this endpoint"
                " (a converter rejected one, or a default differs)."
            )
        return "".join(message)

    def __str__(self) -> str:
        return self._message()


#: Status code → exception class, for :func:`abort` and error handler lookup.
default_exceptions: dict[int, type[HTTPException]] = {}


def _collect() -> None:
    for obj in list(globals().values()):
        if (
            isinstance(obj, type)
            and issubclass(obj, HTTPException)
            and obj.code is not None
            and obj is not RequestRedirect
        ):
            default_exceptions.setdefault(obj.code, obj)


_collect()
# The 400 entry must be the general class, not a subclass found first.
default_exceptions[400] = BadRequest


class _EmptyPath(RequestRedirect):
    """Set by the request adapters when the path below the app root is empty.

    A WSGI ``PATH_INFO`` of ``""`` (an app mounted at ``/app`` asked for
    ``/app``) is routed as the empty path, as Werkzeug does: the router
    redirects it to the root's slash when the ``/`` rule wants one. The
    request's ``path`` is ``"/"`` all the same; matching replaces this
    marker with its real outcome. Left unmatched, it is the redirect to
    ``/`` that matching would usually give. (Defined after
    :data:`default_exceptions` is filled: it is no status code's class.)
    """

    def __init__(self) -> None:
        super().__init__("/")


class Aborter:
    """Raise the exception registered for a status code.

    :param mapping: Code → exception class; defaults to
        :data:`default_exceptions`.
    :param extra: More codes to add to the mapping.
    """

    def __init__(
        self,
        mapping: dict[int, type[HTTPException]] | None = None,
        extra: dict[int, type[HTTPException]] | None = None,
    ) -> None:
        self.mapping = dict(default_exceptions if mapping is None else mapping)
        if extra:
            self.mapping.update(extra)

    def __call__(self, code: int | Response, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        if not isinstance(code, int):
            raise HTTPException(response=code)
        if code not in self.mapping:
            raise LookupError(f"no exception for status code {code!r}")
        raise self.mapping[code](*args, **kwargs)


_aborter = Aborter()


def abort(code: int | Response, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    """Stop handling the request with an HTTP error.

    ``abort(404)`` raises :class:`NotFound`; ``abort(403, "No entry")``
    sets the description; ``abort(response)`` sends that response as is.
    Inside an app context the app's ``aborter`` is used, so an app can map
    extra codes.

    :param code: A status code or a response object.
    :raises HTTPException: Always.

    .. versionadded:: 0.1
    """
    from .globals import _cv

    ctx = _cv.get(None)
    if ctx is not None:
        ctx.app.aborter(code, *args, **kwargs)
    _aborter(code, *args, **kwargs)
