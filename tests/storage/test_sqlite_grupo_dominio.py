"""The domain's writes under group commit (SQLite, demo data): message order per ticket, refused writes
in the middle of a batch, and idempotency keys, which rely on each write seeing the ones before it."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import TYPE_CHECKING

from sqlalchemy import make_url

from atendimento.domain.erros import ErroDominio
from atendimento.domain.idempotencia import Idempotencia

if TYPE_CHECKING:
    from conftest import BancoDemo


def _ordens(demo: BancoDemo, ticket_id: str) -> tuple[list[int], int]:
    """(ordem of every committed message, the ticket's total_mensagens), read by another connection."""
    caminho = make_url(demo.banco.app_url).database
    assert caminho
    with sqlite3.connect(caminho) as outra:
        ordens = [
            o
            for (o,) in outra.execute(
                "SELECT ordem FROM mensagens WHERE ticket_id = ? ORDER BY ordem", (ticket_id,)
            )
        ]
        (total,) = outra.execute("SELECT total_mensagens FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
    return ordens, total


async def test_ordem_das_mensagens_coerente_com_escritas_concorrentes_e_recusas(
    demo_sqlite: BancoDemo,
) -> None:
    s, r = demo_sqlite.servico(), demo_sqlite.resumo
    ana = r.id_de("ana@demo.local")
    fechado = r.tickets[2]
    await s.mudar_status(r.empresa_id, fechado, "fechado")
    demo_sqlite.publicador.limpar()
    antes = {t: _ordens(demo_sqlite, t)[1] for t in r.tickets[:3]}

    async def enviar(i: int) -> str:
        # One in five goes to the closed ticket: refused by the counter's UPDATE, so nothing is written.
        ticket = r.tickets[i % 2] if i % 5 else fechado
        m = await s.enviar_mensagem(
            r.empresa_id, ticket, remetente_id=ana, role="atendente", conteudo=f"m{i}"
        )
        return m.ticket_id

    resultados = await asyncio.gather(*(enviar(i) for i in range(80)), return_exceptions=True)
    recusas = [x for x in resultados if isinstance(x, BaseException)]
    assert len(recusas) == 16 and all(isinstance(x, ErroDominio) for x in recusas)
    for t in r.tickets[:2]:
        ordens, total = _ordens(demo_sqlite, t)
        enviados = sum(1 for x in resultados if x == t)
        assert enviados == 32
        assert ordens == list(range(1, antes[t] + enviados + 1)) and total == len(ordens)
    assert _ordens(demo_sqlite, fechado) == (list(range(1, antes[fechado] + 1)), antes[fechado])
    # every accepted message was published once, after its write was durable
    assert demo_sqlite.publicador.nomes().count("mensagem_nova") == 64


async def test_mesma_chave_de_idempotencia_no_mesmo_lote_responde_a_primeira(demo_sqlite: BancoDemo) -> None:
    s, r = demo_sqlite.servico(), demo_sqlite.resumo
    ana = r.id_de("ana@demo.local")
    antes = _ordens(demo_sqlite, r.tickets[1])[1]
    mensagens = await asyncio.gather(
        *(
            s.enviar_mensagem(
                r.empresa_id,
                r.tickets[1],
                remetente_id=ana,
                role="atendente",
                conteudo="uma",
                idempotente=Idempotencia(ana, "k"),
            )
            for _ in range(10)
        )
    )
    assert len({m.id for m in mensagens}) == 1
    assert _ordens(demo_sqlite, r.tickets[1])[1] == antes + 1
    assert demo_sqlite.publicador.nomes().count("mensagem_nova") == 1
