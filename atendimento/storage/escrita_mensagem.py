"""Every message on a ticket is written here, by one operation: ``acrescentar`` (the domain's
``acrescentar_mensagem``), one implementation per dialect, whoever writes (an agent, with or without
an Idempotency-Key, or a customer through a channel).

PostgreSQL: one call of migration 0005's ``acrescentar_mensagem`` function, sent with asyncpg on the
connection itself. Why not through SQLAlchemy (issue 13): the write used to cost seven round trips
(BEGIN, the tenant, the sender, the counter with the ticket's lock, the INSERT, COMMIT) each through
SQLAlchemy's execute pipeline, twice the CPU of the same work on the bare driver. Outside a
transaction (``Storage.acrescentar_mensagem``, an agent's message) the call is its own implicit
transaction: one round trip, no BEGIN, no COMMIT; inside one (a customer's message, after its ticket
was found or opened) it is one more statement of that transaction. The pool, its connections'
set-up (the JSON codecs) and their return stay SQLAlchemy's.

SQLite: the function's steps as plain statements on the ``sqlite3`` connection (statements run on
the loop, ``sqlite_conexao``) inside the write transaction, which is the group commit's
(``sqlite_grupo``). The columns and their conversions come from the table definitions
(``tabelas.py``), through SQLAlchemy's own SQLite type processors, so what is stored is exactly what
the rest of storage reads and writes.

Either way the rules come from the domain: the final status and the internal roles are passed in
(``regras.STATUS_FECHADO``, ``entidades.ROLES_INTERNOS``), and the domain picks the refusal from
what comes back. Row-level security applies as to any statement of the application role.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

import asyncpg
from sqlalchemy import Table
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from atendimento.domain.entidades import ROLES_INTERNOS, MensagemDados, TicketDados
from atendimento.domain.portas import MensagemGravada, NovaMensagem
from atendimento.domain.regras import STATUS_FECHADO
from atendimento.storage.falhas import como_sqlalchemy
from atendimento.storage.sqlite_conexao import ConexaoSqlite
from atendimento.storage.tabelas import (
    T_CHAVES,
    T_MENSAGENS,
    T_TICKETS,
    mensagem_dados,
    ticket_dados,
)

_ROLES_INTERNOS = sorted(ROLES_INTERNOS)
_EVENTO_MENSAGEM = "mensagem.criada"


async def acrescentar_lote(
    conn: AsyncConnection, empresa_id: str, pedidos: Sequence[NovaMensagem]
) -> list[MensagemGravada]:
    """Several messages of one ticket in order, in one statement and so one implicit transaction
    (PostgreSQL only, outside a transaction): each answered as ``acrescentar`` would have answered it
    alone after the ones before it. Why (``escrita_lote``): one ticket's writes queue on its row's
    lock, held by each through its COMMIT's WAL flush; written together they take it and flush once."""
    if len(pedidos) == 1:
        return [await acrescentar(conn, empresa_id, pedidos[0])]
    driver = (await conn.get_raw_connection()).driver_connection
    if not isinstance(driver, asyncpg.Connection) or conn.in_transaction():
        raise TypeError("batched message writes are PostgreSQL's, each batch its own statement")
    try:
        return await _postgres_lote(driver, empresa_id, pedidos)
    except Exception as exc:
        traduzida = como_sqlalchemy(exc, "acrescentar_mensagem")
        if traduzida is exc:
            raise
        raise traduzida from exc


async def acrescentar(conn: AsyncConnection, empresa_id: str, pedido: NovaMensagem) -> MensagemGravada:
    """The one message write, on ``conn``: inside its transaction when it has one; on PostgreSQL,
    without one, in the implicit transaction of the function's one statement."""
    driver = (await conn.get_raw_connection()).driver_connection
    try:
        if isinstance(driver, asyncpg.Connection):
            if conn.in_transaction() and not driver.is_in_transaction():
                # SQLAlchemy sends BEGIN with a transaction's first statement: a call before it would
                # commit on its own, outside the transaction it is meant to be part of.
                raise RuntimeError("acrescentar: the transaction has not begun on the server yet")
            return await _postgres(driver, empresa_id, pedido)
        if isinstance(driver, ConexaoSqlite):
            return _sqlite(driver.sqlite3, empresa_id, pedido)
    except Exception as exc:
        # Raised as any other statement's failure would be (DBAPIError), so callers see one kind.
        traduzida = como_sqlalchemy(exc, "acrescentar_mensagem")
        if traduzida is exc:
            raise
        raise traduzida from exc
    # An in-memory SQLite database is another database on each pooled connection: nothing to serve.
    raise TypeError("message writes need PostgreSQL or a SQLite database file")


