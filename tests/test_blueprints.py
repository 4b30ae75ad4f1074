"""Blueprints: deferred registration, prefixes, nesting, scoped hooks, templates, static."""

from __future__ import annotations

import os
import typing as t
from datetime import timedelta

import pytest

import erlen
from erlen import Blueprint, Erlen, abort, request, url_for
from erlen.blueprints import BlueprintSetupState
from erlen.globals import g
from erlen.scaffold import _sentinel


@pytest.fixture
def bp() -> Blueprint:
    return Blueprint("bp", __name__)


# -- construction and names ---------------------------------------------------


def test_exported() -> None:
    assert erlen.Blueprint is Blueprint
    assert "Blueprint" in erlen.__all__


@pytest.mark.parametrize("name", ["", "a.b"])
def test_invalid_blueprint_name(name: str) -> None:
    with pytest.raises(ValueError, match="'name'"):
        Blueprint(name, __name__)


def test_repr(bp: Blueprint) -> None:
    assert repr(bp) == "<Blueprint 'bp'>"


def test_dotted_endpoint_rejected(bp: Blueprint) -> None:
    with pytest.raises(ValueError, match="'endpoint' may not contain a dot"):
        bp.add_url_rule("/", endpoint="a.b", view_func=lambda: "")


def test_dotted_view_name_rejected(bp: Blueprint) -> None:
    def view() -> str:
        return ""

    view.__name__ = "a.b"
    with pytest.raises(ValueError, match="'view_func' name may not contain a dot"):
        bp.add_url_rule("/", view_func=view)


def test_register_on_itself(bp: Blueprint) -> None:
    with pytest.raises(ValueError, match="on itself"):
        bp.register_blueprint(bp)


def test_setup_after_registration_fails(app: Erlen, bp: Blueprint) -> None:
    app.register_blueprint(bp)
    with pytest.raises(AssertionError, match="'route'.*blueprint 'bp'"):
        bp.route("/late")


def test_register_after_first_request_fails(app: Erlen, client: t.Any, bp: Blueprint) -> None:
    client.get("/")
    with pytest.raises(AssertionError, match="register_blueprint"):
        app.register_blueprint(bp)


# -- routes, prefixes, subdomains, defaults ------------------------------------


def test_route_endpoint_is_prefixed(app: Erlen, client: t.Any, bp: Blueprint) -> None:
    @bp.route("/")
    def index() -> str:
        return request.endpoint or ""

    @bp.get("/named", endpoint="other")
    def named() -> str:
        return f"{request.blueprint}|{request.blueprints}"

    app.register_blueprint(bp)
    assert client.get("/").text == "bp.index"
    assert client.get("/named").text == "bp|['bp']"
    assert "bp.other" in app.view_functions
    assert app.blueprints == {"bp": bp}
    assert list(app.iter_blueprints()) == [bp]


@pytest.mark.parametrize(
    ("prefix", "rule", "url"),
    [
        ("/pre", "/x", "/pre/x"),
        ("/pre/", "/x", "/pre/x"),
        ("/pre", "x", "/pre/x"),
        ("/pre", "", "/pre"),
        ("/pre", "/", "/pre/"),
    ],
)
def test_url_prefix_joining(app: Erlen, client: t.Any, prefix: str, rule: str, url: str) -> None:
    bp = Blueprint("bp", __name__, url_prefix=prefix)
    bp.add_url_rule(rule, "view", lambda: "ok")
    app.register_blueprint(bp)
    with app.test_request_context():
        assert url_for("bp.view") == url
    assert client.get(url).text == "ok"


