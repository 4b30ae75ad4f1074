"""The benchmark cases: one request each, and what a correct response looks like.

Every framework's app module (``apps_<name>.py``) implements the same routes
so that one :class:`Case` can be sent to each of them unchanged.  Before a
case is timed, :func:`check_response` verifies the status code and body for
every framework, so a benchmark can never silently measure an error page.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

#: Which app a case runs against (see ``create_app`` in the app modules):
#: ``"main"`` has the base routes only, ``"route1000"`` the base routes plus
#: 1000 dynamic routes ``/r{i}/<int:id>``, ``"route1"`` only ``/r999/<int:id>``;
#: ``"session"`` (``create_session_app``) has only ``/session`` and a secret
#: key, so that no other case pays for sessions being configured.
AppKind = Literal["main", "route1000", "route1", "session"]

#: Number of dynamic routes in the ``route1000`` app, and the one requested.
ROUTE_COUNT = 1000
ROUTE_INDEX = ROUTE_COUNT - 1

#: Response body of the ``json`` case (``GET /json``).
JSON_DOC: dict[str, object] = {"message": "Hello, World!", "items": [1, 2, 3]}

#: Request body of the ``json_post`` case (``POST /echo``), echoed back.
ECHO_DOC: dict[str, object] = {
    "id": 1815,
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "active": True,
    "score": 99.5,
    "roles": ["admin", "author"],
    "tags": ["math", "engines", "poetry"],
    "address": {"city": "London", "country": "UK"},
}
ECHO_BODY: bytes = json.dumps(ECHO_DOC).encode()  # 212 bytes

#: Request body of the ``form`` case (``POST /form``): five fields.
FORM_BODY: bytes = b"name=Ada+Lovelace&email=ada%40example.com&age=36&city=London&lang=en"

#: The ``items`` every app passes to ``templates/bench.html`` (``template`` case).
#: The last one must be escaped: it shows that autoescaping is on everywhere.
TEMPLATE_ITEMS: tuple[str, ...] = (*(f"item {i}" for i in range(1, 10)), "Q&A")
#: What ``templates/bench.html`` renders to with ``name="ada"`` and ``TEMPLATE_ITEMS``.
TEMPLATE_HTML: str = (
    "<!doctype html>\n<html>\n<head><title>Erlen benchmark</title></head>\n<body>\n"
    "<h1>Hello, ada!</h1>\n<ul>"
    + "".join(f"\n  <li>item {i}</li>" for i in range(1, 10))
    + "\n  <li>Q&amp;A</li>\n</ul>\n</body>\n</html>"
)


def template_html(name: str) -> str:
    """What ``templates/bench.html`` renders to with ``name`` (plain letters) and the items."""
    return TEMPLATE_HTML.replace("Hello, ada!", f"Hello, {name}!")


#: The uploaded file of the ``upload`` case: 100 kB of deterministic bytes.
UPLOAD_DATA: bytes = random.Random(1815).randbytes(100_000)
UPLOAD_BOUNDARY = "erlenbench5f1c2a9d"
assert UPLOAD_BOUNDARY.encode() not in UPLOAD_DATA
#: Request body of the ``upload`` case (``POST /upload``): a text field, then the file.
UPLOAD_BODY: bytes = (
    (
        f"--{UPLOAD_BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="title"\r\n'
        "\r\n"
        "Quarterly report\r\n"
        f"--{UPLOAD_BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="data.bin"\r\n'
        "Content-Type: application/octet-stream\r\n"
        "\r\n"
    ).encode()
    + UPLOAD_DATA
    + f"\r\n--{UPLOAD_BOUNDARY}--\r\n".encode()
)


@dataclass(frozen=True)
class Variant:
    """One request of a case, and the answer it must get.

    The fixed traffic of a case is its one request sent over and over; the
    varied traffic is a pool of distinct variants (other path values, query
    values, bodies, cookies) sent in turn, so that nothing keyed on the text of
    a request (a parsed header, a verified cookie) is reused.
    """

    path: str
    query: str = ""
    body: bytes | None = None
    #: Extra environ keys (``HTTP_*`` request headers).
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    json: object | None = None


@dataclass(frozen=True)
class Case:
    """One benchmarked request and the response every framework must give."""

    name: str
    description: str
    app: AppKind
    method: str
    path: str
    query: str = ""
    body: bytes | None = None
    content_type: str | None = None
    status: int = 200
    #: Exact expected body, decoded as UTF-8 (for text responses).
    text: str | None = None
    #: Expected JSON document (for JSON responses; Content-Type is checked too).
    json: object | None = None
    #: Expected media type of the response (``Content-Type`` without parameters).
    media_type: str | None = None
    #: When true, the request is first sent once without cookies, when the
    #: case's apps are set up, and every request of the case (check and timed)
    #: then carries the cookies that answer set, as its ``Cookie`` header.
    cookies_from_first_response: bool = False
    #: The frameworks that have this case (``None``: all of them); the others
    #: are shown as n/a.
    frameworks: frozenset[str] | None = None
    #: Shown under the results table: how the frameworks do this case, when
    #: their ways differ.
    note: str = ""

    @property
    def request_line(self) -> str:
        """``METHOD /path?query``, for display."""
        target = f"{self.path}?{self.query}" if self.query else self.path
        return f"{self.method} {target}"

    @property
    def fixed(self) -> Variant:
        """The case's one request, as sent over and over in the fixed traffic."""
        return Variant(self.path, self.query, self.body, {}, self.text, self.json)

    def variant(self, i: int) -> Variant:
        """The ``i``-th request of the varied traffic: distinct for every ``i``.

        For ``session`` the cookie is the framework's own (see ``cookie_chain``
        in ``run.py``): variant ``i`` carries the cookie of a session where
        ``n`` is ``i + 1``, so the answer is ``n={i + 2}``.
        """
        return _VARY[self.name](self, i)

    #: The most distinct variants worth building (``None``: as many as asked):
    #: a pool of 100 kB uploads is kept small, as nothing caches on a body.
    @property
    def pool_limit(self) -> int | None:
        return 64 if self.name == "upload" else None

    def applies_to(self, framework: str) -> bool:
        """Whether ``framework`` has this case (``erlen@REV`` whenever ``erlen`` has it)."""
        return self.frameworks is None or framework.partition("@")[0] in self.frameworks


