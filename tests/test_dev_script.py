"""``dev.py``, the developer commands: the arguments ``serve`` passes, and signal forwarding.

The signal tests run ``dev.py``'s child runner in a process of its own (a
signal handler needs a main thread) over a small stand-in server, and kill
every process they started whatever happens.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

posix_only = pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")


def _load_dev() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("erlen_dev_script", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dev = _load_dev()


# -- which address serve asks for ----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "environ", "expected"),
    [
        ([], {}, ["run", "--host", "127.0.0.1", "--port", "5000"]),
        (["--debug"], {}, ["run", "--host", "127.0.0.1", "--port", "5000", "--debug"]),
        # Regression: dev.py's own --port 5000 came along with the user's.
        (["--port", "5001"], {}, ["run", "--host", "127.0.0.1", "--port", "5001"]),
        (["--port=5001"], {}, ["run", "--host", "127.0.0.1", "--port=5001"]),
        (["-p", "5001"], {}, ["run", "--host", "127.0.0.1", "-p", "5001"]),
        (["-p5001"], {}, ["run", "--host", "127.0.0.1", "-p5001"]),
        (["--host", "0.0.0.0"], {}, ["run", "--port", "5000", "--host", "0.0.0.0"]),
        (["-h", "::1", "-p", "8080"], {}, ["run", "-h", "::1", "-p", "8080"]),
        ([], {"ERLEN_RUN_PORT": "5002"}, ["run", "--host", "127.0.0.1"]),
        ([], {"ERLEN_RUN_HOST": "0.0.0.0"}, ["run", "--port", "5000"]),
        # After "--" nothing is an option of erlen run.
        (["--", "--port"], {}, ["run", "--host", "127.0.0.1", "--port", "5000", "--", "--port"]),
    ],
)
def test_serve_command_lets_the_user_choose_the_address(
    args: list[str], environ: dict[str, str], expected: list[str]
) -> None:
    assert dev.serve_command(args, environ) == expected


# -- forwarding signals to the server ------------------------------------------------

# The stand-in server: it notes its pid, then on SIGTERM or SIGINT takes a
# moment to clean up (as a real server does) and notes that it stopped.
CHILD = """\
import os, signal, sys, time
from pathlib import Path

out = Path(sys.argv[1])
stopping = []

def stop(signum, frame):
    stopping.append(signum)

signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
(out / "pid").write_text(str(os.getpid()))
deadline = time.monotonic() + 60
while not stopping and time.monotonic() < deadline:
    time.sleep(0.02)
time.sleep(0.3)
(out / "stopped").write_text(signal.Signals(stopping[0]).name if stopping else "timeout")
sys.exit(7)
"""

# A server that ignores SIGTERM: dev.py kills it after its stop timeout.
STUBBORN = """\
import os, signal, sys, time
from pathlib import Path

signal.signal(signal.SIGTERM, signal.SIG_IGN)
(Path(sys.argv[1]) / "pid").write_text(str(os.getpid()))
time.sleep(60)
"""

DRIVER = """\
import importlib.util, sys
from pathlib import Path

spec = importlib.util.spec_from_file_location("dev", {dev!r})
dev = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dev)
dev.STOP_TIMEOUT = {timeout!r}
print("started", flush=True)
sys.exit(dev._call([sys.executable, {child!r}, {out!r}], cwd=Path({out!r})))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for(path: Path, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)
    time.sleep(0.05)  # written, not only created
    return path.read_text()


def _run_driver(
    tmp_path: Path, child_source: str, timeout: float = 10.0
) -> tuple[subprocess.Popen[str], int]:
    child = tmp_path / "child.py"
    child.write_text(child_source)
    driver = tmp_path / "driver.py"
    driver.write_text(
        DRIVER.format(
            dev=str(ROOT / "dev.py"), timeout=timeout, child=str(child), out=str(tmp_path)
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(driver)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # As in a terminal, even when the tests run as a background job
        # (which inherits SIGINT ignored; dev.py then leaves it ignored).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout is not None and proc.stdout.readline() == "started\n"
    return proc, int(_wait_for(tmp_path / "pid"))


def _cleanup(proc: subprocess.Popen[str], child_pid: int | None) -> None:
    for pid in (proc.pid, child_pid):
        if pid is not None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    proc.wait(10)
    if proc.stdout is not None:
        proc.stdout.close()


@posix_only
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signals_reach_the_server_and_are_waited_for(
    tmp_path: Path, signum: signal.Signals
) -> None:
    # Regression: SIGTERM to `dev.py serve` ended dev.py alone; the server ran on.
    child_pid = None
    proc, child_pid = _run_driver(tmp_path, CHILD)
    try:
        # Only dev.py gets the signal, as from `kill` or a process manager.
        os.kill(proc.pid, signum)
        assert proc.wait(20) == 7  # the server's own exit status
        # dev.py waited for the server's cleanup: it is over, not cut short.
        expected = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
        assert (tmp_path / "stopped").read_text() == expected
        assert not _alive(child_pid)
    finally:
        _cleanup(proc, child_pid)


@posix_only
def test_a_server_that_will_not_stop_is_killed(tmp_path: Path) -> None:
    child_pid = None
    proc, child_pid = _run_driver(tmp_path, STUBBORN, timeout=0.5)
    try:
        start = time.monotonic()
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(20) == 128 + signal.SIGKILL
        assert time.monotonic() - start < 10
        deadline = time.monotonic() + 5
        while _alive(child_pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(child_pid)
    finally:
        _cleanup(proc, child_pid)


def test_call_returns_the_exit_status(tmp_path: Path) -> None:
    assert dev._call([sys.executable, "-c", "raise SystemExit(3)"], cwd=tmp_path) == 3
    assert dev._call([sys.executable, "-c", "pass"], cwd=tmp_path) == 0


@posix_only
def test_call_gives_back_the_signal_handlers(tmp_path: Path) -> None:
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGHUP)}
    dev._call([sys.executable, "-c", "pass"], cwd=tmp_path)
    assert {signum: signal.getsignal(signum) for signum in before} == before
