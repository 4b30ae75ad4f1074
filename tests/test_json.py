"""The JSON provider."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import io
import uuid

import pytest
from markupsafe import Markup

from erlen import json as ejson
from erlen.json import DefaultJSONProvider, JSONProvider


def test_default_types(app):
    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    with app.app_context():
        out = ejson.loads(ejson.dumps({
            "date": dt.date(2020, 1, 2),
            "dt": dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
            "uuid": u,
            "dec": decimal.Decimal("1.50"),
            "point": Point(1, 2),
            "html": Markup("<b>x</b>"),
        }))
    assert out["date"] == "Thu, 02 Jan 2020 00:00:00 GMT"
    assert out["dt"] == "Thu, 02 Jan 2020 03:04:05 GMT"
    assert out["uuid"] == str(u)
    assert out["dec"] == "1.50"
    assert out["point"] == {"x": 1, "y": 2}
    assert out["html"] == "<b>x</b>"
    with app.app_context(), pytest.raises(TypeError, match="not JSON serializable"):
        ejson.dumps(object())


def test_sorted_compact_and_debug_indent(app):
    with app.app_context():
        assert app.json.response({"b": 1, "a": 2}).get_data() == b'{"a":2,"b":1}\n'
        app.debug = True
        assert b'\n  "a": 2' in app.json.response({"b": 1, "a": 2}).get_data()
        app.json.compact = True
        assert app.json.response({"a": 1}).get_data() == b'{"a":1}\n'
        assert app.json.dumps({"b": 1, "a": 2}, indent=1) == '{\n "a": 2,\n "b": 1\n}'


def test_ensure_ascii_toggle(app):
    with app.app_context():
        assert ejson.dumps("ü") == '"\\u00fc"'
        app.json.ensure_ascii = False
        assert ejson.dumps("ü") == '"ü"'


def test_module_functions_outside_context():
    assert ejson.dumps({"a": dt.date(2020, 1, 1)}) == '{"a": "Wed, 01 Jan 2020 00:00:00 GMT"}'
    assert ejson.loads("[1]") == [1]
    buf = io.StringIO()
    ejson.dump([1], buf)
    assert ejson.load(io.StringIO(buf.getvalue())) == [1]


def test_custom_provider(app):
    class Upper(JSONProvider):
        def dumps(self, obj, **kw):
            return '"CUSTOM"'

        def loads(self, s, **kw):
            return "loaded"

    app.json = Upper(app)

    @app.route("/", methods=["POST"])
    def index():
        return {"x": request_json()}

    def request_json():
        from erlen import request

        return request.get_json()

    rv = app.test_client().post("/", json={"a": 1})
    assert rv.data == b'"CUSTOM"\n'
    with app.app_context():
        buf = io.StringIO()
        app.json.dump(1, buf)
        assert buf.getvalue() == '"CUSTOM"'
        assert app.json.load(io.StringIO("x")) == "loaded"


def test_base_provider_is_abstract(app):
    p = JSONProvider(app)
    with pytest.raises(NotImplementedError):
        p.dumps(1)
    with pytest.raises(NotImplementedError):
        p.loads("1")
    assert isinstance(app.json, DefaultJSONProvider)
