"""The rest of the WSGI compat pieces: lint's checks, the werkzeug.wsgi helpers'
edge cases, the werkzeug.utils descriptors, the profiler's options and
run_with_reloader's parent loop (with its child and watcher stood in for).
"""

from __future__ import annotations

import gc
import io
import os
import signal
import subprocess
import sys
import typing as t
import warnings
from pathlib import Path

import pytest

from erlen.compat import _glue, utils
from erlen.compat import reloader as creloader
from erlen.compat import wsgi as cwsgi
from erlen.compat.lint import (
    ErrorStream,
    GuardedIterator,
    GuardedWrite,
    HTTPWarning,
    InputStream,
    LintMiddleware,
    WSGIWarning,
)
from erlen.compat.profiler import ProfilerMiddleware
from erlen.datastructures import Headers
from erlen.exceptions import RequestEntityTooLarge

Environ = dict[str, t.Any]
StartResponse = t.Callable[..., t.Any]


def _messages(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, (WSGIWarning, HTTPWarning))]


# -- lint: the watched streams ----------------------------------------------


def test_lint_input_stream_warns_about_bad_calls_and_closing() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stream = InputStream(io.BytesIO(b"ab\ncd\nef\n"))
        assert stream.read(3) == b"ab\n"
        assert stream.readline() == b"cd\n"
        assert _messages(caught) == []  # a size and at most one argument are fine
    # read(a, b) is refused by BytesIO itself; the warning comes first.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stream = InputStream(io.BytesIO(b"ef\ngh\n"))
        with pytest.raises(TypeError):
            stream.read(1, 2)
        with pytest.raises(TypeError):
            stream.readline(1, 2)
        assert stream.readlines() == [b"ef\n", b"gh\n"]
        assert list(InputStream(io.BytesIO(b"x\ny"))) == [b"x\n", b"y"]
        stream.close()
    messages = _messages(caught)
    assert any("read() takes one argument" in m for m in messages)
    assert any("readline() takes at most one argument" in m for m in messages)
    assert any("closed wsgi.input" in m for m in messages)


def test_lint_error_stream_takes_text_and_warns_about_closing() -> None:
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        errors = ErrorStream(out)
        errors.write("one\n")
        errors.writelines(["two\n", "three\n"])
        errors.flush()
        assert _messages(caught) == []
        with pytest.raises(TypeError):
            errors.write(t.cast(str, b"bytes"))
        errors.close()
    assert out.closed
    messages = _messages(caught)
    assert any("must be 'str', got 'bytes'" in m for m in messages)
    assert any("closed wsgi.errors" in m for m in messages)


def test_lint_guarded_write_takes_bytes_and_counts_them() -> None:
    written: list[bytes] = []
    chunks: list[int] = []
    write = GuardedWrite(written.append, chunks)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write(b"abc")
        assert _messages(caught) == []
        write(t.cast(bytes, "de"))
    assert written == [b"abc", "de"] and chunks == [3, 2]
    assert any("write()'s argument must be 'bytes'" in m for m in _messages(caught))


# -- lint: the body ---------------------------------------------------------


class _Body:
    def __init__(self, items: list[bytes]) -> None:
        self.items = items
        self.closed = False

    def __iter__(self) -> t.Iterator[bytes]:
        return iter(self.items)

    def close(self) -> None:
        self.closed = True


