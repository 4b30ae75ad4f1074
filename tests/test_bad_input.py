"""Property tests: whatever a client sends, the answer is never a 500 and the app keeps serving.

Bounded example counts keep this quick; the coverage-guided fuzzers are in
``fuzz/``. JSON, chunked (``wsgi.input_terminated``) and well-formed form
bodies are also checked to round-trip.
"""

from __future__ import annotations

import io
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from erlen import Erlen, request

app = Erlen("fuzz_app", static_folder=None)
app.config.update(SECRET_KEY="fuzz", MAX_CONTENT_LENGTH=4096)


@app.route("/", methods=["GET", "POST", "PUT"])
def index():
    parts = [request.method, request.path, repr(request.args.to_dict(flat=False))]
    parts.append(repr(request.cookies.to_dict()))
    parts.append(str(request.accept_mimetypes.best))
    parts.append(str(request.accept_languages.best))
    parts.append(str(request.if_modified_since))
    parts.append(str(request.authorization))
    if request.method != "GET":
        if request.is_json:
            parts.append(repr(request.get_json()))
        else:
            parts.append(repr(request.form.to_dict(flat=False)))
            parts.append(repr(request.files.to_dict(flat=False)))
    return "\n".join(parts)


@app.route("/user/<int:uid>/<path:rest>")
def user(uid, rest):
    return f"{uid} {rest}"


@app.route("/session")
def sess():
    from erlen import session

    session["n"] = session.get("n", 0) + 1
    return str(session["n"])


def call(environ):
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)
        for k, v in headers:
            assert "\n" not in k and "\n" not in v
            v.encode("latin-1")

    body = app(environ, start_response)
    try:
        b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return int(statuses[0].split()[0])


def base_environ(method, path, query, headers, body):
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for key, value in headers.items():
        environ[key] = value
    return environ


latin1 = st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=60)
header_names = st.sampled_from(
    [
        "HTTP_COOKIE",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "HTTP_ACCEPT",
        "HTTP_ACCEPT_LANGUAGE",
        "HTTP_IF_MODIFIED_SINCE",
        "HTTP_AUTHORIZATION",
        "HTTP_HOST",
        "HTTP_X_FORWARDED_FOR",
    ]
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=xyz",
        "text/plain",
        "application/json; charset=latin-1",
        "",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "BREW", "get"]),
    path=st.one_of(
        st.sampled_from(
            ["/", "/user/1/a", "/user/\u0661/x", "/session", "//", "/user/9" + "9" * 5000 + "/x"]
        ),
        latin1.map(lambda s: "/" + s),
    ),
    query=latin1,
    headers=st.dictionaries(header_names, latin1, max_size=5),
    content_type=content_types,
    body=st.binary(max_size=300),
)
def test_never_a_500(method, path, query, headers, content_type, body):
    headers = dict(headers)
    headers.setdefault("CONTENT_TYPE", content_type)
    headers.setdefault("CONTENT_LENGTH", str(len(body)))
    status = call(base_environ(method, path, query, headers, body))
    assert status < 500
    # The app keeps serving.
    assert call(base_environ("GET", "/", "", {}, b"")) == 200


@settings(max_examples=150, deadline=None)
@given(cookie=latin1)
def test_garbage_session_cookie_is_an_empty_session(cookie):
    status = call(base_environ("GET", "/session", "", {"HTTP_COOKIE": f"session={cookie}"}, b""))
    assert status == 200


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=2000))
def test_garbage_multipart_is_4xx_or_ok(data):
    headers = {"CONTENT_TYPE": "multipart/form-data; boundary=b", "CONTENT_LENGTH": str(len(data))}
    assert call(base_environ("POST", "/", "", headers, b"--b\r\n" + data)) < 500


# -- JSON, chunked, and well-formed bodies (issue 6) ---------------------------


@app.post("/echo-json")
def echo_json():
    from erlen import jsonify

    return jsonify(value=request.get_json())


@app.post("/echo-form")
def echo_form():
    from erlen import jsonify

    files = {k: [f.filename, f.read().decode("latin-1")] for k, f in request.files.items()}
    return jsonify(form=request.form.to_dict(flat=False), files=files)


