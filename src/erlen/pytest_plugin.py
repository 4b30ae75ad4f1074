"""A pytest plugin providing fixtures for testing an Erlen app.

Installing Erlen registers this module with pytest (the ``pytest11`` entry
point ``erlen``), so a project only has to define an ``app`` fixture that
returns its app::

    @pytest.fixture
    def app():
        app = create_app()
        app.config.update(TESTING=True)
        return app

and its tests can use:

``client``
    ``app.test_client()``, which sends requests to the app without a server.
``runner``
    ``app.test_cli_runner()``, which invokes the app's ``app.cli`` commands.
``live_server``
    The app served over real HTTP on ``127.0.0.1`` and a free port, in a
    background thread: a :class:`LiveServer` (``live_server.url``,
    ``live_server.port``, ``live_server.url_for("index")``).

All three are function scoped, and a fixture of the same name defined by the
project (for example in its ``conftest.py``) takes precedence over these.
Disable the plugin with ``-p no:erlen``.

``pytest --erlen-compat`` (or ``erlen_compat = true`` in the ini file, or
``ERLEN_COMPAT=1``) runs a Flask project's suite on Erlen: it calls
:func:`erlen.compat.install` before pytest imports any ``conftest.py``, so
``import flask`` resolves to Erlen (see ``docs/compat.md``).

An installed plugin that imports ``flask`` when pytest loads it (Flask-Dance's
does) would run before that hook: ``pytest -p erlen --erlen-compat`` loads this
plugin first, and the layer is then installed as soon as it is imported (the
option on the command line or in ``PYTEST_ADDOPTS``, or ``ERLEN_COMPAT=1``).

``pytest --erlen-interface=asgi`` (or ``erlen_interface = asgi`` in the ini
file, or ``ERLEN_INTERFACE=asgi``; the option wins over the variable, the
variable over the ini file) sends every test client's requests through the
app's ASGI side instead of its WSGI side: it sets
:attr:`erlen.testing.ErlenClient.interface` for the run, which Flask's
``FlaskClient`` is under ``--erlen-compat``. ``wsgi`` is the default.

pytest imports this module at startup in every project where Erlen is
installed, including projects that don't use Erlen, so it imports nothing
beyond pytest at module level; the fixtures import what they need.
"""

from __future__ import annotations

import sys
import threading
import typing as t

import pytest

if t.TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from .app import Erlen
    from .testing import ErlenClient, ErlenCliRunner

__all__ = ["LiveServer", "client", "runner", "live_server"]

#: Seconds :meth:`LiveServer.start` waits for the server thread to start.
STARTUP_TIMEOUT = 5.0


def _get_app(request: pytest.FixtureRequest) -> Erlen:
    """The value of the project's ``app`` fixture.

    The fixture is looked up only when one of this plugin's fixtures is used,
    so a project without an ``app`` fixture is unaffected until it asks for
    ``client``, ``runner`` or ``live_server``.

    :raises pytest.fail.Exception: If the project defines no ``app`` fixture.
    """
    try:
        return t.cast("Erlen", request.getfixturevalue("app"))
    except pytest.FixtureLookupError as e:
        # Only a missing `app` itself gets the friendly message: when the
        # project's `app` fixture exists but asks for a missing fixture,
        # pytest's own error already names the culprit.
        if e.argname != "app":
            raise
    # Failing outside the except block keeps pytest's lookup error from being
    # chained into the report: the message below says all there is to say.
    pytest.fail(
        f"The {request.fixturename!r} fixture (from Erlen's pytest plugin) needs an 'app'"
        " fixture returning your Erlen app. Define one, for example in conftest.py:\n\n"
        "    @pytest.fixture\n"
        "    def app():\n"
        "        app = create_app()\n"
        "        app.config.update(TESTING=True)\n"
        "        return app\n",
        pytrace=False,
    )


