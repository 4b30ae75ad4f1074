"""Tagged JSON (erlen.json.tag): round trips, registration, and Flask's exact output."""

from __future__ import annotations

import json
import typing as t
from collections import OrderedDict
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from markupsafe import Markup

from erlen import Erlen
from erlen.json import DefaultJSONProvider, JSONProvider
from erlen.json.tag import JSONTag, PassDict, TagDict, TaggedJSONSerializer


@pytest.mark.parametrize(
    "data",
    [
        {" t": (1, 2, 3)},
        {" t__": b"a"},
        {" di": " di"},
        {"x": (1, 2, 3), "y": 4},
        (1, 2, 3),
        [(1, 2, 3)],
        b"\xff",
        Markup("<p>"),
        uuid4(),
        datetime.now(tz=UTC).replace(microsecond=0),
        {"nested": {"deeper": [(b"\x00", Markup("<a>")), {" m": "not markup"}]}},
        "plain",
        12,
        1.5,
        True,
        None,
        [],
        {},
    ],
)
def test_round_trip(data: t.Any) -> None:
    s = TaggedJSONSerializer()
    assert s.loads(s.dumps(data)) == data


def test_round_trip_keeps_types() -> None:
    s = TaggedJSONSerializer()
    u = UUID("12345678123456781234567812345678")
    out = s.loads(s.dumps({"t": (1,), "b": b"x", "m": Markup("<b>"), "u": u}))
    assert type(out["t"]) is tuple
    assert type(out["b"]) is bytes
    assert type(out["m"]) is Markup
    assert out["u"] == u and type(out["u"]) is UUID


def test_datetime_naive_is_utc_and_drops_microseconds() -> None:
    s = TaggedJSONSerializer()
    out = s.loads(s.dumps(datetime(2024, 5, 6, 7, 8, 9, 123456)))
    assert out == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_wire_format_is_flasks() -> None:
    s = TaggedJSONSerializer()
    value = {
        "z": 1,
        "a": (1, b"\x00\xff"),
        "m": Markup("<i>x</i>"),
        "u": UUID("12345678123456781234567812345678"),
        "d": datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC),
        "k": {" t": "x"},
        "ü": "é",
    }
    assert s.dumps(value) == (
        '{"a":{" t":[1,{" b":"AP8="}]},"d":{" d":"Thu, 02 Jan 2020 03:04:05 GMT"},'
        '"k":{" di":{" t__":"x"}},"m":{" m":"<i>x</i>"},'
        '"u":{" u":"12345678123456781234567812345678"},"z":1,"\\u00fc":"\\u00e9"}'
    )


def test_matches_flask_serializer() -> None:
    from flask import Flask
    from flask.json.tag import TaggedJSONSerializer as FlaskTagged

    value = {
        "tuple": (1, "a", (2,)),
        "bytes": b"\x01\x02",
        "markup": Markup("<em>hi</em>"),
        "uuid": UUID("0" * 32),
        "dt": datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
        "tag_like": {" u": [1]},
        "list": [{"x": b"y"}],
    }
    flask_app = Flask(__name__)
    with flask_app.app_context():
        flask_text = FlaskTagged().dumps(value)
    app = Erlen(__name__, root_path="/nonexistent-erlen-root")
    with app.app_context():
        erlen_text = TaggedJSONSerializer().dumps(value)
    assert erlen_text == flask_text
    assert TaggedJSONSerializer().loads(flask_text) == value
    assert FlaskTagged().loads(erlen_text) == value


def test_loads_bytes() -> None:
    s = TaggedJSONSerializer()
    assert s.loads(b'{"a":{" t":[1]}}') == {"a": (1,)}
    assert s.loads('{"a":{" t":[1]}}'.encode("utf-16")) == {"a": (1,)}


def test_untag_leaves_ordinary_dicts() -> None:
    s = TaggedJSONSerializer()
    assert s.untag({"a": 1, "b": 2}) == {"a": 1, "b": 2}
    assert s.untag({"a": 1}) == {"a": 1}
    assert s.untag({" t": [1]}) == (1,)
    assert s.loads('{" x":[1]}') == {" x": [1]}


def test_unknown_object_falls_through_to_json_default() -> None:
    s = TaggedJSONSerializer()

    class Thing:
        pass

    assert s.tag(OrderedDict(a=(1,))) == {"a": {" t": [1]}}
    thing = Thing()
    assert s.tag(thing) is thing
    with pytest.raises(TypeError):
        s.dumps(thing)


