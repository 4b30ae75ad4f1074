"""Fuzz the header and cookie parsers.

Invariants: every parser takes any text without raising; a cookie written
by ``dump_cookie`` reads back with ``parse_cookie`` unchanged, whatever its
value, and never adds a second cookie or an attribute; ``Headers`` refuses
(ValueError) or stores a value, and a stored value has no CR, LF or NUL.
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports():
    from _harness import main

    from erlen.datastructures import Headers, LanguageAccept, MIMEAccept
    from erlen.http import (
        dump_cookie,
        parse_accept_header,
        parse_authorization_header,
        parse_cookie,
        parse_date,
        parse_dict_header,
        parse_etags,
        parse_list_header,
        parse_options_header,
        parse_www_authenticate_header,
    )


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 3)
    if mode == 0:
        # Header values reach the parsers as latin-1 text (PEP 3333).
        value = fdp.ConsumeBytes(fdp.remaining_bytes()).decode("latin-1")
        mimetype, params = parse_options_header(value)
        assert isinstance(mimetype, str) and all(isinstance(v, str) for v in params.values())
        parse_list_header(value)
        parse_dict_header(value)
        accept = parse_accept_header(value, MIMEAccept)
        accept.best_match(["text/html", "application/json"])
        for item, quality in accept:
            assert 0 <= quality <= 1, (item, quality)
        parse_accept_header(value, LanguageAccept).best_match(["en-US", "de"])
        parse_date(value)
        etags = parse_etags(value)
        "x" in etags  # noqa: B015 - the lookup is what is exercised
        parse_authorization_header(value)
        parse_www_authenticate_header(value)
    elif mode == 1:
        cookies = parse_cookie(fdp.ConsumeBytes(fdp.remaining_bytes()).decode("latin-1"))
        for name, _value in cookies.items(multi=True):
            assert name and name == name.strip() and ";" not in name, name
    elif mode == 2:
        name = fdp.ConsumeUnicodeNoSurrogates(12)
        value = fdp.ConsumeUnicodeNoSurrogates(200)
        if not name.isascii():
            # NOTE: dump_cookie lets a non-ASCII name through (as Werkzeug
            # does) and parse_cookie strips Unicode spaces from it, so only
            # RFC 6265 token names are promised to round-trip.
            return
        try:
            header = dump_cookie(
                name, value, path=fdp.ConsumeUnicodeNoSurrogates(10) or None, max_size=0
            )
        except ValueError:
            return
        # A value is always escaped to ASCII; a name is checked, not escaped.
        assert not any(c in header for c in "\r\n\0"), header
        assert header.partition("=")[2].isascii(), header
        cookie_part = header.split("; ", 1)[0]
        parsed = parse_cookie(cookie_part)
        assert parsed.getlist(name) == [value] and len(parsed) == 1, (name, value, header, parsed)
    else:
        name = fdp.ConsumeUnicodeNoSurrogates(10) or "X"
        value = fdp.ConsumeUnicodeNoSurrogates(100)
        headers = Headers()
        try:
            headers.set(name, value)
        except ValueError:
            return
        for key, stored in headers.items():
            assert not any(c in key + stored for c in "\r\n\0"), (key, stored)
            stored.encode("latin-1")


if __name__ == "__main__":
    main(test_one_input)
