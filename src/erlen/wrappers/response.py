"""The response object, independent of any server interface.

:class:`Response` holds a status, a :class:`~erlen.datastructures.Headers`
list and a body that is either a list of bytes or an iterable streamed to the
client; the adapters turn it into their protocol's messages.

Beside it live the status lines built once, :class:`_DateHeader` (a date
header as a ``datetime`` property), the content-type helpers
(:func:`_content_type` and its bounded cache), :func:`_to_bytes`, and the
conditional-response part of :class:`Response` (ETags, dates, byte ranges,
:meth:`Response.make_conditional`); the request side of that evaluation is
in :mod:`erlen.http.conditional`.
"""

from __future__ import annotations

import typing as t

from ..datastructures import EnvironHeaders, Headers
from ..globals import _cv
from ..http import (
    HTTP_STATUS_CODES,
    dump_cookie,
    generate_etag,
    http_date,
    parse_date,
    parse_options_header,
    quote_etag,
    unquote_etag,
)
from ..http.conditional import _apply_range, _evaluate_preconditions, _parse_byte_range

if t.TYPE_CHECKING:  # pragma: no cover
    from ..datastructures.cache_control import ResponseCacheControl

__all__ = ["Response"]

#: Bodies shorter than this take their ``Content-Length`` pair from
#: ``_LENGTH_PAIRS``.
_SMALL = 1024
#: The ``Content-Length`` header pair of each small body length.
#: PERF: formatting the length cost more than the rest of building a text
#: response; the pairs are shared, as ``_CONTENT_TYPE_PAIRS`` are (a tuple
#: never changes, and the header list replaces pairs, never edits them).
_LENGTH_PAIRS = tuple(("Content-Length", str(n)) for n in range(_SMALL))

# PERF: status lines and defaults are built once, not per response.
_STATUS_LINES: dict[int, str] = {
    code: f"{code} {reason}" for code, reason in HTTP_STATUS_CODES.items()
}


def _upper_case_reasons(upper: bool) -> None:
    # Werkzeug's status lines upper-case the reason ("404 NOT FOUND") and
    # Flask apps' tests compare response.status with them; the compat layer
    # switches to those lines on install (and back on uninstall). The table
    # is refilled in place, so responses and test clients read the new lines
    # with no per-response cost.
    for code, reason in HTTP_STATUS_CODES.items():
        _STATUS_LINES[code] = f"{code} {reason.upper() if upper else reason}"


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


class _SetHeader:
    """A comma-separated header (``Allow``, ``Vary``) as a property.

    Reading parses the header into a :class:`~erlen.datastructures.HeaderSet`
    (nothing is kept: the header stays the one truth); changing that set
    writes the header back, or removes it when the set is empty. Assign a
    string, an iterable of tokens or ``None`` (removes the header).
    """

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.__doc__ = doc

    def __get__(self, obj: Response | None, owner: type | None = None) -> t.Any:
        if obj is None:
            return self
        from ..datastructures import HeaderSet
        from ..http import parse_list_header

        def on_update(header_set: HeaderSet) -> None:
            if header_set:
                obj.headers.set(self.name, header_set.to_header())
            else:
                obj.headers.remove(self.name)

        value = obj.headers.get(self.name)
        return HeaderSet(parse_list_header(value) if value else (), on_update)

    def __set__(self, obj: Response, value: t.Any) -> None:
        if not value:
            obj.headers.remove(self.name)
        elif isinstance(value, str):
            obj.headers.set(self.name, value)
        else:
            from ..http import dump_header

            obj.headers.set(self.name, dump_header(value))

    def __delete__(self, obj: Response) -> None:
        obj.headers.remove(self.name)


