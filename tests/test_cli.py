"""The ``erlen`` command line: app discovery, options and the built-in commands."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import types
import typing as t
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from erlen import Erlen, current_app
from erlen.cli import (
    AppGroup,
    ErlenGroup,
    FlaskGroup,
    NoAppException,
    ScriptInfo,
    cli,
    find_app_by_string,
    find_best_app,
    get_debug_flag,
    load_dotenv,
    locate_app,
    main,
    prepare_import,
    run_command,
    with_appcontext,
)
from erlen.cli_discovery import _split_import_path, _where_raised

HERE = Path(__file__).parent
APPS = HERE / "cli_apps"
EXAMPLE = HERE.parent / "examples" / "hello" / "app.py"

try:
    import dotenv  # noqa: F401
except ImportError:
    HAVE_DOTENV = False
else:
    HAVE_DOTENV = True

needs_dotenv = pytest.mark.skipif(not HAVE_DOTENV, reason="python-dotenv is not installed")


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch) -> t.Iterator[None]:
    # Discovery changes sys.path, sys.modules and the environment; each test
    # starts from, and leaves behind, the state it found.
    # (--debug and dotenv files write to os.environ, so all of it is restored,
    # not only the names a test sets.)
    environ = dict(os.environ)
    for name in (
        "ERLEN_APP",
        "ERLEN_DEBUG",
        "ERLEN_RUN_PORT",
        "ERLEN_TEST_VALUE",
        "ERLEN_TEST_OVERRIDE",
        "PYTHONSTARTUP",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.syspath_prepend(str(HERE))
    modules = set(sys.modules)
    yield
    os.environ.clear()
    os.environ.update(environ)
    for name in set(sys.modules) - modules:
        if name.startswith("cli_apps") or name in ("app", "wsgi", "pkg", "hello"):
            del sys.modules[name]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _load(import_path: str | None, **kwargs: t.Any) -> Erlen:
    return ScriptInfo(app_import_path=import_path, set_debug_flag=False, **kwargs).load_app()


def _error(import_path: str) -> str:
    with pytest.raises(NoAppException) as exc_info:
        _load(import_path)
    return exc_info.value.format_message()


# -- discovery -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("import_path", "name"),
    [
        ("cli_apps.app_attr", "app_attr"),
        ("cli_apps.application_attr", "application_attr"),
        ("cli_apps.single", "single"),
        ("cli_apps.factory", "factory"),
        ("cli_apps.make_app_factory", "made"),
        ("cli_apps.app_attr:other", "other"),
        ("cli_apps.multiple:two", "two"),
        ("cli_apps.factory:create_app", "factory"),
        ("cli_apps.factory:create_app()", "factory"),
        ("cli_apps.factory:create_app('named')", "named"),
        ("cli_apps.factory:needs_two('a', b='b')", "a-b"),
        ("cli_apps.pkg", "pkg"),
        ("cli_apps.pkg.inner", "pkg.inner"),
    ],
)
def test_discovery_by_module(import_path: str, name: str) -> None:
    assert _load(import_path).name == name


def test_factory_keyword_literals() -> None:
    app = _load("cli_apps.factory:create_app(name='kw', debug=True)")
    assert app.name == "kw"
    assert app.config["FROM_FACTORY"] is True


def test_discovery_by_file_path() -> None:
    app = _load(str(APPS / "single.py"))
    # The file is inside the cli_apps package, so it keeps its package name.
    assert app.import_name == "single"
    assert sys.modules["cli_apps.single"].my_site is app


def test_discovery_by_package_folder_and_init() -> None:
    assert _load(str(APPS / "pkg")).name == "pkg"
    del sys.modules["cli_apps.pkg"]
    assert _load(str(APPS / "pkg" / "__init__.py")).name == "pkg"


def test_discovery_by_file_path_with_name() -> None:
    assert _load(f"{APPS / 'multiple.py'}:one").name == "one"


def test_discovery_of_the_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE.parent)
    app = _load("examples/hello/app.py")
    assert {rule.endpoint for rule in app.url_map.iter_rules()} >= {"index", "user", "api"}


@pytest.mark.parametrize(
    ("folder", "name"), [("default_wsgi", "default_wsgi"), ("default_app", "default_app")]
)
def test_default_files_in_current_folder(
    monkeypatch: pytest.MonkeyPatch, folder: str, name: str
) -> None:
    monkeypatch.chdir(APPS / folder)
    assert _load(None).name == name


def test_default_files_in_app_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert _load(None, app_dir=str(APPS / "default_app")).name == "default_app"


def test_app_path_relative_to_app_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert _load("single.py", app_dir=str(APPS)).name == "single"


def test_app_dir_option(runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["--app-dir", str(APPS / "default_app"), "hello"])
    assert result.exit_code == 0, result.output
    assert "hello from default app" in result.output


def test_where_raised_without_user_frames() -> None:
    assert _where_raised(None) == ""


def test_no_app_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        NoAppException, match="Could not find an Erlen app.*--app.*ERLEN_APP.*wsgi.py.*app.py"
    ):
        _load(None)


def test_factory_giving_none_is_reported() -> None:
    with pytest.raises(NoAppException, match="returned None"):
        ScriptInfo(create_app=lambda: None).load_app()  # type: ignore[arg-type, return-value]


def test_no_app_found_names_the_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NoAppException) as info:
        _load(None)
    assert f"in {str(tmp_path)!r}" in info.value.format_message()
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(NoAppException) as info:
        _load(None, app_dir=str(other))
    assert f"in {str(other)!r}" in info.value.format_message()


def test_missing_app_file_names_the_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Regression: '--app /nonexistent/dir/app.py' said "Could not import 'app'", no path.
    missing = tmp_path / "nonexistent" / "dir" / "app.py"
    assert _error(str(missing)) == f"Could not import {str(missing)!r}: no such file or folder."
    # Relative paths are shown as given and resolved from the app folder.
    monkeypatch.chdir(tmp_path)
    assert _error("src/hello.py") == (
        "Could not import 'src/hello.py': no such file or folder"
        f" ({str(tmp_path / 'src' / 'hello.py')!r})."
    )
    assert _error("src/hello:create_app()").startswith("Could not import 'src/hello'")


def test_missing_app_file_does_not_import_a_namesake(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # cli_apps/app_attr.py exists and holds an app; a path to a missing
    # app_attr.py elsewhere must not load it through the module name.
    monkeypatch.syspath_prepend(str(APPS))
    with pytest.raises(NoAppException, match="no such file or folder"):
        _load(str(tmp_path / "app_attr.py"))


def test_missing_module_names_the_folder_searched(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _error("no_such_erlen_module") == (
        f"Could not import 'no_such_erlen_module': no such module or file in {str(tmp_path)!r}"
        " or on the Python path."
    )


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["routes", "--help"]])
def test_help_outside_an_app_folder_is_only_the_help(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str]
) -> None:
    # Regression: the help was followed by an error about the missing app.
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, args)
    assert result.exit_code == 0
    assert "Usage: erlen" in result.stdout
    assert result.stderr == ""


def test_default_file_with_import_error_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A wsgi.py that exists but fails must not be skipped as "not there".
    (tmp_path / "wsgi.py").write_text("import erlen_cli_test_missing_thing\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NoAppException, match="While importing 'wsgi', an ImportError was raised"):
        _load(None)


@pytest.mark.parametrize(
    ("import_path", "message"),
    [
        (
            "cli_apps.does_not_exist",
            "Could not import 'cli_apps.does_not_exist': no such module or file in",
        ),
        ("cli_apps.app_attr:nope", "Module 'cli_apps.app_attr' has no attribute 'nope'."),
        ("cli_apps.empty", "Found no Erlen app or factory in module 'cli_apps.empty'"),
        (
            "cli_apps.multiple",
            "Found 2 Erlen apps in module 'cli_apps.multiple'; name the one to use with '--app cli_apps.multiple:NAME'.",
        ),
        (
            "cli_apps.factory_needs_args",
            "The factory 'create_app' in module 'cli_apps.factory_needs_args' can't be called without arguments",
        ),
        ("cli_apps.factory_not_app", "Found no Erlen app or factory"),
        (
            "cli_apps.factory:needs_two('a')",
            "The factory 'needs_two' in module 'cli_apps.factory' can't be called with the given arguments",
        ),
        ("cli_apps.factory:create_app(os.getcwd())", "must be Python literals"),
        ("cli_apps.factory:create_app(x=[1 for _ in ()])", "must be Python literals"),
        ("cli_apps.factory:a.b()", "must be a plain name"),
        (
            "cli_apps.factory:create_app(",
            "Can't read 'create_app(' as an attribute name or a function call.",
        ),
        ("cli_apps.factory:1 + 2", "Can't read '1 + 2' as an attribute name or a function call."),
        (
            "cli_apps.factory:not_an_app",
            "'cli_apps.factory:not_an_app' gave a int, not an Erlen app.",
        ),
        (
            "cli_apps.factory:not_an_app()",
            "'not_an_app' in module 'cli_apps.factory' is not a function",
        ),
        (
            "cli_apps.factory:gives_none",
            "'cli_apps.factory:gives_none' gave a NoneType, not an Erlen app.",
        ),
    ],
)
def test_discovery_errors(import_path: str, message: str) -> None:
    error = _error(import_path)
    assert message in error
    assert "\n" not in error


def test_import_error_inside_module_is_not_not_found() -> None:
    error = _error("cli_apps.import_error")
    assert error.startswith("While importing 'cli_apps.import_error', an ImportError was raised:")
    assert "erlen_cli_test_missing_dependency" in error
    # It points at the line that failed.
    assert "import_error.py, line 2" in error
    assert "Could not import" not in error
    assert "\n" not in error


def test_type_error_inside_factory_propagates() -> None:
    with pytest.raises(TypeError, match="len"):
        _load("cli_apps.factory_broken")
    with pytest.raises(TypeError, match="len"):
        _load("cli_apps.factory:broken()")


def test_find_helpers_directly() -> None:
    module = types.ModuleType("made_up")
    app = Erlen("made_up")
    module.application = app  # type: ignore[attr-defined]
    assert find_best_app(module) is app
    assert find_app_by_string(module, "application") is app
    assert locate_app("cli_apps.does_not_exist", None, raise_if_not_found=False) is None
    with pytest.raises(NoAppException):
        locate_app("cli_apps.does_not_exist", None)


def test_locate_app_reports_a_missing_package_inside() -> None:
    # The module exists, but imports a *package* that doesn't: still an
    # error inside the module, not "not found".
    with pytest.raises(NoAppException, match="While importing"):
        locate_app("cli_apps.import_error", None, raise_if_not_found=False)


def test_import_error_without_module_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # An ImportError that names no module is always an error inside.
    (tmp_path / "erlen_cli_plain_import_error.py").write_text(
        "raise ImportError('plain failure')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(NoAppException, match="an ImportError was raised: plain failure"):
        locate_app("erlen_cli_plain_import_error", None, raise_if_not_found=False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hello", ("hello", None)),
        ("hello:app", ("hello", "app")),
        ("hello:create_app('a:b')", ("hello", "create_app('a:b')")),
        ("C:\\apps\\hello.py", ("C:\\apps\\hello.py", None)),
        ("C:\\apps\\hello.py:app", ("C:\\apps\\hello.py", "app")),
        ("C:/apps/hello.py:app", ("C:/apps/hello.py", "app")),
    ],
)
def test_split_import_path(value: str, expected: tuple[str, str | None]) -> None:
    assert _split_import_path(value) == expected


def test_prepare_import_puts_folder_first_once(tmp_path: Path) -> None:
    (tmp_path / "mod_for_prepare.py").write_text("")
    assert prepare_import(str(tmp_path / "mod_for_prepare.py")) == "mod_for_prepare"
    assert sys.path[0] == str(tmp_path.resolve())
    before = list(sys.path)
    prepare_import(str(tmp_path / "mod_for_prepare.py"))
    assert sys.path == before
    sys.path.remove(str(tmp_path.resolve()))


def test_script_info_caches_and_uses_create_app() -> None:
    app = Erlen("created")
    calls: list[int] = []

    def create() -> Erlen:
        calls.append(1)
        return app

    info = ScriptInfo(create_app=create, set_debug_flag=False)
    assert info.load_app() is app
    assert info.load_app() is app
    assert calls == [1]
    assert info.data == {}


# -- error output on the command line --------------------------------------------


@pytest.mark.parametrize("command", ["routes", "run", "shell"])
@pytest.mark.parametrize(
    "import_path",
    [
        "cli_apps.does_not_exist",
        "cli_apps.app_attr:nope",
        "cli_apps.import_error",
        "cli_apps.empty",
    ],
)
def test_wrong_app_is_one_line_without_traceback(
    runner: CliRunner, command: str, import_path: str
) -> None:
    result = runner.invoke(cli, ["--app", import_path, command])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output


def test_wrong_app_for_app_command(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--app", "cli_apps.does_not_exist", "greet"])
    assert result.exit_code == 2
    assert "Error: Could not import 'cli_apps.does_not_exist'" in result.output
    assert "No such command 'greet'" in result.output
    assert "Traceback" not in result.output


def test_wrong_app_in_help_still_shows_help(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--app", "cli_apps.does_not_exist", "--help"])
    assert result.exit_code == 0
    assert "Error: Could not import" in result.stderr
    assert "routes" in result.stdout and "run" in result.stdout and "shell" in result.stdout


def test_broken_app_in_help_shows_traceback_and_help(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--app", "cli_apps.factory_broken", "--help"])
    assert result.exit_code == 0
    assert "TypeError" in result.stderr
    assert "routes" in result.stdout


# -- app commands ----------------------------------------------------------------


def test_app_commands_listed_and_run(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--app", "cli_apps.commands", "--help"])
    assert result.exit_code == 0, result.output
    assert "greet" in result.output and "Greet someone" in result.output
    assert "plain" in result.output

    result = runner.invoke(cli, ["--app", "cli_apps.commands", "greet", "Ada"])
    assert result.exit_code == 0, result.output
    assert result.output == "Hello, Ada, from commands!\n"

    # Discovery also works from ERLEN_APP.
    result = runner.invoke(cli, ["greet"], env={"ERLEN_APP": "cli_apps.commands"})
    assert result.output == "Hello, World, from commands!\n"


def test_app_command_without_appcontext(runner: CliRunner) -> None:
    app = Erlen("plain_app")

    @app.cli.command(with_appcontext=False)
    def plain() -> None:
        from erlen.globals import _cv

        click.echo(f"active: {_cv.get(None) is not None}")

    result = app.test_cli_runner().invoke(args=["plain"])
    assert result.output == "active: False\n"


def test_default_app_commands_from_current_folder(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(APPS / "default_app")
    result = runner.invoke(cli, ["hello"])
    assert result.exit_code == 0, result.output
    assert "hello from default app" in result.output


def test_no_args_shows_help_with_app_commands(runner: CliRunner) -> None:
    result = runner.invoke(cli, [], env={"ERLEN_APP": "cli_apps.commands"})
    assert "greet" in result.output
    assert "Usage: erlen" in result.output


def test_app_group_bare_decorator_and_nested_group() -> None:
    app = Erlen("groups")

    @app.cli.command
    def bare() -> None:
        click.echo(current_app.name)

    @app.cli.group()
    def db() -> None:
        """Database commands."""

    @db.command()
    def init() -> None:
        click.echo(f"init {current_app.name}")

    assert isinstance(db, AppGroup)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["bare"]).output == "groups\n"
    assert runner.invoke(args=["db", "init"]).output == "init groups\n"


def test_test_cli_runner_injects_app_and_keeps_debug(
    app: Erlen, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ERLEN_DEBUG", "1")
    app.debug = False

    @app.cli.command()
    def show() -> None:
        click.echo(f"{current_app.name} debug={current_app.debug}")

    runner = app.test_cli_runner()
    result = runner.invoke(args=["show"])
    assert result.output == "erlen_test_app debug=False\n"
    # A standalone command gets the app too.
    result = runner.invoke(
        cli=click.Command("x", callback=with_appcontext(lambda: click.echo(current_app.name)))
    )
    assert result.output == "erlen_test_app\n"
    # Other attributes come from click's runner.
    assert runner.charset == "utf-8"


def test_test_cli_runner_explicit_obj(app: Erlen) -> None:
    other = Erlen("other_app")

    @app.cli.command()
    def name() -> None:
        click.echo(current_app.name)

    result = app.test_cli_runner().invoke(args=["name"], obj=ScriptInfo(create_app=lambda: other))
    assert result.output == "other_app\n"


def test_with_appcontext_loads_app_from_script_info(runner: CliRunner) -> None:
    app = Erlen("ctx_app")

    @click.command()
    @with_appcontext
    def show() -> None:
        click.echo(current_app.name)

    result = runner.invoke(show, obj=ScriptInfo(create_app=lambda: app))
    assert result.output == "ctx_app\n"


def test_with_appcontext_uses_active_context(runner: CliRunner) -> None:
    app = Erlen("active_app")

    @click.command()
    @with_appcontext
    def show() -> None:
        click.echo(current_app.name)

    with app.app_context():
        # No ScriptInfo can load an app here: the active context is used.
        result = runner.invoke(show, obj=ScriptInfo(app_import_path="cli_apps.does_not_exist"))
    assert result.output == "active_app\n"


def test_get_command_reuses_active_context(runner: CliRunner) -> None:
    app = Erlen("reused")

    @app.cli.command()
    def name() -> None:
        click.echo(current_app.name)

    group = ErlenGroup(create_app=lambda: app)
    with app.app_context():
        result = runner.invoke(group, ["name"])
    assert result.output == "reused\n"


def test_custom_group_with_create_app(runner: CliRunner) -> None:
    app = Erlen("custom")

    @app.cli.command()
    def name() -> None:
        click.echo(current_app.name)

    group = FlaskGroup(
        create_app=lambda: app,
        add_default_commands=False,
        add_version_option=False,
        load_dotenv=False,
    )
    result = runner.invoke(group, ["--help"])
    assert "routes" not in result.output and "--version" not in result.output
    assert "name" in result.output
    assert runner.invoke(group, ["name"]).output == "custom\n"


def test_group_takes_extra_params_and_settings(runner: CliRunner) -> None:
    group = ErlenGroup(
        params=[click.Option(["--extra"], expose_value=False)],
        context_settings={"obj": ScriptInfo(create_app=lambda: Erlen("settings"))},
        load_dotenv=False,
    )

    @group.command()
    def name() -> None:
        click.echo(current_app.name)

    result = runner.invoke(group, ["--extra", "1", "name"])
    assert result.output == "settings\n", result.output


def test_plugin_commands(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    @click.command()
    def plugged() -> None:
        click.echo("from a plugin")

    class EntryPoint:
        name = "plugged"

        def load(self) -> click.Command:
            return plugged

    def entry_points(group: str) -> list[EntryPoint]:
        assert group == "erlen.commands"
        return [EntryPoint()]

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    group = ErlenGroup(create_app=lambda: Erlen("plugins"), load_dotenv=False)
    result = runner.invoke(group, ["plugged"])
    assert result.output == "from a plugin\n"
    assert "plugged" in runner.invoke(group, ["--help"]).output


def test_version(runner: CliRunner) -> None:
    import erlen

    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert f"Erlen {erlen.__version__}" in result.output
    assert "Python " in result.output


def test_main_runs_the_group(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["erlen", "--version"])
    with pytest.raises(SystemExit) as exc_info:
        main()
    assert exc_info.value.code == 0
    assert "Erlen" in capsys.readouterr().out


def test_app_cli_is_lazy_and_cached() -> None:
    app = Erlen("lazy")
    assert "cli" not in app.__dict__
    assert isinstance(app.cli, AppGroup)
    assert app.cli is app.cli
    assert app.cli.name == "lazy"


# -- debug -----------------------------------------------------------------------


def _debug_group() -> tuple[ErlenGroup, Erlen]:
    app = Erlen("debug_app")

    @app.cli.command()
    def debug() -> None:
        click.echo(f"debug={current_app.debug}")

    return ErlenGroup(create_app=lambda: app, load_dotenv=False), app


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {}, "debug=False"),
        (["--debug"], {}, "debug=True"),
        (["--no-debug"], {"ERLEN_DEBUG": "1"}, "debug=False"),
        ([], {"ERLEN_DEBUG": "1"}, "debug=True"),
        ([], {"ERLEN_DEBUG": "true"}, "debug=True"),
        ([], {"ERLEN_DEBUG": "0"}, "debug=False"),
        ([], {"ERLEN_DEBUG": "off"}, "debug=False"),
    ],
)
def test_debug_flag(
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    expected: str,
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    group, app = _debug_group()
    result = runner.invoke(group, [*args, "debug"])
    assert result.output == f"{expected}\n", result.output
    assert app.debug is (expected == "debug=True")


def test_get_debug_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_debug_flag() is False
    monkeypatch.setenv("ERLEN_DEBUG", "yes")
    assert get_debug_flag() is True
    monkeypatch.setenv("ERLEN_DEBUG", "")
    assert get_debug_flag() is False


def test_set_debug_flag_false_leaves_app_alone(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ERLEN_DEBUG", "1")
    app = Erlen("keep")
    app.debug = False
    ScriptInfo(create_app=lambda: app, set_debug_flag=False).load_app()
    assert app.debug is False
    ScriptInfo(create_app=lambda: app).load_app()
    assert app.debug is True


# -- dotenv ----------------------------------------------------------------------


@needs_dotenv
def test_dotenv_defaults_and_priority(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".erlenenv").write_text(
        "ERLEN_TEST_VALUE=from-erlenenv\nERLEN_TEST_OVERRIDE=erlenenv\n"
    )
    (tmp_path / ".env").write_text("ERLEN_TEST_OVERRIDE=dotenv\nERLEN_APP=cli_apps.commands\n")
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(cli, ["greet"])
    assert result.exit_code == 0, result.output
    # ERLEN_APP came from .env.
    assert result.output == "Hello, World, from commands!\n"
    assert os.environ["ERLEN_TEST_VALUE"] == "from-erlenenv"
    # .env wins over .erlenenv.
    assert os.environ["ERLEN_TEST_OVERRIDE"] == "dotenv"


@needs_dotenv
def test_dotenv_never_overrides_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("ERLEN_TEST_VALUE=from-file\nERLEN_TEST_EMPTY\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ERLEN_TEST_VALUE", "from-environment")
    assert load_dotenv() is True
    assert os.environ["ERLEN_TEST_VALUE"] == "from-environment"
    # A key without a value is not set at all.
    assert "ERLEN_TEST_EMPTY" not in os.environ


@needs_dotenv
def test_env_file_option(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env_file = tmp_path / "custom.env"
    env_file.write_text("ERLEN_TEST_VALUE=from-custom\n")
    (tmp_path / ".env").write_text("ERLEN_TEST_VALUE=from-default\n")
    monkeypatch.chdir(tmp_path)
    group, _ = _debug_group()
    group.load_dotenv = True
    result = runner.invoke(group, ["--env-file", str(env_file), "debug"])
    assert result.exit_code == 0, result.output
    assert os.environ["ERLEN_TEST_VALUE"] == "from-custom"


@needs_dotenv
def test_env_file_without_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ERLEN_TEST_VALUE=from-default\n")
    monkeypatch.chdir(tmp_path)
    assert load_dotenv(load_defaults=False) is False
    assert "ERLEN_TEST_VALUE" not in os.environ
    assert load_dotenv(tmp_path / "missing.env") is True  # the defaults still load


@needs_dotenv
def test_load_dotenv_false_skips_defaults(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("ERLEN_TEST_VALUE=from-default\n")
    monkeypatch.chdir(tmp_path)
    group, _ = _debug_group()  # load_dotenv=False
    assert runner.invoke(group, ["debug"]).exit_code == 0
    assert "ERLEN_TEST_VALUE" not in os.environ


@needs_dotenv
@pytest.mark.parametrize(
    ("skip", "loaded"), [("1", False), ("yes", False), ("0", True), ("", True)]
)
def test_skip_dotenv_variable(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, skip: str, loaded: bool
) -> None:
    (tmp_path / ".env").write_text("ERLEN_TEST_VALUE=from-default\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ERLEN_SKIP_DOTENV", skip)
    result = runner.invoke(cli, ["--app", "cli_apps.app_attr", "routes"])
    assert result.exit_code == 0, result.output
    assert ("ERLEN_TEST_VALUE" in os.environ) is loaded
    # The variable skips the default files only: a file named on the command line still loads.
    result = runner.invoke(cli, ["--env-file", ".env", "--app", "cli_apps.app_attr", "routes"])
    assert result.exit_code == 0, result.output
    assert os.environ["ERLEN_TEST_VALUE"] == "from-default"


def test_without_dotenv(runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "dotenv", None)  # makes `import dotenv` fail
    monkeypatch.chdir(tmp_path)
    # No files: nothing to say.
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert "Tip" not in result.output
    assert load_dotenv() is False

    (tmp_path / ".env").write_text("ERLEN_TEST_VALUE=1\n")
    result = runner.invoke(cli, ["--app", "cli_apps.app_attr", "routes"])
    assert result.exit_code == 0
    assert "Install python-dotenv" in result.stderr
    assert "ERLEN_TEST_VALUE" not in os.environ

    result = runner.invoke(cli, ["--env-file", ".env", "--version"])
    assert result.exit_code == 2
    assert "python-dotenv must be installed" in result.output


# -- routes ----------------------------------------------------------------------


def _routes_app(**kwargs: t.Any) -> Erlen:
    app = Erlen("routes_app", static_folder=None, **kwargs)

    @app.route("/zeta", methods=["GET", "POST"])
    def b_view() -> str:
        return ""

    @app.delete("/alpha/<int:id>")
    def a_view(id: int) -> str:
        return ""

    @app.route("/")
    def c_view() -> str:
        return ""

    return app


def _routes(args: list[str], app: Erlen | None = None) -> list[str]:
    app = app or _routes_app()
    result = app.test_cli_runner().invoke(
        args=args, cli=ErlenGroup(create_app=lambda: app, load_dotenv=False)
    )
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_routes_table() -> None:
    lines = _routes(["routes"])
    assert lines == [
        "Endpoint  Methods    Rule",
        "--------  ---------  ---------------",
        "a_view    DELETE     /alpha/<int:id>",
        "b_view    GET, POST  /zeta",
        "c_view    GET        /",
    ]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("endpoint", ["a_view", "b_view", "c_view"]),
        ("methods", ["a_view", "c_view", "b_view"]),
        ("rule", ["c_view", "a_view", "b_view"]),
        ("match", ["b_view", "a_view", "c_view"]),
        ("domain", ["b_view", "a_view", "c_view"]),  # no domains: registration order
    ],
)
def test_routes_sort(sort: str, order: list[str]) -> None:
    lines = _routes(["routes", "--sort", sort])
    assert [line.split()[0] for line in lines[2:]] == order


def test_routes_all_methods() -> None:
    lines = _routes(["routes", "--all-methods"])
    assert "GET, HEAD, OPTIONS, POST" in lines[3]
    assert "HEAD" not in "".join(_routes(["routes"]))


def test_routes_subdomain_column() -> None:
    app = _routes_app()
    app.config["SERVER_NAME"] = "example.test"
    app.add_url_rule("/api", "api", lambda: "", subdomain="api")
    lines = _routes(["routes", "-s", "domain"], app)
    assert lines[0].split() == ["Endpoint", "Methods", "Subdomain", "Rule"]
    assert lines[-1].split() == ["api", "GET", "api", "/api"]


def test_routes_host_column() -> None:
    app = Erlen("hosts", static_folder=None, host_matching=True)
    app.add_url_rule("/", "b_home", lambda: "", host="b.test")
    app.add_url_rule("/", "a_home", lambda: "", host="a.test")
    lines = _routes(["routes", "--sort", "domain"], app)
    assert lines[0].split() == ["Endpoint", "Methods", "Host", "Rule"]
    assert [line.split()[0] for line in lines[2:]] == ["a_home", "b_home"]


def test_routes_empty() -> None:
    assert _routes(["routes"], Erlen("empty", static_folder=None)) == ["No routes were registered."]


def test_routes_of_the_example(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE.parent)
    result = runner.invoke(cli, ["--app", "examples/hello/app.py", "routes"])
    assert result.exit_code == 0, result.output
    assert "/api/<int:item_id>" in result.output


# -- run -------------------------------------------------------------------------


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[t.Any, ...], dict[str, t.Any]]]:
    import erlen.serving

    calls: list[tuple[tuple[t.Any, ...], dict[str, t.Any]]] = []
    monkeypatch.setattr(
        erlen.serving, "run_simple", lambda *args, **kwargs: calls.append((args, kwargs))
    )
    return calls


def test_run_defaults(runner: CliRunner, served: list[t.Any]) -> None:
    result = runner.invoke(cli, ["--app", "cli_apps.app_attr", "run"])
    assert result.exit_code == 0, result.output
    ((args, kwargs),) = served
    assert args[:2] == ("127.0.0.1", 5000)
    assert args[2].name == "app_attr"
    assert kwargs["threaded"] is True
    assert kwargs["extra_files"] is None and kwargs["exclude_patterns"] is None
    assert result.output == " * Debug mode: off\n"


def test_run_in_the_reloader_child_serves_an_import_error(
    runner: CliRunner, served: list[t.Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reloader's child after a bad edit: it serves the error (the debugger
    # shows it) rather than exiting and leaving requests waiting.
    broken = tmp_path / "broken_app.py"
    broken.write_text("from erlen import Erlen\napp = Erlen(__name__)\ndef index(:\n")
    monkeypatch.setenv("ERLEN_RUN_MAIN", "true")
    result = runner.invoke(cli, ["--app", str(broken), "run", "--debug"])
    assert result.exit_code == 0, result.output
    assert "SyntaxError" in result.stderr and str(broken) in result.stderr
    ((args, kwargs),) = served
    assert kwargs["use_reloader"] is True and kwargs["use_debugger"] is True
    depths = []
    for _ in range(3):  # the same error each time, its traceback not growing
        with pytest.raises(SyntaxError) as info:
            args[2]({}, lambda *a: None)
        assert info.value.filename == str(broken)
        depths.append(len(traceback_frames(info.value)))
    assert depths[0] == depths[1] == depths[2]

    # Plain `--reload`, no debug mode: still the reloader, no debugger.
    served.clear()
    # Not monkeypatch.delenv: its undo would put back the "1" that --debug
    # wrote, after _isolate restored the environment.
    os.environ.pop("ERLEN_DEBUG", None)
    result = runner.invoke(cli, ["--app", str(broken), "run", "--reload"])
    ((args, kwargs),) = served
    assert kwargs["use_reloader"] is True and kwargs["use_debugger"] is False


def test_run_with_an_import_error_fails_outside_the_reloader(
    runner: CliRunner, served: list[t.Any], tmp_path: Path
) -> None:
    broken = tmp_path / "broken_app.py"
    broken.write_text("def index(:\n")
    result = runner.invoke(cli, ["--app", str(broken), "run", "--debug"])
    assert isinstance(result.exception, SyntaxError)
    assert served == []


def traceback_frames(error: BaseException) -> list[t.Any]:
    import traceback

    return list(traceback.walk_tb(error.__traceback__))


def test_run_options(runner: CliRunner, served: list[t.Any]) -> None:
    result = runner.invoke(
        cli,
        [
            "--app",
            "cli_apps.app_attr",
            "run",
            "--host",
            "0.0.0.0",
            "-p",
            "8080",
            "--without-threads",
            "--extra-files",
            f"a.txt{os.pathsep}b.txt",
            "--exclude-patterns",
            "*.tmp",
        ],
    )
    assert result.exit_code == 0, result.output
    ((args, kwargs),) = served
    assert args[:2] == ("0.0.0.0", 8080)
    assert kwargs["threaded"] is False
    assert kwargs["extra_files"] == ["a.txt", "b.txt"]
    assert kwargs["exclude_patterns"] == ["*.tmp"]


def test_run_path_lists_are_parsed_as_options() -> None:
    # Parsed by the options themselves (Flask's types give lists too), so
    # ctx.params holds what the server gets.
    ctx = run_command.make_context(
        "run",
        ["--exclude-patterns", f"*.tmp{os.pathsep}{os.pathsep}*.swp", "--extra-files", "a.txt"],
    )
    assert ctx.params["exclude_patterns"] == ["*.tmp", "*.swp"]
    assert ctx.params["extra_files"] == ["a.txt"]
    ctx = run_command.make_context("run", [])
    assert ctx.params["exclude_patterns"] is None and ctx.params["extra_files"] is None


def test_run_port_from_environment(runner: CliRunner, served: list[t.Any]) -> None:
    result = runner.invoke(
        cli, ["run"], env={"ERLEN_APP": "cli_apps.app_attr", "ERLEN_RUN_PORT": "7000"}
    )
    assert result.exit_code == 0, result.output
    assert served[0][0][:2] == ("127.0.0.1", 7000)


def test_run_debug_turns_on_debugger_and_reloader(runner: CliRunner, served: list[t.Any]) -> None:
    result = runner.invoke(cli, ["--app", "cli_apps.app_attr", "--debug", "run"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [" * Debug mode: on"]
    assert served[0][0][2].debug is True
    assert served[0][1]["use_reloader"] is True
    assert served[0][1]["use_debugger"] is True


def test_run_reload_flag(runner: CliRunner, served: list[t.Any]) -> None:
    result = runner.invoke(cli, ["--app", "cli_apps.app_attr", "run", "--reload"])
    assert "not available" not in result.output
    assert served[-1][1]["use_reloader"] is True
    result = runner.invoke(
        cli, ["--app", "cli_apps.app_attr", "--debug", "run", "--no-reload", "--no-debugger"]
    )
    assert "not available" not in result.output
    assert served[-1][1]["use_reloader"] is False
    assert len(served) == 2


def test_run_in_reloader_child_prints_no_banner(runner: CliRunner, served: list[t.Any]) -> None:
    # The child re-runs the command on every restart; the watcher spoke once.
    result = runner.invoke(
        cli, ["--app", "cli_apps.app_attr", "--debug", "run"], env={"ERLEN_RUN_MAIN": "true"}
    )
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert served[0][1]["use_reloader"] is True


def test_run_without_set_debug_flag_uses_app_debug(runner: CliRunner, served: list[t.Any]) -> None:
    app = Erlen("debug_from_config")
    app.debug = True
    group = ErlenGroup(create_app=lambda: app, set_debug_flag=False, load_dotenv=False)
    result = runner.invoke(group, ["run", "--no-reload", "--no-debugger"])
    assert result.output == " * Debug mode: on\n"


def test_run_cert_and_key_files_make_a_pair(tmp_path: Path) -> None:
    # As Flask's: a certificate file needs its key file, in either order.
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("c")
    key.write_text("k")
    for order in (
        ["--cert", str(cert), "--key", str(key)],
        ["--key", str(key), "--cert", str(cert)],
    ):
        ctx = run_command.make_context("run", order)
        assert ctx.params["cert"] == (str(cert), str(key))
        assert "key" not in ctx.params
    with pytest.raises(click.BadParameter, match='Required when using "--cert"'):
        run_command.make_context("run", ["--cert", str(cert)])
    with pytest.raises(click.BadParameter, match='"--cert" must be given too'):
        run_command.make_context("run", ["--key", str(key)])
    # Neither: plain HTTP.
    assert run_command.make_context("run", []).params["cert"] is None


def test_run_cert_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "c.pem").write_text("c")
    (tmp_path / "k.pem").write_text("k")
    monkeypatch.chdir(tmp_path)
    ctx = run_command.make_context("run", ["--cert", "c.pem", "--key", "k.pem"])
    assert ctx.params["cert"] == (str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))


def test_run_cert_adhoc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(click.BadParameter, match="pip install cryptography"):
        run_command.make_context("run", ["--cert", "adhoc"])
    monkeypatch.setitem(sys.modules, "cryptography", types.ModuleType("cryptography"))
    assert run_command.make_context("run", ["--cert", "ADHOC"]).params["cert"] == "adhoc"
    key = tmp_path / "key.pem"
    key.write_text("k")
    with pytest.raises(click.BadParameter, match="not used with"):
        run_command.make_context("run", ["--cert", "adhoc", "--key", str(key)])


def test_run_cert_imports_an_ssl_context(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import ssl

    monkeypatch.setitem(sys.modules, "not_here", None)
    with pytest.raises(click.BadParameter, match="not a certificate file"):
        run_command.make_context("run", ["--cert", "not_here"])
    with pytest.raises(click.BadParameter, match="import path of an ssl.SSLContext"):
        run_command.make_context("run", ["--cert", "erlen"])  # imports, but no context

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    holder = types.ModuleType("tls_holder")
    holder.context = context  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tls_holder", holder)
    for spelling in ("tls_holder:context", "tls_holder.context"):
        assert run_command.make_context("run", ["--cert", spelling]).params["cert"] is context
    key = tmp_path / "key.pem"
    key.write_text("k")
    with pytest.raises(click.BadParameter, match="holds its key"):
        run_command.make_context("run", ["--cert", "tls_holder:context", "--key", str(key)])


def test_run_cert_without_the_ssl_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ssl", None)
    with pytest.raises(click.BadParameter, match="ssl module"):
        run_command.make_context("run", ["--cert", "adhoc"])


def test_run_passes_the_certificate_to_the_server(
    runner: CliRunner, served: list[t.Any], tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("c")
    key.write_text("k")
    result = runner.invoke(
        cli, ["--app", "cli_apps.app_attr", "run", "--cert", str(cert), "--key", str(key)]
    )
    assert result.exit_code == 0, result.output
    ((_, kwargs),) = served
    assert kwargs["ssl_context"] == (str(cert), str(key))
    # A bad pairing is a usage error before anything is served.
    served.clear()
    result = runner.invoke(cli, ["--app", "cli_apps.app_attr", "run", "--cert", str(cert)])
    assert result.exit_code == 2 and 'Required when using "--cert"' in result.output
    assert served == []


# -- shell -----------------------------------------------------------------------


def _shell_app() -> Erlen:
    app = Erlen("shell_app")

    @app.shell_context_processor
    def extra() -> dict[str, t.Any]:
        return {"answer": 42}

    return app


def test_shell(runner: CliRunner) -> None:
    app = _shell_app()
    group = ErlenGroup(create_app=lambda: app, load_dotenv=False)
    result = runner.invoke(
        group,
        ["shell"],
        input="print(app.name, answer, g is not None)\nfrom erlen import current_app\nprint(current_app.name)\n",
    )
    assert result.exit_code == 0, result.output
    assert f"Python {sys.version}" in result.output
    assert "App: shell_app" in result.output
    assert f"Instance: {app.instance_path}" in result.output
    assert "shell_app 42 True" in result.stdout
    assert "shell_app\n" in result.stdout


def test_shell_runs_pythonstartup(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    startup = tmp_path / "startup.py"
    startup.write_text("from_startup = 'started'\nanswer = 'overridden by the app'\n")
    monkeypatch.setenv("PYTHONSTARTUP", str(startup))
    group = ErlenGroup(create_app=_shell_app, load_dotenv=False)
    result = runner.invoke(group, ["shell"], input="print(from_startup, answer)\n")
    assert "started 42" in result.stdout


def test_shell_ignores_missing_pythonstartup(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PYTHONSTARTUP", str(tmp_path / "missing.py"))
    group = ErlenGroup(create_app=_shell_app, load_dotenv=False)
    result = runner.invoke(group, ["shell"], input="print(answer)\n")
    assert result.exit_code == 0
    assert "42" in result.stdout


def test_run_on_a_taken_port_says_so_in_one_line(tmp_path: Path) -> None:
    # Regression: 'erlen run' on a port in use ended in a 40-line traceback.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERLEN_")}
    (tmp_path / "app.py").write_text("from erlen import Erlen\n\napp = Erlen(__name__)\n")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "erlen", "run", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Port {port} on 127.0.0.1 is in use by another program: stop it, or pick another port"
        f" with --port (e.g. 'erlen run --port {port + 1}', or app.run(port={port + 1}))."
    ]
