"""The API example's reference page in Chromium: it loads offline and tries a request."""

from __future__ import annotations

import json
import sys
import typing as t
from pathlib import Path

import pytest
from browser_support import screenshot

pytest.importorskip("pydantic")

# examples/api is not on the import path of the whole suite: its tests add it.
_EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "api")
if _EXAMPLE not in sys.path:
    sys.path.insert(0, _EXAMPLE)

from bookmarks import create_app  # noqa: E402

if t.TYPE_CHECKING:
    from playwright.sync_api import Page

    from erlen import Erlen
    from erlen.pytest_plugin import LiveServer


@pytest.fixture
def api(serve_app: t.Callable[[Erlen], LiveServer]) -> LiveServer:
    """The bookmarks API, under each server (see ``serve_app``)."""
    return serve_app(create_app({"TESTING": True, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}))


def test_reference_page_tries_a_request(page: Page, api: LiveServer) -> None:
    from playwright.sync_api import expect

    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(api.url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Bookmarks")
    expect(page.locator(".opblock")).to_have_count(9)

    # Register through the page: expand the operation, try it out, execute.
    operation = page.locator(".opblock.opblock-post", has_text="/auth/users")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator("textarea.body-param__text").fill(
        json.dumps({"username": "ada", "password": "correct horse"})
    )
    operation.get_by_role("button", name="Execute").click()
    response = operation.locator(".live-responses-table .response")
    expect(response.locator(".response-col_status")).to_contain_text("201")
    expect(response.locator(".response-col_description")).to_contain_text('"username": "ada"')
    # The request sent and the answer, in the picture.
    response.evaluate("node => node.scrollIntoView({block: 'center'})")
    screenshot(page, "api-reference")

    # The page and everything it loaded came from the app: nothing from another host.
    assert requested
    assert [url for url in requested if not url.startswith(api.url)] == []
    assert f"{api.url}/auth/users" in requested
