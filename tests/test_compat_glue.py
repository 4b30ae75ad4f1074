"""erlen.compat._glue: the parts tests/test_compat_wsgi.py leaves out."""

from __future__ import annotations

import io
import tempfile

import pytest

from erlen.compat import _glue
from erlen.exceptions import RequestEntityTooLarge


def test_default_stream_factory_spools_large_or_unknown_uploads() -> None:
    small = _glue.default_stream_factory(100, "text/plain", "a.txt")
    assert isinstance(small, io.BytesIO)
    for total in (None, 1024 * 500 + 1):
        big = _glue.default_stream_factory(total, "text/plain", "a.txt")
        assert isinstance(big, tempfile.SpooledTemporaryFile)
        big.write(b"data")
        big.seek(0)
        assert big.read() == b"data"
        big.close()


def test_parse_form_data_honors_max_content_length() -> None:
    body = b"a=" + b"x" * 100
    env = _glue.create_environ(
        "/", method="POST", data=body, content_type="application/x-www-form-urlencoded"
    )
    with pytest.raises(RequestEntityTooLarge):
        _glue.parse_form_data(env, max_content_length=10)
    env = _glue.create_environ(
        "/", method="POST", data=body, content_type="application/x-www-form-urlencoded"
    )
    _, form, _ = _glue.parse_form_data(env, max_content_length=1000)
    assert form["a"] == "x" * 100


def test_stream_encode_multipart_makes_its_own_boundary() -> None:
    stream, length, boundary = _glue.stream_encode_multipart({"a": "1"})
    body = stream.read()
    assert len(body) == length
    assert boundary and body.startswith(f"--{boundary}\r\n".encode())
    assert body.rstrip().endswith(f"--{boundary}--".encode())
