"""SQLite on the event loop (storage/sqlite_conexao.py): no thread per connection, one writer at a
time in-process, readers beside it, and the parts of aiosqlite the connection class relies on."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from atendimento.storage.modelos import Fila
from atendimento.storage.sqlite_conexao import ConexaoSqlite

if TYPE_CHECKING:
    from conftest import BancoDemo


def _threads_aiosqlite() -> int:
    # aiosqlite's worker threads are plain Threads running _connection_worker_thread.
    return sum(1 for t in threading.enumerate() if "_connection_worker_thread" in repr(t._target))  # type: ignore[attr-defined]


async def test_conexoes_sem_thread_propria(demo_sqlite: BancoDemo) -> None:
    storage, r = demo_sqlite.storage, demo_sqlite.resumo
    antes = threading.active_count()
    # Several connections at once (each transaction holds one from the pool).
    async with (
        storage.transacao(r.empresa_id, escrita=False) as a,
        storage.transacao(r.empresa_id, escrita=False) as b,
        storage.transacao(r.empresa_id, escrita=False) as c,
    ):
        for conn in (a, b, c):
            # SQLite has no RLS: every tenant's queues
            assert await conn.scalar(select(func.count()).select_from(Fila)) >= len(r.filas)
            crua = (await conn.get_raw_connection()).driver_connection
            assert isinstance(crua, ConexaoSqlite)
        assert _threads_aiosqlite() == 0
        assert threading.active_count() <= antes + 1  # at most the one commit thread


async def test_escritas_concorrentes_uma_de_cada_vez(demo_sqlite: BancoDemo) -> None:
    """Writers that yield inside their transaction queue in-process: none meets SQLite's busy
    handler (which would sleep in the loop), none fails with 'database is locked', and each sees
    the previous one's commit."""
    storage, r = demo_sqlite.storage, demo_sqlite.resumo
    dentro = 0
    maximo = 0
    fila_id = r.filas["Suporte"]

    async def escrever(i: int) -> None:
        nonlocal dentro, maximo
        async with storage.transacao(r.empresa_id) as conn:
            dentro += 1
            maximo = max(maximo, dentro)
            nome = await conn.scalar(select(Fila.nome).where(Fila.id == fila_id))
            await asyncio.sleep(0)  # let the others try to begin meanwhile
            await conn.execute(update(Fila).where(Fila.id == fila_id).values(nome=f"{nome}+{i}"))
            dentro -= 1

    await asyncio.gather(*(escrever(i) for i in range(8)))
    assert maximo == 1
    async with storage.transacao(r.empresa_id, escrita=False) as conn:
        nome = await conn.scalar(select(Fila.nome).where(Fila.id == fila_id))
    assert nome is not None and nome.count("+") == 8  # no update was lost


async def test_leitura_ao_lado_da_escrita(demo_sqlite: BancoDemo) -> None:
    """A reader does not wait for a write transaction in progress (WAL): it sees the last commit."""
    storage, r = demo_sqlite.storage, demo_sqlite.resumo
    fila_id = r.filas["Suporte"]
    async with storage.transacao(r.empresa_id) as escrita:
        await escrita.execute(update(Fila).where(Fila.id == fila_id).values(nome="Nova"))
        async with storage.transacao(r.empresa_id, escrita=False) as leitura:
            assert await leitura.scalar(select(Fila.nome).where(Fila.id == fila_id)) == "Suporte"
    async with storage.transacao(r.empresa_id, escrita=False) as leitura:
        assert await leitura.scalar(select(Fila.nome).where(Fila.id == fila_id)) == "Nova"


async def test_erro_de_sql_chega_como_excecao(demo_sqlite: BancoDemo) -> None:
    storage, r = demo_sqlite.storage, demo_sqlite.resumo
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    try:
        async with storage.transacao(r.empresa_id) as conn:
            await conn.execute(text("SELECT * FROM tabela_que_nao_existe"))
    except OperationalError:
        pass
    else:
        raise AssertionError("expected OperationalError")
    # The writer lock was released with the failed transaction.
    async with storage.transacao(r.empresa_id) as conn:
        await conn.execute(update(Fila).where(Fila.id == r.filas["Suporte"]).values(nome="Depois"))
