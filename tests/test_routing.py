"""Tests for erlen.routing: converters, rules, matching, building, adapters."""

from __future__ import annotations

import threading
import time
import typing as t
import uuid

import pytest

from erlen import routing
from erlen.exceptions import BuildError, MethodNotAllowed, NotFound, RequestRedirect
from erlen.routing import (
    DEFAULT_CONVERTERS,
    AnyConverter,
    BaseConverter,
    Map,
    PathConverter,
    Rule,
    UnicodeConverter,
    ValidationError,
)


def make(*rules: Rule, **kwargs: t.Any) -> Map:
    return Map(list(rules), **kwargs)


def outcome(m: Map, path: str, method: str = "GET", **kwargs: t.Any) -> t.Any:
    """Match and describe the result as plain data."""
    try:
        rule, args = m.match(path, method, **kwargs)
    except RequestRedirect as e:
        return ("redirect", e.new_url)
    except MethodNotAllowed as e:
        return ("405", e.valid_methods)
    except NotFound:
        return "404"
    return (rule.endpoint, args)


# -- converters --------------------------------------------------------------


def test_default_converters_registered() -> None:
    assert set(DEFAULT_CONVERTERS) == {"default", "string", "any", "path", "int", "float", "uuid"}
    m = Map()
    assert m.converters == DEFAULT_CONVERTERS
    assert m.converters is not DEFAULT_CONVERTERS


@pytest.mark.parametrize(
    ("rule", "path", "expected"),
    [
        ("/<name>", "/bob", {"name": "bob"}),
        ("/<string:name>", "/b%20ob é", {"name": "b%20ob é"}),
        ("/<string(length=2):cc>", "/de", {"cc": "de"}),
        ("/<string(length=2):cc>", "/deu", "404"),
        ("/<string(minlength=3):x>", "/ab", "404"),
        ("/<string(minlength=3):x>", "/abc", {"x": "abc"}),
        ("/<string(maxlength=3):x>", "/abcd", "404"),
        ("/<string(maxlength=3):x>", "/abc", {"x": "abc"}),
        ("/<string(minlength=0):x>/end", "//end", {"x": ""}),
        ("/<any(about, help):page>", "/help", {"page": "help"}),
        ("/<any(about, help):page>", "/other", "404"),
        ("/<any(about, \"help me\", 'a.b'):page>", "/help me", {"page": "help me"}),
        ("/<any(about, \"help me\", 'a.b'):page>", "/a.b", {"page": "a.b"}),
        ("/<any(about, \"help me\", 'a.b'):page>", "/axb", "404"),
        ("/<any(1, 2):n>", "/2", {"n": "2"}),
        ("/f/<path:p>", "/f/a/b/c.txt", {"p": "a/b/c.txt"}),
        ("/f/<path:p>", "/f/a", {"p": "a"}),
        ("/f/<path:p>/raw", "/f/a/b/raw", {"p": "a/b"}),
        ("/<int:n>", "/42", {"n": 42}),
        ("/<int:n>", "/0042", {"n": 42}),
        ("/<int:n>", "/-1", "404"),
        ("/<int:n>", "/4.2", "404"),
        ("/<int(signed=True):n>", "/-12", {"n": -12}),
        ("/<int(signed=True):n>", "/12", {"n": 12}),
        ("/<int(fixed_digits=4):y>", "/0042", {"y": 42}),
        ("/<int(fixed_digits=4):y>", "/42", "404"),
        ("/<int(fixed_digits=4):y>", "/00042", "404"),
        ("/<int(min=1, max=12):m>", "/12", {"m": 12}),
        ("/<int(min=1, max=12):m>", "/0", "404"),
        ("/<int(min=1, max=12):m>", "/13", "404"),
        ("/<float:x>", "/1.5", {"x": 1.5}),
        ("/<float:x>", "/1", "404"),
        ("/<float:x>", "/.5", "404"),
        ("/<float:x>", "/-1.5", "404"),
        ("/<float(signed=True):x>", "/-1.5", {"x": -1.5}),
        ("/<float(min=0.5, max=2.0):x>", "/0.4", "404"),
        ("/<float(min=0.5, max=2.0):x>", "/2.0", {"x": 2.0}),
        ("/<float(max=2):x>", "/2.5", "404"),
        (
            "/<uuid:u>",
            "/12345678-1234-5678-1234-56781234ABCD",
            {"u": uuid.UUID("12345678-1234-5678-1234-56781234abcd")},
        ),
        ("/<uuid:u>", "/12345678-1234-5678-1234-5678123", "404"),
        ("/<uuid:u>", "/12345678123456781234567812345678", "404"),
    ],
)
def test_converter_matching(rule: str, path: str, expected: t.Any) -> None:
    m = make(Rule(rule, "e"))
    result = outcome(m, path)
    if expected == "404":
        assert result == "404"
    else:
        assert result == ("e", expected)
        for key, value in expected.items():
            assert type(result[1][key]) is type(value)


@pytest.mark.parametrize(
    "digits",
    [
        "٤٢",  # Arabic-Indic
        "۴۲",  # Extended Arabic-Indic (Persian)
        "４２",  # fullwidth
        "४२",  # Devanagari
        "²",  # superscript two: str.isdigit() is true for it
        "4٢",  # mixed
    ],
)
def test_numbers_accept_only_ascii_digits(digits: str) -> None:
    m = make(
        Rule("/user/<int:id>", "int"),
        Rule("/sint/<int(signed=True):id>", "sint"),
        Rule("/fixed/<int(fixed_digits=2):id>", "fixed"),
        Rule("/float/<float:x>", "float"),
    )
    for prefix in ("/user/", "/sint/", "/fixed/"):
        assert outcome(m, prefix + digits) == "404"
    assert outcome(m, f"/float/{digits}.{digits}") == "404"


def test_huge_integer_does_not_crash() -> None:
    # int() refuses more than 4300 digits; that must be a 404, not a 500.
    m = make(Rule("/<int:n>", "n"), Rule("/x/<int(min=0):n>", "m"))
    assert outcome(m, "/" + "9" * 5000) == "404"
    assert outcome(m, "/x/" + "9" * 5000) == "404"


def test_converter_to_url() -> None:
    m = Map()
    assert BaseConverter(m).to_url("a b/c?d#e%f") == "a%20b/c%3Fd%23e%25f"
    assert BaseConverter(m).to_url("!$&'()*+,:;=@") == "!$&'()*+,:;=@"
    assert BaseConverter(m).to_python("x") == "x"
    conv = m.converters["int"](m, fixed_digits=3)
    assert conv.to_url(7) == "007"
    assert conv.to_url("7") == "007"
    with pytest.raises(ValueError):
        conv.to_url("seven")
    assert m.converters["float"](m).to_url(2) == "2.0"
    assert m.converters["uuid"](m).to_url(uuid.UUID(int=1)).endswith("0001")
    any_conv = AnyConverter(m, "a b", "c")
    assert any_conv.to_url("a b") == "a%20b"
    with pytest.raises(ValueError, match="not one of"):
        any_conv.to_url("d")


def test_any_needs_items() -> None:
    with pytest.raises(ValueError, match="at least one"):
        make(Rule("/<any:x>", "e"))


def test_part_isolating_is_derived_from_regex() -> None:
    class Slashy(BaseConverter):
        regex = "[a-z/]+"

    class Plain(BaseConverter):
        regex = "[a-z]+"

    class Forced(BaseConverter):
        regex = "[a-z/]+"
        part_isolating = True

    class Inherits(PathConverter):
        pass

    assert not Slashy.part_isolating
    assert Plain.part_isolating
    assert Forced.part_isolating
    assert not Inherits.part_isolating
    assert not PathConverter.part_isolating
    assert UnicodeConverter.part_isolating


@pytest.mark.parametrize(
    ("text", "args", "kwargs"),
    [
        ("", (), {}),
        ("  ", (), {}),
        ("1, 2.5, -3, +4", (1, 2.5, -3, 4), {}),
        ("True, False, None", (True, False, None), {}),
        ("about, help-me, a.b", ("about", "help-me", "a.b"), {}),
        ("'a, b', \"c)d\"", ("a, b", "c)d"), {}),
        (r'"say \"hi\"", "back\\slash"', ('say "hi"', "back\\slash"), {}),
        ("x, key=1, other='v'", ("x",), {"key": 1, "other": "v"}),
        ("1.5e3, .5", (1500.0, 0.5), {}),
        ("a,", ("a",), {}),
    ],
)
def test_parse_converter_args(text: str, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]) -> None:
    assert routing._parse_converter_args(text) == (args, kwargs)