def test_registration_prefix_overrides(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/own")
    bp.add_url_rule("/", "view", lambda: "ok")
    app.register_blueprint(bp, url_prefix="/given")
    assert client.get("/given/").text == "ok"
    assert client.get("/own/").status_code == 404


def test_subdomain(app: Erlen, client: t.Any) -> None:
    app.config["SERVER_NAME"] = "example.test"
    app.subdomain_matching = True
    bp = Blueprint("bp", __name__, subdomain="api")
    bp.add_url_rule("/", "index", lambda: "api")
    bp.add_url_rule("/own", "own", lambda: "own", subdomain="other")
    app.register_blueprint(bp)
    other = Blueprint("other", __name__)
    other.add_url_rule("/", "index", lambda: "given")
    app.register_blueprint(other, subdomain="given")
    assert client.get("/", base_url="http://api.example.test").text == "api"
    assert client.get("/own", base_url="http://other.example.test").text == "own"
    assert client.get("/", base_url="http://given.example.test").text == "given"
    assert client.get("/", base_url="http://example.test").status_code == 404
    with app.app_context():
        assert url_for("bp.index") == "http://api.example.test/"


def test_url_defaults(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("bp", __name__, url_defaults={"lang": "en", "page": 1})

    @bp.route("/", defaults={"page": 2})
    def index(lang: str, page: int) -> str:
        return f"{lang}{page}"

    @bp.route("/p/<int:page>")
    def paged(lang: str, page: int) -> str:
        return f"{lang}{page}"

    app.register_blueprint(bp, url_prefix="/en")
    app.register_blueprint(bp, url_prefix="/de", name="de", url_defaults={"lang": "de"})
    assert client.get("/en/").text == "en2"
    assert client.get("/de/").text == "de2"
    # As in Flask: the blueprint's url_defaults are the rule's defaults, and a
    # rule's defaults win over the values its URL matched (Werkzeug's rule).
    assert client.get("/de/p/5").text == "de1"
    # The blueprint's own defaults are not changed by a registration.
    assert bp.url_values_defaults == {"lang": "en", "page": 1}


def test_setup_state(app: Erlen) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/p", subdomain="s", url_defaults={"a": 1})
    states: list[BlueprintSetupState] = []
    bp.record(states.append)
    app.register_blueprint(bp)
    app.register_blueprint(bp, name="two", url_prefix="/q", subdomain="t", url_defaults={"b": 2})
    first, second = states
    assert (first.app, first.blueprint, first.first_registration) == (app, bp, True)
    assert (first.name, first.name_prefix, first.url_prefix, first.subdomain) == (
        "bp",
        "",
        "/p",
        "s",
    )
    assert first.url_defaults == {"a": 1}
    assert (second.name, second.url_prefix, second.subdomain, second.first_registration) == (
        "two",
        "/q",
        "t",
        False,
    )
    assert second.url_defaults == {"a": 1, "b": 2}


def test_make_setup_state_override(app: Erlen) -> None:
    class State(BlueprintSetupState):
        pass

    class MyBlueprint(Blueprint):
        def make_setup_state(
            self, app: Erlen, options: dict[str, t.Any], first_registration: bool = False
        ) -> BlueprintSetupState:
            return State(self, app, options, first_registration)

    seen: list[object] = []
    bp = MyBlueprint("bp", __name__)
    bp.record(seen.append)
    app.register_blueprint(bp)
    assert type(seen[0]) is State


def test_record_and_record_once(app: Erlen, bp: Blueprint) -> None:
    every: list[str] = []
    once: list[str] = []

    def once_func(state: BlueprintSetupState) -> None:
        once.append(state.name)

    bp.record(lambda s: every.append(s.name))
    bp.record_once(once_func)
    assert bp.deferred_functions[-1].__name__ == "once_func"
    app.register_blueprint(bp)
    app.register_blueprint(bp, name="again")
    assert every == ["bp", "again"]
    assert once == ["bp"]
    # A second app is a first registration again.
    other = Erlen("other", root_path=app.root_path)
    other.register_blueprint(bp)
    assert once == ["bp", "bp"]


def test_endpoint_decorator_uses_endpoint_as_written(
    app: Erlen, client: t.Any, bp: Blueprint
) -> None:
    app.add_url_rule("/foo", endpoint="bar")

    @bp.endpoint("bar")
    def foobar() -> str:
        return request.endpoint or ""

    app.register_blueprint(bp, url_prefix="/bp")
    assert client.get("/foo").text == "bar"
    assert client.get("/bp/bar").status_code == 404


def test_view_class_methods_and_automatic_options(app: Erlen, client: t.Any, bp: Blueprint) -> None:
    @bp.route("/", methods=["POST"], provide_automatic_options=False)
    def index() -> str:
        return "posted"

    app.register_blueprint(bp)
    assert client.post("/").text == "posted"
    assert client.options("/").status_code == 405


# -- registering twice ------------------------------------------------------------


def test_double_registration_needs_name(app: Erlen, bp: Blueprint) -> None:
    app.register_blueprint(bp)
    with pytest.raises(
        ValueError, match="'bp' is already registered for this blueprint. Pass a unique 'name='"
    ):
        app.register_blueprint(bp)


def test_name_taken_by_different_blueprint(app: Erlen, bp: Blueprint) -> None:
    app.register_blueprint(bp)
    with pytest.raises(ValueError, match="a different blueprint"):
        app.register_blueprint(Blueprint("bp", __name__))


def test_nested_name_collision_mentions_full_name(app: Erlen) -> None:
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)
    parent.register_blueprint(child)
    parent.register_blueprint(child)
    with pytest.raises(ValueError, match="as 'parent.child'"):
        app.register_blueprint(parent)


@pytest.mark.parametrize("name", ["", "a.b"])
def test_invalid_registration_name(app: Erlen, bp: Blueprint, name: str) -> None:
    with pytest.raises(ValueError, match="may not be empty or contain a dot"):
        app.register_blueprint(bp, name=name)


def test_double_registration_with_name(app: Erlen, client: t.Any, bp: Blueprint) -> None:
    @bp.route("/")
    def index() -> str:
        return url_for(".index")

    @bp.before_request
    def before() -> None:
        g.seen = g.get("seen", 0) + 1

    @bp.errorhandler(KeyError)
    def key_error(e: KeyError) -> tuple[str, int]:
        return f"{request.blueprint} key", 400

    @bp.route("/boom")
    def boom() -> str:
        raise KeyError("x")

    @bp.after_request
    def after(response: t.Any) -> t.Any:
        response.headers["X-Seen"] = str(g.seen)
        return response

    app.register_blueprint(bp, url_prefix="/one")
    app.register_blueprint(bp, url_prefix="/two", name="two")
    assert set(app.blueprints) == {"bp", "two"}
    assert client.get("/one/").text == "/one/"
    r = client.get("/two/")
    assert r.text == "/two/"
    # Registered once per name, so each runs once per request.
    assert r.headers["X-Seen"] == "1"
    assert client.get("/two/boom").text == "two key"
    assert app.error_handler_spec["two"] is not app.error_handler_spec["bp"]


# -- nesting ------------------------------------------------------------------------


def test_nested_blueprints(app: Erlen, client: t.Any) -> None:
    parent = Blueprint("parent", __name__, url_prefix="/parent")
    child = Blueprint("child", __name__, url_prefix="/child")
    grandchild = Blueprint("grandchild", __name__, url_prefix="/grandchild")

    @grandchild.route("/")
    def index() -> str:
        return f"{request.endpoint} {request.blueprints} {url_for('.index')} {url_for('parent.child.index_child')}"

    @child.route("/")
    def index_child() -> str:
        return request.endpoint or ""

    child.register_blueprint(grandchild)
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert list(app.blueprints) == ["parent", "parent.child", "parent.child.grandchild"]
    assert client.get("/parent/child/grandchild/").text == (
        "parent.child.grandchild.index ['parent.child.grandchild', 'parent.child', 'parent']"
        " /parent/child/grandchild/ /parent/child/"
    )
    assert client.get("/parent/child/").text == "parent.child.index_child"


@pytest.mark.parametrize(
    ("parent_prefix", "child_prefix", "child_option", "url"),
    [
        ("/a/", "/b", None, "/a/b/x"),
        (None, "/b", None, "/b/x"),
        ("/a", None, None, "/a/x"),
        (None, None, None, "/x"),
        ("/a", "/b", "/c", "/a/c/x"),
    ],
)
def test_nested_prefixes(
    app: Erlen,
    client: t.Any,
    parent_prefix: str | None,
    child_prefix: str | None,
    child_option: str | None,
    url: str,
) -> None:
    parent = Blueprint("parent", __name__, url_prefix=parent_prefix)
    child = Blueprint("child", __name__, url_prefix=child_prefix)
    child.add_url_rule("/x", "x", lambda: "ok")
    options = {} if child_option is None else {"url_prefix": child_option}
    parent.register_blueprint(child, **options)
    app.register_blueprint(parent)
    assert client.get(url).text == "ok"


def test_nested_subdomains(app: Erlen, client: t.Any) -> None:
    app.config["SERVER_NAME"] = "example.test"
    app.subdomain_matching = True

    def make(parent_sub: str | None, child_sub: str | None, name: str) -> None:
        parent = Blueprint(name, __name__, subdomain=parent_sub)
        child = Blueprint("child", __name__, subdomain=child_sub)
        child.add_url_rule("/", "index", lambda: name)
        parent.register_blueprint(child)
        app.register_blueprint(parent)

    make("api", "v1", "both")
    make(None, "only-child", "child")
    make("only-parent", None, "parent")
    parent = Blueprint("given", __name__, subdomain="top")
    child = Blueprint("child", __name__, subdomain="ignored")
    child.add_url_rule("/", "index", lambda: "given")
    parent.register_blueprint(child, subdomain="opt")
    app.register_blueprint(parent)
    assert client.get("/", base_url="http://opt.top.example.test").text == "given"
    assert client.get("/", base_url="http://v1.api.example.test").text == "both"
    assert client.get("/", base_url="http://only-child.example.test").text == "child"
    assert client.get("/", base_url="http://only-parent.example.test").text == "parent"


def test_nested_registered_twice_under_names(app: Erlen, client: t.Any) -> None:
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)
    child.add_url_rule("/", "index", lambda: request.endpoint)
    parent.register_blueprint(child, url_prefix="/a")
    parent.register_blueprint(child, url_prefix="/b", name="other")
    app.register_blueprint(parent)
    assert client.get("/a/").text == "parent.child.index"
    assert client.get("/b/").text == "parent.other.index"


