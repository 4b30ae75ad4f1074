"""A small login manager: who is logged in, and views only they may see.

.. code-block:: python

    from erlen.auth import LoginManager, UserMixin, current_user, login_required, login_user

    login_manager = LoginManager(app)
    login_manager.login_view = "auth.login"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return User.get(int(user_id))

    @app.route("/settings")
    @login_required
    def settings():
        return f"Settings of {current_user.name}"

The names follow Flask-Login. The logged-in user's id is kept in the
session under ``"_user_id"``; :data:`current_user` loads the user through the
``user_loader`` the first time a request uses it and keeps it for the rest of
the request, so a request that never asks costs nothing.

Logging in starts a fresh session: everything stored before is dropped
except pending flashed messages (``"_flashes"``) and the ``permanent`` flag
(``"_permanent"``). A cookie session has no server-side id to change, so
this is what rotating it means: nothing planted in the session before the
login (a CSRF token, a cart, an attacker's values) reaches the logged-in one.
A server-side session (:mod:`erlen.session_stores`) is also given a new id
through the interface's ``regenerate()``, and its old id is deleted from the
store. Logging out clears the session the same way.

``login_user(user, remember=True)`` also sets a *remember-me* cookie
(``remember_token``): the user id, the time it was issued and a binding to
the user's :meth:`~UserMixin.get_remember_token_version`, signed with
HMAC-SHA256 under a key derived from ``SECRET_KEY``, ``HttpOnly`` and
``SameSite=Lax``. When a later request has no login in its session, a valid
cookie younger than ``REMEMBER_COOKIE_DURATION``, whose user's version is
still the one it was made for, logs the user back in and is re-issued with
a new time. Logging out deletes it and calls the user's
:meth:`~UserMixin.revoke_remember_tokens`; a password change changes
:class:`UserMixin`'s default version: either way, copies of the cookie stop
working (issue 15, finding 10; Flask-Login's cookie outlives both).

Settings (``app.config``), with their defaults:

``REMEMBER_COOKIE_NAME`` ``"remember_token"``; ``REMEMBER_COOKIE_DURATION``
365 days (a ``timedelta`` or seconds); ``REMEMBER_COOKIE_DOMAIN`` ``None``;
``REMEMBER_COOKIE_PATH`` ``"/"``; ``REMEMBER_COOKIE_SECURE`` ``False``;
``REMEMBER_COOKIE_HTTPONLY`` ``True``; ``REMEMBER_COOKIE_SAMESITE``
``"Lax"``; ``LOGIN_DISABLED`` ``False`` (``login_required`` lets everyone
through, e.g. in tests).

.. versionadded:: 0.1
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import typing as t
from datetime import timedelta
from functools import wraps
from time import time
from urllib.parse import quote, urlencode, urlsplit

from .exceptions import abort
from .globals import LocalProxy, _cv, _no_app_msg, _no_req_msg
from .security import _derive_keys, _sign, _verify

if t.TYPE_CHECKING:
    from .app import Erlen
    from .ctx import AppContext
    from .wrappers import Response

__all__ = [
    "LoginManager",
    "UserMixin",
    "AnonymousUserMixin",
    "AnonymousUser",
    "current_user",
    "login_user",
    "logout_user",
    "login_required",
    "is_safe_next",
    "safe_next_url",
]

_F = t.TypeVar("_F", bound=t.Callable[..., t.Any])

#: Session keys a login or logout keeps; everything else is dropped.
SURVIVING_SESSION_KEYS = ("_flashes", "_permanent")

#: The methods ``login_required`` lets through without a login: a CORS
#: preflight carries no cookies, so it could never be logged in.
EXEMPT_METHODS = frozenset(("OPTIONS",))

_EXTENSION_KEY = "erlen.auth"
#: The purpose the remember-me key is derived for (see erlen.security).
_REMEMBER_PURPOSE = "erlen.auth remember-me cookie"
#: The purpose of the key that binds a token to the user's version.
_VERSION_PURPOSE = "erlen.auth remember-me version"
#: Where the loaded user and pending cookie work live on ``g``.
_G_USER = "_erlen_login_user"
_G_REMEMBER = "_erlen_remember"


class UserMixin:
    """The attributes :class:`LoginManager` expects of a user object.

    Mix it into your user class; it needs an ``id`` attribute (or override
    :meth:`get_id`). Users compare equal when their ids are equal.

    .. versionadded:: 0.1
    """

    @property
    def is_active(self) -> bool:
        """Whether the account is active (inactive users cannot log in)."""
        return True

    @property
    def is_authenticated(self) -> bool:
        """Whether this is a real user rather than the anonymous one (always
        ``True`` here)."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """Whether this is the anonymous user (always ``False`` here)."""
        return False

    def get_id(self) -> str:
        """The id stored in the session and passed to the ``user_loader``.

        :raises NotImplementedError: The object has no ``id`` attribute;
            override this method.
        """
        try:
            return str(self.id)  # type: ignore[attr-defined]
        except AttributeError:
            raise NotImplementedError(
                "No 'id' attribute on the user: override 'get_id()' to return its id."
            ) from None

    def get_remember_token_version(self) -> str | None:
        """The value this user's remember-me tokens are bound to: when it
        changes, every token made before stops working.

        Override it to return something your app changes to end them all,
        e.g. a per-user "session token" column. The default is a digest of
        the user's ``remember_token_version`` attribute (bumped by
        :meth:`revoke_remember_tokens`) and ``password_hash`` attribute (so
        a password change revokes them), those of the two the user has;
        ``None`` when it has neither: its tokens can't be revoked, only
        expire.

        The value is never put in the cookie, only an HMAC of it.
        """
        version = getattr(self, "remember_token_version", None)
        password_hash = getattr(self, "password_hash", None)
        if version is None and password_hash is None:
            return None
        material = f"{version!r}\x00{password_hash!r}".encode("utf-8", "surrogatepass")
        return hashlib.sha256(material).hexdigest()

    def revoke_remember_tokens(self) -> None:
        """End this user's outstanding remember-me tokens; :func:`logout_user`
        calls it.

        The default adds 1 to the user's ``remember_token_version``
        attribute when it has an integer one (save the user afterwards as
        your storage needs, e.g. commit an ORM session), and does nothing
        otherwise. Override it to change whatever your
        :meth:`get_remember_token_version` returns.
        """
        version = getattr(self, "remember_token_version", None)
        if isinstance(version, int) and not isinstance(version, bool):
            self.remember_token_version = version + 1

    def __eq__(self, other: object) -> bool:
        if isinstance(other, UserMixin):
            return self.get_id() == other.get_id()
        return NotImplemented

    def __hash__(self) -> int:
        # Consistent with __eq__: the same user loaded twice is one set member.
        return hash(self.get_id())


class AnonymousUserMixin:
    """What :data:`current_user` is when nobody is logged in.

    .. versionadded:: 0.1
    """

    @property
    def is_authenticated(self) -> bool:
        """Always ``False``."""
        return False

    @property
    def is_active(self) -> bool:
        """Always ``False``."""
        return False

    @property
    def is_anonymous(self) -> bool:
        """Always ``True``."""
        return True

    def get_id(self) -> None:
        """Anonymous users have no id."""
        return None


class AnonymousUser(AnonymousUserMixin):
    """The default anonymous user class of :class:`LoginManager`.

    .. versionadded:: 0.1
    """

    def __repr__(self) -> str:
        return "<AnonymousUser>"


class LoginManager:
    """Keeps track of the logged-in user for an application.

    Create it with the app, or later with :meth:`init_app` (application
    factories); it stores itself in ``app.extensions["erlen.auth"]`` and adds
    ``current_user`` to every template's context. Register how users are
    loaded with :meth:`user_loader`.

    :param app: The application to set up now, if any.

    .. versionadded:: 0.1
    """

    def __init__(self, app: Erlen | None = None) -> None:
        #: The endpoint (e.g. ``"auth.login"``) or URL path of the login
        #: page that ``login_required`` redirects to. ``None``: answer 401.
        self.login_view: str | None = None
        #: Flashed on that redirect; ``None`` or ``""`` flashes nothing.
        self.login_message: str | None = "Please log in to access this page."
        #: The category of :attr:`login_message`.
        self.login_message_category = "message"
        #: The class instantiated for :data:`current_user` when nobody is
        #: logged in.
        self.anonymous_user: t.Callable[[], t.Any] = AnonymousUser
        self._user_callback: t.Callable[[str], t.Any] | None = None
        self._unauthorized_callback: t.Callable[[], t.Any] | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Erlen) -> None:
        """Set up ``app``: register this manager, the template variable and
        the ``REMEMBER_COOKIE_*`` defaults.

        :param app: The application.
        """
        app.extensions[_EXTENSION_KEY] = self
        config = app.config
        config.setdefault("REMEMBER_COOKIE_NAME", "remember_token")
        config.setdefault("REMEMBER_COOKIE_DURATION", timedelta(days=365))
        config.setdefault("REMEMBER_COOKIE_DOMAIN", None)
        config.setdefault("REMEMBER_COOKIE_PATH", "/")
        config.setdefault("REMEMBER_COOKIE_SECURE", False)
        config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
        config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
        config.setdefault("LOGIN_DISABLED", False)
        app.context_processor(_template_context)

    def user_loader(self, callback: _F) -> _F:
        """Register the function that turns a stored id back into a user.

        It gets the id as a string (what the user's ``get_id()`` returned)
        and returns the user, or ``None`` when there is no such user any
        more (the request is then anonymous).
        """
        self._user_callback = callback
        return callback

    def unauthorized_handler(self, callback: _F) -> _F:
        """Register what ``login_required`` does for an anonymous user instead
        of the redirect or 401; its return value becomes the response."""
        self._unauthorized_callback = callback
        return callback

    def load_user(self, user_id: str) -> t.Any:
        """Call the ``user_loader`` with ``user_id``.

        :raises RuntimeError: No ``user_loader`` is registered.
        """
        if self._user_callback is None:
            raise RuntimeError(
                "The LoginManager has no user loader. Register one with"
                " '@login_manager.user_loader' on a function taking the user id"
                " (a string) and returning the user or None."
            )
        return self._user_callback(user_id)

    def unauthorized(self) -> t.Any:
        """The response for an anonymous user at a ``login_required`` view.

        The ``unauthorized_handler`` if one is registered; else a 401 when
        there is no :attr:`login_view` or the client prefers JSON to HTML
        (``Accept``); else :attr:`login_message` is flashed and the client
        is redirected to the login view with the current path and query as
        ``next``.

        :raises Unauthorized: The 401 case.
        """
        if self._unauthorized_callback is not None:
            return self._unauthorized_callback()
        request = _request_ctx().request
        assert request is not None
        if self.login_view is None or _prefers_json(request.accept_mimetypes):
            abort(401)
        from .helpers import flash, redirect

        if self.login_message:
            flash(self.login_message, self.login_message_category)
        next_url = quote(request.script_root + request.path)
        if request.query_string:
            next_url += "?" + request.query_string.decode("latin-1")
        return redirect(login_url(self.login_view, next_url))


def login_url(login_view: str, next_url: str | None = None) -> str:
    """The URL of ``login_view`` with ``next_url`` in its ``next`` argument.

    :param login_view: An endpoint name, or a URL (starting with ``/``,
        ``http://`` or ``https://``) used as is.
    :param next_url: Where to go after logging in.

    .. versionadded:: 0.1
    """
    if login_view.startswith(("/", "http://", "https://")):
        if next_url is None:
            return login_view
        separator = "&" if "?" in login_view else "?"
        return login_view + separator + urlencode({"next": next_url})
    from .helpers import url_for

    if next_url is None:
        return url_for(login_view)
    return url_for(login_view, next=next_url)


def _prefers_json(accept: t.Any) -> bool:
    # No Accept header (or */*) favors HTML, the first option.
    return bool(accept.best_match(("text/html", "application/json")) == "application/json")


def _template_context() -> dict[str, t.Any]:
    # The proxy, not the user: a template that never mentions current_user
    # never loads it.
    return {"current_user": current_user}


def _request_ctx() -> AppContext:
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(_no_req_msg)
    return ctx


def _manager(app: Erlen) -> LoginManager:
    manager = app.extensions.get(_EXTENSION_KEY)
    if manager is None:
        raise RuntimeError(
            "The app has no LoginManager. Create one with 'LoginManager(app)' or"
            " call 'login_manager.init_app(app)' in the application factory."
        )
    return t.cast(LoginManager, manager)


# -- the remember-me cookie ------------------------------------------------------
#
#     base64url(user id) "." issue time "." binding "." base64url(HMAC-SHA256)
#
# The binding is the HMAC of the user's get_remember_token_version() under a key
# of its own: it shows nothing of the version (which may be derived from the
# password hash), and a token stops working once the version changes. The last
# HMAC covers the other three parts, so a forged cookie is refused before the
# user_loader is asked for anyone. Nothing else is inside: no password hash, no
# session data.


def _duration_seconds(app: Erlen) -> int:
    duration = app.config["REMEMBER_COOKIE_DURATION"]
    if isinstance(duration, timedelta):
        return int(duration.total_seconds())
    return int(duration)


def _remember_keys(app: Erlen) -> list[bytes]:
    return _derive_keys(app.secret_key, app.config.get("SECRET_KEY_FALLBACKS"), _REMEMBER_PURPOSE)


def _version_keys(app: Erlen) -> list[bytes]:
    return _derive_keys(app.secret_key, app.config.get("SECRET_KEY_FALLBACKS"), _VERSION_PURPOSE)


def _version_message(user_id: str, user: t.Any) -> str:
    # No get_remember_token_version (a user class not built on UserMixin), or
    # None: a binding to "no version", which a later version does not match.
    get_version = getattr(user, "get_remember_token_version", None)
    version = get_version() if get_version is not None else None
    return f"{user_id}\x00" + ("-" if version is None else f"={version}")


def _make_remember_token(app: Erlen, user_id: str, user: t.Any = None) -> str:
    encoded_id = base64.urlsafe_b64encode(user_id.encode()).rstrip(b"=").decode("ascii")
    binding = _sign(_version_keys(app)[0], _version_message(user_id, user))
    message = f"{encoded_id}.{int(time())}.{binding}"
    return f"{message}.{_sign(_remember_keys(app)[0], message)}"


def _binding_matches(app: Erlen, token: str, user_id: str, user: t.Any) -> bool:
    """Whether ``token`` (valid, as :func:`_read_remember_token` found) was
    made for ``user``'s current remember-token version."""
    binding = token.split(".")[2]
    return _verify(_version_keys(app), _version_message(user_id, user), binding)


def _read_remember_token(app: Erlen, token: str) -> str | None:
    """The user id in a valid, unexpired token; ``None`` for anything else.
    (Whether it is still bound to the user's version is checked once the
    user is loaded: :func:`_binding_matches`.)"""
    parts = token.split(".")
    if len(parts) != 4:
        return None
    encoded_id, issued, binding, signature = parts
    message = f"{encoded_id}.{issued}.{binding}"
    if not _verify(_remember_keys(app), message, signature):
        return None
    # Signed by us, so well-formed; the checks below guard against a leaked
    # or rotated-away key being the only thing that made it valid.
    if not (issued.isascii() and issued.isdigit()):
        return None
    if time() - int(issued) > _duration_seconds(app):
        return None
    try:
        return base64.urlsafe_b64decode(encoded_id + "=" * (-len(encoded_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def _schedule_remember_cookie(ctx: AppContext, user_id: str | None, user: t.Any = None) -> None:
    """Set (``user_id`` and ``user`` given) or delete (``None``) the cookie on
    this request's response. The last call in a request wins; one
    after-request step applies it (reading the user's version then, so a
    revocation later in the request is seen)."""
    g = ctx.g
    first = _G_REMEMBER not in g
    setattr(g, _G_REMEMBER, None if user_id is None else (user_id, user))
    if first:
        from .ctx import after_this_request

        after_this_request(_apply_remember_cookie)


def _apply_remember_cookie(response: Response) -> Response:
    ctx = _cv.get()
    app = ctx.app
    config = app.config
    scheduled: tuple[str, t.Any] | None = getattr(ctx.g, _G_REMEMBER)
    options = {
        "path": config["REMEMBER_COOKIE_PATH"],
        "domain": config["REMEMBER_COOKIE_DOMAIN"],
        "secure": config["REMEMBER_COOKIE_SECURE"],
        "httponly": config["REMEMBER_COOKIE_HTTPONLY"],
        "samesite": config["REMEMBER_COOKIE_SAMESITE"],
    }
    name = config["REMEMBER_COOKIE_NAME"]
    if scheduled is None:
        response.delete_cookie(name, **options)
    else:
        token = _make_remember_token(app, *scheduled)
        response.set_cookie(name, token, max_age=_duration_seconds(app), **options)
    return response


# -- the current user ----------------------------------------------------------


def _load_user(ctx: AppContext) -> t.Any:
    """The user of this request: from the session's id, else from a valid
    remember-me cookie, else the anonymous user."""
    app = ctx.app
    manager = _manager(app)
    session = ctx.session
    user_id = session.get("_user_id")
    if isinstance(user_id, str):
        user = manager.load_user(user_id)
        # NOTE: an account disabled since the login counts as logged out.
        if user is not None and user.is_active:
            return user
    request = ctx.request
    assert request is not None
    token = request.cookies.get(app.config["REMEMBER_COOKIE_NAME"])
    # Without a secret key no cookie can be checked (and none was set).
    if token is not None and app.secret_key:
        remembered_id = _read_remember_token(app, token)
        user = manager.load_user(remembered_id) if remembered_id is not None else None
        # NOTE: a token made before the user's version changed (a logout, a
        # password change) is revoked, though its signature is good.
        if (
            remembered_id is not None
            and user is not None
            and user.is_active
            and _binding_matches(app, token, remembered_id, user)
        ):
            # A login like login_user's: whatever the session held before
            # (it could have been planted) does not carry over.
            _reset_session(ctx)["_user_id"] = remembered_id
            # Re-issued with a new time, so an active user stays remembered.
            _schedule_remember_cookie(ctx, remembered_id, user)
            return user
        # Forged, expired, revoked, or for a user that is gone: tell the
        # client to drop it.
        _schedule_remember_cookie(ctx, None)
    return manager.anonymous_user()


def _get_user() -> t.Any:
    ctx = _cv.get(None)
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    if ctx.request is None:
        # An app context without a request (a CLI command, a test): nobody
        # is logged in there.
        return _manager(ctx.app).anonymous_user()
    g = ctx.g
    user = g.get(_G_USER)
    if user is None:
        user = _load_user(ctx)
        setattr(g, _G_USER, user)
    return user


#: The logged-in user, or the manager's anonymous user; loaded on first use
#: in a request and kept for the rest of it.
current_user: t.Any = LocalProxy(_get_user)


def _reset_session(ctx: AppContext) -> t.Any:
    """Clear the session except :data:`SURVIVING_SESSION_KEYS`; return it."""
    session = ctx.session
    if ctx.app.session_interface.is_null_session(session):
        return session
    kept = {key: dict.__getitem__(session, key) for key in SURVIVING_SESSION_KEYS if key in session}
    session.clear()
    session.update(kept)
    # A server-side session also gets a new id (the old one is deleted from
    # the store), so an id known before the login never names the logged-in
    # session. getattr: an interface from elsewhere (Flask-Session's) may
    # predate regenerate().
    regenerate = getattr(ctx.app.session_interface, "regenerate", None)
    if regenerate is not None:
        regenerate(session)
    return session


def login_user(user: t.Any, remember: bool = False) -> bool:
    """Log ``user`` in for the rest of this session.

    The session is started afresh (see the module's notes on what survives)
    and keeps the user's ``get_id()`` under ``"_user_id"``.

    :param user: The user; it needs ``is_active`` and ``get_id()`` (see
        :class:`UserMixin`).
    :param remember: Also set the remember-me cookie, so the login outlives
        the browser session. Without it, an existing remember-me cookie is
        deleted (it may belong to someone else).
    :return: ``False`` (and nothing changes) when the user is not active,
        else ``True``.
    :raises RuntimeError: Outside a request, without a ``LoginManager`` or
        without a secret key.

    .. versionadded:: 0.1
    """
    ctx = _request_ctx()
    app = ctx.app
    _manager(app)
    if not user.is_active:
        return False
    if not app.secret_key:
        raise RuntimeError(
            "Logging in needs the session, and the session needs a secret key. Set"
            " 'SECRET_KEY' in the app's config to a long, random, private value."
        )
    user_id = user.get_id()
    if user_id is None:
        raise ValueError("The user's get_id() returned None; an anonymous user cannot log in.")
    user_id = str(user_id)
    session = _reset_session(ctx)
    session["_user_id"] = user_id
    setattr(ctx.g, _G_USER, user)
    request = ctx.request
    assert request is not None
    if remember:
        _schedule_remember_cookie(ctx, user_id, user)
    elif app.config["REMEMBER_COOKIE_NAME"] in request.cookies:
        _schedule_remember_cookie(ctx, None)
    return True


def logout_user() -> bool:
    """Log the current user out: clear the session (see the module's notes),
    delete the remember-me cookie, and revoke the user's remember-me tokens
    (copies of the cookie elsewhere) with its ``revoke_remember_tokens()``
    (see :meth:`UserMixin.revoke_remember_tokens`), if it has one.

    :return: ``True``.
    :raises RuntimeError: Outside a request or without a ``LoginManager``.

    .. versionadded:: 0.1
    """
    ctx = _request_ctx()
    app = ctx.app
    manager = _manager(app)
    user = _get_user()
    if user.is_authenticated:
        revoke = getattr(user, "revoke_remember_tokens", None)
        if revoke is not None:
            revoke()
    _reset_session(ctx)
    setattr(ctx.g, _G_USER, manager.anonymous_user())
    request = ctx.request
    assert request is not None
    if app.config["REMEMBER_COOKIE_NAME"] in request.cookies or _G_REMEMBER in ctx.g:
        _schedule_remember_cookie(ctx, None)
    return True


def login_required(func: _F) -> _F:
    """Decorate a view so only logged-in users reach it.

    Anyone else gets :meth:`LoginManager.unauthorized`: by default a
    redirect to the login view (with ``next``) or a 401. ``OPTIONS``
    requests and apps with ``LOGIN_DISABLED`` pass through. Works for
    ``async`` views too (the coroutine is returned to the app to run).

    .. versionadded:: 0.1
    """

    @wraps(func)
    def decorated_view(*args: t.Any, **kwargs: t.Any) -> t.Any:
        ctx = _request_ctx()
        request = ctx.request
        assert request is not None
        if request.method not in EXEMPT_METHODS and not ctx.app.config.get("LOGIN_DISABLED"):
            if not current_user.is_authenticated:
                return _manager(ctx.app).unauthorized()
        return func(*args, **kwargs)

    return t.cast(_F, decorated_view)


# -- where to go after logging in ------------------------------------------------


def is_safe_next(url: object) -> bool:
    """Whether ``url`` is a safe place to redirect to after logging in.

    Safe are paths on this site (``/account?tab=1``) and, inside a request,
    absolute ``http``/``https`` URLs whose host is the request's host. Not
    safe, so a ``next`` argument can't send users to another site:
    other hosts, scheme-relative ``//host/``, backslashes (browsers read
    ``/\\host`` as ``//host``), other schemes (``javascript:``, ``data:``),
    ``http:host`` without slashes, user info (``http://ours@evil/``),
    control characters and other non-printable or space characters (browsers
    strip some, which can turn ``/\\t/evil`` into ``//evil``), empty values
    and anything not a string.

    :param url: The candidate, usually ``request.args["next"]``.

    .. versionadded:: 0.1
    """
    if not isinstance(url, str) or not url:
        return False
    # isprintable() is False for controls, format characters (e.g. bidi
    # overrides) and every space except U+0020; leading/trailing U+0020 is
    # stripped by browsers, so it is refused too.
    if not url.isprintable() or url.strip() != url or "\\" in url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an invalid IPv6 literal in the host
        return False
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
            return False
        ctx = _cv.get(None)
        if ctx is None or ctx.request is None:
            return False
        return parts.netloc.lower() == ctx.request.host.lower()
    return url.startswith("/") and not url.startswith("//")


def safe_next_url(default: str | None = None) -> str:
    """The ``next`` argument of this request (query string, then form) if
    :func:`is_safe_next` accepts it, else ``default``.

    :param default: Where to go otherwise; the app's root by default.

    .. versionadded:: 0.1
    """
    request = _request_ctx().request
    assert request is not None
    target = request.args.get("next")
    if target is None and request.method in ("POST", "PUT", "PATCH"):
        target = request.form.get("next")
    if is_safe_next(target):
        return t.cast(str, target)
    if default is not None:
        return default
    return request.script_root + "/"
