"""Test helpers: build WSGI environs and send requests to an app without a server.

:class:`ErlenClient` (``app.test_client()``) keeps cookies between requests,
follows redirects on request and can keep the last request's context active
(``with client: ...``). Every request goes through one of the app's real
server interfaces, chosen by :attr:`ErlenClient.interface`:

``"wsgi"`` (the default)
    the WSGI callable; with :attr:`ErlenClient.validate` set (the test
    suite turns it on), each exchange is checked by :mod:`wsgiref.validate`.
``"asgi"``
    the ASGI callable: the same environ is turned into an ASGI ``http``
    scope (:func:`environ_to_scope`), the body is fed through ``receive``
    and the messages given to ``send`` are collected
    (:class:`_ASGIExchange`); with ``validate`` set, the messages are
    checked against the ASGI spec, as ``wsgiref.validate`` checks WSGI.
"""

from __future__ import annotations

import io
import mimetypes
import sys
import threading
import typing as t
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.parse import quote, unquote_to_bytes, urljoin, urlsplit

from .datastructures import Headers, MultiDict
from .http import dump_cookie, parse_date, url_encode

if t.TYPE_CHECKING:
    from .app import Erlen
    from .wrappers import Request, Response

__all__ = [
    "EnvironBuilder",
    "ErlenClient",
    "Client",
    "TestResponse",
    "ErlenCliRunner",
    "ASGIValidationError",
    "environ_to_scope",
]

#: The server interfaces the test client can send requests through.
INTERFACES = ("wsgi", "asgi")


