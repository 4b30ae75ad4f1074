"""Posting, timelines, following, pagination, avatars, and their bad input."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import pytest
from minitwit_helpers import Actions, csrf_token, query

from erlen import Erlen
from erlen.testing import ErlenClient


def messages_on(page: str) -> list[str]:
    """The message texts on a timeline page, top to bottom."""
    return re.findall(r'<p class="text">(.*?)</p>', page, re.S)


def test_post_a_message(app: Erlen, client: ErlenClient, act: Actions) -> None:
    act.register_and_login("ann")
    rv = act.post("  hello <b>world</b>\r\nsecond line  ")
    assert rv.status_code == 302 and rv.headers["Location"] == "/"
    page = client.get("/").text
    assert "Your message was recorded." in page
    assert messages_on(page) == ["hello &lt;b&gt;world&lt;/b&gt;\nsecond line"]
    ((text,),) = query(app, "SELECT text FROM message")
    assert text == "hello <b>world</b>\nsecond line"


def test_message_at_the_limit_is_accepted(app: Erlen, act: Actions) -> None:
    act.register_and_login("ann")
    assert act.post("x" * 280).status_code == 302
    # CRLF counts as one character.
    assert act.post("x" * 139 + "\r\n" + "y" * 140).status_code == 302
    assert len(query(app, "SELECT * FROM message")) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "You can't post an empty message."), (" \r\n\t ", "You can't post an empty message.")],
)
def test_empty_message_is_refused(app: Erlen, act: Actions, text: str, message: str) -> None:
    act.register_and_login("ann")
    rv = act.post(text)
    assert rv.status_code == 400 and message in html.unescape(rv.text)
    assert query(app, "SELECT * FROM message") == []


def test_over_long_message_is_refused_and_kept_in_the_form(app: Erlen, act: Actions) -> None:
    act.register_and_login("ann")
    act.post("first")
    rv = act.post("z" * 281)
    assert rv.status_code == 400
    assert "Messages can have at most 280 characters; yours has 281." in rv.text
    assert "z" * 281 + "</textarea>" in rv.text
    # The timeline is still shown under the form, and nothing was stored.
    assert messages_on(rv.text) == ["first"]
    assert query(app, "SELECT text FROM message") == [("first",)]


def test_message_field_missing(app: Erlen, client: ErlenClient, act: Actions) -> None:
    act.register_and_login("ann")
    rv = client.post("/add_message", data={"csrf_token": csrf_token(client, "/")})
    assert rv.status_code == 400 and "empty message" in html.unescape(rv.text)


def test_huge_request_is_413_and_stores_nothing(
    app: Erlen, client: ErlenClient, act: Actions
) -> None:
    act.register_and_login("ann")
    rv = client.post(
        "/add_message", data={"text": "x" * 70_000, "csrf_token": csrf_token(client, "/")}
    )
    assert rv.status_code == 413
    assert query(app, "SELECT * FROM message") == []


def test_post_without_csrf_token_stores_nothing(
    app: Erlen, client: ErlenClient, act: Actions
) -> None:
    act.register_and_login("ann")
    rv = client.post("/add_message", data={"text": "forged"})
    assert rv.status_code == 400 and "The CSRF token is missing." in rv.text
    rv = client.post("/add_message", data={"text": "forged", "csrf_token": "1700000000.forged"})
    assert rv.status_code == 400 and "The CSRF token is invalid." in rv.text
    assert query(app, "SELECT * FROM message") == []


def test_posting_needs_login(app: Erlen, client: ErlenClient) -> None:
    rv = client.post(
        "/add_message", data={"text": "hi", "csrf_token": csrf_token(client, "/public")}
    )
    assert rv.status_code == 302 and rv.headers["Location"].startswith("/login?next=")
    assert query(app, "SELECT * FROM message") == []
    assert "Please log in to access this page." in client.get("/login").text


def test_timelines_and_following(app: Erlen, client: ErlenClient, act: Actions) -> None:
    act.register_and_login("ann")
    act.post("from ann")
    act.logout()
    act.register_and_login("bob")
    act.post("from bob")

    # bob's own timeline has only his message until he follows ann.
    assert messages_on(client.get("/").text) == ["from bob"]
    page = client.get("/ann").text
    assert "You are not yet following this user." in page and messages_on(page) == ["from ann"]

    rv = act.follow("ann")
    assert rv.headers["Location"] == "/ann"
    page = client.get("/ann").text
    assert "You are now following ann." in page and "You are following this user." in page
    assert sorted(messages_on(client.get("/").text)) == ["from ann", "from bob"]
    assert query(app, "SELECT who_id, whom_id FROM follower") == [(2, 1)]

    # Following twice changes nothing.
    act.follow("ann")
    assert query(app, "SELECT who_id, whom_id FROM follower") == [(2, 1)]

    rv = act.follow("ann", "unfollow")
    assert "You are no longer following ann." in client.get("/ann").text
    assert messages_on(client.get("/").text) == ["from bob"]
    assert query(app, "SELECT * FROM follower") == []

    # The public timeline has everyone, newest first.
    assert messages_on(client.get("/public").text) == ["from bob", "from ann"]


def test_own_page_says_this_is_you(client: ErlenClient, act: Actions) -> None:
    act.register_and_login("ann")
    page = client.get("/ann").text
    assert "This is you!" in page and "Follow</button>" not in page


def test_anonymous_user_page_has_no_follow_button(client: ErlenClient, act: Actions) -> None:
    act.register("ann")
    page = client.get("/ANN").text  # names are found ignoring case
    assert "<h1>ann</h1>" in page and "Follow" not in page


def test_following_yourself_is_400(app: Erlen, client: ErlenClient, act: Actions) -> None:
    act.register_and_login("ann")
    for how in ("follow", "unfollow"):
        rv = act.follow("ann", how)
        assert rv.status_code == 400 and "You can't follow or unfollow yourself." in html.unescape(
            rv.text
        )
    assert query(app, "SELECT * FROM follower") == []


def test_follow_needs_login_and_csrf(app: Erlen, client: ErlenClient, act: Actions) -> None:
    act.register("ann")
    rv = act.follow("ann")
    assert rv.status_code == 302 and rv.headers["Location"].startswith("/login")
    act.register_and_login("bob")
    assert client.post("/ann/follow").status_code == 400
    assert query(app, "SELECT * FROM follower") == []


@pytest.mark.parametrize(
    "path", ["/nobody", "/nobody/follow", "/nobody/unfollow", "/avatar/nobody.svg"]
)
def test_unknown_user_is_404(client: ErlenClient, act: Actions, path: str) -> None:
    act.register_and_login("ann")
    if path.endswith("follow"):
        rv = client.post(path, data={"csrf_token": csrf_token(client, "/")})
    else:
        rv = client.get(path)
    assert rv.status_code == 404
    assert "There is no such user." in rv.text or path.startswith("/avatar")


def test_unknown_page_is_friendly_404(client: ErlenClient) -> None:
    rv = client.get("/no/such/page")
    assert rv.status_code == 404 and "<title>Not Found | MiniTwit</title>" in rv.text


def test_home_redirects_visitors_to_public(client: ErlenClient) -> None:
    rv = client.get("/")
    assert rv.status_code == 302 and rv.headers["Location"] == "/public"
    assert "There's no message so far." in client.get("/public").text


def add_messages(app: Erlen, author_id: int, count: int) -> None:
    from minitwit.db import get_db

    with app.app_context():
        db = get_db()
        db.executemany(
            "INSERT INTO message (author_id, text, pub_date) VALUES (?, ?, ?)",
            [(author_id, f"message {i}", 1_700_000_000 + i) for i in range(count)],
        )
        db.commit()


@pytest.mark.parametrize("path", ["/public", "/ann", "/"])
def test_pagination(app: Erlen, client: ErlenClient, act: Actions, path: str) -> None:
    act.register_and_login("ann")
    add_messages(app, 1, 7)  # PER_PAGE is 3 in the tests: pages of 3, 3, 1
    first = client.get(path).text
    assert messages_on(first) == ["message 6", "message 5", "message 4"]
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get(f"{path}?page=2").text
    assert messages_on(second) == ["message 3", "message 2", "message 1"]
    assert 'rel="next"' in second and 'rel="prev"' in second and "Page 2" in second
    third = client.get(f"{path}?page=3").text
    assert messages_on(third) == ["message 0"]
    assert 'rel="next"' not in third
    assert client.get(f"{path}?page=4").status_code == 404


def test_pagination_links_keep_the_user(app: Erlen, client: ErlenClient, act: Actions) -> None:
    act.register("ann")
    add_messages(app, 1, 4)
    assert 'href="/ann?page=2"' in client.get("/ann").text
    assert 'href="/ann?page=1"' in client.get("/ann?page=2").text


@pytest.mark.parametrize("page", ["0", "-1", "x", "", "1.5", "１", "100001", "9" * 5000])
def test_bad_page_numbers_are_404(client: ErlenClient, page: str) -> None:
    rv = client.get(f"/public?page={page}")
    assert rv.status_code == 404 and "There is no such page." in rv.text


def test_one_page_has_no_pagination(app: Erlen, client: ErlenClient, act: Actions) -> None:
    act.register("ann")
    add_messages(app, 1, 3)
    assert "Page 1" not in client.get("/public").text


def test_avatar_is_deterministic_svg(app: Erlen, client: ErlenClient, act: Actions) -> None:
    act.register("ann")
    act.register("bob")
    rv = client.get("/avatar/ann.svg")
    assert rv.status_code == 200 and rv.mimetype == "image/svg+xml"
    assert "max-age=86400" in rv.headers["Cache-Control"]
    root = ET.fromstring(rv.text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert client.get("/avatar/ANN.svg").text == rv.text
    assert client.get("/avatar/bob.svg").text != rv.text
    assert 'src="/avatar/ann.svg"' in client.get("/ann").text


def test_identicon_is_symmetric() -> None:
    from minitwit.avatars import GRID, identicon_svg

    for name in ("ann", "bob", "zoë", "x" * 30):
        cells = {
            (int(x), int(y)) for x, y in re.findall(r'<rect x="(\d)" y="(\d)"', identicon_svg(name))
        }
        assert cells == {(GRID - 1 - x, y) for x, y in cells}
        assert identicon_svg(name) == identicon_svg(name.upper())


def test_security_headers(client: ErlenClient) -> None:
    rv = client.get("/public")
    assert rv.headers["X-Content-Type-Options"] == "nosniff"
    assert rv.headers["X-Frame-Options"] == "DENY"
    assert rv.headers["Referrer-Policy"] == "same-origin"


def test_two_users_follow_each_other(app: Erlen, act: Actions) -> None:
    ann = Actions(app.test_client())
    bob = Actions(app.test_client())
    ann.register_and_login("ann")
    bob.register_and_login("bob")
    ann.post("hi bob")
    bob.post("hi ann")
    ann.follow("bob")
    bob.follow("ann")
    for person in (ann, bob):
        assert sorted(messages_on(person.client.get("/").text)) == ["hi ann", "hi bob"]
