"""The repository's ticket history (``RepositorioSql`` inherits it): one row per change, written in
the change's transaction, read in pages by id (which sorts by creation)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from atendimento.domain.entidades import HistoricoDados
from atendimento.storage.modelos import TicketHistorico
from atendimento.storage.retomada import utc

T_HISTORICO = cast(Table, TicketHistorico.__table__)


class HistoricoSql:
    conn: AsyncConnection
    empresa_id: str

    async def inserir_historico(self, entrada: HistoricoDados) -> None:
        if entrada.empresa_id != self.empresa_id:
            raise ValueError("histórico de outra empresa")
        await self.conn.execute(
            insert(T_HISTORICO).values(
                id=entrada.id,
                empresa_id=self.empresa_id,
                ticket_id=entrada.ticket_id,
                ator_id=entrada.ator_id,
                tipo=entrada.tipo,
                mudancas=entrada.mudancas,
                criado_em=entrada.criado_em,
            )
        )

    async def listar_historico(
        self, ticket_id: str, *, apos: str | None = None, limite: int | None = None
    ) -> list[HistoricoDados]:
        consulta = select(T_HISTORICO).where(
            T_HISTORICO.c.empresa_id == self.empresa_id, T_HISTORICO.c.ticket_id == ticket_id
        )
        if apos is not None:
            consulta = consulta.where(T_HISTORICO.c.id > apos)
        consulta = consulta.order_by(T_HISTORICO.c.id)
        if limite is not None:
            consulta = consulta.limit(limite)
        return [
            HistoricoDados(
                id=m.id,
                empresa_id=m.empresa_id,
                ticket_id=m.ticket_id,
                ator_id=m.ator_id,
                tipo=m.tipo,
                mudancas=m.mudancas,
                criado_em=utc(m.criado_em),
            )
            for m in (await self.conn.execute(consulta)).all()
        ]
