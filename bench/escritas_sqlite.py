"""Issue 13: write transactions on SQLite at a steady rate, straight through ``Storage`` (no HTTP, no
sockets): how long a write waits for its durable COMMIT, and how many COMMITs (fsyncs) served them.

    .venv/bin/python bench/escritas_sqlite.py [--rate 200] [--duration 10] [--synchronous FULL|NORMAL]

A fresh file in a temporary folder (on the disk of ``TMPDIR``), one table; write i is started at
t0 + i/rate whatever the earlier ones are doing (open loop), and its latency is the moment its
``async with storage.transacao(None)`` returned minus that scheduled time. The COMMITs are counted and
timed by wrapping ``sqlite_conexao.ConexaoSqlite.commit`` (the one place a COMMIT runs), so the
figures show both the queueing and the disk: with group commit, writes > commits when fsyncs are
slow; a write's latency cannot be below the fsync it waits for.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from atendimento.storage import Storage, sqlite_conexao


def _q(valores: list[float], p: float) -> float:
    ordenados = sorted(valores)
    return ordenados[int(p * (len(ordenados) - 1))] * 1000


async def medir(rate: float, duracao: float, synchronous: str) -> str:
    commits: list[float] = []
    original = sqlite_conexao.ConexaoSqlite.commit

    async def commit(self: sqlite_conexao.ConexaoSqlite) -> None:
        inicio = time.perf_counter()
        await original(self)
        commits.append(time.perf_counter() - inicio)

    sqlite_conexao.ConexaoSqlite.commit = commit  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory(prefix="escritas-sqlite-") as pasta:
        storage = Storage(f"sqlite:///{Path(pasta) / 'b.db'}", sqlite_synchronous=synchronous)  # type: ignore[arg-type]
        async with storage.transacao(None) as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        commits.clear()
        latencias: list[float] = []

        async def escrever(agendado: float) -> None:
            async with storage.transacao(None) as conn:
                await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "x" * 300})
            latencias.append(time.perf_counter() - agendado)

        inicio, tarefas = time.perf_counter(), []
        for i in range(int(rate * duracao)):
            agendado = inicio + i / rate
            await asyncio.sleep(max(0.0, agendado - time.perf_counter()))
            tarefas.append(asyncio.create_task(escrever(agendado)))
        await asyncio.gather(*tarefas)
        await storage.close()
    return (
        f"synchronous={synchronous} rate={rate:g}/s {duracao:g}s: writes {len(latencias)} "
        f"p50 {_q(latencias, 0.5):.1f} p99 {_q(latencias, 0.99):.1f} max {_q(latencias, 1):.1f} ms; "
        f"commits {len(commits)} p50 {_q(commits, 0.5):.1f} p99 {_q(commits, 0.99):.1f} "
        f"max {_q(commits, 1):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--synchronous", choices=("FULL", "NORMAL"), default="FULL")
    args = parser.parse_args()
    print(asyncio.run(medir(args.rate, args.duration, args.synchronous)))


if __name__ == "__main__":
    main()
