"""erlen.compat.http and .datastructures: Werkzeug's header helpers, side by side with Werkzeug.

The real Werkzeug (a dev peer) is imported here directly, as the
differential tests of test_http do; the compat modules are Erlen's and do
not need the compat layer installed.
"""

from __future__ import annotations

import datetime
import typing as t

import pytest
import werkzeug.datastructures as wds
import werkzeug.http as wh

from erlen.compat import datastructures as eds
from erlen.compat import http as eh


def _range(value: t.Any) -> t.Any:
    return None if value is None else (value.units, value.ranges, value.to_header())


@pytest.mark.parametrize(
    "value",
    [
        "bytes=0-499",
        "bytes=-500",
        "bytes=500-",
        "bytes=0-1,5-9",
        "bytes=0-0, -1",
        "items=0-1",
        "bytes=5-1",
        "bytes=5-9,0-1",
        "bytes=-1,-2",
        "bytes=0-,5-9",
        "bytes=a-b",
        "bytes=1",
        "bytes=-0",
        "bytes=",
        "bytes=0-1-2",
        None,
    ],
)
def test_parse_range_header_as_werkzeug(value: str | None) -> None:
    assert _range(eh.parse_range_header(value)) == _range(wh.parse_range_header(value))


def test_range_for_a_length() -> None:
    rng = eh.parse_range_header("bytes=-500")
    assert rng is not None
    assert rng.range_for_length(1000) == (500, 1000)
    assert rng.to_content_range_header(1000) == "bytes 500-999/1000"
    content_range = rng.make_content_range(1000)
    assert content_range is not None and content_range.to_header() == "bytes 500-999/1000"
    several = eh.parse_range_header("bytes=0-1,5-9")
    assert several is not None and several.range_for_length(1000) is None


@pytest.mark.parametrize(
    "value",
    [
        "bytes 0-499/1234",
        "bytes 0-499/*",
        "bytes */1234",
        "bytes */*",
        "bytes 5-1/10",
        "bytes 0-9/10",
        "bytes 0-1",
        "bytes a-b/3",
        "bytes 0-1/abc",
        "x",
        None,
    ],
)
def test_parse_content_range_header_as_werkzeug(value: str | None) -> None:
    def parts(v: t.Any) -> t.Any:
        return None if v is None else (v.units, v.start, v.stop, v.length, v.to_header())

    assert parts(eh.parse_content_range_header(value)) == parts(
        wh.parse_content_range_header(value)
    )


@pytest.mark.parametrize(
    "value", ['"abc"', 'W/"abc"', "Wed, 21 Oct 2015 07:28:00 GMT", "junk", "", None]
)
def test_parse_if_range_header_as_werkzeug(value: str | None) -> None:
    ours, theirs = eh.parse_if_range_header(value), wh.parse_if_range_header(value)
    assert (ours.etag, ours.date, ours.to_header()) == (
        theirs.etag,
        theirs.date,
        theirs.to_header(),
    )


@pytest.mark.parametrize("value", ["10", "007", "x", "-1", "", None, "1" * 30])
def test_parse_age_as_werkzeug(value: str | None) -> None:
    assert eh.parse_age(value) == wh.parse_age(value)


def test_dump_age() -> None:
    assert eh.dump_age(60) == "60"
    assert eh.dump_age(datetime.timedelta(hours=1)) == "3600"
    assert eh.dump_age(None) is None
    with pytest.raises(ValueError):
        eh.dump_age(-1)


CACHE_CONTROL = [
    'no-cache, max-age=60, private="x", max-stale, bogus=1',
    'no-cache="set-cookie", public, max-age=abc, s-maxage=5, immutable',
    "max-stale=5, min-fresh=x, only-if-cached, no-transform, stale-if-error=3",
    "",
    None,
]


@pytest.mark.parametrize("value", CACHE_CONTROL)
def test_request_cache_control_as_werkzeug(value: str | None) -> None:
    ours = eh.parse_cache_control_header(value)
    theirs = wh.parse_cache_control_header(value)
    assert isinstance(ours, eds.RequestCacheControl) and dict(ours) == dict(theirs)
    for prop in (
        "no_cache",
        "max_age",
        "max_stale",
        "min_fresh",
        "no_store",
        "only_if_cached",
        "no_transform",
        "stale_if_error",
    ):
        assert getattr(ours, prop) == getattr(theirs, prop), prop
    assert ours.to_header() == theirs.to_header()
    with pytest.raises(TypeError):
        ours.no_cache = True  # type: ignore[misc] - a request's header is read-only


