"""Concurrent writers on real databases: ticket numbers, message order, one ticket per new customer."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from conftest import BancoDemo


async def test_numero_sem_duplicatas_com_20_criacoes_concorrentes(banco_demo: BancoDemo) -> None:
    s, r = banco_demo.servico(), banco_demo.resumo

    async def criar(empresa_id: str, cliente: str, canal: str, fila: str) -> str:
        ticket = await s.criar_ticket(empresa_id, cliente_id=cliente, canal_id=canal, fila_id=fila)
        return ticket.numero

    demo = [
        criar(r.empresa_id, r.clientes["Pedro Santos"], r.canais["webchat"], r.filas["Suporte"])
        for _ in range(20)
    ]
    outra = [
        criar(r.outra_empresa_id, r.outra_cliente_id, r.outra_canal_id, r.outra_fila_id) for _ in range(5)
    ]
    numeros = await asyncio.gather(*demo, *outra)
    assert sorted(int(n) for n in numeros[:20]) == list(range(5, 25))  # demo had 1..4
    assert sorted(int(n) for n in numeros[20:]) == list(range(2, 7))  # the other tenant had 1
    assert len(banco_demo.publicador.nomes()) == 25


async def test_mensagens_concorrentes_no_mesmo_ticket_ficam_em_ordem_unica(banco_demo: BancoDemo) -> None:
    s, r = banco_demo.servico(), banco_demo.resumo
    ana = r.id_de("ana@demo.local")
    await asyncio.gather(
        *[
            s.enviar_mensagem(
                r.empresa_id, r.tickets[1], remetente_id=ana, role="atendente", conteudo=f"m{i}"
            )
            for i in range(15)
        ]
    )
    mensagens = await s.listar_mensagens(r.empresa_id, r.tickets[1])
    assert len(mensagens) == 17 and len({m.id for m in mensagens}) == 17
    async with banco_demo.storage.transacao(r.empresa_id) as conn:
        ordens = (
            (
                await conn.execute(
                    text("SELECT ordem FROM mensagens WHERE ticket_id = :t ORDER BY ordem"),
                    {"t": r.tickets[1]},
                )
            )
            .scalars()
            .all()
        )
    assert ordens == list(range(1, 18))


async def test_cliente_novo_com_mensagens_simultaneas_abre_um_so_ticket(banco_demo: BancoDemo) -> None:
    s, r = banco_demo.servico(), banco_demo.resumo
    resultados = await asyncio.gather(
        *[
            s.receber_mensagem_canal(
                r.empresa_id, r.canais["whatsapp"], contato="+5511999990000", conteudo=f"oi {i}"
            )
            for i in range(10)
        ]
    )
    assert sum(criado for _, _, criado in resultados) == 1
    assert len({ticket.id for ticket, _, _ in resultados}) == 1
    assert len({ticket.cliente_id for ticket, _, _ in resultados}) == 1
    ticket_id = resultados[0][0].id
    assert len(await s.listar_mensagens(r.empresa_id, ticket_id)) == 10
    assert banco_demo.publicador.nomes().count("ticket_novo") == 1
