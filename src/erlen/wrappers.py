"""The request and response objects, independent of any server interface.

:class:`Request` is built by an adapter (:mod:`erlen.wsgi`, later ASGI) from
a handful of plain values: method, path, query bytes, a header mapping, a
body stream and a few connection facts. Everything else (``args``,
``cookies``, ``form``, ``json``, ``accept_*``, ...) is computed on first
access and cached, so a request costs only what its view reads.

:class:`Response` holds a status, a :class:`~erlen.datastructures.Headers`
list and a body that is either a list of bytes or an iterable streamed to the
client; the adapters turn it into their protocol's messages.
"""

from __future__ import annotations

import typing as t
from urllib.parse import quote

from ._utils import cached_property
from .datastructures import (
    Accept,
    Authorization,
    CombinedMultiDict,
    EnvironHeaders,
    ETags,
    Headers,
    ImmutableMultiDict,
    LanguageAccept,
    MIMEAccept,
    MultiDict,
    UserAgent,
)
from .exceptions import BadRequest, ClientDisconnected, RequestEntityTooLarge, UnsupportedMediaType
from .globals import _cv
from .http import (
    HTTP_STATUS_CODES,
    dump_cookie,
    generate_etag,
    http_date,
    parse_accept_header,
    parse_cookie,
    parse_date,
    parse_etags,
    parse_options_header,
    quote_etag,
    unquote_etag,
    url_decode,
)
from .http.conditional import _apply_range, _evaluate_preconditions, _parse_byte_range

if t.TYPE_CHECKING:
    from datetime import datetime

    from .routing import Rule

__all__ = ["Request", "Response"]

_EMPTY_MULTIDICT: ImmutableMultiDict[str, t.Any] = ImmutableMultiDict()

#: Parsed Cookie headers by their text (see Request.cookies): how many are
#: kept, and the longest header kept (browsers send up to a few kB).
_COOKIE_CACHE_SIZE = 512
_COOKIE_CACHE_MAX_HEADER = 8192
_cookie_cache: dict[str, MultiDict[str, str]] = {}
_multipart_parser: t.Callable[[t.Any], t.Any] | None = None


def _parse_multipart() -> t.Callable[[t.Any], t.Any]:
    # PERF: python-multipart is imported on the first upload only, and the
    # function is looked up once, not on every request.
    global _multipart_parser
    if _multipart_parser is None:
        from .formparser import parse_multipart

        _multipart_parser = parse_multipart
    return _multipart_parser


_FORM_MIMETYPES = frozenset(("application/x-www-form-urlencoded", "multipart/form-data"))


