"""Monitor hooks (engine/socketio/monitor.py): what they are told, once per emit, and that a failing monitor
never stops delivery."""

from __future__ import annotations

from typing import Any

from atendimento.engine import Server, Socket
from atendimento.engine.socketio.monitor import Monitor

from ..test_fastpath import connected_clients, settle


class Diario(Monitor):
    def __init__(self) -> None:
        self.log: list[tuple[Any, ...]] = []

    def connection_opened(self, transport: str) -> None:
        self.log.append(("opened", transport))

    def socket_connected(self, socket: Socket) -> None:
        self.log.append(("connected", socket.nsp.name, sorted(socket.rooms - {socket.sid})))

    def socket_disconnected(self, socket: Socket, reason: str, rooms: frozenset[str]) -> None:
        self.log.append(("disconnected", reason, sorted(rooms - {socket.sid})))

    def room_joined(self, nsp: str, room: str, sid: str) -> None:
        self.log.append(("joined", room))

    def room_left(self, nsp: str, room: str, sid: str) -> None:
        self.log.append(("left", room))

    def emitted(self, nsp: str, event: str, recipients: int, nbytes: int, first_sid: str | None) -> None:
        self.log.append(("emitted", event, recipients, nbytes > 0, first_sid is not None))

    def received(self, nbytes: int) -> None:
        self.log.append(("received", nbytes))


class Quebrado(Monitor):
    def emitted(self, nsp: str, event: str, recipients: int, nbytes: int, first_sid: str | None) -> None:
        raise RuntimeError("bug in a monitor")


async def test_hooks_once_per_emit_with_the_recipient_count() -> None:
    server = Server()
    ns = server.of("/atendimento")

    @ns.on_connect
    def conectar(socket: Socket, auth: dict[str, Any]) -> None:
        socket.join("sala")  # while connecting: part of socket_connected, no room_joined

    diario = Diario()
    server.add_monitor(Quebrado())  # first, so the one after it must still be told
    server.add_monitor(diario)
    clients = await connected_clients(server, 3)
    assert diario.log.count(("opened", "websocket")) == 3
    assert diario.log.count(("connected", "/atendimento", ["sala"])) == 3
    assert not [e for e in diario.log if e[0] == "joined"]

    diario.log.clear()
    ns.emit("oi", {"x": 1}, to="sala")
    ns.emit("ninguem", to="vazia")
    await settle()
    assert diario.log == [("emitted", "oi", 3, True, True), ("emitted", "ninguem", 0, True, False)]
    for client in clients:
        assert any(b'"oi"' in w for w in client.transport.writes)  # the failing monitor broke nothing

    diario.log.clear()
    sid = next(iter(ns.sockets))
    ns.sockets[sid].join("outra")
    ns.sockets[sid].leave("outra")
    ns.sockets[sid].emit("so-para-um")
    clients[0].put('42/atendimento,["evento"]')
    await settle()
    assert diario.log[:3] == [
        ("joined", "outra"),
        ("left", "outra"),
        ("emitted", "so-para-um", 1, True, True),
    ]
    assert ("received", len('2/atendimento,["evento"]')) in diario.log  # the Socket.IO packet

    diario.log.clear()
    ns.sockets[sid].disconnect()
    assert diario.log == [("disconnected", "io server disconnect", ["sala"])]


def test_no_monitor_no_cost_beyond_an_empty_tuple() -> None:
    server = Server()
    assert server.monitors.all == ()
