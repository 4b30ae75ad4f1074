"""Background tasks with Celery, in Flask's documented pattern.

Work that must survive the request's process, be retried, or run on other
machines belongs in a task queue. :func:`celery_init_app` connects a
`Celery <https://docs.celeryq.dev/>`_ app to an Erlen app as Flask's
"Background Tasks with Celery" pattern does, so code written for that
pattern runs unchanged:

- The Celery app is configured from the ``CELERY`` key of the app's
  config (a dict of Celery's lower-case settings: ``broker_url``,
  ``result_backend``, ...), named after the app, made the default app (so
  ``@shared_task`` functions bind to it) and kept in
  ``app.extensions["celery"]``.
- Every task runs inside ``app.app_context()``, so ``current_app``, ``g``
  and extensions that need the app (a database session) work in it, in the
  worker as in the web process. An ``async def`` task is run to its end
  with :meth:`~erlen.Erlen.ensure_sync`.

It works with an app factory: call it in ``create_app()``, and point the
worker at a module that makes the app::

    # make_celery.py
    from myapp import create_app

    flask_app = create_app()
    celery_app = flask_app.extensions["celery"]

    $ celery -A make_celery worker --loglevel INFO

Celery is not a dependency of Erlen: ``pip install erlen[celery]`` (Celery
with its Redis transport). This module imports it only when
:func:`celery_init_app` is called.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from .app import Erlen

__all__ = ["celery_init_app"]


def celery_init_app(app: Erlen) -> t.Any:
    """Create the Celery app for ``app``, whose tasks run in ``app``'s app context.

    ::

        app.config["CELERY"] = {
            "broker_url": "redis://localhost:6379/0",
            "result_backend": "redis://localhost:6379/0",
            "task_ignore_result": True,
        }
        celery_app = celery_init_app(app)

    :param app: The application; its ``CELERY`` config key is required.
    :return: The :class:`celery.Celery` app, also stored as
        ``app.extensions["celery"]`` and made Celery's default app.
    :raises KeyError: The config has no ``CELERY`` dict.

    .. versionadded:: 0.1
    """
    from celery import Celery, Task  # type: ignore[import-untyped]

    config = app.config.get("CELERY")
    if not isinstance(config, dict):
        raise KeyError(
            "celery_init_app needs app.config['CELERY'], a dict of Celery settings such as"
            " {'broker_url': 'redis://localhost:6379/0',"
            " 'result_backend': 'redis://localhost:6379/0'}."
        )

    class AppTask(Task):  # type: ignore[misc]
        """A task that runs inside the Erlen app's context."""

        def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
            with app.app_context():
                # NOTE: ensure_sync runs an `async def` task to its end; it
                # returns a plain function as it is.
                return app.ensure_sync(self.run)(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=AppTask)
    celery_app.config_from_object(config)
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
