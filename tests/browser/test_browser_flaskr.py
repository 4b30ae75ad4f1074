"""flaskr in Chromium: register, log in, write, edit and delete posts."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from browser_support import LAPTOP, TIMEOUT_MS, Dialogs, screenshot
from flaskr import create_app
from flaskr.db import init_db

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from erlen import Erlen
    from erlen.pytest_plugin import LiveServer


CONFIRM = "Delete this post? This cannot be undone."


@pytest.fixture
def blog(tmp_path: Path, serve_app: t.Callable[[Erlen], LiveServer]) -> LiveServer:
    """flaskr on a fresh database, under each server (see ``serve_app``)."""
    app = create_app(
        {"SECRET_KEY": "browser test", "DATABASE": str(tmp_path / "flaskr.sqlite")},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        init_db()
    return serve_app(app)


def register_and_log_in(page: Page, url: str, username: str, password: str) -> None:
    from playwright.sync_api import expect

    page.goto(url + "/")
    page.locator("nav").get_by_role("link", name="Register").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Register").click()
    expect(page.locator(".flash.success")).to_contain_text(f"Welcome, {username}!")
    expect(page.locator("h1")).to_have_text("Log in")
    # The form has the name just registered, and the cursor waits in the password field.
    expect(page.get_by_label("Username")).to_have_value(username)
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".flash.success")).to_have_text(f"Logged in as {username}.")


def write_post(page: Page, title: str, body: str) -> None:
    from playwright.sync_api import expect

    page.locator("nav").get_by_role("link", name="New post").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Body").fill(body)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash.success")).to_have_text("Your post is published.")


def test_register_login_create_edit_delete(page: Page, blog: LiveServer, dialogs: Dialogs) -> None:
    from playwright.sync_api import expect

    register_and_log_in(page, blog.url, "ada", "analytical engine")

    # A wrong form first: the message shows and the typed text stays.
    page.locator("nav").get_by_role("link", name="New post").click()
    page.get_by_label("Body").fill("No title yet")
    page.get_by_label("Title").fill("   ")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash.error")).to_have_text("Title is required.")
    expect(page.get_by_label("Body")).to_have_value("No title yet")

    page.get_by_label("Title").fill("Notes on the Analytical Engine")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash.success")).to_have_text("Your post is published.")
    write_post(page, "A second thought <script>alert(1)</script>", "Short and <b>not bold</b>.")

    # Markup in a post is shown as text.
    articles = page.locator("article.post")
    expect(articles).to_have_count(2)
    expect(articles.first.locator("h2")).to_have_text("A second thought <script>alert(1)</script>")
    expect(articles.first.locator(".body")).to_have_text("Short and <b>not bold</b>.")

    # Edit the first post: its new text shows on the index.
    articles.nth(1).get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Title")).to_have_value("Notes on the Analytical Engine")
    expect(page.get_by_label("Body")).to_have_value("No title yet")
    page.get_by_label("Title").fill("Notes on the Analytical Engine, revised")
    page.get_by_label("Body").fill(
        "The engine weaves algebraic patterns just as the Jacquard loom weaves flowers and leaves.\n\n"
        "It might act upon other things besides number, were objects found whose mutual"
        " relations could be expressed by those of the abstract science of operations."
    )
    screenshot(page, "flaskr-editor")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash.success")).to_have_text("Your changes are saved.")
    expect(articles.nth(1).locator("h2")).to_have_text("Notes on the Analytical Engine, revised")

    # Delete the second post: the browser asks first; "no" keeps it.
    articles.first.get_by_role("link", name="Edit").click()
    page.get_by_role("button", name="Delete this post").click()
    assert dialogs == [CONFIRM]
    expect(page.locator("h1")).to_have_text("Edit “A second thought <script>alert(1)</script>”")
    page.locator("nav").get_by_role("link", name="Flaskr").click()
    expect(articles).to_have_count(2)
    dialogs.accept = True
    articles.first.get_by_role("link", name="Edit").click()
    page.get_by_role("button", name="Delete this post").click()
    expect(page.locator(".flash.success")).to_have_text("The post is deleted.")
    expect(articles).to_have_count(1)
    assert dialogs == [CONFIRM, CONFIRM]

    write_post(page, "Note G", "A table of the computation of the Bernoulli numbers, step by step.")
    expect(articles).to_have_count(2)
    screenshot(page, "flaskr-index")

    for _ in range(2):
        articles.first.get_by_role("link", name="Edit").click()
        page.get_by_role("button", name="Delete this post").click()
        expect(page.locator(".flash.success")).to_have_text("The post is deleted.")
    expect(articles).to_have_count(0)
    expect(page.locator("p.empty")).to_contain_text("No posts yet.")

    page.get_by_role("button", name="Log out").click()
    expect(page.locator(".flash.success")).to_have_text("You are logged out.")
    expect(page.locator("nav").get_by_role("link", name="Log in")).to_be_visible()
    assert set(dialogs) == {CONFIRM}  # the <script> in a title never ran


def test_another_user_cannot_edit(page: Page, blog: LiveServer) -> None:
    from playwright.sync_api import expect

    register_and_log_in(page, blog.url, "ada", "analytical engine")
    write_post(page, "Mine", "Only I may change this.")
    edit_url = page.get_by_role("link", name="Edit").get_attribute("href")
    page.get_by_role("button", name="Log out").click()
    register_and_log_in(page, blog.url, "charles", "difference engine")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    response = page.goto(blog.url + str(edit_url))
    assert response is not None and response.status == 403
    expect(page.locator(".message")).to_have_text("Only its author may change a post.")


def test_index_on_a_phone(phone_page: Page, blog: LiveServer) -> None:
    from playwright.sync_api import expect

    register_and_log_in(phone_page, blog.url, "ada", "analytical engine")
    write_post(
        phone_page, "Writing from a phone", "The layout is one column; buttons span the width."
    )
    write_post(
        phone_page,
        "A very long title that has to wrap onto a second line on a narrow screen",
        "Body.",
    )
    expect(phone_page.locator("article.post")).to_have_count(2)
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone_page, "flaskr-index-phone")


def test_delete_without_javascript_asks_on_a_page(browser: Browser, blog: LiveServer) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=LAPTOP, locale="en-US", java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        register_and_log_in(page, blog.url, "ada", "analytical engine")
        write_post(page, "Keep me", "Cancel leaves me here.")
        articles = page.locator("article.post")

        page.get_by_role("link", name="Edit").click()
        page.get_by_role("button", name="Delete this post").click()
        expect(page.locator("h1")).to_have_text("Delete “Keep me”?")
        expect(page.locator("form.confirm p")).to_contain_text("This cannot be undone.")
        screenshot(page, "flaskr-delete")
        page.get_by_role("link", name="Cancel").click()
        expect(page.get_by_label("Title")).to_have_value("Keep me")
        page.locator("nav").get_by_role("link", name="Flaskr").click()
        expect(articles).to_have_count(1)

        page.get_by_role("link", name="Edit").click()
        page.get_by_role("button", name="Delete this post").click()
        page.get_by_role("button", name="Delete the post").click()
        expect(page.locator(".flash.success")).to_have_text("The post is deleted.")
        expect(articles).to_have_count(0)
    finally:
        context.close()
