"""Templates: the app's Jinja environment, its loader, context and render functions."""

from __future__ import annotations

import logging
import os
import types
import typing as t

import jinja2
import pytest
from markupsafe import Markup

from erlen import Erlen, signals
from erlen import helpers as erlen_helpers
from erlen.globals import _cv, g, request, session
from erlen.templating import (
    DispatchingJinjaLoader,
    Environment,
    create_jinja_environment,
    get_template_attribute,
    render_template,
    render_template_string,
    stream_template,
    stream_template_string,
    update_template_context,
)

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "templates")


class _FakeSessionInterface:
    """Counts how often the session is opened; the real one is not under test here."""

    def __init__(self) -> None:
        self.opened = 0

    def open_session(self, app: Erlen, request: t.Any) -> dict[str, t.Any]:
        self.opened += 1
        return {"user": "ada"}

    def make_null_session(self, app: Erlen) -> dict[str, t.Any]:  # pragma: no cover - not reached
        return {}

    def is_null_session(self, obj: t.Any) -> bool:
        return False

    def should_set_cookie(self, app: Erlen, session: t.Any) -> bool:
        return False

    def save_session(self, app: Erlen, session: t.Any, response: t.Any) -> None:
        pass


@pytest.fixture
def tapp() -> Erlen:
    """An app whose template folder is tests/templates."""
    app = Erlen("erlen_templating_test", root_path=HERE)
    app.config.update(TESTING=True, SECRET_KEY="test key", SITE="Erlen site")
    app.session_interface = _FakeSessionInterface()
    return app


@pytest.fixture
def recorded() -> t.Iterator[list[tuple[str, t.Any, dict[str, t.Any]]]]:
    """Connect to both template signals and record what they send."""
    calls: list[tuple[str, t.Any, dict[str, t.Any]]] = []

    def before(sender: t.Any, **kwargs: t.Any) -> None:
        calls.append(("before", sender, kwargs))

    def after(sender: t.Any, **kwargs: t.Any) -> None:
        calls.append(("rendered", sender, kwargs))

    signals.before_render_template.connect(before)
    signals.template_rendered.connect(after)
    try:
        yield calls
    finally:
        signals.before_render_template.disconnect(before)
        signals.template_rendered.disconnect(after)


# -- the environment --------------------------------------------------------


def test_one_environment_per_app(tapp: Erlen) -> None:
    env = tapp.jinja_env
    assert isinstance(env, Environment)
    assert env.app is tapp
    assert tapp.jinja_env is env
    assert isinstance(env.loader, DispatchingJinjaLoader)
    assert Erlen("other", root_path=HERE).jinja_env is not env


def test_environment_globals(tapp: Erlen) -> None:
    env = tapp.jinja_env
    assert env.globals["url_for"] == tapp.url_for
    assert env.globals["config"] is tapp.config
    assert env.globals["request"] is request
    assert env.globals["session"] is session
    assert env.globals["g"] is g
    assert callable(env.globals["get_flashed_messages"])


def test_standard_globals_in_template(tapp: Erlen) -> None:
    tapp.add_url_rule("/page/<int:n>", "page", lambda n: str(n))

    @tapp.route("/")
    def index() -> str:
        g.who = "gee"
        return render_template("globals.html")

    rv = tapp.test_client().get("/?name=<b>")
    assert rv.data.decode().strip() == "&lt;b&gt;|gee|Erlen site|/page/3|ada"


def test_globals_visible_in_imported_macros(tapp: Erlen) -> None:
    # Globals, unlike context values, reach imported templates' macros.
    source = '{% import "macro_globals.html" as m %}{{ m.show() }}'
    macro = "{% macro show() %}{{ config.SITE }}{{ request.args.q }}{% endmacro %}"
    tapp.jinja_env.loader = jinja2.DictLoader({"macro_globals.html": macro})
    with tapp.test_request_context("/?q=1"):
        assert render_template_string(source) == "Erlen site1"


def test_jinja_env_options(tapp: Erlen) -> None:
    tapp.jinja_env_options["trim_blocks"] = True
    tapp.jinja_env_options["autoescape"] = False
    tapp.jinja_env_options["auto_reload"] = True
    env = tapp.jinja_env
    assert env.trim_blocks is True
    assert env.autoescape is False
    assert env.auto_reload is True
    with tapp.app_context():
        assert render_template_string("{{ x }}", x="<i>") == "<i>"


def test_flask_style_class_hooks() -> None:
    class MyEnvironment(Environment):
        pass

    class MyApp(Erlen):
        jinja_environment = MyEnvironment
        jinja_options = {"line_statement_prefix": "%", "trim_blocks": False}

        def create_global_jinja_loader(self) -> jinja2.BaseLoader:
            return jinja2.DictLoader({"hello.txt": "hi {{ name }}"})

    app = MyApp("myapp", root_path="/nonexistent-erlen-root")
    app.jinja_env_options["trim_blocks"] = True  # the instance options win
    env = app.jinja_env
    assert type(env) is MyEnvironment
    assert env.line_statement_prefix == "%"
    assert env.trim_blocks is True
    assert isinstance(env.loader, jinja2.DictLoader)
    with app.app_context():
        assert render_template("hello.txt", name="you") == "hi you"


