"""erlen.http: header, cookie, date, ETag and URL helpers.

Where Erlen follows Werkzeug's behavior, the tests compare the two directly
(Werkzeug is a dev-only dependency, used here as an oracle, never by Erlen).
"""

from __future__ import annotations

import datetime as dt
import http as stdlib_http
import time
import typing as t
import urllib.parse

import pytest
import werkzeug.datastructures as wds
import werkzeug.http as wh
import werkzeug.sansio.http as wsh
import werkzeug.urls as wurls
from hypothesis import given, settings
from hypothesis import strategies as st

from erlen import datastructures as ds
from erlen import http as eh

UTC = dt.UTC

# --------------------------------------------------------------------------
# Status codes
# --------------------------------------------------------------------------


def test_status_codes_cover_stdlib() -> None:
    for status in stdlib_http.HTTPStatus:
        assert status.value in eh.HTTP_STATUS_CODES


@pytest.mark.parametrize(
    ("code", "phrase"),
    [
        (200, "OK"),
        (404, "Not Found"),
        (418, "I'm a teapot"),
        (421, "Misdirected Request"),
        (425, "Too Early"),
        (451, "Unavailable For Legal Reasons"),
        (507, "Insufficient Storage"),
        (508, "Loop Detected"),
        (510, "Not Extended"),
        (511, "Network Authentication Required"),
    ],
)
def test_status_phrases(code: int, phrase: str) -> None:
    assert eh.HTTP_STATUS_CODES[code] == phrase


def _import_in_fresh_interpreter(code: str) -> None:
    """Run ``code`` with ``erlen`` as a bare namespace (no ``__init__``), so
    that only the modules under test decide the import order."""
    import subprocess
    import sys
    from pathlib import Path

    # erlen.http is a package: the erlen package is its parent's parent.
    package_dir = str(Path(eh.__file__).parent.parent)
    prelude = (
        "import sys, types; "
        f"pkg = types.ModuleType('erlen'); pkg.__path__ = [{package_dir!r}]; "
        "sys.modules['erlen'] = pkg; "
    )
    subprocess.run([sys.executable, "-c", prelude + code], check=True)


def test_importing_http_alone_does_not_load_datastructures() -> None:
    # exceptions.py imports http at module level; http must not pull in
    # datastructures (which imports exceptions) or the import would cycle.
    _import_in_fresh_interpreter(
        "import erlen.http; "
        "assert 'erlen.datastructures' not in sys.modules; "
        "assert 'erlen.exceptions' not in sys.modules"
    )


def test_conditional_imports_after_http_in_any_order() -> None:
    # erlen.http.conditional needs erlen.exceptions, which needs erlen.http:
    # the package must not import it, and importing it first must work.
    _import_in_fresh_interpreter(
        "import erlen.http.conditional as c, erlen.http as h; assert h.parse_date is c.parse_date"
    )


@pytest.mark.parametrize("first", ["erlen.http", "erlen.datastructures", "erlen.exceptions"])
def test_any_import_order_works(first: str) -> None:
    _import_in_fresh_interpreter(
        f"import {first}; import erlen.datastructures as d, erlen.http as h; "
        "assert h.parse_cookie('a=b')['a'] == 'b'; d.MultiDict()"
    )


# --------------------------------------------------------------------------
# Header value quoting
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("token", "token"),
        ("", '""'),
        ("with space", '"with space"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("text/html", '"text/html"'),
        (42, "42"),
        ("a;b", '"a;b"'),
    ],
)
def test_quote_header_value(value: object, expected: str) -> None:
    assert eh.quote_header_value(value) == expected
    assert eh.quote_header_value(value) == wh.quote_header_value(value)


def test_quote_header_value_without_token() -> None:
    assert eh.quote_header_value("abc", allow_token=False) == '"abc"'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"abc"', "abc"),
        ('"a\\"b"', 'a"b'),
        ('"a\\\\b"', "a\\b"),
        ('"a\\xb"', "axb"),
        ("abc", "abc"),
        ('"', '"'),
        ('""', ""),
        ('"abc', '"abc'),
    ],
)
def test_unquote_header_value(value: str, expected: str) -> None:
    assert eh.unquote_header_value(value) == expected
    assert eh.unquote_header_value(value) == wh.unquote_header_value(value)


@given(st.text())
def test_quote_unquote_roundtrip(value: str) -> None:
    assert eh.unquote_header_value(eh.quote_header_value(value)) == value


@pytest.mark.parametrize(
    ("header", "options", "expected"),
    [
        ("text/html", {"charset": "utf-8"}, "text/html; charset=utf-8"),
        ("attachment", {"filename": "a b.txt"}, 'attachment; filename="a b.txt"'),
        ("x", {"skip": None, "k": "v"}, "x; k=v"),
        (None, {"a": "1", "b": "2"}, "a=1; b=2"),
        ("attachment", {"filename*": "UTF-8''%E2%82%AC"}, "attachment; filename*=UTF-8''%E2%82%AC"),
        ("x", {}, "x"),
    ],
)
def test_dump_options_header(
    header: str | None, options: dict[str, str | None], expected: str
) -> None:
    assert eh.dump_options_header(header, options) == expected
    assert eh.dump_options_header(header, options) == wh.dump_options_header(header, options)


@pytest.mark.parametrize(
    "value",
    [
        ["a", "b c", ""],
        {"a": "b", "c": "d e", "f": None, "g*": "UTF-8''x"},
        {},
        [],
    ],
)
def test_dump_header(value: object) -> None:
    assert eh.dump_header(value) == wh.dump_header(value)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Structured header parsing
