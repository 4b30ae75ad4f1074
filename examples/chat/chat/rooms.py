"""Who is in which room, and each room's last messages: in this process, or in Redis.

:class:`MemoryRooms` is enough for one server process. :class:`RedisRooms`
keeps the same things in Redis, so that every process of the chat (two
uvicorn processes, or several machines) sees the same people and history,
and refuses a name that is taken on any of them.

Both are plain blocking code, safe to call from any thread: the pages'
views run on worker threads, the socket handlers hand the calls to a thread
(see :class:`chat.hub.Hub`).
"""

from __future__ import annotations

import secrets
import threading
import typing as t
from collections import deque
from dataclasses import dataclass, field

if t.TYPE_CHECKING:
    import redis


@dataclass(frozen=True)
class Seat:
    """One connection's hold on a name in a room.

    ``token`` tells this connection from a later one that takes the same
    name after it has gone: leaving never frees someone else's seat.
    """

    room: str
    name: str
    token: str = field(default_factory=lambda: secrets.token_hex(8))


class MemoryRooms:
    """The rooms in this process's memory: right when one process serves the chat."""

    def __init__(self, history: int) -> None:
        self._history_size = history
        # The views run on worker threads and the handlers' calls on others: one lock.
        self._lock = threading.Lock()
        self._seats: dict[str, dict[str, Seat]] = {}  # room -> casefolded name -> seat
        self._history: dict[str, deque[str]] = {}

    def claim(self, room: str, name: str) -> Seat | None:
        """Seat ``name`` in ``room``; ``None`` if someone there has that name (ignoring case)."""
        with self._lock:
            seats = self._seats.setdefault(room, {})
            if name.casefold() in seats:
                return None
            seat = seats[name.casefold()] = Seat(room, name)
            return seat

    def keep(self, seat: Seat) -> bool:
        """Nothing to renew in memory: a seat lasts until it is released."""
        return True

    def release(self, seat: Seat) -> None:
        """Free the seat; a room nobody is in is forgotten, history and all."""
        with self._lock:
            seats = self._seats.get(seat.room, {})
            if seats.get(seat.name.casefold()) == seat:
                del seats[seat.name.casefold()]
            if not seats:
                self._seats.pop(seat.room, None)
                self._history.pop(seat.room, None)

    def people(self, room: str) -> list[str]:
        """The names seated in ``room``, sorted."""
        with self._lock:
            return sorted(seat.name for seat in self._seats.get(room, {}).values())

    def taken(self, room: str, name: str) -> bool:
        """Whether someone in ``room`` goes by ``name`` (ignoring case, so "alice" can't pass for "Alice")."""
        with self._lock:
            return name.casefold() in self._seats.get(room, {})

    def rooms(self) -> list[str]:
        """The rooms someone is in, sorted."""
        with self._lock:
            return sorted(room for room, seats in self._seats.items() if seats)

    def record(self, room: str, event: str) -> None:
        """Keep ``event`` (JSON text) in the room's history, the oldest falling off."""
        with self._lock:
            if room in self._seats:
                history = self._history.setdefault(room, deque(maxlen=self._history_size))
                history.append(event)

    def history(self, room: str) -> list[str]:
        """The room's last messages, oldest first."""
        with self._lock:
            return list(self._history.get(room, ()))


#: Take a seat unless another connection holds its name. Renewing is taking it
#: again with the same token, so one script does both; the two SADDs put back
#: the name and room that a reader may have just removed as empty (see people()).
#: KEYS: seat, room's people, rooms. ARGV: "token name", seconds, casefolded name, room.
_TAKE = """
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
return 1
"""