@pytest.mark.parametrize("text", ["key=1, 2", "a b", "=1", "'unclosed", "a,,b"])
def test_parse_converter_args_errors(text: str) -> None:
    with pytest.raises(ValueError):
        routing._parse_converter_args(text)


def test_converter_args_in_rule() -> None:
    seen: list[t.Any] = []

    class Spy(BaseConverter):
        def __init__(self, map: Map, *args: t.Any, **kwargs: t.Any) -> None:
            super().__init__(map)
            seen.append((args, kwargs))

    m = Map()
    m.converters["spy"] = Spy
    m.add(Rule('/<spy(1, "x y", flag=True, n=None):v>', "e"))
    assert seen == [((1, "x y"), {"flag": True, "n": None})]
    assert outcome(m, "/anything") == ("e", {"v": "anything"})


def test_placeholder_whitespace() -> None:
    m = make(Rule("/< int : id >/<int( min = 2 ):x>", "e"))
    assert outcome(m, "/1/2") == ("e", {"id": 1, "x": 2})
    assert outcome(m, "/1/1") == "404"


# -- custom converters and ValidationError -------------------------------------


class ListConverter(BaseConverter):
    def to_python(self, value: str) -> list[str]:
        return value.split(",")

    def to_url(self, value: t.Any) -> str:
        return ",".join(super(ListConverter, self).to_url(v) for v in value)


class EvenConverter(BaseConverter):
    regex = "[0-9]+"
    weight = 10

    def to_python(self, value: str) -> int:
        number = int(value)
        if number % 2:
            raise ValidationError()
        return number


def test_custom_converter_registration() -> None:
    m = Map()
    m.converters["list"] = ListConverter
    m.add(Rule("/tags/<list:tags>", "tags"))
    assert outcome(m, "/tags/a,b,c") == ("tags", {"tags": ["a", "b", "c"]})
    assert m.build("tags", {"tags": ["x y", "z"]}) == ("", "/tags/x%20y,z")
    m2 = Map(converters={"list": ListConverter})
    m2.add(Rule("/<list:x>", "x"))
    assert outcome(m2, "/1,2") == ("x", {"x": ["1", "2"]})
    assert "list" not in Map().converters


def test_validation_error_falls_through_to_next_rule() -> None:
    m = Map(converters={"even": EvenConverter})
    m.add(Rule("/n/<even:n>", "even"))
    m.add(Rule("/n/<int:n>", "int"))
    m.add(Rule("/n/<name>", "name"))
    assert outcome(m, "/n/4") == ("even", {"n": 4})
    assert outcome(m, "/n/5") == ("int", {"n": 5})
    assert outcome(m, "/n/x") == ("name", {"name": "x"})


def test_validation_error_falls_through_in_mixed_and_tail_segments() -> None:
    m = Map(converters={"even": EvenConverter})
    m.add(Rule("/v<even:n>.json", "even"))
    m.add(Rule("/v<int:n>.json", "odd"))
    m.add(Rule("/p/<path:p>/<even:n>", "tail_even"))
    m.add(Rule("/p/<path:p>", "tail"))
    assert outcome(m, "/v2.json") == ("even", {"n": 2})
    assert outcome(m, "/v3.json") == ("odd", {"n": 3})
    assert outcome(m, "/p/a/b/2") == ("tail_even", {"p": "a/b", "n": 2})
    assert outcome(m, "/p/a/b/3") == ("tail", {"p": "a/b/3"})


def test_value_error_from_to_python_means_no_match() -> None:
    class DateConverter(BaseConverter):
        def to_python(self, value: str) -> t.Any:
            import datetime

            return datetime.date.fromisoformat(value)

    m = Map(converters={"date": DateConverter})
    m.add(Rule("/d/<date:d>", "date"))
    m.add(Rule("/d/<slug>", "slug"))
    assert outcome(m, "/d/2024-02-29")[0] == "date"
    assert outcome(m, "/d/2023-02-29") == ("slug", {"slug": "2023-02-29"})


def test_validation_error_backtracks_values() -> None:
    # A failing deeper branch must not leave its values behind.
    m = Map(converters={"even": EvenConverter})
    m.add(Rule("/<int:a>/<even:b>/x", "first"))
    m.add(Rule("/<int:a>/<int:b>/y", "second"))
    m.add(Rule("/<a>/<b>/<c>", "third"))
    assert outcome(m, "/1/2/y") == ("second", {"a": 1, "b": 2})
    assert outcome(m, "/1/3/z") == ("third", {"a": "1", "b": "3", "c": "z"})


def test_custom_converter_with_slashes_matches_tail() -> None:
    class Anything(BaseConverter):
        regex = ".+"  # greedy and slash-accepting
        part_isolating = False  # no "/" in the regex, so say it

    m = Map(converters={"any_path": Anything})
    m.add(Rule("/a/<any_path:p>/", "a"))
    m.add(Rule("/b/<any_path:p>/end", "b"))
    assert outcome(m, "/a/x/y/") == ("a", {"p": "x/y"})
    assert outcome(m, "/a/x/y") == ("redirect", "/a/x/y/")
    assert outcome(m, "/b/x/y/end") == ("b", {"p": "x/y"})


def test_equal_converters_share_edges_but_keep_their_names() -> None:
    m = make(Rule("/<int:a>/x", "x"), Rule("/<int:b>/y", "y"), Rule("/<int(min=5):c>/z", "z"))
    assert outcome(m, "/1/x") == ("x", {"a": 1})
    assert outcome(m, "/1/y") == ("y", {"b": 1})
    assert outcome(m, "/5/z") == ("z", {"c": 5})
    assert outcome(m, "/4/z") == "404"
    m.update()
    root = m._domains[""]
    assert len(root.edges) == 2  # int shared by a and b; int(min=5) separate


# -- methods and websockets --------------------------------------------------------


def test_methods_head_added_and_uppercased() -> None:
    rule = Rule("/", "e", methods=["get", "post"])
    assert rule.methods == {"GET", "HEAD", "POST"}
    assert Rule("/", methods=["POST"]).methods == {"POST"}
    assert Rule("/").methods is None
    with pytest.raises(TypeError):
        Rule("/", methods="GET")


def test_method_not_allowed() -> None:
    m = make(
        Rule("/x", "get", methods=["GET"]),
        Rule("/x", "post", methods=["POST"]),
        Rule("/y/<int:id>", "put", methods=["PUT"]),
        Rule("/y/<name>", "delete", methods=["DELETE", "PATCH"]),
    )
    assert outcome(m, "/x") == ("get", {})
    assert outcome(m, "/x", "HEAD") == ("get", {})
    assert outcome(m, "/x", "POST") == ("post", {})
    assert outcome(m, "/x", "PUT") == ("405", ["GET", "HEAD", "POST"])
    assert outcome(m, "/y/1", "PUT") == ("put", {"id": 1})
    assert outcome(m, "/y/1", "GET") == ("405", ["DELETE", "PATCH", "PUT"])
    assert outcome(m, "/y/a", "GET") == ("405", ["DELETE", "PATCH"])
    assert outcome(m, "/z", "GET") == "404"
    assert m.allowed_methods("/y/1") == ["DELETE", "PATCH", "PUT"]
    assert m.allowed_methods("/nope") == []


def test_method_mismatch_on_static_falls_through_to_dynamic() -> None:
    m = make(Rule("/a", "static", methods=["POST"]), Rule("/<name>", "dyn", methods=["GET"]))
    assert outcome(m, "/a") == ("dyn", {"name": "a"})
    assert outcome(m, "/a", "POST") == ("static", {})
    assert outcome(m, "/a", "PUT") == ("405", ["GET", "HEAD", "POST"])


def test_first_registered_rule_wins_among_equals() -> None:
    m = make(Rule("/a", "one"), Rule("/a", "two"), Rule("/<x>", "three"), Rule("/<y>", "four"))
    assert outcome(m, "/a") == ("one", {})
    assert outcome(m, "/b") == ("three", {"x": "b"})


