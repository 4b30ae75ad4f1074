"""The rooms' events: what the socket handlers and the pages ask of the chat.

Who is where and the last messages are kept by a store of :mod:`chat.rooms`;
the events (``message``, ``joined``, ``left``) go out on one broadcast channel
per room (:mod:`erlen.broadcast`). With ``BROADCAST_URL`` set to a Redis URL
both live in Redis, so a message said on one server process reaches the
people connected to every other.
"""

from __future__ import annotations

import asyncio
import json
import typing as t
from datetime import UTC, datetime

from .rooms import MemoryRooms, RedisRooms, Seat

if t.TYPE_CHECKING:
    from erlen.broadcast import Broadcast


class Hub:
    """The chat's rooms: a store for who is where, a broadcast for what happens.

    :param store: Where the seats and history live.
    :param broadcast: The app's broadcast; channel ``chat:<room>`` carries a room's events.
    :param seat_ttl: Seconds a seat lasts unless renewed (Redis); connections renew it
        three times as often.
    """

    def __init__(
        self, store: MemoryRooms | RedisRooms, broadcast: Broadcast, seat_ttl: int
    ) -> None:
        self.store = store
        self.broadcast = broadcast
        self.renew_every = seat_ttl / 3
        # PERF: a Redis call blocks for a round trip, so the handlers make it on a
        # thread; the memory store answers at once, on the event loop.
        self._blocking = isinstance(store, RedisRooms)

    @staticmethod
    def channel(room: str) -> str:
        """The broadcast channel of ``room``."""
        return f"chat:{room}"

    # -- for the pages (plain views, on a worker thread) ----------------------------

    def rooms(self) -> list[str]:
        """The rooms someone is in, sorted."""
        return self.store.rooms()

    def names(self, room: str) -> list[str]:
        """The names of the people in ``room``, sorted."""
        return self.store.people(room)

    def taken(self, room: str, name: str) -> bool:
        """Whether someone in ``room`` already goes by ``name``, ignoring case."""
        return self.store.taken(room, name)

    # -- for the socket handlers (on the event loop) --------------------------------

    async def _call(self, func: t.Callable[..., t.Any], *args: t.Any) -> t.Any:
        if self._blocking:
            return await asyncio.to_thread(func, *args)
        return func(*args)

    async def claim(self, room: str, name: str) -> Seat | None:
        """Seat ``name`` in ``room``, or ``None`` if the name is taken there.

        The store decides in one step (a lock, or one Redis script), so two
        people can't both get the same name, even on two processes.
        """
        return t.cast("Seat | None", await self._call(self.store.claim, room, name))

    async def keep(self, seat: Seat) -> bool:
        """Renew the seat; ``False`` if it was lost (see :meth:`RedisRooms.keep`)."""
        return t.cast(bool, await self._call(self.store.keep, seat))

    async def welcome(self, room: str) -> dict[str, t.Any]:
        """The ``history`` event a newcomer gets: the last messages and who is here."""
        messages = await self._call(self.store.history, room)
        people = await self._call(self.store.people, room)
        return {"type": "history", "messages": [json.loads(m) for m in messages], "people": people}

    async def joined(self, seat: Seat) -> None:
        """Tell the room (the newcomer too) that ``seat`` came in."""
        await self._announce(seat, "joined")

    async def leave(self, seat: Seat) -> None:
        """Free the seat and tell the others."""
        await self._call(self.store.release, seat)
        await self._announce(seat, "left")

    async def say(self, seat: Seat, text: str) -> None:
        """Send a message to everyone in the seat's room (the sender too), and keep it.

        ``at`` is an ISO 8601 time in UTC: each page shows it in its reader's time zone.
        """
        at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        event = json.dumps({"type": "message", "name": seat.name, "text": text, "at": at})
        await self._call(self.store.record, seat.room, event)
        await self.broadcast.apublish(self.channel(seat.room), event)

    async def _announce(self, seat: Seat, kind: str) -> None:
        people = await self._call(self.store.people, seat.room)
        event = {"type": kind, "name": seat.name, "people": people}
        await self.broadcast.apublish(self.channel(seat.room), json.dumps(event))
