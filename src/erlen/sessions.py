"""Sessions stored in a signed cookie.

The default :class:`SecureCookieSessionInterface` keeps the whole session in
one cookie, signed (not encrypted) with ``SECRET_KEY``: the client can read
the data but not change it. The cookie format is Flask's (itsdangerous'
``URLSafeTimedSerializer`` over tagged JSON, salt ``"cookie-session"``, HMAC
key derivation and SHA-1), so Flask and Erlen apps sharing a secret key share
their sessions; Erlen signs and verifies it with the standard library
(:mod:`erlen.signing`). Message flashing, which keeps its messages in the
session, is in :mod:`erlen.helpers`, as in Flask.

The app opens the session lazily, the first time a request uses ``session``,
and saves it after the request only when it was opened; a request that never
touches it pays nothing. Replace ``app.session_interface`` with a subclass of
:class:`SessionInterface` to store sessions elsewhere; :mod:`erlen.session_stores`
has Redis and SQLite ones.

.. versionadded:: 0.1
"""

from __future__ import annotations

import typing as t
from collections.abc import MutableMapping
from datetime import UTC, datetime
from operator import itemgetter

from ._utils import defined_once
from .datastructures import CallbackDict
from .http import dump_cookie, http_date
from .http.cookies import _cookie_value
from .json.tag import TaggedJSONSerializer
from .signing import _CookieSerializer, _Invalid, _LazySha1
from .wrappers import Request as _Request
from .wrappers import Response

if t.TYPE_CHECKING:
    from .app import Erlen
    from .wrappers import Request

__all__ = [
    "SessionMixin",
    "SecureCookieSession",
    "NullSession",
    "SessionInterface",
    "SecureCookieSessionInterface",
    "session_json_serializer",
]


class SessionMixin(MutableMapping[str, t.Any]):
    """What every session object offers on top of a mapping.

    The flags default to ``True`` so a session class that does not track
    changes is always saved and always counted as read.

    .. versionadded:: 0.1
    """

    @property
    def permanent(self) -> bool:
        """Whether the cookie outlives the browser session.

        A permanent session's cookie expires ``PERMANENT_SESSION_LIFETIME``
        after it was last written; a non-permanent one when the browser
        closes. Stored in the session under the ``"_permanent"`` key.
        """
        return self.get("_permanent", False)  # type: ignore[no-any-return]

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)

    #: Whether the session was just created rather than loaded. The cookie
    #: interface leaves it ``False``; other backends may use it.
    new = False

    #: Whether the data changed and must be saved.
    modified = True

    #: Whether the data was read or written; the response then gets
    #: ``Vary: Cookie`` so shared caches keep it apart.
    accessed = True


def _on_update(session: SecureCookieSession) -> None:
    session.modified = True
    session.accessed = True


class SecureCookieSession(CallbackDict[str, t.Any], SessionMixin):
    """The session of :class:`SecureCookieSessionInterface`: a dict that tracks use.

    Writing through the dict's own methods sets :attr:`modified` and
    :attr:`accessed`; reading sets :attr:`accessed`. A change *inside* a
    mutable value (``session["cart"].append(x)``) is invisible to the dict:
    set ``session.modified = True`` yourself so it is saved.

    :param initial: The data loaded from the cookie.

    .. versionadded:: 0.1
    """

    #: Set by writes; the cookie interface then writes the cookie.
    modified = False

    #: Set by reads and writes; the response then varies on ``Cookie``.
    accessed = False

    def __init__(
        self, initial: t.Mapping[str, t.Any] | t.Iterable[tuple[str, t.Any]] | None = None
    ) -> None:
        # PERF: what CallbackDict.__init__ does, without the super() calls;
        # one module-level callback instead of a closure per session.
        if initial is None:
            dict.__init__(self)
        else:
            dict.__init__(self, initial)
        self.on_update = _on_update  # type: ignore[assignment]  # it takes this class, a CallbackDict

    # NOTE: Flask marks only item reads, get() and setdefault() as accesses.
    # Erlen also counts membership tests, iteration and len(): the response
    # depends on the cookie just as much after `if "user" in session`, so it
    # needs `Vary: Cookie` too.

    def __getitem__(self, key: str) -> t.Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: t.Any = None) -> t.Any:
        """Return the value of ``key`` or ``default``; marks the session accessed."""
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key: str, default: t.Any = None) -> t.Any:
        """Return ``key``'s value, storing ``default`` first when it is missing."""
        self.accessed = True
        return super().setdefault(key, default)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return dict.__contains__(self, key)

    def __iter__(self) -> t.Iterator[str]:
        self.accessed = True
        return dict.__iter__(self)

    def __len__(self) -> int:
        self.accessed = True
        return dict.__len__(self)

    def keys(self) -> t.KeysView[str]:  # type: ignore[override]
        """The keys; marks the session accessed."""
        self.accessed = True
        return dict.keys(self)

    def values(self) -> t.ValuesView[t.Any]:  # type: ignore[override]
        """The values; marks the session accessed."""
        self.accessed = True
        return dict.values(self)

    def items(self) -> t.ItemsView[str, t.Any]:  # type: ignore[override]
        """The items; marks the session accessed."""
        self.accessed = True
        return dict.items(self)


