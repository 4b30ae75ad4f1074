"""The website's static pages, layout and stylesheet."""

from __future__ import annotations

import pytest

from erlen.testing import ErlenClient


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/", "The Flask API you already know"),
        ("/about", "About Erlen"),
        ("/docs", "Getting started"),
    ],
)
def test_page_uses_shared_layout(client: ErlenClient, path: str, heading: str) -> None:
    rv = client.get(path)
    assert rv.status_code == 200
    assert rv.mimetype == "text/html"
    html = rv.get_data(as_text=True)
    assert heading in html
    # The layout: stylesheet, navigation and the search box are on every page.
    assert 'href="/static/style.css"' in html
    assert '<a href="/archive/"' in html
    assert 'action="/archive/search"' in html


def test_current_page_is_marked_in_navigation(client: ErlenClient) -> None:
    html = client.get("/docs").get_data(as_text=True)
    assert '<a href="/docs" aria-current="page">Docs</a>' in html
    assert '<a href="/about">About</a>' in html


def test_stylesheet_is_served(client: ErlenClient) -> None:
    rv = client.get("/static/style.css")
    assert rv.status_code == 200
    assert rv.mimetype == "text/css"
    assert b"@media" in rv.data  # the phone-width rules exist
    rv.close()


def test_unknown_page_is_a_friendly_404(client: ErlenClient) -> None:
    rv = client.get("/no-such-page")
    assert rv.status_code == 404
    assert "There is nothing at this address" in rv.get_data(as_text=True)


def test_factory_defaults_to_the_sample_archive() -> None:
    from website import DEFAULT_MBOX, create_app

    app = create_app()
    assert app.config["ARCHIVE_MBOX"] == DEFAULT_MBOX
    assert len(app.extensions["archive"].get().messages) == 16
