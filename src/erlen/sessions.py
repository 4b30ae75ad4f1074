"""Sessions stored in a signed cookie, and message flashing on top of them.

The default :class:`SecureCookieSessionInterface` keeps the whole session in
one cookie, signed (not encrypted) with ``SECRET_KEY``: the client can read
the data but not change it. The cookie format is Flask's (itsdangerous'
``URLSafeTimedSerializer`` over tagged JSON, salt ``"cookie-session"``, HMAC
key derivation and SHA-1), so Flask and Erlen apps sharing a secret key share
their sessions; Erlen signs and verifies it with the standard library.

The app opens the session lazily, the first time a request uses ``session``,
and saves it after the request only when it was opened; a request that never
touches it pays nothing. Replace ``app.session_interface`` with a subclass of
:class:`SessionInterface` to store sessions elsewhere.

.. versionadded:: 0.1
"""

from __future__ import annotations

import typing as t
from binascii import a2b_base64, b2a_base64
from collections.abc import MutableMapping
from datetime import UTC, datetime
from time import time

from . import signals as _signals
from .datastructures import CallbackDict, Headers
from .globals import _cv, _no_req_msg
from .json.tag import TaggedJSONSerializer

if t.TYPE_CHECKING:
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


def _append_vary_cookie(pairs: list[tuple[str, str]]) -> bool:
    """Append ``Vary: Cookie`` to header pairs that have no ``Vary`` yet.

    PERF: the usual case, found by one pass over the pairs, and the pair
    appended as is (it needs no checks). ``False`` when a ``Vary`` header
    exists: :func:`_vary_on_cookie` then merges.
    """
    for name, _ in pairs:
        if name.lower() == "vary":
            return False
    pairs.append(("Vary", "Cookie"))
    return True


def _vary_on_cookie(response: Response) -> None:
    """Add ``Cookie`` to the response's ``Vary`` header, once."""
    headers = response.headers
    if type(headers) is Headers and _append_vary_cookie(headers._list):
        return
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


# -- the signed-cookie format ------------------------------------------------------
#
# Flask's session cookie is what itsdangerous' URLSafeTimedSerializer makes of
# the tagged JSON (salt "cookie-session", "hmac" key derivation, SHA-1):
#
#     payload "." timestamp "." signature
#
# * payload: the JSON in URL-safe base64 without padding, or "." followed by
#   the base64 of zlib.compress(json) when that is at least two bytes shorter;
# * timestamp: int(time()) as big-endian bytes without leading zeros, base64;
# * signature: HMAC(derived key, payload "." timestamp), base64, where the
#   derived key is HMAC(secret key, salt).
#
# PERF: itsdangerous rebuilds all of this from small general layers on every
# call (str/bytes coercion, padding, a signer object, the key derivation, an
# exception per failed check). Erlen writes the same bytes directly: keys are
# derived once per serializer, the HMAC state of each key is kept and copied,
# the encoded timestamp is kept for the current second, and a bad cookie is
# reported to open_session() without building itsdangerous' exceptions.

_STD_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_URLSAFE_TO_STD = bytes.maketrans(b"-_", b"+/")

#: zlib.compress() never gives fewer than 9 bytes for a non-empty input (2 of
#: header, a deflate block of at least 18 bits, 4 of checksum), and its result
#: is kept only when shorter than len(json) - 1. So compressing JSON of this
#: length or less can never be kept; don't try (zlib's set-up alone can cost
#: tens of microseconds, mostly in the allocator).
_NEVER_COMPRESSIBLE = 10

#: How many verified tokens a serializer remembers, and the longest one it
#: remembers (a browser keeps cookies up to 4 kB), so the memory is bounded.
_VERIFIED_CACHE_SIZE = 256
_VERIFIED_MAX_TOKEN = 4096


#: The last second a :class:`~datetime.datetime` can hold (9999-12-31 23:59:59
#: UTC); a later timestamp is malformed.
_MAX_TIMESTAMP = 253402300799


