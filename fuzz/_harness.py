"""What every fuzz target shares: the atheris entry point and a WSGI caller.

Each target is a script (``python fuzz/fuzz_x.py [libFuzzer flags]``) that
defines ``test_one_input(data: bytes)`` and calls :func:`main`. A target
fails (libFuzzer reports a crash and saves the input) when an exception
escapes it: the targets raise on any broken invariant, not only on errors.
"""

from __future__ import annotations

import io
import sys
import typing as t

import atheris


def main(test_one_input: t.Callable[[bytes], None]) -> None:
    """Hand ``test_one_input`` to libFuzzer with the command line's flags."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


def environ(
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    *,
    terminated: bool = False,
) -> dict[str, t.Any]:
    """A PEP 3333 environ; ``terminated`` marks a chunked body with no length."""
    env: dict[str, t.Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if terminated:
        env["wsgi.input_terminated"] = True
    else:
        env["CONTENT_LENGTH"] = str(len(body))
    env.update(headers or {})
    return env


def call(app: t.Any, env: dict[str, t.Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run one request through ``app``; check what a WSGI server would check.

    :raises AssertionError: A header that a server must refuse (CR/LF, not
        latin-1), or a 5xx status: bad input must be the client's error.
    """
    seen: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> t.Any:
        seen.append((status, headers))
        return lambda data: None

    body = app(env, start_response)
    try:
        data = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    status, headers = seen[-1]
    for name, value in headers:
        assert "\r" not in name + value and "\n" not in name + value, (name, value)
        value.encode("latin-1")
    code = int(status.split()[0])
    if code >= 500:
        raise AssertionError(
            f"{status} for {env['REQUEST_METHOD']} {env['PATH_INFO']!r}: {data[:500]!r}"
        )
    return code, headers, data
