"""The test client: :class:`ErlenClient`, its cookie jar and :class:`TestResponse`.

:class:`ErlenClient` (``app.test_client()``) keeps cookies between requests,
follows redirects on request and can keep the last request's context active
(``with client: ...``). Every request is an environ
(:class:`~erlen.testing.EnvironBuilder`) sent through one of the app's real
server interfaces, chosen by :attr:`ErlenClient.interface`:

``"wsgi"`` (the default)
    the WSGI callable; with :attr:`ErlenClient.validate` set (the test
    suite turns it on), each exchange is checked by :mod:`wsgiref.validate`.
``"asgi"``
    the ASGI callable, through :mod:`erlen.testing.asgi`: the same environ
    becomes an ASGI ``http`` scope; with ``validate`` set, the messages are
    checked against the ASGI spec, as ``wsgiref.validate`` checks WSGI.
"""

from __future__ import annotations

import io
import typing as t
from contextlib import contextmanager
from copy import copy as _copy
from datetime import UTC, datetime
from urllib.parse import quote, unquote_to_bytes, urljoin, urlsplit

from .._utils import call_wsgi_app
from ..concurrency import run_coroutine
from ..datastructures import Headers
from ..http import dump_cookie, parse_date
from .asgi import _ASGIExchange
from .environ import EnvironBuilder
from .websocket import WebSocketTestSession


def _werkzeug_shim() -> bool:
    """Whether ``werkzeug`` is the compat layer's shim (its module has
    ``__shim__``): the client then behaves as Werkzeug's, which Flask apps'
    tests expect."""
    import sys

    shim = sys.modules.get("werkzeug")
    return shim is not None and hasattr(shim, "__shim__")


def _default_user_agent() -> str:
    """The client's ``User-Agent``: Werkzeug's under the compat layer, which
    Flask apps' tests compare with ``Werkzeug/<version>``; Erlen's otherwise."""
    if _werkzeug_shim():
        from ..compat._glue import WERKZEUG_VERSION

        return f"Werkzeug/{WERKZEUG_VERSION}"
    return "Erlen-test-client/0.1"


if t.TYPE_CHECKING:
    from ..app import Erlen
    from ..wrappers import Request, Response

__all__ = [
    "ErlenClient",
    "Client",
    "FlaskClient",
    "TestResponse",
    "ClientRedirectError",
    "INTERFACES",
]

#: The server interfaces the test client can send requests through.
INTERFACES = ("wsgi", "asgi")


class _Cookie:
    """A cookie held by the test client."""

    __slots__ = (
        "key",
        "value",
        "domain",
        "path",
        "expires",
        "secure",
        "http_only",
        "same_site",
        "origin_only",
    )

    def __init__(
        self,
        key: str,
        value: str,
        domain: str,
        path: str,
        expires: datetime | None = None,
        secure: bool = False,
        http_only: bool = False,
        same_site: str | None = None,
        origin_only: bool = True,
    ) -> None:
        self.key = key
        self.value = value
        self.domain = domain
        self.path = path
        self.expires = expires
        self.secure = secure
        self.http_only = http_only
        self.same_site = same_site
        self.origin_only = origin_only

    @property
    def decoded_key(self) -> str:
        return self.key

    @property
    def decoded_value(self) -> str:
        return self.value

    def _matches(self, host: str, path: str) -> bool:
        host = host.split(":", 1)[0].lower()
        domain = self.domain.lower()
        if self.origin_only:
            if host != domain:
                return False
        elif not (host == domain or host.endswith("." + domain)):
            return False
        cpath = self.path or "/"
        return path == cpath or path.startswith(cpath.rstrip("/") + "/") or cpath == "/"

    def _expired(self) -> bool:
        return self.expires is not None and self.expires <= datetime.now(UTC)

    def __repr__(self) -> str:
        return f"<Cookie {self.key}={self.value!r} domain={self.domain} path={self.path}>"


def _parse_set_cookie(header: str, default_domain: str, default_path: str) -> _Cookie:
    from ..http import parse_cookie

    first, *attrs = header.split(";")
    key, _, value = first.partition("=")
    key = key.strip()
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = parse_cookie(f"x={value}").get("x", value)
    cookie = _Cookie(key, value, default_domain, default_path)
    max_age: str | None = None
    for attr in attrs:
        name, _, val = attr.strip().partition("=")
        name = name.lower()
        if name == "domain" and val:
            cookie.domain = val.lstrip(".")
            cookie.origin_only = False
        elif name == "path" and val:
            cookie.path = val
        elif name == "expires":
            cookie.expires = parse_date(val)
        elif name == "max-age":
            max_age = val
        elif name == "secure":
            cookie.secure = True
        elif name == "httponly":
            cookie.http_only = True
        elif name == "samesite":
            cookie.same_site = val
    if max_age is not None:
        try:
            seconds = int(max_age)
        except ValueError:
            pass
        else:
            from datetime import timedelta

            cookie.expires = datetime.now(UTC) + timedelta(seconds=seconds)
            if seconds <= 0:
                cookie.expires = datetime(1970, 1, 1, tzinfo=UTC)
    return cookie