# --------------------------------------------------------------------------

OPTIONS_CASES = [
    None,
    "",
    "   ",
    "text/html",
    "text/html; charset=utf-8",
    'text/html; charset="utf-8"',
    "TEXT/HTML; CHARSET=UTF-8",
    "text/plain;charset=utf-8;format=flowed",
    "text/plain ; charset = utf-8",
    'form-data; name="file"; filename="a b.txt"',
    'form-data; name="file"; filename="C:\\\\path\\\\a.txt"',
    'form-data; name="x"; filename="say \\"hi\\".txt"',
    'form-data; name="x"; filename="say %22hi%22.txt"',
    "attachment; filename*=UTF-8''%E2%82%AC%20rates.txt",
    "attachment; filename*=utf-8'en'%C3%A9t%C3%A9.txt",
    "attachment; filename*=iso-8859-1''%E9t%E9.txt",
    "attachment; filename*=koi8-r''%C3%A9",
    "attachment; filename*=''plain",
    "attachment; filename*=\"UTF-8''quoted\"",
    "attachment; filename=fallback.txt; filename*=UTF-8''real.txt",
    "attachment; filename*0=a; filename*1=b; filename*2=c",
    "attachment; filename*0*=UTF-8''%E2%82%AC; filename*1=x; filename*2*=%C3%A9",
    "attachment; filename=x; filename*0=a; filename*1=b",
    "attachment; filename*0=a; filename=plain",
    "a; b",
    "a; =b",
    'a; "b"=c',
    "a; b=",
    "a; b=@c; d=e",
    'a; b="unterminated; c=d',
    "a; b=c d; e=f",
    "a;;;b=c",
    "; b=c",
    "a; *=x",
    "a; b*=x",
    "a; k=v; K=w",
    "a; b*c=d",
    "a; b**=d",
    "a; b=c;",
]


@pytest.mark.parametrize("value", OPTIONS_CASES)
def test_parse_options_header_matches_werkzeug(value: str | None) -> None:
    assert eh.parse_options_header(value) == wh.parse_options_header(value)


def test_parse_options_header_examples() -> None:
    assert eh.parse_options_header('text/html; charset="utf-8"') == (
        "text/html",
        {"charset": "utf-8"},
    )
    assert eh.parse_options_header("attachment; filename*=UTF-8''%E2%82%AC") == (
        "attachment",
        {"filename": "\u20ac"},
    )
    assert eh.parse_options_header("a; b*0=x; b*1=y") == ("a", {"b": "xy"})
    assert eh.parse_options_header(None) == ("", {})


_header_alphabet = st.sampled_from(
    list("abAB=;,\"\\ \t%*'/09-_.\xe9")
    + ["%22", "UTF-8''", "*0", "*1*", "q=0.5", "filename*=", "name=", "W/"]
)
_header_text = st.lists(_header_alphabet, max_size=25).map("".join)


@settings(max_examples=500)
@given(_header_text)
def test_parse_options_header_fuzz_matches_werkzeug(value: str) -> None:
    assert eh.parse_options_header(value) == wh.parse_options_header(value)


@settings(max_examples=500)
@given(_header_text)
def test_parse_list_and_dict_header_fuzz_match_werkzeug(value: str) -> None:
    assert eh.parse_list_header(value) == wh.parse_list_header(value)
    assert eh.parse_dict_header(value) == wh.parse_dict_header(value)


@given(st.text())
def test_parsers_never_raise(value: str) -> None:
    eh.parse_options_header(value)
    eh.parse_list_header(value)
    eh.parse_dict_header(value)
    eh.parse_accept_header(value, ds.MIMEAccept)
    eh.parse_etags(value)
    eh.parse_cookie(value)
    eh.parse_date(value)
    ds.Authorization.from_header(value)
    ds.WWWAuthenticate.from_header(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a, b, c", ["a", "b", "c"]),
        ('token, "quoted value"', ["token", "quoted value"]),
        ('"a, b", c', ["a, b", "c"]),
        ('a="b, c", d', ['a="b, c"', "d"]),
        ("a,,b, ,", ["a", "b"]),
        ('"unterminated, x', []),
        ('"esc\\"aped", x', ['esc"aped', "x"]),
        ("", []),
    ],
)
def test_parse_list_header(value: str, expected: list[str]) -> None:
    assert eh.parse_list_header(value) == expected
    assert wh.parse_list_header(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('a=b, c="d, e", f', {"a": "b", "c": "d, e", "f": None}),
        ("=x, k=v", {"k": "v"}),
        ("key*=UTF-8''%E2%82%AC", {"key": "\u20ac"}),
        ("key*=unknown''%E2", {"key": "%E2"}),
        ("a = b", {"a": "b"}),
        ("", {}),
    ],
)
def test_parse_dict_header(value: str, expected: dict[str, str | None]) -> None:
    assert eh.parse_dict_header(value) == expected
    assert wh.parse_dict_header(value) == expected


# --------------------------------------------------------------------------
# Accept headers
# --------------------------------------------------------------------------


def test_parse_accept_header_basic() -> None:
    accept = eh.parse_accept_header("text/html, application/json;q=0.5, */*;q=0.1")
    assert type(accept) is ds.Accept
    assert accept.provided
    assert list(accept) == [("text/html", 1), ("application/json", 0.5), ("*/*", 0.1)]