def _interno(pedido: NovaMensagem) -> bool:
    return pedido.role is not None and pedido.role in ROLES_INTERNOS


class _Colunas:
    """A row's columns as attributes: so the one mapping of rows to the domain's dataclasses
    (``tabelas.ticket_dados``, ``mensagem_dados``) reads asyncpg's records and SQLite's tuples too."""

    __slots__ = ("_linha",)

    def __init__(self, linha: Mapping[str, Any]) -> None:
        self._linha = linha

    def __getattr__(self, nome: str) -> Any:
        return self._linha[nome]


def _linha(colunas: Mapping[str, Any]) -> Row[Any]:
    # Duck-typed: the mapping functions read columns as attributes, which is all a Row is to them.
    return cast("Row[Any]", _Colunas(colunas))


def _ticket(colunas: Mapping[str, Any] | None) -> TicketDados | None:
    return None if colunas is None or colunas["id"] is None else ticket_dados(_linha(colunas))


def _mensagem(colunas: Mapping[str, Any] | None, ticket: TicketDados | None) -> MensagemDados | None:
    if colunas is None or colunas["id"] is None:
        return None
    return mensagem_dados(_linha(colunas), ticket.numero if ticket is not None else "")


# --- PostgreSQL ---------------------------------------------------------------------------------
# Unqualified, like every statement of the application role: its search_path finds the schema.
_ACRESCENTAR = (
    "SELECT * FROM acrescentar_mensagem($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
)


async def _postgres(driver: asyncpg.Connection, empresa_id: str, pedido: NovaMensagem) -> MensagemGravada:
    chave = pedido.chave
    linha = await driver.fetchrow(
        _ACRESCENTAR,
        empresa_id,
        pedido.ticket_id,
        pedido.remetente_id,
        pedido.role,
        pedido.id,
        pedido.tipo,
        pedido.conteudo,
        json.dumps(pedido.metadados),  # what SQLAlchemy's JSON type stores (None → JSON null)
        pedido.criado_em,
        pedido.interna,
        None if chave is None else chave.chave,
        None if chave is None else chave.impressao,
        None if chave is None else chave.validade_desde,
        _ROLES_INTERNOS,
        STATUS_FECHADO,
    )
    assert linha is not None  # the function always answers one row
    return _gravada(linha)


# The function once per message, in the order given: a volatile function's statements see what the
# calls before it in the same statement wrote (the ticket's counter, a key taken), as separate
# statements would. ``metadados`` travels as text and is cast here (JSON null stays JSON null).
_ACRESCENTAR_LOTE = (
    "SELECT r.* FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], "
    "$9::timestamptz[], $10::boolean[], $11::text[], $12::text[], $13::timestamptz[]) WITH ORDINALITY "
    "AS a(remetente_id, role, id, tipo, conteudo, metadados, criado_em, interna, chave, impressao, "
    "desde, n) CROSS JOIN LATERAL acrescentar_mensagem($1, $2, a.remetente_id, a.role, a.id, a.tipo, "
    "a.conteudo, a.metadados::jsonb, a.criado_em, a.interna, a.chave, a.impressao, a.desde, $14, $15) "
    "AS r ORDER BY a.n"
)


async def _postgres_lote(
    driver: asyncpg.Connection, empresa_id: str, pedidos: Sequence[NovaMensagem]
) -> list[MensagemGravada]:
    ticket_ids = {p.ticket_id for p in pedidos}
    if len(ticket_ids) != 1:
        raise ValueError("a batch of message writes is one ticket's")
    chaves = [p.chave for p in pedidos]
    linhas = await driver.fetch(
        _ACRESCENTAR_LOTE,
        empresa_id,
        pedidos[0].ticket_id,
        [p.remetente_id for p in pedidos],
        [p.role for p in pedidos],
        [p.id for p in pedidos],
        [p.tipo for p in pedidos],
        [p.conteudo for p in pedidos],
        [json.dumps(p.metadados) for p in pedidos],
        [p.criado_em for p in pedidos],
        [p.interna for p in pedidos],
        [None if c is None else c.chave for c in chaves],
        [None if c is None else c.impressao for c in chaves],
        [None if c is None else c.validade_desde for c in chaves],
        _ROLES_INTERNOS,
        STATUS_FECHADO,
    )
    if len(linhas) != len(pedidos):  # the function answers one row per call
        raise RuntimeError("acrescentar_mensagem answered a batch with the wrong number of rows")
    return [_gravada(linha) for linha in linhas]


