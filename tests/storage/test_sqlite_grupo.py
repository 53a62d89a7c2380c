"""Group commit on a real SQLite file (``storage/sqlite_grupo.py``): durable and visible on return, one
body's failure or cancellation undoes only its own work, a failed COMMIT fails its whole batch.

Whether two bodies shared a transaction is seen from outside: a plain ``sqlite3`` connection on the
same file does not see a row that is not committed yet (WAL), so a body that cannot see the row of the
body before it from outside ran in the same, still open, transaction."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from atendimento.storage import Storage, sqlite_grupo


@pytest.fixture
async def banco(tmp_path: Path) -> AsyncIterator[tuple[Storage, Path]]:
    caminho = tmp_path / "grupo.db"
    storage = Storage(f"sqlite:///{caminho}")
    async with storage.transacao(None) as conn:
        await conn.execute(text("CREATE TABLE pai (id INTEGER PRIMARY KEY)"))
        await conn.execute(
            text("CREATE TABLE filho (id TEXT PRIMARY KEY, pai_id INTEGER REFERENCES pai(id))")
        )
        await conn.execute(text("INSERT INTO pai (id) VALUES (1)"))
    yield storage, caminho
    await storage.close()


def _de_fora(caminho: Path) -> set[str]:
    """The committed rows, read by another connection (what a power cut would leave, with FULL)."""
    with sqlite3.connect(caminho) as outra:
        return {linha[0] for linha in outra.execute("SELECT id FROM filho")}


async def _inserir(storage: Storage, nome: str) -> None:
    async with storage.transacao(None) as conn:
        await conn.execute(text("INSERT INTO filho (id, pai_id) VALUES (:i, 1)"), {"i": nome})


async def _enfileirados(n: int = 5) -> None:
    for _ in range(n):  # lets the tasks just created reach the queue
        await asyncio.sleep(0)


async def test_escritas_concorrentes_duraveis_e_visiveis_ao_retornar(banco: tuple[Storage, Path]) -> None:
    storage, caminho = banco
    vistos: dict[str, bool] = {}

    async def escrever(nome: str) -> None:
        await _inserir(storage, nome)
        vistos[nome] = nome in _de_fora(caminho)  # committed before the block returned

    nomes = [f"m{i}" for i in range(100)]
    await asyncio.gather(*(escrever(n) for n in nomes))
    assert vistos == dict.fromkeys(nomes, True)
    assert _de_fora(caminho) == set(nomes)
    with sqlite3.connect(caminho) as outra:  # synchronous=FULL is still the default
        assert outra.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    async with storage.transacao(None, escrita=False) as conn:
        assert (await conn.execute(text("PRAGMA synchronous"))).scalar_one() == 2  # FULL


async def test_as_que_chegam_durante_um_lote_dividem_o_commit_e_o_lote_tem_limite(
    banco: tuple[Storage, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    storage, caminho = banco
    monkeypatch.setattr(sqlite_grupo, "MAX_CORPOS_S", 60.0)
    monkeypatch.setattr(sqlite_grupo, "MAX_TRANSACOES", 2)
    storage = Storage(f"sqlite:///{caminho}")  # takes the limits above
    liberar = asyncio.Event()
    de_fora: dict[str, set[str]] = {}

    async def escrever(nome: str, esperar: bool = False) -> None:
        async with storage.transacao(None) as conn:
            await conn.execute(text("INSERT INTO filho (id, pai_id) VALUES (:i, 1)"), {"i": nome})
            de_fora[nome] = _de_fora(caminho)
            if esperar:
                await liberar.wait()

    a = asyncio.create_task(escrever("a", esperar=True))
    await _enfileirados()
    resto = [asyncio.create_task(escrever(n)) for n in ("b", "c", "d")]
    await _enfileirados()
    liberar.set()
    await asyncio.gather(a, *resto)
    await storage.close()
    assert de_fora["b"] == set()  # b ran in a's transaction: a was not committed yet
    assert de_fora["c"] == {"a", "b"}  # two a batch: c opened the next one, after a and b's COMMIT
    assert de_fora["d"] == {"a", "b"}
    assert _de_fora(caminho) == {"a", "b", "c", "d"}


async def test_um_corpo_que_falha_desfaz_so_o_seu_trabalho(banco: tuple[Storage, Path]) -> None:
    storage, caminho = banco

    async def escrever(i: int) -> None:
        async with storage.transacao(None) as conn:
            await conn.execute(text("INSERT INTO filho (id, pai_id) VALUES (:i, 1)"), {"i": f"m{i}"})
            if i % 3 == 0:
                raise ValueError(i)

    resultados = await asyncio.gather(*(escrever(i) for i in range(30)), return_exceptions=True)
    falhas = {i for i, r in enumerate(resultados) if isinstance(r, ValueError)}
    assert falhas == set(range(0, 30, 3))
    assert all(r is None for i, r in enumerate(resultados) if i not in falhas)
    assert _de_fora(caminho) == {f"m{i}" for i in range(30) if i % 3}


async def test_commit_que_falha_falha_todo_o_lote(banco: tuple[Storage, Path]) -> None:
    """A real COMMIT failure: a deferred foreign key is checked at COMMIT, and one body of the batch
    breaks it, so SQLite refuses the batch's COMMIT. Every caller of that batch gets the error and
    none of its rows is written; the next batch commits normally."""
    storage, caminho = banco
    liberar = asyncio.Event()

    async def escrever(nome: str, pai: int, esperar: bool = False) -> None:
        async with storage.transacao(None) as conn:
            if pai != 1:
                await conn.execute(text("PRAGMA defer_foreign_keys = ON"))
            await conn.execute(text("INSERT INTO filho (id, pai_id) VALUES (:i, :p)"), {"i": nome, "p": pai})
            if esperar:
                await liberar.wait()

    a = asyncio.create_task(escrever("a", 1, esperar=True))
    await _enfileirados()
    lote = [asyncio.create_task(escrever("b", 1)), asyncio.create_task(escrever("orfao", 99))]
    await _enfileirados()
    liberar.set()
    resultados = await asyncio.gather(a, *lote, return_exceptions=True)
    assert [type(r) for r in resultados] == [IntegrityError] * 3
    assert "FOREIGN KEY" in str(resultados[0])
    assert _de_fora(caminho) == set()
    await _inserir(storage, "depois")
    assert _de_fora(caminho) == {"depois"}


async def test_cancelado_na_fila_sai_do_lote(banco: tuple[Storage, Path]) -> None:
    storage, caminho = banco
    liberar = asyncio.Event()
    correu: list[str] = []

    async def escrever(nome: str, esperar: bool = False) -> None:
        async with storage.transacao(None) as conn:
            correu.append(nome)
            await conn.execute(text("INSERT INTO filho (id, pai_id) VALUES (:i, 1)"), {"i": nome})
            if esperar:
                await liberar.wait()

    a = asyncio.create_task(escrever("a", esperar=True))
    await _enfileirados()
    b, c = asyncio.create_task(escrever("b")), asyncio.create_task(escrever("c"))
    await _enfileirados()
    b.cancel()
    liberar.set()
    await asyncio.gather(a, c)
    with pytest.raises(asyncio.CancelledError):
        await b
    assert correu == ["a", "c"]
    assert _de_fora(caminho) == {"a", "c"}


async def test_cancelado_no_corpo_desfaz_o_seu_savepoint(banco: tuple[Storage, Path]) -> None:
    storage, caminho = banco
    liberar, no_corpo, nunca = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def antes() -> None:
        async with storage.transacao(None) as conn:
            await conn.execute(text("INSERT INTO filho (id, pai_id) VALUES ('antes', 1)"))
            await liberar.wait()  # 'preso' and 'depois' queue behind, for the same batch

    async def preso() -> None:
        async with storage.transacao(None) as conn:
            await conn.execute(text("INSERT INTO filho (id, pai_id) VALUES ('preso', 1)"))
            no_corpo.set()
            await nunca.wait()

    primeiro = asyncio.create_task(antes())
    await _enfileirados()
    tarefa = asyncio.create_task(preso())
    depois = asyncio.create_task(_inserir(storage, "depois"))
    await _enfileirados()
    liberar.set()
    await no_corpo.wait()
    tarefa.cancel()
    await asyncio.gather(primeiro, depois)
    with pytest.raises(asyncio.CancelledError):
        await tarefa
    assert _de_fora(caminho) == {"antes", "depois"}


async def test_close_espera_as_escritas_na_fila(banco: tuple[Storage, Path]) -> None:
    storage, caminho = banco
    tarefas = [asyncio.create_task(_inserir(storage, f"m{i}")) for i in range(20)]
    await _enfileirados()
    await storage.close()
    assert _de_fora(caminho) == {f"m{i}" for i in range(20)}
    await asyncio.gather(*tarefas)


async def test_muitas_escritas_com_falhas_e_cancelamentos_nao_param_a_fila(
    banco: tuple[Storage, Path],
) -> None:
    """Writers that fail, that are cancelled while queued, as their turn comes, or in their body, mixed
    at random (fixed seed): every caller gets an answer, every write that returned is there, and so
    may be one whose caller was cancelled while its batch committed (the COMMIT is not interruptible)."""
    storage, caminho = banco
    sorte = random.Random(13)
    gravados: set[str] = set()
    corpos_ok: set[str] = set()

    async def escrever(nome: str, falhar: bool, pausa: float) -> None:
        async with storage.transacao(None) as conn:
            await conn.execute(text("INSERT INTO filho (id, pai_id) VALUES (:i, 1)"), {"i": nome})
            if pausa:
                await asyncio.sleep(pausa)
            if falhar:
                raise ValueError(nome)
            corpos_ok.add(nome)
        gravados.add(nome)

    tarefas = []
    for i in range(300):
        tarefas.append(
            asyncio.create_task(escrever(f"m{i}", sorte.random() < 0.1, sorte.choice([0, 0, 0.001])))
        )
        if sorte.random() < 0.3:
            await asyncio.sleep(0)
        if sorte.random() < 0.15:
            alvo = sorte.choice(tarefas)
            asyncio.get_running_loop().call_later(sorte.random() * 0.002, alvo.cancel)
    async with asyncio.timeout(30):  # a lost hand-off would hang here
        await asyncio.gather(*tarefas, return_exceptions=True)
    assert gravados <= _de_fora(caminho) <= corpos_ok
    assert len(gravados) > 150
    await _inserir(storage, "depois")
    assert "depois" in _de_fora(caminho)
