"""The HTTPException classes, abort and routing outcomes."""

from __future__ import annotations

import pytest

from erlen import exceptions as exc


def test_every_default_exception_renders():
    for code, cls in exc.default_exceptions.items():
        e = cls()
        assert e.code == code
        r = e.get_response()
        assert r.status_code == code
        body = r.get_data(as_text=True)
        assert f"<title>{code} " in body
        assert e.name in str(e)
        assert repr(e).startswith(f"<{cls.__name__} '{code}")


def test_description_is_escaped_and_override():
    e = exc.NotFound("<script>x</script>\nline")
    body = e.get_body()
    assert "&lt;script&gt;" in body and "<br>" in body


def test_method_not_allowed_allow_header():
    r = exc.MethodNotAllowed(["GET", "POST"]).get_response()
    assert r.headers["Allow"] == "GET, POST"
    assert "Allow" not in exc.MethodNotAllowed().get_response().headers


def test_unauthorized_www_authenticate():
    r = exc.Unauthorized(www_authenticate='Basic realm="x"').get_response()
    assert r.headers["WWW-Authenticate"] == 'Basic realm="x"'

    class Challenge:
        def to_header(self):
            return "Bearer"

    r = exc.Unauthorized(www_authenticate=[Challenge(), "Basic"]).get_response()
    assert r.headers.getlist("WWW-Authenticate") == ["Bearer", "Basic"]


def test_retry_after_and_range():
    import datetime as dt

    assert exc.TooManyRequests(retry_after=30).get_response().headers["Retry-After"] == "30"
    when = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert "2030" in exc.ServiceUnavailable(retry_after=when).get_response().headers["Retry-After"]
    r = exc.RequestedRangeNotSatisfiable(length=100).get_response()
    assert r.headers["Content-Range"] == "bytes */100"


def test_abort():
    with pytest.raises(exc.NotFound):
        exc.abort(404)
    with pytest.raises(exc.Forbidden) as info:
        exc.abort(403, "nope")
    assert info.value.description == "nope"
    with pytest.raises(LookupError):
        exc.abort(299)
    from erlen import Response

    with pytest.raises(exc.HTTPException) as info:
        exc.abort(Response("custom", 418))
    assert info.value.get_response().status_code == 418


def test_bad_request_key_error():
    e = exc.BadRequestKeyError("field")
    assert isinstance(e, KeyError) and isinstance(e, exc.BadRequest)
    assert "field" not in e.get_body()
    e.show_exception = True
    assert "field" in e.get_body()
    assert e.code == 400
    assert "400 Bad Request" in str(e)


def test_internal_server_error_original():
    original = ValueError("x")
    assert exc.InternalServerError(original_exception=original).original_exception is original


def test_exception_as_wsgi_app():
    statuses = []
    body = exc.Gone()({"REQUEST_METHOD": "GET"}, lambda s, h, e=None: statuses.append(s))
    assert statuses == ["410 Gone"]
    assert b"Gone" in b"".join(body)


def test_http_exception_without_code():
    e = exc.HTTPException("custom")
    assert e.name == "Unknown Error"
    assert "???" in str(e) and "???" in repr(e)
    assert e.get_response().status_code == 500


def test_build_error_without_adapter():
    e = exc.BuildError("ep", {"a": 1}, "GET")
    assert "Could not build url for endpoint 'ep' ('GET') with values ['a']." == str(e)