def _gravada(linha: Mapping[str, Any]) -> MensagemGravada:
    ticket = _ticket(linha["o_ticket"])
    return MensagemGravada(
        autorizado=linha["autorizado"],
        gravada=linha["gravada"],
        ticket=ticket,
        mensagem=_mensagem(linha["o_mensagem"], ticket),
        impressao_anterior=linha["impressao_anterior"],
    )


# --- SQLite -------------------------------------------------------------------------------------
_DIALETO_SQLITE = sqlite.dialect()


class _Forma:
    """A table's columns as SQLite stores them, from the table's definition: the names in order, and
    SQLAlchemy's own conversions (instants as text, JSON, booleans as integers) each way."""

    def __init__(self, tabela: Table) -> None:
        self.nome = tabela.name
        self.nomes = tuple(c.name for c in tabela.c)
        self.lista = ", ".join(self.nomes)
        tipos = [(c.name, c.type.dialect_impl(_DIALETO_SQLITE)) for c in tabela.c]
        self._ler = tuple(t.result_processor(_DIALETO_SQLITE, None) for _, t in tipos)
        self._gravar = {n: t.bind_processor(_DIALETO_SQLITE) for n, t in tipos}

    def de_linha(self, valores: tuple[Any, ...] | None) -> dict[str, Any] | None:
        if valores is None:
            return None
        return {
            n: v if v is None or f is None else f(v)
            for n, f, v in zip(self.nomes, self._ler, valores, strict=True)
        }

    def para_linha(self, colunas: Mapping[str, Any]) -> tuple[Any, ...]:
        """``colunas``' values as stored, in ``colunas``' order."""
        return tuple(v if v is None or (f := self._gravar[n]) is None else f(v) for n, v in colunas.items())

    def inserir(self, nomes: tuple[str, ...], sufixo: str = "") -> str:
        marcas = ", ".join("?" * len(nomes))
        return f"INSERT INTO {self.nome} ({', '.join(nomes)}) VALUES ({marcas}){sufixo}"


_TICKETS = _Forma(T_TICKETS)
_MENSAGENS = _Forma(T_MENSAGENS)
_CHAVES = _Forma(T_CHAVES)
_AUTORIZADO = "SELECT 1 FROM usuarios WHERE empresa_id = ? AND id = ? AND ativo AND role = ?"
_MENSAGEM = f"SELECT {_MENSAGENS.lista} FROM mensagens WHERE empresa_id = ? AND id = ?"
_TICKET = f"SELECT {_TICKETS.lista} FROM tickets WHERE empresa_id = ? AND id = ?"
_CONTAR = (
    "UPDATE tickets SET total_mensagens = total_mensagens + 1 "
    f"WHERE empresa_id = ? AND id = ? AND status <> ? RETURNING {_TICKETS.lista}"
)
# The columns the write sets; any other column of the table takes its default, as in the function's
# INSERT, and RETURNING hands back the whole stored row, as the function does.
_GRAVADAS = (
    "id",
    "empresa_id",
    "ticket_id",
    "ordem",
    "remetente_id",
    "atendente_id",
    "tipo",
    "conteudo",
    "metadados",
    "criado_em",
    "interna",
)
_INSERIR_MENSAGEM = _MENSAGENS.inserir(_GRAVADAS, f" RETURNING {_MENSAGENS.lista}")
_NOMES_CHAVE = ("empresa_id", "usuario_id", "chave", "impressao", "resultado", "criado_em")
_INSERIR_CHAVE = _CHAVES.inserir(_NOMES_CHAVE, " ON CONFLICT DO NOTHING")
_DA_CHAVE = "FROM chaves_idempotencia WHERE empresa_id = ? AND usuario_id = ?"
_CHAVES_VENCIDAS = f"DELETE {_DA_CHAVE} AND criado_em < ?"
_CHAVE = f"SELECT impressao, resultado {_DA_CHAVE} AND chave = ?"
_SOLTAR_CHAVE = f"DELETE {_DA_CHAVE} AND chave = ?"
_SAIDA = (
    "INSERT INTO saida_eventos (id, empresa_id, canal_id, ticket_id, tipo, mensagem_id, criado_em) "
    "SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS "
    "(SELECT 1 FROM canal_webhooks WHERE empresa_id = ? AND canal_id = ?)"
)


