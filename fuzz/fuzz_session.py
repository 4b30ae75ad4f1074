"""Fuzz the session cookie loader.

Half the inputs are raw cookie values; the other half wrap fuzzed payload
bytes in a correctly signed token (with the app's key and salt), so the
loader's decoding steps behind the signature check (base64, zlib, tagged
JSON) are fuzzed too. Invariants: a request with any session cookie is
answered 200 with a dict session; an unsigned value never yields data.
"""

from __future__ import annotations

import base64
import hashlib
import zlib

import atheris

with atheris.instrument_imports():
    from _harness import call, environ, main
    from itsdangerous import TimestampSigner

    from erlen import Erlen, session

app = Erlen("fuzz_session", static_folder=None)
app.config.update(SECRET_KEY="fuzz key", PROPAGATE_EXCEPTIONS=True)
signer = TimestampSigner(
    "fuzz key", salt="cookie-session", key_derivation="hmac", digest_method=hashlib.sha1
)


@app.route("/")
def show() -> str:
    assert isinstance(session, dict) or hasattr(session, "keys")
    data = dict(session)
    session["seen"] = len(data)
    return repr(sorted(data, key=repr))


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 3)
    payload = fdp.ConsumeBytes(fdp.remaining_bytes())
    if mode == 0:
        token = payload.decode("latin-1")
    else:
        # 1: any signed bytes; 2: signed base64 of fuzzed JSON text; 3: the
        # same compressed, as the serializer writes large sessions.
        if mode == 2:
            payload = _b64(payload)
        elif mode == 3:
            payload = b"." + _b64(zlib.compress(payload))
        token = signer.sign(payload).decode("latin-1")
    code, _, body = call(app, environ("GET", "/", "", {"HTTP_COOKIE": f"session={token}"}))
    assert code == 200, code
    if mode == 0:
        # Without the key's signature nothing may come out of the cookie.
        assert body == b"[]", (token, body)


if __name__ == "__main__":
    main(test_one_input)