def test_explicit_loader_option() -> None:
    app = Erlen("x", root_path="/nonexistent-erlen-root")
    app.jinja_env_options["loader"] = jinja2.DictLoader({"a.txt": "A"})
    with app.app_context():
        assert render_template("a.txt") == "A"


def test_create_jinja_environment_is_fresh(tapp: Erlen) -> None:
    assert create_jinja_environment(tapp) is not create_jinja_environment(tapp)


# -- autoescape -------------------------------------------------------------


@pytest.mark.parametrize(
    ("ext", "escaped"),
    [("html", True), ("htm", True), ("xml", True), ("xhtml", True), ("svg", True), ("txt", False)],
)
def test_autoescape_by_extension(tapp: Erlen, ext: str, escaped: bool) -> None:
    with tapp.app_context():
        rv = render_template(f"escaping/page.{ext}", text="<a & 'b'>")
    assert rv == ("&lt;a &amp; &#39;b&#39;&gt;" if escaped else "<a & 'b'>")


def test_autoescape_strings_and_markup(tapp: Erlen) -> None:
    with tapp.app_context():
        assert render_template_string("{{ x }}", x="<br>") == "&lt;br&gt;"
        assert render_template_string("{{ x }}", x=Markup("<br>")) == "<br>"
        assert render_template_string("{{ x|safe }}", x="<br>") == "<br>"
        assert (
            render_template_string("{% autoescape false %}{{ x }}{% endautoescape %}", x="<br>")
            == "<br>"
        )


def test_select_jinja_autoescape_override() -> None:
    class TextApp(Erlen):
        def select_jinja_autoescape(self, filename: str | None) -> bool:
            return False

    app = TextApp("x", root_path=HERE)
    with app.app_context():
        assert render_template_string("{{ x }}", x="<br>") == "<br>"
        assert render_template("escaping/page.html", text="<br>") == "<br>"


# -- context ----------------------------------------------------------------


def test_context_processor_and_explicit_values_win(tapp: Erlen) -> None:
    @tapp.context_processor
    def inject() -> dict[str, t.Any]:
        return {"injected": "from processor", "value": "processor value"}

    with tapp.test_request_context():
        assert render_template("context.html").strip() == "processor value|from processor"
        assert (
            render_template("context.html", value="explicit").strip() == "explicit|from processor"
        )
        assert render_template_string("{{ request }}", request="mine") == "mine"


def test_context_processors_run_in_order(tapp: Erlen) -> None:
    tapp.context_processor(lambda: {"a": 1, "b": 1})
    tapp.context_processor(lambda: {"b": 2})
    with tapp.app_context():
        assert render_template_string("{{ a }}{{ b }}") == "12"


def test_async_context_processor(tapp: Erlen) -> None:
    @tapp.context_processor
    async def inject() -> dict[str, t.Any]:
        return {"answer": 42}

    with tapp.app_context():
        assert render_template_string("{{ answer }}") == "42"


def test_default_context_in_request(tapp: Erlen, recorded: list[t.Any]) -> None:
    with tapp.test_request_context("/?x=1") as ctx:
        render_template_string("{{ 1 }}")
        context = recorded[0][2]["context"]
        # The real objects, not the proxies; the session stays unopened.
        assert context["request"] is ctx.request
        assert context["g"] is ctx.g
        assert context["session"] is session
        assert ctx._session is None
        assert tapp.session_interface.opened == 0


def test_session_opened_only_when_read(tapp: Erlen) -> None:
    with tapp.test_request_context() as ctx:
        assert render_template_string("{{ 1 }}") == "1"
        assert tapp.session_interface.opened == 0
        assert render_template_string("{{ session.user }}") == "ada"
        assert tapp.session_interface.opened == 1
        assert render_template_string("{{ session.user }}") == "ada"
        assert tapp.session_interface.opened == 1
        assert ctx._session == {"user": "ada"}


def test_open_session_passed_as_is(tapp: Erlen, recorded: list[t.Any]) -> None:
    with tapp.test_request_context() as ctx:
        opened = ctx.session
        render_template_string("")
        assert recorded[0][2]["context"]["session"] is opened


def test_default_context_in_app_context(tapp: Erlen, recorded: list[t.Any]) -> None:
    with tapp.app_context() as ctx:
        assert render_template_string("{{ g.x }}") == ""
        context = recorded[0][2]["context"]
        assert context == {"g": ctx.g}
        # The request global is there, but falsy outside a request.
        assert render_template_string("{% if request %}yes{% else %}no{% endif %}") == "no"


def test_g_shared_with_template(tapp: Erlen) -> None:
    with tapp.app_context():
        g.user = "ada"
        assert render_template_string("{{ g.user }}") == "ada"