def _b64encode(data: bytes) -> bytes:
    """URL-safe base64 without padding (itsdangerous' ``base64_encode``)."""
    return b2a_base64(data, newline=False).rstrip(b"=").translate(_STD_TO_URLSAFE)


#: The padding base64 needs, by the length of the unpadded data modulo 4.
_PADDING = (b"", b"===", b"==", b"=")


def _b64decode(data: bytes) -> bytes:
    """Reverse of :func:`_b64encode`, as lenient as itsdangerous' ``base64_decode``
    (missing padding is added, characters outside the alphabet are skipped).

    :raises binascii.Error: Not decodable.
    """
    return a2b_base64(data.translate(_URLSAFE_TO_STD) + _PADDING[len(data) & 3])


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def _keyed_hmac(key: bytes, digest_method: t.Any) -> tuple[t.Any, t.Any]:
    """The HMAC state for ``key``, to copy for each message (see :func:`_hmac_digest`).

    For a hashlib-like ``digest_method``, the inner and outer hash objects
    after absorbing the padded key (RFC 2104, as :mod:`hmac` builds them
    without OpenSSL): copying two plain hash objects is about twice as fast
    as copying OpenSSL's HMAC object. Otherwise an :mod:`hmac` object and ``None``.
    """
    import hmac

    try:
        probe = digest_method() if callable(digest_method) else None
    except Exception:  # noqa: BLE001 - then hmac decides what works
        probe = None
    if probe is not None:
        block_size = getattr(probe, "block_size", None)
        if isinstance(block_size, int) and block_size >= 16 and hasattr(probe, "copy"):
            if len(key) > block_size:
                key = digest_method(key).digest()
            key = key.ljust(block_size, b"\x00")
            return digest_method(key.translate(_IPAD)), digest_method(key.translate(_OPAD))
    return hmac.new(key, digestmod=digest_method), None


def _hmac_digest(mac: tuple[t.Any, t.Any], msg: bytes) -> bytes:
    """HMAC of ``msg`` with a state from :func:`_keyed_hmac`."""
    inner, outer = mac
    h = inner.copy()
    h.update(msg)
    if outer is None:
        return h.digest()  # type: ignore[no-any-return]
    o = outer.copy()
    o.update(h.digest())
    return o.digest()  # type: ignore[no-any-return]


