"""Group commit for SQLite's one writer: many write transactions, one COMMIT (one fsync).

Why: with ``synchronous=FULL`` a COMMIT waits for the fsync of the WAL, and SQLite has one writer
per file, so when each write transaction held the writer through its own fsync, writes a second
were bounded by the disk and requests queued behind each other's fsync (issue 13: p50 597 ms at
100 writes/s). Databases with a WAL (PostgreSQL, InnoDB) answer this with group commit: the
transactions that arrive while a flush runs are made durable together by the next one. SQLite has
no such thing (its one connection writes one transaction at a time), and no library we know of
adds it for an asyncio program: it needs to own the one writer connection and the callers'
scheduling, which is what this module does, on top of SAVEPOINTs, which SQLite has.

How: write transactions queue here (FIFO). A driver task (alive while there is work) opens one
connection with ``BEGIN IMMEDIATE`` and hands it to the waiting callers one after another; each
caller's body runs in its own task, inside its own SAVEPOINT, on that connection:

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
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncTransaction

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


async def _devolver(conn: AsyncConnection) -> None:
    """Back to the pool with no transaction open. A COMMIT that failed can leave SQLite's transaction
    open (a deferred constraint, SQLITE_BUSY) while SQLAlchemy counts it as ended, and then neither
    its rollback nor the pool's reset reaches SQLite: the next BEGIN would fail. So the driver's own
    connection is asked, and one that cannot roll back is thrown away."""
    try:
        bruta = await conn.get_raw_connection()
        sqlite = bruta.driver_connection
        if sqlite is not None and sqlite.in_transaction:
            await sqlite.rollback()
    except Exception:
        log.exception("rolling back the sqlite writer connection; discarding it")
        await conn.invalidate()
    try:
        await conn.close()
    except Exception:
        log.exception("closing the sqlite writer connection")


@dataclass(eq=False)
class _Pedido:
    """One caller's write transaction, as the driver sees it."""

    loop: asyncio.AbstractEventLoop
    # Set by the driver: the batch's connection, the caller's turn to run its body.
    vez: asyncio.Future[AsyncConnection] = field(init=False)
    # Set by the caller when its body ended: True kept (savepoint released), False undone.
    fim: asyncio.Future[bool] = field(init=False)
    # Set by the driver after the batch's COMMIT.
    duravel: asyncio.Future[None] = field(init=False)

    def __post_init__(self) -> None:
        self.vez = self.loop.create_future()
        self.fim = self.loop.create_future()
        self.duravel = self.loop.create_future()


