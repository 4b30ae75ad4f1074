"""url_for, redirect, make_response, safe_join and friends."""

from __future__ import annotations

import pytest

import erlen
from erlen import Erlen, make_response, redirect, request, url_for
from erlen.exceptions import BuildError
from erlen.helpers import safe_join


def test_url_for_basics(app):
    @app.route("/")
    def index():
        return ""

    @app.route("/user/<int:uid>")
    def user(uid):
        return ""

    @app.route("/files/<path:p>")
    def files(p):
        return ""

    with app.test_request_context(base_url="http://example.com/app/"):
        assert url_for("index") == "/app/"
        assert url_for("user", uid=3) == "/app/user/3"
        assert url_for("user", uid=3, q="a b", tag=["x", "y"]) == "/app/user/3?q=a+b&tag=x&tag=y"
        assert url_for("files", p="a b/ü.txt") == "/app/files/a%20b/%C3%BC.txt"
        assert url_for("index", _external=True) == "http://example.com/app/"
        assert url_for("index", _external=True, _scheme="https") == "https://example.com/app/"
        assert url_for("index", _anchor="sec 1") == "/app/#sec%201"
        assert url_for("static", filename="a.css") == "/app/static/a.css"
        with pytest.raises(ValueError, match="_external"):
            url_for("index", _scheme="https", _external=False)


def test_url_for_build_error_messages(app):
    @app.route("/user/<int:uid>", methods=["POST"])
    def user(uid):
        return ""

    with app.test_request_context():
        with pytest.raises(BuildError, match=r"Did you forget to specify values \['uid'\]"):
            url_for("user")
        with pytest.raises(BuildError, match="Did you mean 'user'"):
            url_for("usr")
        with pytest.raises(BuildError, match="methods"):
            url_for("user", uid=1, _method="GET")
        assert url_for("user", uid=1, _method="POST") == "/user/1"


def test_url_build_error_handler(app):
    app.url_build_error_handlers.append(lambda error, endpoint, values: f"/fallback/{endpoint}")
    with app.test_request_context():
        assert url_for("nowhere") == "/fallback/nowhere"


def test_url_build_error_handler_reraises(app):
    def handler(error, endpoint, values):
        raise error

    app.url_build_error_handlers.append(handler)
    with app.test_request_context():
        with pytest.raises(BuildError):
            url_for("nowhere")


def test_url_for_outside_request(app):
    @app.route("/x")
    def x():
        return ""

    with app.app_context():
        with pytest.raises(RuntimeError, match="SERVER_NAME"):
            url_for("x")
    app.config.update(
        SERVER_NAME="example.org", APPLICATION_ROOT="/root", PREFERRED_URL_SCHEME="https"
    )
    with app.app_context():
        assert url_for("x") == "https://example.org/root/x"
        assert url_for("x", _external=False) == "/root/x"
    with pytest.raises(RuntimeError, match="application context"):
        url_for("x")


def test_url_for_defaults_selection(app):
    @app.route("/page/", defaults={"n": 1})
    @app.route("/page/<int:n>")
    def page(n):
        return str(n)

    with app.test_request_context():
        assert url_for("page", n=1) == "/page/"
        assert url_for("page", n=2) == "/page/2"


def test_url_for_in_view(app, client):
    @app.route("/a")
    def a():
        return url_for("b", x=1, _external=True)

    @app.route("/b")
    def b():
        return ""

    assert client.get("/a").text == "http://localhost/b?x=1"


def test_redirect(app, client):
    rv = redirect("/target?x=<1>")
    assert rv.status_code == 302
    assert rv.location == "/target?x=%3C1%3E"
    assert b"&lt;1&gt;" in rv.data
    assert redirect("/ü", 301).location == "/%C3%BC"

    @app.route("/")
    def index():
        return redirect(url_for("target"), code=303)

    @app.route("/target")
    def target():
        return "arrived"

    rv = client.get("/")
    assert rv.status_code == 303 and rv.location == "/target"
    rv = client.get("/", follow_redirects=True)
    assert rv.data == b"arrived"
    assert [r.status_code for r in rv.history] == [303]
    assert rv.request.path == "/target"
    custom = redirect("/x", Response=erlen.Response)
    assert isinstance(custom, erlen.Response)