def test_websocket_rules() -> None:
    m = make(
        Rule("/ws", "ws", websocket=True),
        Rule("/http", "http"),
        Rule("/both", "both_ws", websocket=True),
        Rule("/both", "both_http"),
        Rule("/d/<int:n>", "dws", websocket=True),
    )
    assert outcome(m, "/ws", websocket=True) == ("ws", {})
    assert outcome(m, "/ws") == "404"
    assert outcome(m, "/http", websocket=True) == "404"
    assert outcome(m, "/both") == ("both_http", {})
    assert outcome(m, "/both", websocket=True) == ("both_ws", {})
    assert outcome(m, "/d/1", websocket=True) == ("dws", {"n": 1})
    assert outcome(m, "/d/1") == "404"
    m2 = make(Rule("/f/<path:p>", "tail_ws", websocket=True))
    assert outcome(m2, "/f/a/b") == "404"
    assert outcome(m2, "/f/a/b", websocket=True) == ("tail_ws", {"p": "a/b"})
    with pytest.raises(ValueError, match="WebSocket"):
        Rule("/ws", methods=["POST"], websocket=True)
    assert Rule("/ws", methods=["GET"], websocket=True).methods == {"GET", "HEAD"}


# -- slashes --------------------------------------------------------------------


def test_strict_slashes_redirect() -> None:
    m = make(
        Rule("/dir/", "dir"),
        Rule("/file", "file"),
        Rule("/u/<name>/", "user"),
        Rule("/post/", "post", methods=["POST"]),
        Rule("/", "index"),
    )
    assert outcome(m, "/dir/") == ("dir", {})
    assert outcome(m, "/dir") == ("redirect", "/dir/")
    assert outcome(m, "/u/bob") == ("redirect", "/u/bob/")
    assert outcome(m, "/u/b ö") == ("redirect", "/u/b%20%C3%B6/")
    assert outcome(m, "/file/") == "404"  # no redirect for the reverse case
    assert outcome(m, "/post", "POST") == ("redirect", "/post/")
    assert outcome(m, "/post", "GET") == "404"
    assert outcome(m, "") == ("redirect", "/")


def test_strict_slashes_off() -> None:
    m = make(
        Rule("/dir/", "dir", strict_slashes=False),
        Rule("/file", "file", strict_slashes=False),
        Rule("/u/<name>", "user", strict_slashes=False),
        Rule("/strict", "strict"),
    )
    assert outcome(m, "/dir") == ("dir", {})
    assert outcome(m, "/dir/") == ("dir", {})
    assert outcome(m, "/file") == ("file", {})
    assert outcome(m, "/file/") == ("file", {})
    assert outcome(m, "/u/bob/") == ("user", {"name": "bob"})
    assert outcome(m, "/strict/") == "404"
    m2 = make(Rule("/dir/", "dir"), strict_slashes=False)
    assert outcome(m2, "/dir") == ("dir", {})


def test_lenient_slash_method_mismatch_is_405() -> None:
    m = make(Rule("/file", "file", strict_slashes=False, methods=["POST"]))
    assert outcome(m, "/file/", "POST") == ("file", {})
    assert outcome(m, "/file/", "GET") == ("405", ["POST"])


def test_tail_rule_trailing_slash() -> None:
    m = make(
        Rule("/p/<path:p>/", "strict"),
        Rule("/q/<path:p>/", "lenient", strict_slashes=False),
        Rule("/r/<path:p>/x/", "r", methods=["POST"]),
    )
    assert outcome(m, "/p/a/b/") == ("strict", {"p": "a/b"})
    assert outcome(m, "/p/a/b") == ("redirect", "/p/a/b/")
    assert outcome(m, "/q/a/b") == ("lenient", {"p": "a/b"})
    assert outcome(m, "/q/a/b/") == ("lenient", {"p": "a/b"})
    assert outcome(m, "/r/a/x", "POST") == ("redirect", "/r/a/x/")
    assert outcome(m, "/r/a/x", "GET") == "404"
    assert outcome(m, "/r/a/x/", "GET") == ("405", ["POST"])


def test_redirect_never_protocol_relative() -> None:
    # A Location of "//host/" would leave the site.
    class Anything(BaseConverter):
        regex = ".+"
        part_isolating = False

    m = Map(converters={"a": Anything}, merge_slashes=False)
    m.add(Rule("/<a:p>/", "e"))
    result = outcome(m, "//evil.example")
    assert result == ("redirect", "/evil.example/")


def test_merge_slashes() -> None:
    m = make(
        Rule("/a/b", "ab"),
        Rule("/u/<name>/", "user"),
        Rule("/keep", "keep", merge_slashes=False),
        Rule("/x//y", "xy"),
        Rule("/raw//z", "raw", merge_slashes=False),
        Rule("/f/<path:p>", "files"),
    )
    assert outcome(m, "//a///b") == ("redirect", "/a/b")
    assert outcome(m, "/a//b") == ("redirect", "/a/b")
    assert outcome(m, "/u//bob") == ("redirect", "/u/bob/")
    assert outcome(m, "/u//bob//") == ("redirect", "/u/bob/")
    assert outcome(m, "//keep") == "404"
    assert outcome(m, "/x/y") == ("xy", {})  # the rule itself was merged
    assert outcome(m, "/x//y") == ("redirect", "/x/y")
    assert outcome(m, "/raw//z") == ("raw", {})
    assert outcome(m, "/raw/z") == "404"
    # A direct match needs no merging.
    assert outcome(m, "/f/a//b") == ("files", {"p": "a//b"})
    assert m.build("xy") == ("", "/x/y")


def test_merge_slashes_off() -> None:
    m = make(Rule("/a/b", "ab"), merge_slashes=False)
    assert outcome(m, "/a//b") == "404"
    m2 = make(Rule("/a/b", "ab", methods=["POST"]))
    assert outcome(m2, "/a//b", "GET") == ("405", ["POST"])


# -- redirects ------------------------------------------------------------------------


def test_redirect_to_string() -> None:
    m = make(
        Rule("/old/<int:id>/<name>", "old", redirect_to="/new/<id>/<name>"),
        Rule("/static-old", "so", redirect_to="/static-new"),
        Rule("/d/", "d", defaults={"page": "a b"}, redirect_to="/p/<page>"),
        Rule("/rel/<int:id>", "rel", redirect_to="other/<id>"),
        Rule("/y/<int(fixed_digits=4):y>", "year", redirect_to="/year/<y>"),
    )
    assert outcome(m, "/old/7/a b") == ("redirect", "/new/7/a%20b")
    assert outcome(m, "/static-old") == ("redirect", "/static-new")
    assert outcome(m, "/d/") == ("redirect", "/p/a%20b")
    assert outcome(m, "/rel/3") == ("redirect", "other/3")
    assert outcome(m, "/y/0042") == ("redirect", "/year/0042")


def test_redirect_to_callable() -> None:
    calls: list[t.Any] = []

    def target(map: Map, **kwargs: t.Any) -> str:
        calls.append((map, kwargs))
        return f"/target/{kwargs['id'] * 2}"

    m = make(Rule("/c/<int:id>", "c", redirect_to=target))
    assert outcome(m, "/c/21") == ("redirect", "/target/42")
    assert calls == [(m, {"id": 21})]


def test_redirect_to_unknown_variable() -> None:
    with pytest.raises(ValueError, match="'nope'"):
        make(Rule("/a/<id>", "a", redirect_to="/b/<nope>"))


def test_redirect_defaults() -> None:
    m = make(
        Rule("/page/<int:n>", "page"),
        Rule("/page/", "page", defaults={"n": 1}),
        Rule("/other/<int:n>", "other", methods=["POST"]),
    )
    assert outcome(m, "/page/") == ("page", {"n": 1})
    assert outcome(m, "/page/1") == ("redirect", "/page/")
    assert outcome(m, "/page/2") == ("page", {"n": 2})
    m2 = make(
        Rule("/page/<int:n>", "page"),
        Rule("/page/", "page", defaults={"n": 1}),
        redirect_defaults=False,
    )
    assert outcome(m2, "/page/1") == ("page", {"n": 1})


def test_redirect_defaults_respects_method_and_build_only() -> None:
    m = make(
        Rule("/a/", "a", defaults={"n": 1}, methods=["POST"]),
        Rule("/b/", "a", defaults={"n": 1}, build_only=True),
        Rule("/a/<int:n>", "a"),
    )
    assert outcome(m, "/a/1") == ("a", {"n": 1})
    assert outcome(m, "/a/1", "POST") == ("redirect", "/a/")


