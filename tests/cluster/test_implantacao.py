"""A rolling deploy nobody notices: two real ``serve`` processes (PostgreSQL, their own Redis) behind a
round-robin TCP balancer that routes to ready instances, agents on real socket.io-client (default
reconnection, WebSocket only: no sticky sessions), a message every 100 ms, and each instance restarted
in turn with a real SIGTERM.

What must hold: each process drains and ends by itself (exit 0); every agent gets every message
exactly once, in order; every reconnect is ``recovered === true``; nobody is announced offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from apoio_balanceador import Balanceador
from apoio_instancias import Instancia, ambiente, subir_todas
from apoio_node import ClientesRecuperacao, garantir_node_modules

from .apoio_cluster import RedisProprio, ate

pytestmark = [pytest.mark.node, pytest.mark.postgres, pytest.mark.redis]

AGENTES = ["gestor@demo.local", "ana@demo.local", "bruno@demo.local", "admin@demo.local"]
SOCKETS_POR_AGENTE = 2  # two tabs each: presence is per user, and each tab recovers on its own
DRENAGEM_S = 2.0


@contextlib.asynccontextmanager
async def _implantacao(demo_pg: Any, tmp_path: Path) -> AsyncIterator[tuple[list[Instancia], Balanceador]]:
    redis = RedisProprio()
    redis.iniciar()
    env = ambiente(
        tmp_path,
        demo_pg.banco.app_url,
        redis.url,
        ATENDIMENTO_DRAIN_SECONDS=str(DRENAGEM_S),
        ATENDIMENTO_PRESENCE_GRACE_SECONDS="3",
    )
    instancias = [Instancia(nome, env, tmp_path) for nome in ("a", "b")]
    balanceador = Balanceador([i.url for i in instancias])
    try:
        await subir_todas(instancias)
        await balanceador.iniciar()
        await balanceador.todos_prontos()
        yield instancias, balanceador
    finally:
        await balanceador.fechar()
        for instancia in instancias:
            instancia.parar()
        redis.encerrar()


async def _login(http: httpx.AsyncClient, url: str, email: str) -> tuple[str, str]:
    resposta = await http.post(f"{url}/auth/login", json={"email": email, "senha": "demo-senha"})
    assert resposta.status_code == 200, resposta.text
    dados = resposta.json()["data"]
    return dados["access_token"], dados["user"]["id"]


async def _enviar(http: httpx.AsyncClient, url: str, token: str, ticket_id: str, texto: str) -> None:
    """One message through the balancer; retried with the same Idempotency-Key when the connection
    dies with its instance, so that it is written once."""
    chave = uuid.uuid4().hex
    for _ in range(50):
        try:
            resposta = await http.post(
                f"{url}/atendimento/tickets/{ticket_id}/mensagens",
                json={"conteudo": texto},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": chave},
            )
        except httpx.HTTPError:
            await asyncio.sleep(0.05)
            continue
        if resposta.status_code < 300:
            return
        assert resposta.status_code >= 500, resposta.text
        await asyncio.sleep(0.05)
    raise AssertionError(f"message {texto} not sent")


def _textos(nos: ClientesRecuperacao, cliente: str) -> list[str]:
    return [r["args"][0]["conteudo"] for r in nos.eventos(cliente, "mensagem:nova")]


@pytest.mark.timeout(300)  # four process starts on a loaded machine take most of it
async def test_rolling_restart_loses_nothing_and_announces_nobody_offline(
    demo_pg: Any, tmp_path: Path
) -> None:
    garantir_node_modules()
    async with _implantacao(demo_pg, tmp_path) as (instancias, balanceador):
        async with httpx.AsyncClient(timeout=5) as http:
            sessoes = {email: await _login(http, instancias[0].url, email) for email in AGENTES}
            token_gestor = sessoes["gestor@demo.local"][0]
            tickets = await http.get(
                f"{instancias[0].url}/atendimento/tickets",
                headers={"Authorization": f"Bearer {token_gestor}"},
            )
            ticket_id = tickets.json()["data"][0]["id"]

            nos = await ClientesRecuperacao(balanceador.url).iniciar()
            try:
                clientes = [
                    f"{email.split('@')[0]}-{n}" for email in AGENTES for n in range(SOCKETS_POR_AGENTE)
                ]
                for email, n in itertools.product(AGENTES, range(SOCKETS_POR_AGENTE)):
                    cliente = f"{email.split('@')[0]}-{n}"
                    opcoes = {"auth": {"token": sessoes[email][0]}, "transports": ["websocket"]}
                    registro = await nos.conectar(cliente, opcoes=opcoes)
                    assert registro["type"] == "connect", registro
                    assert (await nos.pedir(cliente, "ticket:entrar", {"ticketId": ticket_id}))["success"]
                inicio = len(nos.registros)
                # Both instances hold agents (round robin), so both restarts move sockets.
                assert all(balanceador.ligacoes_por_destino), balanceador.ligacoes_por_destino

                enviados: list[str] = []
                parar = asyncio.Event()

                async def escrever() -> None:
                    for n in itertools.count():
                        if parar.is_set():
                            return
                        texto = f"m{n}"
                        await _enviar(http, balanceador.url, token_gestor, ticket_id, texto)
                        enviados.append(texto)
                        await asyncio.sleep(0.1)

                escritor = asyncio.create_task(escrever())
                await ate(lambda: len(enviados) >= 5, prazo=10)
                for instancia in instancias:
                    await instancia.reiniciar()
                    await balanceador.todos_prontos()
                    await asyncio.sleep(1.0)
                parar.set()
                await escritor
                assert len(enviados) > 30

                for cliente in clientes:
                    await ate(lambda c=cliente: len(_textos(nos, c)) >= len(enviados), prazo=20)
                await asyncio.sleep(0.5)
                for cliente in clientes:
                    assert _textos(nos, cliente) == enviados, cliente  # each once, in order

                reconexoes = [r for r in nos.registros[inicio:] if r.get("type") == "connect"]
                assert len(reconexoes) >= len(clientes)  # every socket moved at least once
                assert all(r["recovered"] is True for r in reconexoes), reconexoes
                assert nos.eventos(None, "atendente:offline") == []
                for instancia in instancias:
                    assert instancia.saidas == [0], instancia.saidas  # drained, then ended by itself
                    assert instancia.duracoes_drenagem[0] >= DRENAGEM_S * 0.5
            finally:
                await nos.fechar()