class EnvironBuilder:
    """Build a WSGI environ for a made-up request.

    :param app: The app; its ``SERVER_NAME``, ``APPLICATION_ROOT`` and
        ``PREFERRED_URL_SCHEME`` set the default base URL.
    :param path: The path, optionally with ``?query`` (or a full URL).
    :param base_url: ``scheme://host/root``; overrides the app's defaults.
    :param query_string: A string or a mapping of query arguments.
    :param method: The request method.
    :param headers: Request headers.
    :param data: The body: ``str``/``bytes``, or a dict of form fields (file
        values, or ``(file, filename[, content_type])`` tuples, make it multipart).
    :param json: An object sent as a JSON body.
    :param content_type: The body's content type.
    :param environ_base: Environ values to start from.
    :param environ_overrides: Environ values set last.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        app: Erlen | None = None,
        path: str = "/",
        base_url: str | None = None,
        query_string: t.Any = None,
        method: str = "GET",
        headers: t.Any = None,
        data: t.Any = None,
        json: t.Any = None,
        content_type: str | None = None,
        content_length: int | None = None,
        environ_base: dict[str, t.Any] | None = None,
        environ_overrides: dict[str, t.Any] | None = None,
        subdomain: str | None = None,
        url_scheme: str | None = None,
        input_stream: t.IO[bytes] | None = None,
        errors_stream: t.IO[str] | None = None,
        multithread: bool = False,
        multiprocess: bool = False,
        run_once: bool = False,
    ) -> None:
        self.app = app
        split = urlsplit(path)
        if base_url is None:
            if split.scheme and split.netloc:
                base_url = f"{split.scheme}://{split.netloc}/"
            elif app is not None:
                http_host = app.config.get("SERVER_NAME") or "localhost"
                if subdomain:
                    http_host = f"{subdomain}.{http_host}"
                scheme = url_scheme or app.config["PREFERRED_URL_SCHEME"]
                app_root = app.config["APPLICATION_ROOT"]
                base_url = f"{scheme}://{http_host}/{app_root.lstrip('/')}"
            else:
                base_url = "http://localhost/"
        base = urlsplit(base_url)
        self.url_scheme = url_scheme or base.scheme or "http"
        self.host = base.netloc or "localhost"
        self.script_root = base.path.rstrip("/")
        self.path = split.path or "/"
        if query_string is None:
            # Like a browser: non-ASCII in the query is sent as UTF-8 escapes.
            query_string = quote(split.query, safe="=&;%+/?:@,$!*'()[]~")
        elif not isinstance(query_string, str):
            query_string = url_encode(query_string)
        self.query_string: str = query_string
        self.method = method.upper()
        self.headers = Headers(headers) if not isinstance(headers, Headers) else headers.copy()
        self.environ_base = environ_base or {}
        self.environ_overrides = environ_overrides or {}
        self.errors_stream = errors_stream or sys.stderr
        self.multithread = multithread
        self.multiprocess = multiprocess
        self.run_once = run_once
        self.input_stream = input_stream
        self.content_length = content_length
        self._body: bytes | None = None

        if json is not None:
            if data is not None:
                raise TypeError("can't provide both json and data")
            if app is not None:
                data = app.json.dumps(json)
            else:
                import json as _json

                data = _json.dumps(json)
            if content_type is None:
                content_type = "application/json"
        if data is not None:
            if input_stream is not None:
                raise TypeError("can't provide input stream and data")
            if isinstance(data, str):
                self._body = data.encode("utf-8")
            elif isinstance(data, (bytes, bytearray)):
                self._body = bytes(data)
            elif hasattr(data, "read"):
                self._body = data.read()
            else:
                fields = _form_fields(data)
                if any(_is_file_value(v) for v in fields.values()) or (
                    content_type is not None and content_type.startswith("multipart/form-data")
                ):
                    self._body, content_type = _encode_multipart(fields)
                else:
                    self._body = url_encode(fields).encode("ascii")
                    if content_type is None:
                        content_type = "application/x-www-form-urlencoded"
        self.content_type = content_type

    def get_environ(self) -> dict[str, t.Any]:
        """The WSGI environ for this request."""
        host, _, port = self.host.partition(":")
        if not port:
            port = "443" if self.url_scheme == "https" else "80"
        raw_path = unquote_to_bytes(self.path).decode("latin-1")
        environ: dict[str, t.Any] = {
            "REQUEST_METHOD": self.method,
            "SCRIPT_NAME": unquote_to_bytes(self.script_root).decode("latin-1"),
            "PATH_INFO": raw_path,
            "QUERY_STRING": self.query_string,
            "REQUEST_URI": quote(self.script_root + self.path, safe="/%") + (f"?{self.query_string}" if self.query_string else ""),
            "SERVER_NAME": host,
            "SERVER_PORT": port,
            "HTTP_HOST": self.host,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": self.url_scheme,
            "wsgi.errors": self.errors_stream,
            "wsgi.multithread": self.multithread,
            "wsgi.multiprocess": self.multiprocess,
            "wsgi.run_once": self.run_once,
        }
        environ.update(self.environ_base)
        if self.input_stream is not None:
            environ["wsgi.input"] = self.input_stream
            if self.content_length is not None:
                environ["CONTENT_LENGTH"] = str(self.content_length)
        else:
            body = self._body or b""
            environ["wsgi.input"] = io.BytesIO(body)
            if self._body is not None or self.content_length is not None:
                environ["CONTENT_LENGTH"] = str(self.content_length if self.content_length is not None else len(body))
        if self.content_type is not None:
            environ["CONTENT_TYPE"] = self.content_type
        # A header given here replaces the one environ_base has (the client's
        # default User-Agent, say); a header given twice here is joined, as
        # a server joins repeated headers. Cookies are joined with what the
        # base already carries (the client's cookie jar).
        seen: set[str] = set()
        for key, value in self.headers.items():
            name = key.upper().replace("-", "_")
            if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[name] = value
                continue
            name = "HTTP_" + name
            if name in environ and name != "HTTP_HOST" and (name in seen or name == "HTTP_COOKIE"):
                environ[name] = f"{environ[name]}, {value}" if name != "HTTP_COOKIE" else f"{environ[name]}; {value}"
            else:
                environ[name] = value
            seen.add(name)
        environ.update(self.environ_overrides)
        return environ

    def get_request(self, cls: type[Request] | None = None) -> Request:
        """A request object for this environ."""
        from .wrappers import Request as _Request
        from .wsgi import make_request

        return make_request(cls or _Request, self.get_environ())

    def close(self) -> None:
        """Nothing to release; kept for API compatibility."""


def _form_fields(data: t.Any) -> MultiDict[str, t.Any]:
    """Form data as a MultiDict; a tuple value is one file, a list many values."""
    fields: MultiDict[str, t.Any] = MultiDict()
    items = data.items(multi=True) if isinstance(data, MultiDict) else (data.items() if hasattr(data, "items") else data)
    for key, value in items:
        if isinstance(value, list):
            for item in value:
                fields.add(key, item)
        else:
            fields.add(key, value)
    return fields


def _is_file_value(value: t.Any) -> bool:
    return hasattr(value, "read") or (isinstance(value, tuple) and bool(value) and hasattr(value[0], "read"))


def _encode_multipart(fields: MultiDict[str, t.Any]) -> tuple[bytes, str]:
    import secrets

    boundary = f"----ErlenFormBoundary{secrets.token_hex(12)}"
    out = io.BytesIO()
    for key, value in fields.items(multi=True):
        out.write(f"--{boundary}\r\n".encode())
        if _is_file_value(value):
            if isinstance(value, tuple):
                stream, filename, *rest = value + (None,) * (3 - len(value))
                ctype = rest[0] if rest else None
            else:
                stream, filename, ctype = value, getattr(value, "name", None), None
            filename = filename or ""
            if not isinstance(filename, str):
                filename = str(filename)
            import os

            filename = os.path.basename(filename)
            ctype = ctype or mimetypes.guess_type(filename)[0] or "application/octet-stream"
            out.write(
                f'Content-Disposition: form-data; name="{_mp_quote(key)}"; filename="{_mp_quote(filename)}"\r\n'.encode()
            )
            out.write(f"Content-Type: {ctype}\r\n\r\n".encode())
            data = stream.read()
            out.write(data.encode() if isinstance(data, str) else data)
        else:
            out.write(f'Content-Disposition: form-data; name="{_mp_quote(key)}"\r\n\r\n'.encode())
            out.write(str(value).encode("utf-8"))
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def _mp_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class _Cookie:
    """A cookie held by the test client."""

    __slots__ = ("key", "value", "domain", "path", "expires", "secure", "http_only", "same_site", "origin_only")

    def __init__(self, key: str, value: str, domain: str, path: str, expires: datetime | None = None, secure: bool = False, http_only: bool = False, same_site: str | None = None, origin_only: bool = True) -> None:
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
    from .http import parse_cookie

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
        if interface is not None:
            if interface not in INTERFACES:
                raise ValueError(f"interface must be one of {INTERFACES}, not {interface!r}")
            self.interface = interface
        self.application = app
        base = response_wrapper or app.response_class
        self.response_wrapper: type[t.Any] = type("TestResponse", (TestResponse, base), {})
        self._cookies: dict[tuple[str, str, str], _Cookie] | None = {} if use_cookies else None
        self.environ_base: dict[str, t.Any] = {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": "Erlen-test-client/0.1"}
        self.environ_base.update(kwargs.pop("environ_base", None) or {})
        self.preserve_context = False
        self._new_contexts: list[t.Any] = []
        self._preserved: list[t.Any] = []

    @property
    def app(self) -> Erlen:
        return self.application

    def websocket_connect(
        self, path: str, subprotocols: t.Sequence[str] | None = None, headers: t.Any = None, timeout: float = 5.0
    ) -> t.Any:
        """Open a WebSocket to the app's ASGI side, in process: ``with client.websocket_connect("/ws") as ws:``.

        The client's cookies go with the handshake. Returns a
        :class:`~erlen.websockets.WebSocketTestSession`; entering it raises
        :class:`~erlen.websockets.WebSocketRejected` if the app refuses.

        .. versionadded:: 0.1
        """
        from .websockets import WebSocketTestSession

        extra = list(headers.items() if hasattr(headers, "items") else headers or ())
        if self._cookies:
            pairs = [f"{c.key}={c.value}" for c in self._cookies.values() if not c._expired()]
            if pairs:
                extra.append(("Cookie", "; ".join(pairs)))
        return WebSocketTestSession(self.application, path, subprotocols=subprotocols, headers=extra, timeout=timeout)

    # -- cookies -------------------------------------------------------------

    def get_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> _Cookie | None:
        """The stored cookie with that key, domain and path, or ``None``."""
        if self._cookies is None:
            raise TypeError("Cookies are disabled. Create a client with 'use_cookies=True'.")
        cookie = self._cookies.get((domain, path, key))
        if cookie is None or cookie._expired():
            return None
        return cookie

    def set_cookie(self, key: str, value: str = "", *, domain: str = "localhost", origin_only: bool = True, path: str = "/", **kwargs: t.Any) -> None:
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
            if cookie.secure and not secure:
                continue
            if cookie._matches(host, path):
                pairs.append(f"{cookie.key}={_quote_cookie_value(cookie.value)}")
        if pairs:
            existing = environ.get("HTTP_COOKIE")
            value = "; ".join(pairs)
            environ["HTTP_COOKIE"] = f"{existing}; {value}" if existing else value

    def _store_cookies(self, environ: dict[str, t.Any], headers: Headers) -> None:
        if self._cookies is None:
            return
        host = (environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")).split(":", 1)[0]
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
            return args[0].get_environ()
        if args and isinstance(args[0], dict):
            return dict(args[0])
        base = dict(self.environ_base)
        base.update(kwargs.pop("environ_base", None) or {})
        kwargs["environ_base"] = base
        builder = EnvironBuilder(self.application, *args, **kwargs)
        return builder.get_environ()

    def _pop_preserved(self) -> None:
        while self._preserved:
            self._preserved.pop().pop()

    def run_wsgi_app(self, environ: dict[str, t.Any]) -> tuple[str, Headers, bytes]:
        """Call the app and collect status, headers and the whole body."""
        captured: list[t.Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> t.Callable[[bytes], None]:
            if exc_info is not None and captured:
                raise exc_info[1].with_traceback(exc_info[2])
            captured[:] = [status, headers]
            return _no_write

        app: t.Any = self.application
        if self.validate:
            from wsgiref.validate import validator

            app = validator(app)
        app_iter = app(environ, start_response)
        try:
            body = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        return captured[0], Headers(captured[1]), body

    def run_asgi_app(self, environ: dict[str, t.Any]) -> tuple[str, Headers, bytes]:
        """Call the app's ASGI side with the environ as an ``http`` scope; collect the response.

        Returns what :meth:`run_wsgi_app` returns: the status line, the
        headers and the whole body. The coroutine runs on this thread's
        event loop in a copy of the current context, so a context the test
        pushed is the request's outer context, as over WSGI; an exception
        the app lets out is raised here.
        """
        exchange = _ASGIExchange(environ, validate=self.validate)
        app: t.Any = self.application
        _run_coroutine(exchange.run(app))
        return exchange.result()

    def open(self, *args: t.Any, buffered: bool = False, follow_redirects: bool = False, **kwargs: t.Any) -> t.Any:
        """Send a request; arguments as for :class:`EnvironBuilder` (or a ready environ/builder)."""
        environ = self._build_environ(*args, **kwargs)
        response = self._request(environ)
        if not follow_redirects:
            return response
        history: list[t.Any] = []
        seen: set[tuple[str, str]] = set()
        while response.status_code in (301, 302, 303, 305, 307, 308) and response.location:
            history.append(response)
            if len(history) > 30:
                raise ClientRedirectError("More than 30 redirects; stopping.")
            environ = self._redirect_environ(environ, response)
            key = (environ["REQUEST_METHOD"], environ["PATH_INFO"] + "?" + environ.get("QUERY_STRING", ""))
            if key in seen and environ["REQUEST_METHOD"] in ("GET", "HEAD"):
                raise ClientRedirectError(f"Redirect loop detected at {key[1]!r}.")
            seen.add(key)
            response = self._request(environ)
        response.history = tuple(history)
        return response

    def _redirect_environ(self, environ: dict[str, t.Any], response: t.Any) -> dict[str, t.Any]:
        current = f"{environ['wsgi.url_scheme']}://{environ.get('HTTP_HOST', 'localhost')}{quote(environ.get('SCRIPT_NAME', '') + environ['PATH_INFO'])}"
        target = urlsplit(urljoin(current, response.location))
        new = dict(environ)
        for k in ("HTTP_COOKIE",):
            new.pop(k, None)
        if target.netloc:
            new["HTTP_HOST"] = target.netloc
            new["SERVER_NAME"] = target.netloc.split(":", 1)[0]
        if target.scheme:
            new["wsgi.url_scheme"] = target.scheme
        script = environ.get("SCRIPT_NAME", "")
        path = unquote_to_bytes(target.path or "/").decode("latin-1")
        if script and path.startswith(script):
            path = path[len(script):] or "/"
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

    def _request(self, environ: dict[str, t.Any]) -> t.Any:
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
        rv.response = [body]
        rv.direct_passthrough = False
        from .wsgi import make_request

        rv.request = make_request(self.application.request_class, environ)
        return rv

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
                "The session interface gave no session to work with. With the"
                " default interface, set 'SECRET_KEY' in the app's config."
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


def _no_write(data: bytes) -> None:
    raise RuntimeError("The test client does not support the WSGI write() callable.")


def _quote_cookie_value(value: str) -> str:
    if value and all(c.isalnum() or c in "!#$%&'()*+-./:<=>?@[]^_`{|}~" for c in value) and value.isascii():
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


# -- the ASGI transport ------------------------------------------------------------

#: The scope extension that carries the test client's preserve-context hook
#: (the ASGI twin of the environ's ``erlen._preserve_context``): a callable
#: the app calls with the request context before popping it.
PRESERVE_CONTEXT_EXTENSION = "erlen.preserve_context"

#: Bodies up to this size go in one ``http.request`` message; larger ones
#: are split into :data:`_BODY_MESSAGES` messages, so code that streams a
#: body across messages is exercised.
_ONE_MESSAGE = 1024
_BODY_MESSAGES = 4

#: Response header names whose usual spelling ``str.title`` gets wrong.
_HEADER_SPELLINGS = {
    "etag": "ETag",
    "www-authenticate": "WWW-Authenticate",
    "content-md5": "Content-MD5",
    "x-xss-protection": "X-XSS-Protection",
    "dnt": "DNT",
    "te": "TE",
}


class ASGIValidationError(AssertionError):
    """The app broke the ASGI protocol in an exchange with the test client.

    An :class:`AssertionError`, like the errors :mod:`wsgiref.validate`
    raises for WSGI slips.
    """


def _wsgi_bytes(value: str) -> bytes:
    """The bytes a PEP 3333 string stands for (latin-1); UTF-8 for text beyond latin-1."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        # A test gave text a WSGI server could never produce; send what a
        # client would put on the wire for it.
        return value.encode("utf-8")


