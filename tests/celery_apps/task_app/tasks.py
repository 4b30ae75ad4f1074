"""Tasks defined with ``shared_task``: they bind to the app celery_init_app made."""

from __future__ import annotations

import asyncio
import os
import typing as t

from celery import shared_task

from erlen import current_app, g


@shared_task(ignore_result=False)
def add_together(a: int, b: int) -> dict[str, t.Any]:
    # What the task saw: the config of the app it runs in, a usable g, and
    # the process (the worker's, not the test's).
    g.seen = "g works"
    return {
        "sum": a + b,
        "app": current_app.name,
        "site": current_app.config["SITE_NAME"],
        "g": g.seen,
        "pid": os.getpid(),
    }


@shared_task(ignore_result=False)
async def slow_double(x: int) -> str:
    await asyncio.sleep(0)
    return f"{current_app.config['SITE_NAME']}: {2 * x}"
