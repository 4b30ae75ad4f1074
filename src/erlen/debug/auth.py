"""Who may use the debugger's console: the PIN, the auth cookie and the host check.

The console runs arbitrary Python in the server process, so three gates
stand in front of it:

- the **host check**: requests must name a local host (or one listed as
  trusted), which defeats DNS rebinding, where a hostile page makes the
  browser talk to the local server under the attacker's domain name;
- the **PIN**, printed to the terminal when the server starts; entering it
  sets a signed cookie that lasts :data:`PIN_TIME` seconds, and
  :data:`MAX_FAILED_ATTEMPTS` wrong tries lock the console until restart;
- the per-process **secret**, embedded in the error page and required with
  every console request (checked by the middleware).
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import ipaddress
import os
import re
import sys
import threading
import time
import typing as t
import uuid

from ..http import dump_cookie

__all__ = [
    "MAX_FAILED_ATTEMPTS",
    "PIN_ENV",
    "PIN_TIME",
    "PinGuard",
    "TRUSTED_HOSTS_ENV",
    "get_pin_and_cookie_name",
    "host_is_trusted",
]

#: How long the auth cookie set by a correct PIN lasts, in seconds (8 hours).
PIN_TIME = 8 * 60 * 60
#: Wrong PINs tolerated before the console locks until the server restarts.
MAX_FAILED_ATTEMPTS = 10
#: The environment variable that sets a fixed PIN, or ``off`` to disable it.
PIN_ENV = "ERLEN_DEBUG_PIN"
#: A comma-separated list of extra hosts the console answers to.
TRUSTED_HOSTS_ENV = "ERLEN_DEBUGGER_TRUSTED_HOSTS"

# Hosts that always resolve to this machine (RFC 6761 reserves ``localhost``
# and every name under it).
_LOCAL_HOSTS = frozenset(("localhost", "127.0.0.1", "[::1]"))
# What a Host header may hold (RFC 9110, 7.2): a name of dot-separated labels
# (ASCII letters, digits, "-", and "_", which some local setups use) with an
# optional final dot, or an IPv6 literal in brackets; then an optional port
# of ASCII digits. Anything else ("#", "/", "@", spaces, non-ASCII) would make
# a suffix comparison lie, so it is refused outright.
_HOST_RE = re.compile(
    r"(?:(?P<name>[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*\.?)|\[(?P<ip6>[0-9a-f:.]{2,45})\])(?::[0-9]{1,5})?",
    re.ASCII,
)


_MACHINE_ID_FILES = (
    "/etc/machine-id",
    "/var/lib/dbus/machine-id",
    "/proc/sys/kernel/random/boot_id",
)


def _machine_id(paths: t.Sequence[str] = _MACHINE_ID_FILES) -> str:
    """Something that tells this machine apart from others and that a web page can't see."""
    for path in paths:
        try:
            with open(path, encoding="ascii", errors="replace") as f:
                value = f.read().strip()
        except OSError:
            continue
        if value:
            return value
    return ""


def _username() -> str:
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user name (some containers)
        return ""


def get_pin_and_cookie_name(app: t.Any) -> tuple[str | None, str]:
    """The debugger PIN for ``app`` on this machine, and the name of its auth cookie.

    The PIN is derived from the user name, the app's import name and module
    file, the app's class, the machine's network address and machine id,
    hashed. So it stays the same across reloader restarts, and across runs
    of the same app by the same user on the same machine, while the parts
    a visitor could learn from an error page (paths, names) are not enough
    to compute it. The cookie name is derived the same way, so two apps
    debugged side by side on one host don't share a login.

    :envvar:`ERLEN_DEBUG_PIN` overrides the PIN: a value is used as the PIN,
    ``off`` disables it (anyone who can reach the console can use it).

    :param app: The WSGI app (an :class:`~erlen.Erlen` app, or a bound
        ``wsgi_app`` method of one).
    :return: The PIN formatted ``123-456-789`` (``None`` when disabled),
        and the cookie name.

    .. versionadded:: 0.1
    """
    owner = getattr(app, "__self__", app)
    modname = getattr(owner, "import_name", None) or type(owner).__module__
    module = sys.modules.get(modname)
    public = [_username(), modname, type(owner).__name__, str(getattr(module, "__file__", None))]
    private = [str(uuid.getnode()), _machine_id()]
    digest = hashlib.sha256()
    for bit in (*public, *private):
        digest.update(bit.encode("utf-8", "replace"))
        digest.update(b"\x00")
    cookie_name = f"__erlen_debugger_{digest.hexdigest()[:20]}"

    configured = os.environ.get(PIN_ENV, "").strip()
    if configured.lower() == "off":
        return None, cookie_name
    if configured:
        return configured, cookie_name
    digest.update(b"pin")
    number = f"{int(digest.hexdigest(), 16) % 10**9:09d}"
    return f"{number[:3]}-{number[3:6]}-{number[6:]}", cookie_name


def _normalize_pin(pin: str) -> str:
    # The dashes only help reading the PIN aloud; "123456789" is accepted too.
    return "".join(pin.split()).replace("-", "")


