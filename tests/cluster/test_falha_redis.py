"""Redis going away and coming back, on a redis-server of the test's own (killed and restarted).

While it is away: each instance keeps serving its own sockets, the emits it could not share are
counted, health and /ready say degraded, presence and the rate limiters don't raise. When it is back
(same port, empty, as after a crash without persistence): sharing resumes on its own and presence is
written again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from prometheus_client import REGISTRY

from atendimento.cluster.wiring import Cluster, build_cluster
from atendimento.config import Settings
from atendimento.engine import Namespace, Server, Socket
from atendimento.gateway.presenca import Atendente
from atendimento.gateway.rate_limits import LimiteDigitando

from .apoio_cluster import Clientes, RedisProprio, ate, servir

NS = "/atendimento"
ANA = Atendente("e1", "ana", "Ana")


@dataclass
class Ouvinte:
    eventos: list[tuple[str, str]] = field(default_factory=list)

    def atendente_online(self, atendente: Atendente, momento: datetime) -> None:
        self.eventos.append(("online", atendente.usuario_id))

    def atendente_offline(self, atendente: Atendente, momento: datetime) -> None:
        self.eventos.append(("offline", atendente.usuario_id))


@dataclass
class No:
    cluster: Cluster
    ns: Namespace
    url: str
    ouvinte: Ouvinte


def _prometheus_nao_compartilhadas() -> float:
    return (
        REGISTRY.get_sample_value(
            "atendimento_cluster_emissoes_nao_compartilhadas_total", {"motivo": "redis"}
        )
        or 0
    )


async def _no(redis: RedisProprio, nome: str, pilha: contextlib.AsyncExitStack, esperar: bool = True) -> No:
    server = Server(ping_interval_ms=2000)
    settings = Settings(redis_url=redis.url, presence_grace_seconds=0.3)  # type: ignore[call-arg]
    cluster = build_cluster(server, settings, instancia=nome, batimento_s=0.2)
    cluster.espera_inicial_s = 5 if esperar else 0.2
    ns = server.of(NS)

    @ns.on_connect
    def conectar(socket: Socket, auth: dict[str, Any] | None) -> None:
        for sala in (auth or {}).get("rooms", []):
            socket.join(sala)

    ouvinte = Ouvinte()
    cluster.presenca.ouvir(ouvinte)
    await cluster.start()
    pilha.push_async_callback(cluster.stop)
    url = await pilha.enter_async_context(servir(server.asgi()))
    pilha.callback(server.shutdown)
    return No(cluster, ns, url, ouvinte)


@pytest.fixture
async def pilha() -> AsyncIterator[contextlib.AsyncExitStack]:
    async with contextlib.AsyncExitStack() as pilha:
        yield pilha


async def test_redis_cai_e_volta(redis_proprio: RedisProprio, pilha: contextlib.AsyncExitStack) -> None:
    a = await _no(redis_proprio, "no-a", pilha)
    b = await _no(redis_proprio, "no-b", pilha)
    clientes = Clientes()
    pilha.push_async_callback(clientes.fechar)
    _, a1 = await clientes.conectar(a.url, NS, {"rooms": ["r"]})
    _, b1 = await clientes.conectar(b.url, NS, {"rooms": ["r"]}, transports=["polling"])

    a.ns.emit("antes", to="r")
    await ate(lambda: len(a1.de("antes")) == 1 and len(b1.de("antes")) == 1)
    assert a.cluster.health()["redis"] == "ok"
    assert await a.cluster.verificacao_prontidao() == ("redis", True, None)

    redis_proprio.matar()
    await ate(lambda: not a.cluster.disponivel and not b.cluster.disponivel, prazo=10)
    assert a.cluster.health()["redis"] == "degraded"
    nome, pronto, detalhe = await a.cluster.verificacao_prontidao()
    assert (nome, pronto) == ("redis", False) and detalhe

    # Local delivery goes on; what could not be shared is counted, and nothing raises.
    antes_attr, antes_prom = a.cluster.link.nao_compartilhadas, _prometheus_nao_compartilhadas()
    for i in range(3):
        a.ns.emit("durante", i, to="r")
    await ate(lambda: len(a1.de("durante")) == 3)
    assert a.cluster.link.nao_compartilhadas - antes_attr == 3
    assert _prometheus_nao_compartilhadas() - antes_prom >= 3
    assert a.cluster.health()["emissoesNaoCompartilhadas"] == a.cluster.link.nao_compartilhadas
    limite = LimiteDigitando(a.cluster.limiter_storage, por_minuto=2)
    assert [await limite.consumir("e1", "ana", "t1") for _ in range(3)][:2] == [None, None]
    await a.cluster.presenca.conectou(ANA, "sid-durante")  # waits for Redis, doesn't raise
    assert await a.cluster.presenca.online("e1") == {"ana"}  # from local sockets meanwhile
    await asyncio.sleep(0.3)
    assert b1.de("durante") == [] and a.ouvinte.eventos == []
    assert not a1.desconectado.is_set() and not b1.desconectado.is_set()

    redis_proprio.iniciar()  # same port, empty: as after a crash without persistence
    await ate(lambda: a.cluster.disponivel and b.cluster.disponivel, prazo=10)
    assert a.cluster.health()["redis"] == "ok"
    assert await a.cluster.verificacao_prontidao() == ("redis", True, None)
    assert a.cluster.link.reconexoes >= 1
    a.ns.emit("depois", to="r")
    b.ns.emit("depois-b", to="r")
    await ate(lambda: len(b1.de("depois")) == 1 and len(a1.de("depois-b")) == 1)
    # Presence written again: ana's socket, connected while Redis was away, is announced now, once.
    await ate(lambda: a.ouvinte.eventos + b.ouvinte.eventos == [("online", "ana")])
    assert await b.cluster.presenca.online("e1") == {"ana"}
    assert [await limite.consumir("e1", "bruno", "t1") for _ in range(3)][2] is not None


async def test_redis_fora_no_arranque(redis_proprio: RedisProprio, pilha: contextlib.AsyncExitStack) -> None:
    redis_proprio.matar()
    a = await _no(redis_proprio, "no-a", pilha, esperar=False)  # start() does not fail
    assert a.cluster.health()["redis"] == "degraded"
    clientes = Clientes()
    pilha.push_async_callback(clientes.fechar)
    _, a1 = await clientes.conectar(a.url, NS, {"rooms": ["r"]})
    a.ns.emit("local", to="r")
    await ate(lambda: len(a1.de("local")) == 1)
    redis_proprio.iniciar()
    await ate(lambda: a.cluster.disponivel, prazo=10)
    b = await _no(redis_proprio, "no-b", pilha)
    _, b1 = await clientes.conectar(b.url, NS, {"rooms": ["r"]})
    a.ns.emit("compartilhado", to="r")
    await ate(lambda: len(b1.de("compartilhado")) == 1)
