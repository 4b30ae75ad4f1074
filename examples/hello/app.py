"""The smallest Erlen app, in one file.

From the repository root, ``.venv/bin/erlen --app examples/hello/app.py run``
serves it at http://127.0.0.1:5000 (``python3 dev.py serve`` serves the flaskr
example, not this one).
"""

from markupsafe import escape

from erlen import Erlen, jsonify, request

app = Erlen(__name__)


@app.route("/")
def index():
    name = request.args.get("name", "World")
    return f"<h1>Hello, {escape(name)}!</h1><p>Try <a href='/user/ada'>/user/ada</a> or <a href='/api/42'>/api/42</a>.</p>"


@app.route("/user/<name>")
def user(name):
    return f"<h1>Hello, {escape(name)}!</h1>"


@app.get("/api/<int:item_id>")
def api(item_id):
    return jsonify(id=item_id, square=item_id * item_id)


if __name__ == "__main__":
    app.run()