CASES: tuple[Case, ...] = (
    Case(
        "hello",
        "plain text from a static route",
        "main",
        "GET",
        "/",
        text="Hello, World!",
    ),
    Case(
        "param",
        "one URL path parameter echoed in text",
        "main",
        "GET",
        "/user/ada",
        text="Hello, ada!",
    ),
    Case(
        "route1000",
        f"last of {ROUTE_COUNT} dynamic routes /r{{i}}/<int:id>, plus the base routes",
        "route1000",
        "GET",
        f"/r{ROUTE_INDEX}/42",
        text=f"r{ROUTE_INDEX} id=42",
    ),
    Case(
        "route1",
        "same request as route1000, on an app with only that route",
        "route1",
        "GET",
        f"/r{ROUTE_INDEX}/42",
        text=f"r{ROUTE_INDEX} id=42",
    ),
    Case(
        "query",
        "query string: a string, an int and a repeated key",
        "main",
        "GET",
        "/search",
        query="q=erlen&page=2&tag=a&tag=b",
        text="q=erlen page=2 tags=a,b",
    ),
    Case(
        "json",
        "a dict serialized as JSON",
        "main",
        "GET",
        "/json",
        json=JSON_DOC,
    ),
    Case(
        "json_post",
        f"JSON request body ({len(ECHO_BODY)} bytes) parsed and echoed as JSON",
        "main",
        "POST",
        "/echo",
        body=ECHO_BODY,
        content_type="application/json",
        json=ECHO_DOC,
    ),
    Case(
        "form",
        "urlencoded form with 5 fields, 2 of them read",
        "main",
        "POST",
        "/form",
        body=FORM_BODY,
        content_type="application/x-www-form-urlencoded",
        text="name=Ada Lovelace email=ada@example.com",
    ),
    Case(
        "template",
        "Jinja2 template: a title, the escaped name and a loop of 10 <li>",
        "main",
        "GET",
        "/template",
        query="name=ada",
        text=TEMPLATE_HTML,
        media_type="text/html",
        note="Erlen, Flask: render_template; Falcon: a jinja2.Environment made at "
        "start-up (autoescape, auto_reload off, as in Flask); Bottle: jinja2_template",
    ),
    Case(
        "upload",
        f"multipart: a text field and a {len(UPLOAD_DATA) // 1000} kB file, read fully",
        "main",
        "POST",
        "/upload",
        body=UPLOAD_BODY,
        content_type=f"multipart/form-data; boundary={UPLOAD_BOUNDARY}",
        text=f"title=Quarterly report file=data.bin size={len(UPLOAD_DATA)} "
        f"head={UPLOAD_DATA[:8].hex()}",
    ),
    Case(
        "session",
        "signed cookie session: read n, write n + 1",
        "session",
        "GET",
        "/session",
        text="n=2",
        cookies_from_first_response=True,
        frameworks=frozenset({"erlen", "flask", "bottle"}),
        note="Falcon has no sessions; Bottle, a rough peer, has no sessions either and "
        "keeps n in one of its signed cookies",
    ),
    Case(
        "notfound",
        "unknown URL, the framework's default 404 response",
        "main",
        "GET",
        "/does-not-exist",
        status=404,
    ),
)

CASES_BY_NAME: dict[str, Case] = {case.name: case for case in CASES}


# --------------------------------------------------------------------------- varied traffic