_new_object = object.__new__


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
            pairs = (
                self._hlist
                if headers is None
                else headers._list
                if type(headers) is Headers
                else None
            )
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
            pairs = (
                self._hlist
                if headers is None
                else headers._list
                if type(headers) is Headers
                else None
            )
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

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__new__ is not _new_object and cls.__init__ is Response.__init__:
            # NOTE: _text_response makes a class that keeps Response's
            # __init__ with object.__new__; a class with a __new__ of its
            # own gets an __init__ of its own too, so it is made by calling it.
            def __init__(self: Response, *args: t.Any, **kwargs: t.Any) -> None:
                Response.__init__(self, *args, **kwargs)

            cls.__init__ = __init__  # type: ignore[method-assign]
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
        # PERF: as in _text_response: the adapters read it on every response.
        self._on_close = None
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
            hlist: list[tuple[str, str]] = (
                [("Content-Type", content_type)] if content_type is not None else []
            )
            self._hlist = hlist
            if response.__class__ is str:
                body = response.encode(self.charset)
                self.response: t.Any = [body]
                if self.automatically_set_content_length:
                    n = len(body)
                    hlist.append(_LENGTH_PAIRS[n] if n < _SMALL else ("Content-Length", f"{n}"))
            elif response is None:
                self.response = []
                if self.automatically_set_content_length:
                    hlist.append(("Content-Length", "0"))
            elif isinstance(response, (bytes, bytearray)):
                body = bytes(response)
                self.response = [body]
                if self.automatically_set_content_length:
                    n = len(body)
                    hlist.append(_LENGTH_PAIRS[n] if n < _SMALL else ("Content-Length", f"{n}"))
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
        # Not a generator function: the body is taken now, so code that puts a
        # generator over this iterator back as ``self.response`` (Flask-Compress
        # does) iterates the old body, not itself.
        return _iter_encoded(self.response, self.charset)

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
        from ..wsgi import send_response

        return send_response(self, environ, start_response)

    def get_wsgi_response(
        self, environ: dict[str, t.Any]
    ) -> tuple[t.Iterable[bytes], str, list[tuple[str, str]]]:
        """``(app_iter, status, headers)``: what serving this response to
        ``environ`` would send, as Werkzeug's method returns it.

        .. versionadded:: 0.1
        """
        sent: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
        ) -> t.Any:
            sent.append((status, headers))
            return lambda data: None

        app_iter = self(environ, start_response)
        status, headers = sent[0]
        return app_iter, status, headers

    def freeze(self) -> None:
        """Read a streamed body into memory (it can then be sent again, or
        pickled) and set ``Content-Length``.

        .. versionadded:: 0.1
        """
        self.set_data(b"".join(self.iter_encoded()))

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
    expires = _DateHeader(
        "Expires", "The ``Expires`` header (read and set like :attr:`last_modified`)."
    )
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

    allow = _SetHeader(
        "Allow",
        """The ``Allow`` header as a :class:`~erlen.datastructures.HeaderSet`
        of methods; changing the set changes the header.

        .. versionadded:: 0.1
        """,
    )
    vary = _SetHeader(
        "Vary",
        """The ``Vary`` header as a :class:`~erlen.datastructures.HeaderSet`
        of header names; changing the set changes the header.

        .. versionadded:: 0.1
        """,
    )

    @property
    def cache_control(self) -> ResponseCacheControl:
        """The ``Cache-Control`` header as a dict of directives with properties
        (``max_age``, ``public``, ``no_cache``, ...); changing it changes the
        header, and an empty one removes it.

        .. versionadded:: 0.1
        """
        from ..datastructures.cache_control import ResponseCacheControl
        from ..http import parse_dict_header

        def on_update(cache_control: ResponseCacheControl) -> None:
            if cache_control:
                self.headers.set("Cache-Control", cache_control.to_header())
            else:
                self.headers.remove("Cache-Control")

        value = self.headers.get("Cache-Control")
        return ResponseCacheControl(parse_dict_header(value) if value else (), on_update)

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
        if (
            self.automatically_set_content_length
            and self.is_sequence
            and "Content-Length" not in headers
        ):
            headers.set(
                "Content-Length", str(sum(len(_to_bytes(x, self.charset)) for x in self.response))
            )
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


