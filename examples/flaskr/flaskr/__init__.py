"""Flaskr: a small microblog on SQLite, written as an application factory.

Run it from ``examples/flaskr``::

    erlen --app flaskr init-db
    erlen --app flaskr run --debug
"""

from __future__ import annotations

import os
import secrets
import typing as t

from erlen import Erlen, render_template
from erlen.csrf import CSRFError, CSRFProtect

__all__ = ["create_app"]


def create_app(
    test_config: t.Mapping[str, t.Any] | None = None, instance_path: str | None = None
) -> Erlen:
    """Create and configure the app.

    Settings come from the defaults below, then ``config.py`` in the instance
    folder (when not testing), then ``test_config``.

    :param test_config: Settings for tests; replaces the instance config.
    :param instance_path: The instance folder (database, secret key);
        ``instance`` beside the package by default.
    """
    if instance_path is None:
        # ``examples/flaskr/instance``, beside the package as in Flask's layout
        # (named here because Erlen's default for a package is inside it).
        instance_path = os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "instance"
        )
    app = Erlen(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_mapping(
        DATABASE=os.path.join(app.instance_path, "flaskr.sqlite"),
        # Form posts are small; anything bigger is refused with a 413 before it is read.
        MAX_CONTENT_LENGTH=64 * 1024,
        USERNAME_MAX_LENGTH=40,
        PASSWORD_MIN_LENGTH=8,
        PASSWORD_MAX_LENGTH=256,
        TITLE_MAX_LENGTH=120,
        BODY_MAX_LENGTH=10_000,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)

    if app.config.get("SESSION_TYPE"):
        # Server-side sessions instead of the signed cookie: "redis" with
        # SESSION_REDIS = "redis://host:6379/0" lets several servers share them.
        from erlen.session_stores import Session

        Session(app)

    from . import auth, blog, db

    db.init_app(app)
    auth.init_app(app)
    CSRFProtect(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(blog.bp)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_template(
            "error.html",
            title="Form expired",
            message=(
                "This form was sent without a valid security token (it may have been open too long,"
                " or you logged in or out in another tab). Nothing was saved: go back, reload the"
                " page and send it again."
            ),
        ), 400

    @app.errorhandler(403)
    def forbidden(error: Exception) -> tuple[str, int]:
        return render_template(
            "error.html", title="Forbidden", message="Only its author may change a post."
        ), 403

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        return render_template(
            "error.html", title="Not found", message="There is no such page or post."
        ), 404

    @app.errorhandler(413)
    def too_large(error: Exception) -> tuple[str, int]:
        return render_template(
            "error.html",
            title="Too large",
            message="That form was far too large to accept; nothing was saved.",
        ), 413

    return app


def _instance_secret_key(instance_path: str) -> str:
    """A random secret key kept in the instance folder, made on first use.

    So a fresh checkout never runs with a well-known key, and sessions
    survive restarts. A deployment sets ``SECRET_KEY`` in ``config.py``.
    """
    path = os.path.join(instance_path, "secret_key")
    try:
        with open(path, encoding="ascii") as f:
            key = f.read().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    # Readable by the owner only: the key signs every session cookie.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key)
    return key
