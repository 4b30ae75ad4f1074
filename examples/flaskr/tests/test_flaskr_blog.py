"""The blog: reading, writing, editing and deleting posts, with every bad input."""

from __future__ import annotations

import typing as t

import pytest
from flaskr_helpers import AuthActions, csrf_token, query

from erlen import Erlen
from erlen.testing import ErlenClient

ORIGINAL = [(1, "test title", "test\nbody")]


def posts(app: Erlen) -> list[tuple[object, ...]]:
    return query(app, "SELECT id, title, body FROM post ORDER BY id")


def post_form(client: ErlenClient, path: str, **fields: str) -> t.Any:
    return client.post(path, data={"csrf_token": csrf_token(client, "/create"), **fields})


def test_index_anonymous(client: ErlenClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "test title" in html
    assert "by test on 2026-01-01 09:00" in html
    assert 'href="/auth/register"' in html and 'href="/auth/login"' in html
    assert "/1/update" not in html


def test_index_shows_edit_only_to_the_author(client: ErlenClient, auth: AuthActions) -> None:
    auth.login("other")
    assert 'href="/1/update"' not in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login()
    html = client.get("/").get_data(as_text=True)
    assert 'href="/1/update"' in html and 'href="/create"' in html


def test_empty_index(app: Erlen, client: ErlenClient) -> None:
    app.test_cli_runner().invoke(args=["init-db"])
    assert "No posts yet." in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/create"),
        ("POST", "/create"),
        ("GET", "/1/update"),
        ("POST", "/1/update"),
        ("POST", "/1/delete"),
    ],
)
def test_writing_needs_a_login(client: ErlenClient, app: Erlen, method: str, path: str) -> None:
    data = {"csrf_token": csrf_token(client), "title": "x", "body": "y"}
    rv = client.open(path, method=method, data=data if method == "POST" else None)
    assert rv.status_code == 302
    assert rv.headers["Location"].startswith("/auth/login?next=")
    assert posts(app) == ORIGINAL


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/1/update"), ("POST", "/1/update"), ("POST", "/1/delete")]
)
def test_only_the_author_may_change_a_post(
    client: ErlenClient, app: Erlen, auth: AuthActions, method: str, path: str
) -> None:
    auth.login("other")
    data = {"csrf_token": csrf_token(client), "title": "hijacked", "body": ""}
    rv = client.open(path, method=method, data=data if method == "POST" else None)
    assert rv.status_code == 403
    assert "Only its author may change a post." in rv.get_data(as_text=True)
    assert posts(app) == ORIGINAL


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/2/update"), ("POST", "/2/update"), ("POST", "/2/delete")]
)
def test_unknown_post_is_404(
    client: ErlenClient, auth: AuthActions, method: str, path: str
) -> None:
    auth.login()
    data = {"csrf_token": csrf_token(client), "title": "x", "body": "y"}
    rv = client.open(path, method=method, data=data if method == "POST" else None)
    assert rv.status_code == 404


def test_create(client: ErlenClient, app: Erlen, auth: AuthActions) -> None:
    auth.login()
    assert client.get("/create").status_code == 200
    rv = post_form(client, "/create", title="  Second  ", body="Hello <script>alert(1)</script>")
    assert rv.status_code == 302 and rv.headers["Location"] == "/"
    assert posts(app) == ORIGINAL + [(2, "Second", "Hello <script>alert(1)</script>")]
    html = client.get("/").get_data(as_text=True)
    assert "Your post is published." in html
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html


def test_update(client: ErlenClient, app: Erlen, auth: AuthActions) -> None:
    auth.login()
    html = client.get("/1/update").get_data(as_text=True)
    assert 'value="test title"' in html and ">test\nbody</textarea>" in html
    rv = post_form(client, "/1/update", title="updated", body="new body")
    assert rv.status_code == 302
    assert posts(app) == [(1, "updated", "new body")]
    assert "Your changes are saved." in client.get("/").get_data(as_text=True)


