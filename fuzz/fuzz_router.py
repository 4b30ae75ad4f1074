"""Fuzz the router: matching any path and method, building from any values.

A fixed map covers every converter, defaults, strict slashes and a
subdomain. Invariants: ``match`` returns or raises one of ``NotFound``,
``MethodNotAllowed`` (with the allowed methods) or ``RequestRedirect``;
a URL built from the values of a match matches the same rule with the same
values; a fuzzed rule string is accepted or refused with ``ValueError``
(or ``LookupError`` for an unknown converter), never anything else.
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports():
    from _harness import main

    from erlen.exceptions import MethodNotAllowed, NotFound, RequestRedirect
    from erlen.routing import BuildError, Map, Rule

url_map = Map(
    [
        Rule("/", endpoint="index"),
        Rule("/static/<path:filename>", endpoint="static"),
        Rule("/user/<int:uid>", endpoint="user"),
        Rule("/user/<int:uid>/posts/", endpoint="posts", methods=["GET", "POST"]),
        Rule("/n/<int(signed=True):n>", endpoint="signed"),
        Rule("/price/<float:p>", endpoint="price"),
        Rule("/item/<uuid:id>", endpoint="item"),
        Rule(
            "/lang/<any(en, de, 'fr'):lang>/<string(minlength=2,maxlength=5):word>", endpoint="lang"
        ),
        Rule("/page/", defaults={"n": 1}, endpoint="page"),
        Rule("/page/<int:n>", endpoint="page"),
        Rule("/files/<path:a>/edit/<b>", endpoint="edit", methods=["PUT"]),
        Rule("/old", redirect_to="/", endpoint="old"),
        Rule("/<name>.json", endpoint="json"),
    ]
)
_METHODS = ["GET", "POST", "PUT", "HEAD", "OPTIONS", "DELETE", "X"]


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    if fdp.ConsumeIntInRange(0, 7) == 0:
        text = fdp.ConsumeUnicodeNoSurrogates(80)
        try:
            rule = Rule("/" + text, endpoint="x")
            Map([rule]).match("/" + text)
        except (ValueError, LookupError, NotFound, MethodNotAllowed, RequestRedirect):
            pass
        return
    method = fdp.PickValueInList(_METHODS)
    path = "/" + fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    try:
        rule, args = url_map.match(path, method)
    except NotFound:
        return
    except MethodNotAllowed as e:
        assert e.valid_methods and method not in e.valid_methods, (path, method, e.valid_methods)
        return
    except RequestRedirect as e:
        assert e.new_url.startswith("/") and "\n" not in e.new_url and "\r" not in e.new_url, (
            e.new_url
        )
        return
    if rule.redirect_to is not None:
        return
    try:
        _, built = url_map.build(rule.endpoint, args, method)
    except BuildError as e:
        raise AssertionError(
            f"{path!r} matched {rule.rule!r} with {args!r} but does not build"
        ) from e
    from erlen.http import url_unquote

    again, again_args = url_map.match(url_unquote(built), method)
    assert again.endpoint == rule.endpoint and again_args == args, (path, built, args, again_args)


if __name__ == "__main__":
    main(test_one_input)