class _Body:
    """A body stream that stops at the declared length or at a size limit.

    :param stream: The raw input (``wsgi.input``) with a ``read(n)`` method.
    :param length: Bytes to read at most; ``None`` reads to end of stream
        (only allowed when the server says the input is terminated).
    :param limit: Raise 413 once more than this many bytes arrive.
    """

    __slots__ = ("_stream", "_remaining", "_limit", "_read")

    def __init__(self, stream: t.Any, length: int | None, limit: int | None) -> None:
        self._stream = stream
        self._remaining = length
        self._limit = limit
        self._read = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            return self._read_all()
        remaining = self._remaining
        if remaining is not None:
            if remaining <= 0:
                return b""
            size = min(size, remaining)
        elif self._limit is not None:
            # NOTE: undeclared length: read at most one byte past the limit, so
            # an endless body is cut off instead of filling memory.
            size = min(size, self._limit - self._read + 1)
        data = self._stream.read(size) if size else b""
        if remaining is not None:
            if size and not data:
                raise ClientDisconnected(
                    "The client closed the connection before sending the whole body."
                )
            self._remaining = remaining - len(data)
        self._read += len(data)
        if self._limit is not None and self._read > self._limit:
            raise RequestEntityTooLarge(
                f"The request body is larger than the limit of {self._limit} bytes."
            )
        return t.cast(bytes, data)

    def _read_all(self) -> bytes:
        # PEP 3333 servers need not support read() without a size: read in blocks.
        chunks: list[bytes] = []
        while True:
            chunk = self.read(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    def readline(self, size: int = -1) -> bytes:
        # Rarely used (line-based parsers); built on read() to keep the limits.
        out = bytearray()
        while size < 0 or len(out) < size:
            chunk = self.read(1)
            if not chunk:
                break
            out += chunk
            if chunk == b"\n":
                break
        return bytes(out)

    def __iter__(self) -> t.Iterator[bytes]:
        while True:
            chunk = self.read(65536)
            if not chunk:
                return
            yield chunk


class _EmptyBody:
    __slots__ = ()

    def read(self, size: int = -1) -> bytes:
        return b""

    def readline(self, size: int = -1) -> bytes:
        return b""

    def __iter__(self) -> t.Iterator[bytes]:
        return iter(())


class _Limit:
    """A request limit: a per-request override, else the app's config value.

    Setting it stores the override (``None`` goes back to the config); the
    override lives in ``_<name>`` so it can also be given at construction.
    """

    def __init__(self, config_key: str, doc: str) -> None:
        self.config_key = config_key
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.attr = f"_{name}"

    def __get__(self, obj: Request | None, owner: type | None = None) -> t.Any:
        if obj is None:
            return self
        value = getattr(obj, self.attr)
        if value is not None:
            return value
        ctx = _cv.get(None)
        if ctx is None:
            return None
        return ctx.app.config.get(self.config_key)

    def __set__(self, obj: Request, value: int | None) -> None:
        setattr(obj, self.attr, value)


class Request:
    """An HTTP request, parsed lazily.

    Adapters build it from plain values; views read it through the
    :data:`~erlen.request` proxy. Only :attr:`method`, :attr:`path` and the
    other constructor values are set up front; every other attribute is
    computed on first access.

    :param method: The request method, upper-case.
    :param path: The decoded path below the app root, starting with ``/``.
    :param query_string: The raw query string, without ``?``.
    :param headers: A headers mapping (``Headers`` or a view such as
        ``EnvironHeaders``).
    :param scheme: ``"http"`` or ``"https"`` (``ws``/``wss`` for WebSockets).
    :param server: ``(host, port)`` of the server socket, used when the
        client sent no ``Host`` header.
    :param root_path: The decoded path the app is mounted at (``SCRIPT_NAME``).
    :param remote_addr: The client's address.
    :param stream: The raw body with a ``read(n)`` method.
    :param environ: The WSGI environ (or the adapter's equivalent), kept for
        middleware and extensions that read it.
    :param input_terminated: The server signals the end of the body itself
        (chunked requests), so the body can be read without a length.

    .. versionadded:: 0.1
    """

    #: The class of ``args``, ``form`` and friends.
    parameter_storage_class: type[MultiDict[str, t.Any]] = ImmutableMultiDict
    #: Set by the app when routing ran.
    url_rule: Rule | None = None
    view_args: dict[str, t.Any] | None = None
    routing_exception: Exception | None = None
    #: Per-request overrides of the app's limits (``None``: use the config).
    _max_content_length: int | None = None
    _max_form_memory_size: int | None = None
    _max_form_parts: int | None = None

    def __init__(
        self,
        method: str = "GET",
        path: str = "/",
        query_string: bytes = b"",
        headers: t.Any = None,
        *,
        scheme: str = "http",
        server: tuple[str, int | None] | None = None,
        root_path: str = "",
        remote_addr: str | None = None,
        stream: t.Any = None,
        environ: dict[str, t.Any] | None = None,
        input_terminated: bool = False,
    ) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self.headers = Headers() if headers is None else headers
        self.scheme = scheme
        self.server = server
        self.root_path = root_path
        self.remote_addr = remote_addr
        self._input = stream
        self.environ: dict[str, t.Any] = {} if environ is None else environ
        self.input_terminated = input_terminated

    def __repr__(self) -> str:
        try:
            url = self.url
        except Exception:  # a broken Host header must not break repr
            url = self.path
        return f"<{type(self).__name__} {url!r} [{self.method}]>"

    @classmethod
    def from_values(cls, *args: t.Any, **kwargs: t.Any) -> Request:
        """A request for a made-up WSGI environ, as Werkzeug's ``Request.from_values`` builds.

        The arguments are those of :class:`erlen.testing.EnvironBuilder`
        without the app (the path comes first). Meant for tests; Flask
        extensions' test suites use it.

        .. versionadded:: 0.1
        """
        from .testing import EnvironBuilder
        from .wsgi import make_request

        environ = EnvironBuilder(None, *args, **kwargs).get_environ()
        return make_request(cls, environ)

    # -- URL parts -----------------------------------------------------------

    @property
    def script_root(self) -> str:
        """The path the app is mounted at, without a trailing slash."""
        return self.root_path.rstrip("/")

    @cached_property
    def args(self) -> MultiDict[str, str]:
        """The parsed query string.

        :raises BadRequest: The query string is not valid UTF-8.
        """
        if not self.query_string:
            return _EMPTY_MULTIDICT
        try:
            return url_decode(self.query_string, self.parameter_storage_class)
        except UnicodeDecodeError:
            raise BadRequest("The query string is not valid UTF-8.") from None

    @cached_property
    def full_path(self) -> str:
        """The path and the query string, always with a ``?``."""
        return f"{self.path}?{self.query_string.decode('latin-1')}"

    @cached_property
    def host(self) -> str:
        """The host the client asked for (``Host`` header), with a non-default port."""
        host = self.headers.get("Host")
        if host:
            return str(host)
        if self.server is None:
            return ""
        name, port = self.server
        if port is None or (self.scheme, port) in (("http", 80), ("https", 443), ("ws", 80), ("wss", 443)):
            return name
        return f"{name}:{port}"

    @property
    def host_url(self) -> str:
        """``scheme://host/``."""
        return f"{self.scheme}://{self.host}/"

    @property
    def root_url(self) -> str:
        """``scheme://host`` plus the app root and a trailing slash."""
        return f"{self.scheme}://{self.host}{quote(self.script_root)}/"

    url_root = root_url

    @property
    def base_url(self) -> str:
        """The URL without the query string."""
        return f"{self.scheme}://{self.host}{quote(self.script_root)}{quote(self.path)}"

    @property
    def url(self) -> str:
        """The full URL, quoted as it would be sent."""
        if self.query_string:
            return f"{self.base_url}?{self.query_string.decode('latin-1')}"
        return self.base_url

    @property
    def is_secure(self) -> bool:
        """Whether the request came over HTTPS (or WSS)."""
        return self.scheme in ("https", "wss")

    # -- headers -------------------------------------------------------------

    @property
    def _cookie_header(self) -> str | None:
        # The raw Cookie header; an adapter overrides this to read it without
        # building the headers view (the session reads it on every request).
        return t.cast("str | None", self.headers.get("Cookie"))

    @cached_property
    def cookies(self) -> MultiDict[str, str]:
        """The cookies the client sent."""
        header = self._cookie_header
        if not header:
            return _EMPTY_MULTIDICT
        cls = self.parameter_storage_class
        if cls is not ImmutableMultiDict or len(header) > _COOKIE_CACHE_MAX_HEADER:
            return parse_cookie(header, cls)
        cls = t.cast("type[MultiDict[str, str]]", cls)
        # PERF: a browser sends the same Cookie header on request after
        # request, so the parsed cookies of recent headers are kept. Sharing
        # them is safe: the dict is immutable and hands out copies of its lists.
        cookies = _cookie_cache.get(header)
        if cookies is None:
            cookies = parse_cookie(header, cls)
            if len(_cookie_cache) >= _COOKIE_CACHE_SIZE:
                try:  # forget the oldest; another thread may have done it
                    del _cookie_cache[next(iter(_cookie_cache))]
                except (KeyError, StopIteration, RuntimeError):
                    pass
            _cookie_cache[header] = cookies
        return cookies

    @property
    def content_type(self) -> str | None:
        """The raw ``Content-Type`` header."""
        return t.cast("str | None", self.headers.get("Content-Type"))

    @cached_property
    def _parsed_content_type(self) -> tuple[str, dict[str, str]]:
        return parse_options_header(self.headers.get("Content-Type", ""))

    @cached_property
    def mimetype(self) -> str:
        """The content type without parameters, lower-case."""
        # PERF: the media type needs no parameter parsing (mimetype_params
        # parses them when asked); a multipart upload asks for both.
        return t.cast(str, self.headers.get("Content-Type", "")).partition(";")[0].strip().lower()

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The content type's parameters, e.g. ``{"charset": "utf-8"}``."""
        return self._parsed_content_type[1]

    @cached_property
    def content_length(self) -> int | None:
        """The declared body length, or ``None``.

        :raises BadRequest: The header is not a non-negative integer.
        """
        value = self.headers.get("Content-Length")
        if value is None or value == "":
            return None
        value = value.strip()
        # NOTE: int() would accept "+5", " 5" and other scripts' digits;
        # a length must be ASCII digits only (RFC 9110 section 8.6).
        if not (value.isascii() and value.isdigit()):
            raise BadRequest("The Content-Length header is not a valid non-negative integer.")
        return int(value)

    @property
    def content_encoding(self) -> str | None:
        """The ``Content-Encoding`` header."""
        return t.cast("str | None", self.headers.get("Content-Encoding"))

    @property
    def is_json(self) -> bool:
        """Whether the content type is JSON (``application/json`` or ``+json``)."""
        mt = self.mimetype
        return mt == "application/json" or (mt.startswith("application/") and mt.endswith("+json"))

    @cached_property
    def access_route(self) -> list[str]:
        """The client and proxies from ``X-Forwarded-For``, else just the client."""
        forwarded = self.headers.get("X-Forwarded-For")
        if forwarded:
            return [x.strip() for x in forwarded.split(",") if x.strip()]
        return [self.remote_addr] if self.remote_addr else []

    @cached_property
    def user_agent(self) -> UserAgent:
        """The ``User-Agent`` header (``str(request.user_agent)`` is the string)."""
        return UserAgent(self.headers.get("User-Agent", ""))

    @property
    def referrer(self) -> str | None:
        """The ``Referer`` header."""
        return t.cast("str | None", self.headers.get("Referer"))

    @cached_property
    def authorization(self) -> Authorization | None:
        """Parsed ``Authorization`` header (Basic, Bearer, ...), or ``None``."""
        return Authorization.from_header(self.headers.get("Authorization"))

    @cached_property
    def if_modified_since(self) -> datetime | None:
        """Parsed ``If-Modified-Since``."""
        return parse_date(self.headers.get("If-Modified-Since"))

    @cached_property
    def if_unmodified_since(self) -> datetime | None:
        """Parsed ``If-Unmodified-Since``."""
        return parse_date(self.headers.get("If-Unmodified-Since"))

    @cached_property
    def if_none_match(self) -> ETags:
        """Parsed ``If-None-Match``."""
        return parse_etags(self.headers.get("If-None-Match"))

    @cached_property
    def if_match(self) -> ETags:
        """Parsed ``If-Match``."""
        return parse_etags(self.headers.get("If-Match"))

    @cached_property
    def accept_mimetypes(self) -> MIMEAccept:
        """Parsed ``Accept``, best quality first."""
        return parse_accept_header(self.headers.get("Accept"), MIMEAccept)

    @cached_property
    def accept_languages(self) -> LanguageAccept:
        """Parsed ``Accept-Language``, best quality first."""
        return parse_accept_header(self.headers.get("Accept-Language"), LanguageAccept)

    @cached_property
    def accept_charsets(self) -> Accept:
        """Parsed ``Accept-Charset``."""
        return parse_accept_header(self.headers.get("Accept-Charset"), Accept)

    @cached_property
    def accept_encodings(self) -> Accept:
        """Parsed ``Accept-Encoding``."""
        return parse_accept_header(self.headers.get("Accept-Encoding"), Accept)

    # -- routing -------------------------------------------------------------

    @property
    def endpoint(self) -> str | None:
        """The matched rule's endpoint, or ``None`` before/without a match."""
        return self.url_rule.endpoint if self.url_rule is not None else None

    @property
    def blueprint(self) -> str | None:
        """The dotted name of the blueprint the endpoint belongs to, if any."""
        endpoint = self.endpoint
        if endpoint is not None and "." in endpoint:
            return endpoint.rpartition(".")[0]
        return None

    @property
    def blueprints(self) -> list[str]:
        """The blueprint and its parents, innermost first."""
        name = self.blueprint
        if name is None:
            return []
        parts = name.split(".")
        return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]

    # -- limits --------------------------------------------------------------

    max_content_length = _Limit(
        "MAX_CONTENT_LENGTH",
        "The body size limit: a per-request override, else ``MAX_CONTENT_LENGTH``.",
    )
    max_form_memory_size = _Limit(
        "MAX_FORM_MEMORY_SIZE",
        "Limit for a non-file form field (and a whole urlencoded body).",
    )
    max_form_parts = _Limit("MAX_FORM_PARTS", "Limit on the number of multipart parts.")

    # -- body ----------------------------------------------------------------

    @cached_property
    def stream(self) -> t.Any:
        """The body as a stream that enforces the declared length and the limit.

        :raises RequestEntityTooLarge: The declared length is over
            :attr:`max_content_length` (raised on first access, before reading).
        """
        length = self.content_length
        limit = self.max_content_length
        if length is not None and limit is not None and length > limit:
            raise RequestEntityTooLarge(
                f"The request body ({length} bytes) is larger than the limit of {limit} bytes."
            )
        if self._input is None or length == 0:
            return _EmptyBody()
        if length is None:
            if not self.input_terminated:
                # NOTE: without a length, WSGI gives no safe way to find the end.
                return _EmptyBody()
            return _Body(self._input, None, limit)
        return _Body(self._input, length, limit)

    input_stream = stream

    _cached_data: bytes | None = None

    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> t.Any:
        """Read the whole body.

        :param cache: Keep the bytes so later calls (and ``form``) see them.
        :param as_text: Decode as UTF-8 (invalid bytes replaced).
        :param parse_form_data: Parse form data first, so a form body is
            available in ``form`` and this returns ``b""`` for it (Flask's rule).
        """
        if parse_form_data and self.mimetype in _FORM_MIMETYPES:
            # Flask's rule: a form body goes to `form`; `data` is empty then.
            self._load_form_data()
            return "" if as_text else b""
        data = self._cached_data
        if data is None:
            data = self._read_declared_body()
            if data is None:
                data = self.stream.read()
            if cache:
                self._cached_data = data
        return data.decode("utf-8", "replace") if as_text else data

    def _read_declared_body(self) -> bytes | None:
        # PERF: a body with a declared length within the limit, not yet
        # touched through `stream`, is read with one call; ``None`` means the
        # general path (stream) applies.
        if "stream" in self.__dict__ or self._input is None:
            return None
        length = self.content_length
        if length is None:
            return None
        limit = self.max_content_length
        if limit is not None and length > limit:
            return None  # `stream` raises the 413 with its message
        data = self._input.read(length) if length else b""
        if len(data) < length:
            # A server may return short reads: keep reading until the end.
            chunks = [data]
            received = len(data)
            while received < length:
                chunk = self._input.read(length - received)
                if not chunk:
                    raise ClientDisconnected("The client closed the connection before sending the whole body.")
                chunks.append(chunk)
                received += len(chunk)
            data = b"".join(chunks)
        self.__dict__["stream"] = _EmptyBody()  # consumed
        return t.cast(bytes, data)

    def _read_up_to(self, size: int) -> bytes:
        """Read from :attr:`stream` until ``size`` bytes or the end of the body."""
        read = self.stream.read
        chunks: list[bytes] = []
        received = 0
        while received < size:
            chunk = read(min(size - received, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
        return b"".join(chunks)

    @property
    def data(self) -> bytes:
        """The body, unless it was form data (then see :attr:`form`)."""
        return t.cast(bytes, self.get_data(parse_form_data=True))

    _form: MultiDict[str, t.Any] | None = None
    _files: MultiDict[str, t.Any] | None = None

    def _load_form_data(self) -> None:
        if self._form is not None:
            return
        mimetype = self.mimetype
        if mimetype == "application/x-www-form-urlencoded":
            limit = self.max_form_memory_size
            length = self.content_length
            if limit is not None and length is not None and length > limit:
                raise RequestEntityTooLarge(
                    f"The form data ({length} bytes) is larger than the limit of {limit} bytes."
                )
            if length is None and limit is not None and self._cached_data is None:
                # NOTE: a chunked body has no length to check up front: read
                # one byte past the limit at most, so an endless body is cut
                # off instead of being held in memory (CVE-2024-49767 class).
                data = self._read_up_to(limit + 1)
                self._cached_data = data
            else:
                data = self.get_data()
            if limit is not None and len(data) > limit:
                raise RequestEntityTooLarge(
                    f"The form data is larger than the limit of {limit} bytes."
                )
            try:
                self._form = url_decode(data, self.parameter_storage_class)
            except UnicodeDecodeError:
                raise BadRequest("The form data is not valid UTF-8.") from None
            self._files = _EMPTY_MULTIDICT
        elif mimetype == "multipart/form-data":
            self._form, self._files = _parse_multipart()(self)
        else:
            self._form = self._files = _EMPTY_MULTIDICT

    @property
    def form(self) -> MultiDict[str, t.Any]:
        """Form fields from a urlencoded or multipart body."""
        self._load_form_data()
        return self._form  # type: ignore[return-value]

    @property
    def files(self) -> MultiDict[str, t.Any]:
        """Uploaded files from a multipart body."""
        self._load_form_data()
        return self._files  # type: ignore[return-value]

    @cached_property
    def values(self) -> CombinedMultiDict[str, t.Any]:
        """``args`` and ``form`` together (only ``args`` for GET, as Flask does)."""
        if self.method == "GET":
            return CombinedMultiDict([self.args])
        return CombinedMultiDict([self.args, self.form])

    _cached_json: tuple[t.Any, t.Any] = (Ellipsis, Ellipsis)

    @property
    def json(self) -> t.Any:
        """The body parsed as JSON; see :meth:`get_json`."""
        return self.get_json()

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> t.Any:
        """Parse the body as JSON.

        :param force: Parse even if the content type is not JSON.
        :param silent: Return ``None`` instead of raising on failure.
        :param cache: Keep the result for later calls.
        :raises UnsupportedMediaType: The content type is not JSON (415).
        :raises BadRequest: The body is not valid JSON (400).
        """
        cached = self._cached_json[silent]
        if cached is not Ellipsis:
            return cached
        if not (force or self.is_json):
            if silent:
                return None
            return self.on_json_loading_failed(None)
        data = self.get_data(cache=cache)
        try:
            ctx = _cv.get(None)
            if ctx is not None:
                rv = ctx.app.json.loads(data)
            else:
                import json

                rv = json.loads(data)
        except RecursionError as e:
            if silent:
                rv = None
            else:
                rv = self.on_json_loading_failed(ValueError("the JSON is nested too deeply"), e)
        except ValueError as e:
            if silent:
                rv = None
            else:
                rv = self.on_json_loading_failed(e)
        if cache:
            if silent:
                self._cached_json = (self._cached_json[0], rv)
            else:
                self._cached_json = (rv, rv)
        return rv

    def on_json_loading_failed(self, e: ValueError | None, cause: BaseException | None = None) -> t.Any:
        """Called when :meth:`get_json` fails; raises the matching 4xx.

        :param e: The decoding error, or ``None`` when the content type was wrong.
        """
        if e is None:
            raise UnsupportedMediaType(
                "Did not attempt to load JSON data because the request"
                " Content-Type was not 'application/json'."
            )
        raise BadRequest(f"Failed to decode JSON object: {e}") from (cause or e)

    def close(self) -> None:
        """Close uploaded files; called when the request context ends."""
        files = self._files
        if files:
            for _, f in files.items(multi=True):
                close = getattr(f, "close", None)
                if close is not None:
                    close()


# PERF: status lines and defaults are built once, not per response.
_STATUS_LINES: dict[int, str] = {
    code: f"{code} {reason}" for code, reason in HTTP_STATUS_CODES.items()
}


class _DateHeader:
    """A response header holding an HTTP date, as a datetime property."""

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.__doc__ = doc

    def __get__(self, obj: Response | None, owner: type | None = None) -> t.Any:
        if obj is None:
            return self
        return parse_date(obj.headers.get(self.name))

    def __set__(self, obj: Response, value: t.Any) -> None:
        if value is None:
            obj.headers.remove(self.name)
        elif isinstance(value, str):
            obj.headers.set(self.name, value)
        else:
            obj.headers.set(self.name, http_date(value))


class Response:
    """An HTTP response.

    :param response: The body: ``str`` or ``bytes``, a list of them, or any
        iterable (a generator is streamed without ``Content-Length``).
    :param status: An ``int`` (``404``) or a status line (``"404 Not Found"``).
    :param headers: A ``Headers``, dict or list of pairs.
    :param mimetype: The content type without charset; ``text/*`` types get
        ``; charset=utf-8``.
    :param content_type: The full content type, used as is.
    :param direct_passthrough: Send the iterable as is (files), without
        inspecting it.

    .. versionadded:: 0.1
    """

    default_status = 200
    default_mimetype: str | None = "text/html"
    charset = "utf-8"
    #: Set ``Content-Length`` for bodies known up front.
    automatically_set_content_length = True
    autocorrect_location_header = False
    direct_passthrough = False

    @property
    def max_cookie_size(self) -> int:
        """Cookies longer than this warn when set: the app's ``MAX_COOKIE_SIZE``
        (4093 outside an app context). A subclass may set a plain int."""
        ctx = _cv.get(None)
        if ctx is not None:
            return t.cast(int, ctx.app.config["MAX_COOKIE_SIZE"])
        return 4093

    _on_close: list[t.Callable[[], t.Any]] | None = None
    # The default status, kept on the class so a response built with it
    # sets nothing (see __init_subclass__).
    _status_code = 200
    _status = "200 OK"

    _headers: Headers | None = None
    #: The header pairs, shared with ``headers`` (adapters send this list).
    _hlist: list[tuple[str, str]]

    @property
    def headers(self) -> Headers:
        """The response headers (case-insensitive, multi-valued)."""
        h = self._headers
        if h is None:
            h = self._headers = Headers.__new__(Headers)
            h._list = self._hlist
        return h

    @headers.setter
    def headers(self, value: t.Any) -> None:
        if not isinstance(value, Headers):
            value = Headers(value)
        self._headers = value
        self._hlist = value._list

    def _add_cookie_header(self, header: str) -> None:
        """Add a ``Set-Cookie`` header with a value made by
        :func:`~erlen.http.dump_cookie` (or in its format), and ``Cookie``
        to ``Vary``: what :meth:`set_cookie` and :meth:`_add_vary` do.

        PERF: one call for the session cookie, which adds both on every
        save: an ASCII value (dump_cookie lets no CR, LF or NUL through)
        is appended to the header pairs without making the :attr:`headers`
        view; anything else, or a class with its own ``headers`` or
        Headers class, goes through :meth:`Headers.add`, which checks.
        """
        if type(self).headers is _HEADERS_PROPERTY and header.isascii():
            headers = self._headers
            pairs = self._hlist if headers is None else headers._list if type(headers) is Headers else None
            if pairs is not None:
                pairs.append(("Set-Cookie", header))
                for name, _ in pairs:
                    if name.lower() == "vary":
                        break
                else:
                    pairs.append(("Vary", "Cookie"))
                    return
                self._add_vary("Cookie")
                return
        self.headers.add("Set-Cookie", header)
        self._add_vary("Cookie")

    def _add_vary(self, token: str) -> None:
        """Add ``token`` to the ``Vary`` header, unless it or ``*`` is there.

        PERF: the usual case (no ``Vary`` yet) is one pass over the header
        pairs and an append, without making the :attr:`headers` view.
        """
        if type(self).headers is _HEADERS_PROPERTY:
            headers = self._headers
            pairs = self._hlist if headers is None else headers._list if type(headers) is Headers else None
            if pairs is not None:
                for name, _ in pairs:
                    if name.lower() == "vary":
                        break
                else:
                    pairs.append(("Vary", token))
                    return
        headers = self.headers
        current = headers.getlist("Vary")
        if not current:
            headers.add("Vary", token)
            return
        tokens = [item.strip() for value in current for item in value.split(",") if item.strip()]
        lowered = token.lower()
        for item in tokens:
            if item == "*" or item.lower() == lowered:
                return
        tokens.append(token)
        headers.set("Vary", ", ".join(tokens))

    @classmethod
    def _from_text(cls, text: str) -> Response:
        # PERF: Response(text) without the argument handling of __init__,
        # for the dispatch shortcut; only used when __init__ isn't overridden.
        self = cls.__new__(cls)
        body = text.encode(cls.charset)
        self.response = [body]
        mimetype = cls.default_mimetype
        hlist: list[tuple[str, str]] = []
        if mimetype is not None:
            hlist.append(("Content-Type", _CONTENT_TYPES.get(mimetype) or _content_type(mimetype)))
        if cls.automatically_set_content_length:
            hlist.append(("Content-Length", str(len(body))))
        self._hlist = hlist
        return self

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        if "default_status" in cls.__dict__:
            cls._status_code = cls.default_status
            cls._status = _STATUS_LINES.get(cls.default_status) or f"{cls.default_status} UNKNOWN"

    def __init__(
        self,
        response: t.Any = None,
        status: int | str | None = None,
        headers: t.Any = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        explicit_type = content_type is not None or mimetype is not None
        if content_type is None:
            if mimetype is None:
                mimetype = self.default_mimetype
            if mimetype is not None:
                content_type = _CONTENT_TYPES.get(mimetype) or _content_type(mimetype)
        if headers is None:
            # PERF: the common case builds the header list directly, with no
            # lookups for existing Content-Type or Content-Length headers.
            # PERF: the Headers object is made only if something reads it.
            hlist: list[tuple[str, str]] = [("Content-Type", content_type)] if content_type is not None else []
            self._hlist = hlist
            if response.__class__ is str:
                body = response.encode(self.charset)
                self.response: t.Any = [body]
                if self.automatically_set_content_length:
                    hlist.append(("Content-Length", str(len(body))))
            elif response is None:
                self.response = []
                if self.automatically_set_content_length:
                    hlist.append(("Content-Length", "0"))
            elif isinstance(response, (bytes, bytearray)):
                body = bytes(response)
                self.response = [body]
                if self.automatically_set_content_length:
                    hlist.append(("Content-Length", str(len(body))))
            else:
                self.response = response
        else:
            h = headers if isinstance(headers, Headers) else Headers(headers)
            self._headers = h
            self._hlist = h._list
            if content_type is not None and (explicit_type or "Content-Type" not in h):
                h.set("Content-Type", content_type)
            if response is None:
                self.response = []
                if self.automatically_set_content_length and "Content-Length" not in h:
                    h._list.append(("Content-Length", "0"))
            elif isinstance(response, (str, bytes, bytearray)):
                self.set_data(response)
            else:
                self.response = response
        if status is not None:
            self.status = status
        if direct_passthrough:
            self.direct_passthrough = True

    def __repr__(self) -> str:
        if self.is_sequence:
            body = f"{sum(map(len, self.response))} bytes"
        else:
            body = "streamed"
        return f"<{type(self).__name__} {body} [{self.status}]>"

    # -- status --------------------------------------------------------------

    @property
    def status_code(self) -> int:
        """The status as an ``int``."""
        return self._status_code

    @status_code.setter
    def status_code(self, code: int) -> None:
        self.status = code

    @property
    def status(self) -> str:
        """The status line, e.g. ``"200 OK"``."""
        return self._status

    @status.setter
    def status(self, value: int | str | t.Any) -> None:
        if isinstance(value, int):
            line = _STATUS_LINES.get(value)
            self._status_code = value
            self._status = line if line is not None else f"{value} UNKNOWN"
            return
        if isinstance(value, (bytes, bytearray)):
            value = value.decode("latin-1")
        if not isinstance(value, str):
            value = str(value.value) if hasattr(value, "value") else str(value)  # HTTPStatus
        value = value.strip()
        if not value:
            raise ValueError("Empty status argument")
        code_part, _, reason = value.partition(" ")
        if not (code_part.isascii() and code_part.isdigit()):
            raise ValueError(f"The status {value!r} does not start with a status code.")
        code = int(code_part)
        if not reason:
            line = _STATUS_LINES.get(code)
            self._status = line if line is not None else f"{code} UNKNOWN"
        else:
            self._status = value
        self._status_code = code

    # -- body ----------------------------------------------------------------

    @property
    def is_sequence(self) -> bool:
        """Whether the body is a list or tuple (known up front)."""
        return isinstance(self.response, (list, tuple))

    @property
    def is_streamed(self) -> bool:
        """Whether the body is an iterable of unknown length."""
        return not self.is_sequence

    def set_data(self, value: str | bytes | bytearray) -> None:
        """Replace the body and update ``Content-Length``."""
        if isinstance(value, str):
            value = value.encode(self.charset)
        else:
            value = bytes(value)
        self.response = [value]
        if self.automatically_set_content_length:
            hlist = self._hlist
            length = str(len(value))
            for i, (k, _) in enumerate(hlist):
                if k.lower() == "content-length":
                    hlist[i] = ("Content-Length", length)
                    break
            else:
                hlist.append(("Content-Length", length))

    def _ensure_sequence(self) -> None:
        if not self.is_sequence:
            body = self.response
            try:
                self.response = [_to_bytes(x, self.charset) for x in body]
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()

    def get_data(self, as_text: bool = False) -> t.Any:
        """The whole body (a streamed body is read and kept).

        :param as_text: Decode as UTF-8.
        """
        self._ensure_sequence()
        data = b"".join(_to_bytes(x, self.charset) for x in self.response)
        return data.decode(self.charset) if as_text else data

    data = property(get_data, set_data, doc="The body as bytes (get and set).")

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return t.cast(str, self.get_data(as_text=True))

    def iter_encoded(self) -> t.Iterator[bytes]:
        """Iterate the body as bytes."""
        charset = self.charset
        for item in self.response:
            yield _to_bytes(item, charset)

    def call_on_close(self, func: t.Callable[[], t.Any]) -> t.Callable[[], t.Any]:
        """Run ``func`` when the server closes the response."""
        if self._on_close is None:
            self._on_close = []
        self._on_close.append(func)
        return func

    def close(self) -> None:
        """Close the body iterable and run the :meth:`call_on_close` functions."""
        close = getattr(self.response, "close", None)
        if close is not None:
            close()
        for func in self._on_close or ():
            func()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: t.Any) -> None:
        self.close()

    # -- headers -------------------------------------------------------------

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header."""
        return t.cast("str | None", self.headers.get("Content-Type"))

    @content_type.setter
    def content_type(self, value: str | None) -> None:
        if value is None:
            self.headers.remove("Content-Type")
        else:
            self.headers.set("Content-Type", value)

    @property
    def mimetype(self) -> str | None:
        """The content type without parameters."""
        ct = self.headers.get("Content-Type")
        return ct.split(";", 1)[0].strip().lower() if ct else None

    @mimetype.setter
    def mimetype(self, value: str) -> None:
        self.headers.set("Content-Type", _content_type(value))

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The content type's parameters."""
        return parse_options_header(self.headers.get("Content-Type", ""))[1]

    @property
    def content_length(self) -> int | None:
        """The ``Content-Length`` header as an ``int``."""
        value = self.headers.get("Content-Length")
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        if value is None:
            self.headers.remove("Content-Length")
        else:
            self.headers.set("Content-Length", str(value))

    @property
    def location(self) -> str | None:
        """The ``Location`` header."""
        return t.cast("str | None", self.headers.get("Location"))

    @location.setter
    def location(self, value: str | None) -> None:
        if value is None:
            self.headers.remove("Location")
        else:
            self.headers.set("Location", value)

    @property
    def is_json(self) -> bool:
        """Whether the content type is JSON."""
        mt = self.mimetype or ""
        return mt == "application/json" or (mt.startswith("application/") and mt.endswith("+json"))

    def get_json(self, force: bool = False, silent: bool = False) -> t.Any:
        """Parse the body as JSON (handy in tests).

        :param force: Parse even if the content type is not JSON.
        :param silent: Return ``None`` instead of raising on failure.
        """
        if not (force or self.is_json):
            if silent:
                return None
            raise ValueError(f"The response is not JSON (Content-Type {self.content_type!r}).")
        import json

        try:
            return json.loads(self.get_data())
        except ValueError:
            if silent:
                return None
            raise

    @property
    def json(self) -> t.Any:
        """The body parsed as JSON, or ``None`` when it is not JSON."""
        return self.get_json(silent=True)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: t.Any = None,
        expires: t.Any = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header.

        :param max_age: Seconds (or a ``timedelta``) the cookie lives;
            ``None`` for a browser-session cookie.
        :param expires: A ``datetime`` or timestamp; derived from ``max_age``
            when only that is given.
        :param samesite: ``"Strict"``, ``"Lax"`` or ``"None"``.
        :param partitioned: Send ``Partitioned`` (CHIPS); implies ``Secure``.
        :raises ValueError: The key or value would split the header.
        """
        self.headers.add(
            "Set-Cookie",
            dump_cookie(
                key,
                value=value,
                max_age=max_age,
                expires=expires,
                path=path,
                domain=domain,
                secure=secure,
                httponly=httponly,
                samesite=samesite,
                partitioned=partitioned,
                max_size=self.max_cookie_size,
            ),
        )

    def delete_cookie(
        self,
        key: str,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Tell the client to drop a cookie (same key, path and domain)."""
        self.set_cookie(
            key,
            expires=0,
            max_age=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )

    def __call__(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Iterable[bytes]:
        """Serve this response as a WSGI application."""
        from .wsgi import send_response

        return send_response(self, environ, start_response)

    # -- conditional responses -----------------------------------------------
    # ETags, dates and byte ranges: what make_conditional() needs, and what
    # send_file() uses. The request-side evaluation lives in
    # erlen.http.conditional (_evaluate_preconditions, _parse_byte_range).

    last_modified = _DateHeader(
        "Last-Modified",
        """The ``Last-Modified`` header as an aware UTC datetime.

        Set it to a ``datetime``, a Unix timestamp or a preformatted string;
        ``None`` removes the header.

        .. versionadded:: 0.1
        """,
    )
    expires = _DateHeader("Expires", "The ``Expires`` header (read and set like :attr:`last_modified`).")
    date = _DateHeader("Date", "The ``Date`` header (read and set like :attr:`last_modified`).")

    @property
    def accept_ranges(self) -> str | None:
        """The ``Accept-Ranges`` header (``"bytes"`` or ``"none"``); ``None`` removes it.

        .. versionadded:: 0.1
        """
        return t.cast("str | None", self.headers.get("Accept-Ranges"))

    @accept_ranges.setter
    def accept_ranges(self, value: str | None) -> None:
        if value is None:
            self.headers.remove("Accept-Ranges")
        else:
            self.headers.set("Accept-Ranges", value)

    def get_etag(self) -> tuple[str, bool] | tuple[None, None]:
        """The response's entity tag.

        :return: ``(tag, is_weak)`` with the tag unquoted, or
            ``(None, None)`` when there is no ``ETag`` header.

        .. versionadded:: 0.1
        """
        return unquote_etag(self.headers.get("ETag"))

    def set_etag(self, etag: str, weak: bool = False) -> None:
        """Set the ``ETag`` header.

        :param etag: The tag, unquoted.
        :param weak: Mark it weak (``W/"..."``).

        .. versionadded:: 0.1
        """
        self.headers.set("ETag", quote_etag(etag, weak))

    def add_etag(self, overwrite: bool = False, weak: bool = False) -> None:
        """Set an ``ETag`` computed from the body (its SHA-1), unless one is set.

        A streamed body is read into memory for this.

        :param overwrite: Replace an existing ``ETag``.
        :param weak: Mark the tag weak.

        .. versionadded:: 0.1
        """
        if overwrite or "ETag" not in self.headers:
            self.set_etag(generate_etag(self.get_data()), weak)

    def make_conditional(
        self,
        request_or_environ: t.Any,
        accept_ranges: bool | str = False,
        complete_length: int | None = None,
    ) -> Response:
        """Answer the request's ``If-*`` and ``Range`` headers, in place.

        Only ``GET`` and ``HEAD`` requests are considered; the response is
        returned unchanged for other methods. The preconditions are checked
        in the order RFC 9110 (section 13.2.2) gives, against this
        response's ``ETag`` and ``Last-Modified`` headers:

        - a failed ``If-Match``, or (without ``If-Match``) a failed
          ``If-Unmodified-Since``, makes it *412 Precondition Failed*;
        - a matching ``If-None-Match``, or (without ``If-None-Match``) an
          ``If-Modified-Since`` not older than ``Last-Modified``, makes it
          *304 Not Modified*.

        In both cases the body is closed and dropped. Otherwise, when
        ``accept_ranges`` and ``complete_length`` are given and the request
        has a single byte ``Range`` (and its ``If-Range``, if any, still
        holds), the response becomes *206 Partial Content* with
        ``Content-Range`` and only that range of the body. A request for
        several ranges, or in another unit, gets the whole body (200).
        A ``Date`` header is added when missing.

        :param request_or_environ: The request, or a WSGI environ.
        :param accept_ranges: ``True`` for ``Accept-Ranges: bytes``, a
            string for another value, ``False`` for no range support.
        :param complete_length: The full length of the body, needed to
            answer a range request.
        :return: This response.
        :raises RequestedRangeNotSatisfiable: The ``Range`` header is invalid
            or starts past the end (416 with ``Content-Range: bytes */N``).

        .. versionadded:: 0.1
        """
        if isinstance(request_or_environ, dict):
            method = request_or_environ.get("REQUEST_METHOD", "GET")
            req_headers: t.Any = EnvironHeaders(request_or_environ)
        else:
            method = request_or_environ.method
            req_headers = request_or_environ.headers
        if method != "GET" and method != "HEAD":
            return self
        headers = self.headers
        if "Date" not in headers:
            self._hlist.append(("Date", http_date()))
        if accept_ranges:
            headers.set("Accept-Ranges", "bytes" if accept_ranges is True else accept_ranges)
        status = _evaluate_preconditions(req_headers, self)
        if status is not None:
            self._drop_body(status)
            return self
        if accept_ranges and complete_length:
            byte_range = _parse_byte_range(req_headers, self, complete_length)
            if byte_range is not None:
                start, stop = byte_range
                self.response = _apply_range(self, start, stop)
                headers.set("Content-Length", str(stop - start))
                headers.set("Content-Range", f"bytes {start}-{stop - 1}/{complete_length}")
                self.status = 206
                return self
        if self.automatically_set_content_length and self.is_sequence and "Content-Length" not in headers:
            headers.set("Content-Length", str(sum(len(_to_bytes(x, self.charset)) for x in self.response)))
        return self

    def _drop_body(self, status: int) -> None:
        # 304 and 412 answer without the representation: close a file body
        # now, and drop headers that described it (RFC 9110 section 15.4.5).
        close = getattr(self.response, "close", None)
        if close is not None:
            close()
        self.response = []
        self.status = status
        headers = self.headers
        for name in ("Content-Range", "Content-Encoding", "Content-Disposition"):
            headers.remove(name)
        if status == 304:
            for name in ("Content-Type", "Content-Length", "Last-Modified", "Content-Language"):
                headers.remove(name)
        else:
            headers.set("Content-Length", "0")


#: The stock ``Response.headers`` property (a subclass may define its own).
_HEADERS_PROPERTY = Response.__dict__["headers"]


def _content_type(mimetype: str) -> str:
    ct = _content_type_uncached(mimetype)
    if len(_CONTENT_TYPES) < 256:
        _CONTENT_TYPES[mimetype] = ct
    return ct


#: mimetype → full content type, filled on use (bounded).
_CONTENT_TYPES: dict[str, str] = {}


def _content_type_uncached(mimetype: str) -> str:
    if "charset" not in mimetype and (
        mimetype.startswith("text/")
        or mimetype in ("application/xml", "application/javascript", "application/ecmascript")
        or (mimetype.startswith("application/") and mimetype.endswith("+xml"))
    ):
        return f"{mimetype}; charset=utf-8"
    return mimetype


def _to_bytes(item: t.Any, charset: str) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode(charset)
    if isinstance(item, (bytearray, memoryview)):
        return bytes(item)
    raise TypeError(f"A response body item must be str or bytes, not {type(item).__name__}.")