def _sqlite(sq: sqlite3.Connection, empresa_id: str, pedido: NovaMensagem) -> MensagemGravada:
    """The function's steps, in the same order, as statements of the caller's transaction."""
    if pedido.role is not None:
        if sq.execute(_AUTORIZADO, (empresa_id, pedido.remetente_id, pedido.role)).fetchone() is None:
            return MensagemGravada(autorizado=False, gravada=False, ticket=None, mensagem=None)
    mensagem = _MENSAGENS.de_linha(sq.execute(_MENSAGEM, (empresa_id, pedido.id)).fetchone())
    if mensagem is not None:  # the same call again: it was written
        return _resposta(sq, empresa_id, mensagem["ticket_id"], mensagem, gravada=True)
    chave = pedido.chave
    if chave is not None:
        dono = (empresa_id, pedido.remetente_id)
        sq.execute(_CHAVES_VENCIDAS, (*dono, *_CHAVES.para_linha({"criado_em": chave.validade_desde})))
        valores = {
            "empresa_id": empresa_id,
            "usuario_id": pedido.remetente_id,
            "chave": chave.chave,
            "impressao": chave.impressao,
            "resultado": {"id": pedido.id},
            "criado_em": pedido.criado_em,
        }
        if sq.execute(_INSERIR_CHAVE, _CHAVES.para_linha(valores)).rowcount == 0:
            impressao, resultado = sq.execute(_CHAVE, (*dono, chave.chave)).fetchone()
            anterior_id = json.loads(resultado).get("id")
            anterior = _MENSAGENS.de_linha(sq.execute(_MENSAGEM, (empresa_id, anterior_id)).fetchone())
            ticket_id = pedido.ticket_id if anterior is None else anterior["ticket_id"]
            return _resposta(sq, empresa_id, ticket_id, anterior, gravada=False, impressao=impressao)
    contado = _TICKETS.de_linha(
        sq.execute(_CONTAR, (empresa_id, pedido.ticket_id, STATUS_FECHADO)).fetchone()
    )
    if contado is None:
        if chave is not None:  # a refused request holds no key
            sq.execute(_SOLTAR_CHAVE, (empresa_id, pedido.remetente_id, chave.chave))
        return _resposta(sq, empresa_id, pedido.ticket_id, None, gravada=False)
    interno = _interno(pedido)
    nova = (
        pedido.id,
        empresa_id,
        pedido.ticket_id,
        contado["total_mensagens"],
        pedido.remetente_id,
        pedido.remetente_id if interno else None,
        pedido.tipo,
        pedido.conteudo,
        pedido.metadados,
        pedido.criado_em,
        pedido.interna,
    )
    linha = sq.execute(_INSERIR_MENSAGEM, _MENSAGENS.para_linha(dict(zip(_GRAVADAS, nova, strict=True))))
    mensagem = _MENSAGENS.de_linha(linha.fetchone())
    if interno and not pedido.interna:
        canal = contado["canal_id"]
        saida_id = "msg_" + uuid.uuid4().hex
        criado = _MENSAGENS.para_linha({"criado_em": pedido.criado_em})[0]
        evento = (saida_id, empresa_id, canal, pedido.ticket_id, _EVENTO_MENSAGEM, pedido.id, criado)
        sq.execute(_SAIDA, (*evento, empresa_id, canal))
    ticket = _ticket(contado)
    return MensagemGravada(autorizado=True, gravada=True, ticket=ticket, mensagem=_mensagem(mensagem, ticket))


def _resposta(
    sq: sqlite3.Connection,
    empresa_id: str,
    ticket_id: str,
    mensagem: dict[str, Any] | None,
    *,
    gravada: bool,
    impressao: str | None = None,
) -> MensagemGravada:
    ticket = _ticket(_TICKETS.de_linha(sq.execute(_TICKET, (empresa_id, ticket_id)).fetchone()))
    return MensagemGravada(
        autorizado=True,
        gravada=gravada,
        ticket=ticket,
        mensagem=_mensagem(mensagem, ticket),
        impressao_anterior=impressao,
    )
