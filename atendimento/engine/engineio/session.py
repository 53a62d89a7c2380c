"""One Engine.IO session's I/O: its output buffer, its transport and the wiring of its decisions.

What the session decides (lifecycle, heartbeat, connect deadline, upgrade, close) lives in
``protocol/session.py``'s ``SessionState``, which takes the time as an argument and touches no socket;
this object moves bytes, reads the loop's clock and carries out what the state answers.

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

from atendimento.engine.engineio.link import WsLink
from atendimento.engine.engineio.protocol import packets as eio
from atendimento.engine.engineio.protocol.errors import ProtocolError
from atendimento.engine.engineio.protocol.outgoing import Outgoing, message
from atendimento.engine.engineio.protocol.reasons import Reason
from atendimento.engine.engineio.protocol.session import (
    CLOSE,
    NOOP,
    PING,
    POLLING,
    PROBE_PONG,
    WEBSOCKET,
    Lifecycle,
    SessionState,
    Teardown,
    Upgrade,
)

if TYPE_CHECKING:
    from atendimento.engine.engineio.server import EngineIOServer

log = logging.getLogger("atendimento.engine")

__all__ = ["CLOSE", "NOOP", "PING", "POLLING", "PROBE_PONG", "WEBSOCKET", "EngineSession", "refuse_packet"]

_CLOSED = Lifecycle.CLOSED


class EngineSession:
    __slots__ = (
        "accepting",
        "app",
        "dirty",
        "engine",
        "get_waiter",
        "link",
        "out",
        "out_bytes",
        "post_active",
        "probe",
        "raw",
        "scope",
        "sid",
        "state",
    )

    def __init__(self, engine: EngineIOServer, sid: str, scope: Any, transport: str) -> None:
        self.engine = engine
        self.sid = sid
        self.scope = scope  # the handshake request: headers, client address, query
        self.state = SessionState(engine.timing, transport, engine.loop.time())
        # ``state.lifecycle is Lifecycle.OPEN``, kept as a plain bool because ``push`` (once per
        # recipient of every broadcast) tests it: one attribute load and a test against True, where
        # the enum costs a second attribute hop and a global lookup (measured on CPython 3.11, one
        # check in a loop: bool 4 ns, the old int's truthiness 8 ns, ``state.lifecycle is not OPEN``
        # 9.5 ns). It only ever goes from True to False (``close``, ``_overflow``, ``abandon``),
        # beside the state's own change.
        self.accepting = True
        self.out: list[Any] = []
        self.out_bytes = 0
        self.dirty = False
        self.raw: asyncio.Transport | None = None  # set only for WebSocket with the raw transport
        self.link: WsLink | None = None
        self.probe: WsLink | None = None  # a WebSocket probing an upgrade from polling
        self.get_waiter: asyncio.Future[None] | None = None
        self.post_active = False
        self.app: Any = None  # the layer above's per-connection state

    def __repr__(self) -> str:
        return f"<EngineSession {self.sid} {self.state.transport}>"

    @property
    def transport(self) -> str:
        """``"polling"`` or ``"websocket"``."""
        return self.state.transport

    @property
    def upgrading(self) -> bool:
        """The probe was answered: the client is pausing polling to move to WebSocket."""
        return self.state.upgrade is Upgrade.UPGRADING

    @property
    def closed(self) -> bool:
        return self.state.lifecycle is _CLOSED

    # ------------------------------------------------------------------------------------------ output

    def push(self, out: Outgoing) -> None:
        """Queue pre-encoded output; the flusher writes it at the end of this loop turn."""
        if not self.accepting:
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
        if not self.out or self.state.lifecycle is _CLOSED:
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
        """Everything buffered, as one long-polling response body; after a close, the close (or noop)
        packet comes last, or alone while the session lingers (``SessionState.take_final``). Once the
        final packet is out, the session is forgotten."""
        items: list[Outgoing] = self.out
        self.out = []
        self.out_bytes = 0
        final, done = self.state.take_final(bool(items))
        if final is not None:
            items.append(final)
        if done:
            self.engine.discard(self)
        return eio.SEPARATOR_BYTES.join(o.poll for o in items)

    def _overflow(self) -> None:
        # Called from inside a broadcast loop: stop accepting output now, tear down next turn so the
        # loop's room sets are not changed under it.
        if not self.state.overflow():
            return
        self.accepting = False
        self.engine.refused(
            "closing slow client %s: more than %d bytes unsent",
            self.sid,
            self.engine.output_limit,
            level=logging.WARNING,
        )
        self.engine.loop.call_soon(self._teardown, Reason.TRANSPORT_ERROR, True)

    # ------------------------------------------------------------------------------------------- input

    def receive(self, packet: eio.Packet) -> None:
        """Handle one packet from the client. ``ProtocolError`` propagates to the transport."""
        kind = packet.type
        if kind == eio.MESSAGE:
            self.engine.handler.on_message(self, packet.data)
        elif kind == eio.PONG:
            self.state.pong(self.engine.loop.time())
        elif kind == eio.CLOSE:
            self.close(Reason.TRANSPORT_CLOSE, by_client=True)
        elif kind == eio.OPEN:
            raise ProtocolError("client sent an open packet")
        # ping, upgrade and noop outside an upgrade carry nothing for us: ignored, as the reference does.

    def heartbeat_expired(self, now: float) -> bool:
        """Whether the ping deadline has passed, whether or not the sweep got to send the ping yet."""
        return self.state.ping_timed_out(now)

    def await_connect(self, timeout: float) -> None:
        """Close the session unless the layer above calls ``connected`` within ``timeout`` seconds."""
        self.state.await_connect(self.engine.loop.time(), timeout)

    def connected(self) -> None:
        """The layer above is satisfied (a namespace joined): the connect deadline no longer applies."""
        self.state.connected()

    # --------------------------------------------------------------------------------------- transports

    def begin_upgrade(self) -> None:
        """The probe succeeded: release the pending GET with a noop so the client can pause polling."""
        self._release_get()

    def complete_upgrade(self, link: WsLink) -> None:
        """Switch output to the WebSocket; whatever polling had not delivered goes there, in order."""
        self.probe = None
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
        self.state.abort_upgrade()
        self.probe = None

    # ------------------------------------------------------------------------------------------ closing

    def close(self, reason: Reason, *, by_client: bool = False, abort: bool = False) -> None:
        """Close now: deliver what is buffered if the transport allows, notify the layer above once."""
        if not self.state.close(by_client=by_client):
            return
        self.accepting = False
        self._teardown(reason, abort)

    def abandon(self) -> None:
        """Closed with its event loop: nothing to write to, nothing to wait for."""
        self.state.abandon()
        self.accepting = False

    def _teardown(self, reason: Reason, abort: bool) -> None:
        outcome = self.state.teardown(self.engine.loop.time(), reason, abort=abort)
        if outcome is Teardown.ALREADY_CLOSED:
            return
        if abort:
            self.out = []
            self.out_bytes = 0
        if outcome is Teardown.FORGET:
            # Otherwise it lingers: the sweeper forgets it if no GET comes for its close packet.
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


def refuse_packet(engine: EngineIOServer, session: EngineSession, exc: Exception) -> None:
    """Close the session whose packet could not be decoded or handled: one (rate-limited) line.

    A ``ProtocolError`` is the peer's fault and says why; anything else is an error of ours that the
    packet triggered, and still closes only that connection (the traceback only at DEBUG, so a client
    that can trigger it cannot fill the log).
    """
    if isinstance(exc, ProtocolError):
        engine.refused("closing %s: invalid packet: %.200s", session.sid, exc)
    elif engine.refused("closing %s: packet handling failed: %.200r", session.sid, exc, level=logging.WARN):
        log.debug("traceback", exc_info=exc)
    session.close(Reason.PARSE_ERROR)
