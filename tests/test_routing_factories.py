"""Rule factories: Submount, Subdomain, EndpointPrefix and RuleTemplate give a map groups of rules."""

from __future__ import annotations

import pytest

from erlen import Erlen
from erlen.exceptions import NotFound
from erlen.routing import (
    EndpointPrefix,
    Map,
    Rule,
    RuleFactory,
    RuleTemplate,
    RuleTemplateFactory,
    Subdomain,
    Submount,
)


def test_submount_puts_its_path_in_front() -> None:
    url_map = Map(
        [Submount("/blog/", [Rule("/", endpoint="index"), Rule("/<int:id>", endpoint="post")])]
    )
    adapter = url_map.bind("example.com")
    assert adapter.match("/blog/") == ("index", {})
    assert adapter.match("/blog/7") == ("post", {"id": 7})
    assert adapter.build("post", {"id": 3}) == "/blog/3"
    with pytest.raises(NotFound):
        adapter.match("/7")


def test_endpoint_prefix_and_nesting() -> None:
    url_map = Map(
        [
            EndpointPrefix(
                "admin.",
                [Submount("/admin", [Rule("/users", endpoint="users", methods=["GET"])])],
            )
        ]
    )
    (rule,) = url_map.iter_rules()
    assert (rule.rule, rule.endpoint, rule.methods) == (
        "/admin/users",
        "admin.users",
        {"GET", "HEAD"},
    )
    assert url_map.bind("x").match("/admin/users") == ("admin.users", {})


def test_subdomain_sets_the_subdomain_of_its_rules() -> None:
    url_map = Map([Subdomain("<user>", [Rule("/", endpoint="home")]), Rule("/", endpoint="root")])
    assert url_map.bind("example.com", subdomain="ann").match("/") == ("home", {"user": "ann"})
    assert url_map.bind("example.com").match("/") == ("root", {})


def test_factories_copy_the_rules_they_hold() -> None:
    # The same group can be mounted twice: each mount gets its own rules, and
    # the given rule stays unbound and unchanged.
    shared = [Rule("/list", endpoint="list", defaults={"page": 1}, strict_slashes=False)]
    url_map = Map([Submount("/a", shared), Submount("/b", shared)])
    assert [r.rule for r in url_map.iter_rules()] == ["/a/list", "/b/list"]
    first, second = url_map.iter_rules()
    assert first is not shared[0] and first.defaults is not second.defaults
    assert first.defaults == {"page": 1} and first.strict_slashes is False
    assert shared[0].rule == "/list" and shared[0].map is None


def test_rule_empty_is_an_unbound_copy() -> None:
    rule = Rule("/x/<name>", endpoint="x", methods=["POST"], host="<h>.test", websocket=False)
    Map([rule])
    copy = rule.empty()
    assert copy is not rule and copy.map is None and type(copy) is Rule
    assert (copy.rule, copy.endpoint, copy.methods, copy.host) == (
        "/x/<name>",
        "x",
        {"POST"},
        "<h>.test",
    )
    Map([copy])  # it can join another map
    assert list(rule.get_rules(Map())) == [rule]


def test_rule_template_fills_its_fields() -> None:
    resource = RuleTemplate(
        [
            Rule("/$name/", endpoint="$name.list", defaults={"kind": "$name", "n": 1}),
            Rule("/$name/<int:id>", endpoint="$name.show", subdomain="$sub"),
        ]
    )
    factory = resource({"name": "users"}, sub="api")
    assert isinstance(factory, RuleTemplateFactory)
    url_map = Map([factory, resource(name="posts", sub="www")])
    rules = {str(r.endpoint): r for r in url_map.iter_rules()}
    assert sorted(rules) == ["posts.list", "posts.show", "users.list", "users.show"]
    assert rules["users.list"].rule == "/users/"
    assert rules["users.list"].defaults == {"kind": "users", "n": 1}
    assert rules["posts.show"].subdomain == "www"
    assert url_map.bind("x", subdomain="api").match("/users/5") == ("users.show", {"id": 5})


def test_rule_template_leaves_a_missing_endpoint_alone() -> None:
    (rule,) = Map([RuleTemplate([Rule("/$page")])(page="about")]).iter_rules()
    assert (rule.rule, rule.endpoint) == ("/about", None)


def test_rule_template_missing_field_fails_when_added() -> None:
    with pytest.raises(KeyError, match="name"):
        Map([RuleTemplate([Rule("/$name", endpoint="e")])()])


def test_a_rule_factory_must_give_rules() -> None:
    with pytest.raises(NotImplementedError):
        Map([RuleFactory()])


def test_a_rule_in_a_map_is_not_added_again() -> None:
    rule = Rule("/", endpoint="e")
    url_map = Map([rule])
    with pytest.raises(RuntimeError, match="already bound"):
        url_map.add(rule)


def test_app_serves_a_submount_added_to_its_url_map() -> None:
    # What Flask's own suite does: add the rules to app.url_map, then views by endpoint.
    app = Erlen(__name__)
    app.url_map.add(Submount("/foo", [Rule("/bar", endpoint="bar"), Rule("/", endpoint="index")]))
    app.view_functions["bar"] = lambda: "bar"
    app.view_functions["index"] = lambda: "index"
    client = app.test_client()
    assert client.get("/foo/").text == "index"
    assert client.get("/foo/bar").text == "bar"
    with app.test_request_context():
        from erlen import url_for

        assert url_for("bar") == "/foo/bar"
