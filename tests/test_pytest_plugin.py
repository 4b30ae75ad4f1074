"""The pytest plugin shipped with Erlen: client, runner and live_server fixtures.

Each test runs a small user test suite through ``pytester``, the way a
project using Erlen would, and checks its outcomes.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

# A user's conftest: only the `app` fixture; everything else comes from the plugin.
USER_CONFTEST = """
import pytest

from erlen import Erlen


@pytest.fixture
def app():
    app = Erlen("userapp", root_path=__file__.rsplit("/", 1)[0])
    app.config.update(TESTING=True)

    @app.get("/")
    def index():
        return "hello from erlen"

    @app.get("/items/<int:item_id>")
    def item(item_id):
        return f"item {item_id}"

    @app.cli.command("greet")
    def greet():
        print("greetings")

    return app
"""

USER_TESTS = """
import urllib.request

from erlen.pytest_plugin import LiveServer


def test_client(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.text == "hello from erlen"


def test_runner(runner):
    result = runner.invoke(args=["greet"])
    assert result.exit_code == 0, result.output
    assert result.output == "greetings\\n"


def test_live_server(live_server):
    assert isinstance(live_server, LiveServer)
    assert live_server.port > 0
    assert live_server.url == f"http://127.0.0.1:{live_server.port}"
    with urllib.request.urlopen(live_server.url + "/", timeout=5) as response:
        assert response.status == 200
        assert response.read() == b"hello from erlen"


def test_live_server_url_for(live_server):
    url = live_server.url_for("item", item_id=7, q="x")
    assert url == f"{live_server.url}/items/7?q=x"
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"item 7"
"""


@pytest.fixture(autouse=True)
def _autoload_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    # The inner runs must find the plugin through its entry point, as a
    # user's project would, even if the environment turned autoloading off.
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # Hypothesis's plugin imports hypothesis at session end, which pytester's
    # sys.modules snapshot then drops: seconds per inner run when this module
    # runs alone. The inner suites don't use it.
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest", *args)


# Warnings are errors in the user's runs, so a leaked socket or an exception
# in the server thread fails them. The exception: when this outer run didn't
# load the plugin (PYTEST_DISABLE_PLUGIN_AUTOLOAD), erlen was imported without
# pytest's assertion rewriting, and the inner run's entry point warns about it.
STRICT = ("-W", "error", "-W", "ignore::pytest.PytestAssertRewriteWarning")


def test_entry_point_registered() -> None:
    (ep,) = [ep for ep in entry_points(group="pytest11") if ep.name == "erlen"]
    assert ep.value == "erlen.pytest_plugin"


def test_fixtures_from_app_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(USER_CONFTEST)
    pytester.makepyfile(test_user=USER_TESTS)
    result = _run(pytester, *STRICT)
    result.assert_outcomes(passed=4)


def test_live_server_stopped_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(USER_CONFTEST)
    pytester.makepyfile(
        """
        import urllib.error
        import urllib.request

        import pytest

        servers = []


        def test_serve(live_server):
            servers.append(live_server)


        def test_stopped_after_teardown():
            (server,) = servers
            assert "stopped" in repr(server)
            with pytest.raises(urllib.error.URLError):
                urllib.request.urlopen(server.url + "/", timeout=2)
        """
    )
    result = _run(pytester, *STRICT)
    result.assert_outcomes(passed=2)


def test_missing_app_fixture_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_client(client):
            pass


        def test_live_server(live_server):
            pass


        def test_unrelated():
            pass
        """
    )
    result = _run(pytester)
    # Without an `app` fixture the plugin's fixtures error in setup, and
    # tests that don't use them are unaffected.
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(
        ["*'client' fixture (from Erlen's pytest plugin) needs an 'app' fixture*"]
    )
    result.stdout.fnmatch_lines(
        ["*'live_server' fixture (from Erlen's pytest plugin) needs an 'app' fixture*"]
    )


def test_app_fixture_needing_a_missing_fixture_keeps_pytest_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest


        @pytest.fixture
        def app(no_such_fixture):
            return None


        def test_client(client):
            pass
        """
    )
    result = _run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'no_such_fixture' not found*"])
    result.stdout.no_fnmatch_line("*from Erlen's pytest plugin*")


def test_project_fixtures_take_precedence(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        USER_CONFTEST
        + """

@pytest.fixture
def client():
    return "the project's own client"
"""
    )
    pytester.makepyfile(
        """
        def test_client(client):
            assert client == "the project's own client"
        """
    )
    _run(pytester).assert_outcomes(passed=1)


# -- --erlen-interface ------------------------------------------------------------

# A user's app whose ASGI side notes every request, so a test can tell which
# interface its client used.
INTERFACE_CONFTEST = """
import pytest

from erlen import Erlen, request

asgi_calls = []


@pytest.fixture
def app():
    app = Erlen("userapp", root_path=__file__.rsplit("/", 1)[0])
    app.config.update(TESTING=True)

    @app.get("/")
    def index():
        return request.path

    inner = app.asgi_app

    async def noting(scope, receive, send):
        asgi_calls.append(scope["type"])
        await inner(scope, receive, send)

    app.asgi_app = noting
    return app
