"""The examples' tests run over both server interfaces, as the framework's own do.

Each test runs twice, its test clients going through the app's WSGI callable
(``[wsgi]``) and through its ASGI callable (``[asgi]``). An example copied
out of this repository runs its tests over WSGI only, the client's default;
``pytest --erlen-interface=asgi`` runs them over ASGI.
"""

from __future__ import annotations

import os
import sys
import typing as t
from pathlib import Path

import pytest

from erlen.testing import INTERFACES, ErlenClient


@pytest.fixture(autouse=True, params=INTERFACES)
def client_interface(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The interface every test client of the test uses."""
    interface: str = request.param
    monkeypatch.setattr(ErlenClient, "interface", interface)
    return interface


# -- a real Redis, for the examples that can use one (chat, flaskr) -------------------
#
# The server is tests/redis_support.RedisServer, the one the framework's tests
# use (Debian's redis-server on 127.0.0.1 and a free port); only these two
# fixtures are repeated here, since tests/conftest.py is not loaded for a run
# of the examples alone.

_TESTS = str(Path(__file__).resolve().parents[1] / "tests")
if _TESTS not in sys.path:
    sys.path.append(_TESTS)

import redis_support  # noqa: E402


@pytest.fixture(scope="session")
def redis_server() -> t.Iterator[redis_support.RedisServer]:
    """One real redis-server for the run; skipped (an error under ``ERLEN_REDIS_TESTS=require``) without one."""
    reason = redis_support.missing()
    if reason is not None:
        message = f"{reason}; to run the Redis tests, {redis_support.HOW_TO_INSTALL}"
        if os.environ.get("ERLEN_REDIS_TESTS") == "require":
            pytest.fail(f"ERLEN_REDIS_TESTS=require, but {message}")
        pytest.skip(message)
    with redis_support.RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: redis_support.RedisServer) -> str:
    """The server's URL, emptied for this test."""
    if not redis_server.ping():
        redis_server.start()
    redis_server.flush()
    return redis_server.url