def test_make_response(app):
    with app.test_request_context():
        rv = make_response("body", 404, {"X-A": "b"})
        assert rv.status_code == 404 and rv.headers["X-A"] == "b"
        assert make_response().data == b""
        assert make_response({"a": 1}).json == {"a": 1}
        assert make_response(("x", 201)).status_code == 201
    with pytest.raises(RuntimeError):
        make_response("x")


def test_jsonify(app):
    with app.app_context():
        assert erlen.jsonify(a=1).json == {"a": 1}
        assert erlen.jsonify([1, 2]).json == [1, 2]
        assert erlen.jsonify(1, 2).json == [1, 2]
        assert erlen.jsonify().json is None
        with pytest.raises(TypeError):
            erlen.jsonify(1, a=2)
    with pytest.raises(RuntimeError):
        erlen.jsonify(a=1)


@pytest.mark.parametrize(
    "path",
    [
        "../etc/passwd",
        "a/../../b",
        "/etc/passwd",
        "..",
        "a\\..\\b",
        "C:\\win",
        "C:/win",
        "\\\\server\\share",
        "//server/share",
        "NUL",
        "nul.txt",
        "CON",
        "com1.log",
        "LPT9",
        "aux.tar.gz",
        "a/PRN/b",
        "x\x00y",
    ],
)
def test_safe_join_rejects(path):
    assert safe_join("/base", path) is None


def test_safe_join_accepts():
    assert safe_join("/base", "a/b.txt") == "/base/a/b.txt"
    assert safe_join("/base", "a/./b.txt") == "/base/a/b.txt"
    assert safe_join("/base", "a", "b") == "/base/a/b"
    assert safe_join("", "x") == "./x"
    assert safe_join("/base", "") == "/base"
    assert safe_join("/base", "console.txt") == "/base/console.txt"


def test_static_files(tmp_path):
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "style.css").write_text("body{}")
    app = Erlen("static_app", root_path=str(tmp_path))
    client = app.test_client()
    rv = client.get("/static/style.css")
    assert rv.status_code == 200
    assert rv.data == b"body{}"
    assert rv.mimetype == "text/css"
    assert client.get("/static/../secret").status_code == 404
    assert client.get("/static/missing.css").status_code == 404
    rv.close()


def test_send_file_from_object(app):
    import io

    with app.test_request_context():
        rv = erlen.send_file(
            io.BytesIO(b"data"), mimetype="text/plain", as_attachment=True, download_name="d.txt"
        )
        assert rv.get_data() == b"data"
        assert 'filename="d.txt"' in rv.headers["Content-Disposition"]


# -- send_file, send_from_directory, conditional responses ------------------

import io  # noqa: E402
import os  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from zlib import adler32  # noqa: E402

from erlen import Response, send_file, send_from_directory  # noqa: E402
from erlen.exceptions import NotFound, RequestedRangeNotSatisfiable  # noqa: E402
from erlen.helpers import secure_filename  # noqa: E402
from erlen.http import http_date  # noqa: E402
from erlen.testing import EnvironBuilder  # noqa: E402

CONTENT = b"0123456789abcdefghij"  # 20 bytes


@pytest.fixture
def files(tmp_path):
    (tmp_path / "static").mkdir()
    (tmp_path / "data.txt").write_bytes(CONTENT)
    (tmp_path / "empty.bin").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "page.html").write_text("<p>hi</p>")
    (tmp_path / "arch.tar.gz").write_bytes(b"gz")
    return tmp_path


