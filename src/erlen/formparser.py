"""Parsing of ``multipart/form-data`` request bodies, and uploaded files.

:func:`parse_multipart` reads a request's body stream in large chunks and
feeds it to python-multipart's streaming parser, which calls back with
part headers and part data. A body that arrives whole in the first chunk
and has the plain shape that clients send is split directly instead
(:func:`_split_whole`), which is several times faster; anything unusual
still goes through python-multipart. Text fields are collected in memory (up to
``max_form_memory_size`` each); a file is kept in a
:class:`~io.BytesIO` up to 500 kB and moved to a
:func:`~tempfile.TemporaryFile` on disk once it grows beyond. The results
are wrapped as :class:`~erlen.datastructures.FileStorage` objects in ``request.files``.

URL-encoded forms are parsed by :class:`~erlen.wrappers.Request` itself.
"""

from __future__ import annotations

import re
import typing as t
from io import BytesIO
from tempfile import TemporaryFile

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser

from .datastructures import Headers, MultiDict
from .datastructures.file_storage import FileStorage
from .exceptions import BadRequest, RequestEntityTooLarge
from .http import parse_options_header

if t.TYPE_CHECKING:
    from .wrappers import Request

__all__ = ["FileStorage", "parse_multipart"]

#: Bytes read from the body per parser call. PERF: large chunks keep the
#: per-chunk overhead (a read, a parser call, a few callbacks) negligible,
#: and a body that fits in one chunk is often read without a copy.
_CHUNK_SIZE = 256 * 1024
#: An uploaded file stays in memory up to this size, then moves to disk.
_SPOOL_MAX_SIZE = 500 * 1024
#: Limit on the header block of one part. Real clients send two short
#: headers; the limit stops a header that never ends from growing forever.
_MAX_PART_HEADER_SIZE = 16384
#: Charsets accepted from a text part's ``Content-Type``; clients send
#: UTF-8 in practice, and an exotic codec is not worth trusting.
_PART_CHARSETS = frozenset(
    ("utf-8", "utf8", "ascii", "us-ascii", "iso-8859-1", "latin-1", "latin1")
)
#: Printable ASCII, which is what a boundary may contain (RFC 2046 is
#: stricter; browsers stay within it, other clients sometimes do not).
_BOUNDARY_CHARS = frozenset(range(0x20, 0x7F))


