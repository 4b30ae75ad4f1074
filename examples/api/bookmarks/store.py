"""The data, in memory: users, their tokens and their bookmarks.

One :class:`Store` per app, behind one lock: a threaded server (or uvicorn's
thread pool) serves requests at the same time. A real deployment would keep
these in a database; the views would not change.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field


@dataclass
class User:
    id: int
    username: str
    password_hash: str


@dataclass
class Bookmark:
    id: int
    owner_id: int
    url: str
    title: str
    tags: list[str]
    created: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))


def _digest(token: str) -> str:
    # Only a token's hash is kept: a leaked store gives no usable tokens.
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users: dict[str, User] = {}
        self.tokens: dict[str, tuple[int, float]] = {}
        self.bookmarks: dict[int, Bookmark] = {}
        self._ids = itertools.count(1)

    def add_user(self, username: str, password_hash: str) -> User | None:
        """The new user, or ``None`` if the name is taken."""
        with self.lock:
            if username in self.users:
                return None
            user = User(next(self._ids), username, password_hash)
            self.users[username] = user
            return user

    def new_token(self, user: User, lifetime: int) -> str:
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[_digest(token)] = (user.id, time.monotonic() + lifetime)
        return token

    def user_for_token(self, token: str) -> User | None:
        with self.lock:
            found = self.tokens.get(_digest(token))
            if found is None:
                return None
            user_id, expires = found
            if time.monotonic() >= expires:
                del self.tokens[_digest(token)]
                return None
            return next((u for u in self.users.values() if u.id == user_id), None)

    def revoke(self, token: str) -> None:
        with self.lock:
            self.tokens.pop(_digest(token), None)

    def add_bookmark(self, owner: User, url: str, title: str, tags: list[str]) -> Bookmark:
        with self.lock:
            bookmark = Bookmark(next(self._ids), owner.id, url, title, sorted(set(tags)))
            self.bookmarks[bookmark.id] = bookmark
            return bookmark

    def bookmarks_of(self, owner: User) -> list[Bookmark]:
        with self.lock:
            return [b for b in self.bookmarks.values() if b.owner_id == owner.id]

    def delete_bookmark(self, bookmark: Bookmark) -> None:
        with self.lock:
            self.bookmarks.pop(bookmark.id, None)