def call_full(environ):
    """Like call(), but also return the body."""
    out = {}

    def start_response(status, headers, exc_info=None):
        out["status"] = int(status.split()[0])

    body = app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    return out["status"], data


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def chunked_environ(method, path, content_type, body):
    # A chunked request: the server passes no CONTENT_LENGTH and marks the
    # input as terminated (what gunicorn and waitress do).
    environ = base_environ(method, path, "", {"CONTENT_TYPE": content_type}, body)
    environ["wsgi.input_terminated"] = True
    return environ


@settings(max_examples=150, deadline=None)
@given(value=json_values, chunked=st.booleans())
def test_valid_json_round_trips(value, chunked):
    import json

    body = json.dumps(value).encode()
    if chunked:
        environ = chunked_environ("POST", "/echo-json", "application/json", body)
    else:
        environ = base_environ(
            "POST",
            "/echo-json",
            "",
            {"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body))},
            body,
        )
    status, data = call_full(environ)
    assert status == 200
    assert json.loads(data)["value"] == value


@settings(max_examples=150, deadline=None)
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
        st.integers(1, 50_000).map(lambda n: b"[" * n),
        st.integers(1, 50_000).map(lambda n: b'{"a":' * n),
        st.sampled_from([b"", b"NaN", b'"\\ud800"', b"\xff\xfe{}", b"1e999999", b"[1,]", b"\x00"]),
    ),
    chunked=st.booleans(),
)
def test_broken_json_is_4xx(body, chunked):
    if chunked:
        environ = chunked_environ("POST", "/echo-json", "application/json", body)
    else:
        headers = {"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body))}
        environ = base_environ("POST", "/echo-json", "", headers, body)
    status, _ = call_full(environ)
    # Anything JSON-ish may parse (200); nothing is a 500 (4096 bytes is the
    # body limit, so the long ones are 413).
    assert status < 500
    assert call(base_environ("GET", "/", "", {}, b"")) == 200


@settings(max_examples=150, deadline=None)
@given(
    content_type=content_types,
    body=st.binary(max_size=6000),
)
def test_chunked_bodies_never_500(content_type, body):
    status = call(chunked_environ("POST", "/", content_type, body))
    assert status < 500
    if len(body) > 4096 and content_type not in ("text/plain", ""):
        # MAX_CONTENT_LENGTH applies to a body with no declared length too
        # (the view reads form and JSON bodies, and leaves others unread).
        assert status == 413


field_names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters='"\\\r\n%'),
    min_size=1,
    max_size=10,
)


@settings(max_examples=150, deadline=None)
@given(
    fields=st.lists(
        st.tuples(field_names, st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)),
        max_size=5,
    ),
    upload=st.one_of(st.none(), st.tuples(field_names, st.binary(max_size=300))),
    chunked=st.booleans(),
)
def test_well_formed_multipart_round_trips(fields, upload, chunked):
    import json

    boundary = "----hypothesisBoundary7MA4"
    parts = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    if upload is not None:
        filename, data = upload
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="upload"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    content_type = f"multipart/form-data; boundary={boundary}"
    if chunked:
        environ = chunked_environ("POST", "/echo-form", content_type, body)
    else:
        headers = {"CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body))}
        environ = base_environ("POST", "/echo-form", "", headers, body)
    status, data = call_full(environ)
    if len(body) > 4096:
        assert status == 413
        return
    assert status == 200, data
    parsed = json.loads(data)
    expected: dict = {}
    for name, value in fields:
        # Line breaks in a text field are kept exactly as sent.
        expected.setdefault(name, []).append(value)
    assert parsed["form"] == expected
    if upload is not None:
        assert parsed["files"]["upload"] == [upload[0], upload[1].decode("latin-1")]


@settings(max_examples=150, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.text(max_size=10), st.text(max_size=20)), max_size=6),
    chunked=st.booleans(),
)
def test_urlencoded_round_trips(pairs, chunked):
    import json
    from urllib.parse import urlencode

    body = urlencode(pairs).encode()
    content_type = "application/x-www-form-urlencoded"
    if chunked:
        environ = chunked_environ("POST", "/echo-form", content_type, body)
    else:
        headers = {"CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body))}
        environ = base_environ("POST", "/echo-form", "", headers, body)
    status, data = call_full(environ)
    assert status == 200
    expected: dict = {}
    for key, value in pairs:
        # urlencode writes "=" even for an empty pair, and "=" is a pair.
        expected.setdefault(key, []).append(value)
    assert json.loads(data)["form"] == expected