def test_nested_hooks_order(app: Erlen, client: t.Any) -> None:
    calls: list[str] = []
    parent = Blueprint("parent", __name__, url_prefix="/p")
    child = Blueprint("child", __name__, url_prefix="/c")

    for name, scaffold in (("app", app), ("parent", parent), ("child", child)):

        def before(name: str = name) -> None:
            calls.append(f"before {name}")

        def after(response: t.Any, name: str = name) -> t.Any:
            calls.append(f"after {name}")
            return response

        def teardown(exc: BaseException | None, name: str = name) -> None:
            calls.append(f"teardown {name}")

        scaffold.before_request(before)
        scaffold.after_request(after)
        scaffold.teardown_request(teardown)

    child.add_url_rule("/", "index", lambda: "ok")
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert client.get("/p/c/").text == "ok"
    assert calls == [
        "before app",
        "before parent",
        "before child",
        "after child",
        "after parent",
        "after app",
        "teardown child",
        "teardown parent",
        "teardown app",
    ]


def test_nested_error_handlers(app: Erlen, client: t.Any) -> None:
    parent = Blueprint("parent", __name__, url_prefix="/p")
    child = Blueprint("child", __name__, url_prefix="/c")

    @parent.errorhandler(403)
    def parent_forbidden(e: Exception) -> str:
        return "parent 403"

    @child.errorhandler(404)
    def child_missing(e: Exception) -> str:
        return "child 404"

    @child.route("/forbidden")
    def forbidden() -> None:
        abort(403)

    @child.route("/missing")
    def missing() -> None:
        abort(404)

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert client.get("/p/c/forbidden").text == "parent 403"
    assert client.get("/p/c/missing").text == "child 404"