@pytest.fixture
def fapp(files):
    app = Erlen("files_app", root_path=str(files))
    app.config["TESTING"] = True

    @app.route("/file/<path:name>", methods=["GET", "HEAD", "POST"])
    def file(name):
        kwargs = {k: v for k, v in request.args.items()}
        for key in ("as_attachment", "conditional"):
            if key in kwargs:
                kwargs[key] = kwargs[key] == "1"
        if "max_age" in kwargs:
            kwargs["max_age"] = int(kwargs["max_age"])
        if kwargs.get("etag") == "0":
            kwargs["etag"] = False
        return send_file(name, **kwargs)

    @app.route("/dir/<path:name>")
    def from_dir(name):
        return send_from_directory("sub", name)

    return app


@pytest.fixture
def fclient(fapp):
    return fapp.test_client()


def get(client, url="/file/data.txt", **headers):
    rv = client.get(url, headers=headers)
    rv.close()
    return rv


def test_send_file_path_headers(fclient, files):
    rv = get(fclient)
    st = os.stat(files / "data.txt")
    assert rv.status_code == 200 and rv.data == CONTENT
    h = rv.headers
    assert h["Content-Type"] == "text/plain; charset=utf-8"
    assert h["Content-Disposition"] == 'inline; filename="data.txt"'
    assert h["Content-Length"] == "20"
    assert h["Last-Modified"] == http_date(st.st_mtime)
    check = adler32(str(files / "data.txt").encode()) & 0xFFFFFFFF
    assert h["ETag"] == f'"{st.st_mtime}-{st.st_size}-{check}"'
    assert h["Cache-Control"] == "no-cache"
    assert "Expires" not in h
    assert h["Accept-Ranges"] == "bytes"
    assert "Date" in h


def test_send_file_options(fclient):
    rv = get(fclient, "/file/data.txt?as_attachment=1&download_name=report.csv")
    assert rv.headers["Content-Disposition"] == 'attachment; filename="report.csv"'
    assert rv.mimetype == "text/csv"
    rv = get(fclient, "/file/data.txt?mimetype=application/x-custom&etag=0")
    assert rv.headers["Content-Type"] == "application/x-custom"
    assert "ETag" not in rv.headers
    rv = get(fclient, "/file/data.txt?etag=abc")
    assert rv.headers["ETag"] == '"abc"'
    rv = get(fclient, '/file/data.txt?download_name=a "quoted" name.txt')
    assert rv.headers["Content-Disposition"] == 'inline; filename="a \\"quoted\\" name.txt"'
    rv = get(fclient, "/file/data.txt?conditional=0", Range="bytes=0-1")
    assert rv.status_code == 200 and "Accept-Ranges" not in rv.headers and "Date" not in rv.headers


def test_send_file_non_ascii_download_name(fclient):
    rv = get(fclient, "/file/data.txt?download_name=résumé ✓.txt&as_attachment=1")
    assert rv.headers["Content-Disposition"] == (
        "attachment; filename=\"resume .txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%9C%93.txt"
    )


def test_send_file_mimetype_guessing(fclient):
    rv = get(fclient, "/file/arch.tar.gz")
    assert rv.mimetype == "application/x-tar" and rv.headers["Content-Encoding"] == "gzip"
    # An attachment keeps its compression: the browser must not unpack it.
    rv = get(fclient, "/file/arch.tar.gz?as_attachment=1")
    assert "Content-Encoding" not in rv.headers
    rv = get(fclient, "/file/data.txt?download_name=blob.unknownext")
    assert rv.mimetype == "application/octet-stream"


