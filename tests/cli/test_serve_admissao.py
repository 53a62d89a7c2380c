"""Admission control on a real ``serve`` (PostgreSQL): a storm of socket.io-clients with their default
options against a handshake budget low enough to trigger. Past the budget the Engine.IO handshake
answers 503, so every client retries by its own backoff and all end up connected (no CONNECT_ERROR
from the server, which would stop a client for good), while an agent connected before the storm
keeps getting its events within a second (95 % of them; see the assertion for why not all here)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
from apoio_instancias import Instancia, ambiente
from apoio_node import ClientesRecuperacao, garantir_node_modules

pytestmark = [pytest.mark.node, pytest.mark.postgres]

CLIENTES = 200
POR_SEGUNDO = 20
EMAILS = ["gestor@demo.local", "ana@demo.local", "bruno@demo.local", "admin@demo.local"]


async def _login(http: httpx.AsyncClient, url: str, email: str) -> str:
    resposta = await http.post(f"{url}/auth/login", json={"email": email, "senha": "demo-senha"})
    assert resposta.status_code == 200, resposta.text
    token: str = resposta.json()["data"]["access_token"]
    return token


@pytest.mark.timeout(300)
async def test_a_storm_past_the_handshake_budget_all_connect_and_agents_keep_their_pace(
    demo_pg: Any, tmp_path: Path
) -> None:
    garantir_node_modules()
    env = ambiente(tmp_path, demo_pg.banco.app_url, None, ATENDIMENTO_HANDSHAKES_PER_SECOND=str(POR_SEGUNDO))
    instancia = Instancia("unica", env, tmp_path)
    instancia.subir()
    observador = socketio.AsyncClient(reconnection=False)
    nos: ClientesRecuperacao | None = None
    try:
        await instancia.pronta()
        async with httpx.AsyncClient(timeout=10) as http:
            tokens = [await _login(http, instancia.url, email) for email in EMAILS]
            cabecalho = {"Authorization": f"Bearer {tokens[0]}"}
            tickets = await http.get(f"{instancia.url}/atendimento/tickets", headers=cabecalho)
            ticket_id = tickets.json()["data"][0]["id"]

            chegadas: dict[str, float] = {}

            async def mensagem(dados: dict[str, Any], *_: Any) -> None:
                chegadas[dados["conteudo"]] = time.monotonic()

            observador.on("mensagem:nova", mensagem, namespace="/atendimento")
            await observador.connect(
                instancia.url,
                namespaces=["/atendimento"],
                auth={"token": tokens[1]},
                transports=["websocket"],
                wait_timeout=10,
            )
            entrou = await observador.call("ticket:entrar", {"ticketId": ticket_id}, namespace="/atendimento")
            assert entrou["success"]

            nos = await ClientesRecuperacao(instancia.url).iniciar()
            for n in range(CLIENTES):  # default options: polling first, reconnection on
                opcoes = {"reconnection": True, "auth": {"token": tokens[n % len(tokens)]}}
                nos.send(
                    {
                        "op": "connect",
                        "client": f"c{n}",
                        "url": f"{instancia.url}/atendimento",
                        "options": opcoes,
                    }
                )

            enviadas: dict[str, float] = {}

            def conectados() -> int:
                assert nos is not None
                return len({r["client"] for r in nos.records if r.get("type") == "connect"})

            limite = time.monotonic() + 120
            n = 0
            while conectados() < CLIENTES:
                assert time.monotonic() < limite, f"{conectados()} of {CLIENTES} connected"
                texto = f"s{n}"
                n += 1
                enviadas[texto] = time.monotonic()
                resposta = await http.post(
                    f"{instancia.url}/atendimento/tickets/{ticket_id}/mensagens",
                    json={"conteudo": texto},
                    headers=cabecalho,
                )
                assert resposta.status_code == 201, resposta.text
                await asyncio.sleep(0.1)

            for _ in range(100):  # up to 5 s for the last ones
                if set(enviadas) <= set(chegadas):
                    break
                await asyncio.sleep(0.05)
            assert set(enviadas) <= set(chegadas)
            atrasos = sorted(chegadas[t] - enviadas[t] for t in enviadas)
            # From before the POST to the event: the write and the delivery. Under 1 s for 95 % of them,
            # and no outlier past 2 s: this machine is shared with other sessions' tests, whose stalls
            # land on any sample (bench/presence_storm.sh measures the storm on a quiet machine).
            assert atrasos[int(len(atrasos) * 0.95)] < 1.0 and atrasos[-1] < 2.0, atrasos[-5:]

            recusas = [r for r in nos.records if r.get("type") == "connect_error"]
            assert recusas, "the budget never refused a handshake: the test did not test it"
            assert all(r["data"] is None for r in recusas), recusas[:3]  # 503s, never a CONNECT_ERROR
    finally:
        if nos is not None:
            await nos.fechar()
        await observador.disconnect()
        instancia.parar()