def test_update_template_context(tapp: Erlen) -> None:
    tapp.context_processor(lambda: {"a": "processor", "b": "processor"})
    context: dict[str, t.Any] = {"a": "explicit"}
    with tapp.test_request_context() as ctx:
        tapp.update_template_context(context)
        assert context == {
            "a": "explicit",
            "b": "processor",
            "g": ctx.g,
            "request": ctx.request,
            "session": session,
        }


def test_update_template_context_outside_contexts(tapp: Erlen) -> None:
    tapp.context_processor(lambda: {"a": 1})
    context: dict[str, t.Any] = {}
    update_template_context(tapp, context)
    assert context == {"a": 1}


def test_overridden_update_template_context_is_used() -> None:
    class MyApp(Erlen):
        def update_template_context(self, context: dict[str, t.Any]) -> None:
            super().update_template_context(context)
            context["extra"] = "subclass"

    app = MyApp("x", root_path=HERE)
    with app.test_request_context():
        assert render_template_string("{{ extra }}") == "subclass"
        assert render_template("context.html", value="v").strip() == "v|"
        assert "".join(stream_template_string("{{ extra }}")) == "subclass"


def test_blueprint_context_processors(tapp: Erlen) -> None:
    procs = tapp.template_context_processors
    procs[None].append(lambda: {"who": "app", "app_only": "yes"})
    procs["bp"].append(lambda: {"who": "bp"})
    procs["bp.child"].append(lambda: {"who": "child"})
    procs["other"].append(lambda: {"who": "other"})

    source = "{{ who }} {{ app_only }}"
    tapp.add_url_rule("/app", "plain", lambda: render_template_string(source))
    tapp.add_url_rule("/bp", "bp.view", lambda: render_template_string(source))
    tapp.add_url_rule("/child", "bp.child.view", lambda: render_template_string(source))
    client = tapp.test_client()
    assert client.get("/app").data == b"app yes"
    assert client.get("/bp").data == b"bp yes"
    # The innermost blueprint's processors run last and win.
    assert client.get("/child").data == b"child yes"


def test_blueprint_processors_only_key(tapp: Erlen) -> None:
    # Processors registered only under a blueprint (none for the app).
    tapp.template_context_processors["bp"].append(lambda: {"who": "bp"})
    tapp.add_url_rule("/bp", "bp.view", lambda: render_template_string("{{ who }}"))
    assert tapp.test_client().get("/bp").data == b"bp"


# -- filters, globals and tests registered on the app ------------------------


def test_template_filters_before_and_after_env(tapp: Erlen) -> None:
    @tapp.template_filter()
    def reverse(s: str) -> str:
        return s[::-1]

    tapp.add_template_filter(str.upper, "shout")
    assert tapp.jinja_env.filters["reverse"] is reverse

    @tapp.template_filter("double")
    def double_it(s: str) -> str:
        return s * 2

    with tapp.app_context():
        assert (
            render_template_string("{{ 'abc'|reverse }} {{ 'x'|shout }} {{ 'ab'|double }}")
            == "cba X abab"
        )


def test_template_globals_before_and_after_env(tapp: Erlen) -> None:
    @tapp.template_global()
    def answer() -> int:
        return 42

    assert tapp.jinja_env.globals["answer"] is answer
    tapp.add_template_global(lambda: "late", "late")
    with tapp.app_context():
        assert render_template_string("{{ answer() }} {{ late() }}") == "42 late"


def test_template_tests_before_and_after_env(tapp: Erlen) -> None:
    @tapp.template_test()
    def boolean(value: t.Any) -> bool:
        return isinstance(value, bool)

    assert tapp.jinja_env.tests["boolean"] is boolean

    @tapp.template_test("even_len")
    def even(value: t.Any) -> bool:
        return len(value) % 2 == 0

    with tapp.app_context():
        rv = render_template_string(
            "{{ x is boolean }} {{ 'ab' is even_len }} {{ 1 is boolean }}", x=False
        )
    assert rv == "True True False"


def test_global_added_after_template_loaded(tapp: Erlen) -> None:
    with tapp.app_context():
        assert render_template_string("{{ later is defined }}") == "False"
        tapp.jinja_env.globals["later"] = 1
        # The same (cached) template sees the new global.
        assert render_template_string("{{ later is defined }}") == "True"


def test_template_own_globals_overlay_environment(tapp: Erlen) -> None:
    env = tapp.jinja_env
    env.loader = jinja2.DictLoader({"t.txt": "{{ config }}|{{ own }}"})
    template = env.get_template("t.txt", globals={"config": "overridden", "own": "mine"})
    assert env.globals["config"] is tapp.config  # the environment's are untouched
    assert {"config", "own", "url_for"} <= set(template.globals)
    with pytest.raises(KeyError):
        template.globals["missing"]
    with tapp.app_context():
        assert render_template("t.txt") == "overridden|mine"


