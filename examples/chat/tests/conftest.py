"""Fixtures for the chat example: a fresh app (and its own rooms) per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The example is not installed: make `import chat` work from wherever pytest starts.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from chat import create_app  # noqa: E402

from erlen import Erlen  # noqa: E402
from erlen.testing import ErlenClient  # noqa: E402


@pytest.fixture
def app() -> Erlen:
    return create_app({"TESTING": True, "CHAT_HISTORY": 3, "CHAT_MAX_TEXT": 20})


@pytest.fixture
def client(app: Erlen) -> ErlenClient:
    return app.test_client()
