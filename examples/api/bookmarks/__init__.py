"""A small REST API: bookmarks with tags, behind a token login.

Typed views (:mod:`erlen.typed`) check what comes in and shape what goes
out; :mod:`erlen.openapi` serves the spec at ``/openapi.json`` and the
reference page at ``/docs``. Run it with ``erlen --app bookmarks run``.
"""

from __future__ import annotations

import json
import typing as t

from erlen import Erlen, redirect, url_for
from erlen.exceptions import HTTPException
from erlen.openapi import OpenAPI, bearer_auth
from erlen.typed import ProblemDetails, doc

from .store import Store


def problem(error: HTTPException):
    """Every HTTP error as RFC 9457 problem details, like the input errors."""
    if isinstance(error, ProblemDetails):
        return error
    response = error.get_response()  # keeps WWW-Authenticate, Allow...
    body = {
        "type": "about:blank",
        "title": error.name,
        "status": error.code,
        "detail": error.description,
    }
    response.set_data(json.dumps(body))
    response.content_type = "application/problem+json"
    return response


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
    app.register_error_handler(HTTPException, problem)

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