def test_globals_added_after_render_are_visible(tapp: Erlen) -> None:
    env = tapp.jinja_env
    env.loader = jinja2.DictLoader({"t.txt": "{{ a is defined }} {{ b is defined }}"})
    with tapp.app_context():
        assert render_template("t.txt") == "False False"
        tapp.add_template_global(lambda: 1, "a")
        assert render_template("t.txt") == "True False"
        env.globals["b"] = 2
        assert render_template("t.txt") == "True True"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda gs: gs.__setitem__("x", "set"), "set|y"),
        (lambda gs: gs.update(x="updated"), "updated|y"),
        (lambda gs: gs.update({"x": "updated"}.items()), "updated|y"),
        (lambda gs: gs.__ior__({"x": "ior"}), "ior|y"),
        (lambda gs: gs.setdefault("x", "default"), "default|y"),
        (lambda gs: gs.setdefault("y", "ignored"), "|y"),
        (lambda gs: gs.__delitem__("y"), "|"),
        (lambda gs: gs.pop("y"), "|"),
        (lambda gs: gs.pop("missing", None), "|y"),
        (lambda gs: gs.popitem(), "|"),  # "y" is the last one added
        (lambda gs: gs.clear(), "|"),
    ],
)
def test_environment_globals_changes_reach_loaded_templates(
    tapp: Erlen, change: t.Callable[[t.Any], t.Any], expected: str
) -> None:
    env = tapp.jinja_env
    env.loader = jinja2.DictLoader({"t.txt": "{{ x }}|{{ y }}"})
    env.globals["y"] = "y"
    template = env.get_template("t.txt")  # loaded, and held, before the change
    from_string = env.from_string("{{ x }}|{{ y }}")
    assert template.render() == "|y"
    change(env.globals)
    assert template.render() == expected
    assert from_string.render() == expected
    assert env.get_template("t.txt") is template  # still cached
    assert dict(template.globals) == dict(env.globals)


def test_environment_globals_change_keeps_template_own_globals(tapp: Erlen) -> None:
    env = tapp.jinja_env
    env.loader = jinja2.DictLoader({"t.txt": "{{ x }}|{{ y }}"})
    env.globals.update(x="env x", y="env y")
    template = env.get_template("t.txt", globals={"x": "own x"})
    other = env.from_string("{{ x }}|{{ y }}")
    env.globals.update(x="new env x", y="new env y")
    assert template.render() == "own x|new env y"
    assert other.render() == "new env x|new env y"
    env.globals.clear()
    assert template.render() == "own x|"
    assert other.render() == "|"


def test_template_globals_behave_as_jinja_chainmap(tapp: Erlen) -> None:
    env = tapp.jinja_env
    env.globals["x"] = "env"
    template = env.from_string("{{ x }}|{{ own }}", globals={"own": "o"})
    other = env.from_string("{{ x }}|{{ own }}")
    # Jinja copies the template's globals on every render: keep that a plain-dict copy.
    assert isinstance(template.globals, dict)
    template.globals["x"] = "template"
    assert template.render() == "template|o"
    assert (env.globals["x"], other.render()) == ("env", "env|")
    env.globals["x"] = "env 2"
    assert template.render() == "template|o"  # its own value still wins
    del template.globals["x"]  # the environment's shows again
    assert template.render() == "env 2|o"
    with pytest.raises(KeyError):
        del template.globals["x"]  # not the template's own
    with pytest.raises(KeyError):
        template.globals.pop("url_for")
    assert template.globals.pop("own") == "o"
    assert template.globals.pop("own", "gone") == "gone"
    assert template.globals.setdefault("x", "unused") == "env 2"
    assert template.globals.setdefault("new", "n") == "n"
    template.globals |= {"own": "o2"}
    assert template.render() == "env 2|o2"
    assert template.globals.popitem() == ("own", "o2")
    template.globals.clear()
    with pytest.raises(KeyError):
        template.globals.popitem()
    assert "url_for" in template.globals and "new" not in template.globals
    assert "new" not in env.globals and "own" not in env.globals


def test_template_globals_copy(tapp: Erlen) -> None:
    env = tapp.jinja_env
    template = env.from_string("{{ own }}", globals={"own": "o"})
    copied = template.globals.copy()
    copied["own"] = "changed"
    env.globals["later"] = 1
    assert template.globals["own"] == "o"
    assert copied["later"] == 1 and copied["own"] == "changed"


def test_cached_template_globals_updated_by_get_template(tapp: Erlen) -> None:
    # Jinja: asking again for a cached template with globals adds them to it.
    env = tapp.jinja_env
    env.loader = jinja2.DictLoader({"t.txt": "{{ x }}"})
    template = env.get_template("t.txt", globals={"x": 1})
    assert env.get_template("t.txt", globals={"x": 2}) is template
    env.globals["x"] = 3
    assert template.render() == "2"