def test_parse_accept_header_missing() -> None:
    for value in (None, ""):
        accept = eh.parse_accept_header(value, ds.MIMEAccept)
        assert type(accept) is ds.MIMEAccept
        assert not accept.provided
        assert list(accept) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a;q=0.5", [("a", 0.5)]),
        ("a;q=1.0", [("a", 1.0)]),
        ("a;q=.5", [("a", 0.5)]),
        ("a;q=1.", [("a", 1.0)]),
        ("a;q=2", [("a", 1.0)]),  # clamped
        ("a;q=-1", [("a", 0.0)]),  # clamped
        ("a;q=abc, b", [("b", 1.0)]),  # invalid q: item skipped
        ("a;q=inf, b;q=nan, c;q=1e3, d", [("d", 1.0)]),
        # An empty parameter is not a parameter (as in Werkzeug): default q.
        ("a;q=, b", [("a", 1.0), ("b", 1.0)]),
        ('a;q="0.5"', [("a", 0.5)]),
        ("text/html;level=1;q=0.7", [("text/html; level=1", 0.7)]),
        (";q=0.5, a", [("a", 1.0)]),
    ],
)
def test_parse_accept_header_quality(value: str, expected: list[tuple[str, float]]) -> None:
    assert list(eh.parse_accept_header(value)) == expected


def test_parse_accept_header_sorts_by_quality_stably() -> None:
    accept = eh.parse_accept_header("a;q=0.5, b, c;q=0.5, d, */*;q=0.9")
    assert list(accept.values()) == ["b", "d", "*/*", "a", "c"]


@pytest.mark.parametrize(
    "value",
    [
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
        "application/json",
        "text/*;q=0.3, text/html;q=0.7, text/html;level=1, text/html;level=2;q=0.4, */*;q=0.5",
        "*/*",
        "image/*, text/plain;q=0",
    ],
)
def test_parse_accept_header_same_entries_as_werkzeug(value: str) -> None:
    ours = eh.parse_accept_header(value, ds.MIMEAccept)
    theirs = wh.parse_accept_header(value, wds.MIMEAccept)
    assert sorted(ours) == sorted(theirs)


# --------------------------------------------------------------------------
# ETags
# --------------------------------------------------------------------------


def test_quote_etag() -> None:
    assert eh.quote_etag("abc") == '"abc"'
    assert eh.quote_etag("abc", weak=True) == 'W/"abc"'

    with pytest.raises(ValueError, match="double quote"):
        eh.quote_etag('a"b')


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"abc"', ("abc", False)),
        ('W/"abc"', ("abc", True)),
        ('w/"abc"', ("abc", True)),
        ("abc", ("abc", False)),
        ("W/abc", ("abc", True)),
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_unquote_etag(value: str | None, expected: tuple[str | None, bool | None]) -> None:
    assert eh.unquote_etag(value) == expected
    assert wh.unquote_etag(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        '"a", "b", W/"c"',
        'W/"a",W/"b"',
        '"a" , garbage, "b"',
        'x"y, "z"',
        "unquoted, another",
        '"a",',
        '"a" "b", "c"',
        ", ,",
        '"unterminated',
    ],
)
def test_parse_etags_matches_werkzeug(value: str) -> None:
    ours = eh.parse_etags(value)
    theirs = wh.parse_etags(value)
    assert ours.as_set(include_weak=True) == theirs.as_set(include_weak=True)
    assert ours.as_set() == theirs.as_set()


def test_parse_etags_star_and_empty() -> None:
    assert eh.parse_etags("*").star_tag
    assert eh.parse_etags(" * ").star_tag
    assert not eh.parse_etags(None)
    assert not eh.parse_etags("")
    tags = eh.parse_etags('"", W/""')
    assert tags.is_strong("") and tags.is_weak("")


def test_generate_etag() -> None:
    assert eh.generate_etag(b"hello") == wh.generate_etag(b"hello")
    assert len(eh.generate_etag(b"")) == 40


# --------------------------------------------------------------------------
# Authorization wrappers
# --------------------------------------------------------------------------


def test_parse_authorization_header() -> None:
    auth = eh.parse_authorization_header("Basic dXNlcjpwYXNz")
    assert auth is not None and auth.username == "user" and auth.password == "pass"
    assert eh.parse_authorization_header(None) is None


def test_parse_www_authenticate_header() -> None:
    challenge = eh.parse_www_authenticate_header('Basic realm="x"')
    assert challenge is not None and challenge.type == "basic"
    assert challenge.realm == "x"
    assert eh.parse_www_authenticate_header("") is None


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------


def test_http_date_examples() -> None:
    assert eh.http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert eh.http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert eh.http_date(784111777.9) == "Sun, 06 Nov 1994 08:49:37 GMT"


