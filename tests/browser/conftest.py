"""Browser tests: the examples served on 127.0.0.1 and driven in headless Chromium.

They use Debian's Chromium (``/usr/bin/chromium``, or the path in
``ERLEN_CHROMIUM``) through Playwright for Python. Playwright never downloads
a browser here: it is only ever given that executable. Without Chromium or
Playwright every test in this folder is skipped with a message saying how to
enable it; ``.ci/run`` installs both and sets ``ERLEN_BROWSER_TESTS=require``,
which turns that skip into an error.

Every example is served twice, through the ``serve_app`` fixture: by
Erlen's WSGI live server and by uvicorn on the app's ASGI side (where plain
``def`` views run in a thread pool), so each test runs once per server
(``[wsgi]``, ``[uvicorn]``); an error the app logs meanwhile fails the test.
The chat example is ASGI only (WebSockets) and has its own uvicorn fixture.

Each test saves screenshots of the pages it visits to ``build/screenshots/``.
``ERLEN_UPDATE_SCREENSHOTS=1 python3 dev.py test`` writes them to
``docs/screenshots/`` instead, the committed images that show the look of the
examples without running them (``ERLEN_SCREENSHOTS`` names any other folder).
"""

from __future__ import annotations

import logging
import os
import typing as t
from pathlib import Path

import pytest
from browser_support import LAPTOP, SERVERS, TIMEOUT_MS, Dialogs, new_phone_context, serve

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from erlen import Erlen
    from erlen.pytest_plugin import LiveServer

CHROMIUM = os.environ.get("ERLEN_CHROMIUM", "/usr/bin/chromium")

# Switches that keep a headless Chromium quiet and self-contained: no
# sandbox (containers run as root), no GPU, and no background traffic
# (updates, sync, QUIC probes) to anywhere but the app under test.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

_HOW_TO_ENABLE = (
    "run .ci/run (it installs them), or: apt-get install -y chromium &&"
    " .venv/bin/pip install playwright (never 'playwright install')"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    browser_items = [item for item in items if here in Path(str(item.path)).parents]
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("ERLEN_BROWSER_TESTS") == "require" and browser_items:
        # .ci/run sets this: there, a missing browser is a broken setup, not a skip.
        raise pytest.UsageError(f"ERLEN_BROWSER_TESTS=require, but {reason}; {_HOW_TO_ENABLE}")
    skip = pytest.mark.skip(reason=f"{reason}; to run the browser tests, {_HOW_TO_ENABLE}")
    for item in browser_items:
        item.add_marker(skip)


def _missing() -> str | None:
    """Why the browser tests can't run here, or ``None`` if they can."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


@pytest.fixture(scope="module")
def browser() -> t.Iterator[Browser]:
    """One Chromium per test module.

    NOTE: not per session. Playwright's sync API keeps an asyncio loop
    running in this thread while it is open, so ``asyncio.run`` (the ASGI
    tests, async views) would fail in every test that ran after it.

    Playwright starts it with a new, empty profile in a temporary folder
    (its own ``--user-data-dir``) and deletes that folder on close.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield browser
        finally:
            browser.close()


class _ErrorRecords(logging.Handler):
    """Keeps every record of level ERROR or above that reaches it."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(params=SERVERS)
def serve_app(request: pytest.FixtureRequest) -> t.Iterator[t.Callable[[Erlen], LiveServer]]:
    """Serve an app on 127.0.0.1 for this test, once per server in ``SERVERS``.

    ``serve_app(app)`` starts it and returns the live server (``url``,
    ``url_for``); it is stopped when the test ends. So every test that uses
    this fixture runs under the WSGI live server and under uvicorn. An error
    the app or uvicorn logged meanwhile (an exception in a view, a hook or a
    teardown function) fails the test, even if the pages looked right.
    """
    servers: list[LiveServer] = []
    errors = _ErrorRecords()
    # Root: the app's logger propagates there. "uvicorn": its loggers don't.
    # Added after each start, as uvicorn's logging setup replaces its loggers' handlers.
    loggers = [logging.getLogger(), logging.getLogger("uvicorn")]

    def start(app: Erlen) -> LiveServer:
        server = serve(app, request.param)
        servers.append(server)
        for logger in loggers:
            logger.addHandler(errors)
        return server

    try:
        yield start
    finally:
        try:
            for server in servers:
                server.stop()
        finally:
            for logger in loggers:
                logger.removeHandler(errors)
    if errors.records:
        # The first few in full (with their tracebacks): one request's error is usually every request's.
        formatter = logging.Formatter("%(name)s %(levelname)s: %(message)s")
        shown = "\n".join(formatter.format(record) for record in errors.records[:3])
        more = len(errors.records) - 3
        pytest.fail(
            f"the app logged {len(errors.records)} errors under {request.param}:\n{shown}"
            + (f"\n... and {more} more" if more > 0 else ""),
            pytrace=False,
        )


@pytest.fixture
def dialogs() -> Dialogs:
    """The dialogs the ``page`` fixture's page opened (see :class:`Dialogs`)."""
    return Dialogs()


@pytest.fixture
def page(browser: Browser, dialogs: Dialogs) -> t.Iterator[Page]:
    """A laptop-sized page in a fresh browser context (own cookies)."""
    context = browser.new_context(viewport=LAPTOP, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()

    # A dialog can only come from a script on the page: record it for the test to check.
    def on_dialog(dialog: t.Any) -> None:
        dialogs.append(dialog.message)
        if dialogs.accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def phone_page(browser: Browser) -> t.Iterator[Page]:
    """A phone-sized page (touch, high density) in a fresh browser context."""
    context = new_phone_context(browser)
    try:
        yield context.new_page()
    finally:
        context.close()
