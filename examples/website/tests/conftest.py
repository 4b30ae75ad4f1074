"""Fixtures for the website example: the app on the sample archive, and a client."""

from __future__ import annotations

import pytest
from website import create_app

from erlen import Erlen
from erlen.testing import ErlenClient


@pytest.fixture
def app() -> Erlen:
    return create_app({"TESTING": True})


@pytest.fixture
def client(app: Erlen, monkeypatch: pytest.MonkeyPatch) -> ErlenClient:
    # Every exchange goes through wsgiref.validate, as in Erlen's own tests.
    monkeypatch.setattr(ErlenClient, "validate", True)
    return app.test_client()