def _word(i: int, salt: str, low: int = 3, high: int = 12) -> str:
    """A deterministic lowercase word for variant ``i``, of ``low`` to ``high`` letters."""
    rng = random.Random(f"{salt}:{i}")
    return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(low, high)))


def _request_id(i: int) -> dict[str, str]:
    # A request that has nothing else to vary still differs in a header, as
    # real requests do (a tracing id); no framework here reads it.
    return {"HTTP_X_REQUEST_ID": f"{random.Random(i).getrandbits(64):016x}"}


def _vary_plain(case: Case, i: int) -> Variant:
    return replace(case.fixed, headers=_request_id(i))


def _vary_param(case: Case, i: int) -> Variant:
    name = _word(i, "user")
    return Variant(f"/user/{name}", text=f"Hello, {name}!")


def _vary_route(case: Case, i: int) -> Variant:
    id_ = random.Random(f"id:{i}").randint(1, 10**6)
    return Variant(f"/r{ROUTE_INDEX}/{id_}", text=f"r{ROUTE_INDEX} id={id_}")


def _vary_query(case: Case, i: int) -> Variant:
    q, a, b = _word(i, "q"), _word(i, "a", 1, 6), _word(i, "b", 1, 6)
    page = random.Random(f"page:{i}").randint(1, 999)
    return Variant(
        "/search",
        f"q={q}&page={page}&tag={a}&tag={b}",
        text=f"q={q} page={page} tags={a},{b}",
    )


def _vary_json_post(case: Case, i: int) -> Variant:
    first, last = _word(i, "first").title(), _word(i, "last").title()
    doc = {
        **ECHO_DOC,
        "id": i,
        "name": f"{first} {last}",
        "email": f"{first.lower()}@example.com",
        "score": random.Random(f"score:{i}").randint(0, 1000) / 10,
    }
    return Variant("/echo", body=json.dumps(doc).encode(), json=doc)


def _vary_form(case: Case, i: int) -> Variant:
    first, last, city = _word(i, "first").title(), _word(i, "last").title(), _word(i, "city")
    email = f"{first.lower()}@example.com"
    age = random.Random(f"age:{i}").randint(18, 99)
    body = f"name={first}+{last}&email={email.replace('@', '%40')}&age={age}&city={city}&lang=en"
    return Variant("/form", body=body.encode(), text=f"name={first} {last} email={email}")


def _vary_template(case: Case, i: int) -> Variant:
    name = _word(i, "name")
    return Variant("/template", f"name={name}", text=template_html(name))


def _vary_upload(case: Case, i: int) -> Variant:
    title = f"Report {_word(i, 'title')}"
    data = i.to_bytes(8, "big") + UPLOAD_DATA[8:]
    body = UPLOAD_BODY.replace(b"Quarterly report", title.encode(), 1).replace(UPLOAD_DATA, data, 1)
    assert body.count(UPLOAD_BOUNDARY.encode()) == 3
    text = f"title={title} file=data.bin size={len(data)} head={data[:8].hex()}"
    return Variant("/upload", body=body, text=text)


def _vary_session(case: Case, i: int) -> Variant:
    return Variant("/session", text=f"n={i + 2}")


def _vary_notfound(case: Case, i: int) -> Variant:
    return Variant(f"/does-not-exist/{_word(i, 'missing')}")


_VARY: dict[str, Callable[[Case, int], Variant]] = {
    "hello": _vary_plain,
    "param": _vary_param,
    "route1000": _vary_route,
    "route1": _vary_route,
    "query": _vary_query,
    "json": _vary_plain,
    "json_post": _vary_json_post,
    "form": _vary_form,
    "template": _vary_template,
    "upload": _vary_upload,
    "session": _vary_session,
    "notfound": _vary_notfound,
}


def check_response(
    case: Case,
    status: str,
    headers: list[tuple[str, str]],
    body: bytes,
    variant: Variant | None = None,
) -> str | None:
    """Return what is wrong with a response to ``case`` (its ``variant``), or ``None``."""
    expected = variant or case.fixed
    code = int(status.split(None, 1)[0]) if status else 0
    if code != case.status:
        return f"expected status {case.status}, got {status!r}"
    if case.media_type is not None:
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        if content_type.split(";", 1)[0].strip().lower() != case.media_type:
            return f"expected Content-Type {case.media_type}, got {content_type!r}"
    if expected.text is not None:
        try:
            text = body.decode()
        except UnicodeDecodeError:
            return "body is not valid UTF-8"
        if text != expected.text:
            return f"expected body {expected.text!r}, got {text!r}"
    if expected.json is not None:
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        if not content_type.startswith("application/json"):
            return f"expected Content-Type application/json, got {content_type!r}"
        try:
            doc = json.loads(body)
        except ValueError:
            return "body is not valid JSON"
        if doc != expected.json:
            return f"expected JSON {expected.json!r}, got {doc!r}"
    return None
