"""The development server's reloader: which files to watch, and the watcher process.

With ``use_reloader=True`` the process that calls
:func:`erlen.serving.run_simple` becomes a *watcher*: it binds the listening
socket, starts the same command line again as a child process that serves on
that socket, and restarts the child whenever a watched source file changes.
File changes come from the operating system's notifications through
:mod:`watchfiles`, not from polling. Because the watcher holds the socket,
the port stays bound across restarts: there is no "address already in use"
race, and requests made while the child restarts wait in the listen queue.
A child that exits by itself (an app that fails at import) is restarted on
the next change; until then the watcher answers requests with a ``503``
saying so, rather than leaving them waiting.

The watched files are the ``.py`` files in the folders of the modules
imported when :func:`~erlen.serving.run_simple` is called (the standard
library and installed packages left out), plus ``extra_files``. A module the
app only imports later, from a folder holding none of those, is not watched.
"""

from __future__ import annotations

import fnmatch
import os
import signal
import site
import socket
import subprocess
import sys
import sysconfig
import threading
import typing as t

if t.TYPE_CHECKING:
    from types import ModuleType

__all__ = ["Reloader", "WatchedPaths", "module_dirs"]

#: Set to ``"true"`` in the environment of the child process the reloader
#: starts; that process serves, its parent watches.
RUN_MAIN_ENV = "ERLEN_RUN_MAIN"
#: The number of the listening socket's file descriptor the child inherits.
SERVER_FD_ENV = "ERLEN_SERVER_FD"
#: The port to bind where no descriptor can be passed (Windows).
SERVER_PORT_ENV = "ERLEN_SERVER_PORT"
#: The watcher's process id, so an orphaned child can notice and exit.
WATCHER_PID_ENV = "ERLEN_RELOADER_PID"

# Hidden dot-files are never modules (a module name can't start with a dot),
# but editors create them next to sources: Emacs's ``.#app.py`` lock links,
# for one.
_IGNORED_PREFIXES = (".",)


def _excluded_roots() -> list[str]:
    """Folders whose modules are not the app's: the standard library and installed packages."""
    roots: set[str] = set()
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if key in paths:
            roots.add(paths[key])
    try:
        roots.update(site.getsitepackages())
    except AttributeError:  # pragma: no cover - old virtualenv's site module
        pass
    user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    if user_site:
        roots.add(user_site)
    if sys.prefix != sys.base_prefix:
        # A virtual environment holds only installed code, wherever it lives
        # (often inside the project folder).
        roots.add(sys.prefix)
    return sorted({os.path.realpath(root) for root in roots})


