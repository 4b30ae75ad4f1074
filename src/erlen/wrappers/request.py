"""The request object, independent of any server interface.

:class:`Request` is built by an adapter (:mod:`erlen.wsgi`, :mod:`erlen.asgi`)
from a handful of plain values: method, path, query bytes, a header mapping,
a body stream and a few connection facts. Everything else (``args``,
``cookies``, ``form``, ``json``, ``accept_*``, ...) is computed on first
access and cached, so a request costs only what its view reads.

Beside it live the body helpers: :class:`_Body` (a stream held to the
declared length and the size limit), :class:`_EmptyBody`, :class:`_Limit`
(a per-request override of a config limit), the cache of parsed ``Cookie``
headers, and the glue to :mod:`erlen.formparser` for multipart bodies.
"""

from __future__ import annotations

import typing as t
from urllib.parse import quote

from .._utils import cached_property
from ..datastructures import (
    Accept,
    Authorization,
    CombinedMultiDict,
    ETags,
    Headers,
    ImmutableMultiDict,
    LanguageAccept,
    MIMEAccept,
    MultiDict,
    UserAgent,
)
from ..exceptions import BadRequest, ClientDisconnected, RequestEntityTooLarge, UnsupportedMediaType
from ..globals import _cv
from ..http import (
    parse_accept_header,
    parse_cookie,
    parse_date,
    parse_etags,
    parse_options_header,
    url_decode,
)

if t.TYPE_CHECKING:
    from datetime import datetime

    from ..datastructures.cache_control import RequestCacheControl
    from ..routing import Rule

__all__ = ["Request"]

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
        from ..formparser import parse_multipart

        _multipart_parser = parse_multipart
    return _multipart_parser


_FORM_MIMETYPES = frozenset(("application/x-www-form-urlencoded", "multipart/form-data"))


#: The most bytes asked of the input in one read: a socket file allocates
#: the size it is asked for before any byte arrives. PERF: the multipart
#: parser's read size, so an upload up to that size is still one read.
_CHUNK = 256 * 1024


def _read_exactly(stream: t.Any, size: int, data: bytes, strict: bool = True) -> bytes:
    """Read until ``size`` bytes (``data`` already read), at most :data:`_CHUNK` at a time.

    The buffer grows only as bytes arrive.

    :param strict: The end of the input before ``size`` bytes is
        :class:`ClientDisconnected`; else the bytes read so far are returned.
    """
    buffer = bytearray(data)
    while len(buffer) < size:
        chunk = stream.read(min(size - len(buffer), _CHUNK))
        if not chunk:
            if strict:
                raise ClientDisconnected(
                    "The client closed the connection before sending the whole body."
                )
            break
        buffer += chunk
    return bytes(buffer)


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
        data: bytes
        if size > _CHUNK:
            # NOTE: a socket file allocates what it is asked for: ask _CHUNK
            # bytes at a time, and go on only while whole chunks arrive (a short
            # read returns, as a raw stream's does).
            data = self._stream.read(_CHUNK)
            if len(data) == _CHUNK:
                data = _read_exactly(self._stream, size, data, False)
        else:
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
        return data

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


def _content_length(value: str) -> int:
    """A ``Content-Length`` header's value as a number.

    :raises BadRequest: The value is not a non-negative integer.
    """
    value = value.strip()
    # NOTE: int() would accept "+5", " 5" and other scripts' digits;
    # a length must be ASCII digits only (RFC 9110 section 8.6).
    if not (value.isascii() and value.isdigit()):
        raise BadRequest("The Content-Length header is not a valid non-negative integer.")
    return int(value)


class _EmptyBody:
    __slots__ = ()

    def read(self, size: int = -1) -> bytes:
        return b""

    def readline(self, size: int = -1) -> bytes:
        return b""

    def __iter__(self) -> t.Iterator[bytes]:
        return iter(())


#: The stream of a request without a body (or whose body was read): one
#: for all, it has no state.
_EMPTY_BODY = _EmptyBody()

# PERF: bound once; CPython 3.11 never specializes `_cv.get` on a module
# global (see erlen.dispatch). Read by every limit lookup of a form request.
_cv_get = _cv.get