def test_alias_rules() -> None:
    m = make(
        Rule("/canonical/<int:id>", "item"),
        Rule("/alias/<int:id>", "item", alias=True),
        Rule("/lonely/<int:id>", "lonely", alias=True),
    )
    assert outcome(m, "/alias/3") == ("redirect", "/canonical/3")
    assert outcome(m, "/lonely/3") == ("lonely", {"id": 3})
    assert m.build("item", {"id": 4}) == ("", "/canonical/4")
    m2 = make(
        Rule("/canonical/<int:id>", "item"),
        Rule("/alias/<int:id>", "item", alias=True),
        redirect_defaults=False,
    )
    assert outcome(m2, "/alias/3") == ("item", {"id": 3})


def test_canonical_redirects_skip_rules_that_cannot_build() -> None:
    m = make(
        Rule("/c/<int:id>", "item"),
        Rule("/a/<id>", "item", alias=True),
        Rule("/p/<int:n>/all", "list", defaults={"mode": "all"}),
        Rule("/q/<n>/<mode>", "list"),
    )
    # The canonical rule's int converter refuses "x": no redirect.
    assert outcome(m, "/a/x") == ("item", {"id": "x"})
    assert outcome(m, "/a/3") == ("redirect", "/c/3")
    # Same for a rule providing defaults.
    assert outcome(m, "/q/x/all") == ("list", {"n": "x", "mode": "all"})
    assert outcome(m, "/q/3/all") == ("redirect", "/p/3/all")
    assert outcome(m, "/q/3/some") == ("list", {"n": "3", "mode": "some"})


def test_defaults_are_merged_under_arguments() -> None:
    m = make(Rule("/x/<int:id>", "x", defaults={"lang": "en"}), Rule("/s", "s", defaults={"a": 1}))
    rule, args = m.match("/x/3")
    assert args == {"lang": "en", "id": 3}
    _, args1 = m.match("/s")
    args1["a"] = 2
    assert m.match("/s")[1] == {"a": 1}  # a fresh dict each time


# -- domains -----------------------------------------------------------------------


def test_subdomain_matching() -> None:
    m = make(
        Rule("/", "index"),
        Rule("/", "user_home", subdomain="<user>"),
        Rule("/", "api", subdomain="api"),
        Rule("/p/<int:id>", "user_post", subdomain="<user>"),
        Rule("/x", "num", subdomain="<int:n>"),
        Rule("/v", "ver", subdomain="v<int:n>.<region>"),
    )
    assert outcome(m, "/") == ("index", {})
    assert outcome(m, "/", domain="api") == ("api", {})
    assert outcome(m, "/", domain="bob") == ("user_home", {"user": "bob"})
    assert outcome(m, "/p/3", domain="bob") == ("user_post", {"user": "bob", "id": 3})
    assert outcome(m, "/p/3") == "404"
    assert outcome(m, "/x", domain="42") == ("num", {"n": 42})
    assert outcome(m, "/x", domain="bob") == "404"
    assert outcome(m, "/v", domain="v2.eu") == ("ver", {"n": 2, "region": "eu"})
    assert m.build("user_post", {"user": "bob", "id": 3}) == ("bob", "/p/3")
    assert m.build("ver", {"n": 2, "region": "eu"}) == ("v2.eu", "/v")
    assert m.build("index") == ("", "/")


def test_subdomain_validation_error_tries_next_domain_pattern() -> None:
    m = Map(converters={"even": EvenConverter})
    m.add(Rule("/", "even", subdomain="<even:n>"))
    m.add(Rule("/", "any", subdomain="<name>"))
    assert outcome(m, "/", domain="4") == ("even", {"n": 4})
    assert outcome(m, "/", domain="5") == ("any", {"name": "5"})


def test_default_subdomain() -> None:
    m = make(Rule("/", "index"), Rule("/", "api", subdomain="api"), default_subdomain="www")
    assert m._rules[0].subdomain == "www"
    assert outcome(m, "/") == ("index", {})
    assert outcome(m, "/", domain="www") == ("index", {})
    assert outcome(m, "/", domain="api") == ("api", {})
    assert outcome(m, "/", domain="other") == "404"
    assert m.build("index") == ("www", "/")


def test_host_matching() -> None:
    m = make(
        Rule("/", "main", host="example.com"),
        Rule("/", "user", host="<user>.example.com"),
        Rule("/<int:id>", "item", host="<user>.example.com"),
        Rule("/any", "hostless"),
        Rule("/sub", "sub", subdomain="ignored", host="example.org"),
        host_matching=True,
    )
    assert outcome(m, "/", domain="example.com") == ("main", {})
    assert outcome(m, "/", domain="bob.example.com") == ("user", {"user": "bob"})
    assert outcome(m, "/5", domain="bob.example.com") == ("item", {"user": "bob", "id": 5})
    assert outcome(m, "/", domain="example.org") == "404"
    assert outcome(m, "/any") == ("hostless", {})
    assert outcome(m, "/sub", domain="example.org") == ("sub", {})
    assert m.build("item", {"user": "bob", "id": 5}) == ("bob.example.com", "/5")
    assert m.build("main") == ("example.com", "/")
    assert m.build("hostless") == ("", "/any")


# -- ordering --------------------------------------------------------------------


def test_static_beats_dynamic() -> None:
    m = make(
        Rule("/<a>/<b>", "dyn"),
        Rule("/<a>/edit", "edit"),
        Rule("/user/<b>", "user"),
        Rule("/user/new", "new"),
    )
    assert outcome(m, "/user/new") == ("new", {})
    assert outcome(m, "/user/edit") == ("user", {"b": "edit"})
    assert outcome(m, "/x/edit") == ("edit", {"a": "x"})
    assert outcome(m, "/x/y") == ("dyn", {"a": "x", "b": "y"})


def test_converter_weight_order() -> None:
    m = make(
        Rule("/<path:p>", "path"),
        Rule("/<string:s>", "string"),
        Rule("/<int:i>", "int"),
    )
    assert outcome(m, "/5") == ("int", {"i": 5})
    assert outcome(m, "/x") == ("string", {"s": "x"})
    assert outcome(m, "/x/y") == ("path", {"p": "x/y"})


def test_more_static_segment_text_first() -> None:
    m = make(
        Rule("/<a>", "plain"),
        Rule("/<a>.<b>", "dotted"),
        Rule("/<a>.json", "json"),
        Rule("/v<int:n>", "version"),
    )
    assert outcome(m, "/x") == ("plain", {"a": "x"})
    assert outcome(m, "/x.json") == ("json", {"a": "x"})
    assert outcome(m, "/x.y") == ("dotted", {"a": "x", "b": "y"})
    assert outcome(m, "/v2") == ("version", {"n": 2})
    assert outcome(m, "/vx") == ("plain", {"a": "vx"})


def test_backtracking_from_static_to_dynamic() -> None:
    m = make(Rule("/a/b/c", "abc"), Rule("/<x>/b/d", "xbd"), Rule("/a/<y>/e", "aye"))
    assert outcome(m, "/a/b/d") == ("xbd", {"x": "a"})
    assert outcome(m, "/a/b/e") == ("aye", {"y": "b"})
    assert outcome(m, "/a/b/f") == "404"


def test_static_trailing_slash_redirect_beats_dynamic() -> None:
    m = make(Rule("/<name>", "dyn"), Rule("/about/", "about"))
    assert outcome(m, "/about") == ("redirect", "/about/")
    assert outcome(m, "/other") == ("dyn", {"name": "other"})


class _Odd(BaseConverter):
    """A segment converter that rejects odd lengths (a ValidationError)."""

    def to_python(self, value: str) -> t.Any:
        if len(value) % 2:
            raise ValidationError()
        return value


