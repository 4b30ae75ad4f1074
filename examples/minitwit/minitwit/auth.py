"""Accounts: register, log in, log out (the ``auth`` blueprint), and the user loader."""

from __future__ import annotations

import re
import sqlite3
import typing as t

from erlen import Blueprint, Erlen, current_app, flash, redirect, render_template, request, url_for
from erlen.auth import LoginManager, UserMixin, current_user, login_user, logout_user, safe_next_url
from erlen.security import check_password_hash, generate_password_hash

from .db import get_db, query_db

__all__ = ["bp", "User", "init_app", "RESERVED_NAMES"]

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"

#: 1–30 letters, digits, '.', '_' or '-', starting with a letter or digit (so
#: a name is a clean URL path segment and never "." or "..").
USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,29}")
#: Something before and after one "@", a dot in the domain, no spaces.
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: First path segments the app uses itself; a user of that name would have
#: no reachable timeline.
RESERVED_NAMES = frozenset(
    ("login", "logout", "register", "public", "add_message", "avatar", "static")
)


class User(UserMixin):
    """A row of the ``user`` table, as ``erlen.auth`` wants it."""

    def __init__(self, row: sqlite3.Row) -> None:
        self.id: int = row["user_id"]
        self.username: str = row["username"]
        self.email: str = row["email"]
        #: What remember-me cookies are bound to (``UserMixin`` reads it).
        self.remember_token_version: int = row["remember_token_version"]

    def revoke_remember_tokens(self) -> None:
        """End the remember-me cookies made so far (``logout_user`` calls it).

        Stored in the database: ``UserMixin``'s default only changes the
        attribute, and each request loads the user afresh.
        """
        db = get_db()
        db.execute(
            "UPDATE user SET remember_token_version = remember_token_version + 1 WHERE user_id = ?",
            [self.id],
        )
        db.commit()
        self.remember_token_version += 1


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user with this id (from the session), or ``None``."""
    if not user_id.isdigit():
        return None
    row = query_db("SELECT * FROM user WHERE user_id = ?", [int(user_id)], one=True)
    return User(row) if row is not None else None


_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    # Checked against when the user name is unknown, so a wrong name takes as
    # long as a wrong password and timing doesn't tell which names exist.
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash("not a password", method)
    return _dummy_hashes[method]


def _register_error(username: str, email: str, password: str, password2: str) -> str | None:
    config = current_app.config
    if not username:
        return "You have to enter a username."
    if not USERNAME_RE.fullmatch(username):
        return "User names are 1 to 30 letters, digits, '.', '_' or '-', starting with a letter or digit."
    if username.lower() in RESERVED_NAMES:
        return "The username is already taken."
    if not email or len(email) > 254 or not EMAIL_RE.fullmatch(email):
        return "You have to enter a valid email address."
    if not password:
        return "You have to enter a password."
    if len(password) < config["PASSWORD_MIN_LENGTH"]:
        return f"Passwords need at least {config['PASSWORD_MIN_LENGTH']} characters."
    if len(password) > config["PASSWORD_MAX_LENGTH"]:
        return f"Passwords can have at most {config['PASSWORD_MAX_LENGTH']} characters."
    if password != password2:
        return "The two passwords do not match."
    if query_db("SELECT 1 FROM user WHERE username = ?", [username], one=True) is not None:
        return "The username is already taken."
    return None


@bp.route("/register", methods=("GET", "POST"))
def register() -> t.Any:
    """Create an account, then go to the login page."""
    if current_user.is_authenticated:
        return redirect(url_for("timeline.home"))
    form = request.form
    username = form.get("username", "").strip()
    email = form.get("email", "").strip()
    error = None
    if request.method == "POST":
        password = form.get("password", "")
        error = _register_error(username, email, password, form.get("password2", ""))
        if error is None:
            db = get_db()
            try:
                db.execute(
                    "INSERT INTO user (username, email, pw_hash) VALUES (?, ?, ?)",
                    [
                        username,
                        email,
                        generate_password_hash(
                            password, current_app.config["PASSWORD_HASH_METHOD"]
                        ),
                    ],
                )
                db.commit()
            except sqlite3.IntegrityError:
                # Someone took the name between the check and the insert.
                error = "The username is already taken."
            else:
                flash("You were successfully registered and can log in now.")
                return redirect(url_for("auth.login"))
    page = render_template("register.html", error=error, username=username, email=email)
    return page, 400 if error else 200


@bp.route("/login", methods=("GET", "POST"))
def login() -> t.Any:
    """Log in with user name and password; back to ``next`` or the timeline."""
    if current_user.is_authenticated:
        return redirect(url_for("timeline.home"))
    username = request.form.get("username", "").strip()
    error = None
    if request.method == "POST":
        password = request.form.get("password", "")
        row = (
            query_db("SELECT * FROM user WHERE username = ?", [username], one=True)
            if username
            else None
        )
        if row is None:
            check_password_hash(_dummy_hash(), password)
            error = "Invalid username or password."
        elif not check_password_hash(row["pw_hash"], password):
            error = "Invalid username or password."
        else:
            login_user(User(row), remember=bool(request.form.get("remember")))
            flash("You were logged in.")
            return redirect(safe_next_url(url_for("timeline.home")))
    return render_template("login.html", error=error, username=username), 400 if error else 200


@bp.post("/logout")
def logout() -> t.Any:
    """Log out (a POST, so another site can't log people out with a link)."""
    logout_user()
    flash("You were logged out.")
    return redirect(url_for("timeline.public"))


def init_app(app: Erlen) -> None:
    """Set up the login manager and the blueprint."""
    login_manager.init_app(app)
    app.register_blueprint(bp)
