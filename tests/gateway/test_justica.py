"""Fairness (issue 10): one hostile client cannot stall another tenant, nor flood its own tenant.

A hostile agent of Empresa Demo (its own process, tests/gateway/cliente_hostil.py) writes 3,000
events at once, over WebSocket and over long-polling: ``atendente:status`` (a database write and a
broadcast to every agent of the tenant, each), ``ticket:entrar`` (a database read each) and an event
nobody handles. Meanwhile an innocent agent of Outra Empresa keeps using REST and an event. Asserted:
the flood gets coded refusals (``LIMITE_EXCEDIDO`` with ``retryAfterMs``) and its socket is
disconnected; at most the engine's per-socket bound of its events ran; the colleague of the hostile
agent got at most one ``atendente:status``; and every innocent request was answered within
``LIMITE_INOCENTE_S`` (before issue 10: 13 s at p95 for the REST call).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from apoio_node import ClientesAtendimento

from .apoio_gateway import Produto

pytestmark = pytest.mark.node  # the innocent's event goes through the real socket.io-client

HOSTIL = Path(__file__).with_name("cliente_hostil.py")
QUANTOS = 3000
# A bound, not a benchmark: generous for a shared, noisy 2-core machine (bench/flood_fairness.py
# measures the percentiles; under 100 ms at p95 is the aim there).
LIMITE_INOCENTE_S = 2.0


async def _inocente(produto: Produto, clientes: ClientesAtendimento, token: str, ticket: str) -> list[float]:
    """One REST call and one event with ack by the innocent tenant; their latencies in seconds."""
    inicio = time.perf_counter()
    resposta = await produto.http.get("/atendimento/tickets", headers={"Authorization": f"Bearer {token}"})
    rest = time.perf_counter() - inicio
    assert resposta.status_code == 200, resposta.text
    inicio = time.perf_counter()
    try:
        ack = await clientes.pedir(
            "carla", "ticket:entrar", {"ticketId": ticket}, prazo=LIMITE_INOCENTE_S + 3
        )
    except TimeoutError:
        carla = [reg for reg in clientes.registros if reg.get("client") == "carla"]
        raise AssertionError(f"innocent event not answered; carla's last records: {carla[-5:]}") from None
    evento = time.perf_counter() - inicio
    assert ack["success"] is True, ack
    return [rest, evento]


async def _inundar(
    produto: Produto, clientes: ClientesAtendimento, evento: str, payload: Any, transporte: str
) -> tuple[dict[str, Any], list[float]]:
    """Run the hostile client; while it floods, the innocent keeps asking. Its summary and the
    innocent's latencies."""
    r = produto.resumo
    token_carla = produto.token("carla@outra.local")
    processo = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HOSTIL),
        produto.url,
        produto.token("ana@demo.local"),
        "--evento",
        evento,
        "--payload",
        json.dumps(payload),
        "--quantos",
        str(QUANTOS),
        "--transporte",
        transporte,
        "--prazo",
        "20",
        stdout=asyncio.subprocess.PIPE,
    )
    assert processo.stdout is not None
    try:
        assert json.loads(await asyncio.wait_for(processo.stdout.readline(), 30)) == {"conectado": True}
        resultado = asyncio.create_task(processo.stdout.readline())
        latencias: list[float] = []
        # At least three rounds, and as long as the flood lasts.
        while len(latencias) < 6 or not resultado.done():
            latencias += await _inocente(produto, clientes, token_carla, r.outra_ticket_id)
            if len(latencias) > 200:
                break
        resumo = json.loads(await asyncio.wait_for(resultado, 30))
    finally:
        if processo.returncode is None:
            processo.kill()
        await processo.wait()
    return resumo, latencias


@pytest.mark.parametrize("transporte", ["websocket", "polling"])
@pytest.mark.parametrize(
    ("evento", "payload"),
    [
        ("atendente:status", {"status": "online"}),
        ("ticket:entrar", None),  # the hostile agent's own ticket, filled in below
        ("evento:que:nao:existe", {"x": 1}),
    ],
)
async def test_inundacao_recusada_e_outro_tenant_atendido(
    produto: Produto, clientes: ClientesAtendimento, evento: str, payload: Any, transporte: str
) -> None:
    if payload is None:
        payload = {"ticketId": produto.resumo.tickets[0]}
    assert (await clientes.conectar("carla", produto.token("carla@outra.local")))["type"] == "connect"
    # A colleague of the hostile agent: every atendente:status broadcast of the tenant reaches her.
    assert (await clientes.conectar("bruno", produto.token("bruno@demo.local")))["type"] == "connect"
    antes = await _inocente(
        produto, clientes, produto.token("carla@outra.local"), produto.resumo.outra_ticket_id
    )

    resumo, latencias = await _inundar(produto, clientes, evento, payload, transporte)

    acks = resumo["acks"]
    assert acks.get("LIMITE_EXCEDIDO", 0) > 0, resumo
    assert resumo["desconectado"] or resumo["fechado"], resumo
    # Handled (not refused) events: at most the per-socket bound per burst, never the flood.
    tratados = sum(n for codigo, n in acks.items() if codigo != "LIMITE_EXCEDIDO")
    assert tratados <= 3 * produto.settings.event_queue_per_socket, resumo
    assert sum(acks.values()) < QUANTOS
    pior = max(latencias)
    assert pior < LIMITE_INOCENTE_S, (pior, sorted(latencias)[-5:], antes)

    if evento == "atendente:status":
        # Offline → online once; the same status again writes nothing and tells nobody.
        await asyncio.sleep(0.2)
        assert len(clientes.payloads("bruno", "atendente:status")) <= 1
    # The hostile agent is gone; the product still serves her tenant.
    ack = await clientes.pedir("bruno", "ticket:entrar", {"ticketId": produto.resumo.tickets[0]})
    assert ack["success"] is True


async def test_limite_por_evento_responde_retry_after_sem_mudar_nada(
    subir: Any, node_instalado: None
) -> None:
    """A refused event changes nothing: past the per-user budget of atendente:status the status stays,
    and the same status again neither writes nor broadcasts."""
    produto: Produto = await subir(event_rate_limits="atendente:status=2/minute")
    nos = await ClientesAtendimento(produto.url).iniciar()
    try:
        assert (await nos.conectar("ana", produto.token("ana@demo.local")))["type"] == "connect"
        assert (await nos.conectar("bruno", produto.token("bruno@demo.local")))["type"] == "connect"
        primeira = await nos.pedir("ana", "atendente:status", {"status": "ocupado"})
        mesma = await nos.pedir("ana", "atendente:status", {"status": "ocupado"})
        recusada = await nos.pedir("ana", "atendente:status", {"status": "ausente"})
        # Any other event has its own (default) budget, untouched.
        sair = await nos.pedir("ana", "ticket:sair", {"ticketId": "t1"})
        atendentes = await produto.rest("GET", "/atendimento/atendentes", "gestor@demo.local")
        await asyncio.sleep(0.2)
        status = [p["status"] for p in nos.payloads("bruno", "atendente:status")]
    finally:
        await nos.fechar()
    assert primeira == {"success": True, "status": "ocupado"}
    assert mesma == {"success": True, "status": "ocupado"}
    assert recusada["code"] == "LIMITE_EXCEDIDO" and 0 < recusada["retryAfterMs"] <= 60_000
    assert sair["success"] is True
    ana = next(a for a in atendentes if a["id"] == produto.id("ana@demo.local"))
    assert ana["statusAtendimento"] == "ocupado"
    assert status == ["ocupado"]  # one broadcast: the repeat and the refused one told nobody
