"""Connection state recovery behind Redis: two instances, a redis-server of the test's own, and
socket.io-client 4.8.1 (default options) reaching an instance through a TCP proxy the test owns.

A client that comes back to the instance it left recovers everything, the other instance's emits
included; one whose gap spans a Redis outage gets a clean ``recovered === false`` and no replay at
all, never a partial one. Landing on another instance: test_recuperacao_entre_instancias.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from apoio_node import ClientesRecuperacao, garantir_node_modules
from apoio_proxy import ProxyTcp, proxy_para

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


async def _no(redis: RedisProprio, nome: str, pilha: contextlib.AsyncExitStack) -> No:
    server = Server(ping_interval_ms=2000, ping_timeout_ms=2000, recovery=RecoveryConfig())
    settings = Settings(redis_url=redis.url, presence_grace_seconds=0.3)  # type: ignore[call-arg]
    cluster = build_cluster(server, settings, instancia=nome, batimento_s=0.2)
    ns = server.of(NS)

    @ns.on_connect
    def conectar(socket: Socket, auth: dict[str, Any]) -> None:
        if not socket.recovered:
            socket.join("r")

    await cluster.start()
    pilha.push_async_callback(cluster.stop)
    url = await pilha.enter_async_context(servir(server.asgi()))
    pilha.callback(server.shutdown)
    return No(cluster, ns, url)


@dataclass
class Montagem(AnaPeloProxy):
    a: No
    b: No
    proxy: ProxyTcp
    clientes: ClientesRecuperacao

    async def cortar(self, sid: str) -> int:
        return await self._cortar_ate(lambda: sid not in self.a.ns.sockets)


@pytest.fixture
async def montagem(redis_proprio: RedisProprio) -> AsyncIterator[Montagem]:
    garantir_node_modules()
    async with contextlib.AsyncExitStack() as pilha:
        a = await _no(redis_proprio, "no-a", pilha)
        b = await _no(redis_proprio, "no-b", pilha)
        await ate(lambda: a.cluster.disponivel and b.cluster.disponivel, prazo=10)
        proxy = await pilha.enter_async_context(proxy_para(a.url))
        clientes = ClientesRecuperacao(proxy.url)
        await clientes.iniciar()
        pilha.push_async_callback(clientes.fechar)
        yield Montagem(a, b, proxy, clientes)


@pytest.mark.parametrize("transporte", ["websocket", "polling"])
async def test_back_on_the_same_instance_it_recovers_the_other_instances_emits_too(
    montagem: Montagem, transporte: str
) -> None:
    primeiro = await montagem.conectar(transporte)
    sid = primeiro["id"]
    montagem.b.ns.emit("n", 0, to="r")
    await montagem.clientes.esperar_evento("ana", "n")
    inicio = await montagem.cortar(sid)
    # The order is the one instance A delivers in (what a connected socket there would have seen):
    # B's emit reaches A one Redis hop later, so the test lets it arrive before A emits.
    montagem.b.ns.emit("n", 1, to="r")
    await ate(lambda: montagem.a.cluster.adaptador(NS).recebidas >= 2, prazo=5)
    montagem.a.ns.emit("n", 2, to="r")
    montagem.b.ns.emit("n", 3, to="r")
    await ate(lambda: montagem.a.cluster.adaptador(NS).recebidas >= 3, prazo=5)
    montagem.proxy.religar()
    voltou = await montagem.volta(inicio)
    assert voltou["recovered"] is True and voltou["id"] == sid
    await ate(lambda: len(montagem.recebidos()) == 4, prazo=5)
    await asyncio.sleep(0.2)
    assert montagem.recebidos() == [0, 1, 2, 3]


async def test_a_redis_outage_during_the_gap_ends_in_recovered_false(
    montagem: Montagem, redis_proprio: RedisProprio
) -> None:
    primeiro = await montagem.conectar("websocket")
    montagem.a.ns.emit("n", 0, to="r")
    await montagem.clientes.esperar_evento("ana", "n")
    inicio = await montagem.cortar(primeiro["id"])
    redis_proprio.matar()
    await ate(lambda: not montagem.a.cluster.disponivel, prazo=10)
    montagem.a.ns.emit("n", 1, to="r")  # the other instance's emits of this time would be lost
    redis_proprio.iniciar()
    await ate(lambda: montagem.a.cluster.disponivel and montagem.b.cluster.disponivel, prazo=15)
    montagem.a.ns.emit("n", 2, to="r")
    montagem.proxy.religar()
    voltou = await montagem.volta(inicio)
    assert voltou["recovered"] is False and voltou["id"] != primeiro["id"]
    await asyncio.sleep(0.3)
    assert montagem.recebidos() == [0]
