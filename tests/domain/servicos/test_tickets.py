"""Tickets: found only in their tenant, listed, created, updated, assigned, moved through the statuses.

On real databases (SQLite and PostgreSQL, each test on both), demo data loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from atendimento.domain.erros import Conflito, DadosInvalidos, NaoEncontrado, TransicaoInvalida

if TYPE_CHECKING:
    from conftest import BancoDemo


async def test_ticket_existe_so_no_proprio_tenant(banco_demo: BancoDemo) -> None:
    s, r = banco_demo.servico(), banco_demo.resumo
    assert await s.ticket_existe(r.empresa_id, r.tickets[0])
    assert not await s.ticket_existe(r.empresa_id, r.outra_ticket_id)
    assert not await s.ticket_existe(r.empresa_id, "nao-existe")
    assert await s.ticket_existe(r.outra_empresa_id, r.outra_ticket_id)
    with pytest.raises(DadosInvalidos):
        await s.ticket_existe(r.empresa_id, "x" * 65)


async def test_listar_tickets_com_filtros(banco_demo: BancoDemo) -> None:
    s, r = banco_demo.servico(), banco_demo.resumo
    todos = await s.listar_tickets(r.empresa_id)
    assert [t.id for t in todos] == r.tickets
    assert [t.numero for t in todos] == ["1", "2", "3", "4"]
    assert all(t.empresa_id == r.empresa_id for t in todos)
    assert [t.id for t in await s.listar_tickets(r.empresa_id, status="aberto")] == [r.tickets[0]]
    ana = r.id_de("ana@demo.local")
    assert {t.id for t in await s.listar_tickets(r.empresa_id, atendente_id=ana)} == {
        r.tickets[1],
        r.tickets[3],
    }
    suporte = await s.listar_tickets(r.empresa_id, fila_id=r.filas["Suporte"])
    assert {t.id for t in suporte} == {r.tickets[0], r.tickets[2]}
    assert await s.listar_tickets(r.empresa_id, fila_id=r.outra_fila_id) == []
    with pytest.raises(DadosInvalidos):
        await s.listar_tickets(r.empresa_id, status="novo")


async def test_obter_ticket_de_outro_tenant_e_nao_encontrado(banco_demo: BancoDemo) -> None:
    s, r = banco_demo.servico(), banco_demo.resumo
    ticket = await s.obter_ticket(r.empresa_id, r.tickets[1])
    assert ticket.numero == "2" and ticket.status == "em_atendimento"
    assert ticket.criado_em.tzinfo is not None
    erros = []
    for ticket_id in (r.outra_ticket_id, "nao-existe"):
        with pytest.raises(NaoEncontrado) as erro:
            await s.obter_ticket(r.empresa_id, ticket_id)
        erros.append((erro.value.code, erro.value.message))
    assert erros[0] == erros[1] == ("TICKET_NAO_ENCONTRADO", "Ticket não encontrado")


async def test_criar_ticket_publica_novo_e_atribuido(banco_demo: BancoDemo) -> None:
    s, r, pub = banco_demo.servico(), banco_demo.resumo, banco_demo.publicador
    ticket = await s.criar_ticket(
        r.empresa_id,
        cliente_id=r.clientes["Pedro Santos"],
        canal_id=r.canais["webchat"],
        fila_id=r.filas["Suporte"],
        assunto="Novo",
    )
    assert ticket.numero == "5" and ticket.status == "aberto" and ticket.prioridade == "media"
    assert ticket.criado_em == ticket.atualizado_em
    assert pub.nomes() == ["ticket_novo"] and pub.eventos[0].args == (ticket,)
    assert await s.obter_ticket(r.empresa_id, ticket.id) == ticket

    pub.limpar()
    bruno = r.id_de("bruno@demo.local")
    atribuido = await s.criar_ticket(
        r.empresa_id,
        cliente_id=r.clientes["Pedro Santos"],
        canal_id=r.canais["webchat"],
        fila_id=r.filas["Suporte"],
        prioridade="urgente",
        atendente_id=bruno,
    )
    assert atribuido.numero == "6" and atribuido.atendente_id == bruno
    assert pub.nomes() == ["ticket_novo", "ticket_atribuido"]
    # Each tenant counts on its own.
    outro = await s.criar_ticket(
        r.outra_empresa_id, cliente_id=r.outra_cliente_id, canal_id=r.outra_canal_id, fila_id=r.outra_fila_id
    )
    assert outro.numero == "2"


async def test_criar_ticket_recusa_referencias_de_outro_tenant(banco_demo: BancoDemo) -> None:
    s, r, pub = banco_demo.servico(), banco_demo.resumo, banco_demo.publicador
    base = {
        "cliente_id": r.clientes["Maria Oliveira"],
        "canal_id": r.canais["whatsapp"],
        "fila_id": r.filas["Suporte"],
    }
    casos = [
        ({"cliente_id": r.outra_cliente_id}, NaoEncontrado, "CLIENTE_NAO_ENCONTRADO"),
        ({"canal_id": r.outra_canal_id}, NaoEncontrado, "CANAL_NAO_ENCONTRADO"),
        ({"fila_id": r.outra_fila_id}, NaoEncontrado, "FILA_NAO_ENCONTRADA"),
        ({"atendente_id": r.id_de("carla@outra.local")}, NaoEncontrado, "USUARIO_NAO_ENCONTRADO"),
        ({"atendente_id": r.id_de("gestor@demo.local")}, Conflito, "USUARIO_NAO_E_ATENDENTE"),
        ({"prioridade": "altissima"}, DadosInvalidos, "PAYLOAD_INVALIDO"),
        ({"assunto": "x" * 201}, DadosInvalidos, "PAYLOAD_INVALIDO"),
    ]
    for mudanca, tipo, code in casos:
        with pytest.raises(tipo) as erro:
            await s.criar_ticket(r.empresa_id, **{**base, **mudanca})  # type: ignore[arg-type]
        assert erro.value.code == code
    assert pub.eventos == []
    assert len(await s.listar_tickets(r.empresa_id)) == 4


async def test_atualizar_ticket_so_os_campos_dados(banco_demo: BancoDemo) -> None:
    s, r, pub = banco_demo.servico(), banco_demo.resumo, banco_demo.publicador
    antes = await s.obter_ticket(r.empresa_id, r.tickets[0])
    depois = await s.atualizar_ticket(
        r.empresa_id, antes.id, prioridade="baixa", fila_id=r.filas["Financeiro"]
    )
    assert (depois.prioridade, depois.fila_id) == ("baixa", r.filas["Financeiro"])
    assert (depois.assunto, depois.descricao, depois.status) == (antes.assunto, antes.descricao, antes.status)
    assert depois.atualizado_em >= antes.atualizado_em and depois.criado_em == antes.criado_em
    assert pub.nomes() == ["ticket_atualizado"] and pub.eventos[0].args == (depois,)
    assert await s.obter_ticket(r.empresa_id, antes.id) == depois

    pub.limpar()
    limpo = await s.atualizar_ticket(r.empresa_id, antes.id, assunto=None)
    assert limpo.assunto is None and pub.nomes() == ["ticket_atualizado"]

    pub.limpar()
    igual = await s.atualizar_ticket(r.empresa_id, antes.id, prioridade="baixa")
    assert igual == limpo and pub.eventos == []  # nothing changed: no write, no event

    with pytest.raises(NaoEncontrado):
        await s.atualizar_ticket(r.empresa_id, antes.id, fila_id=r.outra_fila_id)
    with pytest.raises(NaoEncontrado):
        await s.atualizar_ticket(r.outra_empresa_id, antes.id, prioridade="alta")
    await s.mudar_status(r.empresa_id, antes.id, "fechado")
    with pytest.raises(TransicaoInvalida) as erro:
        await s.atualizar_ticket(r.empresa_id, antes.id, prioridade="alta")
    assert erro.value.code == "TICKET_FECHADO"


async def test_atribuir_ticket(banco_demo: BancoDemo) -> None:
    s, r, pub = banco_demo.servico(), banco_demo.resumo, banco_demo.publicador
    bruno = r.id_de("bruno@demo.local")
    ticket = await s.atribuir_ticket(r.empresa_id, r.tickets[0], bruno)
    assert ticket.atendente_id == bruno
    assert pub.nomes() == ["ticket_atribuido", "ticket_atualizado"]
    assert all(e.args == (ticket,) for e in pub.eventos)
    pub.limpar()
    assert await s.atribuir_ticket(r.empresa_id, r.tickets[0], bruno) == ticket
    assert pub.eventos == []
    with pytest.raises(Conflito):
        await s.atribuir_ticket(r.empresa_id, r.tickets[0], r.id_de("vendas@demo.local"))
    with pytest.raises(NaoEncontrado):
        await s.atribuir_ticket(r.empresa_id, r.tickets[0], r.id_de("carla@outra.local"))
    with pytest.raises(NaoEncontrado):
        await s.atribuir_ticket(r.outra_empresa_id, r.tickets[0], r.id_de("carla@outra.local"))


async def test_mudar_status(banco_demo: BancoDemo) -> None:
    s, r, pub = banco_demo.servico(), banco_demo.resumo, banco_demo.publicador
    ticket = await s.mudar_status(r.empresa_id, r.tickets[0], "em_atendimento")
    assert ticket.status == "em_atendimento"
    assert pub.nomes() == ["ticket_status", "ticket_atualizado"]
    pub.limpar()
    with pytest.raises(TransicaoInvalida) as erro:
        await s.mudar_status(r.empresa_id, r.tickets[0], "em_atendimento")
    assert erro.value.http_status == 409
    await s.mudar_status(r.empresa_id, r.tickets[0], "fechado")
    pub.limpar()
    with pytest.raises(TransicaoInvalida):
        await s.mudar_status(r.empresa_id, r.tickets[0], "aberto")
    with pytest.raises(DadosInvalidos):
        await s.mudar_status(r.empresa_id, r.tickets[1], "reaberto")
    assert pub.eventos == []
    assert (await s.obter_ticket(r.empresa_id, r.tickets[0])).status == "fechado"
