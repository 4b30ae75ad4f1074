"""The application factory, the instance folder and the init-db command."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from minitwit import create_app
from minitwit_helpers import Actions, query

from erlen import Erlen
from erlen.testing import ErlenClient

EXAMPLE = Path(__file__).resolve().parent.parent


def test_config(app: Erlen, tmp_path: Path) -> None:
    assert app.testing
    assert app.instance_path == str(tmp_path)
    assert app.config["MESSAGE_MAX_LENGTH"] == 280
    assert not create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"}).testing


def test_secret_key_made_once_in_instance_folder(tmp_path: Path) -> None:
    first = create_app({"INSTANCE_PATH": str(tmp_path / "inst")})
    key_file = tmp_path / "inst" / "secret_key"
    assert key_file.is_file() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.secret_key == key_file.read_text() and len(first.secret_key) == 64
    second = create_app({"INSTANCE_PATH": str(tmp_path / "inst")})
    assert second.secret_key == first.secret_key
    # An empty key file is replaced by a new key.
    key_file.write_text("")
    third = create_app({"INSTANCE_PATH": str(tmp_path / "inst")})
    assert third.secret_key and third.secret_key != first.secret_key


def test_instance_config_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without test_config the instance folder's config.py applies. Point the
    # app at a temporary instance folder through Erlen's own argument.
    import minitwit

    (tmp_path / "config.py").write_text("SECRET_KEY = 'from config.py'\nPER_PAGE = 7\n")
    real_erlen = minitwit.Erlen  # type: ignore[attr-defined]

    def erlen_in_tmp(*args: object, **kwargs: object) -> Erlen:
        kwargs["instance_path"] = str(tmp_path)
        return real_erlen(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(minitwit, "Erlen", erlen_in_tmp)
    app = minitwit.create_app()
    assert app.config["SECRET_KEY"] == "from config.py" and app.config["PER_PAGE"] == 7
    assert app.config["DATABASE"] == os.path.join(str(tmp_path), "minitwit.sqlite")


def test_init_db_command_recreates_tables(app: Erlen, act: Actions) -> None:
    act.register("ann")
    assert query(app, "SELECT username FROM user") == [("ann",)]
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0 and "Initialized the database" in result.output
    assert query(app, "SELECT * FROM user") == []


def test_erlen_command_line(tmp_path: Path) -> None:
    # What the README says to run, in a real process. The instance folder
    # is found from the package's location, so a copy keeps the real
    # example's folder untouched.
    import shutil

    shutil.copytree(
        EXAMPLE / "minitwit", tmp_path / "minitwit", ignore=shutil.ignore_patterns("__pycache__")
    )
    result = subprocess.run(
        [sys.executable, "-m", "erlen", "--app", "minitwit", "init-db"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    match = re.fullmatch(r"Initialized the database in (.+)\.\n", result.stdout)
    assert match is not None, result.stdout
    database = Path(match[1])
    assert database.is_file() and database.name == "minitwit.sqlite"
    assert tmp_path in database.parents  # the instance folder of the copy


def test_connection_closed_with_the_app_context(app: Erlen) -> None:
    import sqlite3

    from minitwit.db import get_db

    with app.app_context():
        conn = get_db()
        assert get_db() is conn  # one connection per context
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT 1")


def test_405_keeps_erlens_page_and_allow_header(client: ErlenClient) -> None:
    rv = client.put("/public")
    assert rv.status_code == 405
    assert "GET" in rv.headers["Allow"]


# The user table before remember_token_version, as an older minitwit made it.
_OLD_USER_TABLE = """
CREATE TABLE user (
  user_id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  email TEXT NOT NULL,
  pw_hash TEXT NOT NULL
);
"""


def _columns(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [row[1] for row in db.execute("PRAGMA table_info(user)")]
    finally:
        db.close()


def test_an_older_database_is_upgraded_at_startup(tmp_path: Path) -> None:
    path = tmp_path / "minitwit.sqlite"
    db = sqlite3.connect(path)
    db.executescript(_OLD_USER_TABLE)
    db.execute("INSERT INTO user (username, email, pw_hash) VALUES ('old', 'o@example.com', 'x')")
    db.commit()
    db.close()
    config = {"SECRET_KEY": "t", "INSTANCE_PATH": str(tmp_path), "DATABASE": str(path)}
    app = create_app(config)
    expected = ["user_id", "username", "email", "pw_hash", "remember_token_version"]
    assert _columns(path) == expected
    assert query(app, "SELECT username, remember_token_version FROM user") == [("old", 0)]
    create_app(config)  # starting again changes nothing
    assert _columns(path) == expected


def test_no_database_yet_is_left_to_init_db(tmp_path: Path) -> None:
    path = tmp_path / "minitwit.sqlite"
    create_app({"SECRET_KEY": "t", "INSTANCE_PATH": str(tmp_path), "DATABASE": str(path)})
    assert not path.exists()
