"""MiniTwit: a small Twitter clone on SQLite, written as an application factory.

Run it from ``examples/minitwit``::

    erlen --app minitwit init-db
    erlen --app minitwit run --debug
"""

from __future__ import annotations

import os
import secrets
import time
import typing as t

from erlen import Erlen, render_template, url_for
from erlen.csrf import CSRFError, CSRFProtect
from erlen.exceptions import HTTPException

__all__ = ["create_app"]


def create_app(test_config: t.Mapping[str, t.Any] | None = None) -> Erlen:
    """Create and configure the app.

    Settings are the defaults below, then ``config.py`` in the instance
    folder (unless testing), then ``test_config``. ``INSTANCE_PATH`` in
    ``test_config`` moves the instance folder (tests use a temporary one).

    :param test_config: Settings for tests.
    """
    instance_path = (test_config or {}).get("INSTANCE_PATH")
    app = Erlen(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_mapping(
        DATABASE=os.path.join(app.instance_path, "minitwit.sqlite"),
        PER_PAGE=30,
        MESSAGE_MAX_LENGTH=280,
        PASSWORD_MIN_LENGTH=8,
        PASSWORD_MAX_LENGTH=256,
        # Erlen's default (scrypt). Tests choose a cheaper one.
        PASSWORD_HASH_METHOD="scrypt",
        # Forms are small; a bigger request is refused (413) before it is read.
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(os.path.join(app.instance_path, "secret_key"))

    from . import auth, db, timeline

    db.init_app(app)
    auth.init_app(app)
    CSRFProtect(app)
    app.register_blueprint(timeline.bp)

    @app.template_filter("datetimeformat")
    def datetimeformat(timestamp: int) -> str:
        """A message's time, in UTC."""
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))

    @app.template_global("avatar_url")
    def avatar_url(username: str) -> str:
        return url_for("timeline.avatar", username=username)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        message = (
            f"{error.description} The form could not be accepted, and nothing was changed."
            " Go back, reload the page and send it again."
        )
        return render_template("error.html", title="Form expired", message=message), 400

    def error_page(error: HTTPException) -> tuple[str, int]:
        return render_template("error.html", title=error.name, message=error.description), t.cast(
            int, error.code
        )

    # The errors a person can run into; others (405 with its Allow header)
    # keep Erlen's own page.
    for code in (400, 404, 413):
        app.register_error_handler(code, error_page)

    @app.after_request
    def security_headers(response: t.Any) -> t.Any:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        # Same-origin requests keep their Referer (the CSRF check over HTTPS
        # needs it); other sites learn nothing.
        headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app


def _secret_key(path: str) -> str:
    """The key in ``path``; a new random one (readable by the owner only) if
    there is none, so no checkout ever runs with a key everyone knows."""
    if os.path.exists(path):
        with open(path, encoding="ascii") as f:
            key = f.read().strip()
        if key:
            return key
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key)
    return key