def _last_variable_maps() -> list[Map]:
    # Maps where a path's last segment may be a variable of an indexed node
    # (Map.match's shortcut) while the walk has to go elsewhere.
    def rules() -> list[Rule]:
        return [
            Rule("/user/<int:id>", "user_id"),
            Rule("/user/new", "user_new", methods=["POST"]),
            Rule("/item/<name>", "item", methods=["POST"]),
            Rule("/<a>/<b>", "pair", methods=["GET"]),
            Rule("/dir/<name>/", "dir"),
            Rule("/odd/<odd:v>", "odd"),
            Rule("/<x>/<y>/<z>", "three"),
            Rule("/ws/<room>", "ws", websocket=True),
            Rule("/<top>", "top"),
        ]

    converters = {"odd": _Odd}
    return [
        Map(rules(), converters=converters),
        Map(rules(), converters=converters, strict_slashes=False),
    ]


_LAST_VARIABLE_PATHS = [
    "/user/5",
    "/user/x",
    "/user/new",
    "/user/",
    "/user/05",
    "/user/\u0665",
    "/item/a",
    "/dir/a",
    "/dir/a/",
    "/odd/ab",
    "/odd/abc",
    "/ws/lobby",
    "/a",
    "/a/b/c",
    "user/5",
    "//user/5",
    "/user//5",
]


@pytest.mark.parametrize("path", _LAST_VARIABLE_PATHS)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
def test_last_variable_shortcut_matches_like_the_walk(path: str, method: str) -> None:
    for shortcut, walk in zip(_last_variable_maps(), _last_variable_maps(), strict=True):
        walk.update()
        walk._last_variables = {}  # the shortcut off: the trie walk alone
        for websocket in (False, True):
            assert outcome(shortcut, path, method, websocket=websocket) == outcome(
                walk, path, method, websocket=websocket
            )


def test_last_variable_shortcut_outcomes() -> None:
    m = _last_variable_maps()[0]
    assert outcome(m, "/user/5") == ("user_id", {"id": 5})
    assert outcome(m, "/user/x") == ("pair", {"a": "user", "b": "x"})  # int fails: backtrack
    assert outcome(m, "/user/new") == ("pair", {"a": "user", "b": "new"})  # static is POST only
    assert outcome(m, "/user/new", "POST") == ("user_new", {})
    assert outcome(m, "/item/a") == ("pair", {"a": "item", "b": "a"})  # method: backtrack
    assert outcome(m, "/item/a", "PUT") == ("405", ["GET", "HEAD", "POST"])
    assert outcome(m, "/dir/a") == ("redirect", "/dir/a/")
    assert outcome(m, "/odd/ab") == ("odd", {"v": "ab"})
    assert outcome(m, "/odd/abc") == ("pair", {"a": "odd", "b": "abc"})
    assert outcome(m, "/ws/lobby", websocket=True) == ("ws", {"room": "lobby"})
    assert outcome(m, "/ws/lobby") == ("pair", {"a": "ws", "b": "lobby"})
    assert outcome(_last_variable_maps()[1], "/dir/a") == ("dir", {"name": "a"})


# -- many rules ------------------------------------------------------------------------


def test_thousand_dynamic_rules() -> None:
    m = Map()
    m.add(Rule("/", "index"))
    m.add(Rule("/hello", "hello"))
    m.add(Rule("/static/<path:filename>", "static"))
    for i in range(1000):
        m.add(Rule(f"/r{i}/<int:id>", f"r{i}"))
    for i in (0, 1, 499, 500, 998, 999):
        assert outcome(m, f"/r{i}/{i * 7}") == (f"r{i}", {"id": i * 7})
    assert outcome(m, "/r1000/1") == "404"
    assert outcome(m, "/r999/x") == "404"
    assert outcome(m, "/r999") == "404"
    assert outcome(m, "/r999/1/2") == "404"
    assert outcome(m, "/r999/1/") == "404"
    assert outcome(m, "/hello") == ("hello", {})
    assert outcome(m, "/static/a/b.css") == ("static", {"filename": "a/b.css"})
    assert m.build("r999", {"id": 42}) == ("", "/r999/42")
    assert m.build("r500", {"id": 1, "q": "x"}) == ("", "/r500/1?q=x")


# -- building ----------------------------------------------------------------------------


def test_build_quoting() -> None:
    m = make(
        Rule("/u/<name>", "user"),
        Rule("/f/<path:p>", "files"),
        Rule("/über/<x>", "static_unicode"),
        Rule("/i/<int:id>", "int"),
    )
    assert m.build("user", {"name": "a b"}) == ("", "/u/a%20b")
    assert m.build("user", {"name": "ü"}) == ("", "/u/%C3%BC")
    assert m.build("user", {"name": "a?b#c%d"}) == ("", "/u/a%3Fb%23c%25d")
    assert m.build("user", {"name": "a/b"}) == ("", "/u/a/b")
    assert m.build("user", {"name": "!$&'()*+,;=:@"}) == ("", "/u/!$&'()*+,;=:@")
    assert m.build("files", {"p": "dir/sub dir/f.txt"}) == ("", "/f/dir/sub%20dir/f.txt")
    assert m.build("static_unicode", {"x": 1}) == ("", "/%C3%BCber/1")
    assert m.build("int", {"id": 3}) == ("", "/i/3")
    assert m.build("int", {"id": "3"}) == ("", "/i/3")


def test_build_query_string() -> None:
    m = make(Rule("/u/<name>", "user"), Rule("/s", "s", defaults={"d": 1}))
    assert m.build("user", {"name": "x", "q": "a b", "n": 1}) == ("", "/u/x?q=a+b&n=1")
    assert m.build("user", {"name": "x", "tag": ["a", "b"], "none": None}) == (
        "",
        "/u/x?tag=a&tag=b",
    )
    assert m.build("user", {"name": "x", "q": "1"}, append_unknown=False) == ("", "/u/x")
    assert m.build("user", {"name": "x", "empty": []}) == ("", "/u/x")
    assert m.build("s", {"d": 1, "e": 2}) == ("", "/s?e=2")


def test_build_from_multidict_like() -> None:
    class FakeMultiDict(dict):  # type: ignore[type-arg]
        def __init__(self, pairs: list[tuple[str, t.Any]]) -> None:
            super().__init__()
            self.pairs = pairs
            for key, value in pairs:
                self.setdefault(key, value)

        def getlist(self, key: str) -> list[t.Any]:
            return [v for k, v in self.pairs if k == key]

    m = make(Rule("/u/<name>", "user"))
    values = FakeMultiDict([("name", "x"), ("tag", "a"), ("tag", "b"), ("n", None)])
    assert m.build("user", values) == ("", "/u/x?tag=a&tag=b")


@pytest.mark.parametrize("reverse", [False, True])
def test_build_defaults_selection(reverse: bool) -> None:
    rules = [Rule("/page/", "page", defaults={"n": 1}), Rule("/page/<int:n>", "page")]
    if reverse:
        rules.reverse()
    m = make(*rules)
    assert m.build("page", {"n": 1}) == ("", "/page/")
    assert m.build("page", {"n": 2}) == ("", "/page/2")
    assert m.build("page", {}) == ("", "/page/")
    assert m.build("page") == ("", "/page/")


def test_build_prefers_more_arguments() -> None:
    m = make(Rule("/", "e", defaults={"page": 1}), Rule("/<int:page>/<sort>", "e"))
    assert m.build("e", {"page": 1, "sort": "x"}) == ("", "/1/x")
    assert m.build("e", {"page": 1}) == ("", "/")


def test_build_methods() -> None:
    m = make(
        Rule("/post", "e", methods=["POST"]),
        Rule("/get", "e", methods=["GET"]),
        Rule("/put-only", "put", methods=["PUT"]),
    )
    assert m.build("e") == ("", "/get")
    assert m.build("e", method="POST") == ("", "/post")
    assert m.build("e", method="HEAD") == ("", "/get")
    assert m.build("put") == ("", "/put-only")
    with pytest.raises(BuildError):
        m.build("put", method="GET")


def test_build_skips_rules_whose_converter_refuses() -> None:
    m = make(Rule("/n/<int:x>", "e"), Rule("/s/<x>", "e"), Rule("/a/<any(a, b):x>", "f"))
    assert m.build("e", {"x": 5}) == ("", "/n/5")
    assert m.build("e", {"x": "five"}) == ("", "/s/five")
    with pytest.raises(BuildError):
        m.build("f", {"x": "c"})


