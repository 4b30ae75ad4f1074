"""The examples' tests run over both server interfaces, as the framework's own do.

Each test runs twice, its test clients going through the app's WSGI callable
(``[wsgi]``) and through its ASGI callable (``[asgi]``). An example copied
out of this repository runs its tests over WSGI only, the client's default;
``pytest --erlen-interface=asgi`` runs them over ASGI.
"""

from __future__ import annotations

import pytest

from erlen.testing import INTERFACES, ErlenClient


@pytest.fixture(autouse=True, params=INTERFACES)
def client_interface(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The interface every test client of the test uses."""
    interface: str = request.param
    monkeypatch.setattr(ErlenClient, "interface", interface)
    return interface
