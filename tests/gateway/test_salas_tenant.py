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
    # Another tenant's token (as a CRM would issue it) whose sub is Ana's id in Empresa Demo. The
    # database holds no such user in that tenant (a user id is one user in the whole product), so
    # it never connects; the rooms would not be shared either way.
    sosia = produto.token_de(ana_id, r.outra_empresa_id, "atendente", "Sósia")
    assert (await clientes.conectar("ana", produto.token("ana@demo.local")))["type"] == "connect"
    recusa = await clientes.conectar("sosia", sosia)
    assert recusa["type"] == "connect_error" and recusa["data"] == {"code": "USUARIO_INVALIDO"}
    assert salas.usuario(r.empresa_id, ana_id) != salas.usuario(r.outra_empresa_id, ana_id)
    assert len(produto.sids_em(salas.usuario(r.empresa_id, ana_id))) == 1
    assert produto.sids_em(salas.usuario(r.outra_empresa_id, ana_id)) == set()

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
    assert (await clientes.esperar_evento("ana", "notificacao", desde=marca))["tipo"] == "aviso"
    assert (await clientes.esperar_evento("ana", "ticket:atribuido", desde=marca))["ticketId"] == ticket["id"]

    # Presence is per tenant: Ana is online in Demo only, and gone once she leaves.
    presenca = produto.gateway.presenca
    assert ana_id in await presenca.online(r.empresa_id)
    assert ana_id not in await presenca.online(r.outra_empresa_id)
    await clientes.desconectar("ana")
    async with asyncio.timeout(GRACE_TESTES + 5):
        while ana_id in await presenca.online(r.empresa_id):  # noqa: ASYNC110 - polls the registry
            await asyncio.sleep(0.05)