def test_http_date_datetime_kinds() -> None:
    naive = dt.datetime(1994, 11, 6, 8, 49, 37)
    aware = dt.datetime(1994, 11, 6, 10, 49, 37, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    expected = "Sun, 06 Nov 1994 08:49:37 GMT"
    assert eh.http_date(naive) == expected
    assert eh.http_date(aware) == expected
    assert eh.http_date(naive.replace(tzinfo=UTC)) == expected
    assert eh.http_date(dt.date(1994, 11, 6)) == "Sun, 06 Nov 1994 00:00:00 GMT"
    assert eh.http_date(time.gmtime(784111777)) == expected
    assert eh.http_date(dt.datetime(999, 1, 1, tzinfo=UTC)).endswith(" 0999 00:00:00 GMT")


def test_http_date_now() -> None:
    before = int(time.time())
    parsed = eh.parse_date(eh.http_date())
    assert parsed is not None
    assert before - 1 <= parsed.timestamp() <= time.time() + 1


@given(st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9999, 12, 31)))
def test_http_date_matches_werkzeug_and_roundtrips(value: dt.datetime) -> None:
    value = value.replace(microsecond=0)
    formatted = eh.http_date(value)
    assert formatted == wh.http_date(value)
    assert eh.parse_date(formatted) == value.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # RFC 850
        "Sun Nov  6 08:49:37 1994",  # asctime
        "  Sun, 06 Nov 1994 08:49:37 GMT  ",
        "Sun, 06 Nov 1994 10:49:37 +0200",
        "Sun, 06 Nov 1994 08:49:37 -0000",
    ],
)
def test_parse_date_formats(value: str) -> None:
    parsed = eh.parse_date(value)
    assert parsed == dt.datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert parsed is not None and parsed.tzinfo == UTC


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "06 Nov",
        "Sun, 06 Nov 99999 08:49:37 GMT",
    ],
)
def test_parse_date_invalid(value: str | None) -> None:
    assert eh.parse_date(value) is None


# --------------------------------------------------------------------------
# Cookies: parsing
# --------------------------------------------------------------------------


def test_parse_cookie_basic() -> None:
    cookies = eh.parse_cookie("a=1; b=2;c=3 ;  d = 4 ")
    assert isinstance(cookies, ds.MultiDict)
    assert cookies.to_dict() == {"a": "1", "b": "2", "c": "3", "d": "4"}


def test_parse_cookie_empty() -> None:
    assert eh.parse_cookie(None) == ds.MultiDict()
    assert eh.parse_cookie("") == ds.MultiDict()
    assert eh.parse_cookie(";;; ;") == ds.MultiDict()


def test_parse_cookie_repeated_name_keeps_first_value_first() -> None:
    cookies = eh.parse_cookie("session=real; session=shadow")
    assert cookies["session"] == "real"
    assert cookies.getlist("session") == ["real", "shadow"]


@pytest.mark.parametrize(
    "header",
    [
        "=evil; session=real",
        "session=real; =evil",
        " = evil ; session=real",
        "evil; session=real",
        "session=real; evil",
        "session=real;=;",
    ],
)
def test_parse_cookie_ignores_nameless_pairs(header: str) -> None:
    # SECURITY: a pair without a name (or without "=") must not become a
    # cookie, nor change which value the real cookie has.
    cookies = eh.parse_cookie(header)
    assert cookies.to_dict(flat=False) == {"session": ["real"]}
    assert "" not in cookies


def test_parse_cookie_blank_value() -> None:
    assert eh.parse_cookie("a=; b=")
    assert eh.parse_cookie("a=; b=").to_dict() == {"a": "", "b": ""}


def test_parse_cookie_value_keeps_equals() -> None:
    assert eh.parse_cookie("token=abc==; x=a=b")["token"] == "abc=="
    assert eh.parse_cookie("token=abc==; x=a=b")["x"] == "a=b"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('a="quoted"', "quoted"),
        ('a="with space"', "with space"),
        ('a="semi\\073colon"', "semi;colon"),
        ('a="comma\\054here"', "comma,here"),
        ('a="esc\\"quote"', 'esc"quote'),
        ('a="back\\\\slash"', "back\\slash"),
        ('a="\\303\\251t\\303\\251"', "\xe9t\xe9"),
        ('a="\\777"', "777"),  # not a byte: the backslash is dropped
        ('a="\\xff"', "xff"),
        ('a=""', ""),
        ('a="', '"'),
        ("a=unquoted\\073", "unquoted\\073"),
        ('a="\\303"', "\ufffd"),
    ],
)
def test_parse_cookie_unquotes(header: str, expected: str) -> None:
    assert eh.parse_cookie(header)["a"] == expected


_COOKIE_HEADERS = [
    "a=1; b=2;c=3 ;  d = 4 ",
    "session=real; session=shadow",
    "=evil; session=real",
    " = evil ; session=real",
    "evil; session=real",
    "session=real;=;",
    "a=; b=",
    "token=abc==; x=a=b",
    'a="semi\\073colon"; session="q\\"uoted"',
    'session="\\303\\251t\\303\\251"',
    "session=caf\xc3\xa9",  # UTF-8 tunnelled through latin-1
    "session=caf\xe9",  # not UTF-8: used as given
    "",
    ";;; ;",
]


@pytest.mark.parametrize("header", _COOKIE_HEADERS)
@pytest.mark.parametrize("name", ["session", "a", "b", "x", "", " session", "missing"])
def test_cookie_value_is_parse_cookies_first_value(header: str, name: str) -> None:
    from erlen.http.cookies import _cookie_value

    assert _cookie_value(header, name) == eh.parse_cookie(header).get(name)


@settings(max_examples=300, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(
            st.sampled_from(["session", " session ", "s", "", "other"]),
            st.sampled_from(["=", "", " = "]),
            st.text(alphabet='ab"\\ =;\xe9', max_size=8),
        ),
        max_size=5,
    ),
    name=st.sampled_from(["session", "s", "other", ""]),
)
def test_cookie_value_agrees_with_parse_cookie(
    pairs: list[tuple[str, str, str]], name: str
) -> None:
    from erlen.http.cookies import _cookie_value

    header = ";".join(k + eq + v for k, eq, v in pairs)
    assert _cookie_value(header, name) == eh.parse_cookie(header).get(name)


