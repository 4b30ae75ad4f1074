"""multipart/form-data parsing and FileStorage."""

from __future__ import annotations

import io
import time

import pytest

from erlen import Request, request
from erlen.datastructures import Headers
from erlen.exceptions import BadRequest, RequestEntityTooLarge
from erlen.formparser import FileStorage, parse_multipart

BOUNDARY = "b0undary"
CT = f"multipart/form-data; boundary={BOUNDARY}"


def body(*parts: bytes, end: bool = True) -> bytes:
    """A multipart body from raw parts (headers, blank line and data each)."""
    out = b"".join(b"--" + BOUNDARY.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    return out + (b"--" + BOUNDARY.encode() + b"--\r\n" if end else b"")


def field(name: str, value: bytes, extra: bytes = b"") -> bytes:
    return f'Content-Disposition: form-data; name="{name}"\r\n'.encode() + extra + b"\r\n" + value


def upload(name: str, filename: str, value: bytes, ctype: str = "text/plain") -> bytes:
    return (
        f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {ctype}\r\n\r\n"
    ).encode() + value


class Trickle(io.RawIOBase):
    """An input stream that returns a few bytes per read, to split everything across chunks."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data = data
        self.pos = 0
        self.step = step

    def read(self, size: int = -1) -> bytes:
        n = self.step if size < 0 else min(size, self.step)
        chunk = self.data[self.pos : self.pos + n]
        self.pos += len(chunk)
        return chunk


def close_all(files) -> None:
    for _, f in files.items(multi=True):
        f.close()


def make_request(
    data: bytes, content_type: str = CT, stream: object = None, **limits: int
) -> Request:
    req = Request(
        "POST",
        "/",
        headers=Headers({"Content-Type": content_type, "Content-Length": str(len(data))}),
        stream=io.BytesIO(data) if stream is None else stream,
    )
    for key, value in limits.items():
        setattr(req, key, value)
    return req


@pytest.fixture
def echo(app):
    @app.post("/")
    def index():
        files = {
            key: [
                (f.filename, f.content_type, f.read().decode("utf-8", "replace"))
                for f in request.files.getlist(key)
            ]
            for key in request.files
        }
        # NOTE: closed here because Request.close() closes only the first
        # upload of each field (see test_request_end_closes_every_upload).
        for upload in request.files.items(multi=True):
            upload[1].close()
        return {"form": request.form.to_dict(flat=False), "files": files}

    return app


def test_request_end_closes_every_upload(app, client):
    kept = []

    @app.post("/")
    def index():
        kept.extend(request.files.getlist("f"))
        return "ok"

    client.post("/", data={"f": [(io.BytesIO(b"1"), "a.txt"), (io.BytesIO(b"2"), "b.txt")]})
    try:
        assert len(kept) == 2 and all(f.stream.closed for f in kept)
    finally:
        for f in kept:
            f.close()


def test_fields_and_files_through_client(echo, client):
    rv = client.post(
        "/",
        data={
            "field": "v",
            "multi": ["1", "2"],
            "f": [(io.BytesIO(b"first"), "a.txt"), (io.BytesIO(b"second"), "b.csv")],
            "g": (io.BytesIO(b"\x00\x01"), "c.bin", "application/x-thing"),
        },
    )
    assert rv.status_code == 200
    assert rv.json["form"] == {"field": ["v"], "multi": ["1", "2"]}
    assert rv.json["files"] == {
        "f": [["a.txt", "text/plain", "first"], ["b.csv", "text/csv", "second"]],
        "g": [["c.bin", "application/x-thing", "\x00\x01"]],
    }


def test_non_ascii_names_and_values(echo, client):
    rv = client.post(
        "/", data={"näme": "välue ✓", "f": (io.BytesIO("ünï".encode()), "résumé ✓.txt")}
    )
    assert rv.json["form"] == {"näme": ["välue ✓"]}
    assert rv.json["files"] == {"f": [["résumé ✓.txt", "text/plain", "ünï"]]}


def test_rfc2231_filename_and_quotes():
    data = body(
        b"Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''%E2%82%AC.txt\r\n\r\neuro",
        b'Content-Disposition: form-data; name="q"; filename="a%22b.txt"\r\n\r\nquote',
    )
    form, files = parse_multipart(make_request(data))
    assert files["f"].filename == "€.txt"
    assert files["q"].filename == 'a"b.txt'
    assert files["f"].content_type is None and files["f"].mimetype == ""
    close_all(files)


def test_latin1_header_bytes_fall_back():
    data = body(b'Content-Disposition: form-data; name="f"; filename="caf\xe9.txt"\r\n\r\nx')
    _, files = parse_multipart(make_request(data))
    assert files["f"].filename == "café.txt"
    close_all(files)


def test_field_charsets():
    data = body(
        field("latin", "é".encode("latin-1"), b"Content-Type: text/plain; charset=ISO-8859-1\r\n"),
        field("odd", "é".encode(), b"Content-Type: text/plain; charset=x-unknown\r\n"),
        field("plain", "é".encode(), b"X-Note: ignored\r\nContent-Type: text/plain\r\n"),
        field("broken", b"\xff\xfe ok"),
    )
    form, files = parse_multipart(make_request(data))
    assert form.to_dict() == {"latin": "é", "odd": "é", "plain": "é", "broken": "\ufffd\ufffd ok"}
    assert not files


def test_empty_values_and_empty_file_input():
    data = body(field("empty", b""), upload("f", "", b"", "application/octet-stream"))
    form, files = parse_multipart(make_request(data))
    assert form["empty"] == ""
    f = files["f"]
    assert f.filename == "" and not f
    assert f.read() == b""
    close_all(files)


def test_split_across_tiny_reads():
    # Every boundary, header and value straddles read boundaries.
    payload = b"line1\r\n--b0undar\r\n--b0undaryX" * 50
    data = body(field("a", b"alpha"), upload("f", "x.bin", payload), field("z", "zèd".encode()))
    for step in (1, 3, 7, 64):
        req = make_request(data, stream=Trickle(data, step))
        form, files = parse_multipart(req)
        assert form.to_dict() == {"a": "alpha", "z": "zèd"}
        assert files["f"].read() == payload
        close_all(files)


def test_large_body_over_several_chunks():
    blob = bytes(range(256)) * 1024  # 256 kB: more than one read, so streamed
    data = body(
        field("before", b"1"),
        upload("f", "big.bin", blob, "application/octet-stream"),
        field("after", b"2"),
    )
    form, files = parse_multipart(make_request(data))
    assert form.to_dict() == {"before": "1", "after": "2"}
    assert files["f"].read() == blob
    close_all(files)


def test_preamble_newlines_and_epilogue():
    data = b"\r\n\r\n" + body(field("a", b"1")) + b"epilogue that is ignored" * 10
    form, _ = parse_multipart(make_request(data))
    assert form.to_dict() == {"a": "1"}


def test_empty_body_is_an_empty_form(app, client):
    @app.route("/", methods=["GET", "POST"])
    def index():
        return {"form": request.form.to_dict(), "files": list(request.files)}

    assert client.post("/", data=b"", content_type=CT).json == {"form": {}, "files": []}
    # Even without a boundary: a request that merely carries the type.
    assert client.get("/", headers={"Content-Type": "multipart/form-data"}).json == {
        "form": {},
        "files": [],
    }


def test_file_storage_save(app, client, tmp_path):
    saved = {}

    @app.post("/")
    def index():
        f = request.files["f"]
        f.save(tmp_path / "out.bin")
        f.seek(0)
        buf = io.BytesIO()
        f.save(buf, buffer_size=3)
        saved["buf"] = buf.getvalue()
        f.seek(0)
        f.save(str(tmp_path / "out2.bin"))
        saved["fs"] = f
        return "ok"

    assert client.post("/", data={"f": (io.BytesIO(b"payload"), "p.bin")}).text == "ok"
    assert (tmp_path / "out.bin").read_bytes() == b"payload"
    assert (tmp_path / "out2.bin").read_bytes() == b"payload"
    assert saved["buf"] == b"payload"
    # The request's end closed the upload.
    assert saved["fs"].stream.closed


def test_spills_large_file_to_disk(app, client):
    seen = {}

    @app.post("/")
    def index():
        big, small = request.files["big"], request.files["small"]
        seen["big"] = isinstance(big.stream, io.BytesIO), big.stream.fileno() >= 0
        seen["small"] = isinstance(small.stream, io.BytesIO), small.read()
        seen["data"] = big.read()
        return "ok"

    blob = bytes(range(256)) * 4096  # 1 MiB
    rv = client.post(
        "/", data={"big": (io.BytesIO(blob), "big.bin"), "small": (io.BytesIO(b"s"), "s.bin")}
    )
    assert rv.text == "ok"
    assert seen["big"] == (False, True)
    assert seen["small"] == (True, b"s")
    assert seen["data"] == blob


@pytest.mark.parametrize("step", [1000, 65536, 1 << 20])
def test_spill_threshold_and_chunking(step):
    import erlen.formparser as fp

    limit = fp._SPOOL_MAX_SIZE
    for size, on_disk in ((limit, False), (limit + 1, True), (3 * limit + 7, True)):
        blob = bytes(range(251)) * (size // 251) + b"z" * (size % 251)
        data = body(upload("f", "f.bin", blob, "application/octet-stream"), field("after", b"1"))
        form, files = parse_multipart(make_request(data, stream=Trickle(data, step)))
        f = files["f"]
        try:
            assert isinstance(f.stream, io.BytesIO) is not on_disk
            assert f.read() == blob and form["after"] == "1"
            f.seek(0)
            assert f.read(3) == blob[:3]
        finally:
            f.close()
        assert f.stream.closed


def test_field_memory_limit_is_413_and_app_recovers(echo, client):
    echo.config["MAX_FORM_MEMORY_SIZE"] = 100
    rv = client.post("/", data={"a": "x" * 101}, content_type="multipart/form-data")
    assert rv.status_code == 413
    assert b"larger than the limit of 100 bytes" in rv.data
    # Files are not limited by it, and the app goes on serving.
    rv = client.post("/", data={"a": "x" * 100, "f": (io.BytesIO(b"y" * 1000), "f.txt")})
    assert rv.status_code == 200
    assert rv.json["form"] == {"a": ["x" * 100]}


def test_parts_limit_is_413(echo, client):
    echo.config["MAX_FORM_PARTS"] = 3
    rv = client.post("/", data={"a": ["1", "2", "3", "4"]}, content_type="multipart/form-data")
    assert rv.status_code == 413
    assert b"more than the limit of 3 parts" in rv.data
    assert (
        client.post(
            "/", data={"a": ["1", "2", "3"]}, content_type="multipart/form-data"
        ).status_code
        == 200
    )


def test_content_length_limit_is_413(echo, client):
    echo.config["MAX_CONTENT_LENGTH"] = 1000
    rv = client.post("/", data={"f": (io.BytesIO(b"z" * 2000), "f.txt")})
    assert rv.status_code == 413
    assert client.post("/", data={"f": (io.BytesIO(b"z" * 10), "f.txt")}).status_code == 200


def test_files_closed_when_body_fails():
    created = []

    class Failing(io.RawIOBase):
        def __init__(self, data):
            self.data = data
            self.done = False

        def read(self, size=-1):
            if self.done:
                raise RequestEntityTooLarge("stop")
            self.done = True
            return self.data

    first = body(upload("f", "a.txt", b"abc"), end=False)
    req = make_request(first + b"x" * 10, stream=Failing(first))
    import erlen.formparser as fp

    orig = fp.FileStorage.__init__

    def spy(self, *a, **kw):
        orig(self, *a, **kw)
        created.append(self)

    fp.FileStorage.__init__ = spy
    try:
        with pytest.raises(RequestEntityTooLarge):
            parse_multipart(req)
    finally:
        fp.FileStorage.__init__ = orig
    assert created and all(f.stream.closed for f in created)


MALFORMED = {
    "no boundary": (b"--x\r\n", "multipart/form-data", "no boundary"),
    "non-ascii boundary": (
        b"--x\r\n",
        'multipart/form-data; boundary="b\u00e9"',
        "boundary is not valid",
    ),
    "long boundary": (
        b"--x\r\n",
        "multipart/form-data; boundary=" + "b" * 201,
        "boundary is not valid",
    ),
    "control char boundary": (
        b"--x\r\n",
        'multipart/form-data; boundary="a\tb"',
        "boundary is not valid",
    ),
    "trailing space boundary": (
        b"--x\r\n",
        'multipart/form-data; boundary="ab "',
        "boundary is not valid",
    ),
    "wrong boundary": (b"--other\r\n\r\nx\r\n--other--\r\n", CT, "malformed"),
    "garbage": (b"hello world", CT, "malformed"),
    "unterminated": (body(field("a", b"1"), end=False), CT, "ended before its closing boundary"),
    "cut in data": (body(field("a", b"1"))[:-12], CT, "ended before its closing boundary"),
    "no disposition": (body(b"Content-Type: text/plain\r\n\r\nx"), CT, "no Content-Disposition"),
    "no name": (body(b"Content-Disposition: form-data\r\n\r\nx"), CT, "no field name"),
    "bad header char": (body(b"Bad Header: x\r\n\r\nx"), CT, "malformed"),
    "header without lf": (
        body(b'Content-Disposition: form-data; name="a"\rX\r\n\r\nx'),
        CT,
        "malformed",
    ),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_bodies_are_400(echo, client, name):
    data, ctype, message = MALFORMED[name]
    rv = client.post("/", data=data, content_type=ctype)
    assert rv.status_code == 400, rv.data
    assert message.encode() in rv.data


@pytest.mark.parametrize(
    "data",
    [
        b"\r" * 1_000_000,
        b"\n" * 1_000_000,
        b"\r\n" * 500_000,
        b"-" * 1_000_000,
        b"--" + BOUNDARY.encode() + b"\r\n" + b"\r" * 1_000_000,
        b"--" + BOUNDARY.encode() + b"\r\nX-Long: " + b"a" * 1_000_000,
        b"--" + BOUNDARY.encode() + b"\r\n" + b"a" * 1_000_000,
        b"--"
        + BOUNDARY.encode()
        + b'\r\nContent-Disposition: form-data; name="'
        + b"n" * 1_000_000,
        b"--" + BOUNDARY.encode() + b"\r\n" + b"X: y\r\n" * 100_000,
        body(field("a", b"\r\n--" * 250_000), end=False),
    ],
    ids=[
        "cr",
        "lf",
        "crlf",
        "dashes",
        "header-cr",
        "long-value",
        "long-name",
        "long-disposition",
        "many-headers",
        "fake-boundaries",
    ],
)
def test_hostile_bodies_fail_fast(echo, client, data):
    # A guard against hangs and quadratic time, not a speed test: the bound
    # is generous, real runs take milliseconds.
    start = time.perf_counter()
    rv = client.post("/", data=data, content_type=CT)
    assert 400 <= rv.status_code < 500
    assert time.perf_counter() - start < 5


def test_header_limit_without_library_limits(monkeypatch):
    # Older python-multipart versions do not limit header size; ours does.
    import erlen.formparser as fp

    class Unlimited(fp.MultipartParser):
        def __init__(self, boundary, callbacks):
            try:
                super().__init__(boundary, callbacks, max_header_count=10**9, max_header_size=10**9)
            except TypeError:  # a version without these limits
                super().__init__(boundary, callbacks)

    monkeypatch.setattr(fp, "MultipartParser", Unlimited)
    for data in (
        b"--" + BOUNDARY.encode() + b"\r\nX-Long: " + b"a" * 100_000,
        b"--" + BOUNDARY.encode() + b"\r\n" + b"A" * 100_000 + b": v\r\n\r\n",
    ):
        with pytest.raises(BadRequest, match="headers of a part are longer"):
            parse_multipart(make_request(data))


def test_direct_parse_with_limits_and_storage_class():
    from erlen.datastructures import MultiDict

    data = body(field("a", b"1"), field("a", b"2"), upload("f", "f.txt", b"data"))
    req = make_request(data)
    req.parameter_storage_class = MultiDict
    form, files = parse_multipart(req)
    assert type(form) is MultiDict and form.getlist("a") == ["1", "2"]
    assert files["f"].headers["Content-Type"] == "text/plain"
    close_all(files)
    with pytest.raises(RequestEntityTooLarge):
        parse_multipart(make_request(data, _max_form_parts=2))
    with pytest.raises(RequestEntityTooLarge):
        parse_multipart(make_request(body(field("a", b"12345")), _max_form_memory_size=4))


def test_file_storage_api(tmp_path):
    fs = FileStorage(
        io.BytesIO(b"abc\ndef\n"),
        "a.txt",
        "field",
        content_type="text/plain; charset=utf-8",
        content_length=8,
    )
    assert fs.name == "field" and fs.filename == "a.txt"
    assert fs.content_type == "text/plain; charset=utf-8"
    assert fs.mimetype == "text/plain" and fs.mimetype_params == {"charset": "utf-8"}
    assert fs.content_length == 8
    assert bool(fs)
    assert repr(fs) == "<FileStorage: 'a.txt' ('text/plain; charset=utf-8')>"
    assert list(fs) == [b"abc\n", b"def\n"]
    fs.seek(0)
    assert fs.read(3) == b"abc" and fs.tell() == 3
    assert fs.readline() == b"\n"
    fs.close()
    fs.close()  # a second close is harmless
    assert fs.stream.closed

    empty = FileStorage()
    assert empty.filename is None and not empty
    assert empty.read() == b"" and empty.content_length == 0 and empty.content_type is None
    empty.headers.set("Content-Length", "nope")
    assert empty.content_length == 0

    path = tmp_path / "named.bin"
    path.write_bytes(b"n")
    with open(path, "rb") as f:
        assert FileStorage(f).filename == str(path)
    with open(path, "rb") as f:
        assert FileStorage(f, filename=path).filename == str(path)
    stdin_like = io.BytesIO()
    stdin_like.name = "<stdin>"
    assert FileStorage(stdin_like).filename is None
    fd_like = io.BytesIO()
    fd_like.name = 3  # open(fd) gives an int name
    assert FileStorage(fd_like).filename is None

    class Unclosable(io.BytesIO):
        def close(self):
            raise OSError("nope")

    FileStorage(Unclosable()).close()  # errors on close are ignored


def test_file_storage_getattr_falls_back_to_wrapped_file():
    class OldSpooled:
        def __init__(self):
            self._file = io.BytesIO(b"x")

    fs = FileStorage(OldSpooled())  # type: ignore[arg-type]
    assert fs.readable() is True
    with pytest.raises(AttributeError):
        fs.no_such_method  # noqa: B018
    with pytest.raises(AttributeError):
        FileStorage(object()).no_such_method  # type: ignore[arg-type]  # noqa: B018


# -- the whole-body fast path ---------------------------------------------
#
# A body that arrives in one read is split by _split_whole when it has the
# plain shape, else streamed through python-multipart. The tests below run
# each body both ways (one read, and tiny reads that force streaming) and
# require the same outcome.


def outcome(data: bytes, step: int | None = None, **limits: int) -> tuple:
    stream = None if step is None else Trickle(data, step)
    try:
        form, files = parse_multipart(make_request(data, stream=stream, **limits))
    except (BadRequest, RequestEntityTooLarge) as e:
        return ("error", type(e))
    try:
        return (
            "ok",
            list(form.items(multi=True)),
            [
                (k, f.filename, list(f.headers.items()), f.read())
                for k, f in files.items(multi=True)
            ],
        )
    finally:
        close_all(files)


def both_ways(data: bytes, **limits: int) -> tuple:
    whole = outcome(data, **limits)
    assert whole == outcome(data, 7, **limits)
    assert whole == outcome(data, len(data) - 1, **limits) if len(data) > 1 else True
    return whole


D = b"--" + BOUNDARY.encode()
PLAIN = body(
    field("a", b"alpha"),
    upload("f", "x.bin", b"data\r\n--b0undar\r\n-- \r\r\n\n", "application/octet-stream"),
    field("c", "zèd".encode(), b"Content-Type: text/plain; charset=utf-8\r\n"),
)


def test_whole_body_path_is_taken(monkeypatch):
    import erlen.formparser as fp

    def no_streaming(*args, **kwargs):
        raise AssertionError("streamed")

    monkeypatch.setattr(fp, "MultipartParser", no_streaming)
    form, files = parse_multipart(make_request(PLAIN))
    assert form.to_dict() == {"a": "alpha", "c": "zèd"}
    assert files["f"].read() == b"data\r\n--b0undar\r\n-- \r\r\n\n"
    assert isinstance(files["f"].stream, io.BytesIO)
    close_all(files)


@pytest.mark.parametrize(
    "data",
    [
        PLAIN,
        PLAIN + b"epilogue\r\n--" + BOUNDARY.encode() + b"--\r\n",
        PLAIN[:-2],  # no CRLF after the closing delimiter
        body(field("empty", b""), upload("f", "", b"", "application/octet-stream")),
        body(
            b"Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''%E2%82%AC.txt\r\n\r\neuro"
        ),
        body(b'Content-Disposition: form-data; name="q"; filename="a%22b\\\\c.txt"\r\n\r\nquote'),
        body(b'content-disposition:form-data; name="lower"\r\nX-Extra:\t v \r\n\r\nx'),
        body(
            b'Content-Disposition: form-data; name="caf\xc3\xa9"; filename="caf\xe9.txt"\r\n\r\nx'
        ),
        body(b'Content-Disposition: form-data; name="x"; name="y"\r\n\r\nlast name wins'),
        body(b'Content-Disposition: attachment; filename="n.txt"; name="n"\r\n\r\nx'),
        body(field("a", b"1"), field("a", b"2"), field("a", b"3")),
        # Shapes that the fast path leaves to python-multipart:
        b"\r\n" + PLAIN,
        b"preamble\r\n" + PLAIN,
        D + b"  \r\n" + PLAIN[len(D) + 2 :],
        PLAIN.replace(b"\r\n" + D + b"\r\n", b"\r\n" + D + b" \t\r\n", 1),
        body(b"\r\nno headers"),
        body(b"Content-Disposition form-data\r\n\r\nx"),
        body(b'Content-Disposition: form-data; name="a"\r\n folded\r\n\r\nx'),
        body(b'Content-Disposition: form-data; name="a"\r\nBad Name: x\r\n\r\nx'),
        body(b'Content-Disposition: form-data; name="a"\rX: y\r\n\r\nx'),
        body(b'Content-Disposition: form-data; name="a"\nX: y\r\n\r\nx'),
        body(b'Content-Disposition: form-data; name="a"\r\n' + b"X-A: b\r\n" * 9 + b"\r\nx"),
        body(b'Content-Disposition: form-data; name="a"\r\nX-Long: ' + b"v" * 5000 + b"\r\n\r\nx"),
        body(b"X-Only: header\r\n\r\nx"),
        body(b"Content-Disposition: form-data\r\n\r\nno name"),
        body(field("a", b"1" + b"\r\n" + D + b"X trailing text is data")),
        body(field("a", b"1" + b"\r\n" + D + b"-X")),
        body(field("a", b"1" + b"\r\n" + D + b"\rX")),
        body(field("a", b"1"), end=False),
        body(field("a", b"1"))[:-6],
        D + b"--\r\n",
        D + b"\r\n",
        D,
        b"garbage",
        PLAIN.replace(b"\r\n", b"\n"),
    ],
)
def test_whole_and_streamed_agree(data):
    both_ways(data)


def test_whole_body_limits_agree():
    data = body(field("a", b"12345"), field("b", b"1"), upload("f", "f.txt", b"x" * 10))
    assert both_ways(data, _max_form_parts=2) == ("error", RequestEntityTooLarge)
    assert both_ways(data, _max_form_memory_size=4) == ("error", RequestEntityTooLarge)
    assert both_ways(data, _max_form_parts=3, _max_form_memory_size=5)[0] == "ok"


def test_whole_body_fuzz_agrees():
    import random

    rng = random.Random(2718)
    alphabet = b'\r\n-: \t"=;ab' + D[2:6]
    for _ in range(400):
        data = bytearray(PLAIN)
        for _ in range(rng.randint(1, 3)):
            op, i = rng.randrange(3), rng.randrange(len(data))
            if op == 0:
                data[i] = rng.choice(alphabet)
            elif op == 1:
                data[i:i] = bytes([rng.choice(alphabet)])
            else:
                del data[i]
        both_ways(bytes(data))


def test_whole_body_files_closed_on_error(monkeypatch):
    import erlen.formparser as fp

    created = []
    orig = fp.FileStorage.__init__

    def record(self, *args, **kwargs):
        orig(self, *args, **kwargs)
        created.append(self)

    monkeypatch.setattr(fp.FileStorage, "__init__", record)
    data = body(upload("f", "a.txt", b"abc"), field("big", b"x" * 10))
    with pytest.raises(RequestEntityTooLarge):
        parse_multipart(make_request(data, _max_form_memory_size=5))
    assert created and all(f.stream.closed for f in created)
