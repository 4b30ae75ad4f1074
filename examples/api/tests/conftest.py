"""Fixtures for the bookmarks API: a fresh app per test, and a logged-in user."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("pydantic")

# The example is not installed: make `import bookmarks` work from wherever pytest starts.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from bookmarks import create_app  # noqa: E402
from bookmarks_helpers import log_in  # noqa: E402

from erlen import Erlen  # noqa: E402
from erlen.testing import ErlenClient  # noqa: E402

# scrypt is the point in production, and slow on purpose: the tests hash
# many passwords, so they use a cheap method.
FAST_HASH = "pbkdf2:sha256:1000"


@pytest.fixture
def app() -> Erlen:
    return create_app({"TESTING": True, "PASSWORD_HASH_METHOD": FAST_HASH})


@pytest.fixture
def client(app: Erlen) -> ErlenClient:
    return app.test_client()


@pytest.fixture
def auth(client: ErlenClient) -> dict:
    """The headers of a logged-in user, ``ada``."""
    return log_in(client)
