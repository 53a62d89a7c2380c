"""Two tenants whose users have the same id (tokens from a CRM): nothing meant for one reaches the other.

Before issue 10 the user room was ``user:{sub}`` for every tenant, so the other tenant's socket with
the same ``sub`` got ``ticket:atribuido`` and ``notificacao`` meant for someone else.
"""

from __future__ import annotations

import asyncio

import pytest
from apoio_node import ClientesAtendimento

from atendimento.gateway import salas

from .apoio_gateway import GRACE_TESTES, Produto

pytestmark = pytest.mark.node  # the real socket.io-client, run by node


async def test_mesmo_sub_em_dois_tenants_nao_compartilha_sala_de_usuario(
    produto: Produto, clientes: ClientesAtendimento
) -> None:
    r = produto.resumo
    ana_id = produto.id("ana@demo.local")
    # Another tenant's token (as a CRM would issue it) whose sub is Ana's id in Empresa Demo.
    sosia = produto.token_de(ana_id, r.outra_empresa_id, "atendente", "Sósia")
    chefe_outra = produto.token_de("chefe-outra", r.outra_empresa_id, "admin", "Chefe")
    assert (await clientes.conectar("ana", produto.token("ana@demo.local")))["type"] == "connect"
    assert (await clientes.conectar("sosia", sosia))["type"] == "connect"
    assert salas.usuario(r.empresa_id, ana_id) != salas.usuario(r.outra_empresa_id, ana_id)
    assert len(produto.sids_em(salas.usuario(r.empresa_id, ana_id))) == 1

    marca = len(clientes.registros)
    await produto.rest(
        "POST",
        "/notificacoes",
        "admin@demo.local",
        {"usuarioId": ana_id, "tipo": "aviso", "mensagem": "só Ana"},
    )
    ticket = await produto.rest(
        "POST",
        "/atendimento/tickets",
        "admin@demo.local",
        {
            "clienteId": r.clientes["Maria Oliveira"],
            "canalId": r.canais["whatsapp"],
            "filaId": r.filas["Suporte"],
            "atendenteId": ana_id,
        },
    )
    # Ana gets both; then a barrier in the other tenant: when the sósia has it, anything else would
    # have arrived before it.
    assert (await clientes.esperar_evento("ana", "notificacao", desde=marca))["tipo"] == "aviso"
    assert (await clientes.esperar_evento("ana", "ticket:atribuido", desde=marca))["ticketId"] == ticket["id"]
    await produto.rest("POST", "/notificacoes", chefe_outra, {"tipo": "fim"})
    assert (await clientes.esperar_evento("sosia", "notificacao", desde=marca))["tipo"] == "fim"
    recebidos = [(e["event"], e["args"][0]) for e in clientes.eventos("sosia")[-10:]]
    assert all(evento != "ticket:atribuido" for evento, _ in recebidos), recebidos
    assert [p["tipo"] for p in clientes.payloads("sosia", "notificacao")] == ["fim"]

    # Presence is per tenant too: Ana leaving Demo is not undone by the sósia still online elsewhere.
    presenca = produto.gateway.presenca
    assert ana_id in await presenca.online(r.empresa_id)
    assert ana_id in await presenca.online(r.outra_empresa_id)
    await clientes.desconectar("ana")
    async with asyncio.timeout(GRACE_TESTES + 5):
        while ana_id in await presenca.online(r.empresa_id):  # noqa: ASYNC110 - polls the registry
            await asyncio.sleep(0.05)
    assert ana_id in await presenca.online(r.outra_empresa_id)