def test_environment_globals_replaced_by_plain_dict(tapp: Erlen) -> None:
    env = tapp.jinja_env
    env.globals = {"x": 1}
    template = env.from_string("{{ x }}|{{ own }}", globals={"own": 2})
    env.globals["x"] = 3
    assert template.render() == "3|2"


def test_environment_globals_forget_dropped_templates(tapp: Erlen) -> None:
    import gc

    env = tapp.jinja_env
    before = len(env.globals._templates)
    template = env.from_string("{{ x }}")
    assert len(env.globals._templates) == before + 1
    del template
    gc.collect()
    assert len(env.globals._templates) == before
    env.globals["x"] = 1  # nothing left to tell


def test_overlay_templates_see_environment_globals(tapp: Erlen) -> None:
    env = tapp.jinja_env
    env.loader = jinja2.DictLoader({"t.txt": "{{ x }}"})
    overlay = env.overlay(trim_blocks=True)
    template = overlay.get_template("t.txt")
    env.globals["x"] = "later"
    assert template.render() == "later"


def test_render_template_string_cache_sees_global_changes(tapp: Erlen) -> None:
    env = tapp.jinja_env
    source = "{{ x }}|{{ y }}"
    with tapp.app_context():
        assert render_template_string(source, y=1) == "|1"
        compiled = env._erlen_strings[source]
        tapp.add_template_global(lambda: None, "x")
        env.globals["x"] = "x"
        assert render_template_string(source, y=2) == "x|2"
        assert env._erlen_strings[source] is compiled
        assert render_template_string("{{ x }}!") == "x!"
        env.globals.pop("x")
        assert render_template_string(source, y=3) == "|3"
        assert render_template_string("{{ x }}!") == "!"


# -- tojson -----------------------------------------------------------------


def test_tojson_is_safe_in_script(tapp: Erlen) -> None:
    payload = "</script><script>alert('x')</script> & <!--"
    with tapp.app_context():
        rv = render_template("script.html", data={"text": payload})
    body = rv[len("<script>") : rv.rindex("</script>")]
    for bad in ("<", ">", "&", "'"):
        assert bad not in body
    assert "</script>" not in body
    assert tapp.json.loads(body[len("var data = ") : -1]) == {"text": payload}


def test_tojson_markup_and_indent(tapp: Erlen) -> None:
    tojson = tapp.jinja_env.filters["tojson"]
    rv = tojson({"b": 1, "a": "<"})
    assert isinstance(rv, Markup)
    assert "<" not in rv and "\\u003c" in rv
    assert tapp.json.loads(rv) == {"a": "<", "b": 1}
    assert tojson([1], indent=2) == "[\n  1\n]"
    with tapp.app_context():
        # Marked safe, so not escaped again; usable in a single-quoted attribute.
        assert (
            render_template_string("<a data-x='{{ x|tojson }}'>", x="it's")
            == "<a data-x='\"it\\u0027s\"'>"
        )


def test_tojson_uses_current_json_provider(tapp: Erlen) -> None:
    env = tapp.jinja_env

    class Provider:
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            return f"custom:{obj}:{kwargs}"

    tapp.json = Provider()  # type: ignore[assignment]
    # The filter passes Jinja's "json.dumps_kwargs" policy, as Flask's does.
    assert env.filters["tojson"]("x") == "custom:x:{\\u0027sort_keys\\u0027: True}"
    assert env.policies["json.dumps_function"]("y", indent=1) == "custom:y:{'indent': 1}"


def test_tojson_output_is_flasks(tapp: Erlen) -> None:
    # Flask's tojson is the provider's dumps with sort_keys=True: json's
    # default separators, sorted keys, dates as HTTP dates.
    import datetime

    with tapp.app_context():
        rv = render_template_string(
            "{{ data|tojson }}",
            data={"time": datetime.datetime(2021, 2, 1, 7, 15), "name": "</script>"},
        )
    assert rv == '{"name": "\\u003c/script\\u003e", "time": "Mon, 01 Feb 2021 07:15:00 GMT"}'


# -- loading ----------------------------------------------------------------


def test_template_not_found(tapp: Erlen) -> None:
    with tapp.app_context():
        with pytest.raises(jinja2.TemplateNotFound):
            render_template("missing.html")
        with pytest.raises(jinja2.TemplatesNotFound):
            render_template(["missing.html", "also-missing.html"])


def test_template_list_and_object(tapp: Erlen) -> None:
    with tapp.app_context():
        assert (
            render_template(["missing.html", "context.html"], value=1, injected=2).strip() == "1|2"
        )
        template = tapp.jinja_env.from_string("{{ n }}")
        assert render_template(template, n=5) == "5"


def test_no_template_folder() -> None:
    app = Erlen("x", root_path=HERE, template_folder=None)
    assert app.jinja_loader is None
    with app.app_context():
        with pytest.raises(jinja2.TemplateNotFound):
            render_template("loop.html")
    assert app.jinja_env.list_templates() == []


