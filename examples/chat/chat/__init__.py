"""A chat room over WebSockets: pick a name and a room, talk to whoever is there.

Served by an ASGI server (WebSockets need one)::

    uvicorn --factory chat:create_app

The rooms live in memory, in :class:`~chat.hub.Hub`: one server process
(one worker) holds every connection, which is what a small chat needs.
"""

from __future__ import annotations

import typing as t

from erlen import Erlen

from .hub import Hub


def create_app(config: dict[str, t.Any] | None = None) -> Erlen:
    """Build the chat app; ``config`` overrides the defaults (e.g. ``TESTING``)."""
    app = Erlen(__name__)
    app.config.update(
        CHAT_HISTORY=50,  # messages a newcomer sees
        CHAT_MAX_TEXT=500,  # characters in one message
        WEBSOCKET_MAX_MESSAGE_SIZE=4096,  # bytes in one WebSocket frame
    )
    if config:
        app.config.update(config)
    app.extensions["chat"] = Hub(history=app.config["CHAT_HISTORY"])

    from . import views

    app.register_blueprint(views.bp)
    return app