class TagOrderedDict(JSONTag):
    __slots__ = ()
    key = " od"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, OrderedDict)

    def to_json(self, value: t.Any) -> t.Any:
        return [[k, self.serializer.tag(v)] for k, v in value.items()]

    def to_python(self, value: t.Any) -> t.Any:
        return OrderedDict(value)


def test_register_custom_tag() -> None:
    s = TaggedJSONSerializer()
    s.register(TagOrderedDict, index=0)
    assert s.order[0].__class__ is TagOrderedDict
    data = OrderedDict([("b", 1), ("a", (2,))])
    out = s.loads(s.dumps(data))
    assert out == data and type(out) is OrderedDict
    assert list(out) == ["b", "a"]
    # A tag-like key of the new tag is escaped too.
    assert s.loads(s.dumps({" od": 1})) == {" od": 1}


def test_register_duplicate_key() -> None:
    s = TaggedJSONSerializer()
    with pytest.raises(KeyError, match="already registered"):
        s.register(TagDict)

    class OtherDict(TagDict):
        __slots__ = ()

    s.register(OtherDict, force=True)
    assert type(s.tags[" di"]) is OtherDict


def test_register_keyless_tag_appended() -> None:
    s = TaggedJSONSerializer()
    before = len(s.order)
    s.register(PassDict)
    assert len(s.order) == before + 1
    assert type(s.order[-1]) is PassDict


def test_custom_tag_for_plain_values() -> None:
    # A custom tag may claim plain strings; the fast path for them must stop.
    class TagUpper(JSONTag):
        __slots__ = ()
        key = " up"

        def check(self, value: t.Any) -> bool:
            return isinstance(value, str) and value.isupper()

        def to_json(self, value: t.Any) -> t.Any:
            return value.lower()

        def to_python(self, value: t.Any) -> t.Any:
            return value.upper()

    s = TaggedJSONSerializer()
    assert s.tag("ABC") == "ABC"
    s.register(TagUpper, index=0)
    assert s.tag("ABC") == {" up": "abc"}
    assert s.tag("abc") == "abc"
    assert s.loads(s.dumps(["ABC", "x"])) == ["ABC", "x"]


def test_base_tag_is_abstract() -> None:
    tag = JSONTag(TaggedJSONSerializer())
    with pytest.raises(NotImplementedError):
        tag.check(1)
    with pytest.raises(NotImplementedError):
        tag.to_json(1)
    with pytest.raises(NotImplementedError):
        tag.to_python(1)


def test_dumps_uses_app_provider() -> None:
    calls: list[dict[str, t.Any]] = []

    class Provider(DefaultJSONProvider):
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            calls.append(kwargs)
            return super().dumps(obj, **kwargs)

        def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
            calls.append({"loads": True})
            return super().loads(s, **kwargs)

    app = Erlen(__name__, root_path="/nonexistent-erlen-root")
    app.json = Provider(app)
    s = TaggedJSONSerializer()
    with app.app_context():
        text = s.dumps({"b": 1, "a": (1,)})
        assert s.loads(text) == {"b": 1, "a": (1,)}
    assert text == '{"a":{" t":[1]},"b":1}'
    assert calls == [{"separators": (",", ":")}, {"loads": True}]


def test_dumps_default_provider_is_compact_and_sorted() -> None:
    app = Erlen(__name__, root_path="/nonexistent-erlen-root")
    app.debug = True  # indentation is for responses, never for the cookie
    s = TaggedJSONSerializer()
    with app.app_context():
        assert s.dumps({"b": [1, 2], "a": "x"}) == '{"a":"x","b":[1,2]}'
    assert s.dumps({"b": [1, 2], "a": "x"}) == '{"a":"x","b":[1,2]}'


def test_provider_without_default_base() -> None:
    class Minimal(JSONProvider):
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            return json.dumps(obj, **kwargs)

        def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
            return json.loads(s, **kwargs)

    app = Erlen(__name__, root_path="/nonexistent-erlen-root")
    app.json = Minimal(app)
    s = TaggedJSONSerializer()
    with app.app_context():
        assert s.loads(s.dumps({"x": b"1"})) == {"x": b"1"}


# -- the shortcuts for data without tags -------------------------------------------