def test_send_file_max_age(fapp, fclient):
    rv = get(fclient, "/file/data.txt?max_age=60")
    assert rv.headers["Cache-Control"] == "public, max-age=60"
    expires = rv.expires
    assert expires is not None and abs(expires.timestamp() - (time.time() + 60)) < 5
    rv = get(fclient, "/file/data.txt?max_age=0")
    assert rv.headers["Cache-Control"] == "no-cache, max-age=0"
    fapp.config["SEND_FILE_MAX_AGE_DEFAULT"] = 120
    assert get(fclient).headers["Cache-Control"] == "public, max-age=120"
    fapp.config["SEND_FILE_MAX_AGE_DEFAULT"] = timedelta(hours=1)
    assert get(fclient).headers["Cache-Control"] == "public, max-age=3600"
    # The app's hook wins when it has one (Flask's get_send_file_max_age).
    seen = []
    fapp.get_send_file_max_age = lambda path: seen.append(path) or 5
    assert get(fclient).headers["Cache-Control"] == "public, max-age=5"
    assert seen and seen[0].endswith("data.txt")


def test_send_file_max_age_callable_and_timedelta(app):
    with app.test_request_context():
        rv = send_file(io.BytesIO(b"x"), mimetype="text/plain", max_age=lambda path: 7)
        assert rv.headers["Cache-Control"] == "public, max-age=7"
        rv = send_file(io.BytesIO(b"x"), mimetype="text/plain", max_age=timedelta(minutes=2))
        assert rv.headers["Cache-Control"] == "public, max-age=120"


def test_send_file_last_modified_argument(app, files):
    when = datetime(2020, 5, 17, 12, 0, tzinfo=UTC)
    with app.test_request_context():
        rv = send_file(str(files / "data.txt"), last_modified=when)
        assert rv.last_modified == when
        rv.close()
        rv = send_file(io.BytesIO(b"x"), mimetype="text/plain", last_modified=0)
        assert rv.headers["Last-Modified"] == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_send_file_objects(app, files):
    with app.test_request_context():
        buf = io.BytesIO(b"skip:payload")
        buf.read(5)
        rv = send_file(buf, download_name="p.bin")
        # The length is what is left from the current position.
        assert rv.headers["Content-Length"] == "7" and rv.get_data() == b"payload"
        assert "ETag" not in rv.headers and "Last-Modified" not in rv.headers
        with open(files / "data.txt", "rb") as f:
            rv = send_file(f, mimetype="text/plain")
            assert rv.headers["Content-Length"] == "20"
            assert "Content-Disposition" not in rv.headers

        class Reader:
            def read(self, n=-1):
                return b""

        rv = send_file(Reader(), mimetype="text/plain")
        assert "Content-Length" not in rv.headers

        r, w = os.pipe()
        with os.fdopen(r, "rb") as pipe, os.fdopen(w, "wb"):
            rv = send_file(pipe, mimetype="text/plain")
            assert "Content-Length" not in rv.headers

        class BadFileno(io.RawIOBase):
            def fileno(self):
                raise OSError("no descriptor")

        assert "Content-Length" not in send_file(BadFileno(), mimetype="text/plain").headers


def test_send_file_object_errors(app, files):
    with app.test_request_context():
        with pytest.raises(ValueError, match="mimetype"):
            send_file(io.BytesIO(b"x"))
        with pytest.raises(TypeError, match="mimetype"):
            send_file(io.BytesIO(b"x"))
        with pytest.raises(ValueError, match="attachment"):
            send_file(io.BytesIO(b"x"), mimetype="text/plain", as_attachment=True)
        with open(files / "data.txt") as text:
            with pytest.raises(ValueError, match="binary mode"):
                send_file(text, mimetype="text/plain")


def test_send_file_outside_request(files, monkeypatch):
    monkeypatch.chdir(files)
    rv = send_file("data.txt", max_age=10)
    assert rv.get_data() == CONTENT
    assert rv.headers["Cache-Control"] == "public, max-age=10"
    assert "Accept-Ranges" not in rv.headers  # no request to be conditional on
    assert send_file(io.BytesIO(b"x"), mimetype="text/plain").headers["Cache-Control"] == "no-cache"