class NullSession(SecureCookieSession):
    """The session used when sessions can't work (no ``SECRET_KEY``).

    It reads as an empty session, so code that only checks it keeps working;
    any write raises :class:`RuntimeError` explaining what to configure.

    .. versionadded:: 0.1
    """

    def _fail(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise RuntimeError(
            "The session is unavailable because the application has no secret key."
            " Set 'SECRET_KEY' in the app's config (app.secret_key) to a long, random,"
            " private value, e.g. the output of"
            " 'python -c \"import secrets; print(secrets.token_hex())\"'."
        )

    # `|=` goes through update(), so it fails too.
    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail


class SessionInterface:
    """How the app loads and stores sessions; subclass it for another backend.

    Implement :meth:`open_session` and :meth:`save_session`; the ``get_cookie_*``
    helpers read the app's ``SESSION_COOKIE_*`` settings. The app calls
    :meth:`open_session` the first time a request uses the session, falls
    back to :meth:`make_null_session` when that returns ``None``, and after
    the request calls :meth:`save_session` unless :meth:`is_null_session`
    says the session is a null one.

    .. versionadded:: 0.1
    """

    #: The class :meth:`make_null_session` instantiates.
    null_session_class: type[SessionMixin] = NullSession

    #: Whether the backend pickles session data. Informational; the cookie
    #: interface uses tagged JSON.
    pickle_based = False

    def make_null_session(self, app: Erlen) -> SessionMixin:
        """The session to use when :meth:`open_session` gave none.

        :param app: The application.
        """
        return self.null_session_class()

    def is_null_session(self, obj: object) -> bool:
        """Whether ``obj`` is a null session (which is never saved).

        :param obj: A session object.
        """
        return isinstance(obj, self.null_session_class)

    def get_cookie_name(self, app: Erlen) -> str:
        """The cookie's name: ``SESSION_COOKIE_NAME``.

        :param app: The application.
        """
        return app.config["SESSION_COOKIE_NAME"]  # type: ignore[no-any-return]

    def get_cookie_domain(self, app: Erlen) -> str | None:
        """The cookie's ``Domain``: ``SESSION_COOKIE_DOMAIN`` (``None``: this host only).

        :param app: The application.
        """
        return app.config["SESSION_COOKIE_DOMAIN"]  # type: ignore[no-any-return]

    def get_cookie_path(self, app: Erlen) -> str:
        """The cookie's ``Path``: ``SESSION_COOKIE_PATH``, else ``APPLICATION_ROOT``.

        :param app: The application.
        """
        return app.config["SESSION_COOKIE_PATH"] or app.config["APPLICATION_ROOT"]  # type: ignore[no-any-return]

    def get_cookie_httponly(self, app: Erlen) -> bool:
        """Whether the cookie is ``HttpOnly``: ``SESSION_COOKIE_HTTPONLY``.

        :param app: The application.
        """
        return app.config["SESSION_COOKIE_HTTPONLY"]  # type: ignore[no-any-return]

    def get_cookie_secure(self, app: Erlen) -> bool:
        """Whether the cookie is ``Secure``: ``SESSION_COOKIE_SECURE``.

        :param app: The application.
        """
        return app.config["SESSION_COOKIE_SECURE"]  # type: ignore[no-any-return]

    def get_cookie_samesite(self, app: Erlen) -> str | None:
        """The cookie's ``SameSite``: ``SESSION_COOKIE_SAMESITE``.

        :param app: The application.
        """
        return app.config["SESSION_COOKIE_SAMESITE"]  # type: ignore[no-any-return]

    def get_cookie_partitioned(self, app: Erlen) -> bool:
        """Whether the cookie is ``Partitioned``: ``SESSION_COOKIE_PARTITIONED``.

        :param app: The application.
        """
        return app.config["SESSION_COOKIE_PARTITIONED"]  # type: ignore[no-any-return]

    def get_expiration_time(self, app: Erlen, session: SessionMixin) -> datetime | None:
        """When the cookie expires: now plus ``PERMANENT_SESSION_LIFETIME``
        for a permanent session, ``None`` (end of the browser session) otherwise.

        :param app: The application.
        :param session: The session being saved.
        """
        if session.permanent:
            return datetime.now(UTC) + app.permanent_session_lifetime
        return None

    def should_set_cookie(self, app: Erlen, session: SessionMixin) -> bool:
        """Whether :meth:`save_session` should send the cookie.

        True when the session was modified, or when it is permanent and
        ``SESSION_REFRESH_EACH_REQUEST`` is on (each response then pushes the
        expiry forward).

        :param app: The application.
        :param session: The session being saved.
        """
        return session.modified or (
            session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]
        )

    def regenerate(self, session: SessionMixin) -> None:
        """Give ``session`` a new id, so an id known before (a login, say)
        no longer names it.

        The cookie session has no id: clearing it is the rotation, and this
        does nothing. Server-side interfaces (:mod:`erlen.session_stores`)
        replace the id and delete the old one from their store.

        :param session: The current session.
        """

    def _send_cookie(
        self, app: Erlen, response: Response, value: str, expires: datetime | None
    ) -> None:
        # The general path: every setting through its getter, then Vary.
        response.set_cookie(
            self.get_cookie_name(app),
            value,
            expires=expires,
            httponly=self.get_cookie_httponly(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            partitioned=self.get_cookie_partitioned(app),
            samesite=self.get_cookie_samesite(app),
        )
        response._add_vary("Cookie")

    def _delete_cookie(self, app: Erlen, response: Response) -> None:
        # With the settings the cookie was set with, or the browser keeps it.
        response.delete_cookie(
            self.get_cookie_name(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            partitioned=self.get_cookie_partitioned(app),
            samesite=self.get_cookie_samesite(app),
            httponly=self.get_cookie_httponly(app),
        )
        response._add_vary("Cookie")

    def open_session(self, app: Erlen, request: Request) -> SessionMixin | None:
        """Load the session for ``request``.

        :param app: The application.
        :param request: The current request.
        :return: The session, or ``None`` when sessions are unavailable (the
            app then uses :meth:`make_null_session`).
        """
        raise NotImplementedError()

    def save_session(self, app: Erlen, session: SessionMixin, response: Response) -> None:
        """Store the session, usually by setting a cookie on ``response``.

        Not called for a null session.

        :param app: The application.
        :param session: The session.
        :param response: The response about to be sent.
        """
        raise NotImplementedError()


#: The tagged JSON serializer the cookie interface uses by default.
session_json_serializer = TaggedJSONSerializer()


#: The cookie getters of :class:`SessionInterface`; a subclass overriding any
#: of them gets no cached cookie settings.
_COOKIE_GETTERS = (
    "get_cookie_name",
    "get_cookie_domain",
    "get_cookie_path",
    "get_cookie_httponly",
    "get_cookie_secure",
    "get_cookie_samesite",
    "get_cookie_partitioned",
)

#: Per interface class: whether it keeps all of :data:`_COOKIE_GETTERS`.
_stock_getters: dict[type, bool] = {}

#: Per app class: whether ``permanent_session_lifetime`` is Erlen's own (the
#: ``PERMANENT_SESSION_LIFETIME`` setting, converted to a timedelta): no
#: subclass redefines it.
_stock_lifetime: dict[type, bool] = {}

#: Per interface class: whether it keeps SessionInterface's should_set_cookie()
#: and get_expiration_time().
_stock_expiry: dict[type, bool] = {}

#: :meth:`Response.set_cookie <erlen.wrappers.Response.set_cookie>` and
#: :attr:`~erlen.wrappers.Response.max_cookie_size` as Erlen defines them (a
#: response class overriding either gets the general path).
_STOCK_SET_COOKIE = Response.set_cookie
_STOCK_MAX_COOKIE_SIZE = Response.__dict__["max_cookie_size"]

#: :attr:`Request.cookies <erlen.wrappers.Request.cookies>` as Erlen defines it.
_STOCK_COOKIES = _Request.__dict__["cookies"]

#: The settings :meth:`SecureCookieSessionInterface.open_session` reads, in
#: one call (PERF: one C call for four config lookups).
_OPEN_SETTINGS = itemgetter(
    "SECRET_KEY", "SECRET_KEY_FALLBACKS", "SESSION_COOKIE_NAME", "PERMANENT_SESSION_LIFETIME"
)

#: The keys get_signing_serializer() reads (and compares with its cached ones).
_KEY_SETTINGS = itemgetter("SECRET_KEY", "SECRET_KEY_FALLBACKS")

#: The settings the cookie getters read, in one call, as a template keeps
#: them (:attr:`_CookieTemplate.raw`).
_COOKIE_SETTINGS = itemgetter(
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_PATH",
    "APPLICATION_ROOT",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_PARTITIONED",
)

#: Per (interface class, app class): whether open_session() may read its
#: settings straight from the config (see :func:`_is_plain_open`).
_plain_open: dict[tuple[type, type], bool] = {}


def _is_plain_open(cls: type, app_cls: type) -> bool:
    """Whether the interface class keeps get_signing_serializer() and
    get_cookie_name(), and the app class secret_key and
    permanent_session_lifetime (all read straight from the config then)."""
    plain = (
        getattr(cls, "get_signing_serializer", None)
        is SecureCookieSessionInterface.get_signing_serializer
        and getattr(cls, "get_cookie_name", None) is SessionInterface.get_cookie_name
        and defined_once(app_cls, "secret_key")
        and defined_once(app_cls, "permanent_session_lifetime")
    )
    _plain_open[cls, app_cls] = plain
    return plain


#: Stands for the ``Expires`` date when a cookie template is made (a
#: template is only kept when it occurs exactly once in the header).
_EXPIRES_MARK = "ErlenExpiresMark"


class _CookieTemplate(t.NamedTuple):
    """The ``Set-Cookie`` value for some cookie settings, around the cookie's value.

    ``prefix + value + suffix`` is what :func:`~erlen.http.dump_cookie` makes
    of a value needing no quotes, without an expiry date, and ``prefix +
    value + expires_head + http_date(expires) + expires_tail`` with one. Made
    by dump_cookie itself, from a stand-in value and expiry date.
    """

    #: The settings it was made for: name, domain, path, httponly, secure,
    #: samesite, partitioned.
    settings: tuple[t.Any, ...]
    #: The config values they come from (:data:`_COOKIE_SETTINGS`), compared on each use.
    raw: tuple[t.Any, ...]
    prefix: str
    suffix: str
    expires_head: str
    expires_tail: str

    def header(self, value: str, expires: datetime | None) -> str:
        """The ``Set-Cookie`` value for ``value`` (needing no quotes) and ``expires``."""
        if expires is None:
            return self.prefix + value + self.suffix
        return self.prefix + value + self.expires_head + http_date(expires) + self.expires_tail


def _make_cookie_template(
    settings: tuple[t.Any, ...], raw: tuple[t.Any, ...] = ()
) -> _CookieTemplate | None:
    """The template for ``settings`` (see :meth:`SecureCookieSessionInterface._cookie_settings`),
    or ``None`` when dump_cookie rejects them (the general path then raises
    its error) or the stand-ins don't come out as expected."""
    name, domain, path, httponly, secure, samesite, partitioned = settings
    kwargs = {
        "path": path,
        "domain": domain,
        "secure": secure,
        "httponly": httponly,
        "samesite": samesite,
        "partitioned": partitioned,
        "max_size": 0,
    }
    try:
        plain = dump_cookie(name, "x", **kwargs)
        timed = dump_cookie(name, "x", expires=_EXPIRES_MARK, **kwargs)
    except Exception:  # noqa: BLE001 - the general path reports it
        return None
    # The name can't hold "=" (dump_cookie rejects it), so the first one
    # ends it; the value "x" is written as is.
    end = plain.find("=") + 1
    if end <= 0 or plain[end : end + 1] != "x":
        return None
    prefix = plain[:end]
    parts = timed.split(_EXPIRES_MARK)
    if (
        len(parts) != 2
        or not parts[0].startswith(prefix + "x")
        or not parts[0].endswith("Expires=")
    ):
        return None
    return _CookieTemplate(settings, raw, prefix, plain[end + 1 :], parts[0][end + 1 :], parts[1])


class SecureCookieSessionInterface(SessionInterface):
    """Keep the session in a cookie signed with the app's secret key.

    Needs ``SECRET_KEY``; without it the app gets a :class:`NullSession`.
    Cookies signed with a key in ``SECRET_KEY_FALLBACKS`` are still accepted
    (to rotate keys without logging everyone out), but new cookies are always
    signed with ``SECRET_KEY``. A cookie that is older than
    ``PERMANENT_SESSION_LIFETIME``, tampered with or unreadable gives a new,
    empty session.

    .. versionadded:: 0.1
    """

    #: Salt mixed into the signing key, so a value signed for another
    #: purpose with the same secret key is not a valid session.
    salt = "cookie-session"
    #: Hash function of the signature: :func:`hashlib.sha1`. Override with
    #: ``staticmethod(hashlib.sha256)`` and the like.
    digest_method: t.Any = _LazySha1()
    #: How the signing key is derived from the secret key and salt.
    key_derivation = "hmac"
    #: Turns the session dict into text and back (tagged JSON).
    serializer = session_json_serializer
    #: The class of the session objects.
    session_class: type[SecureCookieSession] = SecureCookieSession

    _cached_serializer: tuple[t.Any, t.Any, _CookieSerializer] | None = None
    # PERF: the cookie template last made, and the raw lifetime setting
    # last converted with its value in seconds. Each replaced whole, so
    # threads never see half an update.
    _cookie_template: _CookieTemplate | None = None
    _max_age_cache: tuple[t.Any, int] = (None, 0)

    def _cookie_settings(self, app: Erlen) -> _CookieTemplate | None:
        """The ``Set-Cookie`` template for the app's current cookie settings,
        or ``None`` when a cookie getter is overridden (then the getters
        decide, on every save).

        PERF: reading the settings through the seven getters and building
        the header with dump_cookie costs more than signing the cookie. The
        settings are read straight from the config (what the getters do),
        and the header around the value is made once per distinct settings.
        """
        cls = type(self)
        stock = _stock_getters.get(cls)
        if stock is None:
            stock = _stock_getters[cls] = all(
                getattr(cls, name) is getattr(SessionInterface, name) for name in _COOKIE_GETTERS
            )
        if not stock:
            return None
        raw = _COOKIE_SETTINGS(app.config)
        template = self._cookie_template
        # Equal settings give the same header: dump_cookie only compares,
        # formats or tests the truth of them.
        if template is None or template.raw != raw:
            name, domain, path, root, httponly, secure, samesite, partitioned = raw
            settings = (name, domain, path or root, httponly, secure, samesite, partitioned)
            template = _make_cookie_template(settings, raw)
            if template is None:
                return None
            self._cookie_template = template
        return template

    def _max_age(self, app: Erlen) -> int:
        """``PERMANENT_SESSION_LIFETIME`` in whole seconds.

        PERF: converted once per setting value (compared by identity; a
        timedelta or number can't change in place), unless the app class
        computes ``permanent_session_lifetime`` its own way.
        """
        cls = type(app)
        stock = _stock_lifetime.get(cls)
        if stock is None:
            stock = _stock_lifetime[cls] = defined_once(cls, "permanent_session_lifetime")
        if not stock:
            return int(app.permanent_session_lifetime.total_seconds())
        raw = app.config["PERMANENT_SESSION_LIFETIME"]
        cached = self._max_age_cache
        if cached[0] is raw and raw is not None:
            return cached[1]
        max_age = int(app.permanent_session_lifetime.total_seconds())
        self._max_age_cache = (raw, max_age)
        return max_age

    def get_signing_serializer(self, app: Erlen) -> t.Any | None:
        """The serializer that signs and verifies cookies, or ``None`` when
        the app has no secret key.

        It makes the tokens itsdangerous' ``URLSafeTimedSerializer`` makes with
        the same settings, and has its ``dumps(obj)`` and ``loads(s,
        max_age=None)``; ``loads`` raises itsdangerous' ``BadSignature`` (or
        ``BadPayload``) for a bad token. Built once per (``SECRET_KEY``,
        ``SECRET_KEY_FALLBACKS``) pair and kept on the interface.

        :param app: The application.
        """
        secret_key = app.secret_key
        if not secret_key:
            return None
        fallbacks = app.config["SECRET_KEY_FALLBACKS"]
        # PERF: Flask builds the serializer on every request; Erlen keeps it
        # until one of the keys changes. A list of fallbacks is compared by
        # value, so mutating it in place is noticed too.
        cached = self._cached_serializer
        if cached is not None and cached[0] == secret_key and cached[1] == fallbacks:
            return cached[2]
        # Oldest to newest, as itsdangerous takes them: the last key signs,
        # all of them verify.
        keys: list[str | bytes] = [*(fallbacks or ()), secret_key]
        serializer = _CookieSerializer(
            keys, self.salt, self.serializer, self.key_derivation, self.digest_method
        )
        # A copy of a list, so a later in-place change compares unequal.
        snapshot = list(fallbacks) if isinstance(fallbacks, list) else fallbacks
        self._cached_serializer = (secret_key, snapshot, serializer)
        return serializer

    def open_session(self, app: Erlen, request: Request) -> SecureCookieSession | None:
        """Load the session from the request's cookie.

        :param app: The application.
        :param request: The current request.
        :return: The session (a new empty one when there is no valid
            cookie), or ``None`` without a secret key.
        """
        plain = _plain_open.get((type(self), type(app)))
        if plain is None:
            plain = _is_plain_open(type(self), type(app))
        if plain:
            # PERF: what get_signing_serializer(), get_cookie_name() and
            # _max_age() read, in one call, and their cached results.
            secret_key, fallbacks, name, lifetime = _OPEN_SETTINGS(app.config)
            if not secret_key:
                return None
            cached = self._cached_serializer
            s: t.Any
            if cached is not None and cached[0] == secret_key and cached[1] == fallbacks:
                s = cached[2]
            else:
                s = self.get_signing_serializer(app)
            cached_age = self._max_age_cache
            max_age = (
                cached_age[1]
                if cached_age[0] is lifetime and lifetime is not None
                else self._max_age(app)
            )
        else:
            s = self.get_signing_serializer(app)
            if s is None:
                return None
            name = self.get_cookie_name(app)
            max_age = self._max_age(app)
        # (The class test first: a caller may pass the request proxy.)
        if (
            getattr(type(request), "cookies", None) is _STOCK_COOKIES
            and "cookies" not in request.__dict__
        ):
            # PERF: only the session's cookie, from the raw header; the
            # others are parsed if and when the app reads request.cookies.
            header = request._cookie_header
            value = _cookie_value(header, name) if header else None
        else:
            value = request.cookies.get(name)
        if not value:
            return self.session_class()
        if type(s) is _CookieSerializer:
            # PERF: no exception objects, and no itsdangerous, for a bad cookie.
            try:
                data = s._loads(value, max_age)[0]
            except _Invalid:
                # Whatever is wrong with the cookie (signature, age,
                # encoding, content), it is the client's problem: start over.
                return self.session_class()
            if not isinstance(data, dict):
                return self.session_class()
            return self.session_class(data)
        # A serializer from an overridden get_signing_serializer().
        try:
            data = s.loads(value, max_age=max_age)
        except Exception as e:
            # PERF: imported on this error path only, not per request.
            from itsdangerous import BadData

            if not isinstance(e, BadData):
                raise
            # A bad cookie is the client's problem, not a server error:
            # whatever is wrong with it (signature, age, encoding, content),
            # start over.
            return self.session_class()
        if not isinstance(data, dict):
            # Signed with our key but not a session (e.g. the same salt used
            # elsewhere by mistake).
            return self.session_class()
        return self.session_class(data)

    def save_session(self, app: Erlen, session: SessionMixin, response: Response) -> None:
        """Set, refresh or delete the session cookie on ``response``.

        An emptied session deletes the cookie; otherwise the cookie is
        written when :meth:`should_set_cookie` says so. ``Vary: Cookie`` is
        added whenever the session was accessed or the cookie is written.

        :param app: The application.
        :param session: The session.
        :param response: The response about to be sent.
        """
        # Read the flag first: the checks below read the session too.
        accessed = session.accessed
        if isinstance(session, dict):
            empty = not dict.__len__(session)
        else:
            empty = not len(session)
        if empty:
            if session.modified:
                self._delete_cookie(app, response)
            elif accessed:
                response._add_vary("Cookie")
            return
        cls = type(self)
        # PERF: with the stock should_set_cookie() and get_expiration_time(),
        # read the permanent flag once instead of in each of them.
        stock_expiry = _stock_expiry.get(cls)
        if stock_expiry is None:
            stock_expiry = _stock_expiry[cls] = (
                cls.should_set_cookie is SessionInterface.should_set_cookie
                and cls.get_expiration_time is SessionInterface.get_expiration_time
            )
        if stock_expiry:
            # PERF: the flag straight from the dict for the stock class.
            permanent = (
                dict.get(session, "_permanent", False)
                if type(session) is SecureCookieSession
                else session.permanent
            )
            if not (session.modified or (permanent and app.config["SESSION_REFRESH_EACH_REQUEST"])):
                if accessed:
                    response._add_vary("Cookie")
                return
        elif not self.should_set_cookie(app, session):
            if accessed:
                response._add_vary("Cookie")
            return
        plain = _plain_open.get((cls, type(app)))
        if plain is None:
            plain = _is_plain_open(cls, type(app))
        cached = self._cached_serializer
        if plain and cached is not None and _KEY_SETTINGS(app.config) == cached[:2]:
            # PERF: what get_signing_serializer() returns, read as open_session() does.
            s: t.Any = cached[2]
        else:
            s = self.get_signing_serializer(app)
            if s is None:  # the secret key was removed during the request
                return
        # PERF: a plain copy through dict's own items view; copying the
        # session itself would go through the overridden __iter__/__getitem__.
        data = dict(dict.items(session)) if isinstance(session, dict) else dict(session)
        template = self._cookie_settings(app)
        if (
            template is not None
            and type(s) is _CookieSerializer
            and s.is_text_serializer
            and type(response).set_cookie is _STOCK_SET_COOKIE
        ):
            # PERF: the header response.set_cookie() would add, from the
            # template. The token is URL-safe base64 and dots, which cookie
            # values hold unquoted.
            token = s.dumps(data)
            if not stock_expiry:
                expires = self.get_expiration_time(app, session)
            elif permanent:
                expires = datetime.now(UTC) + app.permanent_session_lifetime
            else:
                expires = None
            header = None
            if expires is None or type(expires) is datetime:
                header = template.header(token, expires)
            if header is not None:
                response_cls = type(response)
                if response_cls.max_cookie_size is _STOCK_MAX_COOKIE_SIZE:
                    # PERF: what the stock property reads, without finding the context.
                    max_size = app.config["MAX_COOKIE_SIZE"]
                else:
                    max_size = response.max_cookie_size
                if not max_size or len(header) <= max_size:
                    # PERF: what set_cookie() adds, and Vary, in one call
                    # (the token is base64, the rest came from dump_cookie).
                    response._add_cookie_header(header)
                    return
            # Anything else (an expiry that isn't a datetime, a cookie over
            # the size limit, which warns) goes through set_cookie.
            response.set_cookie(
                template.settings[0],
                token,
                expires=expires,
                httponly=template.settings[3],
                domain=template.settings[1],
                path=template.settings[2],
                secure=template.settings[4],
                partitioned=template.settings[6],
                samesite=template.settings[5],
            )
            response._add_vary("Cookie")
            return
        self._send_cookie(app, response, s.dumps(data), self.get_expiration_time(app, session))
