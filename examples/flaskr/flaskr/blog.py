"""The blog: everyone reads; logged-in users write; only an author edits or deletes a post."""

from __future__ import annotations

import sqlite3
import typing as t

from erlen import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from erlen.auth import current_user, login_required

from .db import get_db

__all__ = ["bp", "get_post"]

bp = Blueprint("blog", __name__)


@bp.route("/")
def index() -> str:
    """All posts, newest first."""
    posts = (
        get_db()
        .execute(
            "SELECT p.id, title, body, created, author_id, username"
            " FROM post p JOIN user u ON p.author_id = u.id"
            " ORDER BY p.id DESC"
        )
        .fetchall()
    )
    return render_template("blog/index.html", posts=posts)


def get_post(post_id: int, check_author: bool = True) -> sqlite3.Row:
    """The post with this id and its author's name.

    :param check_author: Require the current user to be the author.
    :raises NotFound: No such post (404).
    :raises Forbidden: The current user is not its author (403).
    """
    post = (
        get_db()
        .execute(
            "SELECT p.id, title, body, created, author_id, username"
            " FROM post p JOIN user u ON p.author_id = u.id"
            " WHERE p.id = ?",
            (post_id,),
        )
        .fetchone()
    )
    if post is None:
        abort(404)
    if check_author and post["author_id"] != current_user.id:
        abort(403)
    row: sqlite3.Row = post
    return row


def _read_form() -> tuple[str, str, str | None]:
    """The title and body of the post form, and what is wrong with them (or ``None``)."""
    title = request.form.get("title", "").strip()
    body = request.form.get("body", "").strip()
    config = current_app.config
    if not title:
        return title, body, "Title is required."
    if len(title) > config["TITLE_MAX_LENGTH"]:
        return (
            title,
            body,
            f"Titles are limited to {config['TITLE_MAX_LENGTH']} characters (this one has {len(title)}).",
        )
    if len(body) > config["BODY_MAX_LENGTH"]:
        return (
            title,
            body,
            f"Posts are limited to {config['BODY_MAX_LENGTH']:,} characters (this one has {len(body):,}).",
        )
    return title, body, None


@bp.route("/create", methods=("GET", "POST"))
@login_required
def create() -> t.Any:
    """Write a new post."""
    if request.method == "POST":
        title, body, error = _read_form()
        if error is None:
            db = get_db()
            db.execute(
                "INSERT INTO post (title, body, author_id) VALUES (?, ?, ?)",
                (title, body, current_user.id),
            )
            db.commit()
            flash("Your post is published.", "success")
            return redirect(url_for("blog.index"))
        # The form comes back with what was typed, so nothing is lost to a typo.
        flash(error, "error")
        return render_template("blog/create.html", title=title, body=body), 400
    return render_template("blog/create.html", title="", body="")


@bp.route("/<int:id>/update", methods=("GET", "POST"))
@login_required
def update(id: int) -> t.Any:
    """Edit one of your posts."""
    post = get_post(id)
    if request.method == "POST":
        title, body, error = _read_form()
        if error is None:
            db = get_db()
            db.execute("UPDATE post SET title = ?, body = ? WHERE id = ?", (title, body, id))
            db.commit()
            flash("Your changes are saved.", "success")
            return redirect(url_for("blog.index"))
        flash(error, "error")
        return render_template("blog/update.html", post=post, title=title, body=body), 400
    return render_template("blog/update.html", post=post, title=post["title"], body=post["body"])


@bp.post("/<int:id>/delete")
@login_required
def delete(id: int) -> t.Any:
    """Delete one of your posts, once its author has confirmed it.

    The edit page's button asks with the browser's ``confirm()`` and sends
    ``confirmed=yes``. Without JavaScript nothing asked, so the post comes
    here without it and gets a page that asks instead: the server decides,
    a post is never deleted unconfirmed.
    """
    post = get_post(id)
    if request.form.get("confirmed") != "yes":
        return render_template("blog/delete.html", post=post)
    db = get_db()
    db.execute("DELETE FROM post WHERE id = ?", (id,))
    db.commit()
    flash("The post is deleted.", "success")
    return redirect(url_for("blog.index"))
