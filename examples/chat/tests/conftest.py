"""Fixtures for the chat example: a fresh app (and its own rooms) per test.

Every test runs with the rooms in memory (``[memory]``) and in a real
Redis (``[redis]``, the ``redis_url`` fixture of ``examples/conftest.py``):
one process must behave the same with either.
"""

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


@pytest.fixture(params=["memory", "redis"])
def app(request: pytest.FixtureRequest) -> Erlen:
    url = "memory://" if request.param == "memory" else request.getfixturevalue("redis_url")
    return create_app(
        {"TESTING": True, "BROADCAST_URL": url, "CHAT_HISTORY": 3, "CHAT_MAX_TEXT": 20}
    )


@pytest.fixture
def client(app: Erlen) -> ErlenClient:
    return app.test_client()