def test_not_modified(fclient):
    first = get(fclient)
    etag, lm = first.headers["ETag"], first.headers["Last-Modified"]
    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f'"other", W/{etag}'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": lm},
        {"If-Modified-Since": http_date(time.time() + 3600)},
    ):
        rv = get(fclient, **headers)
        assert rv.status_code == 304, headers
        assert rv.data == b""
        assert rv.headers["ETag"] == etag
        for name in ("Content-Length", "Content-Type", "Last-Modified", "Content-Disposition"):
            assert name not in rv.headers
    # If-None-Match is decisive when present, whatever If-Modified-Since says.
    assert get(fclient, **{"If-None-Match": '"other"', "If-Modified-Since": lm}).status_code == 200
    assert get(fclient, **{"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code == 200
    assert get(fclient, **{"If-Modified-Since": "not a date"}).status_code == 200


def test_precondition_failed(fclient):
    first = get(fclient)
    etag, lm = first.headers["ETag"], first.headers["Last-Modified"]
    rv = get(fclient, **{"If-Match": '"nope"'})
    assert rv.status_code == 412 and rv.data == b"" and rv.headers["Content-Length"] == "0"
    assert get(fclient, **{"If-Match": etag}).status_code == 200
    assert get(fclient, **{"If-Match": "*"}).status_code == 200
    assert (
        get(fclient, **{"If-Match": f"W/{etag}"}).status_code == 412
    )  # weak never matches If-Match
    assert (
        get(fclient, **{"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code == 412
    )
    assert get(fclient, **{"If-Unmodified-Since": lm}).status_code == 200
    # If-Match wins over If-Unmodified-Since.
    assert (
        get(
            fclient, **{"If-Match": etag, "If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
        ).status_code
        == 200
    )
    # Preconditions come before ranges.
    assert get(fclient, **{"If-Match": '"nope"', "Range": "bytes=0-1"}).status_code == 412
    # Not conditional for other methods.
    assert fclient.post("/file/data.txt", headers={"If-Match": '"nope"'}).status_code == 200


@pytest.mark.parametrize(
    ("range_header", "expected", "content_range"),
    [
        ("bytes=0-4", CONTENT[0:5], "bytes 0-4/20"),
        ("bytes=5-", CONTENT[5:], "bytes 5-19/20"),
        ("bytes=-3", CONTENT[-3:], "bytes 17-19/20"),
        ("bytes=-50", CONTENT, "bytes 0-19/20"),
        ("bytes=15-100", CONTENT[15:], "bytes 15-19/20"),
        ("BYTES = 19-19", CONTENT[19:], "bytes 19-19/20"),
    ],
)
def test_range_requests(fclient, range_header, expected, content_range):
    rv = get(fclient, Range=range_header)
    assert rv.status_code == 206
    assert rv.data == expected
    assert rv.headers["Content-Range"] == content_range
    assert rv.headers["Content-Length"] == str(len(expected))


@pytest.mark.parametrize(
    "range_header",
    ["bytes=20-", "bytes=100-200", "bytes=-0", "bytes=5-2", "bytes=x", "bytes=", "bytes=1"],
)
def test_unsatisfiable_ranges(fclient, range_header):
    rv = get(fclient, Range=range_header)
    assert rv.status_code == 416
    assert rv.headers["Content-Range"] == "bytes */20"


@pytest.mark.parametrize("range_header", ["bytes=0-1,3-4", "items=0-1", "bytes", ""])
def test_ignored_ranges(fclient, range_header):
    # Several ranges (multipart/byteranges) and unknown units get the whole file.
    rv = get(fclient, Range=range_header)
    assert rv.status_code == 200 and rv.data == CONTENT


def test_range_on_empty_file_is_ignored(fclient):
    rv = get(fclient, "/file/empty.bin", Range="bytes=0-5")
    assert rv.status_code == 200 and rv.data == b""


def test_if_range(fclient):
    first = get(fclient)
    etag, lm = first.headers["ETag"], first.headers["Last-Modified"]
    assert get(fclient, Range="bytes=0-1", **{"If-Range": etag}).status_code == 206
    assert get(fclient, Range="bytes=0-1", **{"If-Range": lm}).status_code == 206
    for stale in ('"other"', f"W/{etag}", "Mon, 01 Jan 2001 00:00:00 GMT", "garbage"):
        rv = get(fclient, Range="bytes=0-1", **{"If-Range": stale})
        assert rv.status_code == 200 and rv.data == CONTENT, stale


def test_head(fclient):
    rv = fclient.head("/file/data.txt")
    assert rv.status_code == 200 and rv.data == b"" and rv.headers["Content-Length"] == "20"
    rv = fclient.head("/file/data.txt", headers={"Range": "bytes=2-3"})
    assert rv.status_code == 206 and rv.data == b"" and rv.headers["Content-Length"] == "2"


def test_unsatisfiable_range_closes_file(app, files, monkeypatch):
    opened = []
    real_open = open

    def spy(*args, **kwargs):
        f = real_open(*args, **kwargs)
        opened.append(f)
        return f

    import builtins

    monkeypatch.setattr(builtins, "open", spy)
    with app.test_request_context(headers={"Range": "bytes=99-"}):
        with pytest.raises(RequestedRangeNotSatisfiable):
            send_file(str(files / "data.txt"))
    assert opened and opened[0].closed


def test_x_sendfile(fapp, fclient, files):
    fapp.config["USE_X_SENDFILE"] = True
    rv = get(fclient, Range="bytes=0-1")
    # The front server sends the file (and handles ranges itself).
    assert rv.status_code == 200 and rv.data == b""
    assert rv.headers["X-Sendfile"] == str(files / "data.txt")
    assert rv.headers["Content-Length"] == "20"
    rv = get(fclient, **{"If-None-Match": rv.headers["ETag"]})
    assert rv.status_code == 304 and "X-Sendfile" not in rv.headers


def test_send_from_directory(fapp, fclient, files):
    rv = get(fclient, "/dir/page.html")
    assert rv.status_code == 200 and rv.data == b"<p>hi</p>" and rv.mimetype == "text/html"
    for bad in ("/dir/../data.txt", "/dir/missing.html", "/dir/%2e%2e/data.txt"):
        assert get(fclient, bad).status_code == 404, bad
    with fapp.test_request_context():
        with pytest.raises(NotFound):
            send_from_directory(files, ".")  # a directory is not a file
        with pytest.raises(NotFound):
            send_from_directory(files, "../etc/passwd")
        rv = send_from_directory(files, __import__("pathlib").Path("data.txt"), as_attachment=True)
        assert rv.headers["Content-Disposition"] == 'attachment; filename="data.txt"'
        rv.close()


def test_send_from_directory_relative_without_app(files, monkeypatch):
    monkeypatch.chdir(files)
    rv = send_from_directory("sub", "page.html")
    assert rv.get_data() == b"<p>hi</p>"


def test_wsgi_file_wrapper_used(fapp):
    wrapped = []

    class Wrapper:
        def __init__(self, f, blksize=8192):
            wrapped.append(f)
            self.f = f

        def __iter__(self):
            return iter(lambda: self.f.read(4), b"")

        def close(self):
            self.f.close()

    def run(**headers):
        env = EnvironBuilder(fapp, "/file/data.txt", headers=headers).get_environ()
        env["wsgi.file_wrapper"] = Wrapper
        captured = []
        body = fapp(env, lambda status, headers, exc_info=None: captured.append(status))
        try:
            data = b"".join(body)
        finally:
            body.close()
        return captured[0], data

    status, data = run()
    assert status == "200 OK" and data == CONTENT
    assert isinstance(wrapped[-1], io.BufferedReader) and wrapped[-1].closed
    status, data = run(Range="bytes=3-12")
    assert status.startswith("206") and data == CONTENT[3:13]
    assert not hasattr(wrapped[-1], "fileno")  # a range must not be sendfile()d whole


def test_real_server_uses_file_wrapper(fapp, monkeypatch):
    import http.client
    from wsgiref import simple_server
    from wsgiref.util import FileWrapper

    used = []

    class Recording(FileWrapper):
        def __init__(self, filelike, blksize=8192):
            used.append(type(filelike).__name__)
            super().__init__(filelike, blksize)

    class Quiet(simple_server.WSGIRequestHandler):
        def log_message(self, *args):
            pass

    monkeypatch.setattr(simple_server.ServerHandler, "wsgi_file_wrapper", Recording)
    server = simple_server.make_server("127.0.0.1", 0, fapp, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        results = []
        for headers in ({}, {"Range": "bytes=10-"}):
            conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
            conn.request("GET", "/file/data.txt", headers=headers)
            resp = conn.getresponse()
            results.append((resp.status, resp.read()))
            conn.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert results == [(200, CONTENT), (206, CONTENT[10:])]
    assert used == ["BufferedReader", "_RangeFile"]


def test_response_etag_and_date_helpers():
    rv = Response("body")
    assert rv.get_etag() == (None, None)
    rv.add_etag()
    tag, weak = rv.get_etag()
    assert len(tag) == 40 and weak is False
    rv.add_etag(weak=True)  # kept: there is one already
    assert rv.get_etag() == (tag, False)
    rv.add_etag(overwrite=True, weak=True)
    assert rv.headers["ETag"] == f'W/"{tag}"'
    rv.set_etag("x")
    assert rv.headers["ETag"] == '"x"'
    when = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    for attr, header in (
        ("last_modified", "Last-Modified"),
        ("expires", "Expires"),
        ("date", "Date"),
    ):
        assert getattr(rv, attr) is None
        setattr(rv, attr, when)
        assert rv.headers[header] == "Thu, 04 Mar 2021 05:06:07 GMT" and getattr(rv, attr) == when
        setattr(rv, attr, 0)
        assert rv.headers[header] == "Thu, 01 Jan 1970 00:00:00 GMT"
        setattr(rv, attr, "Fri, 05 Mar 2021 00:00:00 GMT")
        assert getattr(rv, attr) == datetime(2021, 3, 5, tzinfo=UTC)
        setattr(rv, attr, None)
        assert header not in rv.headers
    assert rv.accept_ranges is None
    rv.accept_ranges = "bytes"
    assert rv.headers["Accept-Ranges"] == "bytes" and rv.accept_ranges == "bytes"
    rv.accept_ranges = None
    assert "Accept-Ranges" not in rv.headers


def test_make_conditional_on_plain_responses(app):
    env = EnvironBuilder(app, headers={"Range": "bytes=2-4"}).get_environ()
    rv = Response("0123456789").make_conditional(env, accept_ranges="bytes", complete_length=10)
    assert (
        rv.status_code == 206
        and rv.get_data() == b"234"
        and rv.headers["Content-Range"] == "bytes 2-4/10"
    )
    # Without complete_length a range cannot be answered.
    rv = Response("0123456789").make_conditional(env, accept_ranges=True)
    assert rv.status_code == 200 and rv.headers["Accept-Ranges"] == "bytes"
    # A streamed body is cut as it is produced, str chunks included.
    rv = Response(iter(["01", b"", b"2345", "6789"])).make_conditional(
        env, accept_ranges=True, complete_length=10
    )
    assert rv.status_code == 206 and rv.get_data() == b"234"
    closed = []

    class Gen:
        def __iter__(self):
            return iter([b"0123456789"])

        def close(self):
            closed.append(True)

    rv = Response(Gen()).make_conditional(env, accept_ranges=True, complete_length=10)
    assert b"".join(rv.response) == b"234"
    rv.response.close()
    assert closed == [True]
    # A body that ends early just stops.
    rv = Response(iter([b"01"])).make_conditional(env, accept_ranges=True, complete_length=10)
    assert rv.get_data() == b""
    # The ETag of the response is what If-None-Match is compared with.
    env = EnvironBuilder(app, headers={"If-None-Match": '"v1"'}).get_environ()
    rv = Response("x")
    rv.set_etag("v1")
    assert rv.make_conditional(env).status_code == 304
    # A list body without Content-Length gets one.
    rv = Response(["ab", b"cd"])
    assert "Content-Length" not in rv.headers
    rv.make_conditional(EnvironBuilder(app).get_environ())
    assert rv.headers["Content-Length"] == "4"
    date = "Mon, 01 Jan 2001 00:00:00 GMT"
    rv = Response("x", headers={"Date": date}).make_conditional(EnvironBuilder(app).get_environ())
    assert rv.headers["Date"] == date
    # Other methods are left alone.
    env = EnvironBuilder(app, method="PUT", headers={"If-Match": '"nope"'}).get_environ()
    assert Response("x").make_conditional(env).status_code == 200


def test_make_conditional_with_request_object(app):
    with app.test_request_context(headers={"Range": "bytes=1-2"}):
        rv = Response("abcd").make_conditional(request, accept_ranges=True, complete_length=4)
        assert rv.get_data() == b"bc"


def test_range_file_without_seek(app):
    class Unseekable:
        def __init__(self, data):
            self.buf = io.BytesIO(data)
            self.closed = False

        def read(self, n=-1):
            return self.buf.read(min(n, 3) if n >= 0 else 3)

        def close(self):
            self.closed = True

    env = EnvironBuilder(app, headers={"Range": "bytes=4-8"}).get_environ()
    src = Unseekable(b"0123456789")
    rv = Response(src, direct_passthrough=True).make_conditional(
        env, accept_ranges=True, complete_length=10
    )
    body = rv.response
    assert list(body) == [b"456", b"78"]
    assert body.read() == b""
    body.close()
    assert src.closed
    # Skipping past a body shorter than announced ends cleanly.
    short = Unseekable(b"01")
    rv = Response(short, direct_passthrough=True).make_conditional(
        env, accept_ranges=True, complete_length=10
    )
    assert rv.response.read() == b""
    # read() without a size returns the rest of the range.
    rv = Response(io.BytesIO(b"0123456789"), direct_passthrough=True)
    rv.make_conditional(env, accept_ranges=True, complete_length=10)
    assert rv.response.read() == b"45678"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("My cool movie.mov", "My_cool_movie.mov"),
        ("../../../etc/passwd", "etc_passwd"),
        ("i contain cool \xfcml\xe4uts.txt", "i_contain_cool_umlauts.txt"),
        ("C:\\Windows\\system32\\evil.exe", "C_Windows_system32_evil.exe"),
        ("  spaced\tout \n name  ", "spaced_out_name"),
        ("...hidden", "hidden"),
        ("__init__.py", "init__.py"),
        ("résumé (final) [v2].pdf", "resume_final_v2.pdf"),
        ("✓✓✓", ""),
        ("../", ""),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("nul.tar.gz", "_nul.tar.gz"),
        ("lpt1", "_lpt1"),
        ("console.txt", "console.txt"),
        ("a/b\\c", "a_b_c"),
    ],
)
def test_secure_filename(name, expected):
    assert secure_filename(name) == expected


def test_url_for_with_an_argument_named_self(app):
    @app.route("/<self>")
    def index(self):
        return self

    with app.test_request_context():
        assert url_for("index", self="2") == "/2"
        assert app.url_for("index", self="3") == "/3"


def test_stream_with_context_in_an_async_view(app, client):
    # The context is pushed in the view's task and popped where the stream
    # is read (another contextvars Context); teardown runs once, after it.
    torn_down = []
    app.teardown_request(lambda exc: torn_down.append(exc))

    @app.route("/")
    async def index():
        erlen.session["test"] = "erlen"

        @erlen.stream_with_context
        def gen():
            yield erlen.session["test"]
            yield request.path

        return erlen.Response(gen())

    client.get("/").close()  # closed without reading the stream
    assert client.get("/").text == "erlen/"
    assert torn_down == [None, None]
    with client:
        assert client.get("/").text == "erlen/"