def test_parse_cookie_latin1_tunnelled_utf8() -> None:
    # A WSGI server hands over header bytes as latin-1 code points.
    tunnelled = "name=\xe9t\xe9".encode().decode("latin-1")
    assert eh.parse_cookie(tunnelled)["name"] == "\xe9t\xe9"
    # Real text that is not latin-1 / not UTF-8 bytes is used as given.
    assert eh.parse_cookie("name=\u20ac")["name"] == "\u20ac"
    assert eh.parse_cookie("name=\xe9")["name"] == "\xe9"


def test_parse_cookie_custom_class() -> None:
    cookies = eh.parse_cookie("a=1; a=2", ds.ImmutableMultiDict)
    assert type(cookies) is ds.ImmutableMultiDict
    assert cookies.getlist("a") == ["1", "2"]

    with pytest.raises(TypeError):
        cookies["a"] = "x"  # type: ignore[index]


def test_parse_cookie_with_class_taking_a_dict() -> None:
    class Mine(ds.MultiDict[str, str]):
        def __init__(self, mapping: object = None) -> None:
            super().__init__(mapping)  # type: ignore[arg-type]
            self.marker = True

    cookies = eh.parse_cookie("a=1", Mine)
    assert type(cookies) is Mine and cookies.marker and cookies["a"] == "1"


def test_parse_cookie_and_url_decode_with_foreign_class() -> None:
    # Any class taking a dict of lists works, e.g. Werkzeug's MultiDict.
    cookies = eh.parse_cookie("a=1; a=2", wds.MultiDict)  # type: ignore[arg-type]
    assert type(cookies) is wds.MultiDict and cookies.getlist("a") == ["1", "2"]
    args = eh.url_decode("a=1&a=2", wds.MultiDict)  # type: ignore[arg-type]
    assert type(args) is wds.MultiDict and args.getlist("a") == ["1", "2"]


_cookie_name = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~",
    min_size=1,
    max_size=8,
)
_cookie_plain_value = st.text(
    alphabet="abcdefXYZ0123456789!#$%&'()*+-./:<=>?@[]^_`{|}~", max_size=10
)


@given(st.lists(st.tuples(_cookie_name, _cookie_plain_value), max_size=6))
def test_parse_cookie_matches_werkzeug_on_wellformed_input(
    pairs: list[tuple[str, str]],
) -> None:
    header = "; ".join(f"{k}={v}" for k, v in pairs)
    ours = eh.parse_cookie(header)
    theirs = wsh.parse_cookie(header)
    assert list(ours.items(multi=True)) == list(theirs.items(multi=True))


@given(_cookie_name, st.text())
def test_cookie_value_roundtrip(name: str, value: str) -> None:
    header = eh.dump_cookie(name, value, max_size=0)
    pair = header.split("; ")[0]
    assert eh.parse_cookie(pair)[name] == value


# --------------------------------------------------------------------------
# Cookies: building Set-Cookie
# --------------------------------------------------------------------------


def test_dump_cookie_minimal() -> None:
    assert eh.dump_cookie("a", "b") == "a=b; Path=/"
    assert eh.dump_cookie("a", "b", path=None) == "a=b"
    assert eh.dump_cookie("a") == "a=; Path=/"


def test_dump_cookie_all_attributes_order() -> None:
    value = eh.dump_cookie(
        "sid",
        "v",
        max_age=60,
        expires=0,
        path="/app",
        domain="example.com",
        secure=True,
        httponly=True,
        samesite="lax",
        partitioned=True,
    )
    assert value == (
        "sid=v; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT;"
        " Max-Age=60; Secure; HttpOnly; Path=/app; SameSite=Lax; Partitioned"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"max_age": 0, "expires": 0},
        {"expires": dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)},
        {"expires": "Wed, 02 Jan 2030 03:04:05 GMT"},
        {"max_age": dt.timedelta(days=1), "sync_expires": False},
        {"path": "/a b/\xe9/%20"},
        {"path": None},
        {"domain": ".example.com"},
        {"domain": "example.com:8000"},
        {"domain": "m\xfcnchen.de"},
        {"domain": "localhost"},
        {"secure": True, "httponly": True},
        {"samesite": "STRICT"},
        {"samesite": "None", "secure": True},
        {"partitioned": True},
    ],
)
@pytest.mark.parametrize(
    "value", ["plain", "", "with space", 'q"uote', "semi;colon", "\xe9\u20ac", "a\\b", "tab\there"]
)
def test_dump_cookie_matches_werkzeug(kwargs: dict[str, object], value: str) -> None:
    assert eh.dump_cookie("name", value, **kwargs) == wh.dump_cookie(  # type: ignore[arg-type]
        "name",
        value,
        **kwargs,  # type: ignore[arg-type]
    )


def test_dump_cookie_max_age_sets_expires() -> None:
    value = eh.dump_cookie("a", "b", max_age=3600)
    expires = value.split("Expires=")[1].split(";")[0]
    parsed = eh.parse_date(expires)
    assert parsed is not None
    assert abs(parsed.timestamp() - (time.time() + 3600)) < 5
    assert "Max-Age=3600" in value


def test_dump_cookie_max_age_without_sync() -> None:
    value = eh.dump_cookie("a", "b", max_age=10, sync_expires=False)
    assert "Expires" not in value and "Max-Age=10" in value


