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
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import asyncpg
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from atendimento.domain.entidades import ROLES_INTERNOS, MensagemDados, TicketDados
from atendimento.domain.portas import MensagemGravada
from atendimento.domain.regras import STATUS_FECHADO
from atendimento.storage.retomada import utc
from atendimento.storage.sqlite_conexao import ConexaoSqlite
from atendimento.storage.tabelas import ticket_dados, usuario_dados

if TYPE_CHECKING:
    from atendimento.storage.banco import Storage

# Unqualified, like every statement of the application role: its search_path finds the schema.
_GRAVAR = "SELECT * FROM gravar_mensagem($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
_ROLES_INTERNOS = sorted(ROLES_INTERNOS)
# What a dead connection raises in asyncpg: closed before the call, lost during it, or the server's
# own notice that it ended the backend (57P01 and friends) read as the call's answer.
_CONEXAO_PERDIDA = (
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    OSError,
)
log = logging.getLogger(__name__)


async def gravar_postgres(engine: AsyncEngine, empresa_id: str, mensagem: MensagemDados) -> MensagemGravada:
    """One round trip. A pooled connection the server has dropped (restart, proxy, an administrator
    ending the backend) fails the call before or after the server saw it; either way the call is
    made once more on a new connection, which is safe because the function answers a repeated
    message id without writing again (migration 0004)."""
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
    for tentativa in (1, 2):
        async with engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            try:
                if driver is None or driver.is_closed():
                    raise asyncpg.InterfaceError("pooled connection is closed")
                linha = await driver.fetchrow(_GRAVAR, *argumentos)
            except _CONEXAO_PERDIDA as exc:
                await conn.invalidate()
                if tentativa > 1:
                    raise
                log.warning("database connection lost (%s); retrying on a new connection", type(exc).__name__)
                continue
            return _gravada(linha)
    raise AssertionError("unreachable")


class _Colunas:
    """A row's columns as attributes, under a prefix: so the one mapping of rows to the domain's
    dataclasses (``tabelas.ticket_dados``, ``usuario_dados``) serves the function's flat answer
    (``t_…``, ``r_…``) and SQLite's plain tuples too."""

    __slots__ = ("_linha", "_prefixo")

    def __init__(self, linha: Mapping[str, Any], prefixo: str = "") -> None:
        self._linha = linha
        self._prefixo = prefixo

    def __getattr__(self, nome: str) -> Any:
        return self._linha[self._prefixo + nome]


def _linha(colunas: Mapping[str, Any], prefixo: str = "") -> Row[Any]:
    # Duck-typed: the mapping functions read columns as attributes, which is all a Row is to them.
    return cast("Row[Any]", _Colunas(colunas, prefixo))


def _gravada(linha: Mapping[str, Any]) -> MensagemGravada:
    ticket = None if linha["t_id"] is None else ticket_dados(_linha(linha, "t_"))
    remetente = None if linha["r_id"] is None else usuario_dados(_linha(linha, "r_"))
    return MensagemGravada(ticket=ticket, remetente=remetente, gravada=bool(linha["gravada"]))


# SQLite: the same steps as plain statements on the ``sqlite3`` connection (statements run on the
# loop, ``sqlite_conexao``), inside ``Storage``'s write transaction. The counter's UPDATE refuses a
# final ticket itself, as the function does, so nothing has to be rolled back. Instants are written
# and read with SQLAlchemy's own SQLite DATETIME processors, so the stored text is the same as the
# repository's.
_NOMES_TICKET = (
    "id numero empresa_id cliente_id canal_id fila_id atendente_id status prioridade assunto descricao "
    "criado_em atualizado_em total_mensagens"
).split()
_NOMES_USUARIO = "id empresa_id nome email role status_atendimento".split()
_COLUNAS_TICKET = ", ".join(_NOMES_TICKET)
_REMETENTE_SQLITE = f"SELECT {', '.join(_NOMES_USUARIO)} FROM usuarios WHERE empresa_id = ? AND id = ?"
_TICKET_SQLITE = f"SELECT {_COLUNAS_TICKET} FROM tickets WHERE empresa_id = ? AND id = ?"
_CONTAR_SQLITE = (
    "UPDATE tickets SET total_mensagens = total_mensagens + 1 "
    f"WHERE empresa_id = ? AND id = ? AND status <> ? RETURNING {_COLUNAS_TICKET}"
)
_INSERIR_SQLITE = (
    "INSERT INTO mensagens (id, empresa_id, ticket_id, ordem, remetente_id, atendente_id, tipo, "
    "conteudo, metadados, criado_em) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_DIALETO_SQLITE = sqlite.dialect()
_PARA_TEXTO = sqlite.DATETIME().bind_processor(_DIALETO_SQLITE)  # type: ignore[no-untyped-call]
_PARA_INSTANTE = sqlite.DATETIME().result_processor(_DIALETO_SQLITE, None)  # type: ignore[no-untyped-call]
assert _PARA_TEXTO is not None and _PARA_INSTANTE is not None  # SQLite's DATETIME has both


def _texto(instante: datetime) -> str:
    assert _PARA_TEXTO is not None
    return str(_PARA_TEXTO(instante))


def _instante(texto: str) -> datetime:
    assert _PARA_INSTANTE is not None
    valor = _PARA_INSTANTE(texto)
    assert isinstance(valor, datetime)
    return utc(valor)


async def gravar_sqlite(storage: Storage, empresa_id: str, mensagem: MensagemDados) -> MensagemGravada:
    """The function's steps as statements, in one write transaction of ``storage``."""
    async with storage.transacao(empresa_id) as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        if not isinstance(driver, ConexaoSqlite):
            # Only a database file gets these connections (``Storage``); an in-memory one is a
            # different database on each pooled connection, so nothing could be served from it.
            raise TypeError("SQLite writes need a database file, not :memory:")
        sq = driver.sqlite3
        linha = sq.execute(_REMETENTE_SQLITE, (empresa_id, mensagem.remetente_id)).fetchone()
        remetente = (
            None if linha is None else usuario_dados(_linha(dict(zip(_NOMES_USUARIO, linha, strict=True))))
        )
        chave_ticket = (empresa_id, mensagem.ticket_id)
        contado = None
        if remetente is not None:
            contado = sq.execute(_CONTAR_SQLITE, (*chave_ticket, STATUS_FECHADO)).fetchone()
        if contado is None:
            return MensagemGravada(
                _ticket_sqlite(sq.execute(_TICKET_SQLITE, chave_ticket).fetchone()), remetente, False
            )
        assert remetente is not None
        sq.execute(
            _INSERIR_SQLITE,
            (
                mensagem.id,
                empresa_id,
                mensagem.ticket_id,
                contado[-1],
                mensagem.remetente_id,
                remetente.id if remetente.interno else None,
                mensagem.tipo,
                mensagem.conteudo,
                json.dumps(mensagem.metadados),  # what SQLAlchemy's JSON type stores (None → null)
                _texto(mensagem.criado_em),
            ),
        )
        return MensagemGravada(_ticket_sqlite(contado), remetente, True)


def _ticket_sqlite(linha: Any) -> TicketDados | None:
    if linha is None:
        return None
    colunas = dict(zip(_NOMES_TICKET, linha, strict=True))
    colunas["criado_em"] = _instante(colunas["criado_em"])
    colunas["atualizado_em"] = _instante(colunas["atualizado_em"])
    return ticket_dados(_linha(colunas))
