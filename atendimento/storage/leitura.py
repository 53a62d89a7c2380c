"""Who the customer is and what a user has read: the ``Repositorio`` port's ticket details and read
state, a mixin of ``RepositorioSql`` (same connection and tenant, RLS again on PostgreSQL).

A page of tickets costs two statements whatever its size: one for the clientes and canais (a join
on the page's ids) and one for the reader's unread counts (its ``leituras`` rows joined to the
messages after them). Unread: messages after the reader's last read position written by someone
else (what one writes oneself is read).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from atendimento.domain.entidades import TicketDados, TicketDetalhe, agora
from atendimento.storage.tabelas import (
    T_CANAIS,
    T_CLIENTES,
    T_LEITURAS,
    T_MENSAGENS,
    canal_dados,
    cliente_dados,
)


class LeituraSql:
    conn: AsyncConnection
    empresa_id: str
    _postgres: bool

    async def detalhar_tickets(
        self, tickets: list[TicketDados], leitor_id: str | None
    ) -> list[TicketDetalhe]:
        if not tickets:
            return []
        clientes_ids = sorted({t.cliente_id for t in tickets})
        canais_ids = sorted({t.canal_id for t in tickets})
        clientes = {
            m.id: cliente_dados(m)
            for m in await self.conn.execute(
                select(T_CLIENTES).where(
                    T_CLIENTES.c.empresa_id == self.empresa_id, T_CLIENTES.c.id.in_(clientes_ids)
                )
            )
        }
        canais = {
            m.id: canal_dados(m)
            for m in await self.conn.execute(
                select(T_CANAIS).where(
                    T_CANAIS.c.empresa_id == self.empresa_id, T_CANAIS.c.id.in_(canais_ids)
                )
            )
        }
        contagem: dict[str, int] = {}
        if leitor_id is not None:
            contagem = await self._contar_nao_lidas(leitor_id, [t.id for t in tickets])
        return [
            TicketDetalhe(
                ticket=t,
                cliente=clientes.get(t.cliente_id),
                canal=canais.get(t.canal_id),
                nao_lidas=None if leitor_id is None else contagem.get(t.id, 0),
            )
            for t in tickets
        ]

    async def _contar_nao_lidas(self, leitor_id: str, ticket_ids: list[str]) -> dict[str, int]:
        m, leitura = T_MENSAGENS, T_LEITURAS
        consulta = (
            select(m.c.ticket_id, func.count())
            .select_from(
                m.outerjoin(
                    leitura,
                    and_(
                        leitura.c.empresa_id == m.c.empresa_id,
                        leitura.c.ticket_id == m.c.ticket_id,
                        leitura.c.usuario_id == leitor_id,
                    ),
                )
            )
            .where(
                m.c.empresa_id == self.empresa_id,
                m.c.ticket_id.in_(ticket_ids),
                m.c.ordem > func.coalesce(leitura.c.ordem, 0),
                m.c.remetente_id != leitor_id,
            )
            .group_by(m.c.ticket_id)
        )
        return {linha[0]: int(linha[1]) for linha in await self.conn.execute(consulta)}

    async def nao_lidas(self, leitor_id: str, ticket_id: str) -> int:
        return (await self._contar_nao_lidas(leitor_id, [ticket_id])).get(ticket_id, 0)

    async def mensagem_na_ordem(self, ticket_id: str, ordem: int) -> str:
        consulta = select(T_MENSAGENS.c.id).where(
            T_MENSAGENS.c.empresa_id == self.empresa_id,
            T_MENSAGENS.c.ticket_id == ticket_id,
            T_MENSAGENS.c.ordem == ordem,
        )
        return str((await self.conn.execute(consulta)).scalar_one())

    async def marcar_lida(self, leitor_id: str, ticket_id: str, ordem: int) -> int:
        dialeto: Any = postgresql if self._postgres else sqlite
        inserir = dialeto.insert(T_LEITURAS).values(
            empresa_id=self.empresa_id,
            usuario_id=leitor_id,
            ticket_id=ticket_id,
            ordem=ordem,
            atualizado_em=agora(),
        )
        # Reads only move forward: a late or repeated mark from another device changes nothing.
        maior = func.greatest if self._postgres else func.max
        upsert = inserir.on_conflict_do_update(
            index_elements=["empresa_id", "usuario_id", "ticket_id"],
            set_={
                "ordem": maior(T_LEITURAS.c.ordem, inserir.excluded.ordem),
                "atualizado_em": inserir.excluded.atualizado_em,
            },
        ).returning(T_LEITURAS.c.ordem)
        return int((await self.conn.execute(upsert)).scalar_one())
