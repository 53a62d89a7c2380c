"""SQLite connections for SQLAlchemy's aiosqlite dialect that run statements on the event loop.

Why: aiosqlite gives every connection a thread and sends every driver call to it (cursor, execute,
fetch, close: about fifteen hops for one message write), each a queue put, a ``call_soon_threadsafe``
wake-up and two GIL hand-offs. Under issue 13's benchmark that was a third of the server's CPU, and
twenty such threads (the pool) fought one core for the GIL. A small statement on SQLite takes
microseconds, far less than the hop, so statements run here, in the loop's thread.

What must not block the loop stays on a thread: ``commit`` (with ``synchronous=FULL`` it waits for
fsync of the WAL, milliseconds, and it is where SQLite runs its automatic checkpoint). One thread
serves every connection's commits: ``Storage`` lets one write transaction (a group of them, see
``sqlite_grupo``) in at a time anyway.

What keeps statements from waiting in SQLite's busy handler (which would now sleep in the loop):
``Storage`` serialises write transactions in-process (``sqlite_grupo``: one connection in ``BEGIN
IMMEDIATE`` … ``COMMIT`` at a time, shared by the queued ones), and readers never wait for the
writer in WAL mode. Another *process*
writing the same file (``atendimento demo`` while serving) can still make a statement wait up to
the busy timeout, which is why ``serve --workers`` above 1 requires PostgreSQL.

This subclasses ``aiosqlite.Connection`` (pinned in requirements.lock) and replaces its queue to
the worker thread with one that runs each call at once; ``tests/storage/test_sqlite_conexao.py``
checks the parts of aiosqlite it relies on.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

import aiosqlite


@cache
def _executor_commits() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-commit")


class _FilaImediata:
    """Stands in for aiosqlite's queue to its thread: runs the call now and settles its future.

    SQLAlchemy's adapter also puts calls on this queue directly (its ``isolation_level`` setter)."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, funcao = item
        try:
            resultado = funcao()
        except BaseException as exc:
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(resultado)


class ConexaoSqlite(aiosqlite.Connection):
    """An aiosqlite connection with no thread of its own (see the module's docstring)."""

    def __init__(self, conectar: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(conectar, iter_chunk_size=64)
        self._tx = _FilaImediata()  # type: ignore[assignment]

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        # aiosqlite starts its worker thread here; there is none.
        return self._connect().__await__()

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    @property
    def sqlite3(self) -> sqlite3.Connection:
        """The connection itself, for statements too small for SQLAlchemy's execution path
        (``sqlite_grupo``'s savepoints, ``escrita_mensagem``'s message write); it is used on the
        loop's thread like every statement."""
        return self._conn

    async def commit(self) -> None:
        conexao = self._conn
        await asyncio.get_running_loop().run_in_executor(_executor_commits(), conexao.commit)


def criador(caminho: str, timeout_s: float) -> Callable[[], Any]:
    """``create_async_engine(async_creator=…)``: a coroutine function that opens one connection."""

    def conectar() -> sqlite3.Connection:
        # check_same_thread=False: commits run on the commit thread. isolation_level=None: BEGIN
        # is ours (``banco._configurar_sqlite``); the driver's implicit BEGIN is DEFERRED.
        return sqlite3.connect(caminho, timeout=timeout_s, check_same_thread=False, isolation_level=None)

    async def abrir() -> aiosqlite.Connection:
        return await ConexaoSqlite(conectar)

    return abrir
