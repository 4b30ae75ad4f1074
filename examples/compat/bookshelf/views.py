"""The pages and a small JSON API."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound

from .forms import BookForm
from .models import Book, db

bp = Blueprint("books", __name__)


@bp.route("/")
def index() -> str:
    books = db.session.execute(db.select(Book).order_by(Book.title)).scalars()
    return render_template("index.html", books=books, form=BookForm())


@bp.route("/books", methods=["POST"])
def add() -> object:
    form = BookForm()
    if not form.validate_on_submit():
        books = db.session.execute(db.select(Book).order_by(Book.title)).scalars()
        return render_template("index.html", books=books, form=form), 400
    if db.session.execute(db.select(Book).filter_by(title=form.title.data)).first():
        form.title.errors.append("That book is already on the shelf.")
        books = db.session.execute(db.select(Book).order_by(Book.title)).scalars()
        return render_template("index.html", books=books, form=form), 409
    book = Book(title=form.title.data, author=form.author.data, year=form.year.data)
    db.session.add(book)
    db.session.commit()
    flash(f"Added {book.title}.")
    return redirect(url_for("books.detail", book_id=book.id))


@bp.route("/books/<int:book_id>")
def detail(book_id: int) -> str:
    book = db.get_or_404(Book, book_id, description="No such book.")
    return render_template("detail.html", book=book)


@bp.route("/api/books")
def api_list() -> object:
    page = db.paginate(
        db.select(Book).order_by(Book.id), per_page=request.args.get("per_page", 20, type=int)
    )
    return jsonify(books=[b.to_dict() for b in page.items], total=page.total, pages=page.pages)


@bp.route("/api/books/<int:book_id>", methods=["DELETE"])
def api_delete(book_id: int) -> object:
    book = db.session.get(Book, book_id)
    if book is None:
        raise NotFound()
    db.session.delete(book)
    db.session.commit()
    return "", 204


@bp.route("/api/books/<int:book_id>")
def api_detail(book_id: int) -> object:
    book = db.session.get(Book, book_id)
    if book is None:
        abort(404)
    return book.to_dict()