def test_delete(client: ErlenClient, app: Erlen, auth: AuthActions) -> None:
    auth.login()
    assert client.get("/1/delete").status_code == 405
    rv = post_form(client, "/1/delete", confirmed="yes")
    assert rv.status_code == 302 and rv.headers["Location"] == "/"
    assert posts(app) == []
    assert "The post is deleted." in client.get("/").get_data(as_text=True)


def test_edit_page_asks_before_deleting(client: ErlenClient, auth: AuthActions) -> None:
    auth.login()
    html = client.get("/1/update").get_data(as_text=True)
    # confirm() sets confirmed=yes; without JavaScript the button sends it empty.
    assert 'name="confirmed" value=""' in html
    assert "return confirm('Delete this post? This cannot be undone.');" in html


@pytest.mark.parametrize("fields", [{}, {"confirmed": ""}, {"confirmed": "no"}])
def test_unconfirmed_delete_asks_on_a_page(
    client: ErlenClient, app: Erlen, auth: AuthActions, fields: dict[str, str]
) -> None:
    # What a browser without JavaScript sends: nothing is deleted, a page asks.
    auth.login()
    rv = post_form(client, "/1/delete", **fields)
    html = rv.get_data(as_text=True)
    assert rv.status_code == 200 and posts(app) == ORIGINAL
    assert "<h1>Delete “test title”?</h1>" in html and "This cannot be undone." in html
    assert '<input type="hidden" name="confirmed" value="yes">' in html
    assert '<form action="/1/delete" method="post"' in html and 'href="/1/update">Cancel' in html
    # Its form deletes the post.
    token = csrf_token(client, "/create")
    rv = client.post("/1/delete", data={"csrf_token": token, "confirmed": "yes"})
    assert rv.status_code == 302 and posts(app) == []


def test_delete_page_escapes_the_title(client: ErlenClient, app: Erlen, auth: AuthActions) -> None:
    auth.login()
    post_form(client, "/1/update", title="<b>bold</b>", body="x")
    html = post_form(client, "/1/delete").get_data(as_text=True)
    assert "“&lt;b&gt;bold&lt;/b&gt;”" in html and "<b>bold</b>" not in html


@pytest.mark.parametrize(
    ("title", "body", "message"),
    [
        ("", "a body", "Title is required."),
        ("   ", "a body", "Title is required."),
        ("t" * 121, "a body", "Titles are limited to 120 characters (this one has 121)."),
        ("ok", "b" * 10_001, "Posts are limited to 10,000 characters (this one has 10,001)."),
    ],
)
@pytest.mark.parametrize("path", ["/create", "/1/update"])
def test_bad_post_is_refused_and_the_form_keeps_the_text(
    client: ErlenClient,
    app: Erlen,
    auth: AuthActions,
    path: str,
    title: str,
    body: str,
    message: str,
) -> None:
    auth.login()
    rv = post_form(client, path, title=title, body=body)
    assert rv.status_code == 400
    html = rv.get_data(as_text=True)
    assert message in html
    assert f">{body}</textarea>" in html  # what was typed comes back
    assert posts(app) == ORIGINAL


def test_limits_are_exact(client: ErlenClient, app: Erlen, auth: AuthActions) -> None:
    auth.login()
    assert post_form(client, "/create", title="t" * 120, body="b" * 10_000).status_code == 302
    assert len(posts(app)) == 2


@pytest.mark.parametrize("token", [None, "", "forged"])
@pytest.mark.parametrize("path", ["/create", "/1/update", "/1/delete"])
def test_missing_or_wrong_csrf_token_changes_nothing(
    client: ErlenClient, app: Erlen, auth: AuthActions, path: str, token: str | None
) -> None:
    auth.login()
    data = {"title": "forged", "body": "forged"}
    if token is not None:
        data["csrf_token"] = token
    rv = client.post(path, data=data)
    assert rv.status_code == 400
    assert "Nothing was saved" in rv.get_data(as_text=True)
    assert posts(app) == ORIGINAL


def test_huge_form_is_413(client: ErlenClient, app: Erlen, auth: AuthActions) -> None:
    auth.login()
    rv = post_form(client, "/create", title="big", body="x" * 70_000)
    assert rv.status_code == 413
    assert "far too large" in rv.get_data(as_text=True)
    assert posts(app) == ORIGINAL
