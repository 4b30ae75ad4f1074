"""The interactive console that runs Python in a traceback frame's namespace.

Each frame gets its own :class:`Console` on first use. Its namespace is a
copy of the frame's globals with its locals on top, so names the console
defines are seen by later lines, and functions or comprehensions typed into
the console see the frame's locals (they wouldn't with separate globals and
locals dicts). Input comes one line at a time, as at the ``>>>`` prompt: an
incomplete statement waits for more lines.
"""

from __future__ import annotations

import ast
import codeop
import contextlib
import io
import sys
import threading
import traceback
import types
import typing as t

from .tbtools import safe_repr

__all__ = ["Console"]

#: The most output one console command returns, in characters.
MAX_OUTPUT = 100_000

# Output is captured by swapping sys.stdout, which is process-wide; one
# console command at a time keeps two commands from swapping it over each
# other.
_redirect_lock = threading.Lock()


class _ThreadStream:
    """Stands in for ``sys.stdout``/``stderr``/``stdin`` while a console command runs.

    Only the thread running the command is redirected: the server's other
    threads keep writing to the real stream. ``input()`` reads an empty
    stream (so it raises ``EOFError`` instead of blocking the server on the
    terminal).
    """

    def __init__(self, original: t.Any, buffer: io.StringIO) -> None:
        self._original = original
        self._buffer = buffer
        self._thread = threading.get_ident()

    def _target(self) -> t.Any:
        return self._buffer if threading.get_ident() == self._thread else self._original

    def write(self, s: str) -> int:
        return t.cast(int, self._target().write(s))

    def readline(self, size: int = -1) -> str:
        if threading.get_ident() == self._thread:
            return ""
        return t.cast(str, self._original.readline(size))

    def flush(self) -> None:
        self._target().flush()

    def __getattr__(self, name: str) -> t.Any:
        return getattr(self._original, name)


@contextlib.contextmanager
def _capture_output(buffer: io.StringIO) -> t.Iterator[None]:
    with _redirect_lock:
        saved = sys.stdout, sys.stderr, sys.stdin
        sys.stdout = t.cast(t.TextIO, _ThreadStream(saved[0], buffer))
        sys.stderr = t.cast(t.TextIO, _ThreadStream(saved[1], buffer))
        sys.stdin = t.cast(t.TextIO, _ThreadStream(saved[2], io.StringIO()))
        try:
            yield
        finally:
            sys.stdout, sys.stderr, sys.stdin = saved


class Console:
    """A Python prompt over one namespace, fed a line at a time.

    :param namespace: The dict the code runs in (globals and locals both).

    .. versionadded:: 0.1
    """

    def __init__(self, namespace: dict[str, t.Any]) -> None:
        self.namespace = namespace
        self._lines: list[str] = []
        self._lock = threading.Lock()

    @property
    def prompt(self) -> str:
        """``>>> `` or, inside an unfinished statement, ``... ``."""
        return "... " if self._lines else ">>> "

    def push(self, line: str) -> tuple[str, bool]:
        """Add a line of input and run the statement once it is complete.

        As at the interactive prompt, the value of the input's last
        statement, if it is an expression and not ``None``, is shown with its
        ``repr`` (bounded in size) and kept as ``_``; what the code prints is captured; an exception is
        shown as a traceback of the console code only.

        :param line: One line of input (or a pasted block of several).
        :return: The output, and whether more input is needed to complete
            the statement.
        """
        with self._lock:
            self._lines.append(line)
            source = "\n".join(self._lines)
            try:
                # NOTE: "single" mode tells a finished statement from one that
                # needs more lines, exactly as the interactive prompt does.
                code = codeop.compile_command(source, "<debugger>", "single")
            except (SyntaxError, ValueError, OverflowError) as e:
                # A pasted block of several statements isn't "single" input
                # but is still fine to run as a module body.
                if not self._compiles(source):
                    self._lines.clear()
                    return "".join(traceback.format_exception_only(type(e), e)), False
            else:
                if code is None:
                    return "", True
            self._lines.clear()
            return self._run(source), False

    @staticmethod
    def _compiles(source: str) -> bool:
        try:
            compile(source, "<debugger>", "exec")
        except (SyntaxError, ValueError, OverflowError):
            return False
        return True

    def _run(self, source: str) -> str:
        out = io.StringIO()
        with _capture_output(out):
            try:
                body, last = _split_last_expression(source)
                if body is not None:
                    exec(body, self.namespace)
                if last is not None:
                    # As the REPL's sys.displayhook: the value of a final
                    # expression statement is shown, unless it is None.
                    value = eval(last, self.namespace)
                    if value is not None:
                        self.namespace["_"] = value
                        out.write(safe_repr(value, limit=MAX_OUTPUT) + "\n")
            except (Exception, SystemExit) as e:
                # Leave this method's frame out: only the console code matters.
                tb = e.__traceback__.tb_next if e.__traceback__ is not None else None
                out.write("".join(traceback.format_exception(type(e), e, tb)))
        output = out.getvalue()
        if len(output) > MAX_OUTPUT:
            output = output[:MAX_OUTPUT] + f"\n... (output cut at {MAX_OUTPUT:,} characters)\n"
        return output


def _split_last_expression(source: str) -> tuple[types.CodeType | None, types.CodeType | None]:
    """Compile ``source`` into the statements to run, and its last statement if an expression.

    ``import os; os.getpid()`` runs the import, then evaluates ``os.getpid()``
    for display, as the interactive prompt does. Either part may be ``None``.
    """
    tree = ast.parse(source, "<debugger>", "exec")
    last = None
    final = tree.body[-1] if tree.body else None
    if isinstance(final, ast.Expr):
        tree.body.pop()
        last = compile(ast.Expression(final.value), "<debugger>", "eval")
    body = compile(tree, "<debugger>", "exec") if tree.body else None
    return body, last
