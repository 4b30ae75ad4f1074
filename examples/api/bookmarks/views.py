"""Bookmarks and their tags: every view works on the logged-in user's own."""

from __future__ import annotations

from collections import Counter

from erlen import Blueprint, abort, g
from erlen.typed import doc, input, output

from .auth import NEEDS_TOKEN, load_user, store
from .schemas import BookmarkIn, BookmarkOut, BookmarkPage, BookmarkPatch, ListQuery, TagCount
from .store import Bookmark

bookmarks = Blueprint("bookmarks", __name__, url_prefix="/bookmarks")
tags = Blueprint("tags", __name__, url_prefix="/tags")


@bookmarks.before_request
@tags.before_request
def require_token() -> None:
    """Both blueprints need a token: checked before any of their views runs."""
    load_user()


NOT_FOUND = doc(responses={404: "No such bookmark (or not yours)"})


def own_bookmark(id: int) -> Bookmark:
    bookmark = store().bookmarks.get(id)
    if bookmark is None or bookmark.owner_id != g.user.id:
        abort(404, "No such bookmark.")
    return bookmark


@bookmarks.get("")
@input(ListQuery, "query")
@output(BookmarkPage)
@NEEDS_TOKEN
def list_bookmarks(query: ListQuery):
    """List your bookmarks, newest first.

    Filter by tags (all of them) and by text in the title or URL.
    """
    wanted = set(query.tag)
    text = (query.q or "").casefold()
    found = [
        b
        for b in store().bookmarks_of(g.user)
        if wanted <= set(b.tags) and (text in b.title.casefold() or text in b.url.casefold())
    ]
    found.sort(key=lambda b: b.id, reverse=True)
    start = (query.page - 1) * query.per_page
    return {
        "items": found[start : start + query.per_page],
        "page": query.page,
        "per_page": query.per_page,
        "total": len(found),
    }


@bookmarks.post("")
@input(BookmarkIn)
@output(BookmarkOut, status=201)
@doc(responses={409: "You saved this URL already"})
@NEEDS_TOKEN
def create_bookmark(body: BookmarkIn):
    """Save a bookmark."""
    if any(b.url == body.url for b in store().bookmarks_of(g.user)):
        abort(409, "You saved this URL already.")
    return store().add_bookmark(g.user, body.url, body.title, body.tags)


@bookmarks.get("/<int:id>")
@output(BookmarkOut)
@NOT_FOUND
@NEEDS_TOKEN
def get_bookmark(id: int):
    """One bookmark."""
    return own_bookmark(id)


@bookmarks.patch("/<int:id>")
@input(BookmarkPatch)
@output(BookmarkOut)
@NOT_FOUND
@NEEDS_TOKEN
def update_bookmark(id: int, body: BookmarkPatch):
    """Change a bookmark's URL, title or tags."""
    bookmark = own_bookmark(id)
    with store().lock:
        for name, value in body.model_dump(exclude_unset=True, exclude_none=True).items():
            setattr(bookmark, name, sorted(set(value)) if name == "tags" else value)
    return bookmark


@bookmarks.delete("/<int:id>")
@output(None, status=204)
@NOT_FOUND
@NEEDS_TOKEN
def delete_bookmark(id: int):
    """Delete a bookmark."""
    store().delete_bookmark(own_bookmark(id))
    return ""


@tags.get("")
@output(list[TagCount])
@NEEDS_TOKEN
def list_tags():
    """Your tags, with how many bookmarks have each, most used first."""
    counts = Counter(tag for b in store().bookmarks_of(g.user) for tag in b.tags)
    return [
        {"name": name, "count": n}
        for name, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))
    ]
