"""``build_cluster`` as the composition root (atendimento/app.py) uses it, and /ready through the API."""

from __future__ import annotations

import httpx

from atendimento.app import build_app
from atendimento.cluster.adapter import RedisAdapter
from atendimento.cluster.presenca import PresencaCluster
from atendimento.cluster.wiring import build_cluster
from atendimento.config import Settings
from atendimento.engine import Server

from .apoio_cluster import RedisProprio, ate

SEGREDO = "segredo-dos-testes-de-cluster-com-mais-de-32-bytes"


def test_todo_namespace_recebe_o_adaptador_redis(redis_url: str) -> None:
    server = Server()
    antes = server.of("/")  # made before build_cluster, like the main namespace always is
    cluster = build_cluster(server, Settings(redis_url=redis_url), instancia="i-1")  # type: ignore[call-arg]
    depois = server.of("/outro")
    for ns in (antes, depois):
        assert isinstance(ns.adapter, RedisAdapter)
        assert ns.adapter.instancia == "i-1" and ns.adapter.link is cluster.link
    assert cluster.adaptador("/outro") is depois.adapter
    assert {"atendimento:/:broadcast", "atendimento:/outro:broadcast"} <= set(cluster.link._receptores)


async def test_aplicacao_com_redis_e_o_ready(sqlite_settings: Settings, redis_proprio: RedisProprio) -> None:
    settings = sqlite_settings.model_copy(update={"redis_url": redis_proprio.url, "jwt_secret": SEGREDO})
    aplicacao = build_app(settings)
    assert isinstance(aplicacao.gateway.presenca, PresencaCluster)
    assert isinstance(aplicacao.server.of("/atendimento").adapter, RedisAdapter)
    await aplicacao.startup()
    try:
        transporte = httpx.ASGITransport(app=aplicacao.asgi)
        async with httpx.AsyncClient(transport=transporte, base_url="http://teste") as http:
            assert (await http.get("/ready")).status_code == 200
            redis_proprio.matar()
            adaptador = aplicacao.server.of("/atendimento").adapter
            assert isinstance(adaptador, RedisAdapter)
            await ate(lambda: not adaptador.link.disponivel, prazo=10)
            resposta = await http.get("/ready")
            # Degraded, not down: this instance still serves its own sockets.
            assert resposta.status_code == 200
            assert resposta.json()["data"] == {
                "status": "degradado",
                "verificacoes": {"database": True, "drenagem": True, "redis": False},
            }
            assert (await http.get("/health")).status_code == 200  # the process itself is fine
            redis_proprio.iniciar()
            await ate(lambda: adaptador.link.disponivel, prazo=10)
            assert (await http.get("/ready")).status_code == 200
    finally:
        await aplicacao.shutdown()
