"""Connection state recovery with the real socket.io-client 4.8.1 and its default options.

The client loses its transport (``socket.io.engine.close()``, as a dropped network would), the
server notices, broadcasts go on while it is away, and the client reconnects by itself (its default
reconnection delay, 0.5–1.5 s). It must come back ``recovered`` with its id, its rooms, and every
missed broadcast once, in order; or, when it can't, as a clean fresh connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from apoio_node import ClientesRecuperacao, garantir_node_modules
from apoio_proxy import proxy_para
from apoio_rede import servir_uvicorn

from atendimento.engine import ConnectionRefused, Namespace, Server, Socket
from atendimento.engine.socketio.recovery import MemoryRecoveryStore, RecoveryConfig

pytestmark = pytest.mark.node

NS = "/chat"
TRANSPORTES = {"websocket": ["websocket"], "polling": ["polling"]}


@dataclass
class Cenario:
    server: Server
    ns: Namespace
    clientes: ClientesRecuperacao
    url: str
    relogio: Relogio

    async def conectar(self, cliente: str, transporte: str, **auth: Any) -> dict[str, Any]:
        opcoes = {"auth": {"user": cliente, **auth}, "transports": TRANSPORTES[transporte]}
        return await self.clientes.conectar(cliente, opcoes=opcoes, namespace=NS)

    async def fora(self, cliente: str, sid: str) -> int:
        """Drop ``cliente``'s transport and wait until the server has let go of ``sid``."""
        inicio = len(self.clientes.registros)
        self.clientes.drop(cliente)
        await self.clientes.esperar(
            lambda r: r.get("client") == cliente and r.get("type") == "disconnect", desde=inicio
        )
        for _ in range(200):
            if sid not in self.ns.sockets:
                return inicio
            await asyncio.sleep(0.01)
        raise AssertionError("the server kept the socket")

    async def volta(self, cliente: str, desde: int) -> dict[str, Any]:
        return await self.clientes.esperar(
            lambda r: r.get("client") == cliente and r.get("type") in ("connect", "connect_error"),
            desde=desde,
            prazo=10,
        )

    def recebidos(self, cliente: str, evento: str = "n") -> list[list[Any]]:
        return [r["args"] for r in self.clientes.eventos(cliente, evento)]


class Relogio:
    """The recovery store's clock, moved by the test: the window is tested without sleeping."""

    def __init__(self) -> None:
        self.agora = 1000.0

    def __call__(self) -> float:
        return self.agora

    def avancar(self, segundos: float) -> None:
        self.agora += segundos


def _servidor(config: RecoveryConfig, relogio: Relogio, ping_ms: int = 5000) -> Server:
    store = MemoryRecoveryStore(config, clock=relogio)
    server = Server(ping_interval_ms=ping_ms, ping_timeout_ms=ping_ms, recovery_store=store)
    ns = server.of(NS)

    @ns.on_connect
    async def conectar(socket: Socket, auth: dict[str, Any]) -> None:
        if auth.get("refuse"):
            raise ConnectionRefused("Unauthorized")
        if socket.recovered and socket.data.get("user") != auth.get("user"):
            socket.refuse_recovery()  # someone else's session: start afresh
        if not socket.recovered:
            socket.data["user"] = auth.get("user")
            socket.join("sala")

    @ns.on("entrar")
    def entrar(socket: Socket, sala: str) -> str:
        socket.join(sala)
        return "ok"

    return server


@pytest.fixture
async def cenario(request: pytest.FixtureRequest) -> AsyncIterator[Cenario]:
    garantir_node_modules()
    config = getattr(request, "param", RecoveryConfig())
    relogio = Relogio()
    server = _servidor(config, relogio)
    async with servir_uvicorn(server.asgi()) as url:
        clientes = ClientesRecuperacao(url)
        await clientes.iniciar()
        try:
            yield Cenario(server, server.of(NS), clientes, url, relogio)
        finally:
            await clientes.fechar()
            server.shutdown()


def _sem_offset(args: list[Any]) -> list[Any]:
    """The event's own arguments: the last one is the offset socket.io-client keeps."""
    assert isinstance(args[-1], str)
    return args[:-1]


