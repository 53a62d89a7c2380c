"""uvicorn WebSocket protocol class that lets the engine write pre-built frames to the socket.

Pass it to uvicorn as ``ws=EngineWebSocketProtocol`` (``uvicorn.Config(app, ws=...)``). Everything ASGI
stays as uvicorn does it: the handshake (accept/reject), the receive side (``websocket.receive``
messages), ``websocket.close``. The one addition is a scope extension,
``scope["extensions"]["atendimento.raw_transport"] = {"transport": <asyncio transport>}``, through
which the engine writes whole server frames (unmasked, FIN, text/binary) once the connection is
accepted. That skips, per message, an ASGI ``send`` coroutine, a dict and the websockets library's
framing: a broadcast frames its packet once and each recipient gets one ``transport.write`` per loop
turn with all its frames joined.

Idle connections are most of a realtime server's memory, so this class also trims what uvicorn keeps
per connection (measured with tracemalloc, ~25 KB of Python heap per idle connection before):

* permessage-deflate is never negotiated: frames are written as built (uncompressed), and each
  connection saves the zlib contexts;
* the receive queue and the "writable" flag are small single-consumer versions of ``asyncio.Queue``
  and ``asyncio.Event`` (those allocate four ``deque`` blocks, ~3 KB, per connection);
* the parsed handshake request (its headers) and response are dropped once they have served (the
  ASGI scope keeps the headers the application may read).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn._types import ASGISendEvent
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.datastructures import Headers
from websockets.http11 import Request
from websockets.server import ServerProtocol

from .link import RAW_TRANSPORT_EXTENSION


class _ReceiveQueue:
    """What uvicorn uses of ``asyncio.Queue`` (``put_nowait``, ``get``, ``empty``), one consumer."""

    __slots__ = ("_items", "_loop", "_waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items


class _Flag:
    """What uvicorn uses of ``asyncio.Event`` (``set``, ``clear``, ``wait``), without its deque."""

    __slots__ = ("_loop", "_set", "_waiters")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> None:
        if self._set:
            return
        waiter: asyncio.Future[None] = self._loop.create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        await waiter


class EngineWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.queue = _ReceiveQueue(self.loop)  # type: ignore[assignment]
        self.writable = _Flag(self.loop)  # type: ignore[assignment]
        self.writable.set()
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
        # The scope has its own copy of the headers and the response is built; the websockets parser's
        # generator frame keeps this request alive for the connection's life, so empty it.
        event.headers = Headers()

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if self.handshake_complete and self.__dict__.get("response") is not None:
            # uvicorn reads these only until the handshake is answered.
            self.request = self.response = None  # type: ignore[assignment]
