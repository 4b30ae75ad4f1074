"""The SQLite database: a connection per app context and the ``init-db`` command."""

from __future__ import annotations

import os
import sqlite3
import typing as t

import click

from erlen import Erlen, current_app, g
from erlen.cli import with_appcontext

__all__ = ["get_db", "query_db", "init_db", "upgrade_db", "init_app"]


def get_db() -> sqlite3.Connection:
    """This app context's connection, opened on first use."""
    db: sqlite3.Connection | None = g.get("db")
    if db is None:
        db = sqlite3.connect(current_app.config["DATABASE"])
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        g.setdefault("db", db)
    return db


def query_db(sql: str, args: t.Sequence[t.Any] = (), one: bool = False) -> t.Any:
    """The rows of a query, or only the first row (``None`` if none) with ``one``."""
    rows = get_db().execute(sql, args).fetchall()
    if one:
        return rows[0] if rows else None
    return rows


def close_db(exc: BaseException | None = None) -> None:
    """Close this app context's connection, if it was opened."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db() -> None:
    """Create the tables, dropping any that exist."""
    with current_app.open_resource("schema.sql") as f:
        get_db().executescript(f.read().decode("utf-8"))


def upgrade_db(path: str) -> None:
    """Bring a database made by an older ``schema.sql`` up to date, keeping its data.

    Adds ``user.remember_token_version`` where it is missing. Run once at
    startup, not per request; a database that doesn't exist yet is left to
    ``init-db``.
    """
    if not os.path.isfile(path):
        return
    db = sqlite3.connect(path, isolation_level=None)
    try:
        # IMMEDIATE takes the write lock before the check, so two processes
        # starting together can't both add the column.
        db.execute("BEGIN IMMEDIATE")
        columns = {row[1] for row in db.execute("PRAGMA table_info(user)")}
        if columns and "remember_token_version" not in columns:
            db.execute(
                "ALTER TABLE user ADD COLUMN remember_token_version INTEGER NOT NULL DEFAULT 0"
            )
        db.execute("COMMIT")
    finally:
        db.close()


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create minitwit's tables (all data is deleted)."""
    init_db()
    click.echo(f"Initialized the database in {current_app.config['DATABASE']}.")


def init_app(app: Erlen) -> None:
    """Upgrade an existing database; close connections after each request; add the
    ``init-db`` command."""
    upgrade_db(app.config["DATABASE"])
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
