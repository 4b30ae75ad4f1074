"""Made-up requests as WSGI environs: :class:`EnvironBuilder` and form encoding.

What Werkzeug's ``test.py`` does: a path, a method, headers and a body
(``str``/``bytes``, form fields, files, JSON) become the environ a WSGI
server would pass. The test client sends every request as such an environ,
over either interface (:mod:`erlen.testing.asgi` turns it into a scope).
"""

from __future__ import annotations

import io
import mimetypes
import sys
import typing as t
from urllib.parse import quote, unquote_to_bytes, urlsplit

from ..datastructures import Headers, MultiDict
from ..http import url_encode

if t.TYPE_CHECKING:
    from ..app import Erlen
    from ..wrappers import Request

__all__ = ["EnvironBuilder"]


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
    :param auth: An ``Authorization`` header: a ``(username, password)``
        pair for Basic auth, or an object with ``to_header()``
        (:class:`~erlen.datastructures.Authorization`).

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
        auth: t.Any = None,
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
        # As Werkzeug's builder: an empty path stays empty (PATH_INFO ""),
        # the root of a mounted app asked for without its slash.
        self.path = split.path
        if query_string is None:
            # Like a browser: non-ASCII in the query is sent as UTF-8 escapes.
            query_string = quote(split.query, safe="=&;%+/?:@,$!*'()[]~")
        elif not isinstance(query_string, str):
            query_string = url_encode(query_string)
        self.query_string: str = query_string
        self.method = method.upper()
        self.headers = Headers(headers) if not isinstance(headers, Headers) else headers.copy()
        if auth is not None:
            if isinstance(auth, tuple):
                import base64

                username, password = auth
                token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
                self.headers.set("Authorization", f"Basic {token}")
            else:
                self.headers.set("Authorization", auth.to_header())
        self.environ_base = environ_base or {}
        self.environ_overrides = environ_overrides or {}
        self.errors_stream = errors_stream or sys.stderr
        self.multithread = multithread
        self.multiprocess = multiprocess
        self.run_once = run_once
        self._input_stream = input_stream
        self._body_stream: io.BytesIO | None = None
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

    @property
    def input_stream(self) -> t.IO[bytes] | None:
        """The body as a stream: the one given, else one over the encoded
        ``data``/``json`` (the same stream on each read), else ``None``."""
        if self._input_stream is not None:
            return self._input_stream
        if self._body is not None and self._body_stream is None:
            self._body_stream = io.BytesIO(self._body)
        return self._body_stream

    @input_stream.setter
    def input_stream(self, value: t.IO[bytes] | None) -> None:
        self._input_stream = value

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
            "REQUEST_URI": quote(self.script_root + self.path, safe="/%")
            + (f"?{self.query_string}" if self.query_string else ""),
            "SERVER_NAME": host,
            "SERVER_PORT": port,
            "HTTP_HOST": self.host,
            "SERVER_PROTOCOL": "HTTP/1.1",
            # NOTE: no REMOTE_ADDR, as in Werkzeug: the test client adds
            # 127.0.0.1 through its environ_base; a bare test request
            # context has no client address (privacyidea's tests rely on it).
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": self.url_scheme,
            "wsgi.errors": self.errors_stream,
            "wsgi.multithread": self.multithread,
            "wsgi.multiprocess": self.multiprocess,
            "wsgi.run_once": self.run_once,
        }
        environ.update(self.environ_base)
        if self._input_stream is not None:
            environ["wsgi.input"] = self._input_stream
            if self.content_length is not None:
                environ["CONTENT_LENGTH"] = str(self.content_length)
        else:
            body = self._body or b""
            environ["wsgi.input"] = io.BytesIO(body)
            if self._body is not None or self.content_length is not None:
                environ["CONTENT_LENGTH"] = str(
                    self.content_length if self.content_length is not None else len(body)
                )
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
                environ[name] = (
                    f"{environ[name]}, {value}"
                    if name != "HTTP_COOKIE"
                    else f"{environ[name]}; {value}"
                )
            else:
                environ[name] = value
            seen.add(name)
        environ.update(self.environ_overrides)
        return environ

    def get_request(self, cls: type[Request] | None = None) -> Request:
        """A request object for this environ."""
        from ..wrappers import Request as _Request
        from ..wsgi import make_request

        return make_request(cls or _Request, self.get_environ())

    def close(self) -> None:
        """Nothing to release; kept for API compatibility."""


def _form_fields(data: t.Any) -> MultiDict[str, t.Any]:
    """Form data as a MultiDict; a tuple value is one file, a list many values."""
    fields: MultiDict[str, t.Any] = MultiDict()
    items = (
        data.items(multi=True)
        if isinstance(data, MultiDict)
        else (data.items() if hasattr(data, "items") else data)
    )
    for key, value in items:
        if isinstance(value, list):
            for item in value:
                fields.add(key, item)
        else:
            fields.add(key, value)
    return fields


def _is_file_value(value: t.Any) -> bool:
    # NOTE: as in Werkzeug, a tuple's first item is a file object or the
    # path of a file to send (privacyidea's tests give paths).
    return hasattr(value, "read") or (
        isinstance(value, tuple)
        and bool(value)
        and (hasattr(value[0], "read") or isinstance(value[0], str))
    )


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
            if isinstance(stream, str):
                if filename is None:
                    filename = stream
                with open(stream, "rb") as f:
                    stream = io.BytesIO(f.read())
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