@pytest.mark.parametrize("transporte", ["websocket", "polling"])
async def test_recovers_id_rooms_and_every_missed_packet_in_order(cenario: Cenario, transporte: str) -> None:
    primeiro = await cenario.conectar("ana", transporte)
    assert primeiro["type"] == "connect" and primeiro["recovered"] is False
    sid = primeiro["id"]
    assert await cenario.clientes.pedir("ana", "entrar", "extra") == "ok"
    cenario.ns.emit("n", 1, to="sala")
    await cenario.clientes.esperar_evento("ana", "n")

    inicio = await cenario.fora("ana", sid)
    # While away: to each of its rooms, to itself by id, to everyone; and to a room it is not in.
    cenario.ns.emit("n", 2, to="sala")
    cenario.ns.emit("n", 3, to="extra")
    cenario.ns.emit("n", "nao", to="outra")
    cenario.ns.emit("n", 4, to=sid)
    cenario.ns.emit("n", 5)
    cenario.ns.emit("n", {"seis": [6]}, to=["sala", "extra"])  # once, though in both rooms
    cenario.ns.emit("n", "excluida", exclude="extra")

    voltou = await cenario.volta("ana", inicio)
    assert voltou["type"] == "connect"
    assert voltou["recovered"] is True and voltou["id"] == sid and voltou["pid"] == primeiro["pid"]
    assert cenario.ns.sockets[sid].rooms == {sid, "sala", "extra"}
    cenario.ns.emit("n", 7, to="extra")  # and live again afterwards
    await cenario.clientes.esperar(
        lambda r: r.get("type") == "event" and r["args"][0] == 7, desde=inicio, prazo=5
    )
    recebidos = [_sem_offset(a) for a in cenario.recebidos("ana")]
    assert recebidos == [[1], [2], [3], [4], [5], [{"seis": [6]}], [7]]
    offsets = [a[-1] for a in cenario.recebidos("ana")]
    assert len(set(offsets)) == len(offsets)


@pytest.mark.parametrize("transporte", ["websocket", "polling"])
async def test_a_socket_that_never_got_a_broadcast_recovers_too(cenario: Cenario, transporte: str) -> None:
    # socket.io-client then sends a pid and no offset.
    primeiro = await cenario.conectar("ana", transporte)
    inicio = await cenario.fora("ana", primeiro["id"])
    cenario.ns.emit("n", 1, to="sala")
    voltou = await cenario.volta("ana", inicio)
    assert voltou["recovered"] is True and voltou["id"] == primeiro["id"]
    await cenario.clientes.esperar_evento("ana", "n", desde=inicio)
    assert [_sem_offset(a) for a in cenario.recebidos("ana")] == [[1]]


async def test_a_client_disconnect_saves_nothing(cenario: Cenario) -> None:
    primeiro = await cenario.conectar("ana", "websocket")
    await cenario.clientes.desconectar("ana")
    store = cenario.server.recovery
    assert isinstance(store, MemoryRecoveryStore) and len(store) == 0
    assert primeiro["recovered"] is False


@pytest.mark.parametrize("cenario", [RecoveryConfig(window_seconds=10)], indirect=True)
async def test_past_the_window_the_connection_is_fresh(cenario: Cenario) -> None:
    primeiro = await cenario.conectar("ana", "websocket")
    inicio = await cenario.fora("ana", primeiro["id"])
    cenario.ns.emit("n", 1, to="sala")
    cenario.relogio.avancar(11)  # before the client is back (it waits at least 0.5 s)
    voltou = await cenario.volta("ana", inicio)
    assert voltou["type"] == "connect" and voltou["recovered"] is False
    assert voltou["id"] != primeiro["id"] and voltou["pid"] != primeiro["pid"]
    await asyncio.sleep(0.2)
    assert cenario.recebidos("ana") == []


@pytest.mark.parametrize("cenario", [RecoveryConfig(window_seconds=10)], indirect=True)
async def test_a_recovered_socket_recovers_again_with_a_window_of_its_own(cenario: Cenario) -> None:
    primeiro = await cenario.conectar("ana", "websocket")
    inicio = await cenario.fora("ana", primeiro["id"])
    assert (await cenario.volta("ana", inicio))["recovered"] is True
    cenario.relogio.avancar(8)  # the second disconnect: 8 s after the first, inside its own window
    inicio = await cenario.fora("ana", primeiro["id"])
    cenario.ns.emit("n", 1, to="sala")
    cenario.relogio.avancar(4)  # 12 s after the first disconnect: past its window, not the second's
    voltou = await cenario.volta("ana", inicio)
    assert voltou["recovered"] is True and voltou["id"] == primeiro["id"]
    await cenario.clientes.esperar_evento("ana", "n", desde=inicio)
    assert [_sem_offset(a) for a in cenario.recebidos("ana")] == [[1]]


@pytest.mark.parametrize("cenario", [RecoveryConfig(max_session_packets=2)], indirect=True)
async def test_past_the_packet_bound_the_connection_is_fresh(cenario: Cenario) -> None:
    primeiro = await cenario.conectar("ana", "websocket")
    inicio = await cenario.fora("ana", primeiro["id"])
    for i in range(3):
        cenario.ns.emit("n", i, to="sala")
    voltou = await cenario.volta("ana", inicio)
    assert voltou["recovered"] is False and voltou["id"] != primeiro["id"]
    await asyncio.sleep(0.2)
    assert cenario.recebidos("ana") == []  # nothing partial


@pytest.mark.parametrize("cenario", [RecoveryConfig(max_session_bytes=300)], indirect=True)
async def test_past_the_byte_bound_the_connection_is_fresh(cenario: Cenario) -> None:
    primeiro = await cenario.conectar("ana", "websocket")
    inicio = await cenario.fora("ana", primeiro["id"])
    cenario.ns.emit("n", "x" * 400, to="sala")
    voltou = await cenario.volta("ana", inicio)
    assert voltou["recovered"] is False
    await asyncio.sleep(0.2)
    assert cenario.recebidos("ana") == []


