"""The hot write, an agent's message on a ticket, in one step (``Storage.gravar_mensagem``).

Why this bypasses SQLAlchemy on PostgreSQL (issue 13): a ``POST …/mensagens`` through the repository
cost seven round trips (BEGIN, the tenant, the sender, the counter with the ticket's lock, the INSERT,
COMMIT), each through SQLAlchemy's execute pipeline (compiled-cache lookup, execution context, result
proxy, the greenlet hop): ``bench/mensagens_breakdown.py`` measured the service at twice the CPU of
the same statements on the bare driver, and py-spy put asyncpg's sends and reads at 44 % of the
server's samples under ``compare-e2e.sh``. Here the whole write is one call of migration 0004's
``gravar_mensagem`` function, sent with asyncpg on the pooled connection itself, in the implicit
transaction of that one statement: no BEGIN, no COMMIT, no SQLAlchemy per statement. The pool,
its connections' set-up (the JSON codecs) and their return stay SQLAlchemy's.

SQLite has no stored functions; there the same steps run as statements in one write transaction of
``Storage`` (statements on the loop, the writer serialised, ``sqlite_conexao``), with the same answer.

Either way the domain's rules come from the domain: the final status and the internal roles are
passed in (``regras.STATUS_FECHADO``, ``entidades.ROLES_INTERNOS``), and the domain picks the refusal
from what comes back. Row-level security applies as to any statement of the application role.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from atendimento.domain.entidades import ROLES_INTERNOS, MensagemDados, TicketDados, UsuarioDados
from atendimento.domain.portas import MensagemGravada
from atendimento.domain.regras import STATUS_FECHADO
from atendimento.storage.retomada import utc

if TYPE_CHECKING:
    from atendimento.storage.banco import Storage

# Unqualified, like every statement of the application role: its search_path finds the schema.
_GRAVAR = "SELECT * FROM gravar_mensagem($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
_ROLES_INTERNOS = sorted(ROLES_INTERNOS)


async def gravar_postgres(engine: AsyncEngine, empresa_id: str, mensagem: MensagemDados) -> MensagemGravada:
    """One round trip. A pooled connection the server has dropped (restart, proxy) is found closed
    before anything is sent, replaced, and the call made once more; a connection lost *during* the
    call is not retried (the write may have committed), and its error goes up."""
    argumentos = (
        empresa_id,
        mensagem.ticket_id,
        mensagem.remetente_id,
        mensagem.id,
        mensagem.tipo,
        mensagem.conteudo,
        json.dumps(mensagem.metadados),  # what SQLAlchemy's JSON type stores (None → JSON null)
        mensagem.criado_em,
        _ROLES_INTERNOS,
        STATUS_FECHADO,
    )
    for _tentativa in (1, 2):
        async with engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            if driver is None or driver.is_closed():
                await conn.invalidate()
                continue
            linha = await driver.fetchrow(_GRAVAR, *argumentos)
            return _gravada(linha)
    raise ConnectionError("no open connection to the database after one replacement")


def _gravada(linha: Mapping[str, Any]) -> MensagemGravada:
    ticket = None
    if linha["t_id"] is not None:
        ticket = TicketDados(
            id=linha["t_id"],
            numero=str(linha["t_numero"]),
            empresa_id=linha["t_empresa_id"],
            cliente_id=linha["t_cliente_id"],
            canal_id=linha["t_canal_id"],
            fila_id=linha["t_fila_id"],
            atendente_id=linha["t_atendente_id"],
            status=linha["t_status"],
            prioridade=linha["t_prioridade"],
            assunto=linha["t_assunto"],
            descricao=linha["t_descricao"],
            criado_em=utc(linha["t_criado_em"]),
            atualizado_em=utc(linha["t_atualizado_em"]),
        )
    remetente = None
    if linha["r_id"] is not None:
        remetente = UsuarioDados(
            id=linha["r_id"],
            empresa_id=linha["r_empresa_id"],
            nome=linha["r_nome"],
            email=linha["r_email"],
            role=linha["r_role"],
            status_atendimento=linha["r_status_atendimento"],
        )
    return MensagemGravada(ticket=ticket, remetente=remetente, gravada=bool(linha["gravada"]))


class _Desfazer(Exception):
    """Rolls back the SQLite transaction of a message refused after its insert (a final ticket)."""

    def __init__(self, gravacao: MensagemGravada) -> None:
        self.gravacao = gravacao


async def gravar_sqlite(storage: Storage, empresa_id: str, mensagem: MensagemDados) -> MensagemGravada:
    """The function's steps as statements, in one write transaction: the repository's own counter
    + insert (the write lock is the database's), rolled back when the ticket turns out final."""
    try:
        async with storage.unidade(empresa_id) as repo:
            remetente = await repo.obter_usuario(mensagem.remetente_id)
            if remetente is None:
                return MensagemGravada(await repo.obter_ticket(mensagem.ticket_id), None, False)
            atendente_id = remetente.id if remetente.interno else None
            ticket = await repo.inserir_mensagem_no_ticket(replace(mensagem, atendente_id=atendente_id))
            if ticket is None:
                return MensagemGravada(None, remetente, False)
            if ticket.status == STATUS_FECHADO:
                raise _Desfazer(MensagemGravada(ticket, remetente, False))
            return MensagemGravada(ticket, remetente, True)
    except _Desfazer as desfeita:
        return desfeita.gravacao
