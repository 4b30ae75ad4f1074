"""The mailing-list archive: parsing, threading, views, escaping and search."""

from __future__ import annotations

import mailbox
import os
import re
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pytest
from website import DEFAULT_MBOX, create_app
from website.archive import Archive, ArchiveCache, html_to_text, message_key

from erlen.testing import ErlenClient


def key(local: str) -> str:
    """The URL key of a sample message, from the local part of its Message-ID."""
    return message_key(f"{local}@lists.example.org")


@pytest.fixture(scope="module")
def sample() -> Archive:
    return Archive(DEFAULT_MBOX)


def make_mbox(path: Path, *messages: EmailMessage) -> Path:
    box = mailbox.mbox(path)
    for msg in messages:
        box.add(msg)
    box.flush()
    box.close()
    return path


def email_message(subject: str = "Hello", body: str = "Body text", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


# --- parsing and threading -------------------------------------------------------------


def test_sample_has_threads_in_three_months(sample: Archive) -> None:
    assert len(sample.messages) == 16
    assert sorted(sample.months) == [(2026, 1), (2026, 2), (2026, 3)]
    assert [th.subject for th in sample.months[(2026, 1)]] == [
        "Erlen 0.1 released",
        "Ünïcödé in URL rules — Größe matters",
    ]


def test_replies_nest_under_the_message_they_answer(sample: Archive) -> None:
    root = sample.messages[key("release-01")]
    assert [r.key for r in root.replies] == [key("release-02"), key("release-05")]
    second = sample.messages[key("release-02")]
    assert [r.key for r in second.replies] == [key("release-03")]
    assert sample.messages[key("release-04")].parent is sample.messages[key("release-03")]
    # Depth-first, in date order within each level.
    assert [m.key for m in sample.threads[root.key].messages] == [
        key("release-01"),
        key("release-02"),
        key("release-03"),
        key("release-04"),
        key("release-05"),
    ]


def test_references_thread_a_reply_without_in_reply_to(sample: Archive) -> None:
    msg = sample.messages[key("async-04")]
    assert msg.in_reply_to is None
    assert msg.parent is sample.messages[key("async-02")]


def test_reply_to_an_unknown_message_starts_its_own_thread(sample: Archive) -> None:
    orphan = sample.messages[key("orphan-01")]
    assert orphan.parent is None
    assert orphan.key in sample.threads


def test_encoded_words_are_decoded(sample: Archive) -> None:
    msg = sample.messages[key("unicode-01")]
    assert msg.subject == "Ünïcödé in URL rules — Größe matters"
    assert msg.author == "Zoë Ångström"
    assert sample.messages[key("release-03")].author == "佐藤 さくら"
    assert sample.messages[key("release-02")].author == "José Müller"


def test_multipart_message_prefers_plain_text_and_lists_attachments(sample: Archive) -> None:
    msg = sample.messages[key("async-01")]
    assert msg.body.startswith("Plain text first")
    assert "<b>" not in msg.body
    assert msg.attachments == ["server.log"]
    assert msg.html_source is not None and "<b>HTML alternative</b>" in msg.html_source
    assert not msg.body_from_html


def test_html_only_message_becomes_text(sample: Archive) -> None:
    msg = sample.messages[key("prize-01")]
    assert msg.body_from_html
    assert msg.body == "Congratulations\n\nClick here to claim.\n\nOffer ends soon."


def test_html_to_text_drops_scripts_styles_and_attributes() -> None:
    text = html_to_text(
        "<head><title>t</title><style>p{}</style></head>"
        "<p onclick='x()'>One &amp; two</p><script>evil()</script><br>Three   four"
    )
    assert text == "One & two\n\nThree four"


def test_messages_with_missing_headers_still_load(tmp_path: Path) -> None:
    bare = EmailMessage()
    bare.set_content("no headers at all")
    bad_date = email_message(
        "Odd date", Date="not a date", From="x@example.com", Message_ID="<odd@x>"
    )
    naive = email_message(
        "Naive date", Date="Mon, 02 Mar 2026 10:00:00 -0000", Message_ID="<naive@x>"
    )
    no_text = EmailMessage()
    no_text["Subject"] = "Binary"
    no_text["Message-ID"] = "<bin@x>"
    no_text["Date"] = "Mon, 02 Mar 2026 10:00:00 +0000"
    no_text.set_content(
        b"\x00\x01", maintype="application", subtype="octet-stream", filename="blob.bin"
    )
    archive = Archive(make_mbox(tmp_path / "list.mbox", bare, bad_date, naive, no_text))
    by_subject = {m.subject: m for m in archive.messages.values()}
    untitled = by_subject["(no subject)"]
    assert untitled.author == "(unknown sender)"
    assert untitled.message_id == "no-id-0"
    assert untitled.date.year == 1970
    assert by_subject["Odd date"].date.year == 1970
    assert by_subject["Odd date"].author == "x@example.com"
    assert by_subject["Naive date"].date.tzinfo is not None
    binary = archive.messages[message_key("bin@x")]
    assert binary.body == "" and binary.attachments == ["blob.bin"] and binary.html_source is None


def test_first_text_parts_win_and_inline_parts_are_skipped(tmp_path: Path) -> None:
    msg = EmailMessage()
    msg["Message-ID"] = "<parts@x>"
    msg.set_content("first plain")
    msg.add_alternative("<p>first html</p>", subtype="html")
    msg.make_mixed()
    second_plain, second_html, image = EmailMessage(), EmailMessage(), EmailMessage()
    second_plain.set_content("second plain")
    second_html.set_content("<p>second html</p>", subtype="html")
    image.set_content(b"\x89PNG", maintype="image", subtype="png", disposition="inline")
    for part in (second_plain, second_html, image):
        msg.attach(part)
    archive = Archive(make_mbox(tmp_path / "list.mbox", msg))
    parsed = archive.messages[message_key("parts@x")]
    assert parsed.body == "first plain"
    assert parsed.html_source == "<p>first html</p>\n"
    assert parsed.attachments == []


def test_search_without_words_finds_nothing(sample: Archive) -> None:
    assert sample.search("  \t ") == []
    assert len(sample.search("erlen", limit=2)) == 2


def test_undecodable_headers_and_charsets_fall_back(tmp_path: Path) -> None:
    raw = (
        b"From x Mon Mar  2 10:00:00 2026\n"
        b"From: =?utf-8?b?TcO8bGxlciwgSm9zw6k=?= <jm@example.net>\n"
        b"Subject: =?x-unknown?q?abc?=\n"
        b"Message-ID: <cs@x>\n"
        b"Content-Type: text/plain; charset=x-unknown\n\n"
        b"caf\xc3\xa9\n"
    )
    path = tmp_path / "odd.mbox"
    path.write_bytes(raw)
    msg = Archive(path).messages[message_key("cs@x")]
    assert msg.author == "Müller, José"  # decoded after splitting, so the comma is kept
    assert msg.author_address == "jm@example.net"
    assert msg.subject == "=?x-unknown?q?abc?="
    assert msg.body == "café"


def test_duplicate_message_id_keeps_the_first_copy(tmp_path: Path) -> None:
    first = email_message("First", Message_ID="<dup@x>", Date="Mon, 02 Mar 2026 10:00:00 +0000")
    again = email_message("Again", Message_ID="<dup@x>", Date="Tue, 03 Mar 2026 10:00:00 +0000")
    archive = Archive(make_mbox(tmp_path / "list.mbox", first, again))
    assert [m.subject for m in archive.messages.values()] == ["First"]


def test_a_message_naming_itself_as_parent_is_a_root(tmp_path: Path) -> None:
    loop = email_message("Loop", Message_ID="<me@x>", In_Reply_To="<me@x>")
    archive = Archive(make_mbox(tmp_path / "list.mbox", loop))
    assert list(archive.threads) == [message_key("me@x")]


def test_long_reply_chain_does_not_recurse(tmp_path: Path) -> None:
    # Written as raw mbox text: building 1,200 EmailMessage objects is slow.
    path = tmp_path / "list.mbox"
    path.write_text(
        "".join(
            f"From x Mon Mar  2 10:00:00 2026\nMessage-ID: <c{i}@x>\nSubject: Re {i}\n"
            + (f"In-Reply-To: <c{i - 1}@x>\n" if i else "")
            + f"Date: Mon, 02 Mar 2026 {10 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d} +0000\n\nbody {i}\n\n"
            for i in range(1200)
        )
    )
    archive = Archive(path)
    assert len(archive.threads) == 1
    assert len(next(iter(archive.threads.values())).messages) == 1200


# --- the cache ---------------------------------------------------------------------


def test_cache_parses_once_and_again_after_a_change(tmp_path: Path) -> None:
    path = make_mbox(tmp_path / "list.mbox", email_message("One", Message_ID="<1@x>"))
    cache = ArchiveCache(path)
    first = cache.get()
    assert cache.get() is first  # unchanged file: no new parse
    make_mbox(path, email_message("Two", Message_ID="<2@x>"))
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse-clock file systems
    second = cache.get()
    assert second is not first
    assert sorted(m.subject for m in second.messages.values()) == ["One", "Two"]


def test_app_serves_a_changed_archive_without_restart(tmp_path: Path) -> None:
    path = make_mbox(tmp_path / "list.mbox", email_message("Before", Message_ID="<1@x>"))
    client = create_app({"TESTING": True, "ARCHIVE_MBOX": str(path)}).test_client()
    assert client.get(f"/archive/message/{message_key('1@x')}").status_code == 200
    assert client.get(f"/archive/message/{message_key('2@x')}").status_code == 404
    make_mbox(path, email_message("After", Message_ID="<2@x>"))
    os.utime(path, ns=(1, 1))
    assert "After" in client.get(f"/archive/message/{message_key('2@x')}").get_data(as_text=True)


def test_missing_mbox_fails_at_startup(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        create_app({"ARCHIVE_MBOX": str(tmp_path / "nope.mbox")})


def test_empty_archive_says_so(tmp_path: Path) -> None:
    path = tmp_path / "empty.mbox"
    path.write_bytes(b"")
    client = create_app({"TESTING": True, "ARCHIVE_MBOX": str(path)}).test_client()
    assert "The archive is empty." in client.get("/archive/").get_data(as_text=True)


# --- views -------------------------------------------------------------------------------


def test_index_groups_threads_by_month_newest_first(client: ErlenClient) -> None:
    html = client.get("/archive/").get_data(as_text=True)
    months = re.findall(r'<a href="/archive/(\d{4}-\d{2})/">', html)
    assert months == ["2026-03", "2026-02", "2026-01"]
    assert html.index("Erlen 0.1 released") > html.index("Async views and the event loop")
    assert "4 replies" in html and "1 reply" in html and "0 replies" in html


def test_month_lists_only_its_threads(client: ErlenClient) -> None:
    html = client.get("/archive/2026-02/").get_data(as_text=True)
    assert "Async views and the event loop" in html
    assert "You have WON a free ticket!!!" in html
    assert "Erlen 0.1 released" not in html


@pytest.mark.parametrize("month", ["2026-05", "1999-01", "2026-13", "2026-1", "latest", "2026-02x"])
def test_unknown_month_is_404(client: ErlenClient, month: str) -> None:
    rv = client.get(f"/archive/{month}/")
    assert rv.status_code == 404
    assert "There is nothing at this address" in rv.get_data(as_text=True)


def test_thread_view_nests_replies(client: ErlenClient) -> None:
    html = client.get(f"/archive/thread/{key('release-01')}").get_data(as_text=True)
    assert "5 messages from Ada Lovelace, José Müller, 佐藤 さくら, Bob Stone" in html
    depths = re.findall(r'class="post depth-(\d)" id="m-(\w+)" data-depth="(\d+)"', html)
    assert depths == [
        ("0", key("release-01"), "0"),
        ("1", key("release-02"), "1"),
        ("2", key("release-03"), "2"),
        ("3", key("release-04"), "3"),
        ("1", key("release-05"), "1"),
    ]
    assert "in reply to 佐藤 さくら" in html  # release-04 answers release-03


def test_deep_thread_indent_is_capped(tmp_path: Path) -> None:
    chain = [email_message("Start", Message_ID="<c0@x>", Date="Mon, 02 Mar 2026 10:00:00 +0000")]
    for i in range(1, 9):
        chain.append(
            email_message(
                f"Re {i}",
                Message_ID=f"<c{i}@x>",
                In_Reply_To=f"<c{i - 1}@x>",
                Date=f"Mon, 02 Mar 2026 10:00:{i:02d} +0000",
            )
        )
    app = create_app({"TESTING": True, "ARCHIVE_MBOX": str(make_mbox(tmp_path / "l.mbox", *chain))})
    html = app.test_client().get(f"/archive/thread/{message_key('c0@x')}").get_data(as_text=True)
    assert 'class="post depth-6" id="m-{}" data-depth="8"'.format(message_key("c8@x")) in html


def test_message_view_shows_headers_and_parent(client: ErlenClient) -> None:
    html = client.get(f"/archive/message/{key('release-02')}").get_data(as_text=True)
    assert "José Müller &lt;jose@example.net&gt;" in html
    assert "Mon, 12 Jan 2026 14:00 +0100" in html
    assert "<code>release-02@lists.example.org</code>" in html
    assert (
        f'href="/archive/message/{key("release-01")}">Erlen 0.1 released</a> by Ada Lovelace'
        in html
    )
    assert f'href="/archive/message/{key("release-03")}"' in html  # its reply


def test_message_view_lists_attachments(client: ErlenClient) -> None:
    html = client.get(f"/archive/message/{key('async-01')}").get_data(as_text=True)
    assert "<dt>Attachments</dt><dd>server.log</dd>" in html
    assert "sent as HTML only" not in html


@pytest.mark.parametrize(
    "path",
    [
        f"/archive/message/{key('prize-01')}",
        f"/archive/thread/{key('prize-01')}",
        "/archive/search?q=congratulations",
        "/archive/2026-02/",
    ],
)
def test_html_message_markup_never_reaches_the_page(client: ErlenClient, path: str) -> None:
    html = client.get(path).get_data(as_text=True)
    assert "<script" not in html.lower()
    # Parse the page as a browser would: no element may carry script.
    found = _ActiveContent()
    found.feed(html)
    assert found.hits == []


class _ActiveContent(HTMLParser):
    """Collects every script element, event-handler attribute and javascript: URL."""

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed"):
            self.hits.append(tag)
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.hits.append(f"{tag} {name}={value}")


def test_html_source_is_shown_escaped(client: ErlenClient) -> None:
    html = client.get(f"/archive/message/{key('prize-01')}").get_data(as_text=True)
    assert "sent as HTML only" in html
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html
    assert "Click here to claim." in html


@pytest.mark.parametrize("kind", ["thread", "message"])
@pytest.mark.parametrize("unknown", ["000000000000", "nope", "%F0%9F%90%8D"])
def test_unknown_thread_or_message_is_404(client: ErlenClient, kind: str, unknown: str) -> None:
    assert client.get(f"/archive/{kind}/{unknown}").status_code == 404


def test_a_reply_is_not_a_thread(client: ErlenClient) -> None:
    assert client.get(f"/archive/thread/{key('release-02')}").status_code == 404


# --- search ------------------------------------------------------------------------------


def search(client: ErlenClient, query: str) -> tuple[int, str]:
    rv = client.get("/archive/search", query_string={"q": query})
    return rv.status_code, rv.get_data(as_text=True)


def test_search_matches_subjects_ignoring_case(client: ErlenClient) -> None:
    status, html = search(client, "ASYNC views")
    assert status == 200
    assert "4 messages matching “ASYNC views”" in html


def test_search_matches_bodies(client: ErlenClient) -> None:
    status, html = search(client, "wsgiref.validate")
    assert status == 200
    assert "1 message matching" in html
    assert f'href="/archive/message/{key("release-04")}"' in html


def test_search_requires_every_word(client: ErlenClient) -> None:
    _, html = search(client, "blueprints sessions")
    assert "0 messages matching" in html
    _, html = search(client, "blueprints unchanged")
    assert "1 message matching" in html


def test_search_finds_non_ascii_words(client: ErlenClient) -> None:
    _, html = search(client, "größe")
    assert "2 messages matching" in html
    _, html = search(client, "おめでとう")
    assert "1 message matching" in html


def test_search_without_query_shows_the_form(client: ErlenClient) -> None:
    for query in ("", "   "):
        status, html = search(client, query)
        assert status == 200
        assert "every word must occur" in html
        assert "matching" not in html
    assert client.get("/archive/search").status_code == 200


def test_overlong_search_is_a_400_with_a_message(client: ErlenClient) -> None:
    status, html = search(client, "x" * 201)
    assert status == 400
    assert "limited to 200 characters" in html
    assert search(client, "x" * 200)[0] == 200


def test_search_echoes_the_query_escaped(client: ErlenClient) -> None:
    _, html = search(client, '<img src=x onerror="alert(1)">')
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


def test_search_results_are_capped(tmp_path: Path) -> None:
    msgs = [email_message(f"Match {i}", Message_ID=f"<{i}@x>") for i in range(5)]
    app = create_app(
        {
            "TESTING": True,
            "ARCHIVE_MBOX": str(make_mbox(tmp_path / "l.mbox", *msgs)),
            "SEARCH_MAX_RESULTS": 3,
        }
    )
    _, html = search(app.test_client(), "match")
    assert "3 messages matching" in html
