"""minitwit in Chromium: two people sign up, follow each other and read each other's messages."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from browser_support import PHONE, new_phone_context, screenshot

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from erlen import Erlen
    from erlen.pytest_plugin import LiveServer

minitwit = pytest.importorskip(
    "minitwit", reason="the minitwit example (examples/minitwit) is not there yet"
)


@pytest.fixture
def twit(tmp_path: Path, serve_app: t.Callable[[Erlen], LiveServer]) -> LiveServer:
    """minitwit on a fresh database, under each server (see ``serve_app``)."""
    from minitwit.db import init_db

    app = minitwit.create_app({"SECRET_KEY": "browser test", "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        init_db()
    return serve_app(app)


def sign_up_and_in(page: Page, live: LiveServer, username: str, password: str) -> None:
    from playwright.sync_api import expect

    page.goto(live.url_for("auth.register"))
    page.locator("#username").fill(username)
    page.locator("#email").fill(f"{username}@example.org")
    page.locator("#password").fill(password)
    page.locator("#password2").fill(password)
    page.locator("form.card button[type=submit]").click()
    expect(page.locator(".flashes")).to_contain_text("registered")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form.card button[type=submit]").click()
    expect(page.locator(".flashes")).to_contain_text("logged in")


def share(page: Page, live: LiveServer, text: str) -> None:
    from playwright.sync_api import expect

    page.goto(live.url_for("timeline.home"))
    page.locator("#text").fill(text)
    page.locator("form.twitbox button[type=submit]").click()
    expect(page.locator(".flashes")).to_contain_text("recorded")


def follow(page: Page, live: LiveServer, username: str) -> None:
    from playwright.sync_api import expect

    page.goto(live.url_for("timeline.user", username=username))
    expect(page.locator("h1")).to_have_text(username)
    page.get_by_role("button", name="Follow", exact=True).click()
    expect(page.locator(".flashes")).to_contain_text(f"You are now following {username}.")
    expect(page.get_by_role("button", name="Unfollow")).to_be_visible()


def test_two_users_follow_each_other(
    browser: Browser, twit: LiveServer, dialogs: list[str], page: Page
) -> None:
    from playwright.sync_api import expect

    alice = page  # a laptop-sized window
    phone = new_phone_context(browser)  # and a phone
    try:
        bob = phone.new_page()

        sign_up_and_in(alice, twit, "alice", "alice's password")
        share(alice, twit, "Hello from Alice! Anyone else trying Erlen?")
        sign_up_and_in(bob, twit, "bob", "bob's password")
        share(bob, twit, "Bob here: <b>markup</b> stays text.")

        # Before following, each home timeline has only its own message.
        expect(alice.locator("li.message")).to_have_count(1)
        expect(bob.locator("li.message")).to_have_count(1)

        follow(alice, twit, "bob")
        follow(bob, twit, "alice")
        share(alice, twit, "Following you back, Bob.")

        for who, page_ in (("alice", alice), ("bob", bob)):
            page_.goto(twit.url_for("timeline.home"))
            messages = page_.locator("li.message")
            expect(messages).to_have_count(3)
            expect(messages.locator(".author")).to_have_text(["alice", "bob", "alice"])
            expect(messages.nth(1).locator(".text")).to_have_text(
                "Bob here: <b>markup</b> stays text."
            )
            assert page_.locator(".text b").count() == 0, who
        screenshot(alice, "minitwit-timeline")
        assert bob.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(bob, "minitwit-timeline-phone")

        # Unfollowing takes the other's messages off the timeline.
        alice.goto(twit.url_for("timeline.user", username="bob"))
        alice.get_by_role("button", name="Unfollow").click()
        alice.goto(twit.url_for("timeline.home"))
        expect(alice.locator("li.message .author")).to_have_text(["alice", "alice"])
        assert dialogs == []
    finally:
        phone.close()
