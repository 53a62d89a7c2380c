"""Connection state recovery across instances: the session's home hands it over through Redis.

Three instances (A, B, C) on a redis-server of the test's own; socket.io-client 4.8.1 with its default
options reaches A through a TCP proxy the test owns, which sends the reconnect to B. The client must
come back ``recovered`` with its id, its rooms and every event broadcast to it while away (emitted on
A, on B and on C), in order, once each; or, when the home is gone or Redis restarted during the gap,
with a clean ``recovered === false`` and nothing replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
from apoio_node import ClientesRecuperacao, garantir_node_modules
from apoio_proxy import ProxyTcp, proxy_para

from atendimento.cluster.envelopes import InvalidEnvelope, decodificar
from atendimento.cluster.recuperacao import RecuperacaoRedis, reply_channel
from atendimento.cluster.wiring import Cluster, build_cluster
from atendimento.config import Settings
from atendimento.engine import Namespace, Server, Socket
from atendimento.engine.socketio.recovery import RecoveryConfig

from .apoio_cluster import NS, AnaPeloProxy, RedisProprio, ate, servir

pytestmark = pytest.mark.node


@dataclass
class No:
    cluster: Cluster
    ns: Namespace
    url: str
    pilha: contextlib.AsyncExitStack
    conectados: list[tuple[str, bool]] = field(default_factory=list)  # (sid, recovered) per connect

    @property
    def recuperacao(self) -> RecuperacaoRedis:
        assert self.cluster.recuperacao is not None
        return self.cluster.recuperacao


async def _no(
    redis_url: str, nome: str, config: RecoveryConfig, sala: str = "r", empresa_da_sala: Any = None
) -> No:
    pilha = contextlib.AsyncExitStack()
    server = Server(ping_interval_ms=2000, ping_timeout_ms=2000, recovery=config)
    settings = Settings(redis_url=redis_url, presence_grace_seconds=0.3)  # type: ignore[call-arg]
    cluster = build_cluster(
        server, settings, instancia=nome, batimento_s=0.2, empresa_da_sala=empresa_da_sala
    )
    ns = server.of(NS)
    conectados: list[tuple[str, bool]] = []

    @ns.on_connect
    def conectar(socket: Socket, auth: dict[str, Any]) -> None:
        conectados.append((socket.sid, socket.recovered))  # the handler runs on every connect
        if not socket.recovered:
            socket.join(sala)

    await cluster.start()
    pilha.push_async_callback(cluster.stop)
    url = await pilha.enter_async_context(servir(server.asgi()))
    pilha.callback(server.shutdown)
    return No(cluster, ns, url, pilha, conectados)


@dataclass
class Montagem(AnaPeloProxy):
    a: No
    b: No
    c: No
    proxy: ProxyTcp
    clientes: ClientesRecuperacao

    async def cortar(self, sid: str) -> int:
        return await self._cortar_ate(
            lambda: sid not in self.a.ns.sockets and len(self.a.recuperacao.local) == 1
        )

    async def chegou(self, no: No, quantas: int) -> None:
        await ate(lambda: no.cluster.adaptador(NS).recebidas >= quantas, prazo=5)


@contextlib.asynccontextmanager
async def _montar(redis_url: str, config: RecoveryConfig, **opcoes: Any) -> AsyncIterator[Montagem]:
    garantir_node_modules()
    async with contextlib.AsyncExitStack() as pilha:
        nos = []
        for nome in ("no-a", "no-b", "no-c"):
            no = await _no(redis_url, nome, config, **opcoes)
            pilha.push_async_callback(no.pilha.aclose)
            nos.append(no)
        a, b, c = nos
        await ate(lambda: all(n.cluster.disponivel for n in nos), prazo=10)
        proxy = await pilha.enter_async_context(proxy_para(a.url))
        clientes = ClientesRecuperacao(proxy.url)
        await clientes.iniciar()
        pilha.push_async_callback(clientes.fechar)
        yield Montagem(a, b, c, proxy, clientes)


@pytest.fixture
async def montagem(redis_proprio: RedisProprio) -> AsyncIterator[Montagem]:
    async with _montar(redis_proprio.url, RecoveryConfig()) as montada:
        yield montada


@pytest.mark.parametrize("transporte", ["websocket", "polling"])
async def test_a_reconnect_on_another_instance_recovers_id_rooms_and_every_missed_event(
    montagem: Montagem, transporte: str
) -> None:
    a, b, c = montagem.a, montagem.b, montagem.c
    primeiro = await montagem.conectar(transporte)
    sid = primeiro["id"]
    salas = a.ns.sockets[sid].rooms
    a.ns.emit("n", 0, to="r")
    await montagem.clientes.esperar_evento("ana", "n")
    inicio = await montagem.cortar(sid)
    # Missed: one from each instance, and one for everyone; A's order is the client's order.
    b.ns.emit("n", 1, to="r")
    await montagem.chegou(a, 1)
    a.ns.emit("n", 2, to="r")
    c.ns.emit("n", 3, to="r")
    await montagem.chegou(a, 2)
    c.ns.emit("n", 4)
    c.ns.emit("outra", 99, to="outra-sala")  # not for it: must not be replayed
    await montagem.chegou(a, 4)
    montagem.proxy.religar(b.url)
    voltou = await montagem.volta(inicio)
    assert voltou["recovered"] is True and voltou["id"] == sid
    assert b.ns.sockets[sid].rooms == salas  # exactly the server's record, restored on B
    assert b.conectados[-1] == (sid, True)  # B's connect handler ran, on the restored socket
    assert len(a.recuperacao.local) == 0  # the home handed it over: spent there
    await ate(lambda: len(montagem.recebidos()) == 5, prazo=5)
    # Live after the recovery, from every instance, through B.
    for n, no in ((5, a), (6, c), (7, b)):
        no.ns.emit("n", n, to="r")
        await ate(lambda n=n: len(montagem.recebidos()) == n + 1, prazo=5)
    await asyncio.sleep(0.2)
    assert montagem.recebidos() == [0, 1, 2, 3, 4, 5, 6, 7]
    assert montagem.clientes.eventos("ana", "outra") == []
    assert (a.recuperacao.entregues, b.recuperacao.recebidas) == (1, 1)


@pytest.fixture
async def montagem_folgada(redis_proprio: RedisProprio) -> AsyncIterator[Montagem]:
    # Hundreds of events a second: a slow reconnect on a busy machine must not hit the packet bound.
    async with _montar(redis_proprio.url, RecoveryConfig(max_session_packets=100_000)) as montada:
        yield montada


async def test_emits_racing_the_hand_over_arrive_once_each_in_order(montagem_folgada: Montagem) -> None:
    """Three instances emit non-stop while the reconnect lands on B: every emit of each origin
    arrives exactly once and in its origin's order (the hand-over point leaves no gap, no overlap)."""
    montagem = montagem_folgada
    a, b, c = montagem.a, montagem.b, montagem.c
    primeiro = await montagem.conectar("websocket")
    sid = primeiro["id"]
    inicio = await montagem.cortar(sid)
    contagem = {"a": 0, "b": 0, "c": 0}
    parar = asyncio.Event()

    async def emitir(nome: str, no: No) -> None:
        while not parar.is_set():
            contagem[nome] += 1
            no.ns.emit("n", [nome, contagem[nome]], to="r")
            await asyncio.sleep(0.003)

    tarefas = [asyncio.create_task(emitir(nome, no)) for nome, no in (("a", a), ("b", b), ("c", c))]
    await asyncio.sleep(0.2)
    montagem.proxy.religar(b.url)
    voltou = await montagem.volta(inicio)
    await asyncio.sleep(0.3)
    parar.set()
    await asyncio.gather(*tarefas)
    estado = (a.recuperacao.entregues, b.recuperacao.recebidas, b.recuperacao.falhas)
    assert voltou["recovered"] is True and voltou["id"] == sid, (voltou, estado)
    final = dict(contagem)
    await ate(lambda: len(montagem.recebidos()) >= sum(final.values()), prazo=10)
    await asyncio.sleep(0.2)
    recebidos = montagem.recebidos()
    for nome, total in final.items():
        vistos = [n for origem, n in recebidos if origem == nome]
        assert vistos == list(range(1, total + 1)), (nome, vistos)