def test_dump_cookie_max_age_coerced_to_int() -> None:
    assert "Max-Age=10;" in eh.dump_cookie("a", max_age="10", sync_expires=False)  # type: ignore[arg-type]

    with pytest.raises(ValueError):
        eh.dump_cookie("a", max_age="10\r\nX-Evil: 1")  # type: ignore[arg-type]


def test_dump_cookie_partitioned_implies_secure() -> None:
    assert "; Secure;" in eh.dump_cookie("a", "b", partitioned=True)


@pytest.mark.parametrize("samesite", ["lax", "Lax", "LAX", "strict", "none"])
def test_dump_cookie_samesite_case_insensitive(samesite: str) -> None:
    assert f"SameSite={samesite.title()}" in eh.dump_cookie("a", "b", samesite=samesite)


def test_dump_cookie_samesite_invalid() -> None:
    with pytest.raises(ValueError, match="SameSite"):
        eh.dump_cookie("a", "b", samesite="sometimes")


def test_dump_cookie_value_quoting() -> None:
    assert eh.dump_cookie("a", "x y", path=None) == 'a="x y"'
    assert eh.dump_cookie("a", "x;y", path=None) == 'a="x\\073y"'
    assert eh.dump_cookie("a", "x,y", path=None) == 'a="x\\054y"'
    assert eh.dump_cookie("a", '"', path=None) == 'a="\\""'
    assert eh.dump_cookie("a", "\\", path=None) == 'a="\\\\"'
    assert eh.dump_cookie("a", "\xe9", path=None) == 'a="\\303\\251"'
    # Every control character is escaped, not only some.
    assert eh.dump_cookie("a", "\x1b", path=None) == 'a="\\033"'


@pytest.mark.parametrize(
    "value", ["x\r\nSet-Cookie: evil=1", "x\nLocation: /", "x\0y", "a; Domain=evil.com"]
)
def test_dump_cookie_value_cannot_inject(value: str) -> None:
    # SECURITY: whatever the value, the header stays one line and the value
    # cannot add attributes.
    header = eh.dump_cookie("a", value, path=None)
    assert "\r" not in header and "\n" not in header and "\0" not in header
    assert header.count(";") == 0
    assert eh.parse_cookie(header)["a"] == value


@pytest.mark.parametrize(
    "key",
    ["", "a b", "a;b", "a=b", "a\r\nb", "a\nb", "a\0b", "a,b", 'a"b', "a\tb", "a\x7fb"],
)
def test_dump_cookie_rejects_bad_names(key: str) -> None:
    # SECURITY: a name with separators could inject pairs or attributes.
    with pytest.raises(ValueError, match="cookie name"):
        eh.dump_cookie(key, "v")


@pytest.mark.parametrize("path", ["/a\r\nX: y", "/a;Domain=evil", "/a\0", "/\x7f"])
def test_dump_cookie_rejects_bad_path(path: str) -> None:
    with pytest.raises(ValueError, match="path"):
        eh.dump_cookie("a", "v", path=path)


@pytest.mark.parametrize("domain", ["a.com\r\nX: y", "a.com; Secure", "a.com\0", "a .com"])
def test_dump_cookie_rejects_bad_domain(domain: str) -> None:
    with pytest.raises(ValueError, match="domain"):
        eh.dump_cookie("a", "v", domain=domain)


@pytest.mark.parametrize("expires", ["Thu, 01 Jan 1970\r\nX: y", "soon; Domain=evil"])
def test_dump_cookie_rejects_bad_expires_string(expires: str) -> None:
    with pytest.raises(ValueError, match="expires"):
        eh.dump_cookie("a", "v", expires=expires)


def test_dump_cookie_non_ascii_name_is_utf8_as_latin1() -> None:
    header = eh.dump_cookie("\xe9", "v", path=None)
    assert header == "\xc3\xa9=v"
    assert header == wh.dump_cookie("\xe9", "v", path=None)


def test_dump_cookie_size_warning() -> None:
    # "cookie is too large" is the phrase Flask's own tests look for.
    with pytest.warns(
        UserWarning, match=r"The 'big' cookie is too large: 5012 bytes, over the limit of 4093"
    ):
        header = eh.dump_cookie("big", "x" * 5000)
    assert header.startswith("big=xxx")

    with pytest.warns(UserWarning):
        eh.dump_cookie("small", "x" * 20, max_size=10)


def test_dump_cookie_size_check_disabled() -> None:
    # pytest turns warnings into errors, so this passing means no warning.
    eh.dump_cookie("big", "x" * 5000, max_size=0)
    eh.dump_cookie("fits", "x" * 4000)


# --------------------------------------------------------------------------
# Query strings
# --------------------------------------------------------------------------


