"""``ticket:visualizando`` across two instances sharing a real Redis (the test's own redis-server, and
a Redis Cluster),
with the real socket.io-client: each instance's agents see the others', each change is told once,
the entries of an instance that died without a goodbye go at the next change, and a Redis that
comes back empty gets every instance's viewers again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from apoio_node import ClientesAtendimento, garantir_node_modules
from apoio_rede import servir_uvicorn

from atendimento.app import Aplicacao, build_app
from atendimento.cluster.envelopes import etiqueta
from atendimento.cluster.topologia import build_redis_client
from atendimento.cluster.visualizando import PREFIXO_VISUALIZANDO
from atendimento.config import Settings

from .apoio_cluster import RedisProprio, ate

SEGREDO = "segredo-dos-testes-de-cluster-com-mais-de-32-bytes"
EVENTO = "ticket:visualizando"


def _nomes(payload: dict[str, Any]) -> list[str]:
    return [u["usuarioNome"] for u in payload["usuarios"]]


@contextlib.asynccontextmanager
async def _duas(
    demo_sqlite: Any, redis_url: str, pasta: Path
) -> AsyncIterator[list[tuple[Aplicacao, ClientesAtendimento]]]:
    garantir_node_modules()
    pilha = contextlib.AsyncExitStack()
    instancias = []
    try:
        for _ in range(2):
            settings = Settings(  # type: ignore[call-arg]
                database_url=demo_sqlite.banco.app_url,
                data_dir=pasta,
                jwt_secret=SEGREDO,
                redis_url=redis_url,
                presence_grace_seconds=0.3,
            )
            app = build_app(settings)
            await app.startup()
            pilha.push_async_callback(app.shutdown)
            url = await pilha.enter_async_context(servir_uvicorn(app.asgi))
            clientes = await ClientesAtendimento(url).iniciar()
            pilha.push_async_callback(clientes.fechar)
            instancias.append((app, clientes))
        yield instancias
    finally:
        await pilha.aclose()


@pytest.fixture
async def duas(
    demo_sqlite: Any, backplane: str, tmp_path: Path
) -> AsyncIterator[list[tuple[Aplicacao, ClientesAtendimento]]]:
    async with _duas(demo_sqlite, backplane, tmp_path) as instancias:
        yield instancias


def _token(app: Aplicacao, resumo: Any, email: str, nome: str) -> str:
    return app.tokens.emitir(resumo.id_de(email), resumo.empresa_id, "atendente", nome)


async def test_duas_instancias_veem_quem_esta_no_ticket(
    duas: list[tuple[Aplicacao, ClientesAtendimento]], demo_sqlite: Any, backplane: str
) -> None:
    (app1, nos1), (app2, nos2) = duas
    resumo = demo_sqlite.resumo
    ticket = resumo.tickets[0]
    await nos1.conectar("ana", _token(app1, resumo, "ana@demo.local", "Ana Souza"))
    await nos2.conectar("bruno", _token(app2, resumo, "bruno@demo.local", "Bruno Lima"))
    await nos2.conectar("ana-b", _token(app2, resumo, "ana@demo.local", "Ana Souza"))

    assert (await nos1.pedir("ana", "ticket:entrar", {"ticketId": ticket}))["success"]
    assert _nomes(await nos1.esperar_evento("ana", EVENTO)) == ["Ana Souza"]

    # Bruno, on the other instance, enters: both instances' sockets hear the new set, once.
    m1, m2 = len(nos1.registros), len(nos2.registros)
    await nos2.pedir("bruno", "ticket:entrar", {"ticketId": ticket})
    assert _nomes(await nos1.esperar_evento("ana", EVENTO, desde=m1)) == ["Ana Souza", "Bruno Lima"]
    assert _nomes(await nos2.esperar_evento("bruno", EVENTO, desde=m2)) == ["Ana Souza", "Bruno Lima"]

    # Ana opens it on the second instance too: the cluster-wide set is the same, the room hears nothing.
    m1, m2 = len(nos1.registros), len(nos2.registros)
    await nos2.pedir("ana-b", "ticket:entrar", {"ticketId": ticket})
    assert _nomes(await nos2.esperar_evento("ana-b", EVENTO, desde=m2)) == ["Ana Souza", "Bruno Lima"]
    # She closes it on instance 1: still open on instance 2, so still nothing.
    await nos1.pedir("ana", "ticket:sair", {"ticketId": ticket})
    # Her last socket (instance 2) goes: Bruno hears it once.
    await nos2.desconectar("ana-b")
    assert _nomes(await nos2.esperar_evento("bruno", EVENTO, desde=m2)) == ["Bruno Lima"]
    bruno_ouviu = [r for r in nos2.registros[m2:] if r.get("event") == EVENTO and r["client"] == "bruno"]
    assert len(bruno_ouviu) == 1
    assert [r for r in nos1.registros[m1:] if r.get("event") == EVENTO] == []

    # An instance that died without a goodbye: its entry stays in Redis until the next change of the
    # ticket, which no longer counts it (not alive at the last heartbeat, and the entry is old).
    redis = build_redis_client(backplane)
    try:
        chave = f"{PREFIXO_VISUALIZANDO}{etiqueta(resumo.empresa_id)}:{ticket}"
        await redis.hset(chave, f"instancia-morta|{resumo.id_de('gestor@demo.local')}", "Gestor Fantasma")
        await nos1.conectar("ana", _token(app1, resumo, "ana@demo.local", "Ana Souza"))
        m2 = len(nos2.registros)
        await nos1.pedir("ana", "ticket:entrar", {"ticketId": ticket})
        assert _nomes(await nos2.esperar_evento("bruno", EVENTO, desde=m2)) == ["Ana Souza", "Bruno Lima"]
        campos = await redis.hkeys(chave)
        assert not any(c.startswith(b"instancia-morta|") for c in campos)
        # A graceful stop takes the instance's viewers out of Redis.
        await nos2.desconectar("bruno")
        await app1.gateway.fechar()
        assert await redis.hlen(chave) == 0
    finally:
        await redis.aclose()


def _vistos(nos: ClientesAtendimento, cliente: str, desde: int) -> list[list[str]]:
    registros = nos.registros[desde:]
    return [_nomes(r["args"][0]) for r in registros if r.get("event") == EVENTO and r["client"] == cliente]


async def test_redis_que_volta_vazio_recebe_os_visualizando_de_novo(
    demo_sqlite: Any, redis_proprio: RedisProprio, tmp_path: Path
) -> None:
    """One Redis restarted without persistence (as after a crash): the hash of who has the ticket open
    is gone. Each instance writes its viewers again once the link is back, the room hears the set
    that this makes whole, and the next change is told against the right set."""
    resumo = demo_sqlite.resumo
    ticket = resumo.tickets[0]
    chave = f"{PREFIXO_VISUALIZANDO}{etiqueta(resumo.empresa_id)}:{ticket}"
    async with _duas(demo_sqlite, redis_proprio.url, tmp_path) as ((app1, nos1), (app2, nos2)):
        await nos1.conectar("ana", _token(app1, resumo, "ana@demo.local", "Ana Souza"))
        await nos2.conectar("bruno", _token(app2, resumo, "bruno@demo.local", "Bruno Lima"))
        m1 = len(nos1.registros)
        assert (await nos1.pedir("ana", "ticket:entrar", {"ticketId": ticket}))["success"]
        assert (await nos2.pedir("bruno", "ticket:entrar", {"ticketId": ticket}))["success"]
        await ate(lambda: _vistos(nos1, "ana", m1)[-1:] == [["Ana Souza", "Bruno Lima"]])
        link1, link2 = app1.cluster.link, app2.cluster.link  # type: ignore[union-attr]

        redis_proprio.matar()
        await ate(lambda: not link1.disponivel and not link2.disponivel, prazo=10)
        m1 = len(nos1.registros)
        redis_proprio.iniciar()  # empty
        await ate(lambda: link1.disponivel and link2.disponivel, prazo=15)
        redis = build_redis_client(redis_proprio.url)
        try:
            for _ in range(100):
                if await redis.hlen(chave) == 2:
                    break
                await asyncio.sleep(0.05)
            assert await redis.hlen(chave) == 2
        finally:
            await redis.aclose()
        # Whoever wrote second made the set whole again; that is the last set the room heard.
        await ate(lambda: _vistos(nos1, "ana", m1)[-1:] == [["Ana Souza", "Bruno Lima"]])

        m1 = len(nos1.registros)
        await nos2.desconectar("bruno")
        await ate(lambda: _vistos(nos1, "ana", m1) == [["Ana Souza"]])


async def test_uma_saida_que_o_redis_recusou_e_refeita(
    demo_sqlite: Any, redis_proprio: RedisProprio, tmp_path: Path
) -> None:
    """A leave whose script fails while the link stays up (here Redis refuses ``EVALSHA`` for a
    moment, as a pooled connection that was the dead one would fail once): the field would stay
    as long as the instance lives. It is redone with backoff, and the room ends with the right set."""
    resumo = demo_sqlite.resumo
    ticket = resumo.tickets[0]
    chave = f"{PREFIXO_VISUALIZANDO}{etiqueta(resumo.empresa_id)}:{ticket}"
    async with _duas(demo_sqlite, redis_proprio.url, tmp_path) as ((app1, nos1), (app2, nos2)):
        await nos1.conectar("ana", _token(app1, resumo, "ana@demo.local", "Ana Souza"))
        await nos2.conectar("bruno", _token(app2, resumo, "bruno@demo.local", "Bruno Lima"))
        m1 = len(nos1.registros)
        assert (await nos1.pedir("ana", "ticket:entrar", {"ticketId": ticket}))["success"]
        assert (await nos2.pedir("bruno", "ticket:entrar", {"ticketId": ticket}))["success"]
        await ate(lambda: _vistos(nos1, "ana", m1)[-1:] == [["Ana Souza", "Bruno Lima"]])

        redis = build_redis_client(redis_proprio.url)
        try:
            await redis.execute_command("ACL", "SETUSER", "default", "-evalsha")
            m1 = len(nos1.registros)
            assert (await nos2.pedir("bruno", "ticket:sair", {"ticketId": ticket}))["success"]
            assert await redis.hlen(chave) == 2  # the leave did not reach Redis
            await redis.execute_command("ACL", "SETUSER", "default", "+evalsha")
            for _ in range(100):
                if await redis.hlen(chave) == 1:
                    break
                await asyncio.sleep(0.05)
            assert await redis.hlen(chave) == 1
        finally:
            await redis.execute_command("ACL", "SETUSER", "default", "+evalsha")
            await redis.aclose()
        await ate(lambda: _vistos(nos1, "ana", m1)[-1:] == [["Ana Souza"]])
