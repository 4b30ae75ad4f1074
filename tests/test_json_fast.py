"""The default JSON provider's orjson path: the standard library's bytes and values, or its path.

Every test compares the provider with orjson in use against the standard
library (what the provider gives with ``fast = False``), for the same
settings; the differences are the ones docs/guide/json.md lists.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import math
import typing as t
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from erlen import Erlen
from erlen import json as ejson
from erlen.json import DefaultJSONProvider

orjson = pytest.importorskip("orjson")

SETTINGS = [(True, True), (True, False), (False, True), (False, False)]


def _provider(
    ensure_ascii: bool = True, sort_keys: bool = True, fast: bool = True
) -> DefaultJSONProvider:
    p = t.cast(DefaultJSONProvider, Erlen(__name__).json)
    p.ensure_ascii = ensure_ascii
    p.sort_keys = sort_keys
    p.fast = fast
    return p


def _outcome(fn: t.Callable[[], t.Any]) -> tuple[str, str]:
    """The result's repr (so 1 != 1.0, -0.0 != 0.0, nan == nan, order counts) or the error's type."""
    try:
        return ("ok", repr(fn()))
    except (TypeError, ValueError, RecursionError) as e:
        return ("error", type(e).__name__)


# Strings with any code point, lone surrogates, controls and DEL included.
_text = st.text(st.characters(exclude_categories=()), max_size=12)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**65), max_value=2**65)
    | st.floats()
    | st.sampled_from([1e-5, 1e-4, 1e15, 1e16, 1e17, 5e-324, 1.7976931348623157e308, -0.0])
    | _text
)
_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.tuples(children, children)
        | st.dictionaries(_text, children, max_size=5)
        | st.dictionaries(st.integers(-5, 5), children, max_size=2)
    ),
    max_leaves=20,
)


@pytest.mark.parametrize(("ensure_ascii", "sort_keys"), SETTINGS)
@settings(max_examples=250, deadline=None)
@given(value=_values)
def test_dumps_gives_the_standard_librarys_text(value, ensure_ascii, sort_keys):
    fast = _provider(ensure_ascii, sort_keys)
    plain = _provider(ensure_ascii, sort_keys, fast=False)
    assert _outcome(lambda: fast.dumps(value)) == _outcome(lambda: plain.dumps(value))
    reference = _outcome(
        lambda: json.dumps(
            value, ensure_ascii=ensure_ascii, sort_keys=sort_keys, separators=(",", ":")
        )
    )
    assert _outcome(lambda: fast.dumps(value)) == reference


@settings(max_examples=3000, deadline=None)
@given(number=st.floats() | st.floats(min_value=-1e-3, max_value=1e-3) | st.integers())
def test_every_number_is_written_as_repr_writes_it(number):
    p = _provider()
    assert _outcome(lambda: p.dumps([number, {"n": number}])) == _outcome(
        lambda: json.dumps([number, {"n": number}], separators=(",", ":"))
    )


def test_the_probes_find_a_release_that_writes_numbers_otherwise(monkeypatch):
    real = orjson.dumps
    monkeypatch.setattr(ejson, "_orjson", None)
    monkeypatch.setattr(orjson, "dumps", lambda *a, **k: real(*a, **k).replace(b"e+", b"e"))
    assert ejson._load_orjson() is False
    assert _provider()._fast_encode({"a": 1}) is None
    monkeypatch.setattr(ejson, "_orjson", None)
    monkeypatch.setattr(orjson, "dumps", real)
    assert ejson._load_orjson() is orjson


@settings(max_examples=150, deadline=None)
@given(value=_values)
def test_response_body_is_the_standard_librarys_bytes(value):
    app = Erlen(__name__)
    with app.app_context():
        try:
            expected = (json.dumps(value, sort_keys=True, separators=(",", ":")) + "\n").encode(
                "ascii"
            )
        except (TypeError, ValueError):
            with pytest.raises((TypeError, ValueError)):
                app.json.response(value)
            return
        assert app.json.response(value).get_data() == expected


@settings(max_examples=300, deadline=None)
@given(value=_values)
def test_loads_gives_the_standard_librarys_value(value):
    try:
        body = json.dumps([value], ensure_ascii=False).encode("utf-8", "surrogatepass")
    except ValueError:  # non-str keys mixed with sorting: not our concern here
        return
    p = _provider()
    assert _outcome(lambda: p.loads(body)) == _outcome(lambda: json.loads(body))


_near_json = st.text(
    st.sampled_from(list('[]{}",:0123456789.eE+- \t\n\r\\/ubfnrtlsaNIy\x00\x1f\x7fé\U0001f600')),
    max_size=40,
)


@settings(max_examples=500, deadline=None)
@given(opener=st.sampled_from("[{"), rest=_near_json)
def test_loads_of_near_json_accepts_and_refuses_as_json_loads(opener, rest):
    body = (opener + rest).encode("utf-8")
    p = _provider()
    assert _outcome(lambda: p.loads(body)) == _outcome(lambda: json.loads(body))


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":1,"b":2,"a":3}',  # duplicate keys: the last value, the first position
        b"[9223372036854775807]",
        b"[9223372036854775808]",
        b"[18446744073709551615]",
        b"[18446744073709551616]",  # beyond 64 bits: an int, never a float
        b"[-9223372036854775809]",
        b'["12345678901234567890"]',  # 19 digits in a string: the standard path, same value
        b"[1" + b"0" * 5000 + b"]",  # beyond int's digit limit: the same ValueError
        b"[1e400]",
        b"[-1e400]",
        b"[NaN]",
        b"[Infinity, -Infinity]",
        b"[-0, -0.0, 0.1, 1E2, 5e-324]",
        b'["\\ud800"]',  # a lone surrogate: json.loads keeps it
        b'["\\ud83d\\ude00"]',
        b'["\xff"]',  # not UTF-8
        b'["\xed\xa0\x80"]',  # an encoded surrogate
        b"\xef\xbb\xbf[1]",  # a BOM
        b"[1] \n",
        b"[1] x",
        b"[1,]",
        b'{"a" : 1 }',
        b'["a\x01"]',  # a raw control character
        b"[" * 2000 + b"]" * 2000,  # deeper than orjson reads
        b"[]",
        b"{}",
    ],
)
def test_loads_edge_cases(body):
    p = _provider()
    assert _outcome(lambda: p.loads(body)) == _outcome(lambda: json.loads(body))


class _Str(str):
    pass


class _Int(int):
    pass


class _Dict(dict):  # type: ignore[type-arg]
    pass


class _Color(enum.IntEnum):
    RED = 1


class _Name(enum.StrEnum):
    ADA = "ada"


@dataclasses.dataclass
class _Point:
    x: int
    y: float


def _cycle() -> list[t.Any]:
    a: list[t.Any] = []
    a.append(a)
    return a


@pytest.mark.parametrize(
    "value",
    [
        [math.nan, math.inf, -math.inf],
        [1e-5, 0.00001234, 1e16, 1e-4],
        [None, "null"],
        [2**63 - 1, 2**63, 2**64, -(2**63) - 1, 2**200],
        {"b": 1, "a": 2, "é": 3, "\U0001f600": 4, "\uffff": 5},
        {1: "x", 2: "y"},
        {1: "x", "a": "y"},  # unsortable: the same TypeError
        {_Str("k"): _Str("v")},
        [_Int(3), True, False, _Color.RED, _Name.ADA],
        _Dict(a=1),
        (1, (2, 3)),
        ["\x7f"],  # DEL: escaped by ensure_ascii, not by orjson
        {"\x7f": 1},
        ['\x00\x1f\b\f\n\r\t"\\/', "\u2028", "é"],
        ["\ud800"],
        [dt.date(2020, 1, 2), dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)],
        [_Point(1, 2.5)],
        [decimal.Decimal("1.50"), uuid.UUID("12345678-1234-5678-1234-567812345678")],
        [Markup("<b>x</b>")],
        {1, 2},
        b"bytes",
        _cycle(),
        [[[[]]]] * 3,
    ],
    ids=repr,
)
@pytest.mark.parametrize(("ensure_ascii", "sort_keys"), SETTINGS)
def test_dumps_edge_cases(value, ensure_ascii, sort_keys):
    fast = _provider(ensure_ascii, sort_keys)
    plain = _provider(ensure_ascii, sort_keys, fast=False)
    assert _outcome(lambda: fast.dumps(value)) == _outcome(lambda: plain.dumps(value))


def test_nesting_beyond_orjsons_limit_is_written_by_the_standard_encoder():
    value: list[t.Any] = []
    for _ in range(300):  # orjson stops at 254 levels
        value = [value]
    assert _provider().dumps(value) == "[" * 301 + "]" * 301


def test_a_plain_enum_is_the_documented_difference():
    class Plain(enum.Enum):
        A = 1

    assert _provider().dumps([Plain.A]) == "[1]"
    with pytest.raises(TypeError):
        _provider(fast=False).dumps([Plain.A])


def test_plain_data_takes_the_fast_path_and_the_switch_turns_it_off():
    value = {"message": "Hello, World!", "items": [1, 2, 3], "score": 99.5}
    assert (
        _provider()._fast_encode(value)
        == '{"items":[1,2,3],"message":"Hello, World!","score":99.5}'
    )
    assert _provider(fast=False)._fast_encode(value) is None


def test_a_replaced_default_turns_the_fast_path_off():
    # orjson writes UUIDs itself; the app's own default must see them.
    p = _provider()
    p.default = lambda o: "uuid!" if isinstance(o, uuid.UUID) else str(o)  # type: ignore[method-assign]
    assert p.dumps([uuid.UUID(int=1)]) == '["uuid!"]'


def test_the_fast_path_off_in_debug_output():
    app = Erlen(__name__)
    app.debug = True
    with app.app_context():
        body = app.json.response({"b": [1], "a": None}).get_data()
    assert body == (json.dumps({"b": [1], "a": None}, indent=2, sort_keys=True) + "\n").encode()


def test_without_orjson_the_standard_library_is_used(monkeypatch):
    monkeypatch.setattr(ejson, "_orjson", False)
    p = _provider()
    assert p._fast_encode({"a": 1}) is None
    assert p.dumps({"b": 1, "a": "é"}) == '{"a":"\\u00e9","b":1}'
    assert p.loads(b'{"a":[1,2]}') == {"a": [1, 2]}


def test_kwargs_go_to_the_standard_library():
    p = _provider()
    assert p.dumps({"a": "é"}, ensure_ascii=False) == '{"a": "é"}'


# Not in conftest's BOTH_INTERFACES (the rest of this module tests the provider
# alone): this test names the interfaces itself.
@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
@pytest.mark.parametrize("fast", [True, False])
def test_request_bodies_over_the_client(fast, interface):
    app = Erlen(__name__)
    app.json.fast = fast  # type: ignore[attr-defined]

    @app.post("/echo")
    def echo() -> t.Any:
        from erlen import request

        return request.get_json()

    client = app.test_client(interface=interface)
    r = client.post(
        "/echo", data=b'{"b":[1,2.5,null],"a":"\xc3\xa9"}', content_type="application/json"
    )
    assert r.status_code == 200
    assert r.data == b'{"a":"\\u00e9","b":[1,2.5,null]}\n'
    plain = client.post("/echo", data=b'{"b":[1,2.5],"a":"x"}', content_type="application/json")
    assert plain.data == b'{"a":"x","b":[1,2.5]}\n'  # orjson's text, when fast
    bad = client.post("/echo", data=b'{"a":NaN', content_type="application/json")
    assert bad.status_code == 400
    big = client.post("/echo", data=b"[123456789012345678901234]", content_type="application/json")
    assert big.data == b"[123456789012345678901234]\n"