def test_url_decode_basic() -> None:
    data = eh.url_decode("a=1&b=2&a=3")
    assert isinstance(data, ds.MultiDict)
    assert data.getlist("a") == ["1", "3"]
    assert data["b"] == "2"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", []),
        ("a", [("a", "")]),
        ("a=", [("a", "")]),
        ("=b", [("", "b")]),
        ("a=1&&b=2&", [("a", "1"), ("b", "2")]),
        ("a+b=c+d", [("a b", "c d")]),
        ("a%20b=c%2Bd", [("a b", "c+d")]),
        ("k=%E2%82%AC", [("k", "\u20ac")]),
        ("k=%zz&l=%4", [("k", "%zz"), ("l", "%4")]),
        ("k=100%", [("k", "100%")]),
        ("k=a=b", [("k", "a=b")]),
        ("k=%26%3D", [("k", "&=")]),
        ("k=\xe9", [("k", "\xe9")]),
        # Escapes of "&" and "=" beside others: decoded per key and value.
        ("a%3db=c%26d&e=%40", [("a=b", "c&d"), ("e", "@")]),
        ("a%3Db=1+2", [("a=b", "1 2")]),
        ("a=%&b=%2&c=%%41", [("a", "%"), ("b", "%2"), ("c", "%A")]),
        ("caf\xe9=%C3%A9+x&n=%e2%82%ac", [("caf\xe9", "\xe9 x"), ("n", "\u20ac")]),
        ("a=%41%42%4g%43", [("a", "AB%4gC")]),
    ],
)
def test_url_decode_cases(query: str, expected: list[tuple[str, str]]) -> None:
    assert list(eh.url_decode(query).items(multi=True)) == expected
    assert list(eh.url_decode(query.encode()).items(multi=True)) == expected
    # Same as what urllib (and so Werkzeug's Request.args) produces.
    assert eh.url_decode(query) == ds.MultiDict(
        urllib.parse.parse_qsl(query, keep_blank_values=True)
    )


def test_url_decode_separator() -> None:
    assert eh.url_decode("a=1;b=2", separator=";").to_dict() == {"a": "1", "b": "2"}
    # Encoded pairs with another separator are decoded one by one.
    data = eh.url_decode("a=%41;b=1+2;a=%26", separator=";")
    assert list(data.items(multi=True)) == [("a", "A"), ("a", "&"), ("b", "1 2")]


def test_url_decode_bytes_must_be_utf8() -> None:
    with pytest.raises(UnicodeDecodeError):
        eh.url_decode(b"a=%FF")
    with pytest.raises(UnicodeDecodeError):
        eh.url_decode(b"a=\xff")
    with pytest.raises(UnicodeDecodeError):
        eh.url_decode(b"%C3=x")
    with pytest.raises(UnicodeDecodeError):
        eh.url_decode("a=%C3%28")


def _url_decode_per_part(query: str) -> list[tuple[str, str]]:
    # The reference: each key and value decoded on its own, strictly.
    def part(text: str) -> str:
        return urllib.parse.unquote_to_bytes(text.replace("+", " ")).decode()

    pairs = [pair.partition("=") for pair in query.split("&") if pair]
    return [(part(key), part(value)) for key, _, value in pairs]


_query_pieces = st.sampled_from(
    ["%", "&", "=", "+", "a", "F", "%26", "%3D", "%3d", "%2", "%C3", "%A9", "%41", "%4g", "\xe9"]
)


@given(st.lists(_query_pieces, max_size=12).map("".join))
def test_url_decode_like_decoding_each_part(query: str) -> None:
    # url_decode may decode the whole string at once: never differently.
    try:
        expected: list[tuple[str, str]] | type[Exception] = _url_decode_per_part(query)
    except UnicodeDecodeError:
        expected = UnicodeDecodeError
    try:
        got: list[tuple[str, str]] | type[Exception] = list(eh.url_decode(query).items(multi=True))
    except UnicodeDecodeError:
        got = UnicodeDecodeError
    assert got == expected


def test_url_decode_class_with_its_own_init() -> None:
    # A parameter_storage_class with its own constructor gets the data through it.
    class Tagged(ds.MultiDict[str, str]):
        def __init__(self, mapping: t.Any = None) -> None:
            super().__init__(mapping)
            self.tagged = True

    data = eh.url_decode("a=1&a=2&b=3", Tagged)
    assert type(data) is Tagged and data.tagged
    assert list(data.items(multi=True)) == [("a", "1"), ("a", "2"), ("b", "3")]


def test_url_decode_bytearray_and_class() -> None:
    data = eh.url_decode(bytearray(b"a=1"), ds.ImmutableMultiDict)
    assert type(data) is ds.ImmutableMultiDict
    assert data["a"] == "1"
    assert type(eh.url_decode(b"", ds.ImmutableMultiDict)) is ds.ImmutableMultiDict


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)))


@given(st.lists(st.tuples(_text, _text), max_size=6))
def test_url_encode_decode_roundtrip(pairs: list[tuple[str, str]]) -> None:
    encoded = eh.url_encode(pairs)
    assert encoded.isascii()
    assert eh.url_decode(encoded) == ds.MultiDict(pairs)
    assert eh.url_decode(encoded.encode()) == ds.MultiDict(pairs)
    assert urllib.parse.parse_qsl(encoded, keep_blank_values=True) == pairs


def test_url_encode_inputs() -> None:
    assert eh.url_encode({"a": "1", "b": ["2", "3"], "c": None}) == "a=1&b=2&b=3"
    assert eh.url_encode(ds.MultiDict([("a", "1"), ("a", "2")])) == "a=1&a=2"
    assert eh.url_encode([("x", 1), ("y", None), ("z", 2.5)]) == "x=1&z=2.5"
    assert eh.url_encode({"k": b"\xc3\xa9"}) == "k=%C3%A9"


def test_url_encode_quoting() -> None:
    assert eh.url_encode({"q": "a b&c=d+e#f"}) == "q=a+b%26c%3Dd%2Be%23f"
    assert eh.url_encode({"path": "/x:y@z"}) == "path=/x:y@z"
    assert eh.url_encode({"\u20ac": "\xe9"}) == "%E2%82%AC=%C3%A9"


