"""Password hashing: Werkzeug's format in both directions, and bad hashes."""

from __future__ import annotations

import re

import pytest
import werkzeug.security as wz

from erlen.security import (
    DEFAULT_PBKDF2_ITERATIONS,
    SALT_CHARS,
    check_password_hash,
    gen_salt,
    generate_password_hash,
)

# Cheap parameters keep the suite fast; the defaults get one test each.
FAST_METHODS = [
    "scrypt:1024:8:1",
    "scrypt:512:4:2",
    "pbkdf2:sha256:1000",
    "pbkdf2:sha512:1000",
    "pbkdf2:sha1:10",
]


def test_default_method_is_werkzeug_scrypt_format() -> None:
    pwhash = generate_password_hash("secret")
    assert re.fullmatch(r"scrypt:32768:8:1\$[A-Za-z0-9]{16}\$[0-9a-f]{128}", pwhash)
    assert check_password_hash(pwhash, "secret")
    assert not check_password_hash(pwhash, "Secret")


def test_pbkdf2_default_iterations_and_format() -> None:
    pwhash = generate_password_hash("secret", method="pbkdf2")
    assert re.fullmatch(
        rf"pbkdf2:sha256:{DEFAULT_PBKDF2_ITERATIONS}\$[A-Za-z0-9]{{16}}\$[0-9a-f]{{64}}", pwhash
    )
    assert check_password_hash(pwhash, "secret")
    assert wz.check_password_hash(pwhash, "secret")


def test_pbkdf2_with_hash_name_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from erlen import security

    monkeypatch.setattr(security, "DEFAULT_PBKDF2_ITERATIONS", 7)
    pwhash = generate_password_hash("pw", method="pbkdf2:sha1", salt_length=4)
    assert pwhash.startswith("pbkdf2:sha1:7$")
    assert wz.check_password_hash(pwhash, "pw")
    assert len(pwhash.split("$")[2]) == 40  # the digest size of SHA-1, as hex


@pytest.mark.parametrize("method", FAST_METHODS)
@pytest.mark.parametrize("password", ["", "correct horse", "päßwörd ✓ 密码", "x" * 2000])
def test_werkzeug_hashes_verify_here(method: str, password: str) -> None:
    pwhash = wz.generate_password_hash(password, method=method)
    assert check_password_hash(pwhash, password)
    assert not check_password_hash(pwhash, password + "!")


@pytest.mark.parametrize("method", FAST_METHODS)
@pytest.mark.parametrize("password", ["", "correct horse", "päßwörd ✓ 密码", "x" * 2000])
def test_hashes_made_here_verify_in_werkzeug(method: str, password: str) -> None:
    pwhash = generate_password_hash(password, method=method)
    assert pwhash.startswith(method + "$")
    assert wz.check_password_hash(pwhash, password)
    assert not wz.check_password_hash(pwhash, password + "!")


def test_same_salt_gives_werkzeugs_exact_hash() -> None:
    pwhash = wz.generate_password_hash("pw", method="scrypt:1024:8:1", salt_length=8)
    method, salt, digest = pwhash.split("$")
    from erlen.security import _hash_internal

    assert _hash_internal("scrypt:1024:8:1", salt, "pw") == (digest, method)


def test_salts_differ_and_salt_length_is_honored() -> None:
    a = generate_password_hash("pw", method="pbkdf2:sha256:1", salt_length=32)
    b = generate_password_hash("pw", method="pbkdf2:sha256:1", salt_length=32)
    assert a != b
    assert len(a.split("$")[1]) == 32


def test_gen_salt() -> None:
    salt = gen_salt(50)
    assert len(salt) == 50 and set(salt) <= set(SALT_CHARS)
    with pytest.raises(ValueError, match="at least 1"):
        gen_salt(0)


@pytest.mark.parametrize(
    "method",
    [
        "md5",
        "plain",
        "scrypt:16384",
        "scrypt:1000:8:1",  # n not a power of 2
        "scrypt:1:8:1",
        "scrypt:16384:0:1",
        "scrypt:16384:8:0",
        "scrypt:x:8:1",
        "scrypt:1073741824:8:1",  # far too much memory
        "pbkdf2:nohash:1000",
        "pbkdf2:sha256:0",
        "pbkdf2:sha256:-5",
        "pbkdf2:sha256:1_000",
        "pbkdf2:sha256:1000:extra",
    ],
)
def test_generate_rejects_bad_methods(method: str) -> None:
    with pytest.raises(ValueError):
        generate_password_hash("pw", method=method)


