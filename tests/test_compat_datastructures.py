"""The Werkzeug header value types in erlen.compat.datastructures."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path

import pytest

from erlen.compat.datastructures import (
    ContentRange,
    ContentSecurityPolicy,
    FileMultiDict,
    IfRange,
    ImmutableTypeConversionDict,
    Range,
    TypeConversionDict,
)
from erlen.datastructures.file_storage import FileStorage


def test_get_without_type_returns_the_value_as_stored() -> None:
    d = TypeConversionDict(page="3")
    assert d.get("page") == "3"
    assert d.get("page", type=int) == 3
    assert d.get("page", 1, type=lambda v: int("x")) == 1
    assert d.get("missing", 7) == 7


def test_immutable_conversion_dict_copies() -> None:
    d = ImmutableTypeConversionDict(a="1")
    assert copy.copy(d) is d
    mutable = d.copy()
    assert type(mutable) is TypeConversionDict
    mutable["b"] = "2"
    assert "b" not in d


def test_file_multidict_add_file_from_path_guesses_the_type(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello")
    files = FileMultiDict()
    files.add_file("doc", str(path))
    stored = files["doc"]
    assert isinstance(stored, FileStorage)
    assert stored.filename == str(path)
    assert stored.content_type == "text/plain"
    assert stored.name == "doc"
    assert stored.read() == b"hello"
    stored.close()


def test_file_multidict_add_file_object_and_storage(tmp_path: Path) -> None:
    files = FileMultiDict()
    path = tmp_path / "blob"
    path.write_bytes(b"x")
    with open(path, "rb") as fh:
        files.add_file("a", fh, filename="data.unknownext")
        assert files["a"].content_type == "application/octet-stream"
        files.add_file("b", fh, filename="pic.png", content_type="image/x-mine")
        assert files["b"].content_type == "image/x-mine"
    storage = FileStorage(None, "given.txt", "c")
    files.add_file("c", storage)
    assert files["c"] is storage


def test_csp_properties_set_delete_and_render() -> None:
    csp = ContentSecurityPolicy()
    assert csp.default_src is None
    csp.default_src = "'self'"
    csp.img_src = "*"
    assert csp["default-src"] == "'self'"
    assert csp.to_header() == "default-src 'self'; img-src *"
    assert str(csp) == csp.to_header()
    assert repr(csp) == "<ContentSecurityPolicy default-src=\"'self'\" img-src='*'>"
    csp.img_src = None
    assert "img-src" not in csp
    del csp.default_src
    assert csp.to_header() == ""
    # On the class the descriptor itself, documented per directive.
    assert "script-src" in (type(csp).__dict__["script_src"].__doc__ or "")


@pytest.mark.parametrize(
    ("ranges", "length", "expected"),
    [
        ([(0, 500)], 1000, (0, 500)),
        ([(0, 5000)], 1000, (0, 1000)),
        ([(-500, None)], 1000, (500, 1000)),
        ([(500, None)], 1000, (500, 1000)),
        ([(-5000, None)], 1000, None),
        ([(1000, None)], 1000, None),
        ([(0, 5), (10, 20)], 1000, None),
        ([(0, 5)], None, None),
    ],
)
def test_range_for_length(ranges: list, length: int | None, expected: object) -> None:
    assert Range("bytes", ranges).range_for_length(length) == expected


def test_range_other_units_and_headers() -> None:
    assert Range("items", [(0, 5)]).range_for_length(10) is None
    rng = Range("bytes", [(0, 500), (-100, None), (900, None)])
    assert rng.to_header() == "bytes=0-499,-100,900-"
    assert str(rng) == rng.to_header()
    assert repr(rng) == "<Range 'bytes=0-499,-100,900-'>"
    one = Range("bytes", [(0, 500)])
    assert one.to_content_range_header(1000) == "bytes 0-499/1000"
    assert one.to_content_range_header(None) is None
    made = one.make_content_range(1000)
    assert made is not None
    assert (made.units, made.start, made.stop, made.length) == ("bytes", 0, 500, 1000)
    assert one.make_content_range(None) is None


def test_content_range_headers_and_updates() -> None:
    seen: list[str] = []
    cr = ContentRange("bytes", 0, 500, 1000, on_update=lambda r: seen.append(r.to_header()))
    assert str(cr) == "bytes 0-499/1000"
    assert repr(cr) == "<ContentRange 'bytes 0-499/1000'>"
    assert bool(cr)
    cr.set(None, None, None)
    assert cr.to_header() == "bytes */*"
    cr.unset()
    assert cr.to_header() == ""
    assert not cr
    # Construction goes through set() too, as in Werkzeug.
    assert seen == ["bytes 0-499/1000", "bytes */*", ""]


def test_if_range_header() -> None:
    assert IfRange(etag="abc").to_header() == '"abc"'
    date = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert IfRange(date=date).to_header() == "Thu, 02 Jan 2020 03:04:05 GMT"
    empty = IfRange()
    assert str(empty) == ""
    assert repr(IfRange(etag="x")) == "<IfRange '\"x\"'>"
