"""An app factory with Celery, laid out as Flask's Celery example is.

``make_celery.py`` next to this package is what the worker loads
(``celery -A make_celery worker``); the tests import :func:`create_app`.
Settings come from the environment (``ERLEN_CELERY__broker_url=...``), so
the worker and the test process configure the same app the same way.
"""

from __future__ import annotations

import typing as t

from erlen import Erlen, jsonify, request
from erlen.tasks import celery_init_app


def create_app(test_config: dict[str, t.Any] | None = None) -> Erlen:
    app = Erlen(__name__)
    app.config.from_mapping(
        CELERY={"task_ignore_result": True},
        SITE_NAME="unset",
    )
    app.config.from_prefixed_env()
    if test_config is not None:
        app.config.update(test_config)
    celery_init_app(app)

    from . import tasks

    @app.post("/add")
    def start_add() -> t.Any:
        result = tasks.add_together.delay(int(request.form["a"]), int(request.form["b"]))
        return {"result_id": result.id}

    @app.get("/result/<id>")
    def task_result(id: str) -> t.Any:
        from celery.result import AsyncResult

        result = AsyncResult(id)
        ready = result.ready()
        return jsonify(
            ready=ready,
            successful=result.successful() if ready else None,
            value=result.result if ready else None,
        )

    return app