def _is_under(path: str, roots: t.Iterable[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _matches(path: str, patterns: t.Sequence[str]) -> bool:
    name = os.path.basename(path)
    return any(
        fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(name, pattern) for pattern in patterns
    )


def module_dirs(
    modules: t.Iterable[ModuleType | None] | None = None,
    exclude_patterns: t.Sequence[str] = (),
    excluded_roots: t.Sequence[str] | None = None,
) -> set[str]:
    """The folders holding the app's imported modules, which the reloader watches.

    Modules of the standard library, of site-packages and of the virtual
    environment are left out (they don't change while developing, and a
    venv inside the project must not be watched), as are modules without a
    file on disk and files matching ``exclude_patterns``.

    :param modules: The modules to look at (default: :data:`sys.modules`).
    :param excluded_roots: Folders to leave out (default: see above).
    """
    if modules is None:
        modules = list(sys.modules.values())
    roots = (
        _excluded_roots()
        if excluded_roots is None
        else [os.path.realpath(root) for root in excluded_roots]
    )
    dirs: set[str] = set()
    for module in modules:
        filename = getattr(module, "__file__", None)
        if not isinstance(filename, str):
            continue  # built-in, frozen without a file, namespace package
        path = os.path.realpath(filename)
        parts = path.split(os.sep)
        if _is_under(path, roots) or "site-packages" in parts or "dist-packages" in parts:
            continue  # installed code from some other environment
        if _matches(path, exclude_patterns):
            continue
        folder = os.path.dirname(path)
        # A module inside a zip file has no folder to watch.
        if os.path.isdir(folder):
            dirs.add(folder)
    return dirs


class WatchedPaths:
    """What the reloader watches, and which changes trigger a restart.

    The folders of the app's modules are watched, not recursively: a change
    to a ``.py`` file in one of them restarts. Each extra file is watched
    through its folder (editors often save by writing a new file and
    renaming it over the old one, which a watch on the file itself would
    lose); an extra folder restarts on any file directly in it. Files
    matching ``exclude_patterns`` never restart.

    An instance is a :func:`watchfiles.watch` filter: called with a change
    and a path, it says whether the change counts.

    :param extra_files: Files (or folders) to watch besides the modules.
    :param exclude_patterns: :mod:`fnmatch` patterns, matched against the
        full path and the file name.
    :param modules: Passed to :func:`module_dirs`.
    :param excluded_roots: Passed to :func:`module_dirs`.
    """

    def __init__(
        self,
        extra_files: t.Iterable[str] | None = None,
        exclude_patterns: t.Iterable[str] | None = None,
        modules: t.Iterable[ModuleType | None] | None = None,
        excluded_roots: t.Sequence[str] | None = None,
    ) -> None:
        # One string is one pattern (or file), not a sequence of characters.
        if isinstance(exclude_patterns, str):
            exclude_patterns = [exclude_patterns]
        if isinstance(extra_files, str):
            extra_files = [extra_files]
        self.exclude_patterns: tuple[str, ...] = tuple(exclude_patterns or ())
        self.module_dirs = module_dirs(modules, self.exclude_patterns, excluded_roots)
        self.extra_files: set[str] = set()
        self.extra_dirs: set[str] = set()
        for path in extra_files or ():
            path = os.path.realpath(path)
            if os.path.isdir(path):
                self.extra_dirs.add(path)
            else:
                self.extra_files.add(path)

    @property
    def roots(self) -> list[str]:
        """The folders to give the watcher, each watched without its subfolders."""
        folders = (
            self.module_dirs
            | self.extra_dirs
            | {os.path.dirname(path) for path in self.extra_files}
        )
        # A folder that doesn't exist (yet) can't be watched; the watcher
        # would refuse to start.
        return sorted(folder for folder in folders if os.path.isdir(folder))

    def __call__(self, change: t.Any, path: str) -> bool:
        """Whether a change to ``path`` should restart the server."""
        # Compare real paths, as the watched folders are real paths; some
        # systems report events under another spelling (macOS's /private/var).
        folder, name = os.path.split(path)
        path = os.path.join(os.path.realpath(folder), name)
        folder = os.path.dirname(path)
        if _matches(path, self.exclude_patterns):
            return False
        if path in self.extra_files or folder in self.extra_dirs:
            return True
        return (
            name.endswith(".py")
            and not name.startswith(_IGNORED_PREFIXES)
            and folder in self.module_dirs
        )


def _child_args() -> list[str]:
    """The command line that started this process, to start the server child with."""
    # sys.orig_argv keeps what sys.argv loses: ``-c CODE``, ``-m module`` and
    # interpreter options such as ``-X dev`` or ``-W error``.
    orig = getattr(sys, "orig_argv", None)
    if orig:
        return [sys.executable, *orig[1:]]
    main = sys.modules.get("__main__")  # pragma: no cover - Python < 3.10 only
    spec = getattr(main, "__spec__", None)  # pragma: no cover
    if spec is not None and spec.name:  # pragma: no cover
        name = spec.name.removesuffix(".__main__")
        return [sys.executable, "-m", name, *sys.argv[1:]]
    return [sys.executable, *sys.argv]  # pragma: no cover


class Reloader:
    """Run the server in a child process and restart it when a watched file changes.

    :param sock: The bound, listening socket the child serves on.
    :param extra_files: See :class:`WatchedPaths`.
    :param exclude_patterns: See :class:`WatchedPaths`.
    :param args: The child's command line (default: this process's own).
    """

    #: How long a child gets to stop before it is killed, in seconds.
    stop_timeout = 5.0

    def __init__(
        self,
        sock: socket.socket,
        extra_files: t.Iterable[str] | None = None,
        exclude_patterns: t.Iterable[str] | None = None,
        args: list[str] | None = None,
    ) -> None:
        self.sock = sock
        self.paths = WatchedPaths(extra_files, exclude_patterns)
        self.args = args if args is not None else _child_args()
        self.child: subprocess.Popen[bytes] | None = None
        # Whether the current child's exit has been reported already.
        self._exit_reported = False
        self._port: int | None = None
        self._terminated = False
        self._standin: _StandIn | None = None

    def start_child(self) -> None:
        """Start the serving child process."""
        print(" * Restarting with watchfiles", flush=True)
        # The new child answers from here on, not the watcher.
        self._stop_standin()
        env = dict(os.environ, **{RUN_MAIN_ENV: "true", WATCHER_PID_ENV: str(os.getpid())})
        kwargs: dict[str, t.Any] = {}
        if os.name == "posix":
            fd = self.sock.fileno()
            env[SERVER_FD_ENV] = str(fd)
            # pass_fds makes the descriptor inheritable in the child only.
            kwargs["pass_fds"] = (fd,)
        else:  # pragma: no cover - needs Windows
            # No descriptor passing: the child binds the port again, so the
            # watcher lets go of it (and names the port, for ``port=0``).
            env[SERVER_PORT_ENV] = str(self._release_socket())
        self.child = subprocess.Popen(self.args, env=env, **kwargs)
        self._exit_reported = False

    def _release_socket(self) -> int:  # pragma: no cover - needs Windows
        if self._port is None:
            self._port = self.sock.getsockname()[1]
            self.sock.close()
        return self._port

    def stop_child(self) -> None:
        """Stop the child: ask, then kill it if it doesn't stop in :attr:`stop_timeout` seconds."""
        child, self.child = self.child, None
        if child is None or child.poll() is not None:
            return
        child.terminate()
        try:
            child.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    def _report_exit(self) -> None:
        if self.child is None or self._exit_reported:
            return
        code = self.child.poll()
        if code is not None:
            self._exit_reported = True
            print(
                f" * The server exited with status {code}; restarting when a file changes.",
                flush=True,
            )
            if os.name == "posix" and self._port is None:
                # The watcher still holds the listening socket: without an
                # answer, requests would wait in its queue until the next
                # edit. (On Windows the socket was let go: they are refused.)
                self._standin = _StandIn(self.sock, code)

    def _stop_standin(self) -> None:
        standin, self._standin = self._standin, None
        if standin is not None:
            standin.stop()

    def run(self) -> None:
        """Watch and restart until interrupted (Ctrl+C, or SIGTERM on POSIX)."""
        import watchfiles  # PERF: only the reloader needs it

        roots = self.paths.roots
        previous = self._install_sigterm_handler()
        try:
            self.start_child()
            # rust_timeout with yield_on_timeout wakes the loop twice a
            # second, to notice a child that exited on its own (a syntax
            # error, say) and to say so.
            for changes in watchfiles.watch(
                *roots,
                watch_filter=self.paths,
                recursive=False,
                step=50,
                debounce=1000,
                rust_timeout=500,
                yield_on_timeout=True,
            ):
                if not changes:
                    self._report_exit()
                    continue
                path = sorted(path for _, path in changes)[0]
                print(f" * Detected change in {path!r}, reloading", flush=True)
                for _, changed in changes:
                    _drop_bytecode(changed)
                self.stop_child()
                self.start_child()
        except KeyboardInterrupt:
            pass
        finally:
            self._stop_standin()
            # On Ctrl+C in a terminal the child got the signal too and is
            # shutting down; give it the chance before terminating it.
            self._wait_or_stop_child()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    def _wait_or_stop_child(self) -> None:
        child = self.child
        if child is None:
            return
        if not self._terminated:
            # Ctrl+C in a terminal reaches the whole process group: the
            # child is shutting down by itself. Let it finish (a second
            # signal would interrupt its cleanup), then make sure.
            try:
                child.wait(1.0)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                pass
        self.stop_child()

    def _install_sigterm_handler(self) -> t.Any:
        """Make SIGTERM stop the watcher like Ctrl+C, so the child is stopped too."""
        if os.name != "posix" or threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum: int, frame: t.Any) -> None:
            self._terminated = True
            # watchfiles turns an exception raised in a handler into
            # KeyboardInterrupt; elsewhere it is raised as is.
            raise KeyboardInterrupt

        return signal.signal(signal.SIGTERM, handler)


class _StandIn:
    """Answers requests on the watcher's socket while no child serves, with a 503.

    The serving child exited by itself (an app that fails at import when
    started with ``python app.py``, say), and the next one starts only when
    a file changes. Each request gets a short page saying so at once rather
    than waiting in the listen queue.

    :param sock: The listening socket the children serve on.
    :param code: The exit status of the child that stopped.
    """

    #: How long one client gets to send its request head, in seconds.
    client_timeout = 2.0

    def __init__(self, sock: socket.socket, code: int) -> None:
        self.sock = sock
        body = (
            f"The development server's process exited with status {code}; its error is in"
            " the terminal. It restarts when you save a change to a source file.\n"
        ).encode()
        self.response = (
            b"HTTP/1.1 503 Service Unavailable\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s"
            % (len(body), body)
        )
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="erlen-reloader-standin")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        """Stop answering (within a fraction of a second), before a new child starts."""
        self._stopped.set()
        self._thread.join(5)

    def _serve(self) -> None:
        import select

        # NOTE: the socket stays blocking: its flags are shared with the
        # children that inherit it. select() says when accept() won't block,
        # and its timeout lets stop() be noticed.
        while not self._stopped.is_set():
            try:
                ready, _, _ = select.select([self.sock], [], [], 0.1)
                if not ready:
                    continue
                conn, _ = self.sock.accept()
            except OSError:
                return  # the socket was closed: the watcher is stopping
            with conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(self.client_timeout)
        try:
            # Read the request head (bounded) so closing the connection
            # doesn't reset it before the client reads the answer.
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                data = conn.recv(65536)
                if not data:
                    break
                head += data
            conn.sendall(self.response)
        except OSError:
            pass  # the client left or was too slow; nothing to tell it


def _drop_bytecode(path: str) -> None:
    """Remove the cached bytecode of a changed module, if any.

    The cache is checked against the source's size and mtime in whole
    seconds, so an edit that keeps the size within the same second would
    otherwise load the old code in the restarted child.
    """
    if not path.endswith(".py"):
        return
    import importlib.util

    try:
        os.remove(importlib.util.cache_from_source(path))
    except (OSError, ValueError, NotImplementedError):
        pass
