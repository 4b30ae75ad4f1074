"""Helpers shared by the browser tests (a module of its own so tests can import it by name)."""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

from erlen import Erlen
from erlen.pytest_plugin import LiveServer

if t.TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("ERLEN_SCREENSHOTS", ROOT / "docs" / "screenshots"))


def serve(app: Erlen) -> LiveServer:
    """Start ``app`` on 127.0.0.1 and a free port (stop it when done)."""
    server = LiveServer(app)
    server.start()
    return server


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot of the viewport as ``<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    return path
