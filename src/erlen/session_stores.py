"""Server-side sessions: the data in a store, only a signed random id in the cookie.

.. code-block:: python

    from erlen.session_stores import RedisSessionInterface, SQLiteSessionInterface

    app.session_interface = RedisSessionInterface("redis://127.0.0.1:6379/0")
    # or, with no server to run (a file in the instance folder):
    app.session_interface = SQLiteSessionInterface()

Or with Flask-Session's settings: ``SESSION_TYPE`` (``"redis"`` or
``"sqlite"``, the default), ``SESSION_REDIS`` (a ``redis.Redis`` client or a
URL), ``SESSION_KEY_PREFIX`` (``"session:"``), ``SESSION_ID_LENGTH`` (bytes of
randomness, 32; at least 16) and ``SESSION_SQLITE_PATH``, then
``Session(app)``.

The ``session`` object, ``SECRET_KEY``, ``PERMANENT_SESSION_LIFETIME``,
``SESSION_REFRESH_EACH_REQUEST`` and the ``SESSION_COOKIE_*`` settings behave
as with the cookie session. What differs:

* The cookie holds ``id.signature``: a random id (256 bits by default) and
  its HMAC-SHA256 under a key derived from ``SECRET_KEY`` (keys in
  ``SECRET_KEY_FALLBACKS`` still verify). A forged or altered cookie is
  refused without asking the store; an id the store does not know (expired,
  deleted) gives a new empty session, which gets a *new* id if it is saved.
* The store keeps each session for ``PERMANENT_SESSION_LIFETIME`` after its
  last write (permanent or not; a non-permanent session's cookie also ends
  with the browser).
* Cost: a request that never touches ``session`` makes no store call. The
  first use makes one (a read); the end of the request makes at most one more,
  and only when the session was modified (a write, with the delete of a
  replaced id in the same round trip) or emptied (a delete). With
  ``SESSION_REFRESH_EACH_REQUEST`` the read also pushes the expiry forward
  (Redis ``GETEX``, in the same round trip; SQLite rewrites the expiry at most
  once a minute per session), so an unmodified session is never written, and
  only a permanent one's cookie is re-sent (with its new ``Expires``).
* :meth:`ServerSideSessionInterface.regenerate` gives the session a new id
  and deletes the old one from the store when the session is saved;
  :func:`erlen.auth.login_user` and :func:`~erlen.auth.logout_user` call it,
  so no id is carried across a login.
* A store that fails (Redis down or timing out, SQLite unable to write) is a
  ``503 Service Unavailable`` and an error in ``app.logger``, never an empty
  session that would then overwrite the stored one: on the first use of the
  session (raised as :class:`~erlen.exceptions.ServiceUnavailable` from
  ``session``), or at the save (the response becomes the 503). The next
  request tries again; redis-py reconnects by itself.
* Store calls are blocking. Under ASGI a plain ``def`` view's session is used
  on its worker thread; an ``async def`` view's on the event loop, where one
  store call is one local round trip, bounded by the client's timeouts
  (``socket_timeout`` 1 s, ``socket_connect_timeout`` 0.5 s by default) so a
  stalled Redis can't hold the loop for long.

Data is the cookie session's tagged JSON (never pickle), so the same values
(``datetime``, ``bytes``, ``Markup``, tuples, UUIDs) round-trip.

.. versionadded:: 0.1
"""

from __future__ import annotations

import hmac
import os
import secrets
import sqlite3
import threading
import time
import typing as t
from datetime import UTC, datetime

from .exceptions import ServiceUnavailable
from .json.tag import TaggedJSONSerializer
from .sessions import (
    _STOCK_SET_COOKIE,
    SecureCookieSession,
    SecureCookieSessionInterface,
    SessionInterface,
    SessionMixin,
    session_json_serializer,
)
from .signing import _b64encode

if t.TYPE_CHECKING:
    from .app import Erlen
    from .wrappers import Request, Response

__all__ = [
    "ServerSideSession",
    "SessionStore",
    "SessionStoreError",
    "RedisSessionStore",
    "SQLiteSessionStore",
    "ServerSideSessionInterface",
    "RedisSessionInterface",
    "SQLiteSessionInterface",
    "Session",
]

#: Fewer random bytes than this would make ids guessable (128 bits).
_MIN_ID_BYTES = 16