async def test_the_home_dying_during_the_gap_ends_in_recovered_false(montagem: Montagem) -> None:
    primeiro = await montagem.conectar("websocket")
    inicio = await montagem.cortar(primeiro["id"])
    montagem.b.ns.emit("n", 1, to="r")
    await montagem.chegou(montagem.a, 1)
    await montagem.a.pilha.aclose()  # the home stops: its sessions and their packets are gone
    montagem.proxy.religar(montagem.b.url)
    voltou = await montagem.volta(inicio)
    assert voltou["recovered"] is False and voltou["id"] != primeiro["id"]
    assert voltou["id"] in montagem.b.ns.sockets
    await asyncio.sleep(0.3)
    assert montagem.recebidos() == []  # nothing replayed, nothing partial
    assert montagem.b.recuperacao.falhas == 1


async def test_a_redis_restart_during_the_gap_ends_in_recovered_false(
    montagem: Montagem, redis_proprio: RedisProprio
) -> None:
    a, b = montagem.a, montagem.b
    primeiro = await montagem.conectar("websocket")
    a.ns.emit("n", 0, to="r")
    await montagem.clientes.esperar_evento("ana", "n")
    inicio = await montagem.cortar(primeiro["id"])
    redis_proprio.matar()
    await ate(lambda: not a.cluster.disponivel and not b.cluster.disponivel, prazo=10)
    b.ns.emit("n", 1, to="r")  # lost for A: the session can't be whole any more
    redis_proprio.iniciar()
    await ate(lambda: all(n.cluster.disponivel for n in (a, b, montagem.c)), prazo=15)
    a.ns.emit("n", 2, to="r")
    montagem.proxy.religar(b.url)
    voltou = await montagem.volta(inicio)
    assert voltou["recovered"] is False and voltou["id"] != primeiro["id"]
    await asyncio.sleep(0.3)
    assert montagem.recebidos() == [0]