@pytest.mark.parametrize("value", CACHE_CONTROL)
def test_response_cache_control_as_werkzeug(value: str | None) -> None:
    ours = eh.parse_cache_control_header(value, cls=eds.ResponseCacheControl)
    theirs = wh.parse_cache_control_header(value, cls=wds.ResponseCacheControl)
    for prop in (
        "no_cache",
        "max_age",
        "public",
        "private",
        "must_revalidate",
        "proxy_revalidate",
        "s_maxage",
        "immutable",
        "must_understand",
        "stale_while_revalidate",
        "no_store",
    ):
        assert getattr(ours, prop) == getattr(theirs, prop), prop


@pytest.mark.parametrize(
    "changes",
    [
        {"max_age": 10, "no_cache": True, "public": True},
        {"private": "x", "no_store": True},
        {"no_cache": "a"},
        {"s_maxage": 3, "immutable": True, "must_revalidate": True},
        {"max_age": 0},
    ],
)
def test_setting_response_cache_control_as_werkzeug(changes: dict[str, t.Any]) -> None:
    seen: list[t.Any] = []
    ours = eds.ResponseCacheControl(on_update=seen.append)
    theirs = wds.ResponseCacheControl()
    for key, value in changes.items():
        setattr(ours, key, value)
        setattr(theirs, key, value)
    assert (ours.to_header(), dict(ours)) == (theirs.to_header(), dict(theirs))
    assert seen and seen[-1] is ours
    for key in changes:
        setattr(ours, key, None)
        setattr(theirs, key, None)
    assert ours.to_header() == theirs.to_header() == ""


def test_parse_set_header() -> None:
    seen: list[t.Any] = []
    header = eh.parse_set_header('GET, "b c", get', on_update=seen.append)
    assert isinstance(header, eds.HeaderSet)
    # A set: "get" is "GET" again (Werkzeug keeps the repeat in its list, not in the set).
    assert list(header) == ["GET", "b c"] and len(header) == 2
    assert "get" in header and "B C" in header
    assert header.to_header() == wh.parse_set_header('GET, "b c"').to_header() == 'GET, "b c"'
    assert header.as_set() == {"get", "b c"} and header.as_set(True) == {"GET", "b c"}
    header.add("POST")
    header.discard("b C")
    assert str(header) == "GET, POST" and len(seen) == 2
    assert header.find("post") == 1 and header.find("x") == -1
    with pytest.raises(KeyError):
        header.remove("x")
    assert not eh.parse_set_header(None)


@pytest.mark.parametrize("value", ["default-src 'self'; img-src *; ", "script-src a b", "", None])
def test_csp_as_werkzeug(value: str | None) -> None:
    ours, theirs = eh.parse_csp_header(value), wh.parse_csp_header(value)
    assert dict(ours) == dict(theirs)
    assert ours.img_src == theirs.img_src and ours.default_src == theirs.default_src
    assert eh.dump_csp_header(ours) == wh.dump_csp_header(theirs)


def test_csp_properties_set_the_directives() -> None:
    csp = eds.ContentSecurityPolicy()
    csp.script_src = "'self'"
    csp.img_src = "*"
    assert csp.to_header() == "script-src 'self'; img-src *"
    csp.img_src = None
    assert dict(csp) == {"script-src": "'self'"}


@pytest.mark.parametrize(
    ("start", "stop", "length"),
    [
        (None, None, None),
        (None, None, 3),
        (None, None, -1),
        (0, 1, None),
        (0, 1, 1),
        (1, 1, 5),
        (5, 6, 5),
        (None, 1, 3),
        (0, None, 3),
        (-1, 2, 3),
    ],
)
def test_is_byte_range_valid_as_werkzeug(
    start: int | None, stop: int | None, length: int | None
) -> None:
    assert eh.is_byte_range_valid(start, stop, length) == wh.is_byte_range_valid(
        start, stop, length
    )


def test_hop_by_hop_and_entity_headers_as_werkzeug() -> None:
    for name in ("Connection", "keep-alive", "Transfer-Encoding", "X-Foo", "Content-Type"):
        assert eh.is_hop_by_hop_header(name) == wh.is_hop_by_hop_header(name)
        assert eh.is_entity_header(name) == wh.is_entity_header(name)
    pairs = [("Connection", "x"), ("Content-Type", "t"), ("Expires", "e"), ("X", "y")]
    ours, theirs = list(pairs), list(pairs)
    eh.remove_hop_by_hop_headers(ours)
    wh.remove_hop_by_hop_headers(theirs)
    assert ours == theirs == pairs[1:]
    ours, theirs = list(pairs), list(pairs)
    eh.remove_entity_headers(ours)
    wh.remove_entity_headers(theirs)
    assert ours == theirs == [("Connection", "x"), ("Expires", "e"), ("X", "y")]


