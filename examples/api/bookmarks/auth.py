"""Accounts and bearer tokens: register, log in for a token, log out."""

from __future__ import annotations

from erlen import Blueprint, abort, current_app, g, request
from erlen.exceptions import Unauthorized
from erlen.security import check_password_hash, generate_password_hash
from erlen.typed import doc, input, output, security

from .schemas import Credentials, TokenOut, UserOut
from .store import Store, User

bp = Blueprint("auth", __name__, url_prefix="/auth")

#: The response every view that needs a token documents.
NEEDS_TOKEN = doc(responses={401: "No token, or an unknown or expired one"})


def store() -> Store:
    return current_app.extensions["bookmarks_store"]


def load_user() -> User:
    """The user whose token the request carries, on ``g.user``; else a 401."""
    auth = request.authorization
    user = None
    if auth is not None and auth.type == "bearer" and auth.token:
        user = store().user_for_token(auth.token)
    if user is None:
        raise Unauthorized(
            "Send a valid token: Authorization: Bearer <token>.", www_authenticate="Bearer"
        )
    g.user = user
    return user


@bp.post("/users")
@input(Credentials)
@output(UserOut, status=201)
@doc(responses={409: "The username is taken"})
@security()
def register(body: Credentials):
    """Create an account."""
    password_hash = generate_password_hash(
        body.password, current_app.config["PASSWORD_HASH_METHOD"]
    )
    user = store().add_user(body.username, password_hash)
    if user is None:
        abort(409, "The username is taken.")
    return user


@bp.post("/tokens")
@input(Credentials)
@output(TokenOut, status=201)
@doc(responses={401: "Wrong username or password"})
@security()
def login(body: Credentials):
    """Log in: trade a username and password for a bearer token."""
    user = store().users.get(body.username)
    if user is None or not check_password_hash(user.password_hash, body.password):
        raise Unauthorized("Wrong username or password.", www_authenticate="Bearer")
    lifetime = current_app.config["TOKEN_LIFETIME"]
    return {"access_token": store().new_token(user, lifetime), "expires_in": lifetime}


@bp.delete("/tokens")
@output(None, status=204)
@NEEDS_TOKEN
def logout():
    """Log out: the token sent with this request stops working."""
    load_user()
    store().revoke(request.authorization.token)
    return ""
