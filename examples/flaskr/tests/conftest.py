"""Fixtures for flaskr: an app on a fresh database in a temporary instance folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from flaskr_helpers import AuthActions, make_app

from erlen import Erlen
from erlen.testing import ErlenClient


@pytest.fixture
def app(tmp_path: Path) -> Erlen:
    return make_app(tmp_path)


@pytest.fixture
def client(app: Erlen, monkeypatch: pytest.MonkeyPatch) -> ErlenClient:
    # Every exchange goes through wsgiref.validate, as in Erlen's own tests.
    monkeypatch.setattr(ErlenClient, "validate", True)
    return app.test_client()


@pytest.fixture
def auth(client: ErlenClient) -> AuthActions:
    return AuthActions(client)