# -- scoped hooks and handlers ---------------------------------------------------------


def test_error_handler_scope(app: Erlen, client: t.Any, bp: Blueprint) -> None:
    @app.errorhandler(404)
    def app_missing(e: Exception) -> tuple[str, int]:
        return "app 404", 404

    @app.errorhandler(ZeroDivisionError)
    def app_zero(e: Exception) -> str:
        return "app zero"

    @bp.errorhandler(404)
    def bp_missing(e: Exception) -> tuple[str, int]:
        return "bp 404", 404

    @bp.errorhandler(ZeroDivisionError)
    def bp_zero(e: Exception) -> str:
        return "bp zero"

    @bp.route("/missing")
    def bp_abort() -> None:
        abort(404)

    @bp.route("/zero")
    def bp_div() -> float:
        return 1 / 0

    @app.route("/missing")
    def app_abort() -> None:
        abort(404)

    @app.route("/zero")
    def app_div() -> float:
        return 1 / 0

    app.register_blueprint(bp, url_prefix="/bp")
    assert client.get("/bp/missing").text == "bp 404"
    assert client.get("/bp/zero").text == "bp zero"
    assert client.get("/missing").text == "app 404"
    assert client.get("/zero").text == "app zero"
    # No rule matched, so no blueprint: the app's handler answers.
    assert client.get("/bp/unknown").text == "app 404"