#: Free a seat only if it is still this connection's.
#: KEYS: seat, room's people. ARGV: "token name", casefolded name.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[2])
end
return 0
"""


class RedisRooms:
    """The rooms in Redis, shared by every process that uses the same Redis.

    The keys, all under ``chat:``:

    - ``chat:rooms``: a set of the rooms that may have someone in them;
    - ``chat:room:<room>:people``: a set of the casefolded names seated there;
    - ``chat:room:<room>:seat:<casefolded name>``: one per person, holding the
      connection's token and the name as typed, with an expiry of ``ttl``
      seconds that the connection renews while it lives. A process killed
      without a chance to free its seats (``SIGKILL``, a crash, a pulled
      cable) leaves them for at most ``ttl`` seconds;
    - ``chat:room:<room>:history``: a list of the last messages, capped with ``LTRIM``.

    :param client: A ``redis.Redis`` client that decodes responses to ``str``.
    """

    def __init__(self, client: redis.Redis, history: int, ttl: int) -> None:
        # Any: the replies are str (decode_responses=True), which redis-py's types can't tell.
        self.redis: t.Any = client
        self.history_size = history
        self.ttl = ttl
        self._take = client.register_script(_TAKE)
        self._release = client.register_script(_RELEASE)

    def _keys(self, room: str, name: str) -> list[str]:
        return [
            f"chat:room:{room}:seat:{name.casefold()}",
            f"chat:room:{room}:people",
            "chat:rooms",
        ]

    def claim(self, room: str, name: str) -> Seat | None:
        """Seat ``name`` in ``room`` (any process); ``None`` if it is taken there, ignoring case."""
        seat = Seat(room, name)
        return seat if self.keep(seat) else None

    def keep(self, seat: Seat) -> bool:
        """Renew the seat's expiry; ``False`` if it expired and someone else took the name."""
        keys = self._keys(seat.room, seat.name)
        args: list[str | int] = [
            f"{seat.token} {seat.name}",
            self.ttl,
            seat.name.casefold(),
            seat.room,
        ]
        return bool(self._take(keys, args))

    def release(self, seat: Seat) -> None:
        """Free the seat; a room nobody is in is forgotten, history and all."""
        keys = self._keys(seat.room, seat.name)
        self._release(keys[:2], [f"{seat.token} {seat.name}", seat.name.casefold()])
        if not self.people(seat.room):
            self.redis.delete(f"chat:room:{seat.room}:history")
            self.redis.srem("chat:rooms", seat.room)

    def people(self, room: str) -> list[str]:
        """The names seated in ``room``, sorted; seats that expired are cleared on the way."""
        people_key = f"chat:room:{room}:people"
        folded = sorted(self.redis.smembers(people_key))
        if not folded:
            return []
        held = self.redis.mget([f"chat:room:{room}:seat:{name}" for name in folded])
        expired = [name for name, value in zip(folded, held, strict=True) if value is None]
        if expired:
            # A seat taken again meanwhile is put back by its next renewal.
            self.redis.srem(people_key, *expired)
        return sorted(value.split(" ", 1)[1] for value in held if value is not None)

    def taken(self, room: str, name: str) -> bool:
        """Whether someone in ``room``, on any process, goes by ``name`` (ignoring case)."""
        return bool(self.redis.exists(f"chat:room:{room}:seat:{name.casefold()}"))

    def rooms(self) -> list[str]:
        """The rooms someone is in, sorted; empty ones are dropped from ``chat:rooms``."""
        found = []
        for room in sorted(self.redis.smembers("chat:rooms")):
            if self.people(room):
                found.append(room)
            else:
                self.redis.srem("chat:rooms", room)
        return found

    def record(self, room: str, event: str) -> None:
        """Add ``event`` (JSON text) to the room's history, keeping the last ``history``."""
        key = f"chat:room:{room}:history"
        with self.redis.pipeline() as pipe:
            pipe.rpush(key, event)
            pipe.ltrim(key, -self.history_size, -1)
            # A room whose people all vanished with a killed process is never
            # released: its history goes a day after the last message.
            pipe.expire(key, 86_400)
            pipe.execute()

    def history(self, room: str) -> list[str]:
        """The room's last messages, oldest first."""
        return list(self.redis.lrange(f"chat:room:{room}:history", 0, -1))
