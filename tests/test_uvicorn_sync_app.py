"""A plain-``def`` app in the Flask tutorial's style, served by real ASGI servers (issue 14).

The app keeps a sqlite3 connection on ``g`` (``get_db()``), closes it in
``teardown_appcontext`` and uses it from a ``before_request`` function, from
views that read and write, and from error handlers. sqlite3 refuses a
connection used from a thread other than the one that opened it, so all of
that works only if the whole sync part of a request (hooks, view, error
handlers, teardown) runs on one thread. Under WSGI it always does; these tests
hold the ASGI side to it, served by ``python -m uvicorn module:app``, by
``python -m uvicorn --factory module:create_app`` and by ``erlen run`` (which
serves through uvicorn when it is installed, here with debug mode off).

Each server is a subprocess on 127.0.0.1 and a free port, sent a bounded
number of requests, and stopped (killed if need be) when the test ends.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import textwrap
import time
import typing as t
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from live_servers import HOST, ServerProcess, clean_env

pytest.importorskip("uvicorn", reason="uvicorn (a dev dependency) is the ASGI server under test")

APP_SOURCE = '''\
"""The Flask tutorial's database pattern, with probes that record which thread ran what."""

import os
import sqlite3
import threading

from erlen import Erlen, abort, current_app, g, redirect, render_template, request, url_for

HERE = os.path.dirname(os.path.abspath(__file__))

SCHEMA = """
CREATE TABLE IF NOT EXISTS site (id INTEGER PRIMARY KEY, title TEXT NOT NULL);
INSERT OR IGNORE INTO site (id, title) VALUES (1, 'Tutorial Blog');
CREATE TABLE IF NOT EXISTS post (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refusal (id INTEGER PRIMARY KEY AUTOINCREMENT, reason TEXT NOT NULL);
"""

# Thread ids per probe key and stage; read back through /probe/result/<key>.
PROBES = {}
_probes_lock = threading.Lock()


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(current_app.config["DATABASE"], timeout=10)
        g.db.row_factory = sqlite3.Row
    return g.db