class _Collector:
    """Receives python-multipart's callbacks and builds fields and files.

    One instance handles one body. Limits are checked as data arrives, so
    an oversized body fails as soon as it crosses a limit.
    """

    __slots__ = (
        "fields",
        "files",
        "max_parts",
        "max_field_size",
        "parts",
        "headers",
        "header_size",
        "hname",
        "hvalue",
        "field_name",
        "field_charset",
        "buffer",
        "upload",
        "memory",
        "write",
        "done",
    )

    def __init__(self, max_parts: int | None, max_field_size: int | None) -> None:
        self.fields: list[tuple[str, str]] = []
        self.files: list[tuple[str, FileStorage]] = []
        self.max_parts = max_parts
        self.max_field_size = max_field_size
        self.parts = 0
        self.headers: list[tuple[str, str]] = []
        self.header_size = 0
        self.hname = b""
        self.hvalue = b""
        self.field_name = ""
        self.field_charset = "utf-8"
        self.buffer: bytearray | None = None
        self.upload: FileStorage | None = None
        #: The current file's data while it is kept in memory.
        self.memory: bytes | bytearray | None = None
        #: Writes to the current file once it has moved to disk.
        self.write: t.Callable[[t.Any], t.Any] | None = None
        self.done = False

    def callbacks(self) -> dict[str, t.Callable[..., None]]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.max_parts is not None and self.parts > self.max_parts:
            raise RequestEntityTooLarge(
                f"The form has more than the limit of {self.max_parts} parts."
            )
        self.headers = []
        self.header_size = 0
        self.hname = self.hvalue = b""

    # python-multipart only limits header lines in recent versions; counting
    # here keeps a header that never ends bounded with any version.

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_size += end - start
        if self.header_size > _MAX_PART_HEADER_SIZE:
            _header_too_long()
        self.hname += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_size += end - start
        if self.header_size > _MAX_PART_HEADER_SIZE:
            _header_too_long()
        self.hvalue += data[start:end]

    def on_header_end(self) -> None:
        self.headers.append(
            (self.hname.decode("latin-1").strip(), _decode_header(self.hvalue.strip()))
        )
        self.hname = self.hvalue = b""

    def on_headers_finished(self) -> None:
        name, filename, content_type = _part_info(self.headers)
        if filename is None:
            self.field_name = name
            self.field_charset = _part_charset(content_type)
            self.buffer = bytearray()
            self.upload = self.write = None
            return
        headers = _part_headers(self.headers)
        # PERF: a file's data is collected in memory (see on_part_data) and
        # wrapped in a BytesIO by on_part_end, without a copy when it came in
        # one piece; it moves to a temporary file only once it outgrows
        # _SPOOL_MAX_SIZE (see _spill). This spares small uploads the cost of
        # a SpooledTemporaryFile and of copying their data twice.
        self.upload = FileStorage(None, filename, name, headers=headers)
        # Registered now, so that it is closed if the body fails later on.
        self.files.append((name, self.upload))
        self.memory = b""
        self.write = None
        self.buffer = None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        memory = self.memory
        if memory is not None:
            if len(memory) + end - start <= _SPOOL_MAX_SIZE:
                if not memory:
                    # The first piece is kept as is: often the only one.
                    self.memory = data[start:end]
                elif type(memory) is bytes:
                    grown = self.memory = bytearray(memory)
                    grown += memoryview(data)[start:end]
                else:
                    memory += memoryview(data)[start:end]
                return
            self._spill()
        write = self.write
        if write is not None:
            # PERF: a memoryview slice saves copying each chunk once more.
            write(memoryview(data)[start:end])
            return
        # Part data only follows a finished header block, which set one of
        # ``write`` and ``buffer``.
        buffer: bytearray = self.buffer  # type: ignore[assignment]
        buffer += data[start:end]
        limit = self.max_field_size
        if limit is not None and len(buffer) > limit:
            raise RequestEntityTooLarge(
                f"The form field {self.field_name!r} is larger than the limit of {limit} bytes."
            )

    def _spill(self) -> None:
        """Move the current upload from memory to a temporary file."""
        upload = t.cast(FileStorage, self.upload)
        memory = t.cast("bytes | bytearray", self.memory)
        self.memory = None
        disk = TemporaryFile("w+b")
        # Swapped in first, so that the file is closed if writing fails.
        upload.stream.close()
        upload.stream = disk
        self.write = disk.write
        disk.write(memory)

    def on_part_end(self) -> None:
        upload = self.upload
        if upload is not None:
            memory = self.memory
            if memory is not None:
                # A BytesIO shares the bytes it starts with, and reading it
                # whole returns them: one piece is never copied again.
                upload.stream.close()
                upload.stream = BytesIO(memory)
                self.memory = None
            else:
                upload.stream.seek(0)
            self.upload = self.write = None
        else:
            # A part ends only after its header block, which set up a buffer.
            buffer: bytearray = self.buffer  # type: ignore[assignment]
            self.fields.append((self.field_name, buffer.decode(self.field_charset, "replace")))
            self.buffer = None

    def on_end(self) -> None:
        self.done = True

    def close_files(self) -> None:
        for _, upload in self.files:
            upload.close()


def _header_too_long() -> t.NoReturn:
    raise BadRequest(
        "The multipart body is malformed: the headers of a part are"
        f" longer than {_MAX_PART_HEADER_SIZE} bytes."
    )


#: The usual ``Content-Disposition`` of a part, whose quoted values need no
#: unescaping (no backslash, no ``%22``, no line break). Anything else goes
#: through :func:`~erlen.http.parse_options_header`.
_simple_disposition = re.compile(
    r'form-data; name="([^"\\%\r\n]*)"(?:; filename="([^"\\%\r\n]*)")?\Z'
).match


#: The header block of a part that :func:`_split_whole` accepts is at most
#: this long, and has at most 8 lines (python-multipart's limits are larger);
#: anything else goes to the streaming parser.
_WHOLE_MAX_HEADER_BLOCK = 4096
#: One to eight ``Name: value`` lines (the name a token, the value without
#: CR or LF), then the blank line. Each step has one way to match, so this
#: runs in linear time on any input.
_header_block = re.compile(rb"(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\r\n]*\r\n){1,8}\r\n").match
_header_lines = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):([^\r\n]*)\r\n").findall

_Part = tuple[list[tuple[bytes, bytes]], int, int]


