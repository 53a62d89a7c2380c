"""uvicorn WebSocket protocol class that lets the engine write pre-built frames to the socket.

Pass it to uvicorn as ``ws=EngineWebSocketProtocol`` (``uvicorn.Config(app, ws=...)``). Everything ASGI
stays as uvicorn does it: the handshake (accept/reject), the receive side (``websocket.receive``
messages), ``websocket.close``. The one addition is a scope extension,
``scope["extensions"]["atendimento.raw_transport"] = {"transport": <asyncio transport>}``, through
which the engine writes whole server frames (unmasked, FIN, text/binary) once the connection is
accepted. That skips, per message, an ASGI ``send`` coroutine, a dict and the websockets library's
framing: a broadcast frames its packet once and each recipient gets one ``transport.write`` per loop
turn with all its frames joined.

permessage-deflate is never negotiated by this class: frames are written as built (uncompressed), and
each connection saves the zlib contexts, which are the bulk of an idle connection's memory.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.http11 import Request
from websockets.server import ServerProtocol

from .link import RAW_TRANSPORT_EXTENSION


class EngineWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        if self.config.ws_per_message_deflate:
            # Replace the negotiating protocol by one without extensions (see the module docstring).
            self.conn = ServerProtocol(
                extensions=[], max_size=self.config.ws_max_size, logger=logging.getLogger("uvicorn.error")
            )

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The scope exists only if the handshake request was acceptable; the ASGI task that reads it
        # has been created but not run yet, so adding the extension here is seen from its first line.
        scope = self.__dict__.get("scope")
        if scope is not None:
            scope["extensions"][RAW_TRANSPORT_EXTENSION] = {"transport": self.transport}
