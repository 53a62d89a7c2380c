"""/metrics after real traffic: per-tenant series (label ``empresa``) for sockets, events delivered,
client events by outcome and REST writes; the cardinality bound; the per-instance gauges."""

from __future__ import annotations

import re

import httpx
from apoio_node import ClientesAtendimento

from .conftest import App, Subir


def _serie(texto: str, nome: str, **rotulos: str) -> float:
    """The value of the one sample of ``nome`` whose labels include ``rotulos`` (0 when absent)."""
    total = 0.0
    for linha in texto.splitlines():
        m = re.match(rf"{nome}\{{(.*)\}} (\S+)$", linha)
        if m is None:
            continue
        pares = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if all(pares.get(k) == v for k, v in rotulos.items()):
            total += float(m.group(2))
    return total


async def _raspar(app: App) -> str:
    async with httpx.AsyncClient(base_url=app.url) as http:
        resposta = await http.get("/metrics", headers=app.metricas())
    assert resposta.status_code == 200
    return resposta.text


async def test_tenant_series_after_real_traffic(clientes: tuple[App, ClientesAtendimento]) -> None:
    app, node = clientes
    demo, outra = app.resumo.empresa_id, app.resumo.outra_empresa_id
    for email in ("ana@demo.local", "bruno@demo.local", "gestor@demo.local", "carla@outra.local"):
        assert (await node.conectar(email, app.token(email)))["type"] == "connect"
    ticket = app.resumo.tickets[0]
    assert (await node.pedir("ana@demo.local", "ticket:entrar", {"ticketId": ticket}))["success"]
    assert (await node.pedir("bruno@demo.local", "ticket:entrar", {"ticketId": ticket}))["success"]
    # Refused: another tenant's ticket, an unknown event; rate-limited: the 11th typing in a minute.
    outra_ticket = {"ticketId": app.resumo.outra_ticket_id}
    assert (await node.pedir("carla@outra.local", "ticket:entrar", outra_ticket))["success"]
    assert not (await node.pedir("ana@demo.local", "ticket:entrar", outra_ticket))["success"]
    assert (await node.pedir("ana@demo.local", "evento:inventado", {}))["code"] == "EVENTO_DESCONHECIDO"
    codigos = [
        (await node.pedir("ana@demo.local", "mensagem:digitando", {"ticketId": ticket})).get("code")
        for _ in range(11)
    ]
    assert codigos.count("LIMITE_EXCEDIDO") == 1
    async with httpx.AsyncClient(base_url=app.url) as http:
        for texto in ("um", "dois"):
            resposta = await http.post(
                f"/atendimento/tickets/{ticket}/mensagens",
                json={"conteudo": texto},
                headers={"Authorization": f"Bearer {app.token('ana@demo.local')}"},
            )
            assert resposta.status_code == 201
    await node.esperar(lambda r: r.get("event") == "mensagem:nova" and r["client"] == "bruno@demo.local")

    texto = await _raspar(app)
    assert _serie(texto, "atendimento_empresa_sockets", empresa=demo) == 3
    assert _serie(texto, "atendimento_empresa_sockets", empresa=outra) == 1
    # mensagem:nova went to ticket:{id}: ana and bruno, twice; typing went to bruno 10 times.
    assert (
        _serie(texto, "atendimento_empresa_eventos_entregues_total", empresa=demo, evento="mensagem:nova")
        == 4
    )
    assert (
        _serie(
            texto, "atendimento_empresa_eventos_entregues_total", empresa=demo, evento="mensagem:digitando"
        )
        == 10
    )
    # The other tenant's only delivery is carla's own "who else is here" when she entered her ticket.
    assert _serie(texto, "atendimento_empresa_eventos_entregues_total", empresa=outra) == 1
    assert (
        _serie(
            texto, "atendimento_empresa_eventos_entregues_total", empresa=outra, evento="ticket:visualizando"
        )
        == 1
    )
    assert _serie(texto, "atendimento_empresa_eventos_cliente_total", empresa=demo, resultado="ok") == 12
    assert _serie(texto, "atendimento_empresa_eventos_cliente_total", empresa=demo, resultado="recusado") == 2
    assert _serie(texto, "atendimento_empresa_eventos_cliente_total", empresa=demo, resultado="limitado") == 1
    assert _serie(texto, "atendimento_empresa_eventos_cliente_total", empresa=outra, resultado="ok") == 1
    assert _serie(texto, "atendimento_empresa_escritas_rest_total", empresa=demo) == 2
    assert re.search(r"^atendimento_event_loop_lag_seconds \d", texto, re.M)
    # Recovery is on by default: the broadcasts above are held for sockets that may come back.
    assert float(re.search(r"^atendimento_recuperacao_buffer (\S+)", texto, re.M).group(1)) > 0
    assert "evento:inventado" not in texto  # a client's event name never becomes a label

    await node.desconectar("carla@outra.local")
    texto = await _raspar(app)
    assert _serie(texto, "atendimento_empresa_sockets", empresa=outra) == 0


async def test_cardinality_is_bounded(subir_app: Subir) -> None:
    app = await subir_app(metrics_max_empresas=1)
    node = await ClientesAtendimento(app.url).iniciar()
    try:
        for email in ("ana@demo.local", "bruno@demo.local", "carla@outra.local"):
            assert (await node.conectar(email, app.token(email)))["type"] == "connect"
        ticket = {"ticketId": app.resumo.tickets[0]}
        for _ in range(3):
            assert (await node.pedir("ana@demo.local", "ticket:entrar", ticket))["success"]
        texto = await _raspar(app)
    finally:
        await node.fechar()
    empresas = set(re.findall(r'empresa="([^"]*)"', texto))
    assert empresas == {app.resumo.empresa_id, "outras"}
    assert _serie(texto, "atendimento_empresa_sockets", empresa="outras") == 1
