"""One WebSocket connection's output side: raw frames on the socket, or ASGI ``websocket.send``.

Under uvicorn with our protocol class (``uvicorn_ws.py``) the scope carries the connection's asyncio
transport, and pre-built frames are written straight to it: no coroutine, no per-message dict, one
``write`` per flush. Any other ASGI server gets the same packets through ``websocket.send``, from one
sender task per connection (the only place we need one).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from atendimento.engine.engineio.protocol.frames import close_frame
from atendimento.engine.engineio.protocol.outgoing import Outgoing
from atendimento.engine.engineio.types import Scope, Send

log = logging.getLogger("atendimento.engine")

RAW_TRANSPORT_EXTENSION = "atendimento.raw_transport"

_CLOSE_NORMAL = close_frame(1000)


# What our uvicorn protocol class calls with each incoming message (text or bytes) once the engine took
# the connection over, and with None when the connection is gone (``hand_over``).
Reader = Callable[[str | bytes | None], None]


def hand_over(scope: Scope) -> Callable[[Reader], None] | None:
    """Our uvicorn protocol class's way to deliver messages by callback instead of ASGI ``receive``."""
    ext = (scope.get("extensions") or {}).get(RAW_TRANSPORT_EXTENSION)
    return ext.get("hand_over") if ext else None


def raw_transport(scope: Scope) -> asyncio.Transport | None:
    """The asyncio transport our uvicorn protocol class exposes, if this server runs it."""
    ext = (scope.get("extensions") or {}).get(RAW_TRANSPORT_EXTENSION)
    if not ext:
        return None
    transport = ext.get("transport")
    # uvloop's transports are not subclasses of asyncio's, so look for the methods we use.
    return transport if hasattr(transport, "get_write_buffer_size") else None


class WsLink:
    """Writes Engine.IO output to one WebSocket; ``raw`` is set when frames go straight to the socket."""

    __slots__ = ("_closing", "_queue", "_send", "_sender", "_wake", "pending", "raw")

    def __init__(self, send: Send, raw: asyncio.Transport | None) -> None:
        self.raw = raw
        self._send = send
        self._closing = False
        self.pending = 0  # bytes queued for the ASGI sender, for the output bound
        self._queue: deque[Outgoing] | None = None
        self._wake: asyncio.Event | None = None
        self._sender: asyncio.Task[None] | None = None
        if raw is None:
            self._queue = deque()
            self._wake = asyncio.Event()
            self._sender = asyncio.get_running_loop().create_task(self._run_sender())

    @property
    def closing(self) -> bool:
        return self._closing

    def write(self, items: list[Outgoing]) -> None:
        """Send now (raw) or hand to the sender task (ASGI), keeping order."""
        if self._closing:
            return
        raw = self.raw
        if raw is not None:
            if not raw.is_closing():
                raw.write(b"".join(o.ws for o in items) if len(items) != 1 else items[0].ws)
            return
        assert self._queue is not None and self._wake is not None
        self._queue.extend(items)
        self.pending += sum(o.size for o in items)
        self._wake.set()

    def write_bytes(self, data: bytes) -> None:
        """Raw mode only: frames already joined by the session's flush."""
        raw = self.raw
        if raw is not None and not self._closing and not raw.is_closing():
            raw.write(data)

    def backlog(self) -> int:
        """Bytes accepted but not yet on the wire (socket write buffer, or the ASGI sender's queue)."""
        raw = self.raw
        if raw is not None:
            return raw.get_write_buffer_size()
        return self.pending

    def close(self, abort: bool = False) -> None:
        """Close after what was written so far (``abort``: drop it, for a peer that stopped reading)."""
        if self._closing:
            return
        self._closing = True
        raw = self.raw
        if raw is not None:
            if raw.is_closing():
                return
            if abort:
                raw.abort()
            else:
                raw.write(_CLOSE_NORMAL)
                raw.close()
            return
        assert self._wake is not None and self._queue is not None
        if abort:
            # The peer stopped reading: ASGI offers no abort and a send may never complete, so stop
            # the sender instead of letting it wait on the peer forever.
            self._queue.clear()
            if self._sender is not None:
                self._sender.cancel()
            return
        self._wake.set()

    async def wait_closed(self) -> None:
        """ASGI mode: let the sender finish its queue and the close before the ASGI app returns."""
        if self._sender is not None:
            if not self._closing:
                self.close()
            try:
                await self._sender
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # we are being cancelled, not just the sender

    async def _run_sender(self) -> None:
        queue, wake, send = self._queue, self._wake, self._send
        assert queue is not None and wake is not None
        try:
            while True:
                await wake.wait()
                wake.clear()
                while queue:
                    item = queue.popleft()
                    self.pending -= item.size
                    for packet in item.packets:
                        if isinstance(packet, str):
                            await send({"type": "websocket.send", "text": packet})
                        else:
                            await send({"type": "websocket.send", "bytes": packet})
                if self._closing:
                    await send({"type": "websocket.close", "code": 1000})
                    return
        except Exception as exc:  # the peer went away mid-send: nothing left to deliver
            log.debug("websocket sender stopped: %r", exc)