def _split_whole(data: bytes, boundary: bytes, max_parts: int | None) -> list[_Part] | None:
    """Split a complete multipart body, if it has the plain, strict shape.

    PERF: python-multipart's streaming state machine costs about 10 µs per
    part in callbacks and per-character steps. A body that is entirely in
    memory can be split with a few ``bytes.find`` calls instead, as long as
    it is well-formed in the simplest way: the first delimiter at the very
    start, each part made of ``Name: value`` header lines, a blank line and
    data, each delimiter followed by CRLF or by the closing ``--``.

    Nothing is decided here about anything else: for a body with any other
    shape (a preamble, transport padding, an odd header line, a missing
    closing delimiter, text that merely starts like a delimiter, ...) this
    returns ``None`` and the body goes through python-multipart, so errors
    and edge cases are handled in exactly one place.

    :param max_parts: With more parts than this, ``None`` is returned (the
        streaming parser then raises the 413 at the same point as always).
    :return: ``(headers, start, end)`` per part, where ``headers`` are raw
        ``(name, value)`` pairs and ``data[start:end]`` is the part's data;
        or ``None``.
    """
    dash_boundary = b"--" + boundary
    if not data.startswith(dash_boundary + b"\r\n"):
        return None
    delimiter = b"\r\n" + dash_boundary
    skip = len(delimiter)
    find = data.find
    parts: list[_Part] = []
    pos = len(dash_boundary) + 2
    while True:
        if max_parts is not None and len(parts) >= max_parts:
            return None
        block = _header_block(data, pos)
        if block is None:
            return None
        start = block.end()
        if start - pos > _WHOLE_MAX_HEADER_BLOCK:
            return None
        headers = _header_lines(data, pos, start)
        end = find(delimiter, start)
        if end < 0:
            return None
        parts.append((headers, start, end))
        pos = end + skip
        after = data[pos : pos + 2]
        if after == b"--":
            # What follows the closing delimiter (the epilogue) is ignored.
            return parts
        if after != b"\r\n":
            return None
        pos += 2


def _parse_whole(
    data: bytes, parts: list[_Part], max_field_size: int | None
) -> tuple[list[tuple[str, str]], list[tuple[str, FileStorage]]]:
    """Build the fields and files of the parts found by :func:`_split_whole`.

    What :class:`_Collector` does for the streaming parser, in one loop
    (PERF): the checks and results are the same. Limits that cannot be
    reached here are left out: :func:`_split_whole` stops before the part
    limit and at a 4 kB header block, and the body is smaller than
    ``_SPOOL_MAX_SIZE``, so files stay in memory.

    :return: ``(fields, files)`` as lists of pairs.
    """
    fields: list[tuple[str, str]] = []
    files: list[tuple[str, FileStorage]] = []
    try:
        for raw_headers, start, end in parts:
            headers = []
            for key, value in raw_headers:
                value = value.strip()
                # As _decode_header, inlined (PERF).
                try:
                    text = value.decode("utf-8")
                except UnicodeDecodeError:
                    text = value.decode("latin-1")
                headers.append((key.decode("latin-1"), text))
            name, filename, content_type = _part_info(headers)
            if filename is None:
                if max_field_size is not None and end - start > max_field_size:
                    raise RequestEntityTooLarge(
                        f"The form field {name!r} is larger than the limit of {max_field_size} bytes."
                    )
                fields.append(
                    (name, data[start:end].decode(_part_charset(content_type), "replace"))
                )
            else:
                # A BytesIO shares the bytes it starts with, and reading it
                # whole returns them: the data is copied once, here.
                upload = FileStorage(
                    BytesIO(data[start:end]), filename, name, headers=_part_headers(headers)
                )
                files.append((name, upload))
    except BaseException:
        for _, upload in files:
            upload.close()
        raise
    return fields, files


def _part_info(headers: list[tuple[str, str]]) -> tuple[str, str | None, str | None]:
    """A part's field name, file name (``None`` for a text field) and content type.

    :raises BadRequest: The part has no ``Content-Disposition`` or no name.
    """
    disposition = content_type = None
    for key, value in headers:
        lower = key.lower()
        if lower == "content-disposition":
            disposition = value
        elif lower == "content-type":
            content_type = value
    if disposition is None:
        raise BadRequest(
            "The multipart body is malformed: a part has no Content-Disposition header."
        )
    # PERF: browsers and HTTP libraries send one plain shape; a regex
    # match is several times cheaper than the general header parser.
    match = _simple_disposition(disposition)
    if match is not None:
        name, filename = match.groups()
        return name, filename, content_type
    params = parse_options_header(disposition)[1]
    name = params.get("name")
    if name is None:
        raise BadRequest("The multipart body is malformed: a part has no field name.")
    return name, params.get("filename"), content_type


