"""Shared fixtures: an app, its test client, both server interfaces, validated exchanges.

Every test in the app-level modules (:data:`BOTH_INTERFACES`) runs twice,
once with the test client going through the app's WSGI callable and once
through its ASGI callable (ids end in ``[wsgi]`` and ``[asgi]``). A test
that inspects something only WSGI has (``wsgi.errors``, environ keys an
ASGI scope has no counterpart for) is marked
``@pytest.mark.wsgi_only(reason="...")``: its ASGI run is skipped with that
reason. The marker is not for hiding a difference in how the app behaves.
"""

from __future__ import annotations

import os
import typing as t

import pytest
import redis_support

from erlen import Erlen
from erlen.testing import ErlenClient

#: Modules whose tests talk to an app through the test client: each of
#: their tests runs over WSGI and over ASGI. The others test one interface
#: (test_wsgi, test_asgi, test_websocket, test_debug's WSGI middleware, the
#: real servers), pure units, or the tooling.
BOTH_INTERFACES = frozenset(
    {
        "test_app",
        "test_auth",
        "test_background",
        "test_blueprints",
        "test_celery",
        "test_compat",
        "test_core_edges",
        "test_csrf",
        "test_ctx",
        "test_formparser",
        "test_helpers",
        "test_interface_parity",
        "test_json",
        "test_openapi",
        "test_overrides",
        "test_session_stores",
        "test_sessions",
        "test_sse",
        "test_templating",
        "test_testing",
        "test_typed_models",
        "test_typed_views",
        "test_views",
        "test_vulns",
        "test_wsgi_middleware",
        "test_wrappers",
    }
)

INTERFACES = ("wsgi", "asgi")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "wsgi_only(reason): the test inspects something only WSGI has; its [asgi] run is skipped with the reason",
    )


@pytest.hookimpl(trylast=True)  # after @parametrize, so the interface ends the id
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.module.__name__.rpartition(".")[2] in BOTH_INTERFACES:
        metafunc.parametrize("client_interface", INTERFACES, indirect=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    _skip_or_require_redis(items)
    for item in items:
        marker = item.get_closest_marker("wsgi_only")
        if marker is None:
            continue
        reason = marker.kwargs.get("reason", marker.args[0] if marker.args else None)
        if not isinstance(reason, str) or not reason.strip():
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.wsgi_only needs a reason")
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("client_interface") == "asgi":
            item.add_marker(pytest.mark.skip(reason=f"WSGI only: {reason}"))


@pytest.fixture(autouse=True)
def client_interface(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The interface the test's clients use (``ErlenClient.interface``); ``"wsgi"`` outside :data:`BOTH_INTERFACES`."""
    interface: str = getattr(request, "param", "wsgi")
    monkeypatch.setattr(ErlenClient, "interface", interface)
    return interface


@pytest.fixture(autouse=True)
def _validate_exchanges(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every exchange of every test client is checked: by wsgiref.validate over
    # WSGI, by the ASGI message rules over ASGI. A protocol slip fails
    # whichever test triggers it.
    monkeypatch.setattr(ErlenClient, "validate", True)


@pytest.fixture
def app() -> t.Iterator[Erlen]:
    app = Erlen("erlen_test_app", root_path="/nonexistent-erlen-root")
    app.config.update(TESTING=True, SECRET_KEY="test key")
    yield app
    # Every test's app shares the one logger of that name: a test that
    # silences it (logger.disabled) must not silence the next ones' caplog.
    app.logger.disabled = False


@pytest.fixture
def client(app: Erlen) -> ErlenClient:
    return app.test_client()


@pytest.fixture(autouse=True)
def _no_leaked_context():
    # A test that leaves a context pushed would leak into the next one.
    from erlen.globals import _cv

    yield
    leaked = _cv.get(None)
    if leaked is not None:
        _cv.set(None)  # type: ignore[arg-type]  # keep the leak from failing later tests
        pytest.fail(f"the test left {leaked!r} pushed")


def _skip_or_require_redis(items: list[pytest.Item]) -> None:
    # Tests that use the ``redis_server`` fixture (directly or through another
    # fixture) need Debian's redis-server: locally they skip with how to get
    # it; .ci/run sets ERLEN_REDIS_TESTS=require, and there it is an error.
    needing = [item for item in items if "redis_server" in getattr(item, "fixturenames", ())]
    reason = redis_support.missing() if needing else None
    if reason is None:
        return
    if os.environ.get("ERLEN_REDIS_TESTS") == "require":
        raise pytest.UsageError(
            f"ERLEN_REDIS_TESTS=require, but {reason}; {redis_support.HOW_TO_INSTALL}"
        )
    skip = pytest.mark.skip(
        reason=f"{reason}; to run the Redis tests, {redis_support.HOW_TO_INSTALL}"
    )
    for item in needing:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def redis_server() -> t.Iterator[redis_support.RedisServer]:
    """One real redis-server for the session (127.0.0.1, free port, no persistence).

    A test that stops or kills it must start it again before it ends (the
    fault tests use a server of their own instead: ``redis_support.RedisServer``).
    """
    with redis_support.RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: redis_support.RedisServer) -> str:
    """The shared server's URL, emptied for this test."""
    if not redis_server.ping():  # a test before this one left it stopped
        redis_server.start()
    redis_server.flush()
    return redis_server.url