_PLAIN_DATA = [
    {},
    {"n": 2},
    {"b": True, "f": 1.5, "i": -3, "n": None, "s": "x"},
    {"z": 1, "a": 2, "m": [1, "two", 3.0, None, False]},
    {"nested": {"a": {"b": {"c": [1, [2, [3]]]}}}},
    {"unicode": "é ü 日本 \u2028 \U0001f600", "ctl": '\n\t"\\'},
    {"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"), "big": 10**40},
    {" t": 1, "other": 2},
    {"looks like a tag": " t"},
    {"inner": {" t": 1, " u": 2}},
    {1: "int key", 2: "another"},
]

_TAGGED_DATA = [
    {" t": 1},
    {"inner": {" t": [1]}},
    {"l": [{" d": "x"}]},
    {"t": (1, 2)},
    {"b": b"x"},
    {"deep": [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]},
]


def _reference_dumps(s: TaggedJSONSerializer, value: t.Any, provider: t.Any = None) -> str:
    """What the general path writes: tag, then the compact sorted encoder."""
    tagged = s.tag(value)
    if provider is None:
        return json.dumps(tagged, sort_keys=True, separators=(",", ":"))
    return provider.dumps(tagged)


@pytest.mark.parametrize("data", _PLAIN_DATA + _TAGGED_DATA)
def test_dumps_shortcut_same_text(data: t.Any) -> None:
    s = TaggedJSONSerializer()
    assert s.dumps(data) == _reference_dumps(s, data)
    app = Erlen(__name__)
    with app.app_context():
        assert s.dumps(data) == _reference_dumps(s, data, app.json)


@pytest.mark.parametrize("data", _PLAIN_DATA + _TAGGED_DATA)
def test_loads_shortcut_same_value(data: t.Any) -> None:
    s = TaggedJSONSerializer()
    text = s.dumps(data)
    expected = s._decoder.decode(text)
    got = s.loads(text)
    assert json.dumps(got, sort_keys=True, default=repr) == json.dumps(
        expected, sort_keys=True, default=repr
    )
    assert type(got) is type(expected)


def test_loads_shortcut_unusual_text() -> None:
    s = TaggedJSONSerializer()
    # Whitespace around the value and escaped keys take the full path.
    assert s.loads('  {"n": 1}  ') == {"n": 1}
    assert s.loads('{"\\u0020t": [1, 2]}') == (1, 2)
    assert s.loads('{"a": "\\" t"}') == {"a": '" t'}
    with pytest.raises(ValueError):
        s.loads('{"n": 1} x')
    with pytest.raises(ValueError):
        s.loads('{"n": ')
    with pytest.raises(ValueError):
        s.loads("")


def test_dumps_shortcut_respects_provider_settings() -> None:
    class Unsorted(DefaultJSONProvider):
        sort_keys = False
        ensure_ascii = False

    app = Erlen(__name__)
    app.json = Unsorted(app)
    s = TaggedJSONSerializer()
    with app.app_context():
        assert s.dumps({"b": "é", "a": 1}) == '{"b":"é","a":1}'


def test_shortcuts_off_with_custom_tag_or_override() -> None:
    class TagStr(JSONTag):
        __slots__ = ()
        key = " s"

        def check(self, value: t.Any) -> bool:
            return isinstance(value, str)

        def to_json(self, value: t.Any) -> t.Any:
            return value.upper()

        def to_python(self, value: t.Any) -> t.Any:
            return value.lower()

    s = TaggedJSONSerializer()
    s.register(TagStr, index=0)
    assert s.dumps({"a": "x"}) == '{"a":{" s":"X"}}'
    assert s.loads('{"a":{" s":"X"}}') == {"a": "x"}

    class Custom(TaggedJSONSerializer):
        def tag(self, value: t.Any) -> t.Any:
            return "tagged" if value == 1 else super().tag(value)

        def untag(self, value: dict[str, t.Any]) -> t.Any:
            return {**value, "seen": True}

    c = Custom()
    assert c.dumps({"n": 1}) == '{"n":"tagged"}'
    assert c.loads('{"n":1}') == {"n": 1, "seen": True}


def test_dumps_shortcut_cycle_falls_back() -> None:
    s = TaggedJSONSerializer()
    loop: list[t.Any] = []
    loop.append(loop)
    with pytest.raises((ValueError, RecursionError)):
        s.dumps({"loop": loop})
