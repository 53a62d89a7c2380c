"""A client's connection to one namespace: what handlers receive and what the gateway emits to."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import TYPE_CHECKING, Any

from atendimento.engine.engineio.protocol.outgoing import Outgoing, message
from atendimento.engine.engineio.protocol.reasons import Reason
from atendimento.engine.socketio.adapter import Target
from atendimento.engine.socketio.handshake import Handshake
from atendimento.engine.socketio.inbox import Inbox
from atendimento.engine.socketio.protocol.packets import (
    ACK,
    DISCONNECT,
    RESERVED_EVENTS,
    Packet,
    encode,
    encode_event,
)

if TYPE_CHECKING:
    from atendimento.engine.engineio.session import EngineSession
    from atendimento.engine.socketio.broadcast import BroadcastOperator
    from atendimento.engine.socketio.client import Client
    from atendimento.engine.socketio.namespace import Namespace
    from atendimento.engine.socketio.recovery import Replay

log = logging.getLogger("atendimento.engine")


def check_event_name(event: str) -> None:
    if not isinstance(event, str):
        raise TypeError("event name must be a str")
    if event in RESERVED_EVENTS:
        raise ValueError(f"{event!r} is a reserved event name")


class Socket:
    """``sid``, ``data`` (free for the application), ``handshake``, ``rooms``; emit/join/leave/disconnect.

    Until the connect handler accepts the connection, emits are held and sent right after the
    ``CONNECT`` reply, so a handler may emit (or join rooms) before it returns.
    """

    __slots__ = (
        "_acks",
        "_early",
        "_inbox",
        "_needs_offset_from",
        "_next_ack",
        "_restored_at",
        "_start",
        "client",
        "connected",
        "data",
        "handshake",
        "nsp",
        "pid",
        "recovered",
        "session",
        "sid",
    )

    def __init__(self, nsp: Namespace, client: Client, auth: dict[str, Any]) -> None:
        self.sid = secrets.token_urlsafe(15)
        self.nsp = nsp
        self.client = client
        self.session: EngineSession = client.session
        self.handshake = Handshake(client.session.scope, auth)
        self.data: dict[str, Any] = {}
        self.connected = False
        self._early: list[Outgoing] | None = []  # output held until CONNECT is sent; None afterwards
        self._acks: dict[int, asyncio.Future[list[Any]]] | None = None
        self._next_ack = 0
        self._inbox = Inbox(self)  # its events, in order and bounded (inbox.py)
        # Connection state recovery (engine/socketio/recovery.py); pid stays None while it is off.
        self.pid: str | None = None
        self.recovered = False  # True: old sid, rooms and data are back, missed packets follow CONNECT
        self._start = 0  # offset number after which every broadcast for it was pushed to it
        self._restored_at: float | None = None  # when the restored session was first saved
        self._needs_offset_from = 0  # see SavedSession.needs_offset_from

    def __repr__(self) -> str:
        return f"<Socket {self.sid} {self.nsp.name}>"

    @property
    def namespace(self) -> str:
        return self.nsp.name

    @property
    def rooms(self) -> frozenset[str]:
        """The rooms this socket is in, including the one named by its own id."""
        return self.nsp.adapter.rooms_of(self.sid) | {self.sid}

    # ------------------------------------------------------------------------------------------ rooms

    def join(self, room: str) -> None:
        self.nsp.adapter.add(self.sid, room)
        if self.connected and self.nsp.server.monitors.all:
            self.nsp.server.monitors.room_joined(self.nsp.name, room, self.sid)

    def leave(self, room: str) -> None:
        self.nsp.adapter.remove(self.sid, room)
        if self.connected and self.nsp.server.monitors.all:
            self.nsp.server.monitors.room_left(self.nsp.name, room, self.sid)

    # ----------------------------------------------------------------------------------------- output

    def _send(self, out: Outgoing) -> None:
        if self.connected:
            self.session.push(out)
        elif self._early is not None:
            self._early.append(out)

    def emit(self, event: str, *args: Any) -> None:
        """Queue an event to this socket; never blocks (the bytes go out at the end of this loop turn)."""
        check_event_name(event)
        out = message(encode_event(self.nsp.name, event, args))
        self._send(out)
        monitors = self.nsp.server.monitors
        if monitors.all:
            monitors.emitted(self.nsp.name, event, 1, out.size, self.sid)

    async def emit_with_ack(self, event: str, *args: Any, timeout: float = 5.0) -> list[Any]:  # noqa: ASYNC109
        """Emit and wait for the client's acknowledgement: the list of arguments it passed to its ack.

        Raises ``TimeoutError`` if no ack comes within ``timeout`` seconds, or the socket disconnects first.
        """
        check_event_name(event)
        if not self.connected and self._early is None:
            raise TimeoutError("socket is disconnected")
        ack_id = self._next_ack
        self._next_ack += 1
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        if self._acks is None:
            self._acks = {}
        self._acks[ack_id] = future
        self._send(message(encode_event(self.nsp.name, event, args, ack_id)))
        try:
            async with asyncio.timeout(timeout):
                return await future
        finally:
            if self._acks is not None:
                self._acks.pop(ack_id, None)

    def to(self, room: str) -> BroadcastOperator:
        """Broadcast to ``room``, except this socket."""
        from atendimento.engine.socketio.broadcast import BroadcastOperator

        return BroadcastOperator(self.nsp, Target(frozenset((room,)), exclude_sids=frozenset((self.sid,))))

    in_ = to

    def disconnect(self, reason: Reason = Reason.SERVER_DISCONNECT) -> None:
        """Send ``DISCONNECT`` for this namespace, then drop the socket; ``on_disconnect`` gets ``reason``."""
        if not self.connected:
            return
        self.session.push(message(encode(Packet(DISCONNECT, self.nsp.name))))
        self.nsp._remove(self, reason)

    def refuse_recovery(self) -> None:
        """Turn a restored socket into a fresh one: new id, no rooms, no data, nothing replayed.

        For a connect handler that finds the restored session is not this client's to take (e.g. a
        token of another user): call it before joining rooms or emitting. ``CONNECT`` then answers a
        new id and pid, and the client sees ``recovered === false``.
        """
        if not self.recovered or self.connected:
            return
        adapter = self.nsp.adapter
        if adapter.restoring.get(self.sid) is self:
            del adapter.restoring[self.sid]
        adapter.remove_all(self.sid)
        self.sid = secrets.token_urlsafe(15)
        self.pid = None
        self.data = {}
        self.recovered = False
        self._restored_at = None
        self._needs_offset_from = 0
        self._early = []

    # ------------------------------------------------------------------------------ called by Client

    def _restore(self, replay: Replay) -> None:
        session = replay.session
        self.sid = session.sid
        self.pid = session.pid
        self.data = session.data
        self.recovered = True
        self._start = replay.start
        self._restored_at = session.saved_at
        self._needs_offset_from = replay.needs_offset_from
        if self._early is not None:
            self._early.extend(replay.packets)  # right after the CONNECT answer, before anything else

    def _accepted(self) -> None:
        self.connected = True
        self._restored_at = None  # restored for good: its next disconnect starts a new window
        self.handshake.release()
        early, self._early = self._early, None
        if early:
            for out in early:
                self.session.push(out)

    def _send_ack(self, ack_id: int, result: Any) -> None:
        if not self.connected:
            return
        if result is None:
            args: list[Any] = []
        elif isinstance(result, tuple):
            args = list(result)
        else:
            args = [result]
        self.session.push(message(encode(Packet(ACK, self.nsp.name, args, ack_id))))

    def _on_ack(self, ack_id: int, args: list[Any]) -> None:
        future = self._acks.get(ack_id) if self._acks is not None else None
        if future is not None and not future.done():
            future.set_result(args)
        # An ack nobody waits for (timed out, or never asked) is ignored, as the reference does.

    def _closed(self) -> None:
        self.connected = False
        self._early = None
        self._inbox.clear()
        acks, self._acks = self._acks, None
        if acks:
            for future in acks.values():
                if not future.done():
                    future.set_exception(TimeoutError("socket disconnected before acknowledging"))
