"""Property tests: whatever a client sends, the answer is never a 500 and the app keeps serving.

Bounded example counts keep this quick; the full fuzzing suite is the
hardening work's (issue 6).
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
        "HTTP_COOKIE", "CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_ACCEPT", "HTTP_ACCEPT_LANGUAGE",
        "HTTP_IF_MODIFIED_SINCE", "HTTP_AUTHORIZATION", "HTTP_HOST", "HTTP_X_FORWARDED_FOR",
    ]
)
content_types = st.sampled_from(
    [
        "application/json", "application/x-www-form-urlencoded", "multipart/form-data",
        "multipart/form-data; boundary=xyz", "text/plain", "application/json; charset=latin-1", "",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "BREW", "get"]),
    path=st.one_of(
        st.sampled_from(["/", "/user/1/a", "/user/\u0661/x", "/session", "//", "/user/9" + "9" * 5000 + "/x"]),
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
