"""Capture an exception's traceback, with each frame's source and locals, and render it.

:class:`Traceback` snapshots what the error page and the console need while
the frames still exist: the chain of exceptions (``__cause__`` and
``__context__``, oldest first, as Python prints them), and per frame its
file, line, function, source around the line, and a copy of its locals.
:func:`render_html` turns one into the debugger's page; every value that
comes from the app (messages, source, reprs, paths) is HTML-escaped. The
locals are in the page only when the caller says the browser may see them
(the PIN was entered, or is off); else the page fetches them after unlock.
"""

from __future__ import annotations

import functools
import html
import linecache
import os
import reprlib
import secrets
import sysconfig
import traceback
import typing as t

if t.TYPE_CHECKING:
    from types import FrameType, TracebackType

    from .console import Console

__all__ = ["Frame", "Traceback", "render_html", "safe_repr"]

#: Source lines shown before and after a frame's current line.
SOURCE_CONTEXT = 5
#: The longest repr of a local variable shown, in characters.
MAX_LOCAL_REPR = 400
#: The most local variables shown per frame (all stay usable in the console).
MAX_LOCALS = 100


class _ShortRepr(reprlib.Repr):
    def repr_instance(self, x: object, level: int) -> str:
        # reprlib hides a failing __repr__ behind "<X instance at 0x...>";
        # let it raise so safe_repr can say what failed.
        text = repr(x)
        if len(text) > self.maxother:
            half = max(0, (self.maxother - 3) // 2)
            text = text[:half] + "..." + text[len(text) - half :]
        return text


_short = _ShortRepr()
# reprlib's defaults (6 list items, 30-character strings) hide too much for
# debugging; these keep a repr readable at a glance while bounding its work
# on big containers.
_short.maxstring = 200
_short.maxother = 200
_short.maxlist = _short.maxtuple = _short.maxset = _short.maxfrozenset = _short.maxdeque = 20
_short.maxdict = 20
_short.maxlevel = 3


def safe_repr(value: object, limit: int = MAX_LOCAL_REPR, short: bool = False) -> str:
    """``repr(value)``, cut to ``limit`` characters, never raising.

    A debugging aid must not fail on the objects it is asked to show: a
    ``__repr__`` that raises gives a placeholder naming the error instead.

    :param limit: The longest result; a longer repr is cut with ``...``.
    :param short: Abbreviate big containers and strings (:mod:`reprlib`).
    """
    try:
        text = _short.repr(value) if short else repr(value)
    except Exception as e:
        return f"<repr of {type(value).__name__} object failed: {type(e).__name__}>"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


@functools.cache
def _library_roots() -> tuple[str, ...]:
    """Folders whose frames are the framework's or the standard library's, not the app's."""
    import erlen

    roots = {os.path.dirname(os.path.realpath(erlen.__file__))}
    paths = sysconfig.get_paths()
    roots.update(
        os.path.realpath(paths[key])
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
        if key in paths
    )
    return tuple(sorted(root.rstrip(os.sep) + os.sep for root in roots))


def _is_library(filename: str) -> bool:
    if filename.startswith("<"):
        return True  # frozen modules, exec'd strings
    return os.path.realpath(filename).startswith(_library_roots())


def _type_name(exc: BaseException) -> str:
    cls = type(exc)
    if cls.__module__ in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


class Frame:
    """One frame of a traceback, kept for the page and its console.

    :param frame: The frame object.
    :param lineno: The line the frame was at when the exception passed.

    .. versionadded:: 0.1
    """

    __slots__ = (
        "id",
        "filename",
        "lineno",
        "function",
        "is_library",
        "globals",
        "locals",
        "_console",
    )

    def __init__(self, frame: FrameType, lineno: int) -> None:
        #: A random id the console uses to name this frame.
        self.id = secrets.token_hex(8)
        self.filename = frame.f_code.co_filename
        self.lineno = lineno
        self.function = frame.f_code.co_name
        #: Framework and standard library frames are shown collapsed.
        self.is_library = _is_library(self.filename)
        self.globals = frame.f_globals
        # NOTE: a copy, taken while the error is fresh: the locals as they
        # were when the exception passed through this frame.
        self.locals = dict(frame.f_locals)
        self._console: Console | None = None

    def source_lines(self, context: int = SOURCE_CONTEXT) -> list[tuple[int, str]]:
        """The numbered source lines around the current one (empty if the source is unavailable)."""
        lines = linecache.getlines(self.filename, self.globals)
        start = max(self.lineno - context, 1)
        end = min(self.lineno + context, len(lines))
        return [(number, lines[number - 1].rstrip("\r\n")) for number in range(start, end + 1)]

    def local_reprs(self) -> list[tuple[str, str]]:
        """The frame's locals as ``(name, bounded repr)`` pairs, at most :data:`MAX_LOCALS`."""
        return [
            (name, safe_repr(value, short=True))
            for name, value in list(self.locals.items())[:MAX_LOCALS]
        ]

    @property
    def console(self) -> Console:
        """This frame's console, created on first use over the frame's globals and locals."""
        if self._console is None:
            from .console import Console

            namespace = dict(self.globals)
            namespace.update(self.locals)
            self._console = Console(namespace)
        return self._console


class _Part:
    """One exception of a chain, with its frames."""

    __slots__ = ("type_name", "message", "frames", "relation")

    def __init__(self, exc: BaseException, tb: TracebackType | None) -> None:
        self.type_name = _type_name(exc)
        self.message = "".join(traceback.format_exception_only(type(exc), exc)).rstrip("\n")
        self.frames = [Frame(frame, lineno) for frame, lineno in traceback.walk_tb(tb)]
        #: What links this exception to the one shown before it.
        self.relation: str | None = None


class Traceback:
    """An exception with its chain and frames, captured for the debugger.

    :param exc: The exception.
    :param skip_modules: Leading frames whose module (``__name__``) is one
        of these are left out of the outermost traceback, so the page starts
        at the app rather than at the middleware that caught the error.

    .. versionadded:: 0.1
    """

    def __init__(self, exc: BaseException, skip_modules: t.Collection[str] = ()) -> None:
        #: A random id for this traceback.
        self.id = secrets.token_hex(8)
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_globals.get("__name__") in skip_modules:
            tb = tb.tb_next
        #: The exception, in Python's own plain-text format.
        self.text = "".join(traceback.format_exception(type(exc), exc, tb))

        parts: list[_Part] = []
        seen: set[int] = set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            part = _Part(current, tb)
            parts.append(part)
            if current.__cause__ is not None:
                part.relation = (
                    "The above exception was the direct cause of the following exception:"
                )
                current = current.__cause__
            elif current.__context__ is not None and not current.__suppress_context__:
                part.relation = (
                    "During handling of the above exception, another exception occurred:"
                )
                current = current.__context__
            else:
                current = None
            tb = current.__traceback__ if current is not None else None
        # Oldest first, as Python prints a chain: each later exception keeps
        # the relation text that introduces it; the oldest has none.
        parts.reverse()
        #: The exceptions of the chain, the oldest first, the one raised last at the end.
        self.parts = parts
        last = parts[-1]
        #: The type of the exception raised last, qualified by its module.
        self.type_name = last.type_name
        #: ``Type: message`` of the exception raised last.
        self.message = last.message

    @property
    def frames(self) -> list[Frame]:
        """Every frame of every exception in the chain."""
        return [frame for part in self.parts for frame in part.frames]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _render_frame(frame: Frame, evalex: bool, show_locals: bool) -> str:
    # Each line is a block; no newline between them (in a <pre> it would double the spacing).
    source = "".join(
        f'<span class="line{" current" if number == frame.lineno else ""}">'
        f'<span class="ln">{number}</span>{_e(line) or " "}</span>'
        for number, line in frame.source_lines()
    )
    if not source:
        source = '<span class="line">(source not available)</span>'
    if show_locals:
        rows = "".join(
            f"<tr><th>{_e(name)}</th><td><code>{_e(value)}</code></td></tr>"
            for name, value in frame.local_reprs()
        )
        locals_html = (
            f'<table class="locals">{rows}</table>'
            if rows
            else '<p class="nolocals">No local variables.</p>'
        )
        if len(frame.locals) > MAX_LOCALS:
            locals_html += (
                f'<p class="nolocals">{len(frame.locals) - MAX_LOCALS} more (use the console).</p>'
            )
    elif evalex:
        # NOTE: the values reach the page only through the console's
        # authenticated "locals" command (debugger.js asks for the PIN).
        locals_html = (
            f'<div class="locals-hidden" data-frame="{_e(frame.id)}"><p class="nolocals">'
            "Local variables are shown once the PIN unlocks the console.</p></div>"
        )
    else:
        locals_html = '<p class="nolocals">Local variables are shown only with the console on and unlocked.</p>'
    console = f'<div class="console" data-frame="{_e(frame.id)}"></div>' if evalex else ""
    return (
        f'<details class="frame{" library" if frame.is_library else ""}"{"" if frame.is_library else " open"}>'
        f'<summary><span class="file">{_e(frame.filename)}</span>, line <span class="lineno">{frame.lineno}</span>,'
        f' in <span class="function">{_e(frame.function)}</span></summary>'
        f'<pre class="source">{source}</pre>{locals_html}{console}</details>\n'
    )


def render_html(
    tb: Traceback,
    *,
    debugger_url: str,
    secret: str,
    evalex: bool,
    pin_required: bool,
    authenticated: bool,
    host_trusted: bool,
    show_locals: bool = False,
) -> str:
    """The debugger's error page for a traceback.

    :param debugger_url: The debugger's reserved URL, for assets and console.
    :param secret: The per-process secret the console must send.
    :param evalex: Offer a console per frame.
    :param pin_required: The console asks for the PIN first.
    :param authenticated: This browser already entered the PIN.
    :param host_trusted: The request's host may use the console (if not,
        the page says how to allow it instead of offering a console).
    :param show_locals: Put the frames' local variables in the page; only
        for a trusted host with the PIN entered (or off). Otherwise the page
        offers to show them once the PIN unlocks the console.

    .. versionadded:: 0.1
    """
    console_on = evalex and host_trusted
    sections = []
    for part in tb.parts:
        if part.relation:
            sections.append(f'<p class="relation">{_e(part.relation)}</p>\n')
        frames = "".join(_render_frame(frame, console_on, show_locals) for frame in part.frames)
        sections.append(
            f'<section class="exception"><h2>Traceback <small>(most recent call last)</small></h2>\n'
            f'{frames}<pre class="message">{_e(part.message)}</pre></section>\n'
        )
    if console_on:
        how = "Open a console on any frame to run Python in it."
        if pin_required:
            how += " It asks for the PIN printed in the server's terminal."
    elif evalex:
        how = (
            "The console is off for this host. It answers only to localhost, 127.0.0.1, [::1],"
            " *.localhost and the hosts in DEBUGGER_TRUSTED_HOSTS or ERLEN_DEBUGGER_TRUSTED_HOSTS."
        )
    else:
        how = "The console is disabled."
    url = _e(debugger_url)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(tb.type_name)} // Erlen debugger</title>\n"
        f'<link rel="stylesheet" href="{url}?cmd=resource&amp;f=style.css">\n'
        "</head>\n"
        f'<body data-url="{url}" data-secret="{_e(secret)}" data-traceback="{_e(tb.id)}" data-console="{"on" if console_on else "off"}"'
        f' data-pin="{"required" if pin_required and not authenticated else "no"}">\n'
        '<main class="debugger">\n'
        f'<header><h1>{_e(tb.type_name)}</h1><pre class="errormsg">{_e(tb.message)}</pre></header>\n'
        f"{''.join(sections)}"
        '<details class="plain"><summary>Plain-text traceback (to copy)</summary>'
        f'<textarea readonly rows="16" spellcheck="false">{_e(tb.text)}</textarea></details>\n'
        f"<footer><p>The debugger caught this exception and shows it because debug mode is on. {_e(how)}</p>"
        "<p>Never run the debugger on a server others can reach: the console runs any code.</p></footer>\n"
        "</main>\n"
        f'<script src="{url}?cmd=resource&amp;f=debugger.js"></script>\n'
        "</body>\n</html>\n"
    )
