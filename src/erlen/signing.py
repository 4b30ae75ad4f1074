"""The signed-token format of Flask's session cookie, with the standard library.

A session cookie is what itsdangerous' ``URLSafeTimedSerializer`` makes of
the tagged JSON (salt ``"cookie-session"``, ``"hmac"`` key derivation,
SHA-1). :class:`_CookieSerializer` writes and checks the same bytes directly
(base64, HMAC with kept key state, key derivation, timestamps), so Flask and
Erlen apps sharing a secret key share their sessions, and a bad token costs
no exception objects. :mod:`erlen.sessions` is its user; everything here is
private.

.. versionadded:: 0.1
"""

from __future__ import annotations

import typing as t
from binascii import a2b_base64, b2a_base64
from datetime import UTC, datetime
from time import time

from ._compiled import mypyc_attr

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
# Nothing is remembered by token or by payload: a session cookie changes with
# every write, so on real traffic (many users, each session updated) such a
# cache costs its upkeep on every request and is hit only by a client sending
# a cookie it already sent.

_STD_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_URLSAFE_TO_STD = bytes.maketrans(b"-_", b"+/")

#: zlib.compress() never gives fewer than 9 bytes for a non-empty input (2 of
#: header, a deflate block of at least 18 bits, 4 of checksum), and its result
#: is kept only when shorter than len(json) - 1. So compressing JSON of this
#: length or less can never be kept; don't try (zlib's set-up alone can cost
#: tens of microseconds, mostly in the allocator).
_NEVER_COMPRESSIBLE = 10

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


def _plain_sha1(digest_method: t.Any) -> t.Any:
    """CPython's own SHA-1 (``_sha1.sha1``) when ``digest_method`` is hashlib's
    SHA-1, else ``digest_method``.

    PERF: the same digests, but copying, feeding and finishing the small
    built-in hash object costs about a quarter less than OpenSSL's EVP
    context (allocated, copied and freed on every copy). Only the kept
    HMAC states use it; a build without ``_sha1`` keeps hashlib's.
    """
    import hashlib

    if digest_method is hashlib.sha1:
        from importlib import import_module

        # By name: typeshed has no stubs for this private module (and some
        # mypy versions do), so no import statement type-checks everywhere.
        try:
            return import_module("_sha1").sha1
        except ImportError:  # pragma: no cover - CPython builds it by default
            return digest_method
    return digest_method


def _keyed_hmac(key: bytes, digest_method: t.Any) -> tuple[t.Any, t.Any]:
    """The HMAC state for ``key``, to copy for each message (see :func:`_hmac_digest`).

    For a hashlib-like ``digest_method``, the inner and outer hash objects
    after absorbing the padded key (RFC 2104, as :mod:`hmac` builds them
    without OpenSSL): copying two plain hash objects is about twice as fast
    as copying OpenSSL's HMAC object. Otherwise an :mod:`hmac` object and ``None``.
    """
    import hmac

    digest_method = _plain_sha1(digest_method)
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

    def __init__(
        self, kind: str, message: str, payload: bytes | None = None, ts: int | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.payload = payload
        self.ts = ts


def _to_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


# Compiled (erlen._compiled), it stays a Python class: its methods are patched
# (tests fix get_timestamp) and callers may set attributes on it. (mypyc's
# methods still refuse a subclass's instance: it is private, and final there.)
@mypyc_attr(native_class=False)
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
        self.signer_kwargs: dict[str, t.Any] = {
            "key_derivation": key_derivation,
            "digest_method": digest_method,
        }
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
        # replaced whole, so threads never see half an update. (Every cookie
        # signed within a second carries the same timestamp, whoever's it is.)
        self._ts_cache: tuple[int, bytes] = (-1, b"")
        self._ts_read: tuple[bytes | None, int] = (None, 0)

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

        return TimestampSigner(
            self.secret_keys, salt=self.salt if salt is None else salt, **self.signer_kwargs
        )

    def dumps(self, obj: t.Any) -> t.Any:
        """The signed token for ``obj``: a ``str`` when the serializer makes
        text, else ``bytes``."""
        data = self.serializer.dumps(obj)
        ts = self.get_timestamp()
        if type(data) is not bytes:
            data = data.encode("utf-8")
        # PERF: _b64encode() written out here and below (this runs on every
        # save of a session).
        if len(data) > _NEVER_COMPRESSIBLE:
            compressed = self._compress(data)
            if len(compressed) < len(data) - 1:
                data = b"." + _b64encode(compressed)
            else:
                data = b2a_base64(data, newline=False).rstrip(b"=").translate(_STD_TO_URLSAFE)
        else:
            data = b2a_base64(data, newline=False).rstrip(b"=").translate(_STD_TO_URLSAFE)
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
        # A SHA-1 (or any digest) fits in whole base64 quads only by chance;
        # the padding is stripped as _b64encode does.
        token = (
            value + b"." + b2a_base64(digest, newline=False).rstrip(b"=").translate(_STD_TO_URLSAFE)
        )
        return token.decode("ascii") if self.is_text_serializer else token

    def _loads(
        self, token: str | bytes | bytearray | memoryview, max_age: int | None = None
    ) -> tuple[t.Any, int]:
        """The object in ``token`` and its timestamp.

        :raises _Invalid: The token does not verify, is older than
            ``max_age`` seconds (or from the future), or does not decode.
        """
        if type(token) is str:
            try:
                token = token.encode("utf-8")
            except UnicodeError:
                raise _Invalid("BadSignature", "The value is not valid UTF-8") from None
        elif type(token) is not bytes:
            # A bytearray or memoryview from a caller.
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
        verified = self._compare_digest(
            b2a_base64(digest, newline=False).rstrip(b"=").translate(_STD_TO_URLSAFE), sig
        )
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
                raise _Invalid(
                    "SignatureExpired", f"Signature age {age} > {max_age} seconds", payload, ts
                )
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
        return obj, ts

    def loads(
        self,
        s: str | bytes | bytearray | memoryview,
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
                self.secret_keys,
                salt=salt,
                serializer=self.serializer,
                signer_kwargs=self.signer_kwargs,
            )
            # itsdangerous takes any bytes-like token, though its types say str | bytes.
            return other.loads(s, max_age=max_age, return_timestamp=return_timestamp)  # type: ignore[arg-type]
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
            cls = (
                itsdangerous.SignatureExpired
                if e.kind == "SignatureExpired"
                else itsdangerous.BadTimeSignature
            )
            raise cls(e.message, payload=e.payload, date_signed=date_signed) from None
        if return_timestamp:
            try:
                return obj, datetime.fromtimestamp(ts, tz=UTC)
            except (ValueError, OSError, OverflowError):
                import itsdangerous

                raise itsdangerous.BadTimeSignature("Malformed timestamp") from None
        return obj


@mypyc_attr(native_class=False)  # a plain descriptor, whether compiled or not
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
