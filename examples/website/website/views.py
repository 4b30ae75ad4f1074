"""The website's views: static pages, and the archive's months, threads, messages and search."""

from __future__ import annotations

import re

from erlen import Blueprint, abort, current_app, render_template, request

from .archive import Archive

__all__ = ["pages", "archive"]

pages = Blueprint("pages", __name__)
archive = Blueprint("archive", __name__)

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _archive() -> Archive:
    cache = current_app.extensions["archive"]
    rv: Archive = cache.get()
    return rv


@pages.route("/")
def home() -> str:
    """The front page."""
    return render_template("home.html")


@pages.route("/about")
def about() -> str:
    """Who makes the project and how to join in."""
    return render_template("about.html")


@pages.route("/docs")
def docs() -> str:
    """A short guide to getting started."""
    return render_template("docs.html")


@archive.route("/")
def index() -> str:
    """Every month with threads, newest first."""
    months = sorted(_archive().months.items(), reverse=True)
    return render_template("archive/index.html", months=months)


@archive.route("/<month_id>/")
def month(month_id: str) -> str:
    """The threads started in one month (``YYYY-MM``); an unknown month is a 404."""
    match = _MONTH.fullmatch(month_id)
    if match is None:
        abort(404)
    key = (int(match[1]), int(match[2]))
    threads = _archive().months.get(key)
    if threads is None:
        abort(404)
    return render_template("archive/month.html", year=key[0], month=key[1], threads=threads)


@archive.route("/thread/<key>")
def thread(key: str) -> str:
    """A thread with its replies nested under the messages they answer."""
    found = _archive().threads.get(key)
    if found is None:
        abort(404)
    return render_template("archive/thread.html", thread=found)


@archive.route("/message/<key>")
def message(key: str) -> str:
    """One message with its headers and body."""
    found = _archive().messages.get(key)
    if found is None:
        abort(404)
    return render_template("archive/message.html", message=found)


@archive.route("/search")
def search() -> tuple[str, int]:
    """Messages whose subject or body holds every word of ``?q=``."""
    query = request.args.get("q", "").strip()
    limit = current_app.config["SEARCH_MAX_LENGTH"]
    if len(query) > limit:
        error = f"Search terms are limited to {limit} characters."
        return render_template(
            "archive/search.html", query=query[:limit], results=[], error=error
        ), 400
    results = _archive().search(query, current_app.config["SEARCH_MAX_RESULTS"]) if query else []
    return render_template("archive/search.html", query=query, results=results, error=None), 200