def test_jinja_loader_property(tapp: Erlen) -> None:
    loader = tapp.jinja_loader
    assert isinstance(loader, jinja2.FileSystemLoader)
    assert loader.searchpath == [TEMPLATES]
    assert tapp.jinja_loader is loader
    replacement = jinja2.DictLoader({"loop.html": "replaced"})
    tapp.jinja_loader = replacement  # type: ignore[assignment]
    with tapp.app_context():
        assert render_template("loop.html") == "replaced"


def _fake_blueprint(name: str, folder: str | None) -> t.Any:
    # Stands in for a registered blueprint: the loader needs only these attributes.
    loader = jinja2.FileSystemLoader(folder) if folder is not None else None
    return types.SimpleNamespace(name=name, import_name=f"fake.{name}", jinja_loader=loader)


def test_blueprint_template_folders(tapp: Erlen) -> None:
    tapp.blueprints["empty"] = _fake_blueprint("empty", None)
    tapp.blueprints["bp"] = _fake_blueprint("bp", os.path.join(TEMPLATES, "bp_templates"))
    with tapp.app_context():
        assert render_template("only_bp.html") == "from blueprint"
        # The app's folder is searched first.
        assert render_template("loop.html", items=[1]).strip() == "<ul><li>1</li></ul>"
    names = tapp.jinja_env.list_templates()
    assert "only_bp.html" in names and "loop.html" in names and "escaping/page.txt" in names
    assert names == sorted(set(names))


def test_templates_auto_reload_config() -> None:
    def env_of(debug: bool, value: bool | None) -> jinja2.Environment:
        app = Erlen("x", root_path="/nonexistent-erlen-root")
        app.config["DEBUG"] = debug
        app.config["TEMPLATES_AUTO_RELOAD"] = value
        return app.jinja_env

    assert env_of(False, None).auto_reload is False
    assert env_of(True, None).auto_reload is True
    assert env_of(False, True).auto_reload is True
    assert env_of(True, False).auto_reload is False


@pytest.mark.parametrize("auto_reload", [True, False])
def test_templates_auto_reload_behavior(tmp_path: t.Any, auto_reload: bool) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    page = folder / "page.txt"
    page.write_text("first")
    app = Erlen("x", root_path=str(tmp_path))
    app.config["TEMPLATES_AUTO_RELOAD"] = auto_reload
    with app.app_context():
        assert render_template("page.txt") == "first"
        page.write_text("second")
        mtime = os.path.getmtime(page) + 10
        os.utime(page, (mtime, mtime))
        assert render_template("page.txt") == ("second" if auto_reload else "first")


def test_explain_template_loading(tapp: Erlen, caplog: pytest.LogCaptureFixture) -> None:
    tapp.config["EXPLAIN_TEMPLATE_LOADING"] = True
    tapp.blueprints["bp"] = _fake_blueprint("bp", os.path.join(TEMPLATES, "bp_templates"))
    caplog.set_level(logging.INFO, logger=tapp.name)
    with tapp.app_context():
        assert render_template("only_bp.html") == "from blueprint"
        found = caplog.records[-1].getMessage()
        assert found.startswith("Locating template 'only_bp.html':")
        # Worded as Flask's: the app by import name, a blueprint with its module.
        assert f"1: trying loader of application {tapp.import_name!r}" in found
        assert "2: trying loader of blueprint 'bp' (fake.bp)" in found
        assert "class: jinja2.loaders.FileSystemLoader" in found
        assert "-> not found" in found and "-> found at" in found
        assert "more than one" not in found

        render_template("loop.html", items=[])
        assert "more than one loader has this template" in caplog.records[-1].getMessage()

        with pytest.raises(jinja2.TemplateNotFound):
            render_template("nowhere.html")
        missing = caplog.records[-1].getMessage()
        assert "Error: the template could not be found" in missing
        assert "belongs to the blueprint" not in missing and "See https" not in missing


def test_explain_template_loading_in_blueprint_request(
    tapp: Erlen, caplog: pytest.LogCaptureFixture
) -> None:
    tapp.config["EXPLAIN_TEMPLATE_LOADING"] = True
    caplog.set_level(logging.INFO, logger=tapp.name)

    def view() -> str:
        try:
            return render_template("nowhere.html")
        except jinja2.TemplateNotFound:
            return "missing"

    tapp.add_url_rule("/bp", "shop.view", view)
    assert tapp.test_client().get("/bp").data == b"missing"
    message = caplog.records[-1].getMessage()
    assert "looked up from an endpoint that belongs to the blueprint 'shop'" in message
    assert "See https://flask.palletsprojects.com/blueprints/#templates" in message


def test_explain_template_loading_without_loaders(caplog: pytest.LogCaptureFixture) -> None:
    app = Erlen("x", root_path=HERE, template_folder=None)
    app.config["EXPLAIN_TEMPLATE_LOADING"] = True
    caplog.set_level(logging.INFO, logger=app.name)
    with app.test_request_context():
        with pytest.raises(jinja2.TemplateNotFound):
            render_template("nowhere.html")
    message = caplog.records[-1].getMessage()
    assert "No loader to ask" in message
    assert "DictLoader" not in message