def test_register_error_handler_and_class_handler(app: Erlen, client: t.Any, bp: Blueprint) -> None:
    class MyError(Exception):
        pass

    bp.register_error_handler(MyError, lambda e: "mine")

    @bp.route("/")
    def index() -> None:
        raise MyError()

    app.register_blueprint(bp)
    assert client.get("/").text == "mine"


def test_blueprint_hooks_only_for_its_requests(app: Erlen, client: t.Any, bp: Blueprint) -> None:
    calls: list[str] = []

    @bp.before_request
    def before() -> None:
        calls.append("before")

    @bp.after_request
    def after(response: t.Any) -> t.Any:
        calls.append("after")
        return response

    @bp.teardown_request
    def teardown(exc: BaseException | None) -> None:
        calls.append("teardown")

    bp.add_url_rule("/bp", "index", lambda: "bp")
    app.add_url_rule("/app", "index", lambda: "app")
    app.register_blueprint(bp)
    client.get("/app")
    assert calls == []
    client.get("/bp")
    assert calls == ["before", "after", "teardown"]


def test_before_request_short_circuits(app: Erlen, client: t.Any, bp: Blueprint) -> None:
    bp.before_request(lambda: "stopped")
    bp.add_url_rule("/", "index", lambda: "view")
    app.register_blueprint(bp)
    assert client.get("/").text == "stopped"