"""

INTERFACE_TESTS = """
import os

from conftest import asgi_calls


def test_interface(client):
    assert client.get("/").text == "/"
    used = "asgi" if asgi_calls == ["http"] else "wsgi" if not asgi_calls else asgi_calls
    assert used == os.environ["EXPECTED_INTERFACE"]
"""


@pytest.mark.parametrize(
    ("args", "ini", "env", "expected"),
    [
        ([], "", {}, "wsgi"),
        (["--erlen-interface=asgi"], "", {}, "asgi"),
        ([], "erlen_interface = asgi", {}, "asgi"),
        ([], "", {"ERLEN_INTERFACE": "asgi"}, "asgi"),
        (["--erlen-interface=wsgi"], "", {"ERLEN_INTERFACE": "asgi"}, "wsgi"),
        ([], "erlen_interface = asgi", {"ERLEN_INTERFACE": "WSGI"}, "wsgi"),
    ],
    ids=["default", "option", "ini", "env", "option-beats-env", "env-beats-ini"],
)
def test_interface_switch(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    ini: str,
    env: dict[str, str],
    expected: str,
) -> None:
    from erlen.testing import ErlenClient

    monkeypatch.delenv("ERLEN_INTERFACE", raising=False)
    for key, value in {**env, "EXPECTED_INTERFACE": expected}.items():
        monkeypatch.setenv(key, value)
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makeconftest(INTERFACE_CONFTEST)
    pytester.makepyfile(test_user=INTERFACE_TESTS)
    outer = ErlenClient.interface
    result = _run(pytester, *STRICT, *args)
    result.assert_outcomes(passed=1)
    if expected == "asgi":
        result.stdout.fnmatch_lines(["erlen: test clients send requests over ASGI"])
    # The inner run gave the outer one its setting back.
    assert ErlenClient.interface == outer


def test_interface_unknown_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ERLEN_INTERFACE", "cgi")
    pytester.makepyfile("def test_nothing(): pass")
    result = _run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ERLEN_INTERFACE must be one of wsgi, asgi, not 'cgi'*"])


def test_interface_with_compat_sends_flask_clients_over_asgi(pytester: pytest.Pytester) -> None:
    # A Flask project's own conftest and FlaskClient subclass, run on Erlen.
    pytester.makeconftest(
        """
        import flask
        import pytest
        from flask.testing import FlaskClient

        calls = []


        class ProjectClient(FlaskClient):
            pass


        @pytest.fixture
        def app():
            app = flask.Flask(__name__)
            app.test_client_class = ProjectClient

            @app.route("/")
            def index():
                return flask.jsonify(path=flask.request.path)

            inner = app.asgi_app

            async def noting(scope, receive, send):
                calls.append(scope["type"])
                await inner(scope, receive, send)

            app.asgi_app = noting
            return app
        """
    )
    pytester.makepyfile(
        test_flask="""
        from conftest import calls

        def test_over_asgi(client):
            assert client.get("/").json == {"path": "/"}
            assert calls == ["http"]
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--erlen-compat", "--erlen-interface=asgi"
    )
    result.assert_outcomes(passed=1)


FLASK_PLUGIN = """
import flask
import pytest

MODULE = flask.Flask.__module__


@pytest.fixture
def flask_module():
    return MODULE
"""


@pytest.mark.parametrize("how", ["argv", "PYTEST_ADDOPTS", "ERLEN_COMPAT"])
def test_compat_installed_before_a_plugin_that_imports_flask(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    # A plugin that imports flask when pytest loads it (Flask-Dance's
    # fixtures do) is imported before any hook runs; with -p erlen first, the
    # layer is installed by then, so it gets Erlen (not the real Flask, which
    # is installed here as a peer).
    pytester.makepyfile(flaskplug=FLASK_PLUGIN)
    pytester.makepyfile(
        test_plug="""
        def test_plugin_got_erlen(flask_module):
            assert flask_module == "erlen.app"
        """
    )
    args = ["-p", "no:cacheprovider", "-p", "erlen", "-p", "flaskplug"]
    if how == "argv":
        args.append("--erlen-compat")
    elif how == "PYTEST_ADDOPTS":
        monkeypatch.setenv("PYTEST_ADDOPTS", "--erlen-compat")
    else:
        monkeypatch.setenv("ERLEN_COMPAT", "1")
    result = pytester.runpytest_subprocess(*args, timeout=60)
    result.assert_outcomes(passed=1)


def test_plugin_that_imports_flask_gets_the_real_flask_without_compat(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ERLEN_COMPAT", raising=False)
    pytester.makepyfile(flaskplug=FLASK_PLUGIN)
    pytester.makepyfile(
        test_plug="""
        def test_plugin_got_flask(flask_module):
            assert flask_module == "flask.app"
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "erlen", "-p", "flaskplug", timeout=60
    )
    result.assert_outcomes(passed=1)
