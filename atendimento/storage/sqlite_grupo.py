"""Group commit for SQLite's one writer: many write transactions, one COMMIT (one fsync).

Why: with ``synchronous=FULL`` a COMMIT waits for the fsync of the WAL, and SQLite has one writer
per file, so when each write transaction held the writer through its own fsync, writes a second
were bounded by the disk and requests queued behind each other's fsync (issue 13: p50 597 ms at
100 writes/s). Databases with a WAL (PostgreSQL, InnoDB) answer this with group commit: the
transactions that arrive while a flush runs are made durable together by the next one. SQLite has
no such thing (its one connection writes one transaction at a time), and no library we know of
adds it for an asyncio program: it needs to own the one writer connection and the callers'
scheduling, which is what this module does, on top of SAVEPOINTs, which SQLite has.

How: a write transaction that finds the writer idle opens the batch itself (``BEGIN IMMEDIATE`` on
one connection) and runs its body at once; those that arrive while a batch is open queue here (FIFO)
and are handed that connection one after another, each body in its own task and its own SAVEPOINT.
The turn passes from body to body directly (no task in between: every hand-off through the event
loop waits behind whatever else is ready there, which a busy server pays in milliseconds), and a
task of its own runs the COMMIT, then opens the next batch for those who queued meanwhile:

* a body that raises rolls back to its savepoint (only its own work is undone) and its caller gets
  its exception at once; the others in the batch are unaffected;
* a body that ends normally releases its savepoint and its caller waits for the batch's COMMIT: its
  ``async with`` returns only once the write is durable (the domain publishes events after the block,
  so an event never announces a write that could still be lost);
* when the queue is empty, or the batch holds ``MAX_TRANSACOES`` bodies, or its bodies have run for
  ``MAX_CORPOS_S`` (so a steady stream cannot keep one batch open), one COMMIT makes every kept body
  durable at once; if it fails, every caller of the batch gets the error (nothing of the batch was
  written). Transactions that arrive during that COMMIT form the next batch.

Bodies run one at a time, in arrival order, on one connection, so each sees the work of the bodies
before it in the same batch, exactly as if those had committed just before: per-ticket counters,
idempotency keys (``domain/idempotencia.py``) and update instants (``retomada.py``) behave as with
one transaction at a time. Nobody can observe another body's work and outlive a failed COMMIT: a body
only returns once its batch committed.

Cancellation: a caller cancelled while it waits leaves the queue (if its turn came meanwhile, it
hands the connection on, having done nothing); cancelled in its body, it rolls back to its savepoint;
cancelled while its batch commits, it gets ``CancelledError`` but its write may be durable (the
COMMIT runs on regardless, as it did before group commit). If a savepoint cannot be rolled back
(SQLite itself rolled the whole transaction back, e.g. on a full disk), the batch is lost and every
caller whose body had ended normally gets ``LoteDesfeito``.

A body must not open another write transaction on the same storage (it would wait for itself, as it
did with the lock this replaces).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from atendimento.storage.sqlite_conexao import ConexaoSqlite

log = logging.getLogger(__name__)

MAX_TRANSACOES = 64
MAX_CORPOS_S = 0.010


class LoteDesfeito(RuntimeError):
    """The batch's transaction was rolled back by SQLite before its COMMIT: nothing of it was written."""


def _falhar(futuro: asyncio.Future[Any], exc: BaseException) -> None:
    if futuro.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        futuro.cancel()
    else:
        futuro.set_exception(exc)


def _concluir(futuro: asyncio.Future[Any], valor: Any) -> None:
    if not futuro.done():
        futuro.set_result(valor)


class _Marca:
    """One body's SAVEPOINT, on the sqlite3 connection itself: through SQLAlchemy, SAVEPOINT and
    RELEASE cost ~0.2 ms of CPU per write, a tenth of a whole message write; SQLAlchemy need not
    know, since the transaction around it is the batch's, not SQLAlchemy's."""

    def __init__(self, sqlite: sqlite3.Connection) -> None:
        self._sqlite = sqlite

    def abrir(self) -> None:
        self._sqlite.execute("SAVEPOINT grupo")

    def soltar(self) -> None:
        self._sqlite.execute("RELEASE grupo")

    def desfazer(self) -> None:
        """This body's work only: ROLLBACK TO and RELEASE."""
        self._sqlite.execute("ROLLBACK TO grupo")
        self._sqlite.execute("RELEASE grupo")


