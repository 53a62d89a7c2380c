"""A Redis Cluster primary killed with SIGKILL under load: its replica takes over, the instances
resubscribe by themselves, their sockets hear ``sistema:estado`` go ``degradado`` and back to ``ok``,
fan-out resumes within seconds, and presence and ``ticket:visualizando`` keep working on the shard
that now holds the tenant (three whole instances, the real socket.io-client). Replication is
asynchronous, so a promoted replica may lack the last writes: the instances write their viewers
again once Redis is back, and the room hears a set only where that changed it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import pytest

from atendimento.cluster.envelopes import canal_empresa, etiqueta
from atendimento.cluster.visualizando import PREFIXO_VISUALIZANDO
from atendimento.gateway import salas

from .apoio_cluster import ate
from .apoio_instancias import NS, Instancia, instancias
from .apoio_redis_cluster import RedisClusterProprio

pytestmark = pytest.mark.node


def _nomes(payload: dict[str, Any]) -> list[str]:
    return [u["usuarioNome"] for u in payload["usuarios"]]


def _vistos(inst: Instancia, cliente: str, ticket: str, desde: int) -> list[list[str]]:
    """Each ``ticket:visualizando`` of ``ticket`` that ``cliente`` heard since ``desde``, as names."""
    return [
        _nomes(r["args"][0])
        for r in inst.nos.registros[desde:]
        if r.get("client") == cliente
        and r.get("event") == "ticket:visualizando"
        and r["args"][0]["ticketId"] == ticket
    ]


async def test_primario_morto_sob_carga_a_replica_assume_e_tudo_volta(
    redis_cluster_proprio: RedisClusterProprio, demo_sqlite: Any, tmp_path: Path
) -> None:
    cluster = redis_cluster_proprio
    resumo = demo_sqlite.resumo
    e = resumo.empresa_id
    # ``ticket``'s viewers reach the replica; ``perdido``'s hash is one the replica never got.
    ticket, perdido = resumo.tickets[0], resumo.tickets[1]
    chave_perdida = f"{PREFIXO_VISUALIZANDO}{etiqueta(e)}:{perdido}"
    async with instancias(cluster.url, demo_sqlite.banco.app_url, tmp_path) as (a, b, c):
        await a.nos.conectar("ana", a.token(resumo, "ana@demo.local", "Ana Souza"))
        await b.nos.conectar("bruno", b.token(resumo, "bruno@demo.local", "Bruno Lima"))
        await c.nos.conectar("gestor", c.token(resumo, "gestor@demo.local", "Gestor Demo", role="gestor"))
        m = len(a.nos.registros)
        for t in (ticket, perdido):
            # A cluster just formed: the first script on a shard may wait for its slots to settle.
            assert (await a.nos.pedir("ana", "ticket:entrar", {"ticketId": t}, prazo=30))["success"]
            assert (await b.nos.pedir("bruno", "ticket:entrar", {"ticketId": t}, prazo=30))["success"]
            await ate(lambda t=t: _vistos(a, "ana", t, m)[-1:] == [["Ana Souza", "Bruno Lima"]], prazo=10)

        # Load: A emits to the tenant every 20 ms throughout.
        enviados: list[int] = []
        parar = asyncio.Event()

        async def carga() -> None:
            while not parar.is_set():
                enviados.append(len(enviados))
                a.app.server.of(NS).emit(
                    "notificacao", {"tipo": "carga", "n": enviados[-1]}, to=salas.empresa(e)
                )
                await asyncio.sleep(0.02)

        tarefa = asyncio.create_task(carga())
        try:
            await ate(lambda: len(b.nos.payloads("bruno", "notificacao")) >= 10, prazo=10)
            marca = len(b.nos.registros)
            primario = cluster.primario_de(canal_empresa(NS, e))
            assert cluster.primario_de(chave_perdida) == primario  # the tenant's tag: one shard
            # The writes of ``perdido`` the replica never got: gone on both before the kill.
            no = cluster._cliente(primario)
            try:
                assert no.delete(chave_perdida) == 1
                assert no.execute_command("WAIT", 1, 2000) == 1
            finally:
                no.close()
            ma = len(a.nos.registros)
            morto_em = time.monotonic()
            cluster.matar(primario)

            def estados() -> list[str]:
                return [
                    r["args"][0]["redis"]
                    for r in b.nos.registros[marca:]
                    if r.get("event") == "sistema:estado" and r.get("client") == "bruno"
                ]

            await ate(lambda: "degradado" in estados(), prazo=15)
            await ate(lambda: estados()[-1:] == ["ok"], prazo=30)
            voltou_em = time.monotonic() - morto_em
            assert cluster.primario_de(canal_empresa(NS, e)) != primario  # the replica took over
            # Fan-out resumed: a notification emitted now reaches Bruno on B within seconds.
            depois = len(enviados)
            await ate(lambda: any(p["n"] >= depois for p in b.nos.payloads("bruno", "notificacao")), prazo=10)
        finally:
            parar.set()
            await tarefa
        recebidos = [p["n"] for p in b.nos.payloads("bruno", "notificacao")]
        assert recebidos == sorted(recebidos) and len(set(recebidos)) == len(recebidos)  # no duplicate
        print(f"failover: ok again {voltou_em:.1f} s after the kill; {len(enviados) - len(recebidos)} lost")

        # Redis back: A and B wrote their viewers again (two tickets each). ``perdido``'s set is whole
        # again and the room heard it; ``ticket``'s fields were in place, so its room heard nothing.
        await ate(lambda: a.cluster.visualizando.reescritas >= 2 and b.cluster.visualizando.reescritas >= 2)
        assert await a.cluster.link.cliente.hlen(chave_perdida) == 2
        assert _vistos(a, "ana", perdido, ma)[-1:] == [["Ana Souza", "Bruno Lima"]]
        assert _vistos(a, "ana", ticket, ma) == []

        # Viewers and presence on the promoted shard: Bruno leaves; Ana hears both, once.
        m = len(a.nos.registros)
        await b.nos.desconectar("bruno")
        offline = await a.nos.esperar_evento("ana", "atendente:offline", desde=m, prazo=20)
        await ate(lambda: all(_vistos(a, "ana", t, m) == [["Ana Souza"]] for t in (ticket, perdido)))
        assert offline["atendenteId"] == resumo.id_de("bruno@demo.local")
        assert await a.cluster.presenca.online(e) == {resumo.id_de("ana@demo.local")}
        # A new agent on C after the failover is announced online to Ana.
        m = len(a.nos.registros)
        await c.nos.conectar("bruno-c", c.token(resumo, "bruno@demo.local", "Bruno Lima"))
        online = await a.nos.esperar_evento("ana", "atendente:online", desde=m, prazo=20)
        assert online["atendenteId"] == resumo.id_de("bruno@demo.local")
        with contextlib.suppress(Exception):
            await c.nos.desconectar("bruno-c")