def _guarded(
    items: list[bytes],
    status: int | None,
    headers: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> tuple[GuardedIterator, _Body]:
    body = _Body(items)
    headers_set: list[t.Any] = [] if status is None else [status, Headers(list(headers))]
    return GuardedIterator(body, headers_set, []), body


def _drain(iterator: GuardedIterator) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        list(iterator)
        iterator.close()
    return _messages(caught)


def test_lint_body_closes_the_apps_iterable_and_is_quiet_when_right() -> None:
    iterator, body = _guarded([b"ab", b"c"], 200, [("Content-Length", "3")])
    assert _drain(iterator) == []
    assert body.closed


def test_lint_body_before_start_response_and_after_close() -> None:
    iterator, _ = _guarded([b"a", b"b"], None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert next(iterator) == b"a"
        iterator.close()  # no headers: nothing more to check
        assert next(iterator) == b"b"
    messages = _messages(caught)
    assert any("before calling start_response" in m for m in messages)
    assert any("iterated after it was closed" in m for m in messages)
    assert not any("Content-Length" in m for m in messages)


@pytest.mark.parametrize("status", [101, 204])
def test_lint_body_on_1xx_and_204_must_be_empty(status: int) -> None:
    messages = _drain(_guarded([b"x"], status, [("Content-Length", "1")])[0])
    assert f"A {status} response must not send Content-Length." in messages
    assert f"A {status} response must not have a body." in messages
    assert _drain(_guarded([], status)[0]) == []


def test_lint_304_without_a_body_warns_only_about_headers() -> None:
    messages = _drain(_guarded([], 304, [("ETag", '"x"'), ("Content-Type", "text/plain")])[0])
    assert messages == ["A 304 response should not send 'Content-Type'."]


def test_lint_warns_when_the_server_never_closes_the_body() -> None:
    iterator, _ = _guarded([b"x"], 200)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del iterator
        gc.collect()
    assert "The server did not close the app's body." in _messages(caught)


def test_lint_unclosed_body_warning_that_cannot_be_given_is_dropped() -> None:
    iterator, _ = _guarded([b"x"], 200)
    # At interpreter exit warn() may fail; __del__ must not raise then.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        iterator.__del__()
    iterator.closed = True


# -- lint: environ and start_response ---------------------------------------


def _check(func: t.Callable[..., t.Any], *args: t.Any) -> tuple[t.Any, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*args)
    return result, _messages(caught)


def test_lint_checks_the_environ() -> None:
    lint = LintMiddleware(lambda env, sr: [])
    assert _check(lint.check_environ, [("REQUEST_METHOD", "GET")])[1] == [
        "The environ is not a dict."
    ]
    good = _glue.create_environ("/")
    assert _check(lint.check_environ, good)[1] == []
    bad = dict(good, SCRIPT_NAME="app/", PATH_INFO="x")
    del bad["SERVER_PORT"]
    bad["wsgi.version"] = (1, 1)
    assert _check(lint.check_environ, bad)[1] == [
        "The environ lacks SERVER_PORT.",
        "The environ's wsgi.version is not (1, 0).",
        "SCRIPT_NAME 'app/' does not start with '/'.",
        "SCRIPT_NAME 'app/' ends with '/'.",
        "PATH_INFO 'x' does not start with '/'.",
    ]


def test_lint_checks_the_status_and_the_header_list() -> None:
    lint = LintMiddleware(lambda env, sr: [])
    (code, headers), messages = _check(lint.check_start_response, "OK", (("A", "1"),), None)
    assert code == 0 and headers["A"] == "1"
    assert messages == [
        "The status 'OK' does not start with a 3-digit code.",
        "The status 'OK' has no reason phrase.",
        "The headers are not a list.",
    ]
    (code, _), messages = _check(lint.check_start_response, "099 Low", [], None)
    assert code == 99 and messages == ["The status code 99 is below 100."]
    assert _check(lint.check_start_response, "200 OK", [], None)[1] == []


def test_lint_middleware_passes_the_app_through_with_watched_streams() -> None:
    seen: dict[str, t.Any] = {}

    def app(env: Environ, start_response: StartResponse) -> list[bytes]:
        seen["input"], seen["errors"] = env["wsgi.input"], env["wsgi.errors"]
        write = start_response("200 OK", [("Content-Length", "2")])
        write(b"a")
        return [b"b"]

    sent: list[bytes] = []
    body = LintMiddleware(app)(_glue.create_environ("/"), lambda s, h, *e: sent.append)
    assert isinstance(seen["input"], InputStream) and isinstance(seen["errors"], ErrorStream)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert list(body) == [b"b"]
        t.cast(t.Any, body).close()
    # What write() sent counts toward Content-Length.
    assert sent == [b"a"] and _messages(caught) == []


# -- werkzeug.wsgi helpers --------------------------------------------------


def test_host_from_the_server_address_or_nothing() -> None:
    assert cwsgi.sansio_get_host("http", None) == ""
    assert cwsgi.sansio_get_host("http", None, ("example.com", None)) == "example.com"
    assert cwsgi.sansio_get_host("http", None, ("example.com", 80)) == "example.com"
    assert cwsgi.sansio_get_host("http", None, ("example.com", 8080)) == "example.com:8080"
    # A bare IPv6 address keeps what looks like a port.
    assert cwsgi.sansio_get_host("http", "fe80::80") == "fe80::80"
    env = {"wsgi.url_scheme": "http", "SERVER_NAME": "srv", "SERVER_PORT": ""}
    assert cwsgi.get_host(env) == "srv"


def test_current_url_parts() -> None:
    url = cwsgi.sansio_get_current_url
    assert url("http", "h") == "http://h/"
    assert url("http", "h", "") == "http://h/"
    assert url("http", "h", "/", "/a b") == "http://h/a%20b"
    assert url("http", "h", "/root/", "/p", b"x=\xe4") == "http://h/root/p?x=\xe4"
    assert url("http", "h", "/root", "/p", "q=a b&c") == "http://h/root/p?q=a%20b&c"
    assert url("http", "h", "", "p", "") == "http://h/p"
    env = _glue.create_environ("/x", base_url="http://example.com/app", query_string="q=1")
    assert cwsgi.get_current_url(env, strip_querystring=True) == "http://example.com/app/x"


@pytest.mark.parametrize(
    ("length", "coding", "expected"),
    [
        (None, None, None),
        ("12", None, 12),
        (" 7 ", "gzip", 7),
        ("-1", None, 0),
        ("١٢", None, 0),  # non-ASCII digits are not a length
        ("5", "gzip, Chunked", None),
    ],
)
def test_content_length(length: str | None, coding: str | None, expected: int | None) -> None:
    assert cwsgi.sansio_get_content_length(length, coding) == expected


def _post(data: bytes, **extra: t.Any) -> Environ:
    env = _glue.create_environ("/", method="POST", data=data)
    env.update(extra)
    return env


def test_input_stream_limits() -> None:
    env = _post(b"abcdef")
    env["CONTENT_LENGTH"] = "6"
    with pytest.raises(RequestEntityTooLarge):
        cwsgi.get_input_stream(env, max_content_length=5)
    assert cwsgi.get_input_stream(env, max_content_length=6).read() == b"abcdef"

    # No length, but the server ends the stream at the body's end.
    terminated = _post(b"abcdef", **{"wsgi.input_terminated": True})
    del terminated["CONTENT_LENGTH"]
    raw = terminated["wsgi.input"]
    assert cwsgi.get_input_stream(terminated) is raw
    assert cwsgi.get_input_stream(terminated, max_content_length=10).read() == b"abcdef"
    raw.seek(0)
    with pytest.raises(RequestEntityTooLarge):
        cwsgi.get_input_stream(terminated, max_content_length=4).read()

    unknown = _post(b"abc")
    del unknown["CONTENT_LENGTH"]
    assert cwsgi.get_input_stream(unknown, safe_fallback=False) is unknown["wsgi.input"]


def test_limited_stream_reads_tells_and_exhausts() -> None:
    stream = cwsgi.LimitedStream(io.BytesIO(b"abcdefgh"), 5)
    assert stream.readable() and not stream.is_exhausted
    assert stream.read(2) == b"ab" and stream.tell() == 2
    assert stream.exhaust() == b""
    assert stream.is_exhausted and stream.tell() == 5
    assert stream.read(10) == b""
    # A maximum that the body stays within: no error at the end.
    within = cwsgi.LimitedStream(io.BytesIO(b"abc"), 5, is_max=True)
    assert within.read() == b"abc" and within.read(1) == b""


class _Plain:
    """A file-like object with read() only."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, size: int) -> bytes:
        return self._data.read(size)


def test_file_wrapper_on_a_real_file_and_a_bare_reader() -> None:
    file = io.BytesIO(b"abcdef")
    wrapper = cwsgi.FileWrapper(file, 4)
    assert wrapper.seekable()
    wrapper.seek(2)
    assert wrapper.tell() == 2
    assert list(wrapper) == [b"cdef"]
    wrapper.close()
    assert file.closed

    bare = cwsgi.FileWrapper(t.cast(t.IO[bytes], _Plain(b"xyz")), 2)
    assert not bare.seekable() and bare.tell() is None
    bare.close()  # nothing to close
    assert list(bare) == [b"xy", b"z"]

    class SeekOnly(_Plain):
        def seek(self, offset: int) -> None:
            self._data.seek(offset)

    assert cwsgi.FileWrapper(t.cast(t.IO[bytes], SeekOnly(b""))).seekable()


def test_closing_iterator_is_its_own_iterator() -> None:
    closing = cwsgi.ClosingIterator([b"a", b"b"])
    assert iter(closing) is closing
    assert list(closing) == [b"a", b"b"]


# -- werkzeug.utils ---------------------------------------------------------


def test_import_string_error_repr() -> None:
    with pytest.raises(utils.ImportStringError) as exc_info:
        utils.import_string("os.no_such_name")
    assert repr(exc_info.value).startswith("<ImportStringError('os.no_such_name', ")


def test_append_slash_redirect_without_a_query() -> None:
    rv = utils.append_slash_redirect({"PATH_INFO": "/docs"}, 301)
    assert (rv.status_code, rv.headers["Location"]) == (301, "docs/")
    assert utils.append_slash_redirect({"PATH_INFO": "/"}).headers["Location"] == "./"


def test_find_modules_packages_and_recursion() -> None:
    with pytest.raises(ValueError, match="is not a package"):
        list(utils.find_modules("erlen.compat.utils"))
    flat = set(utils.find_modules("erlen"))
    assert "erlen.app" in flat and "erlen.compat" not in flat
    assert "erlen.compat" in set(utils.find_modules("erlen", include_packages=True))
    deep = set(utils.find_modules("erlen", recursive=True))
    assert "erlen.compat.utils" in deep and "erlen.compat" not in deep


def test_dict_properties() -> None:
    class Thing:
        def __init__(self) -> None:
            self.environ: dict[str, t.Any] = {}
            self.headers: dict[str, str] = {}

        writable = utils.environ_property("X", read_only=False, doc="Writable.")
        fixed = utils.environ_property("Y", "none")
        size = utils.header_property("Size", 0, load_func=int, dump_func=str)

    assert isinstance(Thing.fixed, utils.environ_property)
    assert repr(Thing.size) == "<header_property Size>"
    assert Thing.writable.__doc__ == "Writable."
    thing = Thing()
    assert thing.fixed == "none" and thing.size == 0
    thing.size = 12
    assert thing.headers == {"Size": "12"} and thing.size == 12
    del thing.size
    del thing.size  # absent: nothing to do
    assert thing.headers == {}
    thing.writable = "w"
    assert thing.environ == {"X": "w"}
    with pytest.raises(AttributeError, match="read only"):
        del thing.fixed


# -- ProfilerMiddleware -----------------------------------------------------


def test_profiler_closes_the_body_names_files_by_callable_and_can_stay_quiet(
    tmp_path: Path,
) -> None:
    closed: list[bool] = []

    class Body(list[bytes]):
        def close(self) -> None:
            closed.append(True)

    def app(env: Environ, start_response: StartResponse) -> Body:
        start_response("200 OK", [])
        return Body([b"a", b"b"])

    profiled = ProfilerMiddleware(
        app, stream=None, profile_dir=str(tmp_path), filename_format=lambda env: "req.prof"
    )
    assert profiled(_glue.create_environ("/"), lambda *a: None) == [b"a", b"b"]
    assert closed == [True]
    assert os.listdir(tmp_path) == ["req.prof"]

    out = io.StringIO()
    quiet = ProfilerMiddleware(app, stream=out)
    assert quiet(_glue.create_environ("/q"), lambda *a: None) == [b"a", b"b"]
    assert "PATH: '/q'" in out.getvalue()
    assert os.listdir(tmp_path) == ["req.prof"]  # no profile_dir: nothing written


# -- run_with_reloader ------------------------------------------------------


def test_run_with_reloader_in_the_child_just_calls_the_function(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from erlen.reloader import RUN_MAIN_ENV

    monkeypatch.setenv(RUN_MAIN_ENV, "true")
    calls: list[int] = []
    creloader.run_with_reloader(lambda: calls.append(1))
    assert calls == [1]


class _FakeChild:
    started: t.ClassVar[list[_FakeChild]] = []

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.args, self.env = args, env
        self.stopped = False
        _FakeChild.started.append(self)

    def poll(self) -> int | None:
        return 0 if self.stopped else None

    def terminate(self) -> None:
        self.stopped = True

    def wait(self, timeout: float | None = None) -> int:
        return 0


def test_run_with_reloader_restarts_per_change_and_stops_the_last_child(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import watchfiles

    import erlen.reloader
    from erlen.reloader import RUN_MAIN_ENV

    monkeypatch.delenv(RUN_MAIN_ENV, raising=False)
    monkeypatch.setattr(erlen.reloader, "_child_args", lambda: ["child", "--x"])
    monkeypatch.setattr(subprocess, "Popen", _FakeChild)
    _FakeChild.started = []
    changes = [{(watchfiles.Change.modified, "/b.py"), (watchfiles.Change.added, "/a.py")}]
    # The watcher ends (as when its stop event is set): the loop ends cleanly.
    monkeypatch.setattr(watchfiles, "watch", lambda *a, **k: iter(changes))
    creloader.run_with_reloader(lambda: None, extra_files=[str(tmp_path)])
    first, second = _FakeChild.started
    assert first.args == ["child", "--x"] and first.env[RUN_MAIN_ENV] == "true"
    assert first.stopped and second.stopped
    out = capsys.readouterr().out
    assert "Restarting with watchfiles" in out and "Detected change in '/a.py'" in out


def _child(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)


@pytest.mark.skipif(sys.platform == "win32", reason="ignoring SIGTERM is POSIX")
def test_stop_leaves_an_ended_child_and_kills_one_that_ignores_terminate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ended = _child("pass")
    ended.communicate(timeout=30)
    creloader._stop(ended)  # already gone: nothing to signal
    assert ended.returncode == 0

    stubborn = _child(
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n"
    )
    monkeypatch.setattr(creloader, "_STOP_TIMEOUT", 0.5)
    try:
        # Once it says so, SIGTERM is ignored (bounded: it exits within 30 s).
        assert t.cast(t.IO[bytes], stubborn.stdout).readline() == b"ready\n"
        creloader._stop(stubborn)
        assert stubborn.returncode == -signal.SIGKILL
    finally:
        if stubborn.poll() is None:
            stubborn.kill()
            stubborn.wait()
        t.cast(t.IO[bytes], stubborn.stdout).close()


def test_lint_checks_each_header_and_the_exc_info() -> None:
    lint = LintMiddleware(lambda env, sr: [])
    headers: list[t.Any] = [
        ["List", "1"],
        ("Three", "a", "b"),
        ("Number", 1),
        ("Status", "200"),
        ("X-Split", "a\r\nb"),
        ("ETag", 'w/"v"'),
    ]
    # Regression: the line break was warned about, then Headers raised ValueError on it.
    (_, kept), messages = _check(lint.check_start_response, "200 OK", headers, ["not a tuple"])
    assert messages == [
        "The header ['List', '1'] is not a (name, value) tuple.",
        "The header ('Three', 'a', 'b') is not a (name, value) tuple.",
        "The header ('Number', 1) is not two 'str'.",
        "A 'Status' header is not allowed in WSGI.",
        "The header 'X-Split' has a line break in its value.",
        "exc_info is not a tuple.",
        "A weak ETag starts with 'W/', upper case.",
    ]
    # Only the well-formed pairs are checked further.
    assert "List" not in kept and "X-Split" not in kept and kept["ETag"] == 'w/"v"'
    assert _check(lint.check_headers, Headers([("ETag", 'W/"v"')]))[1] == []


def test_lint_checks_how_the_app_and_start_response_are_called() -> None:
    def app(env: Environ, start_response: StartResponse) -> bytes:
        start_response("200 OK", [], None, "extra")
        start_response("200 OK", [], exc_info=None)
        return b"one object"

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lint = LintMiddleware(t.cast(t.Any, app))
        body = lint(_glue.create_environ("/"), lambda *a, **k: None, "extra", key=1)
        t.cast(t.Any, body).close()
    assert _messages(caught) == [
        "A WSGI app takes two arguments.",
        "A WSGI app is called with positional arguments only.",
        "start_response takes two or three arguments.",
        "start_response takes no keyword arguments.",
        "The app returned a bytes or str object as its body; it is sent one item (byte) at a"
        " time. Return a list of bytes.",
    ]


# -- werkzeug.utils.cached_property ------------------------------------------------


class _Cached:
    def __init__(self) -> None:
        self.calls = 0

    @utils.cached_property
    def value(self) -> int:
        """The value."""
        self.calls += 1
        return self.calls * 10


class _SlottedCached:
    __slots__ = ("_cache_value", "calls")

    def __init__(self) -> None:
        self.calls = 0

    @utils.cached_property
    def value(self) -> int:
        self.calls += 1
        return self.calls * 10


@pytest.mark.parametrize("cls", [_Cached, _SlottedCached])
def test_cached_property_computes_once_sets_and_clears(cls: type[t.Any]) -> None:
    obj = cls()
    assert (obj.value, obj.value, obj.calls) == (10, 10, 1)
    obj.value = 5  # assigning stores the value
    assert (obj.value, obj.calls) == (5, 1)
    del obj.value  # deleting drops it: the next access computes again
    assert (obj.value, obj.calls) == (20, 2)


def test_cached_property_delete_before_computed_is_a_key_error() -> None:
    # Werkzeug's raises KeyError here, and extensions catch that: Flask-Dance
    # drops its OAuth session in a teardown with `except KeyError`.
    obj = _Cached()
    with pytest.raises(KeyError):
        del obj.value
    assert obj.calls == 0


def test_cached_property_is_a_property_with_name_and_doc() -> None:
    prop = _Cached.__dict__["value"]
    assert _Cached.value is prop
    assert isinstance(prop, property)
    assert (prop.__name__, prop.__doc__, prop.slot_name) == ("value", "The value.", "_cache_value")
    named = utils.cached_property(lambda self: 1, name="other")
    assert (named.__name__, named.slot_name) == ("other", "_cache_other")
