"""A socket's incoming events: handled in arrival order, at most ``max_pending`` in flight or waiting.

Why: each event used to become its own task, so a client that wrote 3,000 events at once had 3,000
handlers running together (each with a database write and a broadcast) and starved every other
tenant. Now one task per socket drains that socket's events in order. The common case costs what it
did: an event that finds the socket idle runs at once (inline for a sync handler, one task for an
async one), and only events that arrive while another is being handled wait in a short queue.

Past the bound the event is not queued and its handler does not run: the namespace's overflow hook
answers it (its return value is the ack; the gateway answers a coded refusal), so every event that
asked for an ack gets one. A client that has had more than ``max_refused_events`` events refused,
with no pause of ``REFUSAL_MEMORY_S`` between two of them, does not wait for its answers: its socket is
disconnected (``event overflow``); the rest of what it already sent to that namespace is dropped
(client.py), so the connection stays up long enough to deliver the answers and the DISCONNECT.
The pause, rather than "since the queue was last empty", is what catches a client that floods in
bursts (a polling POST of 50 events each time the last one returned).
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from atendimento.engine.engineio.protocol.reasons import Reason

if TYPE_CHECKING:
    from atendimento.engine.socketio.namespace import _Handler
    from atendimento.engine.socketio.socket import Socket

log = logging.getLogger("atendimento.engine")

OVERFLOW_REASON = Reason.EVENT_OVERFLOW
REFUSAL_MEMORY_S = 10.0

_Item = tuple["_Handler", str, "int | None", "tuple[Any, ...]"]


class Inbox:
    __slots__ = ("busy", "last_refusal", "pending", "refused", "socket")

    def __init__(self, socket: Socket) -> None:
        self.socket = socket
        # Made on the first queued event: an empty deque is ~600 bytes, paid by every idle socket.
        self.pending: deque[_Item] | None = None
        self.busy = False  # an event of this socket is being handled (by the drain task)
        self.refused = 0  # events refused with no pause of REFUSAL_MEMORY_S between them
        self.last_refusal = 0.0

    def submit(self, handler: _Handler, event: str, ack_id: int | None, args: tuple[Any, ...]) -> None:
        """Handle ``event`` now if the socket is idle, queue it behind the others, or refuse it."""
        if not self.busy:
            if not handler.is_async:
                run_sync(handler, event, ack_id, self.socket, args)
                return
            self.busy = True
            self.socket.nsp.server._spawn(self._drain((handler, event, ack_id, args)))
            return
        server = self.socket.nsp.server
        pending = self.pending
        if pending is None:
            pending = self.pending = deque()
        if len(pending) + 1 < server.max_pending_events:
            pending.append((handler, event, ack_id, args))
            return
        self._refuse(event, ack_id)

    def _refuse(self, event: str, ack_id: int | None) -> None:
        socket = self.socket
        nsp = socket.nsp
        now = socket.session.engine.loop.time()
        if now - self.last_refusal > nsp.server.refusal_memory_s:
            self.refused = 0
        self.last_refusal = now
        self.refused += 1
        if self.refused > nsp.server.max_refused_events:
            log.info("socket %s on %s keeps sending past its bound; disconnecting", socket.sid, nsp.name)
            self.clear()
            client = socket.client
            if client.overflowed is None:
                client.overflowed = set()
            client.overflowed.add(nsp.name)
            socket.disconnect(reason=OVERFLOW_REASON)
            return
        hook = nsp._on_overflow
        if hook is not None:
            run_sync(hook, "overflow", ack_id, socket, (event,))

    async def _drain(self, item: _Item) -> None:
        socket = self.socket
        try:
            while True:
                handler, event, ack_id, args = item
                if handler.is_async:
                    await run_async(handler, event, ack_id, socket, args)
                else:
                    run_sync(handler, event, ack_id, socket, args)
                pending = self.pending
                if not pending or not socket.connected:
                    return
                item = pending.popleft()
        finally:
            self.busy = False
            self.clear()  # non-empty only when the socket went away: nobody to answer

    def clear(self) -> None:
        self.pending = None


def run_sync(handler: _Handler, what: str, ack_id: int | None, socket: Socket, args: tuple[Any, ...]) -> None:
    try:
        result = handler.fn(socket, *args)
    except Exception as exc:
        log_failure(what, socket, exc)
        return
    if ack_id is not None:
        socket._send_ack(ack_id, result)


async def run_async(
    handler: _Handler, what: str, ack_id: int | None, socket: Socket, args: tuple[Any, ...]
) -> None:
    try:
        result = await handler.fn(socket, *args)
    except Exception as exc:
        log_failure(what, socket, exc)
        return
    if ack_id is not None:
        socket._send_ack(ack_id, result)


def log_failure(what: str, socket: Socket, exc: BaseException) -> None:
    """Handler exceptions are logged here (one line; traceback at DEBUG) and never reach the client."""
    log.error("handler for %r on %s failed: %r", what, socket.nsp.name, exc)
    log.debug("traceback", exc_info=exc)
