"""Uploaded files: :class:`FileStorage`.

The multipart parser (:mod:`erlen.formparser`) makes these; they live here,
with the other request containers, as in Werkzeug.

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
import typing as t
from io import BytesIO
from shutil import copyfileobj

from ..http import parse_options_header
from .headers import Headers

__all__ = ["FileStorage"]


class FileStorage:
    """An uploaded file, as found in :attr:`Request.files <erlen.Request.files>`.

    It wraps a binary stream and the part's headers. Reading methods that
    are not defined here (``seek``, ``tell``, ``readline``, ...) are passed
    on to :attr:`stream`. The object is true when a file name was sent, so
    ``if f:`` tells an empty file input from a chosen file.

    :param stream: The file's data; an empty in-memory stream if not given.
    :param filename: The name the client sent. Defaults to the stream's
        ``name`` unless that is a pseudo-name such as ``<stdin>``.
    :param name: The form field's name.
    :param content_type: Sets the ``Content-Type`` entry of ``headers``.
    :param content_length: Sets the ``Content-Length`` entry of ``headers``.
    :param headers: The part's headers.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        stream: t.IO[bytes] | None = None,
        filename: str | os.PathLike[str] | None = None,
        name: str | None = None,
        content_type: str | None = None,
        content_length: int | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.name = name
        if stream is None:
            stream = BytesIO()
        self.stream: t.IO[bytes] = stream
        if filename is None:
            guessed = getattr(stream, "name", None)
            if isinstance(guessed, (str, bytes, os.PathLike)):
                guessed = os.fsdecode(guessed)
                # "<stdin>" and friends describe a stream, they are not names.
                if guessed and not (guessed[0] == "<" and guessed[-1] == ">"):
                    filename = guessed
        elif type(filename) is not str:
            filename = os.fsdecode(filename)
        #: The file name the client sent (may be empty, and is not safe to
        #: use as a path; see :func:`erlen.helpers.secure_filename`).
        self.filename: str | None = filename
        if headers is None:
            headers = Headers()
        self.headers = headers
        if content_type is not None:
            headers.set("Content-Type", content_type)
        if content_length is not None:
            headers.set("Content-Length", str(content_length))

    @property
    def content_type(self) -> str | None:
        """The part's ``Content-Type`` header, as sent."""
        return t.cast("str | None", self.headers.get("Content-Type"))

    @property
    def content_length(self) -> int:
        """The part's ``Content-Length`` header, or 0 (clients rarely send it)."""
        try:
            return int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return 0

    @property
    def mimetype(self) -> str:
        """The content type without parameters, lower-case (``""`` if none)."""
        return parse_options_header(self.content_type)[0].lower()

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The content type's parameters, e.g. ``{"charset": "utf-8"}``."""
        return parse_options_header(self.content_type)[1]

    def read(self, size: int = -1) -> bytes:
        """Read from :attr:`stream`.

        :param size: Bytes to read at most; all that is left by default.
        """
        return self.stream.read(size)

    def save(self, dst: str | os.PathLike[str] | t.IO[bytes], buffer_size: int = 16384) -> None:
        """Copy the file's data to a path or a binary file object.

        A path is opened (and truncated) for writing and closed afterwards; a
        file object is written to and left open. The copy starts at the
        stream's current position, so it is the whole file unless it was
        already read.

        :param dst: A file path, or a file object opened for binary writing.
        :param buffer_size: Bytes copied per step.
        """
        if isinstance(dst, (str, os.PathLike)):
            with open(dst, "wb") as f:
                copyfileobj(self.stream, f, buffer_size)
        else:
            copyfileobj(self.stream, dst, buffer_size)

    def close(self) -> None:
        """Close the stream (which deletes a temporary file); errors are ignored."""
        try:
            self.stream.close()
        except Exception:
            pass

    def __bool__(self) -> bool:
        return bool(self.filename)

    def __iter__(self) -> t.Iterator[bytes]:
        return iter(self.stream)

    def __getattr__(self, name: str) -> t.Any:
        try:
            return getattr(self.stream, name)
        except AttributeError:
            # Older SpooledTemporaryFile versions lack some io methods
            # (readable, seekable, ...); the file they wrap has them.
            inner = self.__dict__.get("stream")
            inner = getattr(inner, "_file", None)
            if inner is not None:
                return getattr(inner, name)
            raise

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.filename!r} ({self.content_type!r})>"
