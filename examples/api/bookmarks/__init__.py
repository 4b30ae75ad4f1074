"""A small REST API: bookmarks with tags, behind a token login.

Typed views (:mod:`erlen.typed`) check what comes in and shape what goes
out; :mod:`erlen.openapi` serves the spec at ``/openapi.json`` and the
reference page at ``/docs``. Run it with ``erlen --app bookmarks run``.
"""

from __future__ import annotations

import typing as t

from erlen import Erlen, redirect, url_for
from erlen.exceptions import HTTPException
from erlen.openapi import OpenAPI, bearer_auth
from erlen.typed import doc, problem_details

from .store import Store


def create_app(config: dict[str, t.Any] | None = None) -> Erlen:
    app = Erlen(__name__)
    app.config.from_mapping(
        # Seconds a token from POST /auth/tokens works.
        TOKEN_LIFETIME=3600,
        PASSWORD_HASH_METHOD="scrypt",
    )
    if config:
        app.config.update(config)
    app.extensions["bookmarks_store"] = Store()

    from . import auth, views

    app.register_blueprint(auth.bp)
    app.register_blueprint(views.bookmarks)
    app.register_blueprint(views.tags)
    # Every HTTP error (401, 404, 409...) as RFC 9457 problem details, like
    # the input errors: the body the spec documents for them.
    app.register_error_handler(HTTPException, problem_details)

    @app.get("/")
    @doc(hide=True)
    def index():
        return redirect(url_for("openapi_docs"))

    OpenAPI(
        app,
        title="Bookmarks",
        version="1.0",
        description="Save links with tags. Register, log in for a token, then"
        " send it as `Authorization: Bearer <token>`.",
        security_schemes={"token": bearer_auth()},
        security=["token"],
        tags=[
            {"name": "auth", "description": "Accounts and tokens."},
            {"name": "bookmarks", "description": "Your saved links."},
            {"name": "tags", "description": "The tags on your links."},
        ],
    )
    return app
