"""The SQLite database: one connection per app context, and the ``init-db`` command."""

from __future__ import annotations

import sqlite3

import click

from erlen import Erlen, current_app, g
from erlen.cli import with_appcontext

__all__ = ["get_db", "close_db", "init_db", "init_app"]


def get_db() -> sqlite3.Connection:
    """The connection for this app context, opened on first use."""
    db: sqlite3.Connection | None = g.get("db")
    if db is None:
        db = sqlite3.connect(current_app.config["DATABASE"])
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        g.setdefault("db", db)
    return db


def close_db(exc: BaseException | None = None) -> None:
    """Close this app context's connection, if one was opened."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db() -> None:
    """Drop and recreate the tables."""
    db = get_db()
    with current_app.open_resource("schema.sql") as f:
        db.executescript(f.read().decode("utf-8"))


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Clear the existing data and create new tables."""
    init_db()
    click.echo(f"Initialized the database in {current_app.config['DATABASE']}.")


def init_app(app: Erlen) -> None:
    """Close the connection after each request and add the ``init-db`` command."""
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
