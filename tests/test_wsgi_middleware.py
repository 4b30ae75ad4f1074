"""WSGI middleware on ``app.wsgi_app`` applies under WSGI and ASGI alike.

Under ASGI an app whose ``wsgi_app`` was replaced serves ``http`` requests
through that callable on a worker thread (``erlen.asgi.serve_wsgi``);
WebSockets and ``lifespan`` stay native. Runs over both interfaces.
"""

from __future__ import annotations

from erlen import Erlen, request, stream_with_context
from erlen.compat.proxy_fix import ProxyFix


def test_proxy_fix_gives_forwarded_address_and_scheme(app, client):
    @app.route("/")
    def index():
        return f"{request.remote_addr} {request.scheme} {request.url}"

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    rv = client.get(
        "/",
        headers={
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "example.org",
        },
    )
    assert rv.data == b"203.0.113.7 https https://example.org/"


def test_middleware_changes_status_headers_and_body(app, client):
    @app.route("/")
    def index():
        return "inner"

    inner = app.wsgi_app

    def middleware(environ, start_response):
        def sr(status, headers, exc_info=None):
            headers = [(k, v) for k, v in headers if k != "Content-Length"]
            return start_response("203 Rewritten", [*headers, ("X-MW", "on")], exc_info)

        body = b"".join(inner(environ, sr))
        return [b"<", body, b">"]

    app.wsgi_app = middleware
    rv = client.get("/")
    assert rv.status_code == 203
    assert rv.headers["X-MW"] == "on"
    assert rv.data == b"<inner>"


def test_request_body_and_path_reach_the_app(app, client):
    @app.route("/caf\u00e9/<name>", methods=["POST"])
    def echo(name):
        return f"{request.path} {name} {request.get_data(as_text=True)} {request.args['q']}"

    app.wsgi_app = ProxyFix(app.wsgi_app)
    rv = client.post("/caf\u00e9/x?q=1", data="payload")
    assert rv.get_data(as_text=True) == "/caf\u00e9/x x payload 1"


def test_streamed_body_and_close(app, client):
    @app.route("/")
    def index():
        def gen():
            yield "a"
            yield "b"
            yield "c"

        return app.response_class(stream_with_context(gen()))

    inner = app.wsgi_app
    closed = []

    class Closing:
        def __init__(self, body):
            self.body = body

        def __iter__(self):
            return iter(self.body)

        def close(self):
            closed.append(True)
            close = getattr(self.body, "close", None)
            if close is not None:
                close()

    app.wsgi_app = lambda environ, start_response: Closing(inner(environ, start_response))
    rv = client.get("/")
    assert rv.data == b"abc"
    assert closed == [True]


def test_too_large_body_is_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.route("/", methods=["POST"])
    def index():
        return request.get_data()

    app.wsgi_app = ProxyFix(app.wsgi_app)
    assert client.post("/", data=b"x" * 5).data == b"x" * 5
    assert client.post("/", data=b"x" * 100).status_code == 413


def test_with_client_keeps_the_context(app, client):
    @app.route("/")
    def index():
        return "x"

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)
    with client:
        client.get("/", headers={"X-Forwarded-For": "198.51.100.2"})
        assert request.remote_addr == "198.51.100.2"


def test_flag_follows_assignment(app):
    plain = Erlen("plain")
    assert not plain._wrapped_wsgi
    assert plain._plain_asgi
    app.wsgi_app = ProxyFix(app.wsgi_app)
    assert app._wrapped_wsgi
    assert not app._plain_asgi
    del app.wsgi_app
    assert not app._wrapped_wsgi
    assert app._plain_asgi


def test_async_view_through_the_middleware(app, client):
    @app.route("/")
    async def index():
        return f"async {request.remote_addr}"

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)
    for _ in range(3):  # the pool's threads are reused between requests
        rv = client.get("/", headers={"X-Forwarded-For": "192.0.2.1"})
        assert rv.data == b"async 192.0.2.1"


def test_a_request_through_middleware_shares_an_outer_request_context(app, client):
    # Regression: under ASGI the wrapped wsgi_app ran on a pool thread in an
    # empty context, so a request inside an outer test request context (as
    # pytest-flask keeps one) got an app context of its own; ihatemoney's
    # tests then read stale rows from their own database session.
    from erlen import g

    @app.route("/inner")
    def inner():
        g.project = "raclette"
        return request.path

    app.wsgi_app = ProxyFix(app.wsgi_app)
    with app.test_request_context("/outer"):
        assert client.get("/inner").text == "/inner"
        assert g.project == "raclette"
        assert request.path == "/outer"
