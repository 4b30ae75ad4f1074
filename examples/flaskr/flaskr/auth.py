"""Registering, logging in and out, with Erlen's password hashes and login manager."""

from __future__ import annotations

import re
import sqlite3
import typing as t
from dataclasses import dataclass

from erlen import Blueprint, Erlen, current_app, flash, redirect, render_template, request, url_for
from erlen.auth import (
    LoginManager,
    UserMixin,
    login_required,
    login_user,
    logout_user,
    safe_next_url,
)
from erlen.security import check_password_hash, generate_password_hash

from .db import get_db

__all__ = ["bp", "User", "init_app"]

bp = Blueprint("auth", __name__, url_prefix="/auth")
login_manager = LoginManager()
login_manager.login_view = "auth.login"

#: Letters, digits and ``. _ -``; anything else (spaces, markup) is refused.
_USERNAME = re.compile(r"[\w.-]+")
#: Checked against a hash when the user name is unknown, so a login takes
#: as long for a missing user as for a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password")


@dataclass(frozen=True)
class User(UserMixin):
    """A registered user (the password hash stays in the database)."""

    id: int
    username: str
    #: What remember-me cookies are bound to (``UserMixin`` reads it); see
    #: :meth:`revoke_remember_tokens`.
    remember_token_version: int = 0

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> User:
        """The user of a ``user`` row."""
        return cls(row["id"], row["username"], row["remember_token_version"])

    @classmethod
    def get(cls, user_id: int) -> User | None:
        """The user with this id, or ``None``."""
        row = (
            get_db()
            .execute(
                "SELECT id, username, remember_token_version FROM user WHERE id = ?", (user_id,)
            )
            .fetchone()
        )
        return cls.from_row(row) if row is not None else None

    def revoke_remember_tokens(self) -> None:
        """End the remember-me cookies made so far (``logout_user`` calls it).

        Stored in the database: ``UserMixin``'s default only changes the
        attribute, and each request loads the user afresh.
        """
        db = get_db()
        db.execute(
            "UPDATE user SET remember_token_version = remember_token_version + 1 WHERE id = ?",
            (self.id,),
        )
        db.commit()


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user a session names; a stale or tampered id is just nobody."""
    return User.get(int(user_id)) if user_id.isdigit() else None


def init_app(app: Erlen) -> None:
    """Set up the login manager for ``app``."""
    login_manager.init_app(app)


def _form_field(name: str) -> str:
    value = str(request.form.get(name, ""))
    return value.strip() if name == "username" else value


def _check_registration(username: str, password: str) -> str | None:
    """What is wrong with a registration form, or ``None``."""
    config = current_app.config
    if not username:
        return "Username is required."
    if len(username) > config["USERNAME_MAX_LENGTH"]:
        return f"Username is limited to {config['USERNAME_MAX_LENGTH']} characters."
    if not _USERNAME.fullmatch(username):
        return "Username may use letters, digits, dots, dashes and underscores only."
    if not password:
        return "Password is required."
    if len(password) < config["PASSWORD_MIN_LENGTH"]:
        return f"Password must be at least {config['PASSWORD_MIN_LENGTH']} characters."
    if len(password) > config["PASSWORD_MAX_LENGTH"]:
        return f"Password is limited to {config['PASSWORD_MAX_LENGTH']} characters."
    return None


@bp.route("/register", methods=("GET", "POST"))
def register() -> t.Any:
    """Show the registration form; on a valid post, create the user."""
    if request.method == "POST":
        username, password = _form_field("username"), _form_field("password")
        error = _check_registration(username, password)
        if error is None:
            db = get_db()
            try:
                db.execute(
                    "INSERT INTO user (username, password) VALUES (?, ?)",
                    (username, generate_password_hash(password)),
                )
                db.commit()
            except sqlite3.IntegrityError:
                error = f"User {username} is already registered."
            else:
                flash(f"Welcome, {username}! Log in to start writing.", "success")
                # The login form comes filled in with the name just registered.
                return redirect(url_for("auth.login", username=username))
        flash(error, "error")
        return render_template("auth/register.html", username=username), 400
    return render_template("auth/register.html", username="")


@bp.route("/login", methods=("GET", "POST"))
def login() -> t.Any:
    """Show the login form; on a valid post, log the user in and go on to ``next``."""
    if request.method == "POST":
        username, password = _form_field("username"), _form_field("password")
        row = None
        if username and len(username) <= current_app.config["USERNAME_MAX_LENGTH"]:
            row = get_db().execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()
        # One message for an unknown user and a wrong password: the form
        # shouldn't tell a stranger which user names exist.
        password_ok = check_password_hash(row["password"] if row else _DUMMY_HASH, password[:1024])
        if row is not None and password_ok:
            login_user(User.from_row(row), remember=request.form.get("remember") == "on")
            flash(f"Logged in as {row['username']}.", "success")
            return redirect(safe_next_url(url_for("blog.index")))
        flash("Incorrect username or password.", "error")
        return render_template("auth/login.html", username=username), 400
    # ``?username=`` (from registering) fills in the name; the template escapes
    # it, and a value no registration could have made is ignored.
    username = request.args.get("username", "").strip()
    if len(username) > current_app.config["USERNAME_MAX_LENGTH"] or not _USERNAME.fullmatch(
        username
    ):
        username = ""
    return render_template("auth/login.html", username=username)


@bp.post("/logout")
@login_required
def logout() -> t.Any:
    """Log out (a POST, so another site can't log a reader out with a link)."""
    logout_user()
    flash("You are logged out.", "success")
    return redirect(url_for("blog.index"))