def test_explain_shows_loaders_without_searchpath(
    tapp: Erlen, caplog: pytest.LogCaptureFixture
) -> None:
    tapp.config["EXPLAIN_TEMPLATE_LOADING"] = True
    tapp.jinja_loader = jinja2.DictLoader({"a.txt": "A"})  # type: ignore[assignment]
    caplog.set_level(logging.INFO, logger=tapp.name)
    with tapp.app_context():
        assert render_template("a.txt") == "A"
    message = caplog.records[-1].getMessage()
    assert "1: trying loader of application" in message
    assert "class: jinja2.loaders.DictLoader" in message
    assert "searched:" not in message


# -- rendering --------------------------------------------------------------


def test_render_outside_app_context(tapp: Erlen) -> None:
    for call in (
        lambda: render_template("loop.html"),
        lambda: render_template_string("x"),
        lambda: stream_template("loop.html"),
        lambda: stream_template_string("x"),
        lambda: get_template_attribute("macros.html", "hello"),
    ):
        with pytest.raises(RuntimeError, match="application context"):
            call()


def test_render_loop(tapp: Erlen) -> None:
    with tapp.app_context():
        rv = render_template("loop.html", items=["a", "<b>"])
    assert rv.strip() == "<ul><li>a</li><li>&lt;b&gt;</li></ul>"


def test_unicode_templates(tapp: Erlen) -> None:
    @tapp.route("/")
    def index() -> str:
        return render_template("unicode.html", name="Zoë")

    rv = tapp.test_client().get("/")
    # Jinja drops the file's final newline (keep_trailing_newline is off).
    assert rv.data.decode("utf-8") == "Grüße, Zoë — ☃ ✓"
    with tapp.app_context():
        assert render_template_string("ä{{ x }}€", x="日本") == "ä日本€"


def test_render_template_string_compiles_once(tapp: Erlen, recorded: list[t.Any]) -> None:
    with tapp.app_context():
        assert render_template_string("{{ n }}", n=1) == "1"
        assert render_template_string("{{ n }}", n=2) == "2"
        render_template_string("{{ n }}!", n=3)
    first, second, third = (kw["template"] for name, _, kw in recorded if name == "rendered")
    assert first is second
    assert third is not first


def test_render_template_string_without_cache() -> None:
    app = Erlen("x", root_path="/nonexistent-erlen-root")
    app.jinja_env_options["cache_size"] = 0
    with app.app_context():
        for _ in range(2):
            assert render_template_string("{{ 1 + 1 }}") == "2"
    assert app.jinja_env._erlen_strings is None


def test_render_template_string_with_foreign_environment() -> None:
    # An app whose create_jinja_environment returns a plain Jinja environment.
    class MyApp(Erlen):
        def create_jinja_environment(self) -> jinja2.Environment:
            return jinja2.Environment(loader=jinja2.DictLoader({"a.txt": "A{{ x }}"}))

    app = MyApp("x", root_path="/nonexistent-erlen-root")
    with app.app_context():
        assert render_template_string("{{ x }}", x="<") == "<"
        assert render_template("a.txt", x=1) == "A1"


def test_signals(tapp: Erlen, recorded: list[t.Any]) -> None:
    with tapp.test_request_context():
        rv = render_template("context.html", value="v")
    assert rv.strip() == "v|"
    assert [name for name, _, _ in recorded] == ["before", "rendered"]
    for _, sender, kwargs in recorded:
        assert sender is tapp
        assert kwargs["template"].name == "context.html"
        assert kwargs["context"]["value"] == "v"
        assert "request" in kwargs["context"]


def test_signals_sender_filter(tapp: Erlen) -> None:
    other = Erlen("other", root_path=HERE)
    seen: list[str | None] = []

    def receiver(
        sender: t.Any, template: jinja2.Template, context: dict[str, t.Any], **kw: t.Any
    ) -> None:
        seen.append(template.name)

    signals.template_rendered.connect(receiver, other)
    try:
        with tapp.app_context():
            render_template("context.html")
        with other.app_context():
            render_template("loop.html", items=[])
    finally:
        signals.template_rendered.disconnect(receiver, other)
    assert seen == ["loop.html"]


def test_no_receivers_no_signal_work(tapp: Erlen, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: t.Any, **kwargs: t.Any) -> None:  # pragma: no cover - must not run
        raise AssertionError("sent without receivers")

    monkeypatch.setattr(signals.template_rendered, "send", boom)
    monkeypatch.setattr(signals.before_render_template, "send", boom)
    with tapp.app_context():
        assert render_template_string("ok") == "ok"
        assert "".join(stream_template_string("ok")) == "ok"


def test_get_template_attribute(tapp: Erlen) -> None:
    with tapp.app_context():
        hello = get_template_attribute("macros.html", "hello")
        assert hello("<World>") == "Hello &lt;World&gt;!"
        assert get_template_attribute("macros.html", "answer") == 42
        with pytest.raises(AttributeError):
            get_template_attribute("macros.html", "nope")


