"""The website example in Chromium: browse to a thread, read a message, search."""

from __future__ import annotations

import typing as t

import pytest
from browser_support import screenshot
from website import create_app

if t.TYPE_CHECKING:
    from playwright.sync_api import Page

    from erlen import Erlen
    from erlen.pytest_plugin import LiveServer


@pytest.fixture
def site(serve_app: t.Callable[[Erlen], LiveServer]) -> LiveServer:
    """The website, under each server (see ``serve_app``)."""
    return serve_app(create_app({"TESTING": True}))


def gap(page: Page, upper: str, lower: str) -> float:
    """Pixels between the bottom of ``upper`` and the top of ``lower`` (first matches)."""
    top = page.locator(upper).first.bounding_box()
    bottom = page.locator(lower).first.bounding_box()
    assert top is not None and bottom is not None
    return bottom["y"] - (top["y"] + top["height"])


def test_headings_and_footer_have_room(page: Page, site: LiveServer) -> None:
    # The page's padding was lost to .wrap's (a class beats an element
    # selector): the heading sat on the header, the footer on the cards.
    page.goto(site.url + "/")
    assert gap(page, "header.site-header", "main h1") >= 24
    assert gap(page, ".cards", "footer") >= 24
    screenshot(page, "website-home")
    page.goto(site.url + "/about")
    assert gap(page, "header.site-header", "main h1") >= 24
    assert gap(page, "main > *:last-child", "footer") >= 24


def test_browse_a_thread_and_search(page: Page, site: LiveServer, dialogs: list[str]) -> None:
    from playwright.sync_api import expect

    page.goto(site.url + "/")
    expect(page.locator("h1")).to_contain_text("The Flask API you already know")
    page.get_by_role("link", name="Archive", exact=True).click()
    expect(page.locator("h1")).to_have_text("erlen-users archive")
    page.get_by_role("link", name="Erlen 0.1 released").click()

    # The thread: five messages, replies indented under what they answer.
    expect(page.locator("h1")).to_have_text("Erlen 0.1 released")
    posts = page.locator("article.post")
    expect(posts).to_have_count(5)
    depths = [posts.nth(i).get_attribute("data-depth") for i in range(5)]
    assert depths == ["0", "1", "2", "3", "1"]
    lefts = [posts.nth(i).bounding_box()["x"] for i in range(5)]  # type: ignore[index]
    assert lefts[0] < lefts[1] < lefts[2] < lefts[3] and lefts[4] == lefts[1]
    expect(posts.nth(2)).to_contain_text("佐藤 さくら")
    screenshot(page, "website-thread")

    # A message page, then the HTML-only message: shown as text, nothing runs.
    posts.nth(1).get_by_role("link").click()
    expect(page.locator("dl.headers")).to_contain_text("José Müller <jose@example.net>")
    page.get_by_role("link", name="Archive").first.click()
    page.get_by_role("link", name="You have WON a free ticket!!!").click()
    page.locator("article.post .subject").first.click()
    expect(page.locator("p.note")).to_contain_text("sent as HTML only")
    expect(page.locator(".body").first).to_contain_text("Click here to claim.")
    assert page.locator("script, img, a[href^='javascript:']").count() == 0
    page.locator("details summary").click()
    expect(page.locator("details pre")).to_contain_text('<script>alert("pwned")</script>')
    assert page.evaluate("document.scripts.length") == 0

    # Search from the box in the header.
    box = page.get_by_role("searchbox", name="Search the mailing list")
    box.fill("event loop")
    box.press("Enter")
    expect(page.locator("p.meta").first).to_contain_text("4 messages matching “event loop”")
    page.locator(".results a").first.click()
    expect(page.locator("h1")).to_contain_text("Async views and the event loop")
    assert dialogs == []


def test_thread_on_a_phone(phone_page: Page, site: LiveServer) -> None:
    from playwright.sync_api import expect

    phone_page.goto(site.url + "/archive/")
    phone_page.get_by_role("link", name="Erlen 0.1 released").click()
    expect(phone_page.locator("article.post")).to_have_count(5)
    # Nothing is wider than the screen: no sideways scrolling on a phone.
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert gap(phone_page, "header.site-header", "main .crumbs") >= 16
    screenshot(phone_page, "website-thread-phone")