class GrupoDeCommit:
    """Write transactions on one SQLite file, committed in groups (see the module's docstring).

    ``abrir`` opens a connection in a write transaction (``BEGIN IMMEDIATE``)."""

    def __init__(
        self,
        abrir: Callable[[], Awaitable[AsyncConnection]],
        *,
        max_transacoes: int | None = None,
        max_corpos_s: float | None = None,
    ) -> None:
        self._abrir = abrir
        self._max_transacoes = MAX_TRANSACOES if max_transacoes is None else max_transacoes
        self._max_corpos_s = MAX_CORPOS_S if max_corpos_s is None else max_corpos_s
        self._fila: deque[_Pedido] = deque()
        self._motor: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def transacao(self) -> AsyncIterator[AsyncConnection]:
        """Commits (with the rest of its batch) when the block ends normally, and returns once that
        COMMIT is done; undoes only this block's work on an exception."""
        pedido = _Pedido(asyncio.get_running_loop())
        self._fila.append(pedido)
        self._acordar(pedido.loop)
        try:
            conn = await pedido.vez
        except BaseException:
            vez = pedido.vez
            if vez.done() and not vez.cancelled() and vez.exception() is None:
                _concluir(pedido.fim, False)  # our turn came as we were cancelled: pass it on
            else:
                vez.cancel()  # still queued: the driver skips us
            raise
        try:
            savepoint = await conn.begin_nested()
        except BaseException as exc:
            _falhar(pedido.fim, exc)  # the batch's transaction is unusable
            raise
        try:
            yield conn
        except BaseException:
            await self._desfazer(pedido, savepoint)
            raise
        try:
            await savepoint.commit()  # RELEASE
        except BaseException:
            await self._desfazer(pedido, savepoint)
            raise
        _concluir(pedido.fim, True)
        # Shielded: a caller cancelled now does not cancel the batch's result for the others.
        await asyncio.shield(pedido.duravel)

    @staticmethod
    async def _desfazer(pedido: _Pedido, savepoint: AsyncTransaction) -> None:
        try:
            await savepoint.rollback()  # ROLLBACK TO and RELEASE: this body's work only
        except BaseException as exc:
            _falhar(pedido.fim, exc)
            raise
        _concluir(pedido.fim, False)

    def _acordar(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._motor is None or self._motor.done():
            self._motor = loop.create_task(self._servir(), name="sqlite-grupo")

    def _proximo(self) -> _Pedido | None:
        while self._fila:
            pedido = self._fila.popleft()
            if not pedido.vez.done():  # done here means its caller was cancelled while queued
                return pedido
        return None

    async def _servir(self) -> None:
        """The driver: batches until the queue is empty, then it ends (the next caller starts one)."""
        try:
            while (primeiro := self._proximo()) is not None:
                await self._lote(primeiro)
        except BaseException as exc:
            while (pedido := self._proximo()) is not None:
                _falhar(pedido.vez, exc)
            raise

    async def _lote(self, primeiro: _Pedido) -> None:
        try:
            conn = await self._abrir()
        except BaseException as exc:
            # The others queued now would open the same way (BEGIN IMMEDIATE after the busy timeout,
            # a disk error): they get the same answer instead of each waiting for it in turn.
            _falhar(primeiro.vez, exc)
            while (pedido := self._proximo()) is not None:
                _falhar(pedido.vez, exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        mantidos: list[_Pedido] = []
        try:
            erro = await self._corpos(conn, primeiro, mantidos)
            if erro is None and mantidos:
                await conn.commit()  # the fsync, on the commit thread (sqlite_conexao)
            else:
                await conn.rollback()
        except BaseException as exc:
            erro = exc
            if not isinstance(exc, asyncio.CancelledError):
                log.error("sqlite group commit failed (%d transactions): %r", len(mantidos), exc)
        finally:
            await _devolver(conn)
        for pedido in mantidos:
            if erro is None:
                _concluir(pedido.duravel, None)
            else:
                _falhar(pedido.duravel, erro)
        if isinstance(erro, asyncio.CancelledError):
            raise erro

    async def _corpos(
        self, conn: AsyncConnection, primeiro: _Pedido, mantidos: list[_Pedido]
    ) -> BaseException | None:
        """Run queued bodies on ``conn`` one after another; None, or why the batch is lost."""
        loop = asyncio.get_running_loop()
        inicio = loop.time()
        pedido: _Pedido | None = primeiro
        corpos = 0
        while pedido is not None:
            _concluir(pedido.vez, conn)
            try:
                # Shielded: if the driver is cancelled, the body keeps its own future intact.
                manter = await asyncio.shield(pedido.fim)
            except asyncio.CancelledError as exc:
                # The driver is going away (its loop is closing): this body's batch will not commit.
                _falhar(pedido.duravel, exc)
                raise
            except BaseException as exc:
                return LoteDesfeito(f"a transação do lote foi desfeita: {exc!r}")
            if manter:
                mantidos.append(pedido)
            corpos += 1
            if corpos >= self._max_transacoes or loop.time() - inicio >= self._max_corpos_s:
                break
            pedido = self._proximo()
        return None

    async def fechar(self) -> None:
        """Wait for the queued transactions to finish (``Storage.close``)."""
        motor = self._motor
        if motor is None or motor.done():
            return
        if motor.get_loop() is not asyncio.get_running_loop():
            return  # a loop that is gone or not ours: nothing can be awaited from here
        try:
            await asyncio.shield(motor)
        except Exception:
            log.exception("sqlite group commit driver")