#: A cookie longer than this is not one of ours; refused before any HMAC.
_MAX_COOKIE_VALUE = 512

#: Mixed into the key that signs ids, so a value signed for another purpose
#: with the same secret key is not a session id.
_ID_SALT = b"erlen.session_stores.session-id"


class SessionStoreError(Exception):
    """The store could not be reached or could not do what was asked.

    Stores raise it (chained to the backend's error); the interface logs it
    and answers ``503``.

    .. versionadded:: 0.1
    """


class ServerSideSession(SecureCookieSession):
    """A session whose data lives in a store; the cookie holds :attr:`sid`.

    Tracks :attr:`modified` and :attr:`accessed` as the cookie session does.

    :param initial: The data loaded from the store.
    :param sid: The id it was loaded under, ``None`` for a session the store
        does not have yet (it gets an id when first saved).

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        initial: t.Mapping[str, t.Any] | t.Iterable[tuple[str, t.Any]] | None = None,
        sid: str | None = None,
    ) -> None:
        super().__init__(initial)
        #: The id in the store, or ``None`` until the session is first saved.
        self.sid = sid
        #: Ids to delete from the store when the session is saved (set by
        #: :meth:`ServerSideSessionInterface.regenerate`).
        self.replaced: list[str] = []
        self.new = sid is None


class SessionStore:
    """Where :class:`ServerSideSessionInterface` keeps the data, by session id.

    Values are text (tagged JSON). Every method raises
    :class:`SessionStoreError` when the backend fails.

    .. versionadded:: 0.1
    """

    def load(self, sid: str, touch_ttl: int | None) -> str | None:
        """The data stored under ``sid``, or ``None`` (unknown or expired).

        :param touch_ttl: When given, also push the expiry to that many
            seconds from now (in the same round trip where the backend can).
        """
        raise NotImplementedError

    def save(self, sid: str, data: str, ttl: int, delete: t.Sequence[str] = ()) -> None:
        """Store ``data`` under ``sid`` for ``ttl`` seconds, and delete the ids in ``delete``."""
        raise NotImplementedError

    def delete(self, sids: t.Sequence[str]) -> None:
        """Delete the sessions ``sids`` (unknown ids are ignored)."""
        raise NotImplementedError


class RedisSessionStore(SessionStore):
    """Sessions as Redis strings ``key_prefix + id`` with a TTL.

    One command per call (``GET``/``GETEX``, ``SET ... EX``, ``DEL``; a save
    that also deletes is one pipelined round trip).

    :param client: A ``redis.Redis`` client (its connection pool is used by
        every request).
    :param key_prefix: Put before each id, to share a database with other data.

    .. versionadded:: 0.1
    """

    def __init__(self, client: t.Any, key_prefix: str = "session:") -> None:
        import redis

        self.client = client
        self.key_prefix = key_prefix
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)

    def load(self, sid: str, touch_ttl: int | None) -> str | None:  # noqa: D102
        key = self.key_prefix + sid
        try:
            if touch_ttl is None:
                value = self.client.get(key)
            else:
                value = self.client.getex(key, ex=touch_ttl)
        except self._errors as e:
            raise SessionStoreError(f"Redis: {e}") from e
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return t.cast("str | None", value)

    def save(self, sid: str, data: str, ttl: int, delete: t.Sequence[str] = ()) -> None:  # noqa: D102
        key = self.key_prefix + sid
        try:
            if delete:
                pipe = self.client.pipeline(transaction=False)
                pipe.set(key, data, ex=ttl)
                pipe.delete(*[self.key_prefix + old for old in delete])
                pipe.execute()
            else:
                self.client.set(key, data, ex=ttl)
        except self._errors as e:
            raise SessionStoreError(f"Redis: {e}") from e

    def delete(self, sids: t.Sequence[str]) -> None:  # noqa: D102
        if not sids:
            return
        try:
            self.client.delete(*[self.key_prefix + sid for sid in sids])
        except self._errors as e:
            raise SessionStoreError(f"Redis: {e}") from e


class _ThreadConnection:
    """One thread's SQLite connection, closed when the thread ends.

    The thread-local holding it is cleared as its thread exits (a threaded
    server starts and ends threads as it likes); the connection is closed
    then rather than left to the garbage collector (a ResourceWarning since
    Python 3.13).
    """

    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __del__(self) -> None:
        self.conn.close()


class SQLiteSessionStore(SessionStore):
    """Sessions in one SQLite file: a table ``sessions(id, data, expires)``.

    WAL journal, so readers don't wait for a writer and several processes can
    share the file; one connection per thread (sqlite3 connections belong to
    their thread). Expired rows are skipped on read and purged now and then
    on write.

    :param path: The database file (created with its folder if missing).
    :param timeout: Seconds to wait for another writer's lock before the
        request fails with 503.

    .. versionadded:: 0.1
    """

    #: The expiry is rewritten on a read only when it moves by at least this
    #: many seconds (or a tenth of the TTL if that is less): refreshing a busy
    #: session must not turn every read into a write.
    touch_granularity = 60

    #: Saves between purges of expired rows (per process).
    purge_every = 1000

    def __init__(self, path: str, timeout: float = 2.0) -> None:
        self.path = path
        self.timeout = timeout
        self._local = threading.local()
        self._saves = 0
        self._setup_lock = threading.Lock()
        self._set_up = False

    def _connection(self) -> sqlite3.Connection:
        holder: _ThreadConnection | None = getattr(self._local, "conn", None)
        if holder is None:
            folder = os.path.dirname(self.path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            # Autocommit: single statements commit by themselves; save() opens
            # its own transaction when it writes two.
            # check_same_thread off: each connection is only used by its own
            # thread (the thread-local), but is closed by whichever thread
            # clears that thread-local when its owner ends.
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA synchronous=NORMAL")
            with self._setup_lock:
                if not self._set_up:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute(
                        "CREATE TABLE IF NOT EXISTS sessions"
                        " (id TEXT PRIMARY KEY, data TEXT NOT NULL, expires INTEGER NOT NULL)"
                        " WITHOUT ROWID"
                    )
                    self._set_up = True
            holder = self._local.conn = _ThreadConnection(conn)
        return holder.conn

    def load(self, sid: str, touch_ttl: int | None) -> str | None:  # noqa: D102
        try:
            conn = self._connection()
            row = conn.execute("SELECT data, expires FROM sessions WHERE id = ?", (sid,)).fetchone()
            if row is None:
                return None
            data, expires = row
            now = int(time.time())
            if expires <= now:
                return None
            if touch_ttl is not None:
                new_expires = now + touch_ttl
                if new_expires - expires >= min(self.touch_granularity, touch_ttl // 10 or 1):
                    conn.execute("UPDATE sessions SET expires = ? WHERE id = ?", (new_expires, sid))
        except (sqlite3.Error, OSError) as e:
            raise SessionStoreError(f"SQLite: {e}") from e
        return t.cast(str, data)

    def save(self, sid: str, data: str, ttl: int, delete: t.Sequence[str] = ()) -> None:  # noqa: D102
        now = int(time.time())
        try:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT OR REPLACE INTO sessions (id, data, expires) VALUES (?, ?, ?)",
                    (sid, data, now + ttl),
                )
                if delete:
                    conn.executemany("DELETE FROM sessions WHERE id = ?", [(d,) for d in delete])
                self._saves += 1
                if self._saves % self.purge_every == 0:
                    conn.execute("DELETE FROM sessions WHERE expires <= ?", (now,))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except (sqlite3.Error, OSError) as e:
            raise SessionStoreError(f"SQLite: {e}") from e

    def delete(self, sids: t.Sequence[str]) -> None:  # noqa: D102
        if not sids:
            return
        try:
            self._connection().executemany(
                "DELETE FROM sessions WHERE id = ?", [(sid,) for sid in sids]
            )
        except (sqlite3.Error, OSError) as e:
            raise SessionStoreError(f"SQLite: {e}") from e


class ServerSideSessionInterface(SessionInterface):
    """Sessions kept in a :class:`SessionStore`, a signed id in the cookie.

    Subclasses (:class:`RedisSessionInterface`, :class:`SQLiteSessionInterface`)
    say which store; this class can also be given any :class:`SessionStore`.
    See the module's notes for the cookie, the costs and the 503.

    :param store: The store, or ``None`` when a subclass makes it in
        :meth:`get_store`.
    :param id_length: Random bytes per session id (at least 16).

    .. versionadded:: 0.1
    """

    session_class: type[ServerSideSession] = ServerSideSession
    #: Turns the session dict into text and back (the cookie session's tagged JSON).
    serializer: TaggedJSONSerializer = session_json_serializer

    # PERF: the cookie interface's cached Set-Cookie template and lifetime
    # in seconds (the same settings, read the same way).
    _cookie_template = None
    _max_age_cache: tuple[t.Any, int] = (None, 0)
    # PERF: the id-signing keys, derived once per (SECRET_KEY, fallbacks).
    _cached_keys: tuple[t.Any, t.Any, list[bytes]] | None = None

    def _cookie_settings(self, app: Erlen) -> t.Any:
        # The cookie interface's code works on any SessionInterface with the
        # two cache attributes above; borrowed rather than copied.
        return SecureCookieSessionInterface._cookie_settings(self, app)  # type: ignore[arg-type]

    def _max_age(self, app: Erlen) -> int:
        return SecureCookieSessionInterface._max_age(self, app)  # type: ignore[arg-type]

    def __init__(self, store: SessionStore | None = None, id_length: int = 32) -> None:
        if id_length < _MIN_ID_BYTES:
            raise ValueError(
                f"id_length must be at least {_MIN_ID_BYTES} bytes (128 bits), got {id_length}."
            )
        self.store = store
        self.id_length = id_length

    def get_store(self, app: Erlen) -> SessionStore:
        """The store to use for ``app`` (the one given, by default).

        :param app: The application.
        """
        if self.store is None:
            raise RuntimeError(f"{type(self).__name__} has no session store.")
        return self.store

    # -- ids ---------------------------------------------------------------

    def generate_sid(self) -> str:
        """A new random session id: ``id_length`` bytes, URL-safe base64."""
        return secrets.token_urlsafe(self.id_length)

    def _keys(self, app: Erlen) -> list[bytes] | None:
        """The signing keys, newest first, derived from ``SECRET_KEY`` and its
        fallbacks (once per pair of settings); ``None`` without a secret key."""
        secret_key = app.secret_key
        if not secret_key:
            return None
        fallbacks = app.config["SECRET_KEY_FALLBACKS"]
        cached = self._cached_keys
        if cached is not None and cached[0] == secret_key and cached[1] == fallbacks:
            return cached[2]
        keys = []
        for key in [secret_key, *reversed(fallbacks or ())]:
            raw = key.encode() if isinstance(key, str) else bytes(key)
            keys.append(hmac.digest(raw, _ID_SALT, "sha256"))
        snapshot = list(fallbacks) if isinstance(fallbacks, list) else fallbacks
        self._cached_keys = (secret_key, snapshot, keys)
        return keys

    @staticmethod
    def _sign(key: bytes, sid: str) -> str:
        """The signature of ``sid``: URL-safe base64 of its HMAC-SHA256."""
        # PERF: hmac.digest is the one-shot C path (no HMAC object).
        return _b64encode(hmac.digest(key, sid.encode("ascii"), "sha256")).decode("ascii")

    def _unsign(self, keys: list[bytes], value: str) -> str | None:
        """The id in a cookie value, or ``None`` when its signature is wrong."""
        if len(value) > _MAX_COOKIE_VALUE or not value.isascii():
            return None
        sid, dot, signature = value.rpartition(".")
        if not dot or not sid:
            return None
        for key in keys:
            # Compared as text: a signature in another spelling of the same
            # bytes is not one this interface made, so it may as well fail.
            if hmac.compare_digest(self._sign(key, sid), signature):
                return sid
        return None

    # -- failures ------------------------------------------------------------

    def _unavailable(self, app: Erlen, error: SessionStoreError, doing: str) -> ServiceUnavailable:
        app.logger.error("Session store unavailable while %s: %s", doing, error)
        return ServiceUnavailable("The session store is unavailable. Please try again shortly.")

    def _fail_response(self, app: Erlen, response: Response, error: SessionStoreError) -> None:
        """Turn ``response`` into the 503 in place: the view's answer can't be
        sent when what it put in the session was lost."""
        page = self._unavailable(app, error, "saving").get_response()
        # The view's body is dropped: close it (a generator's cleanup runs),
        # but leave call_on_close functions to the server's close().
        close = getattr(response.response, "close", None)
        if close is not None:
            close()
        response.status_code = 503
        response.headers = page.headers.copy()
        response.response = page.response
        response.direct_passthrough = False
        response._add_vary("Cookie")

    # -- the interface ---------------------------------------------------------

    def regenerate(self, session: SessionMixin) -> None:
        """Give ``session`` a new id, keeping its data; the old id is deleted
        from the store when the session is saved (in the same round trip as
        the write).

        :param session: The current session.
        """
        if not isinstance(session, ServerSideSession):
            return
        if session.sid is not None:
            session.replaced.append(session.sid)
            session.sid = None
        session.new = True
        session.modified = True

    def open_session(self, app: Erlen, request: Request) -> ServerSideSession | None:
        """Load the session named by the request's cookie: one store call, or
        none when there is no cookie or its signature is wrong.

        :raises ~erlen.exceptions.ServiceUnavailable: The store failed.
        """
        keys = self._keys(app)
        if keys is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        sid = self._unsign(keys, value)
        if sid is None:
            return self.session_class()
        touch = self._max_age(app) if app.config["SESSION_REFRESH_EACH_REQUEST"] else None
        try:
            text = self.get_store(app).load(sid, touch)
        except SessionStoreError as e:
            raise self._unavailable(app, e, "loading") from e
        if text is None:
            return self.session_class()
        try:
            data = self.serializer.loads(text)
        except Exception:  # noqa: BLE001 - unreadable data is a lost session, not a 500
            app.logger.warning("Session %s… has unreadable data; starting afresh.", sid[:8])
            return self.session_class()
        if not isinstance(data, dict):
            return self.session_class()
        return self.session_class(data, sid=sid)

    def save_session(self, app: Erlen, session: SessionMixin, response: Response) -> None:
        """Write, delete or leave the stored session, and set the cookie.

        Modified: one write (and the delete of ids replaced by
        :meth:`regenerate`). Emptied: one delete and the cookie deleted.
        Unmodified: no store call; a permanent session's cookie is re-sent
        with a new expiry when ``SESSION_REFRESH_EACH_REQUEST`` is on (its
        store expiry moved when it was read). A store failure makes the
        response a 503.
        """
        if not isinstance(session, ServerSideSession):
            return
        accessed = session.accessed
        if not dict.__len__(session):
            if session.modified:
                stored = [*session.replaced, *([session.sid] if session.sid else [])]
                try:
                    self.get_store(app).delete(stored)
                except SessionStoreError as e:
                    self._fail_response(app, response, e)
                    return
                session.replaced = []
                session.sid = None
                self._delete_cookie(app, response)
            elif accessed:
                response._add_vary("Cookie")
            return
        keys = self._keys(app)
        if keys is None:  # the secret key was removed during the request
            return
        permanent = dict.get(session, "_permanent", False)
        sid = session.sid
        if session.modified or sid is None:
            if sid is None:
                sid = self.generate_sid()
            data = self.serializer.dumps(dict(dict.items(session)))
            try:
                self.get_store(app).save(sid, data, max(self._max_age(app), 1), session.replaced)
            except SessionStoreError as e:
                self._fail_response(app, response, e)
                return
            new_cookie = sid != session.sid
            session.sid = sid
            session.replaced = []
            if not (new_cookie or permanent):
                # The browser has this id already, and its cookie ends with
                # the browser session: nothing to re-send.
                response._add_vary("Cookie")
                return
        elif not (permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            if accessed:
                response._add_vary("Cookie")
            return
        self._set_cookie(app, response, sid + "." + self._sign(keys[0], sid), permanent)

    def _set_cookie(self, app: Erlen, response: Response, value: str, permanent: bool) -> None:
        expires = datetime.now(UTC) + app.permanent_session_lifetime if permanent else None
        template = self._cookie_settings(app)
        if template is not None and type(response).set_cookie is _STOCK_SET_COOKIE:
            # PERF: the header set_cookie() would make, from the cached
            # template (the value is base64 and dots: no quoting needed).
            response._add_cookie_header(template.header(value, expires))
            return
        self._send_cookie(app, response, value, expires)


def _redis_client(redis: t.Any, socket_timeout: float, socket_connect_timeout: float) -> t.Any:
    """A client for a URL (its own pool, fail-fast settings), or the client given."""
    if not isinstance(redis, str):
        return redis
    import redis as redis_py
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis_py.Redis.from_url(
        redis,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_connect_timeout,
        # One immediate retry, on a fresh connection, after a connection
        # error only (a connection that breaks under a command, as Redis
        # restarts; redis-py itself replaces pooled connections that died
        # while idle when it hands them out). Not after a timeout (a stalled
        # Redis would hold the request twice as long), and not redis-py's
        # default (10 retries with backoff), which would hold a request for
        # seconds while Redis is down instead of answering 503.
        retry=Retry(NoBackoff(), 1, supported_errors=(redis_py.ConnectionError,)),
    )


class RedisSessionInterface(ServerSideSessionInterface):
    """Sessions in Redis.

    :param redis: A Redis URL (a client with its own connection pool and
        fail-fast timeouts is made once, here), or a ``redis.Redis`` client
        to use as is (set its timeouts and ``retry`` yourself).
    :param key_prefix: Put before each id in Redis keys.
    :param id_length: Random bytes per session id (at least 16).
    :param socket_timeout: Seconds a command may wait for Redis (URL only).
    :param socket_connect_timeout: Seconds to connect to Redis (URL only).

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        redis: t.Any = "redis://127.0.0.1:6379/0",
        key_prefix: str = "session:",
        id_length: int = 32,
        socket_timeout: float = 1.0,
        socket_connect_timeout: float = 0.5,
    ) -> None:
        client = _redis_client(redis, socket_timeout, socket_connect_timeout)
        super().__init__(RedisSessionStore(client, key_prefix), id_length)
        #: The ``redis.Redis`` client.
        self.client = client


