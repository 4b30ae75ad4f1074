"""The chat example in Chromium: two pages in one room exchange messages over WebSockets.

The app is served by uvicorn (its ASGI side) on 127.0.0.1 and a free port,
in a thread stopped by the test.
"""

from __future__ import annotations

import sys
import typing as t
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from browser_support import screenshot
from live_servers import UvicornLiveServer

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

_CHAT = str(Path(__file__).resolve().parents[2] / "examples" / "chat")
if _CHAT not in sys.path:
    sys.path.insert(0, _CHAT)

chat = pytest.importorskip("chat", reason="the chat example (examples/chat) is not there")
pytest.importorskip("uvicorn", reason="uvicorn (a dev dependency) serves the chat's WebSockets")


@pytest.fixture
def chat_url() -> t.Iterator[str]:
    app = chat.create_app({"SECRET_KEY": "browser test"})
    # At most a minute of serving, whatever happens to the test.
    server = UvicornLiveServer(app, lifetime=60, lifespan="off")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def join(page: Page, url: str, name: str, room: str) -> None:
    from playwright.sync_api import expect

    page.goto(url + "/")
    page.locator("#name").fill(name)
    page.locator("#room").fill(room)
    page.locator("form.card button[type=submit]").click()
    expect(page.locator("#status")).to_have_text("connected")


def say(page: Page, text: str) -> None:
    page.locator("#text").fill(text)
    page.locator("#say button[type=submit]").click()


def test_two_pages_talk_in_a_room(
    browser: Browser, page: Page, chat_url: str, dialogs: list[str]
) -> None:
    from playwright.sync_api import expect

    # Bob reads in India (UTC+05:30 all year), Ada in UTC: each sees their own time.
    other = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="en-US", timezone_id="Asia/Kolkata"
    )
    other.set_default_timeout(15_000)
    try:
        bob = other.new_page()
        join(page, chat_url, "ada", "lobby")
        join(bob, chat_url, "bob", "lobby")
        expect(page.locator("#people")).to_have_text("ada, bob")
        expect(page.locator(".notice").last).to_have_text("bob joined the room")

        say(page, "Hello, Bob! <b>not bold</b>")
        for p in (page, bob):
            expect(p.locator(".message").last).to_contain_text("Hello, Bob! <b>not bold</b>")
        assert bob.locator(".message b").last.inner_text() == "ada"
        expect(page.locator(".message.mine")).to_have_count(1)

        say(bob, "Hi Ada, I see you.")
        expect(page.locator(".message").last).to_contain_text("Hi Ada, I see you.")
        say(page, "Shall we ship it?")
        expect(bob.locator(".message").last).to_contain_text("Shall we ship it?")
        screenshot(page, "chat")

        # Each page shows the message's time in its reader's zone, the UTC instant in datetime.
        for p, offset in ((page, timedelta(0)), (bob, timedelta(hours=5, minutes=30))):
            shown = p.locator(".message time").last
            at = datetime.fromisoformat(t.cast(str, shown.get_attribute("datetime")))
            assert at.utcoffset() == timedelta(0)
            local = at.astimezone(timezone(offset))
            assert shown.inner_text() == local.strftime("%I:%M %p")

        bob.close()
        expect(page.locator(".notice").last).to_have_text("bob left the room")
        expect(page.locator("#people")).to_have_text("ada")
        assert dialogs == []
    finally:
        other.close()


def test_a_name_in_the_room_is_refused(browser: Browser, page: Page, chat_url: str) -> None:
    from playwright.sync_api import expect

    join(page, chat_url, "Alice", "lobby")
    other = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    other.set_default_timeout(15_000)
    try:
        impostor = other.new_page()
        # The front page's form says so, whatever the case of the name...
        impostor.goto(chat_url + "/")
        impostor.locator("#name").fill("alice")
        impostor.locator("#room").fill("lobby")
        impostor.locator("form.card button[type=submit]").click()
        expect(impostor.locator(".error")).to_have_text(
            "Someone called alice is already in lobby: pick another name."
        )
        # ...and the room's socket refuses it when the form is skipped.
        impostor.goto(chat_url + "/room/lobby?name=ALICE")
        expect(impostor.locator("#status")).to_have_text("name taken")
        expect(impostor.locator(".notice.error")).to_contain_text(
            "Someone called ALICE is already in lobby: pick another name."
        )
        expect(impostor.locator("#text")).to_be_disabled()
        impostor.locator(".notice.error a").click()
        expect(impostor.locator("h1")).to_have_text("Join a room")
        # Alice saw nobody come or go.
        expect(page.locator("#people")).to_have_text("Alice")
        expect(page.locator(".notice")).to_have_count(1)  # her own "joined"
    finally:
        other.close()


@pytest.fixture
def two_chat_urls(redis_url: str, tmp_path: Path) -> t.Iterator[tuple[str, str]]:
    """Two uvicorn processes serving the chat, sharing its rooms through one Redis."""
    from live_servers import ServerProcess, clean_env

    command = [
        sys.executable, "-m", "uvicorn", "--factory", "chat:create_app", "--app-dir", _CHAT,
        "--host", "127.0.0.1", "--port", "{port}", "--log-level", "warning",
        "--timeout-graceful-shutdown", "2",
    ]  # fmt: skip
    env = clean_env(ERLEN_BROADCAST_URL=redis_url)
    with (
        ServerProcess(command, tmp_path, env=env, lifetime=60) as one,
        ServerProcess(command, tmp_path, env=env, lifetime=60) as other,
    ):
        yield one.url, other.url


def test_two_processes_share_a_room(
    browser: Browser, page: Page, two_chat_urls: tuple[str, str], dialogs: list[str]
) -> None:
    from playwright.sync_api import expect

    one, other = two_chat_urls
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    context.set_default_timeout(15_000)
    try:
        bob = context.new_page()
        join(page, one, "ada", "lobby")
        join(bob, other, "bob", "lobby")  # another process
        for p in (page, bob):
            expect(p.locator("#people")).to_have_text("ada, bob")
        say(page, "Sent to process one")
        expect(bob.locator(".message").last).to_contain_text("Sent to process one")
        say(bob, "Answered on process two")
        expect(page.locator(".message").last).to_contain_text("Answered on process two")
        bob.close()
        expect(page.locator(".notice").last).to_have_text("bob left the room")
        expect(page.locator("#people")).to_have_text("ada")
        assert dialogs == []
    finally:
        context.close()
