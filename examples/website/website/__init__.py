"""A small project website: a few pages and a mailing-list archive.

Run it from ``examples/website`` with ``erlen --app website run --debug``.
"""

from __future__ import annotations

import os
import typing as t

from erlen import Erlen, render_template

from .archive import ArchiveCache

__all__ = ["create_app"]

#: The sample archive shipped with the example.
DEFAULT_MBOX = os.path.join(os.path.dirname(__file__), "data", "erlen-users.mbox")


def create_app(test_config: t.Mapping[str, t.Any] | None = None) -> Erlen:
    """Create the website app.

    :param test_config: Settings that replace the defaults, e.g.
        ``{"TESTING": True, "ARCHIVE_MBOX": "/tmp/list.mbox"}``.
    """
    app = Erlen(__name__)
    app.config.update(
        ARCHIVE_MBOX=DEFAULT_MBOX,
        # Bounds the work one search does; longer queries get a 400.
        SEARCH_MAX_LENGTH=200,
        SEARCH_MAX_RESULTS=50,
    )
    if test_config is not None:
        app.config.update(test_config)

    # Parsed here, once, so a broken mbox fails at startup rather than on a request.
    cache = ArchiveCache(app.config["ARCHIVE_MBOX"])
    cache.get()
    app.extensions["archive"] = cache

    from . import views

    app.register_blueprint(views.pages)
    app.register_blueprint(views.archive, url_prefix="/archive")

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        return render_template("404.html"), 404

    return app