@dataclass(eq=False)
class _Lote:
    """One transaction on the writer connection, shared by the bodies run in it."""

    conn: AsyncConnection  # the kept writer, as the bodies see it
    escritor: ConexaoSqlite  # the same connection: the batch's BEGIN, SAVEPOINTs and COMMIT go here
    inicio: float
    corpos: int = 0
    mantidos: list[_Pedido] = field(default_factory=list)  # bodies that ended normally
    erro: BaseException | None = None  # set when the transaction is lost before its COMMIT


@dataclass(eq=False)
class _Pedido:
    """One queued caller's write transaction."""

    loop: asyncio.AbstractEventLoop
    # Set when it is this caller's turn: the batch to run its body in.
    vez: asyncio.Future[_Lote] = field(init=False)
    # Set after the batch's COMMIT.
    duravel: asyncio.Future[None] = field(init=False)

    def __post_init__(self) -> None:
        self.vez = self.loop.create_future()
        self.duravel = self.loop.create_future()


class GrupoDeCommit:
    """Write transactions on one SQLite file, committed in groups (see the module's docstring).

    ``conectar`` opens the writer: a file's ``ConexaoSqlite`` on which SQLAlchemy sends no BEGIN.
    It is kept, and every batch BEGINs and COMMITs on its sqlite3 connection directly: through
    SQLAlchemy, checking a connection out, BEGIN, COMMIT and giving it back cost ~0.35 ms of CPU per
    batch (an empty write transaction: 0.70 → 0.35 ms), a fifth of a message write's CPU."""

    def __init__(
        self,
        conectar: Callable[[], Awaitable[AsyncConnection]],
        *,
        max_transacoes: int | None = None,
        max_corpos_s: float | None = None,
    ) -> None:
        self._conectar = conectar
        self._escritor: AsyncConnection | None = None
        self._max_transacoes = MAX_TRANSACOES if max_transacoes is None else max_transacoes
        self._max_corpos_s = MAX_CORPOS_S if max_corpos_s is None else max_corpos_s
        self._fila: deque[_Pedido] = deque()  # empty whenever _ativo is False
        self._ativo = False  # a batch is being opened, runs bodies or commits
        self._ocioso = asyncio.Event()
        self._ocioso.set()
        self._tarefas: set[asyncio.Task[None]] = set()  # the loop keeps only weak references

    @asynccontextmanager
    async def transacao(self) -> AsyncIterator[AsyncConnection]:
        """Commits (with the rest of its batch) when the block ends normally, and returns once that
        COMMIT is done; undoes only this block's work on an exception."""
        pedido = _Pedido(asyncio.get_running_loop())
        lote = await (self._abrir_lote() if not self._ativo else self._esperar_vez(pedido))
        marca = _Marca(lote.escritor.sqlite3)
        try:
            marca.abrir()
        except BaseException as exc:
            self._quebrar(lote, exc)  # the batch's transaction is unusable
            raise
        try:
            yield lote.conn
        except BaseException:
            self._desfazer(lote, marca)
            raise
        try:
            marca.soltar()
        except BaseException:
            self._desfazer(lote, marca)
            raise
        lote.mantidos.append(pedido)
        self._seguir(lote)
        # Shielded: a caller cancelled now does not cancel the batch's result for the others.
        await asyncio.shield(pedido.duravel)

    async def _abrir_lote(self) -> _Lote:
        """The writer is idle: open the batch here, in the caller's task (no hand-off)."""
        self._ativo = True
        self._ocioso.clear()
        try:
            return await self._novo()
        except BaseException:
            self._proximo_lote()  # those who queued meanwhile try on their own
            raise

    async def _novo(self) -> _Lote:
        """A new batch on the kept writer (connected again if it was dropped)."""
        conn = self._escritor
        if conn is None or conn.closed or conn.invalidated:
            conn = await self._conectar()
            self._escritor = conn
        escritor = (await conn.get_raw_connection()).driver_connection
        if not isinstance(escritor, ConexaoSqlite):
            raise TypeError("group commit needs a SQLite database file's connection")
        escritor.sqlite3.execute("BEGIN IMMEDIATE")
        return _Lote(conn, escritor, asyncio.get_running_loop().time())

    async def _terminar(self, lote: _Lote) -> None:
        """The writer with no transaction left open. A COMMIT that failed can leave SQLite's
        transaction open (a deferred constraint, SQLITE_BUSY); a writer that cannot roll back is
        thrown away, and the next batch connects anew."""
        try:
            if lote.escritor.sqlite3.in_transaction:
                lote.escritor.sqlite3.rollback()
        except Exception:
            log.exception("rolling back the sqlite writer connection; discarding it")
            self._escritor = None
            with contextlib.suppress(Exception):
                await lote.conn.invalidate()
            with contextlib.suppress(Exception):
                await lote.conn.close()

    async def _esperar_vez(self, pedido: _Pedido) -> _Lote:
        self._fila.append(pedido)
        try:
            return await pedido.vez
        except BaseException:
            vez = pedido.vez
            if vez.done() and not vez.cancelled() and vez.exception() is None:
                self._seguir(vez.result())  # our turn came as we were cancelled: pass it on
            else:
                vez.cancel()  # still queued: skipped when its turn comes
            raise

    def _desfazer(self, lote: _Lote, marca: _Marca) -> None:
        try:
            marca.desfazer()
        except BaseException as exc:
            self._quebrar(lote, exc)
            raise
        self._seguir(lote)

    def _quebrar(self, lote: _Lote, exc: BaseException) -> None:
        if lote.erro is None:
            lote.erro = LoteDesfeito(f"a transação do lote foi desfeita: {exc!r}")
        self._seguir(lote)

    def _proximo(self) -> _Pedido | None:
        while self._fila:
            pedido = self._fila.popleft()
            if not pedido.vez.done():  # done here means its caller was cancelled while queued
                return pedido
        return None

    def _seguir(self, lote: _Lote) -> None:
        """A body ended: the next queued one runs in this batch, or the batch commits."""
        lote.corpos += 1
        cheio = lote.corpos >= self._max_transacoes
        if (
            lote.erro is None
            and not cheio
            and asyncio.get_running_loop().time() - lote.inicio < self._max_corpos_s
        ):
            pedido = self._proximo()
            if pedido is not None:
                pedido.vez.set_result(lote)
                return
        self._tarefa(self._commit(lote))

    async def _commit(self, lote: _Lote) -> None:
        erro = lote.erro
        try:
            try:
                if erro is None and lote.mantidos:
                    await lote.escritor.commit()  # the fsync, on the commit thread (sqlite_conexao)
                else:
                    lote.escritor.sqlite3.rollback()
            except sqlite3.Error as exc:
                # As SQLAlchemy would have raised it (IntegrityError, OperationalError, …).
                raise DBAPIError.instance("COMMIT", None, exc, sqlite3.Error) from exc
        except BaseException as exc:
            erro = exc
            if not isinstance(exc, asyncio.CancelledError):
                log.error("sqlite group commit failed (%d transactions): %r", len(lote.mantidos), exc)
        finally:
            try:
                await self._terminar(lote)
            finally:
                for pedido in lote.mantidos:
                    if erro is None:
                        _concluir(pedido.duravel, None)
                    else:
                        _falhar(pedido.duravel, erro)
                self._proximo_lote()  # whatever happened, those queued are not left waiting
        if isinstance(erro, asyncio.CancelledError):
            raise erro

    def _proximo_lote(self) -> None:
        if not self._fila:
            self._ativo = False
            self._ocioso.set()
            return
        self._tarefa(self._abrir_para_fila())

    def _tarefa(self, coro: Coroutine[Any, Any, None]) -> None:
        tarefa = asyncio.get_running_loop().create_task(coro, name="sqlite-grupo")
        self._tarefas.add(tarefa)
        tarefa.add_done_callback(self._tarefas.discard)

    async def _abrir_para_fila(self) -> None:
        """Open the next batch for the queued callers and hand it to the first still waiting."""
        try:
            lote = await self._novo()
        except BaseException as exc:
            # The others queued now would open the same way (BEGIN IMMEDIATE after the busy timeout,
            # a disk error): they get the same answer instead of each waiting for it in turn.
            while (pedido := self._proximo()) is not None:
                _falhar(pedido.vez, exc)
            self._proximo_lote()
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        pedido = self._proximo()
        if pedido is None:  # all were cancelled while it opened
            await self._terminar(lote)
            self._proximo_lote()
            return
        pedido.vez.set_result(lote)

    async def fechar(self) -> None:
        """Wait for the queued and running write transactions to finish (``Storage.close``), then
        close the kept writer."""
        await self._ocioso.wait()
        escritor, self._escritor = self._escritor, None
        if escritor is not None:
            await escritor.close()