async def test_a_forged_or_replayed_pid_on_another_instance_restores_nothing(montagem: Montagem) -> None:
    a, b, c = montagem.a, montagem.b, montagem.c
    primeiro = await montagem.conectar("websocket")
    sid = primeiro["id"]
    inicio = await montagem.cortar(sid)
    montagem.proxy.religar(b.url)
    voltou = await montagem.volta(inicio)
    assert voltou["recovered"] is True
    pid = voltou["pid"]
    intrusos = ClientesRecuperacao(c.url)
    await intrusos.iniciar()
    try:
        for nome, falso in (("eve", pid), ("mallory", secrets.token_urlsafe(18))):
            registro = await intrusos.conectar(
                nome, opcoes={"auth": {"pid": falso, "offset": None}}, namespace=NS
            )
            assert registro["type"] == "connect" and registro["recovered"] is False
            assert registro["id"] not in (sid,) and registro["id"] in c.ns.sockets
            assert c.ns.sockets[registro["id"]].rooms == {registro["id"], "r"}  # fresh: its own rooms
        # The same pid back at its first home: spent there too.
        registro = await intrusos.conectar("trudy", opcoes={"auth": {"pid": pid}}, namespace="/atendimento")
        assert registro["recovered"] is False
    finally:
        await intrusos.fechar()
    assert sid in b.ns.sockets  # the real client's socket is untouched
    assert (b.recuperacao.recebidas, c.recuperacao.recebidas, a.recuperacao.entregues) == (1, 0, 1)


