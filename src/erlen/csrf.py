"""Protection against cross-site request forgery for form posts.

.. code-block:: python

    from erlen.csrf import CSRFProtect

    csrf = CSRFProtect(app)

.. code-block:: html+jinja

    <form method="post">
      <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
      ...
    </form>

Every ``POST``, ``PUT``, ``PATCH`` and ``DELETE`` request must then carry a
valid token, in the form field ``csrf_token`` or in an ``X-CSRFToken`` or
``X-CSRF-Token`` header (for JavaScript clients); otherwise the request ends
with :class:`CSRFError`, a 400 whose description says what was wrong. Mark
views or whole blueprints that must accept posts from elsewhere (webhooks,
token-authenticated APIs) with :meth:`CSRFProtect.exempt`.

How the token works: the session keeps a random value under
``"csrf_token"``; a token is the time it was made and the HMAC-SHA256 of
that value and time, under a key derived from ``SECRET_KEY``. A token is
valid only with the session it was made for and only for
``CSRF_TIME_LIMIT`` seconds. Logging in with :func:`erlen.auth.login_user`
starts a new session, so tokens made before the login stop working.

Requests over HTTPS must also send a ``Referer`` of the same origin
(scheme, host and port), as Flask-WTF does by default: an attacker's page on
another origin can't post even with a token it somehow learned. Turn it off
with ``CSRF_SSL_STRICT = False`` (e.g. for clients sending
``Referrer-Policy: no-referrer``).

Settings (``app.config``), with their defaults: ``CSRF_ENABLED`` ``True``
(``False`` turns all checks off, e.g. in tests); ``CSRF_CHECK_DEFAULT``
``True`` (``False``: check only where a view calls
:meth:`CSRFProtect.protect`); ``CSRF_TIME_LIMIT`` 3600 (seconds; ``None``:
as long as the session); ``CSRF_METHODS`` ``{"POST", "PUT", "PATCH",
"DELETE"}``; ``CSRF_FIELD_NAME`` ``"csrf_token"``; ``CSRF_HEADERS``
``["X-CSRFToken", "X-CSRF-Token"]``; ``CSRF_SSL_STRICT`` ``True``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import secrets
import typing as t
from time import time
from urllib.parse import urlsplit

from .exceptions import BadRequest
from .globals import _cv, _no_req_msg
from .security import _derive_keys, _sign, _verify

if t.TYPE_CHECKING:
    from .app import Erlen
    from .blueprints import Blueprint
    from .ctx import AppContext

__all__ = ["CSRFError", "CSRFProtect", "generate_csrf", "validate_csrf"]

_F = t.TypeVar("_F", bound=t.Callable[..., t.Any])

_EXTENSION_KEY = "erlen.csrf"
#: The purpose the signing key is derived for (see erlen.security); also
#: what the error for a missing secret key names.
_PURPOSE = "CSRF protection"
#: Where this request's session value and token are kept on ``g``, so all
#: forms of a page share one token.
_G_TOKEN = "_erlen_csrf_token"
#: The session key of the random per-session value.
SESSION_KEY = "csrf_token"
#: The attribute :meth:`CSRFProtect.exempt` puts on a view function: a tuple
#: of the marks of the ``CSRFProtect`` objects that exempt it.
_EXEMPT_ATTR = "_erlen_csrf_exempt"
#: How deep the ``__wrapped__`` chain of a view is searched for that mark.
_MAX_WRAPPED_DEPTH = 100

_DEFAULTS: dict[str, t.Any] = {
    "CSRF_ENABLED": True,
    "CSRF_CHECK_DEFAULT": True,
    "CSRF_TIME_LIMIT": 3600,
    "CSRF_METHODS": frozenset(("POST", "PUT", "PATCH", "DELETE")),
    "CSRF_FIELD_NAME": "csrf_token",
    "CSRF_HEADERS": ("X-CSRFToken", "X-CSRF-Token"),
    "CSRF_SSL_STRICT": True,
}


class CSRFError(BadRequest):
    """*400 Bad Request*: the CSRF check failed; the description says why.

    Handle it with ``@app.errorhandler(CSRFError)`` to show a friendlier
    page (e.g. "the form expired, please submit it again").

    .. versionadded:: 0.1
    """

    description = "The CSRF token is missing or invalid."


def _request_ctx() -> AppContext:
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(_no_req_msg)
    return ctx


def _config(app: Erlen, name: str) -> t.Any:
    # Works also when CSRFProtect was never set up (generate_csrf used alone).
    return app.config.get(name, _DEFAULTS[name])


def _keys(app: Erlen) -> list[bytes]:
    return _derive_keys(app.secret_key, app.config.get("SECRET_KEY_FALLBACKS"), _PURPOSE)


def _is_session_value(value: object) -> bool:
    return (
        isinstance(value, str) and len(value) == 40 and all(c in "0123456789abcdef" for c in value)
    )


def generate_csrf() -> str:
    """The CSRF token for forms in this request (``csrf_token()`` in templates).

    Creates the session's random value on first use. Calls in one request
    return the same token.

    :raises RuntimeError: Outside a request, or the app has no secret key.

    .. versionadded:: 0.1
    """
    ctx = _request_ctx()
    g = ctx.g
    keys = _keys(ctx.app)
    session = ctx.session
    value = session.get(SESSION_KEY)
    cached: tuple[str, str] | None = g.get(_G_TOKEN)
    # NOTE: the cache is keyed by the session value, so a session cleared in
    # this request (login_user() does that) gets a token for its new value.
    if cached is not None and cached[0] == value:
        return cached[1]
    if not _is_session_value(value):
        value = secrets.token_hex(20)
        session[SESSION_KEY] = value
    issued = str(int(time()))
    token = f"{issued}.{_sign(keys[0], f'{value}.{issued}')}"
    setattr(g, _G_TOKEN, (value, token))
    return token


def validate_csrf(token: object, time_limit: int | None | t.Literal[False] = False) -> None:
    """Check a CSRF token against the current session.

    :param token: The token the client sent (``None`` when it sent none).
    :param time_limit: Seconds a token stays valid; ``None`` for no limit;
        by default ``CSRF_TIME_LIMIT``.
    :raises CSRFError: The token is missing, malformed, made for another
        session or key, or expired; also when the session has no CSRF value
        (it expired or was cleared by a login).
    :raises RuntimeError: Outside a request, or the app has no secret key.

    .. versionadded:: 0.1
    """
    ctx = _request_ctx()
    app = ctx.app
    keys = _keys(app)
    if not token:
        raise CSRFError("The CSRF token is missing.")
    value = ctx.session.get(SESSION_KEY)
    if not _is_session_value(value):
        raise CSRFError(
            "The CSRF session token is missing. The session may have expired; reload the page and try again."
        )
    if not isinstance(token, str) or token.count(".") != 1:
        raise CSRFError("The CSRF token is invalid.")
    issued, signature = token.split(".")
    if not _verify(keys, f"{value}.{issued}", signature) or not (
        issued.isascii() and issued.isdigit()
    ):
        raise CSRFError("The CSRF token is invalid.")
    if time_limit is False:
        time_limit = _config(app, "CSRF_TIME_LIMIT")
    if time_limit is not None and time() - int(issued) > time_limit:
        raise CSRFError("The CSRF token has expired. Reload the page and try again.")


class CSRFProtect:
    """Checks the CSRF token of every state-changing request to an app.

    Create it with the app, or later with :meth:`init_app`. It registers
    ``csrf_token()`` as a template global and a ``before_request`` check,
    and stores itself in ``app.extensions["erlen.csrf"]``.

    :param app: The application to set up now, if any.

    .. versionadded:: 0.1
    """

    def __init__(self, app: Erlen | None = None) -> None:
        # NOTE: views are exempted by a mark they carry, unique to this
        # object, not by name: view functions made by one factory (all of
        # View.as_view's, before they got their own __qualname__) share a
        # module and qualified name, and exempting one by name exempted all
        # of them (issue 15, finding 1). Names given as strings stay names.
        self._mark = object()
        self._exempt_views: set[str] = set()
        self._exempt_blueprints: set[str] = set()
        self._exempt_blueprint_objects: list[Blueprint] = []
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Erlen) -> None:
        """Set up CSRF protection for ``app``.

        :param app: The application.
        """
        app.extensions[_EXTENSION_KEY] = self
        for name, value in _DEFAULTS.items():
            app.config.setdefault(name, value)
        app.add_template_global(generate_csrf, "csrf_token")
        app.before_request(self._check_request)

    def exempt(self, view: _F | Blueprint | str) -> _F | Blueprint | str:
        """Exclude a view function, a whole blueprint (with the blueprints
        nested in it), or a view or blueprint given by name from the check.

        A view function is marked: only that function is exempt, not
        others of the same name (two ``as_view`` functions of one class, or
        two functions made by one factory, are two views). The mark may sit
        on either side of other decorators that use
        :func:`functools.wraps` (the registered function and the functions
        it wraps, through ``__wrapped__``, are looked at). A bound method's
        mark goes on its function, so it holds for every instance.

        A string with a dot is a view's module and qualified name
        (``"app.views.webhook"``; ``"app.views.Webhook.hook"`` for
        ``Webhook.as_view("hook")``) and exempts every view of that name;
        without a dot, a registered blueprint's name.

        .. code-block:: python

            @app.post("/hook")
            @csrf.exempt
            def hook(): ...

            csrf.exempt(api_blueprint)

        :return: ``view`` (a function carries the mark as an attribute).
        :raises TypeError: ``view`` cannot carry the mark (it takes no
            attributes); exempt it by name.
        """
        from .blueprints import Blueprint

        if isinstance(view, Blueprint):
            self._exempt_blueprint_objects.append(view)
        elif isinstance(view, str):
            (self._exempt_views if "." in view else self._exempt_blueprints).add(view)
        else:
            _add_mark(view, self._mark)
        return view

    def _is_exempt(self, app: Erlen, endpoint: str, blueprints: list[str]) -> bool:
        for name in blueprints:
            if name in self._exempt_blueprints:
                return True
            blueprint = app.blueprints.get(name)
            if any(blueprint is bp for bp in self._exempt_blueprint_objects):
                return True
        view = app.view_functions.get(endpoint)
        if view is None:
            return False
        if self._exempt_views and _view_name(view) in self._exempt_views:
            return True
        return _has_mark(view, self._mark)

    def _check_request(self) -> None:
        ctx = _request_ctx()
        request = ctx.request
        assert request is not None
        app = ctx.app
        config = app.config
        # PERF: the method test first; most requests are GETs and stop here.
        if request.method not in config["CSRF_METHODS"]:
            return
        if not config["CSRF_ENABLED"] or not config["CSRF_CHECK_DEFAULT"]:
            return
        endpoint = request.endpoint
        if endpoint is None:
            # No view matched: routing's own 404/405 answers the request.
            return
        if self._is_exempt(app, endpoint, request.blueprints):
            return
        self.protect()

    def protect(self) -> None:
        """Check this request now: the token, and for HTTPS the ``Referer``.

        The ``before_request`` check calls it; call it yourself in views
        when ``CSRF_CHECK_DEFAULT`` is off.

        :raises CSRFError: The check failed.
        """
        ctx = _request_ctx()
        request = ctx.request
        assert request is not None
        if not _config(ctx.app, "CSRF_ENABLED"):
            return
        validate_csrf(_token_from_request(ctx))
        if request.is_secure and _config(ctx.app, "CSRF_SSL_STRICT"):
            referrer = request.referrer
            if not referrer:
                raise CSRFError("The referrer header is missing.")
            if not _same_origin(referrer, f"https://{request.host}"):
                raise CSRFError("The referrer does not match the host.")


def _view_name(view: t.Callable[..., t.Any]) -> str:
    return f"{getattr(view, '__module__', '')}.{getattr(view, '__qualname__', repr(view))}"


def _add_mark(view: t.Callable[..., t.Any], mark: object) -> None:
    # A bound method is made anew on each attribute access; its function is
    # what stays the same.
    target = getattr(view, "__func__", view)
    marks = getattr(target, _EXEMPT_ATTR, ())
    if mark in marks:
        return
    try:
        # A new tuple, not an update in place: a wrapper made earlier by
        # functools.wraps holds a copy of this attribute and keeps its own.
        setattr(target, _EXEMPT_ATTR, (*marks, mark))
    except (AttributeError, TypeError):
        raise TypeError(
            f"csrf.exempt() cannot mark {view!r}: it takes no attributes. Exempt it by its"
            " module and qualified name (a string), or register a function that calls it."
        ) from None


def _has_mark(view: t.Callable[..., t.Any], mark: object) -> bool:
    """Whether ``view``, or a function it wraps (``__wrapped__``), carries ``mark``."""
    func: t.Any = view
    for _ in range(_MAX_WRAPPED_DEPTH):
        if mark in getattr(func, _EXEMPT_ATTR, ()):
            return True
        func = getattr(func, "__wrapped__", None)
        if func is None:
            return False
    return False


def _token_from_request(ctx: AppContext) -> str | None:
    request = ctx.request
    assert request is not None
    app = ctx.app
    token = request.form.get(_config(app, "CSRF_FIELD_NAME"))
    if token:
        return t.cast(str, token)
    for header in _config(app, "CSRF_HEADERS"):
        value = request.headers.get(header)
        if value:
            return t.cast(str, value)
    return None


def _same_origin(url: str, origin: str) -> bool:
    try:
        a = urlsplit(url)
        b = urlsplit(origin)
        return a.scheme == b.scheme and a.hostname == b.hostname and a.port == b.port
    except ValueError:  # a port that isn't a number, a broken IPv6 literal
        return False
