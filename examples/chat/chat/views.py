"""The pages and the WebSocket endpoint."""

from __future__ import annotations

import re
import typing as t

from erlen import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
    websocket,
)

from .hub import Hub

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
    rooms = sorted(_hub().rooms)
    return render_template("index.html", rooms=rooms)


@bp.route("/join", methods=["POST"])
def join() -> t.Any:
    """Check the form and go to the room's page."""
    name, room = _valid(request.form.get("name")), _valid(request.form.get("room"))
    if name is None or room is None:
        rooms = sorted(_hub().rooms)
        error = "Names and rooms are 1 to 32 letters, digits, spaces, '.', '_' or '-'."
        return render_template("index.html", rooms=rooms, error=error), 400
    if _hub().taken(room, name):
        # Checked here for a clear answer on the form; the socket checks again, as
        # the one that decides (someone may take the name in between).
        rooms = sorted(_hub().rooms)
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
    """One person in a room: send what they say to everyone there.

    The handshake is refused (400) for a bad name or room. A name already
    in the room (ignoring case) is accepted, then closed with
    :data:`NAME_TAKEN` and the reason: a browser can't read the status of a
    refused handshake, but it can read a close reason. Each message is
    JSON ``{"text": "..."}``; text over ``CHAT_MAX_TEXT`` characters or not
    JSON gets an error event back (or a close, 1007 or 1009, from Erlen).
    """
    name = _valid(request.args.get("name"))
    if name is None or _valid(room) is None:
        abort(400)
    hub = _hub()
    ws = websocket._get_current_object()  # type: ignore[attr-defined]
    await websocket.accept()
    if not await hub.join(room, name, ws):
        await websocket.close(NAME_TAKEN, _taken(name, room))
        return
    limit = current_app.config["CHAT_MAX_TEXT"]
    try:
        while True:
            data = await websocket.receive_json()
            text = data.get("text") if isinstance(data, dict) else None
            if not isinstance(text, str) or not text.strip():
                await websocket.send_json({"type": "error", "error": 'Send {"text": "..."}.'})
            elif len(text) > limit:
                await websocket.send_json(
                    {"type": "error", "error": f"Messages are at most {limit} characters."}
                )
            else:
                await hub.say(room, name, text.strip())
    finally:
        await hub.leave(room, ws)
