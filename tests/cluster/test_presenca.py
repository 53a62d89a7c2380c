"""Cluster presence against the real Redis: edges across instances, grace period, dead instances."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

import pytest

from atendimento.cluster.presenca import PresencaCluster
from atendimento.cluster.redis_link import RedisLink, build_redis_client
from atendimento.gateway.presenca import Atendente

from .apoio_cluster import ate

ANA = Atendente("e1", "ana", "Ana")
BRUNO = Atendente("e1", "bruno", "Bruno")
ANA_OUTRA = Atendente("e2", "ana", "Ana de outra empresa")  # same user id, another tenant

GRACA = 0.3
BATIMENTO = 0.2


class Ouvinte:
    def __init__(self) -> None:
        self.eventos: list[tuple[str, str, str]] = []

    def atendente_online(self, atendente: Atendente, momento: datetime) -> None:
        assert momento.tzinfo is not None
        self.eventos.append(("online", atendente.empresa_id, atendente.usuario_id))

    def atendente_offline(self, atendente: Atendente, momento: datetime) -> None:
        self.eventos.append(("offline", atendente.empresa_id, atendente.usuario_id))


Fabrica = Callable[[], Awaitable[tuple[PresencaCluster, Ouvinte]]]


@pytest.fixture
async def instancias(backplane: str, prefixo: str) -> AsyncIterator[Fabrica]:
    """Builds presence instances, each with its own Redis link, as separate processes would have: on a
    Redis of the test's own, and on a Redis Cluster (every script on its tenant's or the instances' shard)."""
    criadas: list[tuple[PresencaCluster, RedisLink]] = []

    async def criar() -> tuple[PresencaCluster, Ouvinte]:
        link = RedisLink(build_redis_client(backplane))
        presenca = PresencaCluster(
            link, f"inst-{len(criadas)}", grace_seconds=GRACA, batimento_s=BATIMENTO, prefixo=prefixo
        )
        ouvinte = Ouvinte()
        presenca.ouvir(ouvinte)
        await link.start()
        await presenca.start()
        assert await link.esperar_disponivel(5)
        criadas.append((presenca, link))
        return presenca, ouvinte

    yield criar
    for presenca, link in criadas:
        await presenca.fechar()
        await link.stop()


def todos(*ouvintes: Ouvinte) -> list[tuple[str, str, str]]:
    return [e for o in ouvintes for e in o.eventos]


async def test_primeiro_socket_em_qualquer_instancia_e_ultimo_a_sair(instancias: Fabrica) -> None:
    a, oa = await instancias()
    b, ob = await instancias()
    await a.conectou(ANA, "a1")
    await ate(lambda: todos(oa, ob) == [("online", "e1", "ana")])
    await b.conectou(ANA, "b1")
    await a.desconectou(ANA, "a1")
    await asyncio.sleep(GRACA + 0.2)
    assert todos(oa, ob) == [("online", "e1", "ana")]  # still a socket on b
    assert await a.online("e1") == {"ana"} and await b.online("e1") == {"ana"}
    await b.desconectou(ANA, "b1")
    await asyncio.sleep(GRACA / 2)
    assert await a.online("e1") == {"ana"}  # within the grace period a user still is online
    await ate(lambda: len(todos(oa, ob)) == 2)
    assert todos(oa, ob)[1] == ("offline", "e1", "ana")
    await asyncio.sleep(BATIMENTO * 2)
    assert len(todos(oa, ob)) == 2  # once
    assert await a.online("e1") == set()


async def test_reconectar_em_outra_instancia_dentro_da_graca_nao_emite_nada(instancias: Fabrica) -> None:
    a, oa = await instancias()
    b, ob = await instancias()
    await a.conectou(ANA, "a1")
    await ate(lambda: len(todos(oa, ob)) == 1)
    await a.desconectou(ANA, "a1")
    await asyncio.sleep(GRACA / 3)
    await b.conectou(ANA, "b1")  # a page reload that landed on the other instance
    await asyncio.sleep(GRACA + BATIMENTO * 2)
    assert todos(oa, ob) == [("online", "e1", "ana")]
    # A second leave restarts the grace period from that leave, and is then announced once.
    await b.desconectou(ANA, "b1")
    await ate(lambda: len(todos(oa, ob)) == 2)
    assert todos(oa, ob)[-1] == ("offline", "e1", "ana")


async def test_empresas_separadas_e_saidas_repetidas(instancias: Fabrica) -> None:
    a, oa = await instancias()
    b, ob = await instancias()
    await a.conectou(ANA, "a1")
    await b.conectou(ANA_OUTRA, "b1")
    await b.conectou(BRUNO, "b2")
    await ate(lambda: len(todos(oa, ob)) == 3)
    assert sorted(todos(oa, ob)) == [
        ("online", "e1", "ana"),
        ("online", "e1", "bruno"),
        ("online", "e2", "ana"),
    ]
    assert await a.online("e1") == {"ana", "bruno"}
    assert await a.online("e2") == {"ana"}
    await a.desconectou(ANA, "nunca-conectou")
    await a.desconectou(ANA_OUTRA, "a1")  # another tenant's user with the same id: not this socket
    await asyncio.sleep(GRACA + 0.2)
    assert len(todos(oa, ob)) == 3


async def test_instancia_morta_sem_despedida_seus_usuarios_saem_uma_vez(instancias: Fabrica) -> None:
    a, oa = await instancias()
    b, ob = await instancias()
    c, oc = await instancias()
    await a.conectou(ANA, "a1")
    await a.conectou(BRUNO, "a2")
    await c.conectou(BRUNO, "c1")  # bruno also has a socket on a survivor
    await ate(lambda: len(todos(oa, ob, oc)) == 2)
    # a dies: its tasks stop and it never says goodbye (no fechar()).
    for tarefa in a._tarefas:
        tarefa.cancel()
    inicio = asyncio.get_running_loop().time()
    # Bounded by the key's life (3 heartbeats) plus one sweep interval, plus slack for a loaded machine.
    limite = BATIMENTO * 4 + 1.0
    await ate(lambda: ("offline", "e1", "ana") in todos(oa, ob, oc), prazo=limite)
    decorrido = asyncio.get_running_loop().time() - inicio
    assert decorrido <= limite
    await asyncio.sleep(BATIMENTO * 3)
    offline = [e for e in todos(oa, ob, oc) if e[0] == "offline"]
    assert offline == [("offline", "e1", "ana")]  # once, by one survivor; bruno stays online
    assert await b.online("e1") == {"bruno"}


async def test_despedida_passa_pela_graca(instancias: Fabrica) -> None:
    a, oa = await instancias()
    _b, ob = await instancias()
    await a.conectou(ANA, "a1")
    await ate(lambda: len(todos(oa, ob)) == 1)
    await a.fechar()  # a graceful stop: ana's client will reconnect elsewhere, or not
    await asyncio.sleep(GRACA / 3)
    assert todos(oa, ob) == [("online", "e1", "ana")]
    await ate(lambda: ("offline", "e1", "ana") in ob.eventos, prazo=GRACA + BATIMENTO * 3)
