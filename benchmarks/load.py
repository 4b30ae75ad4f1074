"""The end-to-end load generator of the ASGI and typed-views runs.

Keep-alive HTTP/1.1 connections from one asyncio loop, each sending the
same raw request and reading each answer (by its ``Content-Length``) before
the next, so the server sees one request in flight per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(
    port: int, proc: subprocess.Popen[bytes], what: str, seconds: float, poll: float = 0.1
) -> None:
    """Return once 127.0.0.1:``port`` accepts a connection; raise if ``proc`` ends or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(poll)


def stop_server(proc: subprocess.Popen[bytes], seconds: float) -> None:
    """Ask ``proc`` to stop (SIGTERM); kill it if it has not ended within ``seconds``."""
    proc.terminate()
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


async def load(
    port: int, request: bytes, expected: bytes, total: int, connections: int, deadline: float
) -> tuple[int, float]:
    """Send ``request`` ``total`` times over ``connections`` connections; (done, seconds).

    Each answer must start with ``expected`` (its status line). Sending
    stops at ``deadline`` (a ``time.monotonic()`` value).
    """
    done = 0

    async def worker(count: int) -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in range(count):
                if time.monotonic() > deadline:
                    return
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                assert head.startswith(expected), head[:40]
                done += 1
        finally:
            writer.close()
            # Closed before returning: a connection left to the garbage
            # collector keeps a server that drains its keep-alive connections
            # from stopping (granian under valgrind waited for it).
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    start = time.perf_counter()
    per = total // connections
    await asyncio.wait_for(
        asyncio.gather(*(worker(per) for _ in range(connections))),
        max(1.0, deadline - time.monotonic() + 5),
    )
    return done, time.perf_counter() - start
