"""werkzeug._reloader.run_with_reloader (and werkzeug._internal._log) on Erlen.

Private in Werkzeug, imported at the top of Flask-SocketIO's module; the
reloader runs a real watcher and child process here, bounded in time.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import textwrap
import time
import typing as t
from pathlib import Path

import pytest
from live_servers import clean_env

from erlen.compat._glue import log


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def _wait(
    condition: t.Callable[[], bool], timeout: float, poke: t.Callable[[], None] | None = None
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if poke is not None:
            poke()
        time.sleep(0.5)
    return condition()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX here")
def test_run_with_reloader_restarts_the_function_when_a_file_changes(tmp_path: Path) -> None:
    marker = tmp_path / "started.txt"
    watched = tmp_path / "settings.cfg"
    watched.write_text("0")
    script = tmp_path / "serve.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os, time
            from erlen.compat.reloader import run_with_reloader

            def main():
                with open({str(marker)!r}, "a") as f:
                    f.write(f"{{os.getpid()}}\\n")
                parent = os.getppid()
                # Bounded, and gone with the watcher.
                for _ in range(600):
                    if os.getppid() != parent:
                        return
                    time.sleep(0.1)

            run_with_reloader(main, extra_files=[{str(watched)!r}])
            """
        )
    )
    watcher = subprocess.Popen(
        [sys.executable, str(script)],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert _wait(lambda: len(_lines(marker)) == 1, 30), "the child never started"
        count = iter(range(1, 1000))
        assert _wait(
            lambda: len(_lines(marker)) >= 2,
            30,
            poke=lambda: watched.write_text(str(next(count))),
        ), "a change did not restart the child"
        first, second = _lines(marker)[:2]
        assert first != second
    finally:
        watcher.send_signal(signal.SIGINT)
        try:
            out, _ = watcher.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            watcher.kill()
            out, _ = watcher.communicate()
    assert b"Restarting with watchfiles" in out and b"Detected change in" in out
    assert watcher.returncode is not None


def test_log_goes_to_the_werkzeug_logger(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        log("warning", "careful %s\n", "now")
    (record,) = caplog.records
    assert (record.name, record.levelname, record.getMessage()) == (
        "werkzeug",
        "WARNING",
        "careful now",
    )