def test_get_flashed_messages_global(tapp: Erlen, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[t.Any, ...]] = []

    def fake(*args: t.Any, **kwargs: t.Any) -> list[str]:
        calls.append((args, kwargs))
        return ["hi"]

    if hasattr(erlen_helpers, "get_flashed_messages"):
        # Resolved when the environment is built.
        monkeypatch.setattr(erlen_helpers, "get_flashed_messages", fake)
        assert tapp.jinja_env.globals["get_flashed_messages"] is fake
    else:
        # Resolved when called, so it works once erlen.helpers gains it.
        env = tapp.jinja_env
        monkeypatch.setattr(erlen_helpers, "get_flashed_messages", fake, raising=False)
        assert env.globals["get_flashed_messages"] is not fake
    with tapp.test_request_context():
        assert (
            render_template_string("{{ get_flashed_messages(with_categories=true) }}")
            == "[&#39;hi&#39;]"
        )
    assert calls == [((), {"with_categories": True})]


def test_get_flashed_messages_global_both_ways(
    tapp: Erlen, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whichever way the current erlen.helpers goes, cover the other one too.
    def fake(*args: t.Any, **kwargs: t.Any) -> list[str]:
        return ["x"]

    monkeypatch.delattr(erlen_helpers, "get_flashed_messages", raising=False)
    env = create_jinja_environment(tapp)
    shim = env.globals["get_flashed_messages"]
    monkeypatch.setattr(erlen_helpers, "get_flashed_messages", fake, raising=False)
    assert shim() == ["x"]
    assert create_jinja_environment(tapp).globals["get_flashed_messages"] is fake


# -- streaming --------------------------------------------------------------


def test_stream_template_in_request(tapp: Erlen) -> None:
    @tapp.route("/")
    def index() -> t.Any:
        return tapp.response_class(stream_template("stream.html", items=[1, 2, 3]))

    rv = tapp.test_client().get("/?p=x")
    assert rv.data.decode().strip() == "x1;x2;x3;"


def test_stream_template_string_in_request(tapp: Erlen, recorded: list[t.Any]) -> None:
    @tapp.route("/")
    def index() -> t.Any:
        return stream_template_string(
            "{% for i in range(3) %}{{ request.args.p }}{{ i }}{% endfor %}"
        )

    rv = tapp.test_client().get("/?p=<")
    assert rv.data == b"&lt;0&lt;1&lt;2"
    assert [name for name, _, _ in recorded] == ["before", "rendered"]


def test_stream_keeps_request_context(tapp: Erlen) -> None:
    with tapp.test_request_context("/?p=y"):
        stream = stream_template("stream.html", items=[1])
    # The block has ended, but the stream holds the request context until it is done.
    assert _cv.get(None) is not None
    assert "".join(stream).strip() == "y1;"
    assert _cv.get(None) is None


def test_stream_in_app_context_is_plain_generator(tapp: Erlen, recorded: list[t.Any]) -> None:
    with tapp.app_context():
        stream = stream_template("loop.html", items=[1, 2])
        assert [name for name, _, _ in recorded] == ["before"]
        assert "".join(stream).strip() == "<ul><li>1</li><li>2</li></ul>"
    # template_rendered is sent once the stream is exhausted.
    assert [name for name, _, _ in recorded] == ["before", "rendered"]


def test_jinja_options_default_and_subclass() -> None:
    assert Erlen.jinja_options == {}

    class App(Erlen):
        jinja_options = {"trim_blocks": True}

    assert App(__name__).jinja_env.trim_blocks is True


def test_default_context_processor_comes_first(tapp: Erlen) -> None:
    # As in Flask, an app's processor list starts with the default one, so a
    # processor an extension registers is the second (Flask-Moment's tests
    # read it at index 1). Rendering does not run it twice: its values are
    # added once, the session kept lazy.
    from erlen.globals import _default_template_ctx_processor

    procs = tapp.template_context_processors[None]
    assert procs == [_default_template_ctx_processor]

    @tapp.context_processor
    def extra() -> dict[str, str]:
        return {"extra": "x"}

    assert procs == [_default_template_ctx_processor, extra]
    assert _default_template_ctx_processor() == {}
    with tapp.app_context():
        assert _default_template_ctx_processor() == {"g": g._get_current_object()}
    tapp.add_url_rule(
        "/",
        "index",
        lambda: render_template_string("{{ extra }} {{ request.path }} {{ g is defined }}"),
    )
    assert tapp.test_client().get("/").data == b"x / True"
    with tapp.test_request_context("/p"):
        values = _default_template_ctx_processor()
        assert values["request"] is request._get_current_object()
        assert values["g"] is g._get_current_object()
        assert values["session"] is session  # the lazy proxy: not opened yet
        session["k"] = "v"
        assert _default_template_ctx_processor()["session"] is session._get_current_object()