def host_is_trusted(host_header: str | None, trusted_hosts: t.Iterable[str] = ()) -> bool:
    """Whether a ``Host`` header names this machine or a trusted host.

    Local names are always trusted: ``localhost``, ``127.0.0.1``,
    ``[::1]`` and anything ending in ``.localhost``. An entry of
    ``trusted_hosts`` matches that exact host; an entry starting with a dot
    (``.example.test``) also matches every name under it. The port is
    ignored; case and a final dot are too. A header that is not a host
    name (letters, digits, ``-``, ``_``, dots) or a bracketed IPv6 address,
    with an optional port of digits, is never trusted.

    :param host_header: The request's ``Host`` header (``None`` if missing).
    :param trusted_hosts: Extra host names to trust.

    .. versionadded:: 0.1
    """
    if not host_header:
        return False
    m = _HOST_RE.fullmatch(host_header.strip().lower())
    if m is None:
        return False
    hostname = m["name"]
    if hostname is None:
        # An IP literal: "[::1]" and the like, compared in its written form.
        try:
            ipaddress.IPv6Address(m["ip6"])
        except ValueError:
            return False
        hostname = f"[{m['ip6']}]"
    elif len(hostname.rstrip(".")) > 253:
        return False
    hostname = hostname.rstrip(".")
    if hostname in _LOCAL_HOSTS or hostname.endswith(".localhost"):
        return True
    for entry in trusted_hosts:
        entry = entry.strip().lower().rstrip(".")
        if not entry:
            continue
        if entry.startswith("."):
            if hostname == entry[1:] or hostname.endswith(entry):
                return True
        elif hostname == entry:
            return True
    return False


class PinGuard:
    """Checks PINs, counts failures and issues and verifies auth cookies.

    The cookie's value is ``<unix time>|<signature>``, the signature an
    HMAC of the time keyed with the PIN, so it can't be made without the
    PIN, and the server refuses it :attr:`max_age` seconds after it was
    issued whatever the browser does with ``Max-Age``.

    :param pin: The PIN, or ``None`` when PIN security is off (then every
        request counts as authenticated).
    :param cookie_name: The name of the auth cookie.
    :param max_age: How long a login lasts, in seconds.
    :param failure_delay: Seconds to wait after each wrong PIN beyond the
        first :attr:`free_failures`, which slows guessing down further.
    :param max_failures: Wrong PINs before the guard locks for good.

    .. versionadded:: 0.1
    """

    #: Wrong PINs answered without delay (typos shouldn't be punished).
    free_failures = 3

    def __init__(
        self,
        pin: str | None,
        cookie_name: str,
        max_age: int = PIN_TIME,
        failure_delay: float = 0.5,
        max_failures: int = MAX_FAILED_ATTEMPTS,
    ) -> None:
        self.pin = pin
        self.cookie_name = cookie_name
        self.max_age = max_age
        self.failure_delay = failure_delay
        self.max_failures = max_failures
        self.failures = 0
        self._lock = threading.Lock()

    @property
    def exhausted(self) -> bool:
        """Whether too many wrong PINs locked the console until restart."""
        return self.failures >= self.max_failures

    @property
    def remaining(self) -> int:
        """How many more wrong PINs are tolerated."""
        return max(self.max_failures - self.failures, 0)

    def check(self, entered: str) -> t.Literal["ok", "wrong", "exhausted"]:
        """Check an entered PIN.

        Once locked, every attempt is refused, the right PIN included, so
        the count of guesses stays bounded.

        :return: ``"ok"``, ``"wrong"``, or ``"exhausted"`` when locked.
        """
        if self.pin is None:
            return "ok"
        with self._lock:
            if self.exhausted:
                return "exhausted"
            if hmac.compare_digest(
                _normalize_pin(entered).encode(), _normalize_pin(self.pin).encode()
            ):
                return "ok"
            self.failures += 1
            failures = self.failures
        if failures > self.free_failures and self.failure_delay > 0:
            time.sleep(self.failure_delay)
        return "exhausted" if failures >= self.max_failures else "wrong"

    def _sign(self, timestamp: str) -> str:
        assert self.pin is not None
        key = _normalize_pin(self.pin).encode()
        return hmac.new(key, f"{self.cookie_name}|{timestamp}".encode(), hashlib.sha256).hexdigest()

    def make_cookie_value(self, now: float | None = None) -> str:
        """The auth cookie's value, issued at ``now`` (default: the current time)."""
        timestamp = str(int(time.time() if now is None else now))
        return f"{timestamp}|{self._sign(timestamp)}"

    def set_cookie_header(self) -> str:
        """The ``Set-Cookie`` value that logs the browser in for :attr:`max_age` seconds."""
        return dump_cookie(
            self.cookie_name,
            self.make_cookie_value(),
            max_age=self.max_age,
            httponly=True,
            samesite="Strict",
            path="/",
        )

    def is_authenticated(self, cookie_value: str | None, now: float | None = None) -> bool:
        """Whether an auth cookie's value is genuine and not expired."""
        if self.pin is None:
            return True
        if not cookie_value:
            return False
        timestamp, _, signature = cookie_value.partition("|")
        if not timestamp.isdigit() or len(timestamp) > 12:
            return False
        issued = int(timestamp)
        now = time.time() if now is None else now
        # A minute of grace for a clock that stepped back, no more: a cookie
        # "from the future" would otherwise last longer than max_age.
        if not now - self.max_age < issued <= now + 60:
            return False
        return hmac.compare_digest(signature.encode(), self._sign(timestamp).encode())