def environ_to_scope(environ: dict[str, t.Any]) -> dict[str, t.Any]:
    """The ASGI 3 ``http`` scope of the request a WSGI environ describes.

    What an ASGI server (uvicorn, hypercorn) would give the app for the same
    request: ``path`` is the full path (``SCRIPT_NAME`` + ``PATH_INFO``)
    decoded as UTF-8, with bytes that are not UTF-8 replaced by U+FFFD as
    those servers do, while ``raw_path`` keeps the percent-encoded bytes;
    ``root_path`` is ``SCRIPT_NAME``; headers are lower-case byte pairs from
    ``CONTENT_TYPE``, ``CONTENT_LENGTH`` and the ``HTTP_*`` keys. The server
    offers ``http.response.pathsend``. The client's preserve-context hook
    (``erlen._preserve_context``) goes in
    ``scope["extensions"]["erlen.preserve_context"]``.

    Other environ keys (``wsgi.*``, custom ones) have no ASGI counterpart
    and are left out.
    """
    from urllib.parse import quote_from_bytes

    script = _wsgi_bytes(environ.get("SCRIPT_NAME", ""))
    path = script + _wsgi_bytes(environ.get("PATH_INFO", ""))
    headers: list[tuple[bytes, bytes]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        headers.append((name.lower().replace("_", "-").encode("latin-1"), _wsgi_bytes(str(value))))
    protocol = environ.get("SERVER_PROTOCOL", "HTTP/1.1")
    remote = environ.get("REMOTE_ADDR")
    server_name = environ.get("SERVER_NAME")
    extensions: dict[str, t.Any] = {"http.response.pathsend": {}}
    if "erlen._preserve_context" in environ:
        extensions[PRESERVE_CONTEXT_EXTENSION] = environ["erlen._preserve_context"]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": protocol.partition("/")[2] or "1.1",
        "method": environ.get("REQUEST_METHOD", "GET").upper(),
        "scheme": environ.get("wsgi.url_scheme", "http"),
        "path": path.decode("utf-8", "replace") or "/",
        "raw_path": quote_from_bytes(path, safe="/:@!$&'()*+,;=~").encode("ascii"),
        "query_string": _wsgi_bytes(environ.get("QUERY_STRING", "")),
        "root_path": script.decode("utf-8", "replace"),
        "headers": headers,
        "client": (remote, int(environ.get("REMOTE_PORT") or 0)) if remote else None,
        "server": (server_name, int(environ.get("SERVER_PORT") or 80)) if server_name else None,
        "extensions": extensions,
    }


