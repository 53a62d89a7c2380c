"""Observers of the server: what a monitor (admin view, metrics) is told, at a cost the hot path can pay.

A ``Monitor`` is registered with ``server.add_monitor(m)``; the engine calls its methods from the
event loop, synchronously, and never lets one's exception reach a client (a monitor is not allowed to
break delivery, see ``Monitors``). Nothing here knows tenants or tickets: the gateway's meaning of a
socket (user, tenant, role) is for the monitor to look up in ``socket.data``.

Cost: ``emitted`` is called once per emit (a broadcast or a direct ``socket.emit``), with the number
of this process's recipients and the frame size, never once per recipient; ``received`` once per
incoming message. With no monitor registered, each costs one attribute read and a truthiness check
(``monitors.all``, an empty tuple).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atendimento.engine.socketio.socket import Socket

log = logging.getLogger("atendimento.engine")


class Monitor:
    """Every hook, doing nothing: subclass and override what you need."""

    def connection_opened(self, transport: str) -> None:
        """An Engine.IO session opened (``polling`` or ``websocket``)."""

    def connection_closed(self, reason: str) -> None:
        """An Engine.IO session closed, with Socket.IO's disconnect reason."""

    def socket_connected(self, socket: Socket) -> None:
        """A socket was accepted on its namespace (its connect handler's rooms are already joined)."""

    def socket_disconnected(self, socket: Socket, reason: str, rooms: frozenset[str]) -> None:
        """A connected socket left; ``rooms`` are those it was in (it is out of them now)."""

    def room_joined(self, nsp: str, room: str, sid: str) -> None:
        """A connected socket joined ``room`` (joins made while connecting are in ``socket_connected``)."""

    def room_left(self, nsp: str, room: str, sid: str) -> None:
        """A connected socket left ``room`` (not called for the rooms dropped at disconnect)."""

    def emitted(self, nsp: str, event: str, recipients: int, nbytes: int, first_sid: str | None) -> None:
        """One emit reached ``recipients`` sockets of this process, ``nbytes`` each; ``first_sid`` is one
        of them (rooms are never shared across tenants, so one recipient tells a monitor whose it is)."""

    def received(self, nbytes: int) -> None:
        """One Socket.IO message (text or binary attachment) came in."""


class Monitors:
    """The registered monitors, called in order; a failing one is logged and the others still run."""

    __slots__ = ("all",)

    def __init__(self) -> None:
        self.all: tuple[Monitor, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.all)

    def add(self, monitor: Monitor) -> None:
        self.all = (*self.all, monitor)

    def connection_opened(self, transport: str) -> None:
        for m in self.all:
            _guard(m.connection_opened, transport)

    def connection_closed(self, reason: str) -> None:
        for m in self.all:
            _guard(m.connection_closed, reason)

    def socket_connected(self, socket: Socket) -> None:
        for m in self.all:
            _guard(m.socket_connected, socket)

    def socket_disconnected(self, socket: Socket, reason: str, rooms: frozenset[str]) -> None:
        for m in self.all:
            _guard(m.socket_disconnected, socket, reason, rooms)

    def room_joined(self, nsp: str, room: str, sid: str) -> None:
        for m in self.all:
            _guard(m.room_joined, nsp, room, sid)

    def room_left(self, nsp: str, room: str, sid: str) -> None:
        for m in self.all:
            _guard(m.room_left, nsp, room, sid)

    def emitted(self, nsp: str, event: str, recipients: int, nbytes: int, first_sid: str | None) -> None:
        for m in self.all:
            _guard(m.emitted, nsp, event, recipients, nbytes, first_sid)

    def received(self, nbytes: int) -> None:
        for m in self.all:
            _guard(m.received, nbytes)


_reported: set[str] = set()


def _guard(hook: object, *args: object) -> None:
    try:
        hook(*args)  # type: ignore[operator]
    except Exception as exc:
        name = str(getattr(hook, "__qualname__", hook))
        # Once at ERROR per hook: a broken monitor must not flood the log at the emit rate.
        level = logging.DEBUG if name in _reported else logging.ERROR
        _reported.add(name)
        log.log(level, "monitor hook %s failed: %r", name, exc)
