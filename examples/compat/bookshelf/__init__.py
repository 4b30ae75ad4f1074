"""Bookshelf: a small, ordinary Flask app (Flask-SQLAlchemy + Flask-WTF).

Nothing here knows about Erlen: it imports ``flask``, ``flask_sqlalchemy``
and ``flask_wtf`` like any Flask app. Run it on Erlen unchanged with::

    erlen --compat --app bookshelf run

(or ``ERLEN_COMPAT=1 erlen --app bookshelf run``).
"""

from __future__ import annotations

import typing as t

from flask import Flask

from .models import db


def create_app(test_config: t.Mapping[str, t.Any] | None = None) -> Flask:
    """Build the app; ``test_config`` overrides the defaults."""
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY="dev",
        SQLALCHEMY_DATABASE_URI="sqlite:///:memory:",
    )
    if test_config is not None:
        app.config.update(test_config)

    db.init_app(app)

    from . import views

    app.register_blueprint(views.bp)

    with app.app_context():
        db.create_all()
    return app