class _Invalid(Exception):
    """A token that does not verify or does not decode.

    ``kind`` names the itsdangerous exception that describes the problem
    (``"BadSignature"``, ``"BadTimeSignature"``, ``"SignatureExpired"`` or
    ``"BadPayload"``); :meth:`_CookieSerializer.loads` raises that one.
    """

    def __init__(self, kind: str, message: str, payload: bytes | None = None, ts: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.payload = payload
        self.ts = ts


def _to_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


class _CookieSerializer:
    """Signs and verifies session cookies in itsdangerous' ``URLSafeTimedSerializer``
    format, with the standard library only.

    It offers what callers of :meth:`SecureCookieSessionInterface.get_signing_serializer`
    use: :meth:`dumps` and :meth:`loads`, which raises itsdangerous'
    exceptions (:exc:`~itsdangerous.BadSignature` and relatives) for a bad
    token, and the ``secret_keys``, ``salt``, ``serializer`` and
    ``signer_kwargs`` attributes.

    :param secret_keys: The keys, oldest to newest; the newest signs, all verify.
    :param salt: Mixed into every derived key.
    :param serializer: Turns the object into text (or bytes) and back.
    :param key_derivation: ``"hmac"``, ``"concat"``, ``"django-concat"`` or
        ``"none"``, as in itsdangerous.
    :param digest_method: The hash of the HMACs, e.g. :func:`hashlib.sha1`.
    """

    def __init__(
        self,
        secret_keys: t.Iterable[str | bytes],
        salt: str | bytes,
        serializer: t.Any,
        key_derivation: str,
        digest_method: t.Any,
    ) -> None:
        import hmac
        import zlib

        self.secret_keys: list[bytes] = [_to_bytes(k) for k in secret_keys]
        if not self.secret_keys:
            raise ValueError("At least one secret key is needed.")
        self.salt: bytes = _to_bytes(salt)
        self.serializer = serializer
        self.is_text_serializer: bool = isinstance(serializer.dumps({}), str)
        self.key_derivation = key_derivation
        self.digest_method = digest_method
        self.signer_kwargs: dict[str, t.Any] = {"key_derivation": key_derivation, "digest_method": digest_method}
        self._compare_digest = hmac.compare_digest
        self._compress = zlib.compress
        self._decompress = zlib.decompress
        # The keyed HMAC state of each derived key, newest key first: the
        # order itsdangerous tries them in. Each sign or verify copies one,
        # so nothing is derived or keyed per message.
        self._macs: list[tuple[t.Any, t.Any]] = [
            _keyed_hmac(self.derive_key(key), digest_method) for key in reversed(self.secret_keys)
        ]
        # The timestamp last encoded and the last decoded; each a tuple
        # replaced whole, so threads never see half an update.
        self._ts_cache: tuple[int, bytes] = (-1, b"")
        self._ts_read: tuple[bytes | None, int] = (None, 0)
        # PERF: tokens this serializer verified lately, mapped to their
        # timestamp and serialized payload. A browser sends the same cookie
        # on every request until the session changes, so most requests skip
        # the HMAC and base64 work; the age is still checked and the payload
        # still deserialized (a fresh object) every time. Bounded, and
        # dropped with the serializer when a key changes.
        self._verified: dict[str | bytes, tuple[int, t.Any]] = {}
        # PERF: the last token signed, with the serialized payload and the
        # second it was signed in: signing the same session again in the
        # same second (a refreshed permanent session, a burst of requests)
        # gives the same token.
        self._last_signed: tuple[t.Any, int, t.Any] = (None, -1, None)

    @property
    def secret_key(self) -> bytes:
        """The newest key, the one that signs."""
        return self.secret_keys[-1]

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        """The signing key made from ``secret_key`` (default: the newest) and the salt.

        :raises TypeError: Unknown key derivation.
        """
        key = self.secret_keys[-1] if secret_key is None else _to_bytes(secret_key)
        derivation = self.key_derivation
        if derivation == "hmac":
            import hmac

            return hmac.new(key, self.salt, self.digest_method).digest()
        if derivation == "concat":
            return self.digest_method(self.salt + key).digest()  # type: ignore[no-any-return]
        if derivation == "django-concat":
            return self.digest_method(self.salt + b"signer" + key).digest()  # type: ignore[no-any-return]
        if derivation == "none":
            return key
        raise TypeError("Unknown key derivation method")

    def get_timestamp(self) -> int:
        """The current time, in whole seconds since the epoch."""
        return int(time())

    def make_signer(self, salt: str | bytes | None = None) -> t.Any:
        """An itsdangerous ``TimestampSigner`` with these keys and settings
        (for code that signs or checks raw values the way the cookie does).

        :param salt: Another salt than :attr:`salt`.
        """
        from itsdangerous import TimestampSigner

        return TimestampSigner(self.secret_keys, salt=self.salt if salt is None else salt, **self.signer_kwargs)

    def dumps(self, obj: t.Any) -> t.Any:
        """The signed token for ``obj``: a ``str`` when the serializer makes
        text, else ``bytes``."""
        text = data = self.serializer.dumps(obj)
        ts = self.get_timestamp()
        last = self._last_signed
        if last[1] == ts and last[0] == text:
            return last[2]
        if type(data) is not bytes:
            data = data.encode("utf-8")
        if len(data) > _NEVER_COMPRESSIBLE:
            compressed = self._compress(data)
            if len(compressed) < len(data) - 1:
                data = b"." + _b64encode(compressed)
            else:
                data = _b64encode(data)
        else:
            data = _b64encode(data)
        cache = self._ts_cache
        if cache[0] != ts:
            cache = self._ts_cache = (ts, _b64encode(ts.to_bytes(8, "big").lstrip(b"\x00")))
        value = data + b"." + cache[1]
        inner, outer = self._macs[0]
        h = inner.copy()
        h.update(value)
        if outer is None:
            digest = h.digest()
        else:
            o = outer.copy()
            o.update(h.digest())
            digest = o.digest()
        token = value + b"." + _b64encode(digest)
        result = token.decode("ascii") if self.is_text_serializer else token
        self._last_signed = (text, ts, result)
        return result

    def _loads(self, token: str | bytes, max_age: int | None = None) -> tuple[t.Any, int]:
        """The object in ``token`` and its timestamp.

        :raises _Invalid: The token does not verify, is older than
            ``max_age`` seconds (or from the future), or does not decode.
        """
        known = self._verified.get(token) if type(token) is str or type(token) is bytes else None
        if known is not None:
            ts, text = known
            if max_age is not None:
                age = self.get_timestamp() - ts
                if age > max_age or age < 0:
                    # Expired now: forget it and let the full check say so.
                    self._verified.pop(token, None)
                    return self._loads(token, max_age)
            try:
                return self.serializer.loads(text), ts
            except Exception:
                raise _Invalid("BadPayload", "Could not load the payload") from None
        original = token
        if type(token) is str:
            try:
                token = token.encode("utf-8")
            except UnicodeError:
                raise _Invalid("BadSignature", "The value is not valid UTF-8") from None
        elif type(token) is not bytes:
            # A bytearray or memoryview from a caller, despite the annotation.
            token = bytes(t.cast(t.Any, token))
        value, sep, sig = token.rpartition(b".")
        if not sep:
            raise _Invalid("BadSignature", "No b'.' found in value")
        macs = self._macs
        # PERF: the usual case first: signed with the newest key, and the
        # signature encoded as it is made. Compared encoded, no decoding.
        inner, outer = macs[0]
        h = inner.copy()
        h.update(value)
        if outer is None:
            digest = h.digest()
        else:
            o = outer.copy()
            o.update(h.digest())
            digest = o.digest()
        verified = self._compare_digest(_b64encode(digest), sig)
        if not verified:
            # Then what itsdangerous accepts: every key, and any base64
            # spelling of the signature (its decoding is lenient).
            try:
                raw_sig = _b64decode(sig)
            except ValueError:
                pass
            else:
                compare = self._compare_digest
                for mac in macs:
                    if compare(raw_sig, _hmac_digest(mac, value)):
                        verified = True
                        break
        payload, sep, ts_bytes = value.rpartition(b".")
        if not verified:
            if not sep:
                raise _Invalid("BadSignature", "Signature does not match")
            raise _Invalid("BadTimeSignature", "Signature does not match", payload)
        if not sep:
            raise _Invalid("BadTimeSignature", "timestamp missing", value)
        read = self._ts_read
        if read[0] == ts_bytes:
            # PERF: the timestamp decoded last time (cookies made in the
            # same second carry the same one).
            ts = read[1]
        else:
            try:
                raw_ts = _b64decode(ts_bytes)
            except ValueError:
                raise _Invalid("BadTimeSignature", "Malformed timestamp", payload) from None
            # itsdangerous reads at most 8 bytes; a time past what a
            # datetime holds makes it fail later on.
            ts = int.from_bytes(raw_ts, "big")
            if len(raw_ts) > 8 or ts > _MAX_TIMESTAMP:
                raise _Invalid("BadTimeSignature", "Malformed timestamp", payload)
            self._ts_read = (ts_bytes, ts)
        if max_age is not None:
            age = self.get_timestamp() - ts
            if age > max_age:
                raise _Invalid("SignatureExpired", f"Signature age {age} > {max_age} seconds", payload, ts)
            if age < 0:
                raise _Invalid("SignatureExpired", f"Signature age {age} < 0 seconds", payload, ts)
        compressed = payload[:1] == b"."
        if compressed:
            payload = payload[1:]
        try:
            data = a2b_base64(payload.translate(_URLSAFE_TO_STD) + _PADDING[len(payload) & 3])
        except ValueError:
            raise _Invalid("BadPayload", "Could not base64 decode the payload") from None
        if compressed:
            try:
                data = self._decompress(data)
            except Exception:
                raise _Invalid("BadPayload", "Could not zlib decompress the payload") from None
        payload_data: str | bytes = data
        if self.is_text_serializer:
            try:
                payload_data = data.decode("utf-8")
            except UnicodeError:
                raise _Invalid("BadPayload", "Could not load the payload") from None
        try:
            obj = self.serializer.loads(payload_data)
        except Exception:
            raise _Invalid("BadPayload", "Could not load the payload") from None
        verified_cache = self._verified
        if len(verified_cache) >= _VERIFIED_CACHE_SIZE:
            # Forget the oldest; another thread may have done it already.
            try:
                del verified_cache[next(iter(verified_cache))]
            except (KeyError, StopIteration, RuntimeError):
                pass
        if type(original) in (str, bytes) and len(original) <= _VERIFIED_MAX_TOKEN:
            verified_cache[original] = (ts, payload_data)
        return obj, ts

    def loads(
        self,
        s: str | bytes,
        max_age: int | None = None,
        return_timestamp: bool = False,
        salt: str | bytes | None = None,
    ) -> t.Any:
        """The object signed in ``s``; with ``return_timestamp``, a pair of it
        and the (aware, UTC) time it was signed.

        :param max_age: Reject tokens signed more than this many seconds ago.
        :raises itsdangerous.BadSignature: Not signed by one of the keys, or
            expired (:exc:`~itsdangerous.SignatureExpired`).
        :raises itsdangerous.BadPayload: Signed, but not decodable.
        """
        if salt is not None and _to_bytes(salt) != self.salt:
            # Another salt means other derived keys: let itsdangerous do it.
            from itsdangerous import URLSafeTimedSerializer

            other = URLSafeTimedSerializer(
                self.secret_keys, salt=salt, serializer=self.serializer, signer_kwargs=self.signer_kwargs
            )
            return other.loads(s, max_age=max_age, return_timestamp=return_timestamp)
        try:
            obj, ts = self._loads(s, max_age)
        except _Invalid as e:
            # Imported on this error path only.
            import itsdangerous

            if e.kind == "BadPayload":
                raise itsdangerous.BadPayload(e.message) from None
            if e.kind == "BadSignature":
                raise itsdangerous.BadSignature(e.message, payload=e.payload) from None
            date_signed = None
            if e.ts is not None:
                try:
                    date_signed = datetime.fromtimestamp(e.ts, tz=UTC)
                except (ValueError, OSError, OverflowError):
                    pass
            cls = itsdangerous.SignatureExpired if e.kind == "SignatureExpired" else itsdangerous.BadTimeSignature
            raise cls(e.message, payload=e.payload, date_signed=date_signed) from None
        if return_timestamp:
            try:
                return obj, datetime.fromtimestamp(ts, tz=UTC)
            except (ValueError, OSError, OverflowError):
                import itsdangerous

                raise itsdangerous.BadTimeSignature("Malformed timestamp") from None
        return obj


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

#: Per app class: whether ``permanent_session_lifetime`` is Erlen's own
#: (the ``PERMANENT_SESSION_LIFETIME`` setting, converted to a timedelta).
_stock_lifetime: dict[type, bool] = {}

#: Per interface class: whether it keeps SessionInterface's should_set_cookie()
#: and get_expiration_time().
_stock_expiry: dict[type, bool] = {}

#: :meth:`Response.set_cookie <erlen.wrappers.Response.set_cookie>`, once
#: imported (a response class overriding it gets the general path).
_stock_set_cookie: t.Any = None
_stock_max_cookie_size: t.Any = None
_stock_headers: t.Any = None

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

    #: The settings it was made for (compared on each use).
    settings: tuple[t.Any, ...]
    prefix: str
    suffix: str
    expires_head: str
    expires_tail: str


def _make_cookie_template(settings: tuple[t.Any, ...]) -> _CookieTemplate | None:
    """The template for ``settings`` (see :meth:`SecureCookieSessionInterface._cookie_settings`),
    or ``None`` when dump_cookie rejects them (the general path then raises
    its error) or the stand-ins don't come out as expected."""
    from .http import dump_cookie

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
    if len(parts) != 2 or not parts[0].startswith(prefix + "x") or not parts[0].endswith("Expires="):
        return None
    return _CookieTemplate(settings, prefix, plain[end + 1 :], parts[0][end + 1 :], parts[1])


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
        config = app.config
        settings = (
            config["SESSION_COOKIE_NAME"],
            config["SESSION_COOKIE_DOMAIN"],
            config["SESSION_COOKIE_PATH"] or config["APPLICATION_ROOT"],
            config["SESSION_COOKIE_HTTPONLY"],
            config["SESSION_COOKIE_SECURE"],
            config["SESSION_COOKIE_SAMESITE"],
            config["SESSION_COOKIE_PARTITIONED"],
        )
        template = self._cookie_template
        # Equal settings give the same header: dump_cookie only compares,
        # formats or tests the truth of them.
        if template is None or template.settings != settings:
            template = _make_cookie_template(settings)
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
            from .app import Erlen

            stock = _stock_lifetime[cls] = getattr(cls, "permanent_session_lifetime", None) is Erlen.__dict__.get(
                "permanent_session_lifetime"
            )
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
        serializer = _CookieSerializer(keys, self.salt, self.serializer, self.key_derivation, self.digest_method)
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
        max_age = self._max_age(app)
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
                    _vary_on_cookie(response)
                return
        elif not self.should_set_cookie(app, session):
            if accessed:
                _vary_on_cookie(response)
            return
        s = self.get_signing_serializer(app)
        if s is None:  # the secret key was removed during the request
            return
        # PERF: a plain copy through dict's own items view; copying the
        # session itself would go through the overridden __iter__/__getitem__.
        data = dict(dict.items(session)) if isinstance(session, dict) else dict(session)
        global _stock_set_cookie, _stock_max_cookie_size, _stock_headers
        if _stock_set_cookie is None:
            from .wrappers import Response as _Response

            _stock_max_cookie_size = _Response.__dict__["max_cookie_size"]
            _stock_headers = _Response.__dict__["headers"]
            _stock_set_cookie = _Response.set_cookie
        template = self._cookie_settings(app)
        if (
            template is not None
            and type(s) is _CookieSerializer
            and s.is_text_serializer
            and type(response).set_cookie is _stock_set_cookie
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
            if expires is None:
                header = template.prefix + token + template.suffix
            elif type(expires) is datetime:
                from .http import http_date

                header = template.prefix + token + template.expires_head + http_date(expires) + template.expires_tail
            if header is not None:
                response_cls = type(response)
                if response_cls.max_cookie_size is _stock_max_cookie_size:
                    # PERF: what the stock property reads, without finding the context.
                    max_size = app.config["MAX_COOKIE_SIZE"]
                else:
                    max_size = response.max_cookie_size
                if not max_size or len(header) <= max_size:
                    if response_cls.headers is _stock_headers and response._headers is None and header.isascii():
                        # PERF: no headers view yet: append to the pairs it
                        # would wrap, what add() appends after its checks
                        # (the token is base64, the rest came from dump_cookie).
                        pairs = response._hlist
                        pairs.append(("Set-Cookie", header))
                        if not _append_vary_cookie(pairs):
                            _vary_on_cookie(response)
                        return
                    headers = response.headers
                    if type(headers) is Headers and header.isascii():
                        headers._list.append(("Set-Cookie", header))
                    else:
                        headers.add("Set-Cookie", header)
                    _vary_on_cookie(response)
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
            _vary_on_cookie(response)
            return
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
        ctx.flashes = flashes
    if category_filter:
        flashes = [f for f in flashes if f[0] in category_filter]
    if with_categories:
        return flashes
    return [f[1] for f in flashes]
