"""Fuzz the URL and query-string parsers, alone and behind the WSGI adapter.

Invariants: ``url_decode`` of text never raises and of bytes raises only
``UnicodeDecodeError``; ``url_encode``/``url_decode`` and
``url_quote``/``url_unquote`` round-trip; ``iri_to_uri`` gives ASCII with no
CR/LF; a request with any path and query is answered below 500.
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports():
    from _harness import call, environ, main

    from erlen import Erlen, request
    from erlen.datastructures import MultiDict
    from erlen.http import iri_to_uri, url_decode, url_encode, url_quote, url_unquote

app = Erlen("fuzz_url", static_folder=None)


@app.route("/")
@app.route("/<path:rest>")
def echo(rest: str = "") -> str:
    return repr(request.args.to_dict(flat=False)) + request.full_path + request.url


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 3)
    if mode == 0:
        raw = fdp.ConsumeBytes(fdp.remaining_bytes())
        try:
            parsed = url_decode(raw)
        except UnicodeDecodeError:
            return
        for key, value in parsed.items(multi=True):
            assert isinstance(key, str) and isinstance(value, str)
        url_decode(raw.decode("latin-1"), separator=";")
    elif mode == 1:
        pairs = [
            (fdp.ConsumeUnicodeNoSurrogates(20), fdp.ConsumeUnicodeNoSurrogates(40))
            for _ in range(fdp.ConsumeIntInRange(0, 5))
        ]
        pairs = [(k, v) for k, v in pairs if k]
        decoded = url_decode(url_encode(MultiDict(pairs)))
        assert sorted(decoded.items(multi=True)) == sorted(pairs), (pairs, decoded)
        text = fdp.ConsumeUnicodeNoSurrogates(200)
        assert url_unquote(url_quote(text)) == text
    elif mode == 2:
        iri = fdp.ConsumeUnicodeNoSurrogates(300)
        uri = iri_to_uri(iri)
        assert uri.isascii() and "\r" not in uri and "\n" not in uri, (iri, uri)
        url_unquote(fdp.ConsumeBytes(200))
    else:
        # PEP 3333 strings are latin-1 text carrying the raw bytes.
        path = "/" + fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 200)).decode("latin-1")
        query = fdp.ConsumeBytes(fdp.remaining_bytes()).decode("latin-1")
        call(app, environ("GET", path, query))


if __name__ == "__main__":
    main(test_one_input)
