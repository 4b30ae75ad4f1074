"""Shared fixtures: an app, its test client, and a WSGI-validating client by default."""

from __future__ import annotations

import pytest

from erlen import Erlen
from erlen.testing import ErlenClient


@pytest.fixture(autouse=True)
def _validate_wsgi(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every exchange of every test client goes through wsgiref.validate, so a
    # PEP 3333 slip fails whichever test triggers it.
    monkeypatch.setattr(ErlenClient, "validate", True)


@pytest.fixture
def app() -> Erlen:
    app = Erlen("erlen_test_app", root_path="/nonexistent-erlen-root")
    app.config.update(TESTING=True, SECRET_KEY="test key")
    return app


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