def test_url_processors(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("lang", __name__, url_prefix="/<lang_code>")

    @bp.url_defaults
    def add_language_code(endpoint: str, values: dict[str, t.Any]) -> None:
        values.setdefault("lang_code", g.lang_code)

    @bp.url_value_preprocessor
    def pull_lang_code(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        assert values is not None
        g.lang_code = values.pop("lang_code")

    @bp.route("/")
    def index() -> str:
        return url_for(".about")

    @bp.route("/about")
    def about() -> str:
        return url_for(".index")

    @app.route("/plain")
    def plain() -> str:
        return url_for("plain")

    app.register_blueprint(bp)
    assert client.get("/de/").text == "/de/about"
    assert client.get("/en/about").text == "/en/"
    # The blueprint's url_defaults do not run for app endpoints.
    assert client.get("/plain").text == "/plain"


def test_context_processor_scope(app: Erlen, client: t.Any, bp: Blueprint) -> None:
    from erlen import render_template_string

    @bp.context_processor
    def bp_values() -> dict[str, str]:
        return {"who": "bp"}

    @app.context_processor
    def app_values() -> dict[str, str]:
        return {"who": "app", "only_app": "yes"}

    bp.add_url_rule("/bp", "index", lambda: render_template_string("{{ who }} {{ only_app }}"))
    app.add_url_rule("/app", "index", lambda: render_template_string("{{ who }} {{ only_app }}"))
    app.register_blueprint(bp)
    assert client.get("/bp").text == "bp yes"
    assert client.get("/app").text == "app yes"


def test_empty_hook_lists_not_copied(app: Erlen, bp: Blueprint) -> None:
    bp.before_request_funcs[None]  # a read that creates an empty list
    bp.error_handler_spec[None][None]  # and an empty handler map
    app.register_blueprint(bp)
    assert not app.before_request_funcs
    assert not app.error_handler_spec


def test_scoped_keys_are_prefixed(app: Erlen, bp: Blueprint) -> None:
    # Extensions may write a blueprint's dicts under a nested name directly.
    def func() -> None:
        return None

    bp.before_request_funcs["inner"].append(func)
    bp.error_handler_spec["inner"][None][KeyError] = func
    app.register_blueprint(bp)
    assert app.before_request_funcs["bp.inner"] == [func]
    assert app.error_handler_spec["bp.inner"][None][KeyError] is func


# -- app-wide variants --------------------------------------------------------------------


def test_app_hooks(app: Erlen, client: t.Any, bp: Blueprint) -> None:
    calls: list[str] = []

    @bp.before_app_request
    def before() -> None:
        calls.append("before")

    @bp.after_app_request
    def after(response: t.Any) -> t.Any:
        calls.append("after")
        return response

    @bp.teardown_app_request
    def teardown(exc: BaseException | None) -> None:
        calls.append("teardown")

    @bp.app_errorhandler(404)
    def missing(e: Exception) -> tuple[str, int]:
        return "bp says 404", 404

    @bp.app_errorhandler(KeyError)
    def key_error(e: Exception) -> str:
        return "bp says key"

    @app.route("/key")
    def key() -> None:
        raise KeyError()

    app.register_blueprint(bp)
    app.register_blueprint(bp, name="twice")
    assert client.get("/nowhere").text == "bp says 404"
    assert client.get("/key").text == "bp says key"
    # Registered once although the blueprint was registered twice.
    assert calls == ["before", "after", "teardown"] * 2


def test_app_url_processors(app: Erlen, client: t.Any, bp: Blueprint) -> None:
    @bp.app_url_value_preprocessor
    def pull(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        assert values is not None
        g.x = values.pop("x", None)

    @bp.app_url_defaults
    def add(endpoint: str, values: dict[str, t.Any]) -> None:
        if endpoint == "page":
            values.setdefault("x", g.x)

    @app.route("/<x>/page")
    def page() -> str:
        return url_for("page")

    app.register_blueprint(bp)
    assert client.get("/abc/page").text == "/abc/page"


def test_app_context_processor(app: Erlen, client: t.Any, bp: Blueprint) -> None:
    from erlen import render_template_string

    @bp.app_context_processor
    def values() -> dict[str, str]:
        return {"who": "everyone"}

    app.add_url_rule("/", "index", lambda: render_template_string("{{ who }}"))
    app.register_blueprint(bp)
    assert client.get("/").text == "everyone"


def test_app_template_helpers(app: Erlen, bp: Blueprint) -> None:
    from erlen import render_template_string

    @bp.app_template_filter()
    def reverse(s: str) -> str:
        return s[::-1]

    @bp.app_template_filter("shout")
    def upper(s: str) -> str:
        return s.upper()

    @bp.app_template_test()
    def short(s: str) -> bool:
        return len(s) < 3

    @bp.app_template_test("long")
    def is_long(s: str) -> bool:
        return len(s) > 3

    @bp.app_template_global()
    def answer() -> int:
        return 42

    @bp.app_template_global("pi")
    def get_pi() -> float:
        return 3.14

    bp.add_app_template_filter(lambda s: s + "!", "bang")
    app.register_blueprint(bp)
    assert app.template_filters["reverse"] is reverse
    assert app.template_tests["long"] is is_long
    with app.app_context():
        rv = render_template_string(
            "{{ 'ab'|reverse }} {{ 'x'|shout }} {{ 'ab' is short }} {{ 'abcd' is long }}"
            " {{ answer() }} {{ pi() }} {{ 'a'|bang }}"
        )
    assert rv == "ba X True True 42 3.14 a!"


def test_app_template_filter_after_env_created(app: Erlen, bp: Blueprint) -> None:
    from erlen import render_template_string

    bp.add_app_template_filter(str.upper, "up")
    with app.app_context():
        render_template_string("")  # the environment exists now
        app.register_blueprint(bp)
        assert render_template_string("{{ 'a'|up }}") == "A"


# -- templates ------------------------------------------------------------------------------


def test_template_folder(tmp_path: t.Any) -> None:
    from erlen import render_template

    (tmp_path / "app_templates").mkdir()
    (tmp_path / "bp_templates" / "bp").mkdir(parents=True)
    (tmp_path / "app_templates" / "shared.html").write_text("app shared")
    (tmp_path / "bp_templates" / "shared.html").write_text("bp shared")
    (tmp_path / "bp_templates" / "bp" / "own.html").write_text("bp own {{ request.blueprint }}")
    app = Erlen("tmpl", root_path=str(tmp_path), template_folder="app_templates")
    bp = Blueprint("bp", "tmpl", root_path=str(tmp_path), template_folder="bp_templates")
    bp.add_url_rule("/own", "own", lambda: render_template("bp/own.html"))
    bp.add_url_rule("/shared", "shared", lambda: render_template("shared.html"))
    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/own").text == "bp own bp"
    # The app's template folder is searched first, so it overrides.
    assert client.get("/shared").text == "app shared"
    assert bp.jinja_loader is not None


def test_no_template_folder(bp: Blueprint) -> None:
    assert bp.jinja_loader is None


# -- static files ---------------------------------------------------------------------------


@pytest.fixture
def static_bp(tmp_path: t.Any) -> Blueprint:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "hello.txt").write_text("hello")
    return Blueprint(
        "admin", __name__, root_path=str(tmp_path), static_folder="files", url_prefix="/admin"
    )


def test_static_route(app: Erlen, client: t.Any, static_bp: Blueprint) -> None:
    app.register_blueprint(static_bp)
    assert static_bp.static_url_path == "/files"
    r = client.get("/admin/files/hello.txt")
    assert r.status_code == 200
    assert r.data == b"hello"
    assert r.headers["Cache-Control"] == "no-cache"
    r.close()
    assert client.get("/admin/files/missing.txt").status_code == 404
    assert client.get("/admin/files/../files/hello.txt").status_code == 404
    with app.test_request_context():
        assert url_for("admin.static", filename="hello.txt") == "/admin/files/hello.txt"


def test_static_url_path_and_max_age(app: Erlen, client: t.Any, tmp_path: t.Any) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "a.css").write_text("a{}")
    bp = Blueprint(
        "bp", __name__, root_path=str(tmp_path), static_folder="files", static_url_path="/assets"
    )
    app.register_blueprint(bp, url_prefix="/bp")
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = timedelta(hours=1)
    r = client.get("/bp/assets/a.css")
    assert r.headers["Cache-Control"] == "public, max-age=3600"
    r.close()
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 60
    r = client.get("/bp/assets/a.css")
    assert r.headers["Cache-Control"] == "public, max-age=60"
    r.close()


def test_static_twice_under_names(app: Erlen, client: t.Any, static_bp: Blueprint) -> None:
    app.register_blueprint(static_bp)
    app.register_blueprint(static_bp, name="other", url_prefix="/other")
    with app.test_request_context():
        assert url_for("other.static", filename="hello.txt") == "/other/files/hello.txt"
    r = client.get("/other/files/hello.txt")
    assert r.data == b"hello"
    r.close()


def test_send_static_file_without_folder(app: Erlen, bp: Blueprint) -> None:
    assert not bp.has_static_folder
    with app.app_context(), pytest.raises(RuntimeError, match="static_folder"):
        bp.send_static_file("x")


def test_no_static_route_without_folder(app: Erlen, bp: Blueprint) -> None:
    app.register_blueprint(bp)
    assert "bp.static" not in app.view_functions


def test_open_resource(tmp_path: t.Any) -> None:
    (tmp_path / "data.txt").write_text("dåta", encoding="utf-8")
    bp = Blueprint("bp", __name__, root_path=str(tmp_path))
    with bp.open_resource("data.txt") as f:
        assert f.read() == "dåta".encode()
    with bp.open_resource("data.txt", "r") as f:
        assert f.read() == "dåta"
    with pytest.raises(ValueError, match="reading"):
        bp.open_resource("data.txt", "w")


def test_root_path_from_import_name() -> None:
    bp = Blueprint("bp", __name__)
    assert bp.root_path == os.path.dirname(os.path.abspath(__file__))


# -- CLI hand-off ---------------------------------------------------------------------------


class _FakeGroup:
    def __init__(self, commands: dict[str, object] | None = None) -> None:
        self.name: str | None = None
        self.commands = dict(commands or {})
        self.added: list[_FakeGroup] = []

    def add_command(self, cmd: _FakeGroup) -> None:
        self.added.append(cmd)


@pytest.mark.parametrize(
    ("bp_group", "option", "expected"),
    [
        (_sentinel, {}, "bp"),
        ("tools", {}, "tools"),
        (_sentinel, {"cli_group": "given"}, "given"),
    ],
)
def test_cli_group(app: Erlen, bp_group: t.Any, option: dict[str, t.Any], expected: str) -> None:
    bp = Blueprint("bp", __name__, cli_group=bp_group)
    bp.cli = _FakeGroup({"cmd": object()})  # type: ignore[attr-defined]
    app.cli = _FakeGroup()  # type: ignore[attr-defined]
    app.register_blueprint(bp, **option)
    assert app.cli.added == [bp.cli]  # type: ignore[attr-defined]
    assert bp.cli.name == expected  # type: ignore[attr-defined]


def test_cli_group_none_merges_commands(app: Erlen) -> None:
    bp = Blueprint("bp", __name__, cli_group=None)
    cmd = object()
    bp.cli = _FakeGroup({"cmd": cmd})  # type: ignore[attr-defined]
    app.cli = _FakeGroup()  # type: ignore[attr-defined]
    app.register_blueprint(bp)
    assert app.cli.commands == {"cmd": cmd}  # type: ignore[attr-defined]
    assert app.cli.added == []  # type: ignore[attr-defined]


def test_cli_without_commands_is_skipped(app: Erlen) -> None:
    bp = Blueprint("bp", __name__)
    bp.cli = _FakeGroup()  # type: ignore[attr-defined]
    app.cli = _FakeGroup()  # type: ignore[attr-defined]
    app.register_blueprint(bp)
    assert app.cli.added == []  # type: ignore[attr-defined]


def test_cli_groups_not_created_without_commands(app: Erlen, bp: Blueprint) -> None:
    # Registering must not build the app's click group (and import click).
    app.register_blueprint(bp)
    assert "cli" not in app.__dict__


def test_blueprint_cli_commands(app: Erlen) -> None:
    # Each blueprint's commands go under its cli_group: its name by default,
    # the app's own group with cli_group=None, or what registration says.
    import click

    custom = Blueprint("custom", __name__, cli_group="customized")
    nested = Blueprint("nested", __name__)
    merged = Blueprint("merged", __name__, cli_group=None)
    late = Blueprint("late", __name__)
    for bp in (custom, nested, merged, late):

        @bp.cli.command(bp.name)
        def command(name: str = bp.name) -> None:
            click.echo(f"{name}_result")

    app.register_blueprint(custom)
    app.register_blueprint(nested)
    app.register_blueprint(merged)
    app.register_blueprint(late, cli_group="late_registration")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["customized", "custom"]).output == "custom_result\n"
    assert runner.invoke(args=["nested", "nested"]).output == "nested_result\n"
    assert runner.invoke(args=["merged"]).output == "merged_result\n"
    assert runner.invoke(args=["late_registration", "late"]).output == "late_result\n"


def test_blueprint_without_commands_adds_no_group(app: Erlen) -> None:
    bp = Blueprint("blue", __name__, cli_group="blue")
    assert not bp.cli.commands
    app.register_blueprint(bp)
    assert "blue" not in app.cli.commands