def _part_headers(headers: list[tuple[str, str]]) -> Headers:
    """Wrap a part's header list as :class:`Headers` for its FileStorage."""
    wrapped = Headers.__new__(Headers)
    # The part's headers came from the client and are only read, so they
    # skip the checks meant for response headers.
    wrapped._list = headers
    return wrapped


def _storage(
    cls: type[MultiDict[str, t.Any]], pairs: list[tuple[str, t.Any]]
) -> MultiDict[str, t.Any]:
    """``cls(pairs)``, through the cheaper ``_from_lists`` where there is one."""
    from_lists = getattr(cls, "_from_lists", None)
    if from_lists is None:
        return cls(pairs)
    grouped: dict[str, list[t.Any]] = {}
    for key, value in pairs:
        if key in grouped:
            grouped[key].append(value)
        else:
            grouped[key] = [value]
    return from_lists(grouped)  # type: ignore[no-any-return]


def _decode_header(value: bytes) -> str:
    # Browsers send non-ASCII file names as raw UTF-8; latin-1 is the
    # lossless fallback for anything else.
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _part_charset(content_type: str | None) -> str:
    # PERF: without a ";" there are no parameters to parse.
    if content_type and ";" in content_type:
        charset = parse_options_header(content_type)[1].get("charset", "").lower()
        if charset in _PART_CHARSETS:
            return charset
    return "utf-8"


def _check_boundary(boundary: str | None) -> bytes:
    if not boundary:
        raise BadRequest("The multipart/form-data Content-Type has no boundary parameter.")
    if not boundary.isascii():
        raise BadRequest("The multipart/form-data boundary is not valid.")
    raw = boundary.encode("ascii")
    if len(raw) > 200 or not _BOUNDARY_CHARS.issuperset(raw) or raw.endswith(b" "):
        raise BadRequest("The multipart/form-data boundary is not valid.")
    return raw


def parse_multipart(request: Request) -> tuple[MultiDict[str, t.Any], MultiDict[str, t.Any]]:
    """Parse a request's ``multipart/form-data`` body into fields and files.

    The body is read from :attr:`Request.stream <erlen.Request.stream>` in
    256 kB chunks, so the request's ``Content-Length`` and
    ``MAX_CONTENT_LENGTH`` checks apply. An empty body gives two empty
    dicts (as for a request that merely carries the content type).

    :param request: The request; its ``mimetype_params`` give the boundary,
        and ``max_form_memory_size``, ``max_form_parts`` and
        ``parameter_storage_class`` are honored.
    :return: ``(form, files)``, both of the request's
        ``parameter_storage_class``; ``files`` holds :class:`FileStorage`
        objects.
    :raises BadRequest: The boundary is missing or invalid, the body is
        malformed, or it ends before the closing boundary (400).
    :raises RequestEntityTooLarge: A text field is larger than
        ``max_form_memory_size``, or there are more parts than
        ``max_form_parts`` (413).

    .. versionadded:: 0.1
    """
    cls = request.parameter_storage_class
    read = request.stream.read
    chunk = read(_CHUNK_SIZE)
    if not chunk:
        return cls(), cls()
    boundary = _check_boundary(request.mimetype_params.get("boundary"))
    max_parts = request.max_form_parts
    max_field_size = request.max_form_memory_size
    if request.content_length == len(chunk):
        # PERF: the whole body is here (the common case for forms and small
        # uploads); a well-formed one is split by a few searches.
        parts = _split_whole(chunk, boundary, max_parts)
        if parts is not None:
            fields, files = _parse_whole(chunk, parts, max_field_size)
            return _storage(cls, fields), _storage(cls, files)
    collector = _Collector(max_parts, max_field_size)
    try:
        parser = MultipartParser(boundary, t.cast(t.Any, collector.callbacks()))
        write = parser.write
        while chunk:
            write(chunk)
            if collector.done:
                # The epilogue after the closing boundary is ignored anyway.
                break
            chunk = read(_CHUNK_SIZE)
        if not collector.done:
            raise BadRequest("The multipart body ended before its closing boundary.")
    except FormParserError as e:
        collector.close_files()
        raise BadRequest(f"The multipart body is malformed: {e}") from None
    except BaseException:
        collector.close_files()
        raise
    return _storage(cls, collector.fields), _storage(cls, collector.files)