def test_build_errors() -> None:
    m = make(Rule("/u/<int:id>", "user", methods=["GET"]), Rule("/p/", "page", defaults={"n": 1}))
    with pytest.raises(BuildError) as info:
        m.build("nope")
    assert info.value.endpoint == "nope"
    with pytest.raises(BuildError):
        m.build("user", {})
    with pytest.raises(BuildError):
        m.build("user", {"id": None})
    with pytest.raises(BuildError):
        m.build("page", {"n": 2})
    with pytest.raises(LookupError):
        m.build("user", {"name": 1})
    with pytest.raises(BuildError) as info:
        m.build("user", {"id": 1}, method="POST")
    assert info.value.method == "POST"


def test_build_only() -> None:
    m = make(Rule("/ext/<int:id>", "ext", build_only=True), Rule("/static", "s", build_only=True))
    assert outcome(m, "/ext/1") == "404"
    assert outcome(m, "/static") == "404"
    assert m.build("ext", {"id": 1}) == ("", "/ext/1")
    assert m.build("s") == ("", "/static")


def test_rule_suitable_for_and_build() -> None:
    m = make(Rule("/a/<int:x>", "a", defaults={"y": 2}, methods=["GET"]))
    rule = m._rules[0]
    assert rule.suitable_for({"x": 1})
    assert rule.suitable_for({"x": 1, "y": 2}, "GET")
    assert not rule.suitable_for({"x": 1, "y": 3})
    assert not rule.suitable_for({}, "GET")
    assert not rule.suitable_for({"x": 1}, "POST")
    assert rule.build({"x": 1, "z": 3}) == ("", "/a/1?z=3")
    assert rule.build({"x": "nan"}) is None
    assert rule.build({}) is None


# -- rule definition errors --------------------------------------------------------


def test_rule_must_start_with_slash() -> None:
    with pytest.raises(ValueError, match="must start with a slash"):
        Rule("user/<id>", "e")


@pytest.mark.parametrize(
    ("rule", "error", "match"),
    [
        ("/x/<int:", ValueError, "malformed"),
        ("/x/<>", ValueError, "malformed"),
        ("/x/<1a>", ValueError, "malformed"),
        ("/x/<int(:a>", ValueError, "malformed"),
        ("/x/<int(min=):a>", ValueError, "converter"),
        ("/<a>/<a>", ValueError, "twice"),
        ("/<a>/<int:a>", ValueError, "twice"),
        ("/<foo:a>", LookupError, "the converter 'foo' does not exist"),
        ("/<int(bogus=1):a>", TypeError, "bad arguments"),
        ("/<string(1, 2, 3, 4):a>", TypeError, "bad arguments"),
    ],
)
def test_malformed_rules_fail_at_add(rule: str, error: type[Exception], match: str) -> None:
    r = Rule(rule, "e")  # no error yet
    m = Map()
    with pytest.raises(error, match=match) as info:
        m.add(r)
    assert repr(rule) in str(info.value)
    assert m._rules == []
    assert r.map is None


def test_duplicate_variable_across_domain_and_path() -> None:
    with pytest.raises(ValueError, match="twice"):
        make(Rule("/<user>", "e", subdomain="<user>"))


def test_rule_cannot_join_two_maps() -> None:
    rule = Rule("/", "e")
    Map([rule])
    with pytest.raises(RuntimeError, match="already bound"):
        Map([rule])


def test_static_text_may_contain_gt() -> None:
    m = make(Rule("/a>b/<x>", "e"))
    assert outcome(m, "/a>b/1") == ("e", {"x": "1"})


# -- map API -------------------------------------------------------------------------


def test_rule_attributes_and_repr() -> None:
    rule = Rule(
        "/user/<int:id>",
        "user",
        methods=["GET"],
        defaults={"x": 1},
        redirect_to=None,
        subdomain="s",
        host="h",
        build_only=False,
    )
    assert rule.arguments == set()
    assert rule.map is None
    assert rule.provide_automatic_options is False
    m = make(rule)
    assert rule.map is m
    assert rule.arguments == {"id"}
    assert rule.strict_slashes is True and rule.merge_slashes is True
    assert repr(rule) == "<Rule '/user/<int:id>' (GET, HEAD) -> user>"
    assert repr(Rule("/x", "y")) == "<Rule '/x' -> y>"
    assert str(rule) == "/user/<int:id>"


def test_map_api() -> None:
    a, b, c = Rule("/a", "a"), Rule("/b", "b"), Rule("/a2", "a")
    m = make(a, b, c)
    assert m._rules == [a, b, c]
    assert m._rules_by_endpoint == {"a": [a, c], "b": [b]}
    assert list(m.iter_rules()) == [a, b, c]
    assert list(m.iter_rules("a")) == [a, c]
    assert list(m.iter_rules("missing")) == []
    assert repr(m) == (
        "Map([\n    <Rule '/a' -> a>,\n    <Rule '/b' -> b>,\n    <Rule '/a2' -> a>,\n])"
    )
    assert repr(Map()) == "Map([])"
    m2 = make(Rule("/<lang>/x", "x"), Rule("/y", "x"))
    assert m2.is_endpoint_expecting("x", "lang")
    assert not m2.is_endpoint_expecting("x", "other")
    assert not m2.is_endpoint_expecting("nope")


def test_rules_added_after_first_match_recompile() -> None:
    m = make(Rule("/a", "a"))
    assert outcome(m, "/a") == ("a", {})
    assert outcome(m, "/b/1") == "404"
    m.add(Rule("/b/<int:n>", "b"))
    assert m._dirty
    assert outcome(m, "/b/1") == ("b", {"n": 1})
    m.add(Rule("/c", "c"))
    assert m.build("c") == ("", "/c")
    assert outcome(m, "/c") == ("c", {})


def _count_compiles(monkeypatch: pytest.MonkeyPatch, delay: float = 0.0) -> list[int]:
    # Each compile walks every rule through _insert once; count the first rule.
    # NOTE: patched where Map.update looks it up (erlen.routing.map).
    compiles: list[int] = []
    original = routing.map._insert

    def counting_insert(node: t.Any, steps: t.Any, rule: Rule, *args: t.Any) -> None:
        if rule is rule.map._rules[0]:  # type: ignore[union-attr]
            compiles.append(1)
            if delay:
                threading.Event().wait(delay)  # widen the race window
        original(node, steps, rule, *args)

    monkeypatch.setattr(routing.map, "_insert", counting_insert)
    return compiles


def test_update_is_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    compiles = _count_compiles(monkeypatch)
    m = make(Rule("/a", "a"))
    m.update()
    m.update()
    m.match("/a")
    m.build("a")
    assert len(compiles) == 1


def test_first_compile_is_thread_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    compiles = _count_compiles(monkeypatch, delay=0.05)
    m = Map()
    for i in range(200):
        m.add(Rule(f"/r{i}/<int:id>", f"r{i}"))
    barrier = threading.Barrier(8)
    results: list[t.Any] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for i in range(n, 200, 8):
                rule, args = m.match(f"/r{i}/{i}")
                results.append((rule.endpoint == f"r{i}", args == {"id": i}))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 200 and all(a and b for a, b in results)
    assert len(compiles) == 1


def test_path_without_leading_slash_is_treated_as_rooted() -> None:
    m = make(Rule("/<name>", "e"))
    assert outcome(m, "bob") == ("e", {"name": "bob"})


# -- MapAdapter -----------------------------------------------------------------------


