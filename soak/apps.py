"""The soak's two apps, written once against the Flask API.

``create_app("erlen")`` and ``create_app("flask")`` build the same app on
either framework, so the soak compares the frameworks and nothing else:

- a flaskr-like blog: an index page rendered from a template that reads the
  session, a login form that writes the session, a form post that adds an
  entry (login required, then a redirect), and a file upload;
- a JSON API: list, create (JSON body, 201), fetch one (or 404).

Storage is in memory and bounded (the newest 50 entries and items are
kept), so a worker's memory can only grow through the framework, which is
what the soak measures.
"""

from __future__ import annotations

import collections
import importlib
import itertools
import threading
import typing as t

PAGE = """<!doctype html>
<title>Soak blog</title>
<nav>{% if session.user %}Logged in as {{ session.user }}{% else %}<a href="{{ url_for('login') }}">Log in</a>{% endif %}</nav>
{% for entry in entries %}<article><h2>{{ entry.title }}</h2><p>{{ entry.body }}</p></article>
{% else %}<p>No entries yet.</p>{% endfor %}
"""

LOGIN = """<!doctype html>
<form method=post><input name=username><input type=password name=password><button>Log in</button></form>
{% if error %}<p class=error>{{ error }}</p>{% endif %}
"""


def create_app(framework: str) -> t.Any:
    """Build the soak app on ``framework`` (``"erlen"`` or ``"flask"``)."""
    fw = importlib.import_module(framework)
    app_class = fw.Erlen if framework == "erlen" else fw.Flask
    app = app_class(f"soak_{framework}", static_folder=None)
    app.config.update(SECRET_KEY="soak secret", MAX_CONTENT_LENGTH=1024 * 1024)
    request, session = fw.request, fw.session

    lock = threading.Lock()
    entries: collections.deque[dict[str, str]] = collections.deque(maxlen=50)
    items: dict[int, dict[str, t.Any]] = {}
    item_ids = itertools.count(1)

    @app.route("/")
    def index() -> t.Any:
        return fw.render_template_string(PAGE, entries=list(entries)[-10:])

    @app.route("/login", methods=["GET", "POST"])
    def login() -> t.Any:
        error = None
        if request.method == "POST":
            if request.form.get("password") == "secret":
                session["user"] = request.form["username"]
                return fw.redirect(fw.url_for("index"))
            error = "Invalid password"
        return fw.render_template_string(LOGIN, error=error)

    @app.post("/add")
    def add_entry() -> t.Any:
        if "user" not in session:
            fw.abort(401)
        with lock:
            entries.append({"title": request.form["title"], "body": request.form.get("text", "")})
        return fw.redirect(fw.url_for("index"))

    @app.post("/upload")
    def upload() -> t.Any:
        f = request.files["file"]
        data = f.read()
        return fw.jsonify(name=f.filename, size=len(data), note=request.form.get("note"))

    @app.get("/api/items")
    def list_items() -> t.Any:
        with lock:
            return fw.jsonify(items=list(items.values())[-20:])

    @app.post("/api/items")
    def create_item() -> t.Any:
        payload = request.get_json()
        if not isinstance(payload, dict) or not isinstance(payload.get("name"), str):
            fw.abort(400)
        with lock:
            item = {"id": next(item_ids), "name": payload["name"], "tags": payload.get("tags", [])}
            items[item["id"]] = item
            while len(items) > 50:
                del items[next(iter(items))]
        return fw.jsonify(item), 201

    @app.get("/api/items/<int:item_id>")
    def get_item(item_id: int) -> t.Any:
        with lock:
            item = items.get(item_id)
        if item is None:
            fw.abort(404)
        return fw.jsonify(item)

    return app