class _Limit:
    """A request limit: a per-request override, else the app's config value.

    Setting it stores the override (``None`` goes back to the config); the
    override lives in ``_<name>`` so it can also be given at construction.
    """

    def __init__(self, config_key: str, doc: str, default: int | None = None) -> None:
        self.config_key = config_key
        self.__doc__ = doc
        #: Outside an app context: Werkzeug's default for the limit.
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.attr = f"_{name}"

    def __get__(self, obj: Request | None, owner: type | None = None) -> t.Any:
        if obj is None:
            return self
        value = getattr(obj, self.attr)
        if value is None:
            ctx = _cv_get(None)
            if ctx is None:
                return self.default
            return ctx.app.config.get(self.config_key)
        return value

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
    #: Whether the class keeps Request's own ``is_json`` and ``get_data``
    #: (worked out once per class): :mod:`erlen.typed` then reads what they
    #: would answer for a JSON body already in memory without calling them.
    _plain_json: t.ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain_json = (
            cls.is_json is Request.__dict__["is_json"] and cls.get_data is Request.get_data
        )

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
        from ..testing import EnvironBuilder
        from ..wsgi import make_request

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
        if port is None or (self.scheme, port) in (
            ("http", 80),
            ("https", 443),
            ("ws", 80),
            ("wss", 443),
        ):
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
        value: str | None = self.headers.get("Cookie")
        return value

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
        value: str | None = self.headers.get("Content-Type")
        return value

    @cached_property
    def _parsed_content_type(self) -> tuple[str, dict[str, str]]:
        return parse_options_header(self.headers.get("Content-Type", ""))

    @cached_property
    def mimetype(self) -> str:
        """The content type without parameters, lower-case."""
        # PERF: the media type needs no parameter parsing (mimetype_params
        # parses them when asked); a multipart upload asks for both.
        value: str = self.headers.get("Content-Type", "")
        return value.partition(";")[0].strip().lower()

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The content type's parameters, e.g. ``{"charset": "utf-8"}``."""
        return self._parsed_content_type[1]

    @cached_property
    def content_length(self) -> int | None:
        """The declared body length, or ``None``.

        ``None`` too when the request also has ``Transfer-Encoding`` and the
        server marks the end of the body (:attr:`input_terminated`, always
        under ASGI): the transfer coding wins (RFC 9112 section 6.3), so the
        body is read to the end the server delivers, within
        :attr:`max_content_length`.

        :raises BadRequest: The header is not a non-negative integer.
        """
        value = self.headers.get("Content-Length")
        if value is None or value == "":
            return None
        if self._transfer_coded():
            return None
        return _content_length(value)

    def _transfer_coded(self) -> bool:
        """Whether the server de-chunked the body: ``Transfer-Encoding`` with a terminated input."""
        return self.input_terminated and "Transfer-Encoding" in self.headers

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

    @property
    def remote_user(self) -> str | None:
        """The user a server in front of the app authenticated (``REMOTE_USER``), if any.

        A WSGI server or middleware sets it; an ASGI scope has no such key,
        so it is ``None`` there unless a middleware puts it in the environ.
        """
        return t.cast("str | None", self.environ.get("REMOTE_USER"))

    @cached_property
    def user_agent(self) -> UserAgent:
        """The ``User-Agent`` header (``str(request.user_agent)`` is the string)."""
        return UserAgent(self.headers.get("User-Agent", ""))

    @property
    def referrer(self) -> str | None:
        """The ``Referer`` header."""
        return t.cast("str | None", self.headers.get("Referer"))

    @property
    def origin(self) -> str | None:
        """The ``Origin`` header: where a cross-origin request comes from.

        .. versionadded:: 0.1
        """
        return t.cast("str | None", self.headers.get("Origin"))

    @cached_property
    def date(self) -> datetime | None:
        """Parsed ``Date`` header (when the client sent the request).

        .. versionadded:: 0.1
        """
        return parse_date(self.headers.get("Date"))

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
    def cache_control(self) -> RequestCacheControl:
        """Parsed ``Cache-Control``: a read-only dict of directives with
        properties (``no_cache``, ``max_age``, ...).

        .. versionadded:: 0.1
        """
        from ..datastructures.cache_control import RequestCacheControl
        from ..http import parse_dict_header

        value = self.headers.get("Cache-Control")
        return RequestCacheControl(parse_dict_header(value) if value else ())

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
        "Limit for a non-file form field (and a whole urlencoded body); 500,000"
        " bytes outside an app context.",
        500_000,
    )
    max_form_parts = _Limit(
        "MAX_FORM_PARTS",
        "Limit on the number of multipart parts; 1,000 outside an app context.",
        1_000,
    )

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
            return _EMPTY_BODY
        if length is None:
            if not self.input_terminated:
                # NOTE: without a length, WSGI gives no safe way to find the end.
                return _EMPTY_BODY
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
        if length <= _CHUNK:
            data = self._input.read(length) if length else b""
            if len(data) < length:
                # A server may return short reads: keep reading until the end.
                data = _read_exactly(self._input, length, data)
        else:
            # NOTE: never read(length) for a large length: a socket file
            # allocates the whole declared size up front (MemoryError, a 500,
            # for a huge Content-Length with no limit set).
            data = _read_exactly(self._input, length, b"")
        self.__dict__["stream"] = _EMPTY_BODY  # consumed
        return data

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
        data: bytes = self.get_data(parse_form_data=True)
        return data

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

    @cached_property
    def form(self) -> MultiDict[str, t.Any]:
        """Form fields from a urlencoded or multipart body."""
        # PERF: cached on the instance (as Werkzeug's is), so a view's second
        # and later reads of ``request.form`` cost a dict lookup, not a call.
        self._load_form_data()
        return self._form  # type: ignore[return-value]

    @property
    def files(self) -> MultiDict[str, t.Any]:
        """Uploaded files from a multipart body.

        In debug mode, looking up a file that was sent as a plain form field
        (a form without ``enctype="multipart/form-data"``) raises
        :class:`DebugFilesKeyError`, which says so, as Flask does.
        """
        self._load_form_data()
        files = self._files
        if files is _EMPTY_MULTIDICT and self._form:
            ctx = _cv.get(None)
            if ctx is not None and ctx.app.debug:
                return _DebugFiles(self)
        return files  # type: ignore[return-value]

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

    def on_json_loading_failed(
        self, e: ValueError | None, cause: BaseException | None = None
    ) -> t.Any:
        """Called when :meth:`get_json` fails; raises the matching 4xx.

        :param e: The decoding error, or ``None`` when the content type was wrong.

        The 400's description quotes the decoding error in debug mode only.
        """
        if e is None:
            raise UnsupportedMediaType(
                "Did not attempt to load JSON data because the request"
                " Content-Type was not 'application/json'."
            )
        ctx = _cv.get(None)
        if ctx is not None and not ctx.app.debug:
            # As Flask: the parser's message (which quotes the body) only in
            # debug mode; outside an app, Werkzeug's (always the message).
            raise BadRequest() from (cause or e)
        raise BadRequest(f"Failed to decode JSON object: {e}") from (cause or e)

    def close(self) -> None:
        """Close uploaded files; called when the request context ends."""
        files = self._files
        if files:
            for _, f in files.items(multi=True):
                close = getattr(f, "close", None)
                if close is not None:
                    close()


class DebugFilesKeyError(KeyError, AssertionError):
    """A missing ``request.files`` key in debug mode, where the form sent the
    file's name as a plain field: the form lacks ``enctype="multipart/form-data"``.

    .. versionadded:: 0.1
    """

    def __init__(self, request: Request, key: str) -> None:
        names = request.form.getlist(key)
        message = (
            f"The request has no file {key!r} in request.files: its content type is"
            f" {request.mimetype!r}, not 'multipart/form-data', so no file contents"
            ' were transmitted. Give the HTML form enctype="multipart/form-data".'
        )
        if names:
            message += "\n\nThe browser sent the file names as form fields instead."
            message += f" This was submitted: {', '.join(repr(name) for name in names)}"
        super().__init__(key)
        self.msg = message

    def __str__(self) -> str:
        return self.msg


class _DebugFiles(ImmutableMultiDict[str, t.Any]):
    """The empty ``files`` of a non-multipart form in debug mode: a missing
    key is a :class:`DebugFilesKeyError`."""

    def __init__(self, request: Request) -> None:
        super().__init__()
        self._request = request

    def __getitem__(self, key: str) -> t.Any:
        raise DebugFilesKeyError(self._request, key)