def test_adapter_match() -> None:
    m = make(
        Rule("/", "index"),
        Rule("/dir/", "dir"),
        Rule("/u/<int:id>", "user", methods=["GET"]),
        Rule("/", "sub", subdomain="api"),
        Rule("/docs/", "subdocs", subdomain="api"),
        Rule("/go/<int:id>", "go", redirect_to="/u/<id>"),
        Rule("/rel/<int:id>", "rel", redirect_to="u/<id>"),
        Rule("/ext", "ext", redirect_to="https://other.example/x"),
        Rule("/ws", "ws", websocket=True),
    )
    a = m.bind("Example.com", "/app/", query_args={"q": "1"})
    assert a.server_name == "example.com"
    assert a.script_name == "/app/"
    assert a.match("/u/3") == ("user", {"id": 3})
    assert a.match("u/3") == ("user", {"id": 3})
    assert a.match() == ("index", {})
    assert a.match("/u/3", return_rule=True)[0] is m._rules[2]
    with pytest.raises(RequestRedirect) as info:
        a.match("/dir")
    assert info.value.new_url == "http://example.com/app/dir/?q=1"
    with pytest.raises(RequestRedirect) as info:
        a.match("/dir", query_args="a=b")
    assert info.value.new_url == "http://example.com/app/dir/?a=b"
    with pytest.raises(RequestRedirect) as info:
        a.match("/go/5")
    assert info.value.new_url == "http://example.com/app/u/5?q=1"
    with pytest.raises(RequestRedirect) as info:
        a.match("/rel/5", query_args={})
    assert info.value.new_url == "http://example.com/app/u/5"
    with pytest.raises(RequestRedirect) as info:
        a.match("/ext")
    assert info.value.new_url == "https://other.example/x"
    with pytest.raises(MethodNotAllowed):
        a.match("/u/3", "post")
    with pytest.raises(NotFound):
        a.match("/ws")
    assert a.match("/ws", websocket=True) == ("ws", {})
    assert m.bind("example.com", url_scheme="wss").match("/ws") == ("ws", {})
    assert m.bind("example.com", subdomain="api").match("/") == ("sub", {})
    with pytest.raises(RequestRedirect) as info:
        m.bind("example.com", subdomain="api").match("/docs")
    assert info.value.new_url == "http://api.example.com/docs/"
    assert m.bind("example.com", path_info="/u/9").match() == ("user", {"id": 9})


def test_adapter_test_and_allowed_methods() -> None:
    m = make(Rule("/u/<int:id>", "user", methods=["GET", "PUT"]), Rule("/dir/", "dir"))
    a = m.bind("example.com")
    assert a.test("/u/1")
    assert a.test("/dir")
    assert not a.test("/u/x")
    assert not a.test("/u/1", "POST")
    assert a.allowed_methods("/u/1") == ["GET", "HEAD", "PUT"]
    assert m.bind("example.com", path_info="/u/2").allowed_methods() == ["GET", "HEAD", "PUT"]


def test_adapter_build() -> None:
    m = make(
        Rule("/u/<int:id>", "user"),
        Rule("/", "api", subdomain="api"),
        Rule("/p", "post", methods=["POST"]),
        Rule("/p/get", "post", methods=["GET"]),
    )
    a = m.bind("example.com", "/app")
    assert a.build("user", {"id": 3}) == "/app/u/3"
    assert a.build("user", {"id": 3, "q": "x"}) == "/app/u/3?q=x"
    assert a.build("user", {"id": 3}, force_external=True) == "http://example.com/app/u/3"
    assert a.build("user", {"id": 3}, force_external=True, url_scheme="https") == (
        "https://example.com/app/u/3"
    )
    assert a.build("user", {"id": 3}, force_external=True, url_scheme="") == (
        "//example.com/app/u/3"
    )
    assert a.build("api") == "http://api.example.com/app/"
    assert m.bind("example.com", subdomain="api").build("api") == "/"
    assert a.build("post") == "/app/p/get"
    assert m.bind("example.com", default_method="POST").build("post") == "/p"
    assert m.bind("example.com", default_method="PUT").build("post") == "/p/get"
    with pytest.raises(BuildError):
        a.build("nope")


def test_adapter_host_matching() -> None:
    m = make(
        Rule("/", "main", host="example.com"),
        Rule("/<int:id>", "item", host="<user>.example.com"),
        Rule("/dir/", "dir", host="example.com"),
        host_matching=True,
    )
    with pytest.raises(RuntimeError):
        m.bind("example.com", subdomain="x")
    a = m.bind("example.com")
    assert a.match("/") == ("main", {})
    assert m.bind("bob.example.com").match("/4") == ("item", {"user": "bob", "id": 4})
    assert a.build("main") == "/"
    assert a.build("item", {"user": "bob", "id": 4}) == "http://bob.example.com/4"
    with pytest.raises(RequestRedirect) as info:
        a.match("/dir")
    assert info.value.new_url == "http://example.com/dir/"


# -- comparison with Werkzeug ----------------------------------------------------------

werkzeug_routing = pytest.importorskip("werkzeug.routing")

COMPARE_RULES: list[tuple[str, dict[str, t.Any]]] = [
    ("/", {"endpoint": "index"}),
    ("/about", {"endpoint": "about"}),
    ("/docs/", {"endpoint": "docs"}),
    ("/user/<int:id>", {"endpoint": "user_id"}),
    ("/user/<name>", {"endpoint": "user_name"}),
    ("/user/<name>/posts/", {"endpoint": "user_posts"}),
    ("/post/<int(fixed_digits=4):year>/<int(min=1, max=12):month>", {"endpoint": "archive"}),
    ("/files/<path:p>", {"endpoint": "files"}),
    ("/files/<path:p>/raw", {"endpoint": "files_raw"}),
    ("/tree/<path:p>/", {"endpoint": "tree"}),
    ("/img/<name>.<ext>", {"endpoint": "img"}),
    ("/v<int:version>/api", {"endpoint": "api"}),
    ("/lang/<any(en, de, 'fr'):lang>", {"endpoint": "lang"}),
    ("/price/<float:amount>", {"endpoint": "price"}),
    ("/neg/<int(signed=True):n>", {"endpoint": "neg"}),
    ("/item/<uuid:uid>", {"endpoint": "item"}),
    ("/form", {"endpoint": "form_get", "methods": ["GET"]}),
    ("/form", {"endpoint": "form_post", "methods": ["POST"]}),
    ("/only-post", {"endpoint": "only_post", "methods": ["POST"]}),
    ("/lenient", {"endpoint": "lenient", "strict_slashes": False}),
    ("/lenient-dir/", {"endpoint": "lenient_dir", "strict_slashes": False}),
    ("/<string(length=2):cc>/home", {"endpoint": "cc_home"}),
    ("/page/", {"endpoint": "page", "defaults": {"n": 1}}),
    ("/page/<int:n>", {"endpoint": "page"}),
    ("/old/<int:id>", {"endpoint": "old", "redirect_to": "new/<id>"}),
]

COMPARE_PATHS = [
    "/",
    "/about",
    "/about/",
    "/docs",
    "/docs/",
    "/user/42",
    "/user/0042",
    "/user/bob",
    "/user/bob/posts",
    "/user/bob/posts/",
    "/user/",
    "/user",
    "/post/2024/05",
    "/post/2024/13",
    "/post/24/05",
    "/post/2024/0",
    "/files/a",
    "/files/a/b/c.txt",
    "/files/a/b/raw",
    "/files/",
    "/files//x",
    "/tree/a/b",
    "/tree/a/b/",
    "/img/cat.png",
    "/img/cat",
    "/img/a.b.c",
    "/v2/api",
    "/v/api",
    "/vx/api",
    "/lang/en",
    "/lang/fr",
    "/lang/es",
    "/price/1.5",
    "/price/1",
    "/price/-1.5",
    "/neg/-5",
    "/neg/5",
    "/neg/--5",
    "/item/12345678-1234-5678-1234-567812345678",
    "/item/nope",
    "/form",
    "/only-post",
    "/lenient",
    "/lenient/",
    "/lenient-dir",
    "/lenient-dir/",
    "/de/home",
    "/deu/home",
    "/page/",
    "/page/1",
    "/page/2",
    "/page",
    "/old/3",
    "/about//",
    "//about",
    "/user//42",
    "/nothing",
    "/user/b ö",
    "/user/a%2Fb",
]


def _erlen_outcome(adapter: t.Any, path: str, method: str) -> t.Any:
    try:
        return ("match", *adapter.match(path, method))
    except RequestRedirect as e:
        return ("redirect", e.new_url)
    except MethodNotAllowed as e:
        return ("405", sorted(e.valid_methods or ()))
    except NotFound:
        return ("404",)


def _werkzeug_outcome(adapter: t.Any, path: str, method: str) -> t.Any:
    from werkzeug.exceptions import MethodNotAllowed as WMethodNotAllowed
    from werkzeug.exceptions import NotFound as WNotFound

    try:
        return ("match", *adapter.match(path, method))
    except werkzeug_routing.RequestRedirect as e:
        return ("redirect", e.new_url)
    except WMethodNotAllowed as e:
        return ("405", sorted(e.valid_methods or ()))
    except WNotFound:
        return ("404",)