def _request_body(environ: dict[str, t.Any]) -> bytes:
    """The body a server would deliver: ``CONTENT_LENGTH`` bytes of ``wsgi.input``.

    Without a length, the whole stream when the request is chunked (or the
    environ says the input is terminated), else nothing, as HTTP/1.1 says.
    """
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = str(environ.get("CONTENT_LENGTH") or "").strip()
    if length.isdigit():
        data = stream.read(int(length))
    elif "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() or environ.get("wsgi.input_terminated"):
        data = stream.read()
    else:
        return b""
    return bytes(data)


class _ASGIExchange:
    """One request over the ASGI interface: the scope, ``receive``, ``send`` and what was sent.

    ``receive`` hands out the body as ``http.request`` messages, then waits
    until the response is complete before it reports ``http.disconnect``
    (a client that stays connected until it has its answer). ``send``
    collects the response; with ``validate`` it checks every message
    against the ASGI spec and raises :class:`ASGIValidationError`.
    """

    def __init__(self, environ: dict[str, t.Any], validate: bool = False) -> None:
        self.scope = environ_to_scope(environ)
        self.validate = validate
        body = _request_body(environ)
        if len(body) <= _ONE_MESSAGE:
            chunks = [body]
        else:
            size = -(-len(body) // _BODY_MESSAGES)
            chunks = [body[i : i + size] for i in range(0, len(body), size)]
        self._messages = [
            {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
        ]
        self._done: t.Any = None  # an asyncio.Event, made on the loop
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        #: Whether the last body message (or a pathsend) was sent.
        self.complete = False

    async def run(self, app: t.Callable[..., t.Awaitable[None]]) -> None:
        """Call ``app(scope, receive, send)``; check the response was completed."""
        import asyncio

        self._done = asyncio.Event()
        try:
            await app(self.scope, self.receive, self.send)
        finally:
            # A task still waiting in receive() learns the client is gone.
            self._done.set()
        if self.validate and not self.complete:
            self._fail(
                "the app returned before completing the response"
                + (" (no http.response.start)" if self.status is None else " (no body message with more_body=False)")
            )

    async def receive(self) -> dict[str, t.Any]:
        """The next ``http.request`` message; ``http.disconnect`` once the response is done."""
        if self._messages:
            return self._messages.pop(0)
        await self._done.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, t.Any]) -> None:
        """Collect (and with ``validate``, check) one message from the app."""
        kind = message.get("type")
        if self.validate:
            self._check(message)
        if kind == "http.response.start":
            self.status = message["status"]
            self.headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
        elif kind == "http.response.body":
            self.body.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                self.complete = True
                self._done.set()
        elif kind == "http.response.pathsend":
            with open(message["path"], "rb") as f:
                self.body.append(f.read())
            self.complete = True
            self._done.set()

    def _fail(self, problem: str) -> t.NoReturn:
        raise ASGIValidationError(f"ASGI: {problem}")

    def _check(self, message: dict[str, t.Any]) -> None:
        """The ASGI counterpart of ``wsgiref.validate`` for one sent message."""
        import os

        if not isinstance(message, dict):
            self._fail(f"a message must be a dict, not {type(message).__name__}")
        kind = message.get("type")
        if self.complete:
            self._fail(f"{kind!r} sent after the response was complete")
        if kind == "http.response.start":
            if self.status is not None:
                self._fail("http.response.start sent twice")
            status = message.get("status")
            if type(status) is not int or not 100 <= status <= 599:
                self._fail(f"the status must be an int from 100 to 599, not {status!r}")
            headers = message.get("headers", [])
            if isinstance(headers, (str, bytes, dict)):
                self._fail(f"headers must be an iterable of pairs, not {type(headers).__name__}")
            for pair in headers:
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    self._fail(f"a header must be a [name, value] pair, not {pair!r}")
                name, value = pair
                if type(name) is not bytes or type(value) is not bytes:
                    self._fail(f"header names and values must be bytes, not {pair!r}")
                if name != name.lower():
                    self._fail(f"header names must be lower case, not {name!r}")
                if b"\n" in value or b"\r" in value or b"\n" in name or b"\r" in name:
                    self._fail(f"a header must not contain a line break: {pair!r}")
            if not isinstance(message.get("trailers", False), bool):
                self._fail("trailers must be a bool")
            return
        if kind not in ("http.response.body", "http.response.pathsend"):
            self._fail(f"unknown message type {kind!r} for an http scope")
        if self.status is None:
            self._fail(f"{kind} sent before http.response.start")
        if kind == "http.response.body":
            if type(message.get("body", b"")) is not bytes:
                self._fail(f"the body must be bytes, not {type(message.get('body')).__name__}")
            if not isinstance(message.get("more_body", False), bool):
                self._fail("more_body must be a bool")
            return
        if "http.response.pathsend" not in self.scope["extensions"]:  # pragma: no cover - always offered
            self._fail("http.response.pathsend sent, but the server did not offer it")
        path = message.get("path")
        if not isinstance(path, str) or not os.path.isabs(path):
            self._fail(f"the pathsend path must be an absolute path string, not {path!r}")

    def result(self) -> tuple[str, Headers, bytes]:
        """The status line, headers and body, as :meth:`ErlenClient.run_wsgi_app` returns them."""
        from .http import HTTP_STATUS_CODES

        if self.status is None:
            raise ASGIValidationError("ASGI: the app returned without sending http.response.start")
        status = f"{self.status} {HTTP_STATUS_CODES.get(self.status, 'UNKNOWN')}"
        headers = Headers()
        for name, value in self.headers:
            key = name.decode("latin-1")
            headers.add(_HEADER_SPELLINGS.get(key) or key.title(), value.decode("latin-1"))
        return status, headers, b"".join(self.body)


