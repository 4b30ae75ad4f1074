"""Fuzz the form path: urlencoded, multipart (both parsers) and JSON bodies.

Bodies arrive with a ``Content-Length`` or chunked (``wsgi.input_terminated``),
raw or assembled from fuzzed parts so the multipart parser gets past the
first boundary. Invariants: the answer is below 500 and headers stay clean
(see ``_harness.call``); a 200 reports no more fields than were sent and no
text field over the limit.
"""

from __future__ import annotations

import logging

import atheris

with atheris.instrument_imports():
    from _harness import call, environ, main

    from erlen import Erlen, request

# python-multipart logs every malformed body; that is noise at a million inputs.
logging.getLogger("python_multipart").setLevel(logging.CRITICAL)

app = Erlen("fuzz_form", static_folder=None)
# Small limits, so that the fuzzer reaches them.
app.config.update(
    PROPAGATE_EXCEPTIONS=True,
    MAX_CONTENT_LENGTH=64 * 1024,
    MAX_FORM_MEMORY_SIZE=512,
    MAX_FORM_PARTS=8,
)


@app.post("/")
def form() -> str:
    if request.is_json:
        return repr(request.get_json())
    fields = request.form.items(multi=True)
    files = request.files.items(multi=True)
    out = []
    for name, value in fields:
        assert len(value.encode("utf-8", "surrogatepass")) <= 4 * 512, (name, len(value))
        out.append(f"{name}={value}")
    for name, upload in files:
        out.append(f"{name}:{upload.filename}:{upload.mimetype}:{len(upload.read())}")
    if request.mimetype == "multipart/form-data":
        # MAX_FORM_PARTS counts multipart parts (a urlencoded body is
        # bounded by MAX_FORM_MEMORY_SIZE instead).
        assert len(out) <= 8, len(out)
    return "\n".join(out)


_TYPES = [
    "application/x-www-form-urlencoded",
    "application/json",
    "multipart/form-data; boundary=",
    'multipart/form-data; boundary="',
    "multipart/form-data",
    "text/plain",
]


def _multipart(fdp: atheris.FuzzedDataProvider, boundary: bytes) -> bytes:
    out = []
    for _ in range(fdp.ConsumeIntInRange(0, 10)):
        headers = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 120))
        if fdp.ConsumeBool():
            name = fdp.ConsumeBytes(10)
            disposition = b'Content-Disposition: form-data; name="' + name + b'"'
            if fdp.ConsumeBool():
                disposition += b'; filename="' + fdp.ConsumeBytes(12) + b'"'
            headers = disposition + b"\r\n" + headers
        out.append(
            b"--"
            + boundary
            + b"\r\n"
            + headers
            + b"\r\n\r\n"
            + fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 700))
        )
    end = b"\r\n--" + boundary + b"--\r\n" if fdp.ConsumeBool() else b""
    return b"\r\n".join(out) + end + fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 50))


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    content_type = fdp.PickValueInList(_TYPES)
    boundary = b""
    if content_type.endswith("="):
        boundary = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 30)) or b"b"
        content_type += boundary.decode("latin-1")
    elif content_type.endswith('"'):
        boundary = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 30))
        content_type += boundary.decode("latin-1") + '"'
    terminated = fdp.ConsumeBool()
    if boundary and fdp.ConsumeBool():
        body = _multipart(fdp, boundary)
    else:
        body = fdp.ConsumeBytes(fdp.remaining_bytes())
    env = environ("POST", "/", "", {"CONTENT_TYPE": content_type}, body, terminated=terminated)
    call(app, env)


if __name__ == "__main__":
    main(test_one_input)