@pytest.mark.parametrize("cenario", [RecoveryConfig(max_total_bytes=2000)], indirect=True)
async def test_packets_trimmed_by_the_instance_budget_make_it_fresh_never_partial(cenario: Cenario) -> None:
    primeiro = await cenario.conectar("ana", "websocket")
    inicio = await cenario.fora("ana", primeiro["id"])
    for i in range(20):  # far more than 2000 bytes: the first ones are trimmed
        cenario.ns.emit("n", i, "y" * 100, to="sala")
    voltou = await cenario.volta("ana", inicio)
    assert voltou["recovered"] is False
    await asyncio.sleep(0.2)
    assert cenario.recebidos("ana") == []


async def test_a_forged_pid_gives_a_fresh_connection(cenario: Cenario) -> None:
    primeiro = await cenario.conectar("ana", "websocket")
    inicio = await cenario.fora("ana", primeiro["id"])
    cenario.clientes.set_auth("ana", {"user": "ana", "pid": "forjado", "offset": "x.1"})
    voltou = await cenario.volta("ana", inicio)
    assert voltou["recovered"] is False and voltou["id"] != primeiro["id"]


async def test_another_users_pid_restores_nothing_and_is_gone_for_its_owner(cenario: Cenario) -> None:
    ana = await cenario.conectar("ana", "websocket")
    assert await cenario.clientes.pedir("ana", "entrar", "segredo") == "ok"
    inicio = await cenario.fora("ana", ana["id"])
    cenario.ns.emit("n", "so para ana", to="segredo")
    # bia (another user) presents ana's pid and offset.
    bia = await cenario.conectar("bia", "websocket", pid=ana["pid"])
    assert bia["recovered"] is False and bia["id"] != ana["id"]
    assert cenario.ns.sockets[bia["id"]].rooms == {bia["id"], "sala"}
    await asyncio.sleep(0.2)
    assert cenario.recebidos("bia") == []
    voltou = await cenario.volta("ana", inicio)  # single use: ana's own try finds nothing either
    assert voltou["recovered"] is False


async def test_a_pid_is_single_use(cenario: Cenario) -> None:
    ana = await cenario.conectar("ana", "websocket")
    inicio = await cenario.fora("ana", ana["id"])
    voltou = await cenario.volta("ana", inicio)
    assert voltou["recovered"] is True
    # The same user replays the pid on a second connection while the first is connected.
    copia = await cenario.conectar("ana2", "websocket", user="ana", pid=ana["pid"])
    assert copia["recovered"] is False and copia["id"] != ana["id"]


async def test_a_refused_reconnect_consumes_the_session(cenario: Cenario) -> None:
    ana = await cenario.conectar("ana", "websocket")
    inicio = await cenario.fora("ana", ana["id"])
    cenario.clientes.set_auth("ana", {"user": "ana", "refuse": True})
    voltou = await cenario.volta("ana", inicio)
    assert voltou["type"] == "connect_error"
    store = cenario.server.recovery
    assert isinstance(store, MemoryRecoveryStore) and len(store) == 0
    assert ana["id"] not in cenario.ns.adapter.sids


async def test_packets_pushed_into_a_dead_connection_are_replayed_once() -> None:
    """The transport dies silently: the server keeps writing into it until its ping timeout, and the
    client gets none of that. Its offset tells the server where it stopped."""
    garantir_node_modules()
    server = _servidor(RecoveryConfig(), Relogio(), ping_ms=1000)
    ns = server.of(NS)
    async with servir_uvicorn(server.asgi()) as url, proxy_para(url) as proxy:
        clientes = ClientesRecuperacao(proxy.url)
        await clientes.iniciar()
        try:
            primeiro = await clientes.conectar(
                "ana", opcoes={"auth": {"user": "ana"}, "transports": ["websocket"]}, namespace=NS
            )
            sid = primeiro["id"]
            ns.emit("n", 1, to="sala")
            await clientes.esperar_evento("ana", "n")
            inicio = len(clientes.registros)
            proxy.congelar()
            for i in range(2, 6):  # the server still holds the socket: pushed, never received
                assert sid in ns.sockets
                ns.emit("n", i, to="sala")
                await asyncio.sleep(0.05)
            voltou = await clientes.esperar(
                lambda r: r.get("client") == "ana" and r.get("type") == "connect", desde=inicio, prazo=15
            )
            assert voltou["recovered"] is True and voltou["id"] == sid
            ns.emit("n", 6, to="sala")
            await clientes.esperar(
                lambda r: r.get("type") == "event" and r["args"][0] == 6, desde=inicio, prazo=5
            )
            assert [r["args"][0] for r in clientes.eventos("ana", "n")] == [1, 2, 3, 4, 5, 6]
        finally:
            await clientes.fechar()
            server.shutdown()
