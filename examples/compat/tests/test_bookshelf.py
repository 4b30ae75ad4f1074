"""The bookshelf app's own tests, written as for any Flask app."""

from __future__ import annotations

import re
import subprocess
import sys
import typing as t
from pathlib import Path

import erlen

HERE = Path(__file__).resolve().parent


def _csrf_token(client: t.Any) -> str:
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def test_it_is_erlen_underneath(app: t.Any) -> None:
    import flask
    import flask_sqlalchemy

    assert flask.Flask is erlen.Erlen
    assert type(app) is erlen.Erlen
    assert isinstance(app.extensions["sqlalchemy"], flask_sqlalchemy.SQLAlchemy)


def test_empty_shelf(client: t.Any) -> None:
    rv = client.get("/")
    assert rv.status_code == 200
    assert "The shelf is empty." in rv.get_data(as_text=True)


def test_add_a_book_with_the_form(client: t.Any) -> None:
    token = _csrf_token(client)
    rv = client.post(
        "/books",
        data={"csrf_token": token, "title": "Dune", "author": "Frank Herbert", "year": "1965"},
    )
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/books/1"
    rv = client.get("/books/1")
    page = rv.get_data(as_text=True)
    assert "<h2>Dune</h2>" in page and "Frank Herbert, 1965" in page
    assert "Added Dune." in page  # flashed, shown once
    assert "Added Dune." not in client.get("/").get_data(as_text=True)
    assert client.get("/api/books").json == {
        "books": [{"id": 1, "title": "Dune", "author": "Frank Herbert", "year": 1965}],
        "total": 1,
        "pages": 1,
    }


def test_missing_csrf_token_is_refused(client: t.Any) -> None:
    rv = client.post("/books", data={"title": "Dune", "author": "Frank Herbert"})
    assert rv.status_code == 400
    assert "The CSRF token is missing." in rv.get_data(as_text=True)
    assert client.get("/api/books").json["total"] == 0


def test_invalid_form_shows_the_errors(client: t.Any) -> None:
    token = _csrf_token(client)
    rv = client.post(
        "/books", data={"csrf_token": token, "title": "", "author": "Anon", "year": "soon"}
    )
    assert rv.status_code == 400
    page = rv.get_data(as_text=True)
    assert "This field is required." in page
    assert "Not a valid integer value." in page


def test_duplicate_title_is_a_conflict(client: t.Any) -> None:
    for expected in (302, 409):
        token = _csrf_token(client)
        rv = client.post(
            "/books", data={"csrf_token": token, "title": "Emma", "author": "Jane Austen"}
        )
        assert rv.status_code == expected
    assert "already on the shelf" in rv.get_data(as_text=True)


def test_api_and_not_found(app: t.Any, client: t.Any) -> None:
    from bookshelf.models import Book, db

    with app.app_context():
        db.session.add_all([Book(title=f"Vol {i}", author="A") for i in range(3)])
        db.session.commit()
    assert client.get("/api/books?per_page=2").json["pages"] == 2
    assert client.get("/api/books/2").json["title"] == "Vol 1"
    assert client.delete("/api/books/2").status_code == 204
    assert client.delete("/api/books/2").status_code == 404  # werkzeug.exceptions.NotFound
    assert client.get("/api/books/2").status_code == 404  # abort(404)
    rv = client.get("/books/99")  # db.get_or_404
    assert rv.status_code == 404 and "No such book." in rv.get_data(as_text=True)


def test_the_erlen_command_serves_it_with_compat() -> None:
    rv = subprocess.run(
        [sys.executable, "-m", "erlen", "--compat", "--app", "bookshelf", "routes"],
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rv.returncode == 0, rv.stderr
    assert "books.add" in rv.stdout and "/api/books/<int:book_id>" in rv.stdout