class TestResponse:
    """Mixed into the app's response class for responses the test client returns.

    Adds :attr:`request` (the request that was sent) and :attr:`history`
    (the responses of followed redirects, oldest first).
    """

    __test__ = False  # not a pytest test class
    request: Request
    history: tuple[t.Any, ...] = ()


class ClientRedirectError(Exception):
    """The test client found a redirect loop or too many redirects."""


class ErlenClient:
    """Send requests to an app through its WSGI or its ASGI callable.

    ``client.get("/path", query_string={...}, headers={...})``,
    ``client.post("/path", data={...})`` or ``json=...``. Cookies set by the
    app are kept and sent back. ``with client:`` keeps the context of the
    last request active after it returns, so ``request`` and ``session`` can
    be inspected.

    :param app: The application.
    :param response_wrapper: The response class to return (default: the app's).
    :param use_cookies: Keep cookies between requests.
    :param interface: ``"wsgi"`` or ``"asgi"``: the server interface the
        requests go through (default: the class's :attr:`interface`).
        ``app.test_client(interface="asgi")`` passes it on.

    .. versionadded:: 0.1
    """

    #: The server interface requests go through: ``"wsgi"`` calls the app
    #: as a WSGI server would, ``"asgi"`` as an ASGI server would (an
    #: ``http`` scope, ``receive`` and ``send``). Either way the client
    #: builds the same environ and returns the same kind of response.
    interface: str = "wsgi"

    #: Check every exchange: with :func:`wsgiref.validate.validator` over
    #: WSGI, against the ASGI message rules over ASGI (a broken exchange
    #: raises :class:`ASGIValidationError`).
    validate = False

    def __init__(
        self,
        app: Erlen,
        response_wrapper: type[Response] | None = None,
        use_cookies: bool = True,
        *,
        interface: str | None = None,
        **kwargs: t.Any,
    ) -> None:
        from ..app import Erlen

        self._erlen_app = isinstance(app, Erlen)
        if interface is not None:
            if interface not in INTERFACES:
                raise ValueError(f"interface must be one of {INTERFACES}, not {interface!r}")
            self.interface = interface
        elif not self._erlen_app:
            # Any WSGI callable can be tested, as with Werkzeug's client (a
            # DispatcherMiddleware in Flask-Admin's tests); it has no ASGI
            # side, so the class-wide interface applies to Erlen apps only.
            self.interface = "wsgi"
        self.application = app
        base = response_wrapper or getattr(app, "response_class", None)
        if base is None:
            from ..wrappers import Response

            base = Response
        self.response_wrapper: type[t.Any] = type("TestResponse", (TestResponse, base), {})
        self._cookies: dict[tuple[str, str, str], _Cookie] | None = {} if use_cookies else None
        self.environ_base: dict[str, t.Any] = {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": _default_user_agent(),
        }
        self.environ_base.update(kwargs.pop("environ_base", None) or {})
        #: Keep ``Secure`` cookies to https requests, as a browser does;
        #: Werkzeug's client (so the client under the compat layer) sends
        #: them over http too.
        self._secure_cookies_https_only = not _werkzeug_shim()
        self.preserve_context = False
        self._new_contexts: list[t.Any] = []
        self._preserved: list[t.Any] = []

    @property
    def app(self) -> Erlen:
        return self.application

    def websocket_connect(
        self,
        path: str,
        subprotocols: t.Sequence[str] | None = None,
        headers: t.Any = None,
        timeout: float = 5.0,
    ) -> WebSocketTestSession:
        """Open a WebSocket to the app's ASGI side, in process: ``with client.websocket_connect("/ws") as ws:``.

        The client's cookies go with the handshake. Returns a
        :class:`~erlen.testing.WebSocketTestSession`; entering it raises
        :class:`~erlen.testing.WebSocketRejected` if the app refuses.

        .. versionadded:: 0.1
        """
        extra = list(headers.items() if hasattr(headers, "items") else headers or ())
        if self._cookies:
            pairs = [f"{c.key}={c.value}" for c in self._cookies.values() if not c._expired()]
            if pairs:
                extra.append(("Cookie", "; ".join(pairs)))
        return WebSocketTestSession(
            self.application, path, subprotocols=subprotocols, headers=extra, timeout=timeout
        )

    # -- cookies -------------------------------------------------------------

    def get_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> _Cookie | None:
        """The stored cookie with that key, domain and path, or ``None``."""
        if self._cookies is None:
            raise TypeError("Cookies are disabled. Create a client with 'use_cookies=True'.")
        cookie = self._cookies.get((domain, path, key))
        if cookie is None or cookie._expired():
            return None
        return cookie

    def set_cookie(
        self,
        key: str,
        value: str = "",
        *,
        domain: str = "localhost",
        origin_only: bool = True,
        path: str = "/",
        **kwargs: t.Any,
    ) -> None:
        """Store a cookie to send with the next requests."""
        if self._cookies is None:
            raise TypeError("Cookies are disabled. Create a client with 'use_cookies=True'.")
        header = dump_cookie(key, value, domain=domain, path=path, **kwargs)
        cookie = _parse_set_cookie(header, domain, path)
        cookie.domain = domain
        cookie.origin_only = origin_only
        if cookie._expired():
            self._cookies.pop((cookie.domain, cookie.path, cookie.key), None)
        else:
            self._cookies[(cookie.domain, cookie.path, cookie.key)] = cookie

    def delete_cookie(self, key: str, *, domain: str = "localhost", path: str = "/") -> None:
        """Forget a stored cookie."""
        if self._cookies is None:
            raise TypeError("Cookies are disabled. Create a client with 'use_cookies=True'.")
        self._cookies.pop((domain, path, key), None)

    def _add_cookies(self, environ: dict[str, t.Any]) -> None:
        if not self._cookies:
            return
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "/")
        secure = environ.get("wsgi.url_scheme") == "https"
        pairs = []
        for k, cookie in list(self._cookies.items()):
            if cookie._expired():
                del self._cookies[k]
                continue
            if cookie.secure and not secure and self._secure_cookies_https_only:
                continue
            if cookie._matches(host, path):
                pairs.append(f"{cookie.key}={_quote_cookie_value(cookie.value)}")
        if pairs:
            existing = environ.get("HTTP_COOKIE")
            value = "; ".join(pairs)
            environ["HTTP_COOKIE"] = f"{existing}; {value}" if existing else value

    def _add_cookies_to_wsgi(self, environ: dict[str, t.Any]) -> None:
        # Werkzeug's private name for _add_cookies: Flask-SocketIO's test client
        # calls it to send the client's cookies with its connection request.
        self._add_cookies(environ)

    def _request_from_builder_args(
        self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> Request:
        # Flask's private helper: the request open() would send for these
        # arguments (the client's environ_base included), without sending it.
        # Flask-SocketIO's test client builds its connection environ with it.
        from ..wsgi import make_request

        environ = self._build_environ(*args, **kwargs)
        return make_request(self._request_class(), environ)

    def _store_cookies(self, environ: dict[str, t.Any], headers: Headers) -> None:
        if self._cookies is None:
            return
        host = (environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")).split(":", 1)[
            0
        ]
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "/")
        default_path = path.rsplit("/", 1)[0] or "/"
        for header in headers.getlist("Set-Cookie"):
            cookie = _parse_set_cookie(header, host, default_path)
            key = (cookie.domain, cookie.path, cookie.key)
            if cookie._expired():
                self._cookies.pop(key, None)
            else:
                self._cookies[key] = cookie

    # -- requests ------------------------------------------------------------

    def _build_environ(self, *args: t.Any, **kwargs: t.Any) -> dict[str, t.Any]:
        if args and isinstance(args[0], EnvironBuilder):
            # As Flask's client: the client's environ_base (REMOTE_ADDR, the
            # User-Agent) under the builder's own, on a copy of the builder.
            builder = _copy(args[0])
            builder.environ_base = {**self.environ_base, **(builder.environ_base or {})}
            return builder.get_environ()
        if args and isinstance(args[0], dict):
            # As Werkzeug's client: the client's environ_base replaces the
            # environ's own values (REMOTE_ADDR, ...), but not its headers.
            environ = dict(args[0])
            for key, value in self.environ_base.items():
                if not (key.startswith("HTTP_") and key in environ):
                    environ[key] = value
            return environ
        base = dict(self.environ_base)
        base.update(kwargs.pop("environ_base", None) or {})
        kwargs["environ_base"] = base
        # A plain WSGI callable has no config to take the host and root from.
        app = self.application if self._erlen_app else None
        builder = EnvironBuilder(app, *args, **kwargs)
        return builder.get_environ()

    def _pop_preserved(self) -> None:
        while self._preserved:
            self._preserved.pop().pop()

    def run_wsgi_app(self, environ: dict[str, t.Any]) -> tuple[str, Headers, bytes]:
        """Call the app and collect status, headers and the whole body."""
        app: t.Any = self.application
        if self.validate:
            from wsgiref.validate import validator

            app = validator(app)
        status, headers, body = call_wsgi_app(app, environ)
        return status, Headers(headers), body

    def run_asgi_app(self, environ: dict[str, t.Any]) -> tuple[str, Headers, bytes]:
        """Call the app's ASGI side with the environ as an ``http`` scope; collect the response.

        Returns what :meth:`run_wsgi_app` returns: the status line, the
        headers and the whole body. The coroutine runs on this thread's
        event loop (:func:`erlen.concurrency.run_coroutine`: beside the loop
        in an async test) in a copy of the current context, so a context the
        test pushed is the request's outer context, as over WSGI; an
        exception the app lets out is raised here, unchained.
        """
        exchange = _ASGIExchange(environ, validate=self.validate)
        app: t.Any = self.application
        run_coroutine(exchange.run(app))
        return exchange.result()

    def open(
        self, *args: t.Any, buffered: bool = False, follow_redirects: bool = False, **kwargs: t.Any
    ) -> t.Any:
        """Send a request; arguments as for :class:`EnvironBuilder` (or a ready environ/builder).

        :param buffered: Return the body as a list: ``response.is_streamed``
            is False from the start. Otherwise it is an iterator, read into
            a list the first time the body is asked for (as with Werkzeug).
        :param follow_redirects: Follow redirects; the responses passed on
            the way are in ``response.history``.
        """
        environ = self._build_environ(*args, **kwargs)
        response = self._request(environ, buffered)
        if not follow_redirects:
            return response
        history: list[t.Any] = []
        seen: set[tuple[str, str]] = set()
        while response.status_code in (301, 302, 303, 305, 307, 308) and response.location:
            history.append(response)
            if len(history) > 30:
                raise ClientRedirectError("More than 30 redirects; stopping.")
            environ = self._redirect_environ(environ, response)
            key = (
                environ["REQUEST_METHOD"],
                environ["PATH_INFO"] + "?" + environ.get("QUERY_STRING", ""),
            )
            if key in seen and environ["REQUEST_METHOD"] in ("GET", "HEAD"):
                raise ClientRedirectError(f"Redirect loop detected at {key[1]!r}.")
            seen.add(key)
            response = self._request(environ, buffered)
        response.history = tuple(history)
        return response

    def _redirect_environ(self, environ: dict[str, t.Any], response: t.Any) -> dict[str, t.Any]:
        # A path given without its slash ("start") is /start, as the app
        # routes it; joined as is, it would run on into the host's name.
        here = environ.get("SCRIPT_NAME", "") + environ["PATH_INFO"]
        if not here.startswith("/"):
            here = "/" + here
        current = (
            f"{environ['wsgi.url_scheme']}://{environ.get('HTTP_HOST', 'localhost')}{quote(here)}"
        )
        target = urlsplit(urljoin(current, response.location))
        new = dict(environ)
        for k in ("HTTP_COOKIE",):
            new.pop(k, None)
        if target.netloc:
            new["HTTP_HOST"] = target.netloc
            new["SERVER_NAME"] = target.netloc.split(":", 1)[0]
        # The current URL is absolute, so the joined one always has a scheme.
        new["wsgi.url_scheme"] = target.scheme
        script = environ.get("SCRIPT_NAME", "")
        path = unquote_to_bytes(target.path or "/").decode("latin-1")
        if script and path.startswith(script):
            path = path[len(script) :] or "/"
        new["PATH_INFO"] = path
        new["QUERY_STRING"] = target.query
        code = response.status_code
        if code in (301, 302, 303) and environ["REQUEST_METHOD"] != "HEAD":
            new["REQUEST_METHOD"] = "GET"
            new["wsgi.input"] = io.BytesIO(b"")
            for k in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                new.pop(k, None)
        else:
            stream = environ["wsgi.input"]
            if hasattr(stream, "seek"):
                stream.seek(0)
        return new

    def _request(self, environ: dict[str, t.Any], buffered: bool = False) -> t.Any:
        self._pop_preserved()
        self._add_cookies(environ)
        if self.preserve_context:
            environ["erlen._preserve_context"] = self._new_contexts.append
        try:
            if self.interface == "asgi":
                status, headers, body = self.run_asgi_app(environ)
            elif self.interface == "wsgi":
                status, headers, body = self.run_wsgi_app(environ)
            else:
                raise ValueError(f"interface must be one of {INTERFACES}, not {self.interface!r}")
        finally:
            for ctx in self._new_contexts:
                ctx.push()
                self._preserved.append(ctx)
            self._new_contexts.clear()
        self._store_cookies(environ, headers)
        wrapper: t.Any = self.response_wrapper
        rv = wrapper.__new__(wrapper)
        rv.headers = headers
        rv.status = status
        # The body is always read whole (the app's iterable is closed by now),
        # but unless asked for `buffered`, it is handed over as an iterator, as
        # Werkzeug's client does: `is_streamed` is True until the body is read
        # (Flask-Compress's tests check it), a list after that.
        rv.response = [body] if buffered else iter((body,))
        rv.direct_passthrough = False
        from ..wsgi import make_request

        rv.request = make_request(self._request_class(), environ)
        return rv

    def _request_class(self) -> type[Request]:
        """The app's request class; Erlen's for an app that is a plain WSGI callable."""
        cls = getattr(self.application, "request_class", None)
        if cls is None:
            from ..wrappers import Request

            cls = Request
        return t.cast("type[Request]", cls)

    def get(self, *args: t.Any, **kw: t.Any) -> t.Any:
        """Send a GET request."""
        return self.open(*args, method="GET", **kw)

    def post(self, *args: t.Any, **kw: t.Any) -> t.Any:
        """Send a POST request."""
        return self.open(*args, method="POST", **kw)

    def put(self, *args: t.Any, **kw: t.Any) -> t.Any:
        """Send a PUT request."""
        return self.open(*args, method="PUT", **kw)

    def patch(self, *args: t.Any, **kw: t.Any) -> t.Any:
        """Send a PATCH request."""
        return self.open(*args, method="PATCH", **kw)

    def delete(self, *args: t.Any, **kw: t.Any) -> t.Any:
        """Send a DELETE request."""
        return self.open(*args, method="DELETE", **kw)

    def head(self, *args: t.Any, **kw: t.Any) -> t.Any:
        """Send a HEAD request."""
        return self.open(*args, method="HEAD", **kw)

    def options(self, *args: t.Any, **kw: t.Any) -> t.Any:
        """Send an OPTIONS request."""
        return self.open(*args, method="OPTIONS", **kw)

    def trace(self, *args: t.Any, **kw: t.Any) -> t.Any:
        """Send a TRACE request."""
        return self.open(*args, method="TRACE", **kw)

    @contextmanager
    def session_transaction(self, *args: t.Any, **kwargs: t.Any) -> t.Iterator[t.Any]:
        """Open the session the client's cookies carry, to read or change it in a test.

        ``with client.session_transaction() as sess: sess["user_id"] = 1``
        makes the next request see a logged-in user. The session is opened
        for a made-up request (arguments as for :meth:`open`, default
        ``GET /``) carrying the stored cookies, and saved back into them when
        the block ends without an error.

        :raises TypeError: The client was created with ``use_cookies=False``.
        :raises RuntimeError: The app gives no real session (no
            ``SECRET_KEY`` with the default session interface).

        .. versionadded:: 0.1
        """
        if self._cookies is None:
            raise TypeError(
                "Cookies are disabled, so there is no session to change. Create"
                " the client with 'use_cookies=True'."
            )
        app = self.application
        si = app.session_interface
        environ = self._build_environ(*args, **kwargs)
        # Cookies go into the environ before the request reads its headers.
        self._add_cookies(environ)
        ctx = app.request_context(environ)
        with ctx:
            sess = si.open_session(app, ctx.request)
        if sess is None or si.is_null_session(sess):
            raise RuntimeError(
                # "Session backend did not open a session" is Flask's wording,
                # which tests match.
                "Session backend did not open a session: the session interface"
                " gave no session to work with. With the default interface, set"
                " 'SECRET_KEY' in the app's config."
            )
        yield sess
        response = app.response_class()
        with ctx:
            si.save_session(app, sess, response)
        self._store_cookies(environ, response.headers)

    def __enter__(self) -> ErlenClient:
        if self.preserve_context:
            raise RuntimeError("Cannot nest client invocations")
        self.preserve_context = True
        return self

    def __exit__(self, *exc: t.Any) -> None:
        self.preserve_context = False
        self._pop_preserved()


#: Werkzeug's name for the client.
Client = ErlenClient
FlaskClient = ErlenClient


def _quote_cookie_value(value: str) -> str:
    if (
        value
        and all(c.isalnum() or c in "!#$%&'()*+-./:<=>?@[]^_`{|}~" for c in value)
        and value.isascii()
    ):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