@pytest.fixture(scope="module")
def adapters() -> tuple[t.Any, t.Any]:
    ours = Map([Rule(s, **kw) for s, kw in COMPARE_RULES])
    theirs = werkzeug_routing.Map([werkzeug_routing.Rule(s, **kw) for s, kw in COMPARE_RULES])
    return ours.bind("localhost"), theirs.bind("localhost")


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("path", COMPARE_PATHS)
def test_matching_agrees_with_werkzeug(adapters: t.Any, path: str, method: str) -> None:
    ours, theirs = adapters
    assert _erlen_outcome(ours, path, method) == _werkzeug_outcome(theirs, path, method)


COMPARE_BUILDS: list[tuple[str, dict[str, t.Any]]] = [
    ("index", {}),
    ("about", {"q": "a b", "x": ["1", "2"]}),
    ("user_id", {"id": 5}),
    ("user_name", {"name": "a b/ü?#%"}),
    ("archive", {"year": 7, "month": 3}),
    ("files", {"p": "a b/c/ü.txt"}),
    ("img", {"name": "cat", "ext": "png"}),
    ("api", {"version": 3}),
    ("lang", {"lang": "de"}),
    ("price", {"amount": 2.5}),
    ("neg", {"n": -3}),
    ("item", {"uid": uuid.UUID(int=5)}),
    ("page", {"n": 1}),
    ("page", {"n": 2}),
    ("page", {}),
    ("cc_home", {"cc": "de", "extra": None}),
]


@pytest.mark.parametrize(("endpoint", "values"), COMPARE_BUILDS)
def test_building_agrees_with_werkzeug(
    adapters: t.Any, endpoint: str, values: dict[str, t.Any]
) -> None:
    ours, theirs = adapters
    assert ours.build(endpoint, values) == theirs.build(endpoint, values)


def test_matching_agrees_with_werkzeug_on_generated_paths(adapters: t.Any) -> None:
    import itertools
    import random

    vocab = [
        "",
        "user",
        "42",
        "bob",
        "posts",
        "files",
        "a",
        "raw",
        "tree",
        "img",
        "cat.png",
        "v2",
        "api",
        "lang",
        "en",
        "price",
        "1.5",
        "neg",
        "-5",
        "page",
        "1",
        "docs",
        "about",
        "form",
        "old",
        "de",
        "home",
        "2024",
        "05",
        "post",
        "lenient",
    ]
    paths = ["/" + "/".join(p) for n in (1, 2) for p in itertools.product(vocab, repeat=n)]
    rng = random.Random(1234)
    paths += ["/" + "/".join(rng.choices(vocab, k=rng.randint(3, 5))) for _ in range(1500)]
    ours, theirs = adapters
    mismatches = [
        (path, method)
        for path in paths
        for method in ("GET", "POST")
        if _erlen_outcome(ours, path, method) != _werkzeug_outcome(theirs, path, method)
    ]
    assert mismatches == []


# issue 15, finding 4: a rule with several <path:> converters was one regex
# whose lazy groups backtrack in O(n**k) for k converters: four converters
# and a 405-byte URL took seconds, three and a 12 KB URL over a minute.
def test_several_path_converters_match_in_linear_time() -> None:
    m = Map(
        [
            Rule("/n/<path:a>/x/<path:b>/y/<path:c>/z", endpoint="three"),
            Rule("/p/<path:a>/<path:b>/<path:c>/<path:d>/end", endpoint="four"),
            Rule("/f/<path:name>.<ext>", endpoint="ext"),
        ]
    )
    adapter = m.bind("localhost")
    hostile = "/n/" + "a/x/a/y/" * 1500  # 12 KB
    for url in (hostile, "/p/" + "a/" * 201, "/f/a" + ".b" * 6000 + "/"):
        start = time.perf_counter()
        with pytest.raises(NotFound):
            adapter.match(url)
        assert time.perf_counter() - start < 2, url[:20]
    # Matches keep the regex's values: each path value the shortest that works.
    start = time.perf_counter()
    assert adapter.match(hostile + "a/z") == (
        "three",
        {"a": "a", "b": "a", "c": "a/x/a/y/" * 1499 + "a"},
    )
    assert time.perf_counter() - start < 2
    assert adapter.match("/p/a/b/c/d/e/end") == ("four", {"a": "a", "b": "b", "c": "c", "d": "d/e"})
    assert adapter.match("/f/dir/x.tar.gz") == ("ext", {"name": "dir/x", "ext": "tar.gz"})


# -- Werkzeug's matching rules that Flask's suite checks ------------------------


def test_rule_defaults_win_over_matched_values() -> None:
    # As Werkzeug: a rule's defaults are applied after its variables, so a
    # default for one of its own variables is what the view gets.
    m = make(Rule("/p/<int:page>", endpoint="p", defaults={"page": 1, "lang": "en"}))
    assert outcome(m, "/p/5") == ("p", {"page": 1, "lang": "en"})


def test_host_rule_with_a_default_for_its_host_variable() -> None:
    from erlen import Erlen

    app = Erlen(__name__, host_matching=True, static_host="example.test")

    @app.route("/", defaults={"name": "default"}, host="<name>")
    @app.route("/", host="<name>.example.test")
    def index(name: str) -> str:
        return name

    client = app.test_client()
    assert client.get(base_url="http://abc.example.test").text == "abc"
    # Only the catch-all host rule matches these, and its default wins.
    assert client.get(base_url="http://example.test").text == "default"
    assert client.get(base_url="http://xyz.other.test").text == "default"


@pytest.mark.parametrize(
    ("server_name", "base_url", "expected"),
    [
        ("dev.test:443", "https://dev.test", "main"),
        ("dev.test:443", "https://api.dev.test", "api"),
        ("dev.test:80", "http://dev.test", "main"),
        ("dev.test:5000", "http://dev.test:5000", "main"),
        ("dev.test:5000", "http://api.dev.test:5000", "api"),
    ],
)
def test_server_name_with_the_default_port(server_name: str, base_url: str, expected: str) -> None:
    # As Werkzeug: SERVER_NAME's port is left out when it is the scheme's
    # default, as it is from the request's host.
    from erlen import Erlen

    app = Erlen(__name__, subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = server_name
    app.add_url_rule("/", "main", lambda: "main")
    app.add_url_rule("/", "api", lambda: "api", subdomain="api")
    assert app.test_client().get("/", base_url).text == expected


def test_host_outside_server_name_is_the_invalid_subdomain() -> None:
    from erlen import Erlen

    app = Erlen(__name__, subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "dev.test:443"
    app.add_url_rule("/", "main", lambda: "main")
    app.add_url_rule("/x", "sub", lambda sub: sub, subdomain="<sub>")
    client = app.test_client()
    with pytest.warns(UserWarning, match="'other.test' is neither SERVER_NAME 'dev.test:443'"):
        assert client.get("/", "http://other.test").status_code == 404
    with pytest.warns(UserWarning, match="<invalid>"):
        assert client.get("/x", "https://other.test").text == "<invalid>"
    # The default port of another scheme is not left out.
    with pytest.warns(UserWarning):
        assert client.get("/", "http://dev.test").status_code == 404


def test_rule_trace_lists_parts_as_werkzeug_does() -> None:
    # API doc builders (flask-smorest) read Werkzeug's private Rule._trace
    # for the path parameters in order; Erlen builds the same list.
    m = routing.Map(
        [
            Rule("/items/<int:id>/x/<name>", endpoint="e"),
            Rule("/a/", endpoint="f", subdomain="<sub>.api"),
            Rule("/", endpoint="g"),
        ]
    )
    traces = {r.endpoint: r._trace for r in m.iter_rules()}
    assert traces["e"] == [
        (False, "|"),
        (False, "/"),
        (False, "items"),
        (False, "/"),
        (True, "id"),
        (False, "/"),
        (False, "x"),
        (False, "/"),
        (True, "name"),
    ]
    assert traces["f"] == [
        (True, "sub"),
        (False, ".api"),
        (False, "|"),
        (False, "/"),
        (False, "a"),
        (False, "/"),
    ]
    assert traces["g"] == [(False, "|"), (False, "/")]
    hosted = routing.Map([Rule("/p/<a>", endpoint="e", host="<h>.example.com")], host_matching=True)
    assert next(hosted.iter_rules())._trace == [
        (True, "h"),
        (False, ".example.com"),
        (False, "|"),
        (False, "/"),
        (False, "p"),
        (False, "/"),
        (True, "a"),
    ]
    assert Rule("/unbound/<x>", endpoint="u")._trace == []
