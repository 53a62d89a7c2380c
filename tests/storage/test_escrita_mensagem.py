"""``Storage.gravar_mensagem``: the one-step message write (migration 0004's function on PostgreSQL,
statements in one transaction on SQLite) answers and writes the same on both databases."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import update

from atendimento.domain.entidades import MensagemDados, agora, novo_id
from atendimento.storage.modelos import Ticket

if TYPE_CHECKING:
    from conftest import BancoDemo


def _mensagem(ticket_id: str, remetente_id: str, conteudo: str = "oi", **extra: object) -> MensagemDados:
    return MensagemDados(
        id=novo_id(),
        ticket_id=ticket_id,
        ticket_numero="",
        remetente_id=remetente_id,
        atendente_id="ignorado",  # the port decides it from the sender's role
        tipo="texto",
        conteudo=conteudo,
        metadados=extra.get("metadados"),  # type: ignore[arg-type]
        criado_em=agora(),
    )


async def _mensagens(banco: BancoDemo, empresa_id: str, ticket_id: str) -> list[MensagemDados]:
    async with banco.storage.unidade(empresa_id, escrita=False) as repo:
        return await repo.listar_mensagens(ticket_id)


async def test_grava_com_o_proximo_numero_e_o_atendente(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    ticket_id, ana = r.tickets[0], r.id_de("ana@demo.local")
    antes = await _mensagens(banco_demo, r.empresa_id, ticket_id)
    mensagem = _mensagem(ticket_id, ana, metadados={"a": [1, "dois"]})
    gravacao = await banco_demo.storage.gravar_mensagem(r.empresa_id, mensagem)
    assert gravacao.gravada
    assert gravacao.ticket is not None and gravacao.ticket.id == ticket_id and gravacao.ticket.numero == "1"
    assert gravacao.remetente is not None and gravacao.remetente.id == ana
    depois = await _mensagens(banco_demo, r.empresa_id, ticket_id)
    assert len(depois) == len(antes) + 1
    gravada = depois[-1]
    assert (gravada.id, gravada.conteudo, gravada.atendente_id) == (mensagem.id, "oi", ana)
    assert gravada.metadados == {"a": [1, "dois"]}
    assert gravada.criado_em == mensagem.criado_em


async def test_remetente_nao_interno_nao_vira_atendente(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    vendas = r.id_de("vendas@demo.local")  # role vendedor: not one of ROLES_INTERNOS
    gravacao = await banco_demo.storage.gravar_mensagem(r.empresa_id, _mensagem(r.tickets[0], vendas))
    assert gravacao.gravada
    assert (await _mensagens(banco_demo, r.empresa_id, r.tickets[0]))[-1].atendente_id is None


async def test_sem_remetente_nada_e_gravado(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    antes = await _mensagens(banco_demo, r.empresa_id, r.tickets[0])
    gravacao = await banco_demo.storage.gravar_mensagem(r.empresa_id, _mensagem(r.tickets[0], "nao-existe"))
    assert not gravacao.gravada and gravacao.remetente is None
    assert gravacao.ticket is not None and gravacao.ticket.id == r.tickets[0]
    assert await _mensagens(banco_demo, r.empresa_id, r.tickets[0]) == antes


async def test_ticket_desconhecido_ou_de_outra_empresa(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    ana = r.id_de("ana@demo.local")
    da_outra = await _mensagens(banco_demo, r.outra_empresa_id, r.outra_ticket_id)
    for ticket_id in ("nao-existe", r.outra_ticket_id):
        gravacao = await banco_demo.storage.gravar_mensagem(r.empresa_id, _mensagem(ticket_id, ana))
        assert not gravacao.gravada and gravacao.ticket is None
        assert gravacao.remetente is not None
    # Nor the other way round: a user of one tenant through the other tenant's id.
    carla = r.id_de("carla@outra.local")
    gravacao = await banco_demo.storage.gravar_mensagem(r.empresa_id, _mensagem(r.tickets[0], carla))
    assert not gravacao.gravada and gravacao.remetente is None
    assert await _mensagens(banco_demo, r.outra_empresa_id, r.outra_ticket_id) == da_outra


async def test_ticket_fechado_nao_recebe_mensagem(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    ticket_id = r.tickets[0]
    async with banco_demo.storage.transacao(r.empresa_id) as conn:
        await conn.execute(
            update(Ticket)
            .where(Ticket.empresa_id == r.empresa_id, Ticket.id == ticket_id)
            .values(status="fechado")
        )
    antes = await _mensagens(banco_demo, r.empresa_id, ticket_id)
    gravacao = await banco_demo.storage.gravar_mensagem(
        r.empresa_id, _mensagem(ticket_id, r.id_de("ana@demo.local"))
    )
    assert not gravacao.gravada
    assert gravacao.ticket is not None and gravacao.ticket.status == "fechado"
    assert await _mensagens(banco_demo, r.empresa_id, ticket_id) == antes


async def test_escritas_simultaneas_numeram_sem_buracos(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    ticket_id, ana = r.tickets[1], r.id_de("ana@demo.local")
    antes = len(await _mensagens(banco_demo, r.empresa_id, ticket_id))
    gravacoes = await asyncio.gather(
        *(
            banco_demo.storage.gravar_mensagem(r.empresa_id, _mensagem(ticket_id, ana, f"m{i}"))
            for i in range(15)
        )
    )
    assert all(g.gravada for g in gravacoes)
    mensagens = await _mensagens(banco_demo, r.empresa_id, ticket_id)
    assert len(mensagens) == antes + 15
    assert {m.conteudo for m in mensagens[antes:]} == {f"m{i}" for i in range(15)}


async def test_postgres_a_mesma_chamada_de_novo_nao_grava_outra_vez(demo_pg: BancoDemo) -> None:
    """What makes the retry after a lost connection safe: the same message id answers as written."""
    r = demo_pg.resumo
    ticket_id = r.tickets[0]
    antes = len(await _mensagens(demo_pg, r.empresa_id, ticket_id))
    mensagem = _mensagem(ticket_id, r.id_de("ana@demo.local"))
    primeira = await demo_pg.storage.gravar_mensagem(r.empresa_id, mensagem)
    segunda = await demo_pg.storage.gravar_mensagem(r.empresa_id, mensagem)
    assert primeira.gravada and segunda.gravada
    assert segunda.ticket == primeira.ticket and segunda.remetente == primeira.remetente
    assert len(await _mensagens(demo_pg, r.empresa_id, ticket_id)) == antes + 1