@pytest.mark.parametrize(
    "pwhash",
    [
        "",
        "garbage",
        "$$",
        "scrypt$salt",
        "md5$salt$abc",
        "scrypt:16384$salt$abc",
        "scrypt:999999999999999999999999:8:1$salt$abc",
        "scrypt:16384:8:1$salt$",
        "scrypt:16384:8:1$salt$not-hex-at-all",
        "scrypt:16384:8:1$salt$ÄÖÜ",
        "pbkdf2:sha256:１０$salt$abc",  # full-width digits: int() would take them
        "pbkdf2:unknown:1000$salt$abc",
        "pbkdf2:sha256:1000$sa\udcfflt$abc",  # lone surrogate in the salt
        None,
        b"scrypt:16384:8:1$salt$abc",
        12345,
    ],
)
def test_unreadable_hash_is_false_never_an_exception(pwhash: object) -> None:
    assert check_password_hash(pwhash, "pw") is False  # type: ignore[arg-type]


# issue 15, finding 7: PBKDF2's default was 600,000 iterations, Werkzeug 3.1's
# is 1,000,000.
def test_pbkdf2_default_iterations_match_werkzeug() -> None:
    assert DEFAULT_PBKDF2_ITERATIONS == wz.DEFAULT_PBKDF2_ITERATIONS == 1_000_000
    assert generate_password_hash("pw", method="pbkdf2").startswith("pbkdf2:sha256:1000000$")


# issue 15, finding 7: a valid scrypt hash with n = 2**20 (made by Werkzeug, which
# checks it) was refused at once (False) by a 1 GiB memory cap. It takes ~1 GiB
# and a few seconds, so the hash is stored here rather than made by the test.
WERKZEUG_SCRYPT_2_20 = (
    "scrypt:1048576:8:1$yTNPoqoS$4e07d3c17cf04189781359cefd2c345d4bdd95d32183582fb40e9d5fe8ad87e5"
    "78b5fd2555723f34e8dc82441efb1f037dbbaf36a00e1fb0cf6bff760ef8793f"
)


def test_werkzeug_scrypt_hash_with_n_2_20_verifies() -> None:
    assert check_password_hash(WERKZEUG_SCRYPT_2_20, "correct horse")


# issue 15, finding 7: a well-formed hash beyond the limits is a clear error
# naming the limit, not a silent False that locks the user out.
@pytest.mark.parametrize(
    ("pwhash", "limit"),
    [
        ("scrypt:2097152:8:1$salt$abc", "MAX_SCRYPT_MEMORY"),  # Werkzeug can't check it either
        ("scrypt:1073741824:8:1$salt$abc", "MAX_SCRYPT_MEMORY"),
        ("scrypt:1024:8:2000000$salt$abc", "MAX_SCRYPT_MEMORY"),
        ("pbkdf2:sha256:99999999999$salt$abc", "MAX_PBKDF2_ITERATIONS"),
        ("pbkdf2:sha256:50000001$salt$abc", "MAX_PBKDF2_ITERATIONS"),
    ],
)
def test_hash_beyond_the_limits_is_a_clear_error(pwhash: str, limit: str) -> None:
    with pytest.raises(ValueError, match=limit):
        check_password_hash(pwhash, "pw")


def test_limits_can_be_lowered(monkeypatch: pytest.MonkeyPatch) -> None:
    from erlen import security

    pwhash = generate_password_hash("pw", method="scrypt:1024:8:1")
    monkeypatch.setattr(security, "MAX_SCRYPT_MEMORY", 132 * 512 * 8)
    with pytest.raises(ValueError, match="MAX_SCRYPT_MEMORY"):
        check_password_hash(pwhash, "pw")
    monkeypatch.setattr(security, "MAX_PBKDF2_ITERATIONS", 10)
    assert generate_password_hash("pw", method="pbkdf2:sha256:10")
    with pytest.raises(ValueError, match="MAX_PBKDF2_ITERATIONS"):
        generate_password_hash("pw", method="pbkdf2:sha256:11")


def test_non_string_or_unencodable_password_is_false() -> None:
    pwhash = generate_password_hash("pw", method="pbkdf2:sha256:10")
    assert check_password_hash(pwhash, None) is False  # type: ignore[arg-type]
    assert check_password_hash(pwhash, "\udcff") is False


def test_tampered_digest_is_false() -> None:
    pwhash = generate_password_hash("pw", method="pbkdf2:sha256:10")
    method, salt, digest = pwhash.split("$")
    flipped = ("0" if digest[0] != "0" else "1") + digest[1:]
    assert not check_password_hash(f"{method}${salt}${flipped}", "pw")
    assert not check_password_hash(f"{method}${salt}x${digest}", "pw")
    assert not check_password_hash(f"{method}${salt}${digest.upper()}", "pw")


def test_compare_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    from erlen import security

    calls = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    pwhash = generate_password_hash("pw", method="pbkdf2:sha256:10")
    assert check_password_hash(pwhash, "pw")
    assert calls and calls[0][0] == calls[0][1]