def close_db(e=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def record(stage):
    key = g.get("probe")
    if key:
        with _probes_lock:
            PROBES.setdefault(key, {})[stage] = threading.get_ident()


class Refused(Exception):
    pass


def create_app():
    app = Erlen(__name__)
    app.config.from_mapping(DATABASE=os.path.join(HERE, "tutorial.sqlite"))
    app.teardown_appcontext(close_db)
    with app.app_context():
        db = get_db()
        db.executescript(SCHEMA)
        db.commit()

    @app.before_request
    def load_site():
        g.probe = request.args.get("probe")
        record("before_request")
        g.site = get_db().execute("SELECT title FROM site WHERE id = 1").fetchone()["title"]

    @app.after_request
    def after(response):
        record("after_request")
        return response

    @app.teardown_request
    def teardown_request(exc):
        record("teardown_request")

    @app.teardown_appcontext
    def teardown_appcontext(exc):
        record("teardown_appcontext")

    @app.route("/")
    def index():
        posts = get_db().execute("SELECT id, title, body FROM post ORDER BY id").fetchall()
        return render_template("index.html", posts=posts)

    @app.route("/create", methods=("GET", "POST"))
    def create():
        if request.method == "POST":
            title = request.form["title"].strip()
            if not title:
                return render_template("create.html", error="Title is required."), 400
            db = get_db()
            db.execute("INSERT INTO post (title, body) VALUES (?, ?)", (title, request.form.get("body", "")))
            db.commit()
            return redirect(url_for("index"))
        return render_template("create.html", error=None)

    @app.route("/post/<int:post_id>")
    def post(post_id):
        row = get_db().execute("SELECT id, title, body FROM post WHERE id = ?", (post_id,)).fetchone()
        if row is None:
            abort(404)
        return render_template("post.html", post=row)

    @app.route("/refuse")
    def refuse():
        count = get_db().execute("SELECT COUNT(*) FROM post").fetchone()[0]
        raise Refused(f"refused with {count} posts")

    @app.route("/count")
    async def count():
        return {"posts": get_db().execute("SELECT COUNT(*) FROM post").fetchone()[0], "site": g.site}

    @app.errorhandler(404)
    def not_found(error):
        count = get_db().execute("SELECT COUNT(*) FROM post").fetchone()[0]
        return render_template("404.html", count=count), 404

    @app.errorhandler(Refused)
    def refused(error):
        db = get_db()
        db.execute("INSERT INTO refusal (reason) VALUES (?)", (str(error),))
        db.commit()
        count = db.execute("SELECT COUNT(*) FROM refusal").fetchone()[0]
        return render_template("refused.html", reason=str(error), count=count), 403

    @app.route("/probe/sync")
    def probe_sync():
        record("view")
        return "sync probe"

    @app.route("/probe/async")
    async def probe_async():
        record("view")
        record("loop")
        return "async probe"

    @app.route("/probe/result/<key>")
    async def probe_result(key):
        with _probes_lock:
            return dict(PROBES.get(key, {}))

    return app


app = create_app()
'''

TEMPLATES = {
    "base.html": """\
        <!doctype html>
        <title>{% block title %}{% endblock %} - {{ g.site }}</title>
        <header><h1>{{ g.site }}</h1></header>
        <main>{% block content %}{% endblock %}</main>
    """,
    "index.html": """\
        {% extends "base.html" %}
        {% block title %}Posts{% endblock %}
        {% block content %}
        {% for post in posts %}<article id="post-{{ post['id'] }}"><h2>{{ post['title'] }}</h2><p>{{ post['body'] }}</p></article>
        {% else %}<p class="empty">No posts yet.</p>
        {% endfor %}
        {% endblock %}
    """,
    "create.html": """\
        {% extends "base.html" %}
        {% block title %}New post{% endblock %}
        {% block content %}
        {% if error %}<p class="flash">{{ error }}</p>{% endif %}
        <form method="post"><input name="title"><textarea name="body"></textarea></form>
        {% endblock %}
    """,
    "post.html": """\
        {% extends "base.html" %}
        {% block title %}{{ post['title'] }}{% endblock %}
        {% block content %}<h2>{{ post['title'] }}</h2><p>{{ post['body'] }}</p>{% endblock %}
    """,
    "404.html": """\
        {% extends "base.html" %}
        {% block title %}Not found{% endblock %}
        {% block content %}<p>No such page among {{ count }} posts on {{ g.site }}.</p>{% endblock %}
    """,
    "refused.html": """\
        {% extends "base.html" %}
        {% block title %}Refused{% endblock %}
        {% block content %}<p>Refused ({{ reason }}); refusal number {{ count }}.</p>{% endblock %}
    """,
}

BIN = os.path.dirname(sys.executable)

#: How each server is started; ``{port}`` is a free port.
SERVERS = {
    "uvicorn": [
        sys.executable,
        "-m",
        "uvicorn",
        "--host",
        HOST,
        "--port",
        "{port}",
        "tutorialapp:app",
    ],
    "uvicorn-factory": [
        sys.executable,
        "-m",
        "uvicorn",
        "--host",
        HOST,
        "--port",
        "{port}",
        "--factory",
        "tutorialapp:create_app",
    ],
    "erlen-run": [
        os.path.join(BIN, "erlen"),
        "--app",
        "tutorialapp",
        "run",
        "--no-debug",
        "--no-reload",
        "--host",
        HOST,
        "--port",
        "{port}",
    ],
}
#: The control: the same app under a threaded WSGI server, where each request has one thread.
WSGI_SERVERS = {
    "gunicorn-gthread": [
        os.path.join(BIN, "gunicorn"),
        "--bind",
        f"{HOST}:{{port}}",
        "--workers",
        "1",
        "--threads",
        "4",
        "tutorialapp:app",
    ],
}

#: Words that must not appear anywhere in a server's output.
BAD_OUTPUT = ("ERROR", "Traceback", "ProgrammingError", "Exception")

#: Concurrent clients, and what each of them sends.
CLIENTS = 4
POSTS_PER_CLIENT = 5


def write_app(folder: Path) -> None:
    (folder / "tutorialapp.py").write_text(APP_SOURCE)
    templates = folder / "templates"
    templates.mkdir()
    for name, source in TEMPLATES.items():
        (templates / name).write_text(textwrap.dedent(source))


def start(tmp_path: Path, command: list[str]) -> t.Iterator[ServerProcess]:
    write_app(tmp_path)
    with ServerProcess(command, tmp_path, env=clean_env()) as proc:
        yield proc


@pytest.fixture(params=list(SERVERS))
def server(request: pytest.FixtureRequest, tmp_path: Path) -> t.Iterator[ServerProcess]:
    """The app served by an ASGI server."""
    yield from start(tmp_path, SERVERS[request.param])


@pytest.fixture(params=list(SERVERS) + list(WSGI_SERVERS))
def any_server(request: pytest.FixtureRequest, tmp_path: Path) -> t.Iterator[ServerProcess]:
    """The app served by an ASGI server, or by a WSGI server as a control."""
    yield from start(tmp_path, {**SERVERS, **WSGI_SERVERS}[request.param])


class Reply(t.NamedTuple):
    status: int
    headers: dict[str, str]
    body: str


class Client:
    """One keep-alive HTTP/1.1 connection to the server, every call bounded by ``timeout``."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def get(self, path: str) -> Reply:
        return self._send("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Reply:
        body = urllib.parse.urlencode(form).encode()
        return self._send("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def _send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        self.conn.request(method, path, body=body, headers=headers or {})
        response = self.conn.getresponse()
        return Reply(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            response.read().decode(),
        )

    def close(self) -> None:
        self.conn.close()


def assert_quiet(server: ServerProcess) -> None:
    """Stop the server; nothing in its output is an error, and ``erlen run`` served through uvicorn."""
    server.stop()
    output = server.output()
    found = [word for word in BAD_OUTPUT if word in output]
    assert not found, f"{found} in the output of {' '.join(server.command)}:\n{output}"
    if os.path.basename(server.command[0]) == "erlen":
        assert " * Debug mode: off" in output and "Serving the ASGI side with uvicorn" in output, (
            output
        )


def check(reply: Reply, status: int, *texts: str, server: ServerProcess) -> None:
    """``reply`` has ``status`` and contains every one of ``texts``; else fail showing the server's output."""
    missing = [text for text in texts if text not in reply.body]
    assert reply.status == status and not missing, (
        f"expected {status} with {missing}, got {reply.status}:\n{reply.body[:2000]}\n"
        f"--- server output ---\n{server.output()}"
    )


def test_tutorial_database_pattern(any_server: ServerProcess) -> None:
    server = any_server
    client = Client(server.port)
    try:
        check(
            client.get("/"),
            200,
            "<title>Posts - Tutorial Blog</title>",
            "No posts yet.",
            server=server,
        )
        check(client.get("/create"), 200, "<title>New post - Tutorial Blog</title>", server=server)
        created = client.post("/create", {"title": "First", "body": "Hello from a form."})
        check(created, 302, server=server)
        assert created.headers["location"] == "/"
        check(
            client.post("/create", {"title": "  ", "body": "no title"}),
            400,
            "Title is required.",
            server=server,
        )
        check(
            client.get("/"),
            200,
            '<article id="post-1"><h2>First</h2><p>Hello from a form.</p>',
            server=server,
        )
        check(client.get("/post/1"), 200, "<title>First - Tutorial Blog</title>", server=server)
        # 404s: from abort() in a view, and from routing; the handler reads the database.
        check(
            client.get("/post/999"),
            404,
            "No such page among 1 posts on Tutorial Blog.",
            server=server,
        )
        check(
            client.get("/no/such/page"),
            404,
            "No such page among 1 posts on Tutorial Blog.",
            server=server,
        )
        # A handler for an exception class, which writes to the database.
        check(
            client.get("/refuse"),
            403,
            "Refused (refused with 1 posts); refusal number 1.",
            server=server,
        )
        check(client.get("/refuse"), 403, "refusal number 2.", server=server)
        # An async view with the sync before_request and teardown around it.
        reply = client.get("/count")
        check(reply, 200, server=server)
        assert json.loads(reply.body) == {"posts": 1, "site": "Tutorial Blog"}
    finally:
        client.close()

    def one_client(n: int) -> list[tuple[str, Reply]]:
        own = Client(server.port)
        try:
            replies = []
            for i in range(POSTS_PER_CLIENT):
                title = f"post {n}-{i}"
                replies.append(
                    (
                        f"POST {title}",
                        own.post("/create", {"title": title, "body": f"body of {title}"}),
                    )
                )
                replies.append(("GET /", own.get("/")))
                replies.append(("GET /missing", own.get(f"/post/{10_000 + i}")))
            return replies
        finally:
            own.close()

    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(one_client, n) for n in range(CLIENTS)]
        results = [future.result(timeout=60) for future in futures]
    for replies in results:
        for what, reply in replies:
            if what.startswith("POST"):
                check(reply, 302, server=server)
            elif what == "GET /":
                check(reply, 200, "<title>Posts - Tutorial Blog</title>", server=server)
            else:
                check(reply, 404, "No such page among", server=server)

    client = Client(server.port)
    try:
        final = client.get("/")
        titles = [f"post {n}-{i}" for n in range(CLIENTS) for i in range(POSTS_PER_CLIENT)]
        check(final, 200, "First", *(f"<h2>{title}</h2>" for title in titles), server=server)
        reply = client.get("/count")
        assert json.loads(reply.body)["posts"] == 1 + CLIENTS * POSTS_PER_CLIENT
    finally:
        client.close()
    assert_quiet(server)


def probe(client: Client, kind: str, server: ServerProcess) -> dict[str, int]:
    """Send one request to /probe/<kind>; the thread ids its hooks and view recorded."""
    key = uuid.uuid4().hex
    check(client.get(f"/probe/{kind}?probe={key}"), 200, f"{kind} probe", server=server)
    # Teardown may finish after the response is sent: ask again (a bounded number of times).
    for _ in range(100):
        reply = client.get(f"/probe/result/{key}")
        check(reply, 200, server=server)
        stages: dict[str, int] = json.loads(reply.body)
        if "teardown_appcontext" in stages:
            return stages
        time.sleep(0.02)
    raise AssertionError(f"teardown_appcontext never ran for /probe/{kind}: {stages}")


HOOKS = ("before_request", "view", "after_request", "teardown_request", "teardown_appcontext")


def test_plain_def_request_runs_on_one_thread_off_the_loop(server: ServerProcess) -> None:
    client = Client(server.port)
    try:
        async_stages = probe(client, "async", server)
        loop = async_stages["loop"]
        # An async view's request: its sync hooks run on the loop with it.
        assert {stage: async_stages[stage] for stage in HOOKS} == dict.fromkeys(HOOKS, loop)
        for _ in range(3):  # a few times: the pool has more than one thread
            sync_stages = probe(client, "sync", server)
            threads = {stage: sync_stages[stage] for stage in HOOKS}
            assert len(set(threads.values())) == 1, (
                f"a plain-def request ran on several threads: {threads} (loop: {loop})"
            )
            assert threads["view"] != loop, "a plain-def view ran on the event loop's thread"
    finally:
        client.close()
    assert_quiet(server)
