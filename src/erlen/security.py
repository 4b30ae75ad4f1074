"""Password hashing in Werkzeug's format.

:func:`generate_password_hash` writes, and :func:`check_password_hash` reads,
strings of the form ``method$salt$hash``:

* ``scrypt:32768:8:1$<salt>$<hex>``: scrypt with cost ``n``, block size ``r``
  and parallelism ``p``, a 64-byte key as hex (the default method);
* ``pbkdf2:sha256:1000000$<salt>$<hex>``: PBKDF2-HMAC with the named hash and
  iteration count, a key as long as the hash's digest, as hex.

The salt is the text between the dollar signs, used as its UTF-8 bytes. These
are the strings Werkzeug's ``werkzeug.security`` makes and reads, so password
hashes stored by a Flask application keep working after a move to Erlen, and
the other way round. Only the standard library (``hashlib``, ``hmac``,
``secrets``) does the work.

A stored hash is data and can be damaged or hostile, so its parameters are
bounded before any work: scrypt's memory (Werkzeug's ``132 * n * r * p``
bytes) by :data:`MAX_SCRYPT_MEMORY`, PBKDF2's iterations by
:data:`MAX_PBKDF2_ITERATIONS`. A hash beyond them is a :class:`ValueError`
naming the limit, from :func:`check_password_hash` too: a silent ``False``
would lock its user out with nothing in the logs.

.. versionadded:: 0.1
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
import typing as t

__all__ = ["gen_salt", "generate_password_hash", "check_password_hash"]

#: The characters a salt is drawn from (Werkzeug's alphabet).
SALT_CHARS = string.ascii_letters + string.digits

#: PBKDF2 iterations when the method string names none: Werkzeug 3.1's
#: default (issue 15, finding 7: it was 600,000, Werkzeug 3.0's).
DEFAULT_PBKDF2_ITERATIONS = 1_000_000

#: scrypt's parameters when the method string names none: n = 2**15, r = 8,
#: p = 1 (about 32 MiB and some 50 ms per hash, like Werkzeug).
_SCRYPT_DEFAULTS = (2**15, 8, 1)

#: The most memory, in bytes, a scrypt hash may ask for, counted as Werkzeug
#: does (``132 * n * r * p``): 2 GiB - 1, the most :func:`hashlib.scrypt`
#: accepts, so every scrypt hash Werkzeug can check is checked here, e.g.
#: ``scrypt:1048576:8:1`` (n = 2**20, about 1 GiB and some seconds). Lower it
#: to bound what one check of a stored hash may cost; it can't be raised past
#: hashlib's ceiling. (It was 1 GiB, which refused n = 2**20, silently, with
#: ``False``: issue 15, finding 7.)
MAX_SCRYPT_MEMORY = 2**31 - 1
#: The most PBKDF2 iterations a hash may ask for (about a minute of work).
MAX_PBKDF2_ITERATIONS = 50_000_000

# hashlib.scrypt refuses a larger maxmem (C's INT_MAX).
_HASHLIB_MAX_MEMORY = 2**31 - 1


class _BeyondLimit(ValueError):
    """A well-formed hash whose parameters exceed a limit: raised, never ``False``."""


def gen_salt(length: int) -> str:
    """Return a random string of ``length`` letters and digits.

    :param length: How many characters; at least 1.
    :raises ValueError: ``length`` is less than 1.

    .. versionadded:: 0.1
    """
    if length <= 0:
        raise ValueError("Salt length must be at least 1.")
    return "".join(secrets.choice(SALT_CHARS) for _ in range(length))


def _parse_int(text: str) -> int:
    """A plain decimal integer; :class:`ValueError` for anything else (signs,
    spaces, underscores and non-ASCII digits that ``int()`` would accept)."""
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"not a decimal integer: {text!r}")
    return int(text)


def _hash_internal(method: str, salt: str, password: str) -> tuple[str, str]:
    """Hash ``password`` with ``method`` and ``salt``.

    :return: The hex digest and the method string in its full form (the
        defaults filled in), which is what goes into the stored hash.
    :raises ValueError: The method is unknown or its parameters are invalid
        or out of bounds.
    """
    name, *args = method.split(":")
    salt_bytes = salt.encode()
    password_bytes = password.encode()

    if name == "scrypt":
        if not args:
            n, r, p = _SCRYPT_DEFAULTS
        elif len(args) == 3:
            n, r, p = (_parse_int(arg) for arg in args)
        else:
            raise ValueError("'scrypt' takes either no parameters or 'scrypt:n:r:p'.")
        if n < 2 or n & (n - 1) or r < 1 or p < 1:
            raise ValueError("scrypt needs n a power of 2 above 1, and r and p at least 1.")
        # scrypt needs 128 * n * r bytes plus 128 * r * p; Werkzeug allows
        # 132 * n * r * p, which covers both, so the same hashes verify here.
        maxmem = 132 * n * r * p
        limit = min(MAX_SCRYPT_MEMORY, _HASHLIB_MAX_MEMORY)
        if maxmem > limit:
            raise _BeyondLimit(
                f"scrypt:{n}:{r}:{p} needs {maxmem} bytes of memory (132 * n * r * p), more than"
                f" the limit of {limit} (erlen.security.MAX_SCRYPT_MEMORY, at most hashlib's {_HASHLIB_MAX_MEMORY})."
            )
        digest = hashlib.scrypt(password_bytes, salt=salt_bytes, n=n, r=r, p=p, maxmem=maxmem)
        return digest.hex(), f"scrypt:{n}:{r}:{p}"

    if name == "pbkdf2":
        if len(args) > 2:
            raise ValueError("'pbkdf2' takes at most a hash name and an iteration count.")
        hash_name = args[0] if args else "sha256"
        iterations = _parse_int(args[1]) if len(args) == 2 else DEFAULT_PBKDF2_ITERATIONS
        if iterations < 1:
            raise ValueError("PBKDF2 needs at least 1 iteration.")
        if iterations > MAX_PBKDF2_ITERATIONS:
            raise _BeyondLimit(
                f"pbkdf2 with {iterations} iterations is more than the limit of"
                f" {MAX_PBKDF2_ITERATIONS} (erlen.security.MAX_PBKDF2_ITERATIONS)."
            )
        # Raises ValueError for a hash name hashlib does not know.
        digest = hashlib.pbkdf2_hmac(hash_name, password_bytes, salt_bytes, iterations)
        return digest.hex(), f"pbkdf2:{hash_name}:{iterations}"

    raise ValueError(f"Invalid hash method {name!r}; use 'scrypt' or 'pbkdf2'.")


def generate_password_hash(password: str, method: str = "scrypt", salt_length: int = 16) -> str:
    """Hash a password for storing; check it later with :func:`check_password_hash`.

    The result is ``method$salt$hash`` in Werkzeug's format, e.g.
    ``scrypt:32768:8:1$<16 letters and digits>$<128 hex digits>``.

    :param password: The plain-text password.
    :param method: ``"scrypt"`` (default) or ``"scrypt:n:r:p"``, or
        ``"pbkdf2"``, ``"pbkdf2:<hash>"`` or ``"pbkdf2:<hash>:<iterations>"``
        (``sha256`` and :data:`DEFAULT_PBKDF2_ITERATIONS` by default).
    :param salt_length: How many random characters of salt.
    :return: The string to store.
    :raises ValueError: An unknown method, invalid parameters, parameters
        beyond :data:`MAX_SCRYPT_MEMORY` or :data:`MAX_PBKDF2_ITERATIONS`,
        or a ``salt_length`` below 1.

    .. versionadded:: 0.1
    """
    salt = gen_salt(salt_length)
    hex_digest, full_method = _hash_internal(method, salt, password)
    return f"{full_method}${salt}${hex_digest}"


def check_password_hash(pwhash: str, password: str) -> bool:
    """Whether ``password`` matches a hash from :func:`generate_password_hash`
    (or from Werkzeug's function of the same name).

    The digests are compared in constant time. A hash that cannot be read
    (wrong shape, unknown method, broken parameters, not a string at all)
    never matches; this function never raises for it.

    :param pwhash: The stored hash.
    :param password: The plain-text password to check.
    :raises ValueError: The hash is well-formed but asks for more than
        :data:`MAX_SCRYPT_MEMORY` or :data:`MAX_PBKDF2_ITERATIONS`: it could
        match, but checking it is refused. (Werkzeug raises ``ValueError``
        too for scrypt hashes beyond hashlib's memory ceiling.)

    .. versionadded:: 0.1
    """
    if not isinstance(pwhash, str) or not isinstance(password, str):
        return False
    try:
        method, salt, expected = pwhash.split("$", 2)
    except ValueError:
        return False
    try:
        actual, _ = _hash_internal(method, salt, password)
    except _BeyondLimit:
        raise
    except (ValueError, OverflowError, MemoryError, UnicodeError):
        # Every way a damaged hash string (or a password with lone
        # surrogates, which UTF-8 cannot encode) can fail to hash.
        return False
    # hmac.compare_digest needs ASCII for str; compare bytes so a non-ASCII
    # stored value is a mismatch, not a TypeError.
    return hmac.compare_digest(actual.encode(), expected.encode("utf-8", "surrogatepass"))


# -- keys for the signed tokens of erlen.auth and erlen.csrf ---------------------


def _derive_keys(
    secret_key: str | bytes | None, fallbacks: t.Iterable[str | bytes] | None, purpose: str
) -> list[bytes]:
    """Keys for signing tokens of one ``purpose``: the current key first, then
    one per ``SECRET_KEY_FALLBACKS`` entry (accepted for checking only).

    Deriving a key per purpose (HMAC of the secret with the purpose's name)
    keeps a token made for one use, e.g. a remember-me cookie, from ever
    verifying as another, e.g. a CSRF token.

    :raises RuntimeError: There is no secret key.
    """
    if not secret_key:
        raise RuntimeError(
            f"{purpose} needs a secret key. Set 'SECRET_KEY' in the app's config"
            " (app.secret_key) to a long, random, private value, e.g. the output of"
            " 'python -c \"import secrets; print(secrets.token_hex())\"'."
        )
    keys = []
    for key in (secret_key, *(fallbacks or ())):
        raw = key.encode() if isinstance(key, str) else key
        keys.append(hmac.new(raw, purpose.encode(), hashlib.sha256).digest())
    return keys


def _sign(key: bytes, message: str) -> str:
    """The HMAC-SHA256 of ``message`` under ``key``, URL-safe base64 without padding."""
    digest = hmac.new(key, message.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _verify(keys: list[bytes], message: str, signature: str) -> bool:
    """Whether ``signature`` is :func:`_sign` of ``message`` under any of ``keys``."""
    given = signature.encode("utf-8", "surrogatepass")
    # NOTE: every key is tried, match or not, so timing reveals nothing about
    # which key matched.
    ok = False
    for key in keys:
        ok |= hmac.compare_digest(_sign(key, message).encode("ascii"), given)
    return ok