_LAST_MODIFIED = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"HTTP_IF_NONE_MATCH": '"x"'},
        {"HTTP_IF_NONE_MATCH": 'W/"x"'},
        {"HTTP_IF_MATCH": '"x"'},
        {"HTTP_IF_MATCH": '"y"'},
        {"HTTP_IF_MODIFIED_SINCE": "Wed, 01 Jan 2020 00:00:00 GMT"},
        {"HTTP_IF_MODIFIED_SINCE": "Tue, 31 Dec 2019 00:00:00 GMT"},
        {"HTTP_RANGE": "bytes=0-1", "HTTP_IF_RANGE": '"x"'},
        {"HTTP_RANGE": "bytes=0-1", "HTTP_IF_RANGE": '"y"'},
        {"HTTP_RANGE": "bytes=0-1", "HTTP_IF_RANGE": "Wed, 01 Jan 2020 00:00:00 GMT"},
        {"HTTP_RANGE": "bytes=0-1", "HTTP_IF_RANGE": "Tue, 31 Dec 2019 00:00:00 GMT"},
    ],
)
@pytest.mark.parametrize(
    "kwargs",
    [
        {"etag": "x"},
        {"etag": 'W/"x"'},
        {"last_modified": _LAST_MODIFIED},
        {"data": b"abc"},
        {"etag": "x", "ignore_if_range": False},
        {"last_modified": _LAST_MODIFIED, "ignore_if_range": False},
        {"last_modified": "Wed, 01 Jan 2020 00:00:00 GMT", "ignore_if_range": False},
    ],
)
def test_is_resource_modified_as_werkzeug(
    environ: dict[str, str], kwargs: dict[str, t.Any]
) -> None:
    assert eh.is_resource_modified(environ, **kwargs) == wh.is_resource_modified(environ, **kwargs)


def test_uri_to_iri() -> None:
    from werkzeug.urls import uri_to_iri

    for uri in (
        "http://xn--n3h.net/p%C3%A5th?q=%C3%A8ry%DF",
        "http://user:p%40ss@xn--n3h.net:8080/",
        "/a%2Fb%20c?x=%26y%3D%C3%A9",
        "%E2%98%83%ZZ%",
        "http://[::1]:8080/p%C3%A5th",
    ):
        assert eh.uri_to_iri(uri) == uri_to_iri(uri), uri
    # The host ends at "?" too; what follows is decoded as the query.
    assert eh.uri_to_iri("http://h?x=%C3%A9/y") == "http://h?x=é/y"
    # A label that is not valid punycode stays as it is (Werkzeug raises
    # UnicodeError for the whole URL, which would be a 500 for a bad link).
    assert eh.uri_to_iri("http://xn--a.xn--n3h.net/x") == "http://xn--a.☃.net/x"


def test_type_conversion_dict() -> None:
    d = eds.TypeConversionDict(page="3", bad="x")
    assert d.get("page", type=int) == 3
    assert d.get("bad", 1, type=int) == 1
    assert d.get("missing", 7) == 7
    frozen = eds.ImmutableTypeConversionDict(a="1")
    with pytest.raises(TypeError):
        frozen["a"] = "2"
    assert frozen.get("a", type=int) == 1
    copy = frozen.copy()
    copy["a"] = "2"
    assert hash(frozen) == hash(eds.ImmutableTypeConversionDict(a="1"))


def test_update_dict_mixin_reports_changes() -> None:
    class Tracked(eds.UpdateDictMixin):
        pass

    seen: list[t.Any] = []
    d = Tracked(a=1)
    d.on_update = seen.append
    d["b"] = 2
    d.setdefault("a", 5)  # there: no change
    d.pop("missing", None)  # missing: no change
    d.update(c=3)
    del d["a"]
    assert len(seen) == 3 and d == {"b": 2, "c": 3}


def test_content_range_and_if_range_write_headers() -> None:
    seen: list[t.Any] = []
    content_range = eds.ContentRange("bytes", 0, 10, 100, on_update=seen.append)
    assert str(content_range) == "bytes 0-9/100"
    content_range.unset()
    assert not content_range and content_range.to_header() == "" and len(seen) == 2
    assert eds.IfRange("abc").to_header() == '"abc"'
    assert eds.IfRange(date=_LAST_MODIFIED).to_header() == "Wed, 01 Jan 2020 00:00:00 GMT"