async def test_an_emit_costs_no_extra_redis_command(montagem: Montagem, redis_proprio: RedisProprio) -> None:
    a, b = montagem.a, montagem.b
    primeiro = await montagem.conectar("websocket")
    await montagem.cortar(primeiro["id"])  # a saved session: recovery is live on A
    cliente = redis.Redis.from_url(redis_proprio.url)
    try:
        await ate(lambda: bool(cliente.keys("atendimento:recuperacao:pid:*")), prazo=5)

        def contagens() -> dict[str, int]:
            estat = cliente.info("commandstats")
            return {nome: int(valor["calls"]) for nome, valor in estat.items()}

        antes = contagens()
        for n in range(200):
            a.ns.emit("n", n, to="r")
        await ate(lambda: b.cluster.adaptador(NS).recebidas >= 200, prazo=10)
        depois = contagens()
    finally:
        cliente.close()
    delta = {k: depois.get(k, 0) - antes.get(k, 0) for k in depois}
    # One SPUBLISH per emit, as without recovery; the recovery's own commands (SET at a save, GETDEL at
    # a hand-over) don't move. Presence heartbeats (every 0.2 s here) run meanwhile: a few SETs at
    # most, where a per-emit command would show 200.
    assert delta.get("cmdstat_spublish") == 200
    assert delta.get("cmdstat_getdel", 0) == 0 and delta.get("cmdstat_xadd", 0) == 0
    for comando in ("cmdstat_set", "cmdstat_get", "cmdstat_del"):
        assert delta.get(comando, 0) < 20, comando


async def test_a_pid_its_home_no_longer_holds_gets_a_no_and_a_fresh_connection(montagem: Montagem) -> None:
    """Back on its home first (a local recovery, the Redis key left to expire), then replayed on C:
    C asks the home, which answers that it has nothing, at once (no timeout)."""
    a, c = montagem.a, montagem.c
    primeiro = await montagem.conectar("websocket")
    inicio = await montagem.cortar(primeiro["id"])
    montagem.proxy.religar()
    voltou = await montagem.volta(inicio)
    assert voltou["recovered"] is True and voltou["id"] == primeiro["id"]
    intrusos = ClientesRecuperacao(c.url)
    await intrusos.iniciar()
    try:
        antes = asyncio.get_running_loop().time()
        registro = await intrusos.conectar("eve", opcoes={"auth": {"pid": voltou["pid"]}}, namespace=NS)
        assert registro["recovered"] is False and registro["id"] != primeiro["id"]
        assert asyncio.get_running_loop().time() - antes < 1.0  # the home's "no", not the timeout
    finally:
        await intrusos.fechar()
    assert c.recuperacao.falhas == 1 and a.recuperacao.entregues == 0
    assert primeiro["id"] in a.ns.sockets


async def test_malformed_hand_over_messages_are_dropped(montagem: Montagem) -> None:
    longo = {"v": 1, "instance": "x", "nsp": NS, "kind": "retomar", "pedido": "p", "dono": "no-a"}
    for ruim in (
        {**longo, "pid": "p" * 65},
        {**longo, "pid": 7},
        {k: v for k, v in longo.items() if k != "dono"},
    ):
        with pytest.raises(InvalidEnvelope):
            decodificar(json.dumps(ruim), NS)
    b = montagem.b
    for lixo in (
        b"{",
        b"[]",
        b'{"pedido": 3, "ok": true}',
        json.dumps({"pedido": "p", "ok": "sim"}).encode(),
    ):
        b.cluster.link.publicar(reply_channel("no-b"), lixo)
    await asyncio.sleep(0.2)
    assert b.cluster.disponivel  # the subscription went on


@pytest.mark.parametrize(
    ("config", "espera"),
    [
        (RecoveryConfig(max_session_packets=3), 0.0),  # it missed 4 events
        (RecoveryConfig(max_session_bytes=2048), 0.0),  # 4 events of about 1 kB
        (RecoveryConfig(window_seconds=1.0), 1.2),  # back after the window
    ],
    ids=["packets", "bytes", "window"],
)
async def test_past_a_bound_the_reconnect_on_another_instance_is_fresh(
    redis_proprio: RedisProprio, config: RecoveryConfig, espera: float
) -> None:
    async with _montar(redis_proprio.url, config) as montagem:
        a, b, c = montagem.a, montagem.b, montagem.c
        primeiro = await montagem.conectar("websocket")
        inicio = await montagem.cortar(primeiro["id"])
        for n in range(4):
            c.ns.emit("n", "x" * 1000 if n else n, to="r")
        await montagem.chegou(a, 4)
        await asyncio.sleep(espera)
        montagem.proxy.religar(b.url)
        voltou = await montagem.volta(inicio)
        assert voltou["recovered"] is False and voltou["id"] != primeiro["id"]
        await asyncio.sleep(0.3)
        assert montagem.recebidos() == []
        assert a.recuperacao.entregues == 0