_loops = threading.local()


def _run_coroutine(coro: t.Coroutine[t.Any, t.Any, t.Any]) -> t.Any:
    """Run ``coro`` on this thread's event loop (kept between requests) in a copy of the current context.

    Inside a running loop (an async test), a helper thread runs it on a
    loop of its own, so the client can still block until it is done.
    """
    import asyncio
    import contextvars

    context = contextvars.copy_context()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        in_loop = False
    else:
        in_loop = True
    # NOTE: outside the except block, so the app's exceptions don't come
    # chained to "no running event loop".
    if not in_loop:
        runner = getattr(_loops, "runner", None)
        if runner is None:
            runner = _loops.runner = asyncio.Runner()
        return runner.run(coro, context=context)
    outcome: list[t.Any] = []

    def run() -> None:
        try:
            outcome.append((True, context.run(asyncio.run, coro)))
        except BaseException as e:  # noqa: BLE001 - raised again in the caller
            outcome.append((False, e))

    thread = threading.Thread(target=run, name="erlen-test-client-asgi")
    thread.start()
    thread.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


class ErlenCliRunner:
    """Invoke the app's click commands in tests (``app.test_cli_runner()``).

    It wraps a :class:`click.testing.CliRunner` (other attributes, such as
    ``isolated_filesystem``, are the wrapped runner's) and hands every
    command this app, so commands load it instead of looking for one.

    :param app: The app the commands run against.
    :param kwargs: Passed to :class:`click.testing.CliRunner`.
    """

    def __init__(self, app: Erlen, **kwargs: t.Any) -> None:
        from click.testing import CliRunner

        self.app = app
        self._runner = CliRunner(**kwargs)

    def __getattr__(self, name: str) -> t.Any:
        # Only reached for names this class lacks: the wrapped runner's API.
        return getattr(self.__dict__["_runner"], name)

    def invoke(self, cli: t.Any = None, args: t.Any = None, **kwargs: t.Any) -> t.Any:
        """Run a command and return click's ``Result``.

        :param cli: The command (default: ``app.cli``).
        :param args: The command line arguments, a list or a string.
        :param kwargs: Passed to :meth:`click.testing.CliRunner.invoke`;
            without ``obj``, a :class:`~erlen.cli.ScriptInfo` that returns
            this app is given.
        """
        if cli is None:
            cli = self.app.cli
        if "obj" not in kwargs:
            from .cli import ScriptInfo

            app = self.app
            # set_debug_flag=False: running a command must not reset the
            # debug setting the test gave the app.
            kwargs["obj"] = ScriptInfo(create_app=lambda: app, set_debug_flag=False)
        return self._runner.invoke(cli, args, **kwargs)
