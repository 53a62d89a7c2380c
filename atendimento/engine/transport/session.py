"""One Engine.IO session: its output buffer, heartbeat state, transport and lifecycle.

The session is transport-agnostic towards the layer above (``push``, ``send``, ``close``) and keeps
its output in one list. What the list holds depends on where the bytes will go, chosen once per
transport switch so that ``push`` (run once per recipient of every broadcast) does one append:

* WebSocket with the raw transport: the pre-built frames (``bytes``), joined into one write per flush;
* long-polling, or WebSocket through ASGI: the ``Outgoing`` objects, rendered when sent.

Heartbeat deadlines are plain floats swept by the server's single ``Sweeper``: no timer per session.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ..protocol import engineio as eio
from ..protocol.errors import ProtocolError
from ..protocol.outgoing import Outgoing, control, message
from .link import WsLink

if TYPE_CHECKING:
    from .engine import EngineServer

log = logging.getLogger("atendimento.engine")

POLLING = "polling"
WEBSOCKET = "websocket"

# Lifecycle: OPEN, then CLOSING (no more output accepted, teardown scheduled), then CLOSED.
OPEN, CLOSING, CLOSED = 0, 1, 2

# Closes caused by the client: it gets no close packet later, its next request is simply unknown (as
# the reference server and the conformance suites expect).
_CLIENT_FAULTS = frozenset({"ping timeout", "parse error", "transport error"})

PING = control("2")
NOOP = control("6")
CLOSE = control("1")
PROBE_PONG = control("3probe")


class EngineSession:
    __slots__ = (
        "_final",
        "_linger",
        "app",
        "deadline",
        "dirty",
        "engine",
        "get_waiter",
        "link",
        "out",
        "out_bytes",
        "ping_at",
        "pong_by",
        "post_active",
        "probe",
        "raw",
        "scope",
        "sid",
        "state",
        "transport",
        "upgrading",
    )

    def __init__(self, engine: EngineServer, sid: str, scope: Any, transport: str) -> None:
        self.engine = engine
        self.sid = sid
        self.scope = scope  # the handshake request: headers, client address, query
        self.transport = transport
        self.state = OPEN
        self.out: list[Any] = []
        self.out_bytes = 0
        self.dirty = False
        self.raw: asyncio.Transport | None = None  # set only for WebSocket with the raw transport
        self.link: WsLink | None = None
        self.probe: WsLink | None = None  # a WebSocket probing an upgrade from polling
        self.upgrading = False
        self.get_waiter: asyncio.Future[None] | None = None
        self.post_active = False
        now = engine.loop.time()
        self.ping_at = now + engine.ping_interval
        self.pong_by = 0.0  # 0: no ping in flight
        self.deadline = 0.0  # set by the layer above (Socket.IO's connect timeout); 0: none
        self.app: Any = None  # the layer above's per-connection state
        self._final: Outgoing | None = None  # what a pending GET answers once the session is closed
        self._linger = False  # closed, but kept until a GET has collected the close packet

    def __repr__(self) -> str:
        return f"<EngineSession {self.sid} {self.transport}>"

    # ------------------------------------------------------------------------------------------ output

    def push(self, out: Outgoing) -> None:
        """Queue pre-encoded output; the flusher writes it at the end of this loop turn."""
        if self.state:
            return
        self.out.append(out.ws if self.raw is not None else out)
        self.out_bytes += out.size
        if self.out_bytes > self.engine.output_limit:
            self._overflow()
            return
        if not self.dirty:
            self.dirty = True
            self.engine.flusher.mark(self)

    def send(self, data: str | bytes) -> None:
        """Send one Engine.IO ``message`` (text or binary)."""
        self.push(message([data]))

    def flush(self) -> None:
        self.dirty = False
        if not self.out or self.state == CLOSED:
            return
        if self.raw is not None:
            out = self.out
            data = out[0] if len(out) == 1 else b"".join(out)
            self.out = []
            self.out_bytes = 0
            raw = self.raw
            if raw.is_closing():
                return  # the peer is gone; the receive loop will close the session
            raw.write(data)
            if raw.get_write_buffer_size() > self.engine.output_limit:
                self._overflow()
        elif self.link is not None:
            out, self.out = self.out, []
            self.out_bytes = 0
            self.link.write(out)
            if self.link.backlog() > self.engine.output_limit:
                self._overflow()
        else:
            self._release_get()

    def take_poll_body(self) -> bytes:
        """Everything buffered, as one long-polling response body.

        After a close, the close (or noop) packet comes last; when the session lingers for its client
        (see ``_teardown``) it comes alone, in the GET after the one that drains the buffer, because
        socket.io-client handles the close before the events that shared its payload and would lose
        them. Once the final packet is out, the session is forgotten.
        """
        items: list[Outgoing] = self.out
        self.out = []
        self.out_bytes = 0
        final = self._final
        if final is not None and (not items or not self._linger):
            items.append(final)
            self._final = None
        if self.state == CLOSED and self._final is None:
            self.engine.discard(self)
        return eio.SEPARATOR_BYTES.join(o.poll for o in items)

    def _overflow(self) -> None:
        # Called from inside a broadcast loop: stop accepting output now, tear down next turn so the
        # loop's room sets are not changed under it.
        if self.state:
            return
        self.state = CLOSING
        self.engine.refused(
            "closing slow client %s: more than %d bytes unsent",
            self.sid,
            self.engine.output_limit,
            level=logging.WARNING,
        )
        self.engine.loop.call_soon(self._teardown, "transport error", True)

    # ------------------------------------------------------------------------------------------- input

    def receive(self, packet: eio.Packet) -> None:
        """Handle one packet from the client. ``ProtocolError`` propagates to the transport."""
        kind = packet.type
        if kind == eio.MESSAGE:
            self.engine.handler.on_message(self, packet.data)
        elif kind == eio.PONG:
            self.pong_by = 0.0
            self.ping_at = self.engine.loop.time() + self.engine.ping_interval
        elif kind == eio.CLOSE:
            self.close("transport close", by_client=True)
        elif kind == eio.OPEN:
            raise ProtocolError("client sent an open packet")
        # ping, upgrade and noop outside an upgrade carry nothing for us: ignored, as the reference does.

    def heartbeat_expired(self, now: float) -> bool:
        """Whether the ping deadline has passed, whether or not the sweep got to send the ping yet."""
        due = self.pong_by or self.ping_at + self.engine.ping_timeout
        return now >= due

    # --------------------------------------------------------------------------------------- transports

    def begin_upgrade(self, probe: WsLink) -> None:
        """The probe succeeded: release the pending GET with a noop so the client can pause polling."""
        self.upgrading = True
        self.probe = probe
        self._release_get()

    def complete_upgrade(self, link: WsLink) -> None:
        """Switch output to the WebSocket; whatever polling had not delivered goes there, in order."""
        self.upgrading = False
        self.probe = None
        self.transport = WEBSOCKET
        self.attach(link)
        self._release_get()  # a GET the client left pending: end it, polling is over

    def attach(self, link: WsLink) -> None:
        self.link = link
        if link.raw is not None:
            self.raw = link.raw
            self.out = [o.ws for o in self.out]
        if self.out and not self.dirty:
            self.dirty = True
            self.engine.flusher.mark(self)

    def _release_get(self) -> None:
        """End the pending long-poll GET, if any (it then answers whatever is due)."""
        waiter = self.get_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def abort_upgrade(self) -> None:
        self.upgrading = False
        self.probe = None

    # ------------------------------------------------------------------------------------------ closing

    def close(self, reason: str, *, by_client: bool = False, abort: bool = False) -> None:
        """Close now: deliver what is buffered if the transport allows, notify the layer above once."""
        if self.state == CLOSED:
            return
        if self.transport == POLLING:
            # A pending GET ends with the close packet; if the client itself closed, with a noop, as the
            # reference implementation does.
            self._final = NOOP if by_client else CLOSE
        self.state = CLOSING
        self._teardown(reason, abort)

    def _teardown(self, reason: str, abort: bool) -> None:
        if self.state == CLOSED:
            return
        self.state = CLOSED
        if abort:
            self.out = []
            self.out_bytes = 0
        if self.transport == POLLING and self._final is CLOSE and not abort and reason not in _CLIENT_FAULTS:
            # A close the client did not cause: keep the session findable until its GETs have taken
            # what was queued and then the close packet (a clean "transport close" for the client, not
            # a failed poll). The sweeper forgets it if no GET comes within pingTimeout.
            self._linger = True
            self.deadline = self.engine.loop.time() + self.engine.ping_timeout
        else:
            self.engine.discard(self)
        if self.link is not None:
            if self.out:
                if self.raw is not None:
                    self.link.write_bytes(b"".join(self.out))
                else:
                    self.link.write(self.out)
            self.link.close(abort=abort)
        if self.probe is not None:
            self.probe.close(abort=True)
            self.probe = None
        self._release_get()
        self.engine.notify_closed(self, reason)


def refuse_packet(engine: EngineServer, session: EngineSession, exc: Exception) -> None:
    """Close the session whose packet could not be decoded or handled: one (rate-limited) line.

    A ``ProtocolError`` is the peer's fault and says why; anything else is an error of ours that the
    packet triggered, and still closes only that connection (the traceback only at DEBUG, so a client
    that can trigger it cannot fill the log).
    """
    if isinstance(exc, ProtocolError):
        engine.refused("closing %s: invalid packet: %.200s", session.sid, exc)
    elif engine.refused("closing %s: packet handling failed: %.200r", session.sid, exc, level=logging.WARN):
        log.debug("traceback", exc_info=exc)
    session.close("parse error")
