"""The pages and the WebSocket endpoint."""

from __future__ import annotations

import asyncio
import re
import time
import typing as t

from erlen import (
    Blueprint,
    WebSocketDisconnect,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
    websocket,
)
from erlen.broadcast import SubscriberDropped

from .hub import Hub
from .rooms import Seat

if t.TYPE_CHECKING:
    from erlen.broadcast import Subscription

bp = Blueprint("chat", __name__)

#: The close code for a name already in the room (4000-4999 are the app's own, RFC 6455).
NAME_TAKEN = 4409

#: Room and person names: short, readable, safe in a URL.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,31}")


def _valid(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if _NAME.fullmatch(value) else None


def _taken(name: str, room: str) -> str:
    # At most 114 characters with the longest names: a close reason holds 123 bytes.
    return f"Someone called {name} is already in {room}: pick another name."


def _hub() -> Hub:
    return t.cast(Hub, current_app.extensions["chat"])


@bp.route("/")
def index() -> t.Any:
    """The front page: choose a name and a room."""
    rooms = _hub().rooms()
    return render_template("index.html", rooms=rooms)


@bp.route("/join", methods=["POST"])
def join() -> t.Any:
    """Check the form and go to the room's page."""
    name, room = _valid(request.form.get("name")), _valid(request.form.get("room"))
    if name is None or room is None:
        rooms = _hub().rooms()
        error = "Names and rooms are 1 to 32 letters, digits, spaces, '.', '_' or '-'."
        return render_template("index.html", rooms=rooms, error=error), 400
    if _hub().taken(room, name):
        # Checked here for a clear answer on the form; the socket checks again, as
        # the one that decides (someone may take the name in between).
        rooms = _hub().rooms()
        return render_template("index.html", rooms=rooms, error=_taken(name, room)), 409
    return redirect(url_for("chat.room", room=room, name=name))


@bp.route("/room/<room>")
def room(room: str) -> t.Any:
    """A room's page; its script talks to :func:`socket`."""
    name = _valid(request.args.get("name"))
    if _valid(room) is None:
        abort(404)
    if name is None:
        return redirect(url_for("chat.index"))
    return render_template("room.html", room=room, name=name)


@bp.websocket("/ws/<room>")
async def socket(room: str) -> None:
    """One person in a room: send what they say to everyone there, and the room's events to them.

    The handshake is refused (400) for a bad name or room. A name already
    in the room (ignoring case, on any process) is accepted, then closed
    with :data:`NAME_TAKEN` and the reason: a browser can't read the status
    of a refused handshake, but it can read a close reason. Each message is
    JSON ``{"text": "..."}``; text over ``CHAT_MAX_TEXT`` characters or not
    JSON gets an error event back (or a close, 1007 or 1009, from Erlen).
    """
    name = _valid(request.args.get("name"))
    if name is None or _valid(room) is None:
        abort(400)
    hub = _hub()
    await websocket.accept()
    seat = await hub.claim(room, name)
    if seat is None:
        await websocket.close(NAME_TAKEN, _taken(name, room))
        return
    try:
        async with hub.broadcast.asubscribe(hub.channel(room)) as events:
            # Subscribed before the history is read: nothing said meanwhile is missed.
            await websocket.send_json(await hub.welcome(room))
            await hub.joined(seat)
            reading = asyncio.ensure_future(_read(hub, seat))
            relaying = asyncio.ensure_future(_relay(hub, seat, events))
            # Whichever ends first ends the connection: the person left (or sent
            # something Erlen closed the socket for), or the relay closed it.
            try:
                await asyncio.wait([reading, relaying], return_when=asyncio.FIRST_COMPLETED)
            finally:
                reading.cancel()
                relaying.cancel()
            for task in (reading, relaying):
                if task.done() and not task.cancelled():
                    task.result()  # an unexpected error is raised, and logged, here
    finally:
        await hub.leave(seat)


async def _read(hub: Hub, seat: Seat) -> None:
    """Take what the person says until they leave."""
    limit = current_app.config["CHAT_MAX_TEXT"]
    while True:
        try:
            data = await websocket.receive_json()
        except WebSocketDisconnect:
            return
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(text, str) or not text.strip():
            await websocket.send_json({"type": "error", "error": 'Send {"text": "..."}.'})
        elif len(text) > limit:
            await websocket.send_json(
                {"type": "error", "error": f"Messages are at most {limit} characters."}
            )
        else:
            await hub.say(seat, text.strip())


async def _relay(hub: Hub, seat: Seat, events: Subscription) -> None:
    """Send the room's events (JSON text, from any process) to this socket; renew the seat.

    When the events stop, the socket is closed with why: the server is
    shutting down (1012, the page may reconnect to another process), this
    reader fell too far behind (1013), or the seat was lost (a Redis seat
    that expired, its name taken by someone else since).
    """
    renewed = time.monotonic()
    try:
        # None after renew_every seconds of quiet: a busy room renews on time too.
        async for event in events.alisten(hub.renew_every):
            if event is not None:
                await websocket.send(event)
            if time.monotonic() - renewed >= hub.renew_every:
                renewed = time.monotonic()
                if not await hub.keep(seat):
                    await websocket.close(NAME_TAKEN, _taken(seat.name, seat.room))
                    return
    except SubscriberDropped:
        await websocket.close(1013, "Too far behind: reconnect.")
        return
    except WebSocketDisconnect:
        return  # the person left
    await websocket.close(1012, "The server is restarting.")
