"""flaskr's factory, instance folder, secret key and database."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import flaskr
import pytest
from flaskr import create_app
from flaskr.db import get_db
from flaskr_helpers import query

from erlen import Erlen


def test_test_config_replaces_instance_config(tmp_path: Path) -> None:
    (tmp_path / "config.py").write_text("SECRET_KEY = 'from instance'\nTITLE_MAX_LENGTH = 5\n")
    assert create_app(instance_path=str(tmp_path)).config["TITLE_MAX_LENGTH"] == 5
    app = create_app({"TESTING": True}, instance_path=str(tmp_path))
    assert app.testing
    assert app.config["TITLE_MAX_LENGTH"] == 120
    assert app.config["DATABASE"] == os.path.join(str(tmp_path), "flaskr.sqlite")


def test_secret_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    key = create_app(instance_path=str(instance)).config["SECRET_KEY"]
    assert len(key) == 64
    assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600
    assert create_app(instance_path=str(instance)).config["SECRET_KEY"] == key
    (instance / "secret_key").write_text("")
    assert create_app(instance_path=str(instance)).config["SECRET_KEY"] not in ("", key)


def test_configured_secret_key_writes_no_file(tmp_path: Path) -> None:
    create_app({"SECRET_KEY": "set"}, instance_path=str(tmp_path))
    assert not (tmp_path / "secret_key").exists()


def test_db_connection_is_per_context(app: Erlen) -> None:
    with app.app_context():
        db = get_db()
        assert get_db() is db
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        db.execute("SELECT 1")


def test_init_db_command_recreates_the_tables(app: Erlen) -> None:
    assert query(app, "SELECT count(*) FROM post") == [(1,)]
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0
    assert "Initialized the database" in result.output
    assert query(app, "SELECT count(*) FROM post") == [(0,)]
    assert query(app, "SELECT count(*) FROM user") == [(0,)]


def test_stylesheet_is_served(app: Erlen) -> None:
    rv = app.test_client().get("/static/style.css")
    assert rv.status_code == 200
    assert b"@media" in rv.data
    rv.close()


def test_unknown_page_is_a_friendly_404(app: Erlen) -> None:
    rv = app.test_client().get("/nowhere")
    assert rv.status_code == 404
    assert "There is no such page or post." in rv.get_data(as_text=True)


def test_default_instance_folder_is_beside_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    made: list[str] = []
    monkeypatch.setattr(os, "makedirs", lambda path, exist_ok=False: made.append(path))
    # A database of its own: the factory upgrades an existing one, and a
    # test must not touch the developer's instance/flaskr.sqlite.
    app = create_app({"SECRET_KEY": "x", "DATABASE": str(tmp_path / "db.sqlite")})
    expected = os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(flaskr.__file__))), "instance"
    )
    assert app.instance_path == expected == made[0]
    assert os.path.basename(os.path.dirname(expected)) == "flaskr"  # examples/flaskr/instance


# The schema before remember_token_version, as an older flaskr made it.
_OLD_SCHEMA = """
CREATE TABLE user (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT UNIQUE NOT NULL COLLATE NOCASE,
  password TEXT NOT NULL
);
CREATE TABLE post (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  author_id INTEGER NOT NULL REFERENCES user (id),
  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M', 'now')),
  title TEXT NOT NULL,
  body TEXT NOT NULL
);
"""


def _columns(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[1] for row in db.execute("PRAGMA table_info(user)")]


def test_an_older_database_is_upgraded_at_startup(tmp_path: Path) -> None:
    path = tmp_path / "flaskr.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(_OLD_SCHEMA)
        db.execute("INSERT INTO user (username, password) VALUES ('old', 'x')")
        db.execute("INSERT INTO post (title, body, author_id) VALUES ('kept', 'b', 1)")
    db.close()
    config = {"TESTING": True, "SECRET_KEY": "t", "DATABASE": str(path)}
    app = create_app(config, instance_path=str(tmp_path))
    assert _columns(path) == ["id", "username", "password", "remember_token_version"]
    assert query(app, "SELECT username, remember_token_version FROM user") == [("old", 0)]
    assert query(app, "SELECT title FROM post") == [("kept",)]
    # Starting again changes nothing.
    create_app(config, instance_path=str(tmp_path))
    assert _columns(path) == ["id", "username", "password", "remember_token_version"]


def test_no_database_yet_is_left_to_init_db(tmp_path: Path) -> None:
    path = tmp_path / "flaskr.sqlite"
    create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE": str(path)}, str(tmp_path))
    assert not path.exists()
