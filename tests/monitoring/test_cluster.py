"""With Redis: ``sistema:estado`` when the backplane goes away and comes back (a redis-server of the
test's own, killed and restarted), and the Admin UI seeing every instance of a two-instance cluster."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from apoio_node import ClientesAtendimento
from cluster.apoio_cluster import RedisProprio
from cluster.apoio_redis_cluster import RedisClusterProprio
from redis.asyncio import Redis

from atendimento.cluster.consulta import PRAZO_S, REQUEST_CHANNEL

from .conftest import ADMIN_SENHA, ADMIN_USUARIO, Subir


@pytest.fixture
def redis_proprio() -> Iterator[RedisProprio]:
    redis = RedisProprio()
    redis.iniciar()
    yield redis
    redis.encerrar()


async def test_sistema_estado_when_redis_goes_and_comes_back(
    subir_app: Subir, redis_proprio: RedisProprio
) -> None:
    app = await subir_app(redis_url=redis_proprio.url)
    node = await ClientesAtendimento(app.url).iniciar()
    try:
        assert (await node.conectar("ana", app.token("ana@demo.local")))["type"] == "connect"
        assert (await node.conectar("carla", app.token("carla@outra.local")))["type"] == "connect"
        inicio = len(node.registros)
        redis_proprio.matar()
        for cliente in ("ana", "carla"):
            estado = await node.esperar_evento(cliente, "sistema:estado", desde=inicio, prazo=15)
            assert estado == {"redis": "degradado"}
        async with httpx.AsyncClient(base_url=app.url) as http:
            pronto = await http.get("/ready")
        assert pronto.status_code == 200 and "degrad" in pronto.text
        async with httpx.AsyncClient(base_url=app.url) as http:
            metricas = (await http.get("/metrics", headers=app.metricas())).text
        assert "atendimento_redis_link 0.0" in metricas

        inicio = len(node.registros)
        redis_proprio.iniciar()
        for cliente in ("ana", "carla"):
            estado = await node.esperar_evento(cliente, "sistema:estado", desde=inicio, prazo=15)
            assert estado == {"redis": "ok"}
        # Once each way, no repeats (the payload; a recovery offset may follow it as a last argument).
        assert [r["args"][0] for r in node.eventos("ana", "sistema:estado")] == [
            {"redis": "degradado"},
            {"redis": "ok"},
        ]
    finally:
        await node.fechar()


@pytest.fixture(params=["redis", "cluster"])
def backplane(request: pytest.FixtureRequest) -> Iterator[str]:
    """One Redis of the test's own, or a Redis Cluster of 6 nodes of its own."""
    if request.param == "redis":
        yield request.getfixturevalue("redis_proprio").url
        return
    cluster = RedisClusterProprio()
    try:
        cluster.iniciar()
        yield cluster.url
    finally:
        cluster.encerrar()


async def test_admin_sees_every_instance(subir_app: Subir, backplane: str) -> None:
    a = await subir_app(redis_url=backplane)
    b = await subir_app(redis_url=backplane)
    no_a = await ClientesAtendimento(a.url).iniciar()
    no_b = await ClientesAtendimento(b.url).iniciar()
    try:
        assert (await no_a.conectar("ana", a.token("ana@demo.local")))["type"] == "connect"
        assert (await no_b.conectar("carla", b.token("carla@outra.local")))["type"] == "connect"
        registro = await no_a.conectar(
            "op", opcoes={"auth": {"username": ADMIN_USUARIO, "password": ADMIN_SENHA}}, namespace="/admin"
        )
        assert registro["type"] == "connect", registro
        todos = await no_a.esperar_evento("op", "all_sockets")
        usuarios = {s["data"]["usuarioId"] for s in todos}
        assert usuarios == {a.resumo.id_de("ana@demo.local"), a.resumo.id_de("carla@outra.local")}

        # Each instance's stats reach the admin socket on A.
        servidores: set[str] = set()

        def dois_servidores(r: dict[str, object]) -> bool:
            if r.get("client") == "op" and r.get("event") == "server_stats":
                servidores.add(r["args"][0]["serverId"])  # type: ignore[index]
            return len(servidores) == 2

        await no_a.esperar(dois_servidores, prazo=10)

        # A socket connecting on B is announced to the admin on A.
        inicio = len(no_a.registros)
        assert (await no_b.conectar("bruno", b.token("bruno@demo.local")))["type"] == "connect"
        novo = await no_a.esperar(
            lambda r: r.get("client") == "op" and r.get("event") == "socket_connected", desde=inicio
        )
        assert novo["args"][0]["data"]["usuarioId"] == a.resumo.id_de("bruno@demo.local")
    finally:
        await no_a.fechar()
        await no_b.fechar()


async def test_socket_list_waits_a_bounded_time_for_a_silent_instance(
    subir_app: Subir, redis_proprio: RedisProprio
) -> None:
    a = await subir_app(redis_url=redis_proprio.url)
    b = await subir_app(redis_url=redis_proprio.url)
    no_b = await ClientesAtendimento(b.url).iniciar()
    # A third "instance" that hears the request and never answers.
    mudo = Redis.from_url(redis_proprio.url)
    pubsub = mudo.pubsub()
    await pubsub.ssubscribe(REQUEST_CHANNEL)  # sharded, as the instances
    try:
        assert (await no_b.conectar("carla", b.token("carla@outra.local")))["type"] == "connect"
        assert a.aplicacao.monitoramento is not None and a.aplicacao.monitoramento.admin is not None
        listar = a.aplicacao.monitoramento.admin.listar_remotos
        assert listar is not None
        inicio = time.monotonic()
        sockets = await listar()
        decorrido = time.monotonic() - inicio
        assert [s["data"]["usuarioId"] for s in sockets] == [b.resumo.id_de("carla@outra.local")]
        assert PRAZO_S * 0.9 <= decorrido < PRAZO_S + 1.5  # waited for the silent one, and no longer
    finally:
        await pubsub.aclose()
        await mudo.aclose()
        await no_b.fechar()