def _text_response(cls: type[Response], text: str) -> Response:
    """``cls(text)``, for a response class that keeps Response's ``__init__``.

    PERF: the dispatch shortcut for a view's ``str``, without the argument
    handling of ``__init__`` (and a plain function: a classmethod would
    be bound on every call).
    """
    # PERF: object.__new__ bound once, not cls.__new__ looked up on the class
    # (about 0.2 k instructions); a class with its own __new__ never comes
    # here (see Response.__init_subclass__).
    self = _new_object(cls)
    charset = cls.charset
    # PERF: encode() without an argument is UTF-8 without looking the codec
    # up by name (about 0.2 k instructions fewer).
    body = text.encode() if charset == "utf-8" else text.encode(charset)
    self.response = [body]
    mimetype = cls.default_mimetype
    hlist: list[tuple[str, str]]
    if cls.automatically_set_content_length:
        # PERF: a try costs nothing in CPython 3.11 until it catches.
        try:
            length = _LENGTH_PAIRS[len(body)]
        except IndexError:  # a body of _SMALL bytes or more
            length = ("Content-Length", f"{len(body)}")
        # PERF: the list built whole, not appended to (a call fewer).
        if mimetype is not None:
            hlist = [_content_type_pairs_get(mimetype) or _content_type_pair(mimetype), length]
        else:
            hlist = [length]
    elif mimetype is not None:
        hlist = [_content_type_pairs_get(mimetype) or _content_type_pair(mimetype)]
    else:
        hlist = []
    self._hlist = hlist
    # PERF: the adapters read it on every response; set on the instance it
    # is read faster than the class's default (CPython 3.11).
    self._on_close = None
    return self


def _bytes_response(cls: type[Response], body: bytes, status: int, mimetype: str) -> Response:
    """``cls(body, status, mimetype=mimetype)``, for a response class that keeps Response's ``__init__``.

    PERF: the typed views' JSON response, as :func:`_text_response` is a
    view's ``str``: without the keyword arguments and branches of
    ``__init__`` (about 5 k instructions fewer).
    """
    self = _new_object(cls)
    self.response = [body]
    content_type = _content_type_pairs_get(mimetype) or _content_type_pair(mimetype)
    if cls.automatically_set_content_length:
        try:
            length = _LENGTH_PAIRS[len(body)]
        except IndexError:  # a body of _SMALL bytes or more
            length = ("Content-Length", f"{len(body)}")
        self._hlist = [content_type, length]
    else:
        self._hlist = [content_type]
    self._on_close = None
    if cls.status is _STATUS:
        line = _STATUS_LINES.get(status)
        self._status_code = status
        self._status = line if line is not None else f"{status} UNKNOWN"
    else:
        self.status = status  # a subclass's own setter
    return self


#: mimetype → the ``Content-Type`` header pair, filled on use (bounded).
#: PERF: one pair shared by every response: a tuple never changes, and the
#: header list replaces pairs, never edits them.
_CONTENT_TYPE_PAIRS: dict[str, tuple[str, str]] = {}
# PERF: bound once (CPython 3.11 builds a bound method for `.get` of a
# global dict on every call).
_content_type_pairs_get = _CONTENT_TYPE_PAIRS.get


def _content_type_pair(mimetype: str) -> tuple[str, str]:
    pair = ("Content-Type", _CONTENT_TYPES.get(mimetype) or _content_type(mimetype))
    if len(_CONTENT_TYPE_PAIRS) < 256:
        _CONTENT_TYPE_PAIRS[mimetype] = pair
    return pair


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


def _iter_encoded(body: t.Iterable[t.Any], charset: str) -> t.Iterator[bytes]:
    for item in body:
        yield _to_bytes(item, charset)


# The status property, which _bytes_response sets the fields of directly.
_STATUS = Response.status
