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
        out = ejson.loads(
            ejson.dumps(
                {
                    "date": dt.date(2020, 1, 2),
                    "dt": dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
                    "uuid": u,
                    "dec": decimal.Decimal("1.50"),
                    "point": Point(1, 2),
                    "html": Markup("<b>x</b>"),
                }
            )
        )
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


# -- the fast paths of DefaultJSONProvider give json's own results and errors ---

import json as _stdlib_json  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=15,
)


#: An app for the hypothesis tests (function-scoped fixtures don't mix with @given).
_APP = __import__("erlen").Erlen(__name__)


def _outcome(func, *args):  # type: ignore[no-untyped-def]
    try:
        return "ok", func(*args)
    except Exception as e:  # noqa: BLE001 - the error type and message are compared
        return type(e).__name__, str(e)


@settings(max_examples=300, deadline=None)
@given(value=_json_values, sort_keys=st.booleans(), ensure_ascii=st.booleans())
def test_dumps_like_stdlib(value, sort_keys, ensure_ascii):  # type: ignore[no-untyped-def]
    app = _APP
    provider = DefaultJSONProvider(app)
    provider.sort_keys = sort_keys
    provider.ensure_ascii = ensure_ascii
    expected = _stdlib_json.dumps(
        value, sort_keys=sort_keys, ensure_ascii=ensure_ascii, separators=(",", ":")
    )
    assert provider.dumps(value) == expected
    with app.app_context():
        assert provider.response(value).get_data(as_text=True) == expected + "\n"


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(
        _json_values.map(_stdlib_json.dumps),
        st.text(max_size=20),
        st.text(alphabet='{}[]",:0123456789 \t\nabeflnrstu\\', max_size=20),
    ),
    encoding=st.sampled_from([None, "utf-8", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"]),
)
def test_loads_like_stdlib(text, encoding):  # type: ignore[no-untyped-def]
    provider = DefaultJSONProvider(_APP)
    data = text if encoding is None else text.encode(encoding, "surrogatepass")
    ours, theirs = _outcome(provider.loads, data), _outcome(_stdlib_json.loads, data)
    if ours[0] == "ok" and theirs[0] == "ok":
        # NaN is never equal to itself: compare the re-encoded text.
        assert _stdlib_json.dumps(ours[1]) == _stdlib_json.dumps(theirs[1])
    else:
        assert ours == theirs


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": 1}',
        b"[1,2]",
        b'{"a":1} ',
        b' {"a":1}',
        b'{"a":1}x',
        b"{\x00",
        b"[\xff]",
        b'["\xed\xa0\x80"]',
        bytearray(b"[1]"),
    ],
)
def test_loads_edge_bytes_like_stdlib(app, data):  # type: ignore[no-untyped-def]
    provider = DefaultJSONProvider(app)
    assert _outcome(provider.loads, data) == _outcome(_stdlib_json.loads, data)


def test_circular_reference_is_the_usual_value_error(app):  # type: ignore[no-untyped-def]
    loop: list[object] = []
    loop.append(loop)
    provider = DefaultJSONProvider(app)
    with pytest.raises(ValueError, match="Circular reference"):
        provider.dumps(loop)
    with app.app_context(), pytest.raises(ValueError, match="Circular reference"):
        provider.response({"loop": loop})


def test_shared_value_encoded_from_many_threads(app):  # type: ignore[no-untyped-def]
    """No circular-reference memo is shared: one object encoded at once in threads."""
    import threading

    shared = {"items": [{"n": n, "when": dt.date(2024, 1, 1)} for n in range(200)]}
    provider = DefaultJSONProvider(app)
    expected = provider.dumps(shared)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(50):
                assert provider.dumps(shared) == expected
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_loads_keyword_arguments_go_to_json(app):  # type: ignore[no-untyped-def]
    assert DefaultJSONProvider(app).loads("[1.5]", parse_float=decimal.Decimal) == [
        decimal.Decimal("1.5")
    ]