class SQLiteSessionInterface(ServerSideSessionInterface):
    """Sessions in an SQLite file: no server to run.

    Fits one machine (several worker processes share the file); for several
    machines use :class:`RedisSessionInterface`.

    :param path: The database file; by default ``sessions.sqlite3`` in the
        app's instance folder (created when first needed).
    :param id_length: Random bytes per session id (at least 16).
    :param timeout: Seconds to wait for another writer before answering 503.

    .. versionadded:: 0.1
    """

    def __init__(self, path: str | None = None, id_length: int = 32, timeout: float = 2.0) -> None:
        super().__init__(None if path is None else SQLiteSessionStore(path, timeout), id_length)
        self.timeout = timeout
        self._lock = threading.Lock()

    def get_store(self, app: Erlen) -> SessionStore:
        """The store given, else one in ``app``'s instance folder (made on first use)."""
        store = self.store
        if store is None:
            with self._lock:
                if self.store is None:
                    path = os.path.join(app.instance_path, "sessions.sqlite3")
                    self.store = SQLiteSessionStore(path, self.timeout)
                store = self.store
        return store


class Session:
    """Pick the session interface from the config, as Flask-Session's ``Session`` does.

    ``SESSION_TYPE``: ``"sqlite"`` (the default), ``"redis"`` or ``"cookie"``
    (Erlen's signed-cookie session). ``SESSION_REDIS``: a ``redis.Redis``
    client or a URL (``redis://127.0.0.1:6379/0``). ``SESSION_KEY_PREFIX``
    (``"session:"``), ``SESSION_ID_LENGTH`` (32), ``SESSION_SQLITE_PATH``
    (the instance folder's ``sessions.sqlite3``).

    :param app: The application, or ``None`` to call :meth:`init_app` later.

    .. versionadded:: 0.1
    """

    def __init__(self, app: Erlen | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Erlen) -> None:
        """Set ``app.session_interface`` from ``app.config``.

        :raises ValueError: An unknown ``SESSION_TYPE``.
        """
        config = app.config
        kind = config.get("SESSION_TYPE") or "sqlite"
        id_length = int(config.get("SESSION_ID_LENGTH", 32))
        interface: SessionInterface
        if kind == "redis":
            interface = RedisSessionInterface(
                config.get("SESSION_REDIS") or "redis://127.0.0.1:6379/0",
                key_prefix=config.get("SESSION_KEY_PREFIX", "session:"),
                id_length=id_length,
            )
        elif kind == "sqlite":
            interface = SQLiteSessionInterface(config.get("SESSION_SQLITE_PATH"), id_length)
        elif kind == "cookie":
            interface = SecureCookieSessionInterface()
        else:
            raise ValueError(f"Unknown SESSION_TYPE {kind!r}: use 'sqlite', 'redis' or 'cookie'.")
        app.session_interface = interface
