"""Connection state recovery across instances on the tenant's sharded channel, on one Redis and on a
Redis Cluster; and across a failover of the shard that channel lives on.

The socket's rooms are a tenant's, so its broadcasts and the hand-over request travel on that tenant's
channel. B, where the reconnect lands, holds no socket of the tenant before: it subscribes to the
channel (and waits for Redis to confirm it) before it asks, or it would miss its own request's echo.
"""

from __future__ import annotations

import asyncio

import pytest

from atendimento.cluster.envelopes import canal_empresa
from atendimento.engine.socketio.recovery import RecoveryConfig
from atendimento.gateway import salas

from .apoio_cluster import NS, ate
from .apoio_redis_cluster import RedisClusterProprio
from .test_recuperacao_entre_instancias import _montar

pytestmark = pytest.mark.node

SALA = salas.empresa("empresa-x")


async def test_a_reconnect_on_another_instance_recovers_through_the_tenant_channel(backplane: str) -> None:
    async with _montar(
        backplane, RecoveryConfig(), sala=SALA, empresa_da_sala=salas.empresa_da_sala
    ) as montagem:
        a, b, c = montagem.a, montagem.b, montagem.c
        primeiro = await montagem.conectar("websocket")
        sid = primeiro["id"]
        a.ns.emit("n", 0, to=SALA)
        await montagem.clientes.esperar_evento("ana", "n")
        inicio = await montagem.cortar(sid)
        # B and C serve no socket of the tenant: they publish on its channel without reading it.
        assert not b.cluster.link.assinando(canal_empresa(NS, "empresa-x"))
        b.ns.emit("n", 1, to=SALA)
        await montagem.chegou(a, 1)
        c.ns.emit("n", 2, to=SALA)
        await montagem.chegou(a, 2)
        c.ns.emit("outra", 99, to=salas.empresa("empresa-y"))  # another tenant's: A never reads it
        await asyncio.sleep(0.2)
        assert a.cluster.adaptador(NS).recebidas == 2  # B's and C's for the tenant; not empresa-y's
        montagem.proxy.religar(b.url)
        voltou = await montagem.volta(inicio)
        assert voltou["recovered"] is True and voltou["id"] == sid
        assert b.cluster.link.assinando(canal_empresa(NS, "empresa-x"))
        for n, no in ((3, a), (4, c), (5, b)):
            no.ns.emit("n", n, to=SALA)
            await ate(lambda n=n: len(montagem.recebidos()) == n + 1, prazo=5)
        await asyncio.sleep(0.2)
        assert montagem.recebidos() == [0, 1, 2, 3, 4, 5]
        assert montagem.clientes.eventos("ana", "outra") == []


async def test_a_recovery_across_a_failover_recovers_or_says_false_cleanly(
    redis_cluster_proprio: RedisClusterProprio,
) -> None:
    """The primary of the tenant's shard is killed while the client is away: the instances
    resubscribe by themselves; the reconnect (on B) either recovers everything or is a clean fresh
    connection, never a partial replay; live events flow again through B."""
    cluster = redis_cluster_proprio
    async with _montar(
        cluster.url, RecoveryConfig(), sala=SALA, empresa_da_sala=salas.empresa_da_sala
    ) as montagem:
        a, b, c = montagem.a, montagem.b, montagem.c
        primeiro = await montagem.conectar("websocket")
        sid = primeiro["id"]
        inicio = await montagem.cortar(sid)
        c.ns.emit("n", 1, to=SALA)
        await montagem.chegou(a, 1)
        cluster.matar(cluster.primario_de(canal_empresa(NS, "empresa-x")))
        await ate(lambda: not a.cluster.disponivel, prazo=10)  # A reads the tenant's channel there
        await ate(lambda: all(n.cluster.disponivel for n in (a, b, c)), prazo=30)
        montagem.proxy.religar(b.url)
        voltou = await montagem.volta(inicio)
        if voltou["recovered"]:
            assert voltou["id"] == sid
            assert montagem.recebidos() == [1]
        else:
            assert voltou["id"] != sid and montagem.recebidos() == []
        # Fan-out resumed: every instance reaches the socket on B within seconds.
        for n, no in ((2, a), (3, c), (4, b)):
            no.ns.emit("n", n, to=SALA)
            await ate(lambda n=n: n in montagem.recebidos(), prazo=10)