def test_url_encode_sort() -> None:
    data = {"b": "1", "a": "2", "c": "0"}
    assert eh.url_encode(data, sort=True) == "a=2&b=1&c=0"
    assert eh.url_encode(data, sort=True, key=lambda p: p[1]) == "c=0&b=1&a=2"


def test_url_quote_unquote() -> None:
    assert eh.url_quote("/a b/\xe9") == "/a%20b/%C3%A9"
    assert eh.url_quote("a/b", safe="") == "a%2Fb"
    assert eh.url_quote(b"\xff") == "%FF"
    assert eh.url_unquote("%C3%A9+x") == "\xe9+x"
    assert eh.url_unquote(b"%C3%A9") == "\xe9"
    assert eh.url_unquote("%FF") == "\ufffd"

    with pytest.raises(UnicodeDecodeError):
        eh.url_unquote("%FF", errors="strict")


# --------------------------------------------------------------------------
# IRIs
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iri", "expected"),
    [
        ("http://\u2603.net/p\xe5th?q=\xe8ry%DF", "http://xn--n3h.net/p%C3%A5th?q=%C3%A8ry%DF"),
        ("/plain/path?x=1#frag", "/plain/path?x=1#frag"),
        ("/a b", "/a%20b"),
        ("/caf\xe9?x=\u20ac#\xe9", "/caf%C3%A9?x=%E2%82%AC#%C3%A9"),
        ("/already%20encoded", "/already%20encoded"),
        (
            "https://user:p\xe4ss@m\xfcnchen.de:8080/x",
            "https://user:p%C3%A4ss@xn--mnchen-3ya.de:8080/x",
        ),
        ("http://[::1]:8000/\xe9", "http://[::1]:8000/%C3%A9"),
        ("http://[::1]/\xe9", "http://[::1]/%C3%A9"),
        ("mailto:j\xf6rg@example.com", "mailto:j%C3%B6rg@example.com"),
        ("/a\\b", "/a%5Cb"),
        ("/<script>", "/%3Cscript%3E"),
        ("", ""),
    ],
)
def test_iri_to_uri(iri: str, expected: str) -> None:
    assert eh.iri_to_uri(iri) == expected


@pytest.mark.parametrize(
    "iri",
    [
        "http://\u2603.net/p\xe5th?q=\xe8ry%DF",
        "http://example.com/a b?c d#e f",
        "https://user:pw@example.com:8443/\xe9",
        "http://@example.com/\xe9",
        "/relative/\u20ac",
        "?only=query \xe9",
        "http://example.com/%41%42",
        "http://example.com/!$&'()*+,;=:@/x?!$&'()*+,;=:@/?#!$&'()*+,;=:@/?#",
        "http://[::1]:8080/p\xe5th",
    ],
)
def test_iri_to_uri_matches_werkzeug(iri: str) -> None:
    assert eh.iri_to_uri(iri) == wurls.iri_to_uri(iri)


def test_iri_to_uri_encodes_stray_percent() -> None:
    # A "%" that starts no escape would make an invalid URI; Werkzeug keeps
    # it, Erlen encodes it.
    assert eh.iri_to_uri("/100%") == "/100%25"
    assert eh.iri_to_uri("/\xe9%zz%41") == "/%C3%A9%25zz%41"


def test_iri_to_uri_is_header_safe() -> None:
    # SECURITY: the result goes into a Location header.
    uri = eh.iri_to_uri("/a\r\nSet-Cookie: x=1\0")
    assert "\r" not in uri and "\n" not in uri and "\0" not in uri
    assert uri.isascii()


def test_iri_to_uri_invalid_idna_and_broken_netloc() -> None:
    # An empty IDNA label cannot be encoded; the host is percent-encoded.
    assert eh.iri_to_uri("http://\xe9..com/").startswith("http://%C3%A9..com")
    # urlsplit rejects an unterminated IPv6 literal; still made ASCII.
    assert eh.iri_to_uri("http://[::1/\xe9") == "http://[::1/%C3%A9"


@given(st.text())
def test_iri_to_uri_always_ascii(value: str) -> None:
    try:
        uri = eh.iri_to_uri(value)
    except UnicodeEncodeError:
        # Lone surrogates have no UTF-8 encoding.
        assert any("\ud800" <= c <= "\udfff" for c in value)
    else:
        assert uri.isascii()
        assert "\n" not in uri and "\r" not in uri


@pytest.mark.parametrize(
    ("host", "trusted", "expected"),
    [
        ("example.com", ["example.com"], True),
        ("EXAMPLE.com:8080", ["example.com"], True),
        ("example.com.", ["example.com"], True),
        ("api.example.com", ["example.com"], False),
        ("api.example.com", [".example.com"], True),
        ("example.com", [".example.com"], True),
        ("evilexample.com", [".example.com"], False),
        ("example.com.evil.org", [".example.com"], False),
        ("[::1]:5000", ["[::1]"], True),
        ("[::1]", ["[::2]"], False),
        ("localhost", "localhost", True),
        ("localhost:abc", ["localhost"], False),
        ("", ["example.com"], False),
        (None, ["example.com"], False),
        ("example.com", [], False),
    ],
)
def test_host_is_trusted(host: t.Any, trusted: t.Any, expected: bool) -> None:
    from erlen.http import host_is_trusted

    assert host_is_trusted(host, trusted) is expected
