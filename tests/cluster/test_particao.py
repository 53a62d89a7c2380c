"""Fan-out partitioned by tenant, on one Redis and on a Redis Cluster: an instance reads a tenant's
channel only while it holds a socket of that tenant, so the others never see that tenant's traffic;
the channel is released a short grace after the instance's last socket of the tenant leaves."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from atendimento.cluster import particao
from atendimento.cluster.redis_link import RedisLink
from atendimento.cluster.topologia import Topologia, build_redis_client
from atendimento.gateway import salas

from .apoio_cluster import ate
from .apoio_instancias import NS, assinantes, instancias
from .apoio_redis_cluster import mover_slot


async def _ate_assinantes(url: str, empresa: str, quantos: int) -> None:
    ultimo = -1
    for _ in range(250):
        ultimo = await assinantes(url, empresa)
        if ultimo == quantos:
            return
        await asyncio.sleep(0.04)
    raise AssertionError(f"{empresa}: {ultimo} subscribers, expected {quantos}")


async def test_o_trafego_de_uma_empresa_so_chega_as_instancias_que_a_servem(
    backplane: str, demo_sqlite: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(particao, "GRACA_S", 0.3)
    resumo = demo_sqlite.resumo
    e, o = resumo.empresa_id, resumo.outra_empresa_id
    async with instancias(backplane, demo_sqlite.banco.app_url, tmp_path) as (a, b, c):
        await a.nos.conectar("ana", a.token(resumo, "ana@demo.local", "Ana Souza"))
        await b.nos.conectar("bruno", b.token(resumo, "bruno@demo.local", "Bruno Lima"))
        await c.nos.conectar("carla", c.token(resumo, "carla@outra.local", "Carla Mendes", empresa=o))
        await _ate_assinantes(backplane, e, 2)
        await _ate_assinantes(backplane, o, 1)

        leituras = [i.cluster.adaptador(NS).recebidas for i in (a, b, c)]
        recebidas_antes = REGISTRY.get_sample_value("atendimento_backplane_recebidas_total") or 0.0
        inicio = len(b.nos.registros)
        for n in range(20):
            a.app.server.of(NS).emit("notificacao", {"tipo": "teste", "n": n}, to=salas.empresa(e))
        await ate(lambda: len(b.nos.payloads("bruno", "notificacao")) == 20, prazo=10)
        assert [p["n"] for p in b.nos.payloads("bruno", "notificacao")] == list(range(20))
        assert len(a.nos.payloads("ana", "notificacao")) == 20  # delivered locally by the emitter
        # B read the 20; C, which serves only the other tenant, read none of them.
        assert b.cluster.adaptador(NS).recebidas - leituras[1] >= 20
        assert c.cluster.adaptador(NS).recebidas == leituras[2]
        assert c.nos.payloads("carla", "notificacao") == []
        assert len(b.nos.registros) > inicio
        assert (
            REGISTRY.get_sample_value("atendimento_backplane_recebidas_total") or 0.0
        ) >= recebidas_antes + 20
        assert REGISTRY.get_sample_value("atendimento_backplane_descartadas_total") is not None

        # Bruno leaves: after the grace B lets the tenant's channel go; A still reads it.
        await b.nos.desconectar("bruno")
        await _ate_assinantes(backplane, e, 1)
        await a.nos.desconectar("ana")
        await _ate_assinantes(backplane, e, 0)
        assert await assinantes(backplane, o) == 1


async def test_volta_dentro_da_graca_nao_solta_o_canal(
    backplane: str, demo_sqlite: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reload (disconnect, connect again) within the grace keeps the subscription: no SUNSUBSCRIBE,
    nothing missed by the new socket."""
    monkeypatch.setattr(particao, "GRACA_S", 5.0)
    resumo = demo_sqlite.resumo
    e = resumo.empresa_id
    async with instancias(backplane, demo_sqlite.banco.app_url, tmp_path, quantas=2) as (a, b):
        token = b.token(resumo, "bruno@demo.local", "Bruno Lima")
        await b.nos.conectar("bruno", token)
        await _ate_assinantes(backplane, e, 1)
        canais = b.cluster.link.estado()["canais"]
        await b.nos.desconectar("bruno")
        await b.nos.conectar("bruno2", token)
        assert b.cluster.link.estado()["canais"] == canais
        assert await assinantes(backplane, e) == 1
        a.app.server.of(NS).emit("notificacao", {"tipo": "teste"}, to=salas.empresa(e))
        assert (await b.nos.esperar_evento("bruno2", "notificacao"))["tipo"] == "teste"


async def test_um_canal_classico_ouve_o_publish_de_outros_servicos(backplane: str) -> None:
    """Other services' emitters PUBLISH on classic channels: the link subscribes to those with
    SUBSCRIBE (on a cluster, any node hears every PUBLISH), beside its sharded ones."""
    link = RedisLink(build_redis_client(backplane))
    recebidas: list[bytes] = []
    canal = f"teste-classico#{uuid.uuid4().hex[:8]}#"
    link.assinar(canal, recebidas.append, classico=True)
    await link.start()
    publicador = build_redis_client(backplane)
    try:
        assert await link.esperar_assinado(canal, 5)
        for n in range(3):
            await publicador.publish(canal, f"m{n}".encode())
        await ate(lambda: len(recebidas) == 3, prazo=5)
        assert recebidas == [b"m0", b"m1", b"m2"]
        link.liberar(canal)
        await asyncio.sleep(0.2)
        await publicador.publish(canal, b"depois")
        await asyncio.sleep(0.3)
        assert recebidas == [b"m0", b"m1", b"m2"]
    finally:
        await publicador.aclose()
        await link.stop()


async def test_uma_assinatura_segue_o_slot_que_muda_de_primario(redis_cluster_proprio: Any) -> None:
    """A slot moved to another primary (resharding): Redis SUNSUBSCRIBEs the channel on the old owner;
    the link re-reads the slot map and subscribes on the new one, and messages keep arriving."""
    cluster = redis_cluster_proprio
    link = RedisLink(build_redis_client(cluster.url))
    recebidas: list[bytes] = []
    canal = f"atendimento:{{{uuid.uuid4().hex[:8]}}}:/teste:broadcast"
    link.assinar(canal, recebidas.append)
    await link.start()
    publicador = build_redis_client(cluster.url)
    try:
        assert await link.esperar_assinado(canal, 5)
        await publicador.spublish(canal, b"antes")
        await ate(lambda: recebidas == [b"antes"], prazo=5)
        dono = cluster.primario_de(canal)
        outro = next(p for p in cluster.vivos() if p != dono and cluster.primario_de_porta(p))
        mover_slot(cluster, Topologia.slot(canal), outro)
        await ate(lambda: link.topologia.no_de(canal).endswith(f":{outro}"), prazo=10)
        await ate(lambda: link._assinaturas.confirmado(canal), prazo=10)
        await publicador.aclose()
        publicador = build_redis_client(cluster.url)  # a fresh slot map for the publisher
        await publicador.spublish(canal, b"depois")
        await ate(lambda: recebidas == [b"antes", b"depois"], prazo=10)
    finally:
        await publicador.aclose()
        await link.stop()