class LiveServer:
    """An app served over HTTP from a background thread, for the ``live_server`` fixture.

    The server is Erlen's development server (:func:`erlen.serving.make_server`),
    so it is meant for tests only.

    :param app: The app (any WSGI callable works for serving; :meth:`url_for`
        needs an Erlen app).
    :param host: The interface to bind.
    :param port: The port to bind; ``0`` picks a free one.
    """

    def __init__(self, app: Erlen, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self._port = port
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (the bound one once started)."""
        if self._server is not None:
            return self._server.server_address[1]
        return self._port

    @property
    def url(self) -> str:
        """The server's base URL, ``http://host:port`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    def url_for(self, endpoint: str, **values: t.Any) -> str:
        """The absolute URL of ``endpoint`` on this server.

        Like :func:`erlen.url_for` with ``_external=True``, but it needs no
        request context and no ``SERVER_NAME``: the path comes straight from
        the app's URL map (with its URL defaults applied) and the host is the
        server's. Values that aren't rule variables become the query string.

        :param endpoint: The endpoint, e.g. ``"index"`` or ``"blog.post"``.
        :param values: The rule's variables and extra query arguments.
        """
        values = dict(values)
        # Not pushing a request context here on purpose: popping one would run
        # the app's teardown functions in the test's thread.
        self.app.inject_url_defaults(endpoint, values)
        _domain, path = self.app.url_map.build(endpoint, values)
        return self.url + path

    def start(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Bind the socket and start serving in a daemon thread.

        :param timeout: Seconds to wait for the server thread to start.
        :raises RuntimeError: If the thread hasn't started within ``timeout``.
        """
        if self._server is not None:
            raise RuntimeError("the live server is already running")
        from .serving import make_server

        # make_server binds and listens before it returns, so a request sent
        # as soon as start() returns waits in the listen backlog rather than
        # being refused; the wait below only guards against a thread that
        # never runs.
        server = make_server(self.host, self._port, self.app)
        started = threading.Event()

        def serve() -> None:
            started.set()
            # A short poll interval keeps stop() (and so each test's teardown)
            # fast: shutdown() waits for serve_forever's next poll.
            server.serve_forever(poll_interval=0.05)

        thread = threading.Thread(
            target=serve, name=f"erlen-live-server-{server.server_address[1]}", daemon=True
        )
        thread.start()
        if not started.wait(timeout):
            server.server_close()
            raise RuntimeError(f"the live server thread did not start within {timeout} seconds")
        self._server, self._thread = server, thread

    def stop(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Stop serving, close the socket and wait (bounded) for the thread to end."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        # Remember the bound port so `port`/`url` still describe the stopped server.
        self._port = server.server_address[1]
        try:
            server.shutdown()
        finally:
            server.server_close()
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._server is not None else "stopped"
        return f"<LiveServer {self.url} ({state})>"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--erlen-compat",
        action="store_true",
        default=False,
        help="Run Flask code on Erlen: call erlen.compat.install() before conftest files are imported.",
    )
    parser.addini("erlen_compat", "Like --erlen-compat.", type="bool", default=False)
    parser.addoption(
        "--erlen-interface",
        choices=_INTERFACES,
        default=None,
        help="The server interface test clients send requests through: wsgi (the default) or asgi.",
    )
    parser.addini("erlen_interface", "Like --erlen-interface.", default="")


_INTERFACES = ("wsgi", "asgi")
#: The test client's interface before this run changed it, restored at the end.
_saved_interface = pytest.StashKey[str]()


def _wanted_interface(config: pytest.Config) -> str | None:
    """The interface the run asked for: the option, else ERLEN_INTERFACE, else the ini value."""
    from os import environ

    for source, value in (
        ("--erlen-interface", config.getoption("erlen_interface")),
        ("ERLEN_INTERFACE", environ.get("ERLEN_INTERFACE")),
        ("erlen_interface (ini)", config.getini("erlen_interface")),
    ):
        if value:
            value = value.strip().lower()
            if value not in _INTERFACES:
                raise pytest.UsageError(
                    f"{source} must be one of {', '.join(_INTERFACES)}, not {value!r}"
                )
            return t.cast(str, value)
    return None


def pytest_configure(config: pytest.Config) -> None:
    interface = _wanted_interface(config)
    if interface is None:
        return
    from .testing import ErlenClient

    config.stash[_saved_interface] = ErlenClient.interface
    ErlenClient.interface = interface


def pytest_unconfigure(config: pytest.Config) -> None:
    # Only matters when pytest runs inside another run (pytester).
    saved = config.stash.get(_saved_interface, None)
    if saved is not None:
        from .testing import ErlenClient

        ErlenClient.interface = saved


def pytest_report_header(config: pytest.Config) -> str | None:
    interface = _wanted_interface(config)
    return (
        None if interface is None else f"erlen: test clients send requests over {interface.upper()}"
    )


def _compat_in_environ() -> bool:
    """Whether ``ERLEN_COMPAT`` asks for the compat layer."""
    from os import environ

    return environ.get("ERLEN_COMPAT", "").lower() not in ("", "0", "false", "no", "off")


def _install_when_loaded(argv: list[str]) -> None:
    """Install the compat layer now if the command line or the environment asks for it.

    Called when pytest imports this module, which is before any of its hooks:
    pytest imports every installed plugin first, and one that imports
    ``flask`` at the top (Flask-Dance's fixtures) must already get Erlen's.
    pytest imports ``-p`` plugins before the installed ones, so ``-p erlen``
    makes this one come first. Only the command line (``sys.argv``) and the
    environment can be seen here; the ini file is read later, by the hook below.
    """
    from os import environ
    from shlex import split

    args = argv[1:] + split(environ.get("PYTEST_ADDOPTS", ""))
    if "--erlen-compat" in args or _compat_in_environ():
        from .compat import install

        install()


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # The earliest hook an installed plugin gets: the suite's conftest.py
    # (which typically imports flask) has not been imported yet.
    wanted = (
        early_config.known_args_namespace.erlen_compat
        or early_config.getini("erlen_compat")
        or _compat_in_environ()
    )
    if wanted:
        from .compat import install

        install()


@pytest.fixture
def client(request: pytest.FixtureRequest) -> ErlenClient:
    """A test client for the ``app`` fixture's app (``app.test_client()``)."""
    return _get_app(request).test_client()


@pytest.fixture
def runner(request: pytest.FixtureRequest) -> ErlenCliRunner:
    """A CLI runner for the ``app`` fixture's commands (``app.test_cli_runner()``)."""
    return t.cast("ErlenCliRunner", _get_app(request).test_cli_runner())


@pytest.fixture
def live_server(request: pytest.FixtureRequest) -> t.Iterator[LiveServer]:
    """The ``app`` fixture's app served on ``127.0.0.1`` and a free port.

    The server runs in a daemon thread for the duration of the test and is
    shut down and closed at teardown.
    """
    with LiveServer(_get_app(request)) as server:
        yield server


_install_when_loaded(sys.argv)
