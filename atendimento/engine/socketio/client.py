"""One Engine.IO connection seen by Socket.IO: its namespace sockets and its packet reassembly.

Incoming messages are decoded here (strictly: a ``ProtocolError`` closes the whole connection) and
dispatched to the namespace socket they address. A packet for a namespace the client has not joined
(or is still joining) is an invalid state and closes the connection, as the reference server does.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from atendimento.engine.engineio.protocol.errors import ProtocolError
from atendimento.engine.engineio.protocol.outgoing import message
from atendimento.engine.engineio.protocol.reasons import Reason
from atendimento.engine.socketio.protocol.packets import (
    ACK,
    BINARY_ACK,
    BINARY_EVENT,
    CONNECT,
    CONNECT_ERROR,
    DISCONNECT,
    EVENT,
    Assembler,
    Packet,
    encode,
)
from atendimento.engine.socketio.socket import Socket

if TYPE_CHECKING:
    from atendimento.engine.engineio.session import EngineSession
    from atendimento.engine.socketio.server import Server

log = logging.getLogger("atendimento.engine")


class Client:
    __slots__ = (
        "assembler",
        "close_reason",
        "closed",
        "connecting",
        "overflowed",
        "server",
        "session",
        "sockets",
    )

    def __init__(self, server: Server, session: EngineSession) -> None:
        self.server = server
        self.session = session
        self.sockets: dict[str, Socket] = {}
        self.connecting: dict[str, asyncio.Task[None]] = {}
        # Namespaces whose socket was disconnected for sending past its bound (inbox.py): the rest of
        # that flood is dropped, not a protocol error, so the connection lives to deliver the refusals
        # and the DISCONNECT (closing with unread input would reset it and lose them).
        self.overflowed: set[str] | None = None  # made on the first overflow: most sockets never have one
        # One packet's attachments together may not exceed maxPayload (each message is checked too).
        self.assembler = Assembler(server.config.max_payload_bytes)
        self.closed = False
        self.close_reason = Reason.TRANSPORT_CLOSE  # set for real by on_close
        self._await_namespace()

    # ------------------------------------------------------------------------------------------ input

    def receive(self, data: str | bytes) -> None:
        monitors = self.server.monitors
        if monitors.all:
            monitors.received(len(data))
        if isinstance(data, str):
            packet = self.assembler.feed_text(data)
        else:
            packet = self.assembler.feed_binary(data)
        if packet is not None:
            self._dispatch(packet)

    def _dispatch(self, packet: Packet) -> None:
        kind = packet.type
        if kind == CONNECT:
            self._connect(packet)
            return
        socket = self.sockets.get(packet.nsp)
        if socket is None:
            if self.overflowed is not None and packet.nsp in self.overflowed:
                return
            raise ProtocolError(f"packet for namespace {packet.nsp[:64]!r}, which is not connected")
        if kind == EVENT or kind == BINARY_EVENT:
            socket.nsp._dispatch(socket, packet.data, packet.id)
        elif kind == ACK or kind == BINARY_ACK:
            assert packet.id is not None  # the decoder guarantees it
            socket._on_ack(packet.id, packet.data)
        elif kind == DISCONNECT:
            socket.nsp._remove(socket, Reason.CLIENT_NAMESPACE_DISCONNECT)
        else:  # CONNECT_ERROR is server-to-client only
            raise ProtocolError("client sent CONNECT_ERROR")

    def _connect(self, packet: Packet) -> None:
        name = packet.nsp
        if name in self.sockets or name in self.connecting:
            raise ProtocolError(f"second CONNECT to {name[:64]!r}")
        if self.overflowed is not None:
            self.overflowed.discard(name)
        nsp = self.server.namespaces.get(name)
        if nsp is None or (name == "/" and not self.server.serve_main_namespace):
            self.send_connect_error(name, {"message": "Invalid namespace"})
            return
        auth: dict[str, Any] = packet.data if packet.data is not None else {}
        nsp._connect(Socket(nsp, self, auth))

    # ----------------------------------------------------------------------------------------- output

    def send_connect(self, nsp: str, sid: str, pid: str | None = None) -> None:
        self.session.connected()  # joined a namespace: the connect timeout no longer applies
        answer = {"sid": sid} if pid is None else {"sid": sid, "pid": pid}
        self.session.push(message(encode(Packet(CONNECT, nsp, answer))))

    def send_connect_error(self, nsp: str, payload: dict[str, Any]) -> None:
        self.session.push(message(encode(Packet(CONNECT_ERROR, nsp, payload))))

    # -------------------------------------------------------------------------------------- lifecycle

    def forget(self, nsp: str, socket: Socket) -> None:
        if self.sockets.get(nsp) is socket:
            del self.sockets[nsp]
        if not self.sockets and not self.closed:
            # No namespace left: a client that neither joins one again nor leaves is closed, like a
            # client that never joined one.
            self._await_namespace()

    def _await_namespace(self) -> None:
        """Start the connect timeout: the session is closed unless it joins a namespace in time."""
        timeout = self.server.connect_timeout
        if timeout:
            self.session.await_connect(timeout)

    def on_close(self, reason: Reason) -> None:
        self.closed = True
        self.close_reason = reason
        for socket in list(self.sockets.values()):
            socket.nsp._remove(socket, reason)
        self.sockets.clear()
