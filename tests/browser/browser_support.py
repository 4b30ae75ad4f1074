"""Helpers shared by the browser tests (a module of its own so tests can import it by name)."""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

from erlen import Erlen
from erlen.pytest_plugin import LiveServer

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

ROOT = Path(__file__).resolve().parents[2]
#: Where screenshots go: ``ERLEN_SCREENSHOTS`` if set; with
#: ``ERLEN_UPDATE_SCREENSHOTS=1`` the committed ones in ``docs/screenshots/``;
#: else ``build/screenshots/`` (ignored by git), so that a test run never
#: leaves the committed images modified (the pages show the time).
SCREENSHOTS = Path(
    os.environ.get("ERLEN_SCREENSHOTS")
    or (
        ROOT / "docs" / "screenshots"
        if os.environ.get("ERLEN_UPDATE_SCREENSHOTS") == "1"
        else ROOT / "build" / "screenshots"
    )
)
#: Milliseconds any one browser action or wait may take before the test fails.
TIMEOUT_MS = 15_000
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


class Dialogs(list[str]):
    """The messages of every alert/confirm/prompt a page opened, in order.

    Each is dismissed (a confirm() answers no) unless a test sets ``accept``.
    """

    accept = False


def new_phone_context(browser: Browser) -> BrowserContext:
    """A phone-sized browser context (touch, mobile viewport); close it when done."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True, locale="en-US"
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


#: The servers each example is driven under: Erlen's WSGI live server, and
#: uvicorn on the app's ASGI side (where plain ``def`` views run in a thread pool).
SERVERS = ("wsgi", "uvicorn")


def serve(app: Erlen, server: str = "wsgi") -> LiveServer:
    """Start ``app`` on 127.0.0.1 and a free port (stop it when done).

    :param server: ``"wsgi"`` for :class:`~erlen.pytest_plugin.LiveServer`,
        ``"uvicorn"`` for uvicorn in a thread (same interface, at most two
        minutes of serving).
    """
    if server == "uvicorn":
        from live_servers import UvicornLiveServer

        live: LiveServer = UvicornLiveServer(app, lifetime=120)
    elif server == "wsgi":
        live = LiveServer(app)
    else:
        raise ValueError(f"unknown server {server!r}")
    live.start()
    return live


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot of the viewport as ``<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    return path
