"""Automatic routing's statements, a mixin of ``RepositorioSql`` (same connection, same tenant).

The database decides, so that two instances routing at once never give one ticket to two atendentes
nor an atendente more than its capacity:

- the candidates (atendentes of the fila, active, status ``online``, among those present) are read
  ``FOR UPDATE``, in id order (no deadlock between two routings): a second routing that may give one
  of them a ticket waits here until the first commits, and then counts that ticket;
- the waiting ticket is taken ``FOR UPDATE SKIP LOCKED``: a ticket another transaction holds is left
  to it (it is being routed, or written, and the next trigger sees it again).

On SQLite the one writer (``BEGIN IMMEDIATE``) serialises routings; ``FOR UPDATE`` renders nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from atendimento.domain.entidades import (
    ROLE_ATENDENTE,
    STATUS_TICKET_ABERTOS,
    TicketDados,
)
from atendimento.storage.tabelas import T_FILAS, T_TICKETS, T_USUARIO_FILAS, T_USUARIOS, ticket_dados

# Highest first.
_PRIORIDADE = case(
    {"urgente": 0, "alta": 1, "media": 2, "baixa": 3},
    value=T_TICKETS.c.prioridade,
    else_=4,
)
_ABERTOS = sorted(STATUS_TICKET_ABERTOS)
# Users per statement (bound parameters: SQLite's limit is 32,766 since 3.32, 999 before).
_POR_CONSULTA = 500
_FILAS_AUTOMATICAS = (
    select(T_FILAS.c.id, T_FILAS.c.nome)
    .distinct()
    .join(
        T_USUARIO_FILAS,
        (T_USUARIO_FILAS.c.empresa_id == T_FILAS.c.empresa_id) & (T_USUARIO_FILAS.c.fila_id == T_FILAS.c.id),
    )
    .where(
        T_FILAS.c.empresa_id == bindparam("empresa_id"),
        T_USUARIO_FILAS.c.usuario_id.in_(bindparam("usuarios", expanding=True)),
        T_FILAS.c.distribuicao == "automatica",
    )
)


class RoteamentoSql:
    conn: AsyncConnection
    empresa_id: str
    _postgres: bool

    async def filas_automaticas_de(self, usuario_ids: Collection[str]) -> list[str]:
        """The automatic filas any of ``usuario_ids`` serves, each once, by name: one statement per
        ``_POR_CONSULTA`` users (arrivals are routed together, see ``Roteador.rotear_atendentes``)."""
        ids = sorted(set(usuario_ids))
        filas: dict[tuple[str, str], None] = {}
        for inicio in range(0, len(ids), _POR_CONSULTA):
            for linha in await self.conn.execute(
                _FILAS_AUTOMATICAS,
                {"empresa_id": self.empresa_id, "usuarios": ids[inicio : inicio + _POR_CONSULTA]},
            ):
                filas[(linha.nome, linha.id)] = None
        return [fila_id for _, fila_id in sorted(filas)]

    async def escolher_atendente(self, fila_id: str, presentes: set[str]) -> str | None:
        """Two statements: the candidates, locked; their open tickets. Fewest open first, then the
        one idle longest (no assignment yet counts as longest), then by id."""
        if not presentes:
            return None
        candidatos = list(
            await self.conn.execute(
                select(T_USUARIOS.c.id, T_USUARIOS.c.capacidade, T_USUARIOS.c.ultima_atribuicao_em)
                .join(
                    T_USUARIO_FILAS,
                    (T_USUARIO_FILAS.c.empresa_id == T_USUARIOS.c.empresa_id)
                    & (T_USUARIO_FILAS.c.usuario_id == T_USUARIOS.c.id),
                )
                .where(
                    T_USUARIOS.c.empresa_id == self.empresa_id,
                    T_USUARIO_FILAS.c.fila_id == fila_id,
                    T_USUARIOS.c.role == ROLE_ATENDENTE,
                    T_USUARIOS.c.ativo.is_(True),
                    T_USUARIOS.c.status_atendimento == "online",
                    T_USUARIOS.c.capacidade > 0,
                    T_USUARIOS.c.id.in_(sorted(presentes)),
                )
                .order_by(T_USUARIOS.c.id)
                .with_for_update(of=T_USUARIOS)
            )
        )
        if not candidatos:
            return None
        abertos = {
            linha[0]: int(linha[1])
            for linha in await self.conn.execute(
                select(T_TICKETS.c.atendente_id, func.count())
                .where(
                    T_TICKETS.c.empresa_id == self.empresa_id,
                    T_TICKETS.c.atendente_id.in_([c.id for c in candidatos]),
                    T_TICKETS.c.status.in_(_ABERTOS),
                )
                .group_by(T_TICKETS.c.atendente_id)
            )
        }
        livres = [c for c in candidatos if abertos.get(c.id, 0) < c.capacidade]
        if not livres:
            return None
        nunca = datetime.min
        escolhido = min(
            livres,
            key=lambda c: (
                abertos.get(c.id, 0),
                nunca if c.ultima_atribuicao_em is None else c.ultima_atribuicao_em.replace(tzinfo=None),
                c.id,
            ),
        )
        return str(escolhido.id)

    async def proximo_aguardando(self, fila_id: str) -> TicketDados | None:
        """The fila's next waiting ticket (open, no atendente): highest priority, then oldest."""
        linha = (
            await self.conn.execute(
                select(T_TICKETS)
                .where(
                    T_TICKETS.c.empresa_id == self.empresa_id,
                    T_TICKETS.c.fila_id == fila_id,
                    T_TICKETS.c.atendente_id.is_(None),
                    T_TICKETS.c.status == "aberto",
                )
                .order_by(_PRIORIDADE, T_TICKETS.c.criado_em, T_TICKETS.c.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        ).first()
        return None if linha is None else ticket_dados(linha)

    async def registrar_atribuicao(self, usuario_id: str, momento: datetime) -> None:
        await self.conn.execute(
            update(T_USUARIOS)
            .where(T_USUARIOS.c.empresa_id == self.empresa_id, T_USUARIOS.c.id == usuario_id)
            .values(ultima_atribuicao_em=momento)
        )
