"""erlen.tasks: Celery in Flask's pattern, with a real worker process and a real Redis.

The app is ``tests/celery_apps/task_app`` (an app factory laid out as
Flask's Celery example); the worker loads ``tests/celery_apps/make_celery.py``.
The eager tests need neither Redis nor a worker; the others start one
``celery worker`` (solo pool, a queue of its own) against the
``redis_server`` fixture, bounded in time and stopped at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import typing as t
import uuid
from pathlib import Path

import pytest

pytest.importorskip("celery")

from erlen import Erlen  # noqa: E402
from erlen.tasks import celery_init_app  # noqa: E402

APPS = Path(__file__).resolve().parent / "celery_apps"
WAIT = 30.0  # seconds: the worker's start and each result, at most

EAGER = {
    "CELERY": {
        "task_always_eager": True,
        "task_eager_propagates": True,
        "broker_url": "memory://",
    }
}


@pytest.fixture
def task_app(monkeypatch: pytest.MonkeyPatch) -> t.Any:
    """The example package, importable; Celery's default app put back afterwards."""
    from celery import _state

    monkeypatch.syspath_prepend(str(APPS))
    for name in [k for k in os.environ if k.startswith("ERLEN_")]:
        monkeypatch.delenv(name)
    default = _state.default_app
    import task_app

    yield task_app
    _state.set_default_app(default)


def test_tasks_run_in_the_app_context(task_app: t.Any) -> None:
    app = task_app.create_app({**EAGER, "SITE_NAME": "eager"})
    from task_app import tasks

    result = tasks.add_together.delay(2, 3).get(timeout=WAIT)
    assert result["sum"] == 5
    assert (result["app"], result["site"], result["g"]) == (app.name, "eager", "g works")


def test_async_task(task_app: t.Any) -> None:
    task_app.create_app({**EAGER, "SITE_NAME": "eager"})
    from task_app import tasks

    assert tasks.slow_double.delay(21).get(timeout=WAIT) == "eager: 42"


def test_the_celery_app_is_the_extension_and_the_default(task_app: t.Any) -> None:
    from celery import current_app as celery_current_app

    app = task_app.create_app(EAGER)
    celery_app = app.extensions["celery"]
    assert celery_app.main == app.name
    assert celery_current_app._get_current_object() is celery_app
    assert celery_app.conf.broker_url == "memory://"
    assert celery_app.conf.task_always_eager is True


def test_app_factory_each_app_runs_its_own_tasks(task_app: t.Any) -> None:
    # Each app made by the factory has its own Celery app, whose tasks run in
    # that app's context, not in the last one made.
    first = task_app.create_app({**EAGER, "SITE_NAME": "first"})
    second = task_app.create_app({**EAGER, "SITE_NAME": "second"})
    name = "task_app.tasks.add_together"
    for app, site in ((first, "first"), (second, "second")):
        task = app.extensions["celery"].tasks[name]
        assert task.apply(args=(1, 1)).get()["site"] == site


def test_a_task_called_in_a_view_sees_the_request(task_app: t.Any) -> None:
    # Run in the web process (eager, or called directly), a task's app
    # context is nested in the request's, as `with app.app_context()` in a view.
    app = task_app.create_app(EAGER)
    celery_app = app.extensions["celery"]
    from erlen import request

    @celery_app.task(shared=False)  # this app's only
    def which_path() -> str:
        return request.path

    @app.get("/where")
    def where() -> str:
        return t.cast(str, which_path.delay().get())

    assert app.test_client().get("/where").data == b"/where"


def test_missing_config_is_a_clear_error() -> None:
    app = Erlen("no_celery_config")
    with pytest.raises(KeyError, match=r"app.config\['CELERY'\]"):
        celery_init_app(app)
    assert "celery" not in app.extensions


# -- a real worker and a real Redis --------------------------------------------------


class Worker:
    """``celery -A make_celery worker`` on a queue of its own, killed at the end."""

    def __init__(self, redis_url: str, lifetime: float = 180.0) -> None:
        self.queue = f"erlen-test-{uuid.uuid4().hex[:12]}"
        self.env = {
            "ERLEN_CELERY__broker_url": redis_url,
            "ERLEN_CELERY__result_backend": redis_url,
            "ERLEN_CELERY__task_default_queue": self.queue,
        }
        self.log_path = APPS / f"worker-{self.queue}.log"
        env = {**os.environ, **self.env, "ERLEN_SITE_NAME": "from the worker's config"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(APPS), env.get("PYTHONPATH")]))
        celery = Path(sys.executable).with_name("celery")
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                str(celery),
                "-A",
                "make_celery",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "-Q",
                self.queue,
                "-n",
                f"{self.queue}@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],  # fmt: skip
            cwd=APPS,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        # Whatever the tests do, the worker does not outlive them by much.
        self.timer = threading.Timer(lifetime, self.proc.kill)
        self.timer.daemon = True
        self.timer.start()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.timer.cancel()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()
        self.log_path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def worker(redis_server: t.Any) -> t.Iterator[Worker]:
    if not redis_server.ping():  # a test before this module left it stopped
        redis_server.start()
    w = Worker(redis_server.url)
    try:
        yield w
    finally:
        w.stop()


@pytest.fixture
def worker_app(worker: Worker, task_app: t.Any, monkeypatch: pytest.MonkeyPatch) -> Erlen:
    """The web side: the same factory and settings as the worker, another site name."""
    for name, value in worker.env.items():
        monkeypatch.setenv(name, value)
    app: Erlen = task_app.create_app({"SITE_NAME": "from the web process"})
    return app


def _wait_for_result(client: t.Any, result_id: str, worker: Worker) -> dict[str, t.Any]:
    deadline = time.monotonic() + WAIT
    while True:
        state = client.get(f"/result/{result_id}").get_json()
        if state["ready"]:
            return t.cast("dict[str, t.Any]", state)
        if worker.proc.poll() is not None:
            pytest.fail(f"the worker exited ({worker.proc.returncode}):\n{worker.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no result within {WAIT} s; the worker said:\n{worker.output()}")
        time.sleep(0.05)


def test_a_view_enqueues_a_task_that_a_worker_runs(worker: Worker, worker_app: Erlen) -> None:
    client = worker_app.test_client()
    response = client.post("/add", data={"a": "2", "b": "40"})
    assert response.status_code == 200
    state = _wait_for_result(client, response.get_json()["result_id"], worker)
    assert state["successful"] is True
    value = state["value"]
    # Run by the worker process, in its own app's context (its config).
    assert value["pid"] not in (os.getpid(), None)
    assert value["pid"] == worker.proc.pid
    assert (value["sum"], value["app"], value["g"]) == (42, "task_app", "g works")
    assert value["site"] == "from the worker's config"


def test_an_async_task_on_the_worker(worker: Worker, worker_app: Erlen) -> None:
    from task_app import tasks

    result = tasks.slow_double.delay(5)
    try:
        assert result.get(timeout=WAIT) == "from the worker's config: 10"
    finally:
        result.forget()
