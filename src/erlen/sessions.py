"""Sessions stored in a signed cookie, and message flashing on top of them.

The default :class:`SecureCookieSessionInterface` keeps the whole session in
one cookie, signed (not encrypted) with ``SECRET_KEY``: the client can read
the data but not change it. The cookie format is Flask's (itsdangerous'
``URLSafeTimedSerializer`` over tagged JSON, salt ``"cookie-session"``, HMAC
key derivation and SHA-1), so Flask and Erlen apps sharing a secret key share
their sessions.

The app opens the session lazily, the first time a request uses ``session``,
and saves it after the request only when it was opened; a request that never
touches it pays nothing. Replace ``app.session_interface`` with a subclass of
:class:`SessionInterface` to store sessions elsewhere.

.. versionadded:: 0.1
"""

from __future__ import annotations

import typing as t
from collections.abc import MutableMapping
from datetime import datetime, timezone

from . import signals as _signals
from .datastructures import CallbackDict
from .globals import _cv, _no_req_msg
from .json.tag import TaggedJSONSerializer

if t.TYPE_CHECKING:
    from itsdangerous import URLSafeTimedSerializer

    from .app import Erlen
    from .wrappers import Request, Response

__all__ = [
    "SessionMixin",
    "SecureCookieSession",
    "NullSession",
    "SessionInterface",
    "SecureCookieSessionInterface",
    "session_json_serializer",
    "flash",
    "get_flashed_messages",
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

    def __init__(self, initial: t.Mapping[str, t.Any] | t.Iterable[tuple[str, t.Any]] | None = None) -> None:
        # PERF: one module-level callback instead of a closure per session.
        super().__init__(initial, _on_update)

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
    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail  # type: ignore[assignment]


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
            return datetime.now(timezone.utc) + app.permanent_session_lifetime
        return None

    def should_set_cookie(self, app: Erlen, session: SessionMixin) -> bool:
        """Whether :meth:`save_session` should send the cookie.

        True when the session was modified, or when it is permanent and
        ``SESSION_REFRESH_EACH_REQUEST`` is on (each response then pushes the
        expiry forward).

        :param app: The application.
        :param session: The session being saved.
        """
        return session.modified or (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"])

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


def _vary_on_cookie(response: Response) -> None:
    """Add ``Cookie`` to the response's ``Vary`` header, once."""
    headers = response.headers
    current = headers.getlist("Vary")
    if not current:
        # PERF: nothing to merge with or replace; appending is enough.
        headers.add("Vary", "Cookie")
        return
    tokens = [token.strip() for value in current for token in value.split(",") if token.strip()]
    for token in tokens:
        if token == "*" or token.lower() == "cookie":
            return
    tokens.append("Cookie")
    headers.set("Vary", ", ".join(tokens))


_serializer_cls: type[URLSafeTimedSerializer] | None = None


def _serializer_class() -> type[URLSafeTimedSerializer]:
    """itsdangerous' ``URLSafeTimedSerializer``, reusing its signer and derived keys.

    Same format and checks as the plain class; built on first use so
    ``import erlen`` doesn't import itsdangerous.
    """
    global _serializer_cls
    if _serializer_cls is not None:
        return _serializer_cls
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class _KeyCachingSigner(TimestampSigner):
        # PERF: the key derived from a secret key and the salt never changes,
        # yet itsdangerous derives it again (one more HMAC) for every sign
        # and verify. Keep the results, at most a handful of keys.
        def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
            super().__init__(*args, **kwargs)
            self._derived: dict[str | bytes | None, bytes] = {}

        def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
            derived = self._derived.get(secret_key)
            if derived is None:
                derived = super().derive_key(secret_key)
                if len(self._derived) < 16:
                    self._derived[secret_key] = derived
            return derived

    class _SessionCookieSerializer(URLSafeTimedSerializer):
        default_signer = _KeyCachingSigner
        _signer: TimestampSigner | None = None

        def make_signer(self, salt: str | bytes | None = None) -> TimestampSigner:
            # PERF: itsdangerous makes a new signer for every dumps/loads; the
            # keys and options are fixed for this serializer, so keep one.
            if salt is None or salt == self.salt:
                signer = self._signer
                if signer is None:
                    signer = self._signer = t.cast(TimestampSigner, super().make_signer(salt))
                return signer
            return t.cast(TimestampSigner, super().make_signer(salt))

    _serializer_cls = _SessionCookieSerializer
    return _serializer_cls


class _LazySha1:
    """A class attribute that is :func:`hashlib.sha1` itself, imported on first read.

    PERF: importing hashlib (OpenSSL) is a large part of ``import erlen``'s
    cost, and only apps that use the session need it. The real constructor
    (not a wrapper function) is handed out, since hmac takes its fast OpenSSL
    path only for hashlib's own constructors.
    """

    def __get__(self, obj: object, objtype: type | None = None) -> t.Callable[..., t.Any]:
        import hashlib

        return hashlib.sha1


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

    _cached_serializer: tuple[t.Any, t.Any, URLSafeTimedSerializer] | None = None

    def get_signing_serializer(self, app: Erlen) -> URLSafeTimedSerializer | None:
        """The itsdangerous serializer that signs and verifies cookies, or
        ``None`` when the app has no secret key.

        Built once per (``SECRET_KEY``, ``SECRET_KEY_FALLBACKS``) pair and kept
        on the interface.

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
        # itsdangerous signs with the last key and verifies with all of them.
        keys: list[str | bytes] = [*(fallbacks or ()), secret_key]
        serializer = _serializer_class()(
            keys,
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method},
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
        s = self.get_signing_serializer(app)
        if s is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
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
                response.delete_cookie(
                    self.get_cookie_name(app),
                    domain=self.get_cookie_domain(app),
                    path=self.get_cookie_path(app),
                    secure=self.get_cookie_secure(app),
                    partitioned=self.get_cookie_partitioned(app),
                    samesite=self.get_cookie_samesite(app),
                    httponly=self.get_cookie_httponly(app),
                )
                _vary_on_cookie(response)
            elif accessed:
                _vary_on_cookie(response)
            return
        if not self.should_set_cookie(app, session):
            if accessed:
                _vary_on_cookie(response)
            return
        s = self.get_signing_serializer(app)
        if s is None:  # the secret key was removed during the request
            return
        # PERF: a plain copy through dict's own items view; copying the
        # session itself would go through the overridden __iter__/__getitem__.
        data = dict(dict.items(session)) if isinstance(session, dict) else dict(session)
        response.set_cookie(
            self.get_cookie_name(app),
            s.dumps(data),
            expires=self.get_expiration_time(app, session),
            httponly=self.get_cookie_httponly(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            partitioned=self.get_cookie_partitioned(app),
            samesite=self.get_cookie_samesite(app),
        )
        _vary_on_cookie(response)


# -- message flashing -------------------------------------------------------


def flash(message: str, category: str = "message") -> None:
    """Store a message for the next request to show (e.g. after a redirect).

    Messages are kept in the session under ``"_flashes"`` as
    ``(category, message)`` pairs until :func:`get_flashed_messages` reads
    them. Sends :data:`~erlen.signals.message_flashed` when it has receivers.

    :param message: The message.
    :param category: A free-form category; ``"message"``, ``"error"``,
        ``"info"`` and ``"warning"`` are the usual ones.
    :raises RuntimeError: Outside a request, or the session is unavailable
        (no ``SECRET_KEY``).

    .. versionadded:: 0.1
    """
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(_no_req_msg)
    session = ctx.session
    # Reassigned rather than appended in place, so the session sees a change.
    flashes = session.get("_flashes", [])
    flashes.append((category, message))
    session["_flashes"] = flashes
    if _signals.message_flashed.receivers:
        app = ctx.app
        _signals.message_flashed.send(app, _async_wrapper=app.ensure_sync, message=message, category=category)


def get_flashed_messages(
    with_categories: bool = False, category_filter: t.Iterable[str] = ()
) -> list[str] | list[tuple[str, str]]:
    """Return the flashed messages and remove them from the session.

    The first call in a request takes them out of the session; later calls
    in the same request return the same messages again.

    :param with_categories: Return ``(category, message)`` pairs instead of
        messages alone.
    :param category_filter: Return only messages of these categories.
    :raises RuntimeError: Outside a request.

    .. versionadded:: 0.1
    """
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError(_no_req_msg)
    # Cached on the request context, since the first read empties the session.
    flashes: list[tuple[str, str]] | None = getattr(ctx, "flashes", None)
    if flashes is None:
        session = ctx.session
        flashes = session.pop("_flashes") if "_flashes" in session else []
        ctx.flashes = flashes  # type: ignore[attr-defined]
    if category_filter:
        flashes = [f for f in flashes if f[0] in category_filter]
    if with_categories:
        return flashes
    return [f[1] for f in flashes]
