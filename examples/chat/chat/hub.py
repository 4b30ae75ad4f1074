"""The rooms: who is connected where, and the last messages of each room."""

from __future__ import annotations

import typing as t
from collections import deque
from datetime import UTC, datetime

from erlen import WebSocketDisconnect

if t.TYPE_CHECKING:
    from erlen.websockets import WebSocket


class Room:
    """The people in one room and its recent messages."""

    def __init__(self, history: int) -> None:
        self.members: dict[WebSocket, str] = {}
        self.history: deque[dict[str, t.Any]] = deque(maxlen=history)


class Hub:
    """Every room of the app, created when its first person joins.

    All of it runs on the server's event loop, one step at a time, so plain
    dicts need no locks.
    """

    def __init__(self, history: int = 50) -> None:
        self.rooms: dict[str, Room] = {}
        self._history = history

    def names(self, room: str) -> list[str]:
        """The names of the people in ``room``, sorted."""
        found = self.rooms.get(room)
        return sorted(found.members.values()) if found else []

    def taken(self, room: str, name: str) -> bool:
        """Whether someone in ``room`` already goes by ``name`` (ignoring case).

        Case is ignored so that "alice" can't pass for "Alice".
        """
        found = self.rooms.get(room)
        if found is None:
            return False
        wanted = name.casefold()
        return any(other.casefold() == wanted for other in found.members.values())

    async def join(self, room: str, name: str, ws: WebSocket) -> bool:
        """Add ``ws`` to ``room``: it gets the recent messages, the others a notice.

        Returns ``False``, and adds nothing, if the name is :meth:`taken`:
        checked here, with no ``await`` before the member is added, so two
        people can't both pass the check with the same name.
        """
        if self.taken(room, name):
            return False
        found = self.rooms.get(room)
        if found is None:
            found = self.rooms[room] = Room(self._history)
        found.members[ws] = name
        await ws.send_json(
            {"type": "history", "messages": list(found.history), "people": self.names(room)}
        )
        await self.broadcast(
            room, {"type": "joined", "name": name, "people": self.names(room)}, record=False
        )
        return True

    async def leave(self, room: str, ws: WebSocket) -> None:
        """Remove ``ws`` from ``room`` and tell the others; an empty room is dropped."""
        found = self.rooms.get(room)
        if found is None or ws not in found.members:
            return
        name = found.members.pop(ws)
        if not found.members:
            del self.rooms[room]
            return
        await self.broadcast(
            room, {"type": "left", "name": name, "people": self.names(room)}, record=False
        )

    async def say(self, room: str, name: str, text: str) -> None:
        """Send a message from ``name`` to everyone in ``room`` (the sender too).

        ``at`` is an ISO 8601 time in UTC: each page shows it in its reader's time zone.
        """
        at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        await self.broadcast(room, {"type": "message", "name": name, "text": text, "at": at})

    async def broadcast(self, room: str, event: dict[str, t.Any], record: bool = True) -> None:
        """Send ``event`` to every member; members whose connection is gone are dropped."""
        found = self.rooms.get(room)
        if found is None:
            return
        if record:
            found.history.append(event)
        gone = []
        for member in list(found.members):
            try:
                await member.send_json(event)
            except WebSocketDisconnect:
                gone.append(member)
        for member in gone:
            found.members.pop(member, None)
