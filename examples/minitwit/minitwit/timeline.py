"""Timelines, posting, following, avatars (the ``timeline`` blueprint)."""

from __future__ import annotations

import sqlite3
import time
import typing as t

from erlen import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from erlen.auth import current_user, login_required

from .avatars import identicon_svg
from .db import get_db, query_db

__all__ = ["bp"]

bp = Blueprint("timeline", __name__)

#: The highest ``?page=`` served; past it (and for anything not a number) 404.
MAX_PAGE = 100_000

_MESSAGES = """
    SELECT message.message_id, message.text, message.pub_date, user.username
    FROM message JOIN user ON message.author_id = user.user_id
    {where}
    ORDER BY message.pub_date DESC, message.message_id DESC
    LIMIT ? OFFSET ?
"""


def _page() -> int:
    """The ``?page=`` argument: a whole number from 1 to :data:`MAX_PAGE`, else 404."""
    raw = request.args.get("page", "1")
    if not (0 < len(raw) <= 6 and raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        abort(404, description="There is no such page.")
    return int(raw)


def _messages(where: str, args: t.Sequence[t.Any], page: int) -> tuple[list[sqlite3.Row], bool]:
    """One page of messages, newest first, and whether older ones follow.

    A page past the last (other than the first) is a 404.
    """
    per_page = current_app.config["PER_PAGE"]
    rows = query_db(_MESSAGES.format(where=where), [*args, per_page + 1, (page - 1) * per_page])
    if page > 1 and not rows:
        abort(404, description="There is no such page.")
    return rows[:per_page], len(rows) > per_page


def _user_or_404(username: str) -> sqlite3.Row:
    row = query_db("SELECT * FROM user WHERE username = ?", [username], one=True)
    if row is None:
        abort(404, description="There is no such user.")
    return t.cast(sqlite3.Row, row)


def _render_home(page: int, error: str | None = None, text: str = "") -> t.Any:
    uid = current_user.id
    messages, more = _messages(
        "WHERE message.author_id = ? OR message.author_id IN (SELECT whom_id FROM follower WHERE who_id = ?)",
        [uid, uid],
        page,
    )
    html = render_template(
        "timeline.html",
        kind="home",
        messages=messages,
        page=page,
        more=more,
        error=error,
        text=text,
    )
    return html, 400 if error else 200


@bp.route("/")
def home() -> t.Any:
    """Your messages and those of the people you follow; the public timeline
    for visitors who are not logged in."""
    if not current_user.is_authenticated:
        return redirect(url_for("timeline.public"))
    return _render_home(_page())


@bp.route("/public")
def public() -> t.Any:
    """Everyone's messages."""
    page = _page()
    messages, more = _messages("", [], page)
    return render_template("timeline.html", kind="public", messages=messages, page=page, more=more)


@bp.route("/<username>")
def user(username: str) -> t.Any:
    """One user's messages, with a follow or unfollow button for others."""
    profile = _user_or_404(username)
    page = _page()
    followed = False
    if current_user.is_authenticated:
        followed = (
            query_db(
                "SELECT 1 FROM follower WHERE who_id = ? AND whom_id = ?",
                [current_user.id, profile["user_id"]],
                one=True,
            )
            is not None
        )
    messages, more = _messages("WHERE message.author_id = ?", [profile["user_id"]], page)
    return render_template(
        "timeline.html",
        kind="user",
        profile=profile,
        followed=followed,
        messages=messages,
        page=page,
        more=more,
    )


_FOLLOW_SQL = "INSERT OR IGNORE INTO follower (who_id, whom_id) VALUES (?, ?)"
_UNFOLLOW_SQL = "DELETE FROM follower WHERE who_id = ? AND whom_id = ?"


def _change_following(username: str, sql: str, message: str) -> t.Any:
    """Run ``sql`` for (me, them), flash ``message`` and go to their page.

    Both statements are idempotent: following twice changes nothing.
    """
    profile = _user_or_404(username)
    if profile["user_id"] == current_user.id:
        abort(400, description="You can't follow or unfollow yourself.")
    db = get_db()
    db.execute(sql, [current_user.id, profile["user_id"]])
    db.commit()
    flash(message.format(profile["username"]))
    return redirect(url_for("timeline.user", username=profile["username"]))


@bp.post("/<username>/follow")
@login_required
def follow(username: str) -> t.Any:
    """Follow a user: their messages join your timeline."""
    return _change_following(username, _FOLLOW_SQL, "You are now following {}.")


@bp.post("/<username>/unfollow")
@login_required
def unfollow(username: str) -> t.Any:
    """Stop following a user."""
    return _change_following(username, _UNFOLLOW_SQL, "You are no longer following {}.")


@bp.post("/add_message")
@login_required
def add_message() -> t.Any:
    """Post a message; an empty or over-long one comes back with the reason."""
    # Browsers send line breaks as CRLF; count them as one character each.
    text = request.form.get("text", "").replace("\r\n", "\n").strip()
    limit = current_app.config["MESSAGE_MAX_LENGTH"]
    if not text:
        return _render_home(1, "You can't post an empty message.")
    if len(text) > limit:
        return _render_home(
            1, f"Messages can have at most {limit} characters; yours has {len(text)}.", text
        )
    db = get_db()
    db.execute(
        "INSERT INTO message (author_id, text, pub_date) VALUES (?, ?, ?)",
        [current_user.id, text, int(time.time())],
    )
    db.commit()
    flash("Your message was recorded.")
    return redirect(url_for("timeline.home"))


@bp.route("/avatar/<username>.svg")
def avatar(username: str) -> t.Any:
    """The user's avatar image (see :mod:`minitwit.avatars`)."""
    profile = _user_or_404(username)
    response = make_response(identicon_svg(profile["username"]))
    response.mimetype = "image/svg+xml"
    # It never changes for a name; a day of caching saves a request per message.
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
