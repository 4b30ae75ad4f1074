"""The mailing-list archive: an mbox file read into messages, threads and months.

Everything here is plain Python over the standard library's :mod:`mailbox`
and :mod:`email`; the views only ask an :class:`Archive` questions. The file
is parsed once, and :class:`ArchiveCache` parses it again only when its
modification time or size changes, so requests never pay for parsing.
"""

from __future__ import annotations

import dataclasses
import email.errors
import email.header
import email.message
import email.utils
import hashlib
import mailbox
import os
import threading
import typing as t
from datetime import UTC, datetime
from html.parser import HTMLParser

__all__ = ["Archive", "ArchiveCache", "Message", "Thread", "html_to_text", "message_key"]

#: Messages without a usable ``Date`` header sort (and are filed) here.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def message_key(message_id: str) -> str:
    """A short, URL-safe key for a ``Message-ID``.

    Message-IDs contain ``@``, ``<``, ``>`` and whatever else a mailer likes,
    so URLs use a hash prefix instead; 12 hex digits make a collision in one
    list's archive practically impossible.
    """
    return hashlib.sha256(message_id.encode("utf-8", "surrogateescape")).hexdigest()[:12]


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML document, dropping every tag and attribute.

    The contents of ``script`` and ``style`` are dropped too: they are code,
    not text a reader wants to see.
    """

    _SKIP = frozenset({"script", "style", "head", "title"})
    _BREAK = frozenset(
        {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BREAK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML body, with no markup left in it.

    The archive shows HTML-only messages this way: what reaches the page is
    text (and is escaped by the template like any other text), so scripts,
    event-handler attributes and ``javascript:`` links are inert.
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    # Collapse the runs of blank lines that block tags leave behind.
    text: list[str] = []
    for line in lines:
        if line or (text and text[-1]):
            text.append(line)
    return "\n".join(text).strip()


@dataclasses.dataclass(eq=False)
class Message:
    """One message of the archive, decoded for display."""

    key: str
    message_id: str
    subject: str
    author: str
    author_address: str
    date: datetime
    #: The text shown as the body: the plain-text part, or the text of the HTML part.
    body: str
    #: The HTML part's source when the message has one (shown escaped, never rendered).
    html_source: str | None
    attachments: list[str]
    in_reply_to: str | None
    references: list[str]
    parent: Message | None = None
    replies: list[Message] = dataclasses.field(default_factory=list)
    thread: Thread | None = None
    #: How many replies deep the message sits in its thread (the root is 0).
    depth: int = 0
    #: Whether the message has a text/plain part (else the body is the HTML's text).
    has_plain_part: bool = True

    @property
    def body_from_html(self) -> bool:
        """Whether the body shown was extracted from an HTML-only message."""
        return self.html_source is not None and not self.has_plain_part

    def matches(self, terms: t.Sequence[str]) -> bool:
        """Whether every (case-folded) term occurs in the subject or body."""
        haystack = f"{self.subject}\n{self.body}".casefold()
        return all(term in haystack for term in terms)


@dataclasses.dataclass(eq=False)
class Thread:
    """A root message and all the replies under it."""

    root: Message
    messages: list[Message] = dataclasses.field(default_factory=list)

    @property
    def key(self) -> str:
        """The thread's URL key (its root message's)."""
        return self.root.key

    @property
    def subject(self) -> str:
        """The subject of the message that started the thread."""
        return self.root.subject

    @property
    def participants(self) -> list[str]:
        """The authors of the thread, in order of first message."""
        return list(dict.fromkeys(m.author for m in sorted(self.messages, key=lambda m: m.date)))


def _ids(value: object) -> list[str]:
    """The Message-IDs in a ``References`` or ``In-Reply-To`` header, in order."""
    if value is None:
        return []
    return [
        part.strip("<>")
        for part in str(value).split()
        if part.startswith("<") and part.endswith(">")
    ]


def _header(value: object) -> str:
    """A header's text with RFC 2047 encoded-words decoded.

    A header that can't be decoded (an unknown charset, a broken
    encoded-word) is shown as it was sent rather than failing the archive.
    """
    if value is None:
        return ""
    try:
        return str(email.header.make_header(email.header.decode_header(str(value))))
    except (LookupError, UnicodeDecodeError, ValueError, email.errors.HeaderParseError):
        return str(value)


def _text(part: email.message.Message) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    try:
        return data.decode(part.get_content_charset() or "utf-8", "replace")
    except LookupError:  # a charset Python doesn't know
        return data.decode("utf-8", "replace")


def _decode(msg: email.message.Message) -> tuple[str, str | None, list[str], bool]:
    """The displayed body, the HTML source, attachment names and whether a plain part exists."""
    plain: str | None = None
    html: str | None = None
    attachments: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if part.get_content_disposition() == "attachment" or filename:
            attachments.append(_header(filename) if filename else "unnamed")
        elif part.get_content_type() == "text/plain" and plain is None:
            plain = _text(part)
        elif part.get_content_type() == "text/html" and html is None:
            html = _text(part)
    if plain is not None:
        return plain.strip(), html, attachments, True
    if html is not None:
        return html_to_text(html), html, attachments, False
    return "", None, attachments, False


def _parse(msg: email.message.Message, index: int) -> Message:
    message_id = (_ids(msg["Message-ID"]) or [f"no-id-{index}"])[0]
    # Split the raw header first: a decoded name may hold a comma or quotes.
    name, address = email.utils.parseaddr(str(msg["From"] or ""))
    name = _header(name)
    try:
        date = email.utils.parsedate_to_datetime(str(msg["Date"]))
    except (TypeError, ValueError):
        date = _EPOCH
    if date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    body, html_source, attachments, has_plain = _decode(msg)
    in_reply_to = _ids(msg["In-Reply-To"])
    subject = " ".join(_header(msg["Subject"]).split())
    return Message(
        key=message_key(message_id),
        message_id=message_id,
        subject=subject or "(no subject)",
        author=name or address or "(unknown sender)",
        author_address=address,
        date=date,
        body=body,
        html_source=html_source,
        attachments=attachments,
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=_ids(msg["References"]),
        has_plain_part=has_plain,
    )


class Archive:
    """All messages of one mbox file, threaded and filed by month.

    A reply's parent is the message its ``In-Reply-To`` names, else the last
    message named in ``References`` that the archive holds; a message with
    neither starts a thread of its own. A thread is filed under the month
    its first message was sent in.

    :param path: The mbox file.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        # PERF: the classic (compat32) parser with explicit RFC 2047 decoding
        # is many times faster than the modern header registry, and the
        # archive needs nothing more from a header than its text.
        box = mailbox.mbox(self.path, create=False)
        try:
            parsed = [_parse(raw, i) for i, raw in enumerate(box)]
        finally:
            box.close()
        self.messages: dict[str, Message] = {}
        by_id: dict[str, Message] = {}
        for msg in sorted(parsed, key=lambda m: m.date):
            # A duplicated Message-ID (a message delivered twice) keeps the first copy.
            if msg.message_id not in by_id:
                by_id[msg.message_id] = msg
                self.messages[msg.key] = msg
        self.threads: dict[str, Thread] = {}
        for msg in self.messages.values():
            msg.parent = self._find_parent(msg, by_id)
            if msg.parent is None:
                self.threads[msg.key] = Thread(msg)
            else:
                msg.parent.replies.append(msg)
        for thread in self.threads.values():
            self._collect(thread, thread.root)
        self.months: dict[tuple[int, int], list[Thread]] = {}
        for thread in sorted(self.threads.values(), key=lambda th: th.root.date):
            self.months.setdefault((thread.root.date.year, thread.root.date.month), []).append(
                thread
            )

    @staticmethod
    def _find_parent(msg: Message, by_id: dict[str, Message]) -> Message | None:
        candidates = ([msg.in_reply_to] if msg.in_reply_to else []) + msg.references[::-1]
        for candidate in candidates:
            parent = by_id.get(candidate)
            if parent is not None and parent is not msg:
                return parent
        return None

    def _collect(self, thread: Thread, msg: Message) -> None:
        # Iterative on purpose: a long reply chain must not hit the recursion limit.
        stack = [(msg, 0)]
        while stack:
            current, depth = stack.pop()
            current.thread, current.depth = thread, depth
            thread.messages.append(current)
            stack.extend((reply, depth + 1) for reply in reversed(current.replies))

    def search(self, query: str, limit: int = 100) -> list[Message]:
        """Messages whose subject or body holds every word of ``query``, newest first.

        :param query: Words separated by whitespace; case does not matter.
        :param limit: At most this many results.
        """
        terms = [term.casefold() for term in query.split()]
        if not terms:
            return []
        found = [m for m in self.messages.values() if m.matches(terms)]
        found.sort(key=lambda m: m.date, reverse=True)
        return found[:limit]


class ArchiveCache:
    """An :class:`Archive` that is parsed again only when its file changes.

    Checking costs one ``os.stat`` per call; parsing happens under a lock so
    concurrent requests after a change parse the file once, not once each.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._archive: Archive | None = None

    def _current_stamp(self) -> tuple[int, int]:
        st = os.stat(self.path)
        return st.st_mtime_ns, st.st_size

    def get(self) -> Archive:
        """The archive, parsed again first if the file changed since last time."""
        stamp = self._current_stamp()
        archive = self._archive
        if archive is not None and stamp == self._stamp:
            return archive
        with self._lock:
            if self._archive is None or stamp != self._stamp:
                self._archive = Archive(self.path)
                self._stamp = stamp
            return self._archive
