"""Issue 5, where a ``POST .../mensagens`` spends its time: the same write measured layer by layer.

    .venv/bin/python bench/mensagens_breakdown.py [--db sqlite|postgres|both] [-n 500] [--json out.json]

One request at a time (no queueing, so these are service times, not latencies under load), on a fresh
demo database (PostgreSQL: created as ``postgres``, migrated with ``upgrade_urls``, the app connecting
as ``atendimento_app``; dropped at the end), all in this process, each step timed over ``-n`` calls
after a warm-up, wall clock and this process's CPU (``time.process_time``, every thread):

1. ``driver``: the statements the write runs, on the bare driver (asyncpg / sqlite3 through aiosqlite)
   in one transaction: tenant setting (PostgreSQL), ticket ``FOR UPDATE``, sender, counter
   ``UPDATE … RETURNING``, ``INSERT`` of the message, commit. The floor for the database part;
2. ``service``: ``ServicoAtendimento.enviar_mensagem`` (domain rules, SQLAlchemy session and
   repository, commit, then ``Publicador.mensagem_nova`` with no socket in the room);
3. ``asgi``: the whole application (``Aplicacao.asgi``: engine router, FastAPI middleware, bearer
   token, body validation, the service, the JSON answer) driven in-process through httpx's
   ``ASGITransport``: no socket, no HTTP parsing.

The difference between consecutive steps is what each layer costs; what uvicorn and the network add
on top is ``mensagens_latency.py``'s server CPU per request minus step 3. For a ranking of functions,
use ``mensagens_latency.py --profile`` (py-spy on the real server under load): cProfile misreads
coroutines and SQLAlchemy's greenlet bridge.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import uvloop
from benchlib import dump, log, machine
from pg_database import banco_postgres

from atendimento.app import build_app
from atendimento.config import Settings
from atendimento.domain.entidades import agora, novo_id
from atendimento.storage.banco import Storage
from atendimento.storage.demo import ResumoDemo, carregar_demo
from atendimento.storage.migracoes import upgrade_urls

SECRET = "bench-breakdown-secret-of-at-least-32-bytes"


@contextlib.asynccontextmanager
async def banco(db: str, tmp: Path) -> AsyncIterator[tuple[str, str, ResumoDemo]]:
    if db == "postgres":
        async with banco_postgres(False) as (admin_url, app_url, _nome, resumo):
            yield admin_url, app_url, resumo
        return
    url = f"sqlite:///{tmp}/breakdown.db"
    await upgrade_urls(url)
    storage = Storage(url)
    try:
        resumo = await carregar_demo(storage)
    finally:
        await storage.close()
    yield url, url, resumo


async def medir(nome: str, n: int, passo: Callable[[int], Awaitable[None]]) -> dict[str, Any]:
    for i in range(max(20, n // 10)):  # warm-up: pools, statement caches, imports
        await passo(-1 - i)
    c0, t0 = time.process_time(), time.perf_counter()
    for i in range(n):
        await passo(i)
    c1, t1 = time.process_time(), time.perf_counter()
    r = {
        "step": nome,
        "n": n,
        "wall_ms": round((t1 - t0) * 1000 / n, 3),
        "cpu_ms": round((c1 - c0) * 1000 / n, 3),
    }
    log(f"bench: {r}")
    return r


async def driver_postgres(app_url: str, resumo: ResumoDemo, n: int) -> dict[str, Any]:
    import asyncpg

    empresa, ticket, ana = resumo.empresa_id, resumo.tickets[1], resumo.id_de("ana@demo.local")
    conn = await asyncpg.connect(app_url)
    try:

        async def passo(i: int) -> None:
            async with conn.transaction():
                await conn.execute("SELECT set_current_tenant($1)", empresa)
                await conn.fetchrow(
                    "SELECT * FROM tickets WHERE empresa_id = $1 AND id = $2 FOR UPDATE", empresa, ticket
                )
                await conn.fetchrow("SELECT * FROM usuarios WHERE empresa_id = $1 AND id = $2", empresa, ana)
                ordem = await conn.fetchval(
                    "UPDATE tickets SET total_mensagens = total_mensagens + 1 "
                    "WHERE empresa_id = $1 AND id = $2 RETURNING total_mensagens",
                    empresa,
                    ticket,
                )
                await conn.execute(
                    "INSERT INTO mensagens (id, empresa_id, ticket_id, ordem, remetente_id, atendente_id, "
                    "tipo, conteudo, metadados, criado_em) "
                    "VALUES ($1, $2, $3, $4, $5, $5, 'texto', $6, NULL, $7)",
                    novo_id(),
                    empresa,
                    ticket,
                    ordem,
                    ana,
                    f"driver {i}",
                    agora(),
                )

        return await medir("driver (asyncpg, same statements)", n, passo)
    finally:
        await conn.close()


async def driver_sqlite(url: str, resumo: ResumoDemo, n: int) -> dict[str, Any]:
    import aiosqlite

    empresa, ticket, ana = resumo.empresa_id, resumo.tickets[1], resumo.id_de("ana@demo.local")
    path = url.removeprefix("sqlite:///")
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA foreign_keys=ON")

        async def passo(i: int) -> None:
            await conn.execute("BEGIN IMMEDIATE")
            async with conn.execute(
                "SELECT * FROM tickets WHERE empresa_id = ? AND id = ?", (empresa, ticket)
            ) as c:
                await c.fetchone()
            async with conn.execute(
                "SELECT * FROM usuarios WHERE empresa_id = ? AND id = ?", (empresa, ana)
            ) as c:
                await c.fetchone()
            async with conn.execute(
                "UPDATE tickets SET total_mensagens = total_mensagens + 1 WHERE empresa_id = ? AND id = ? "
                "RETURNING total_mensagens",
                (empresa, ticket),
            ) as c:
                (ordem,) = await c.fetchone()  # type: ignore[misc]
            await conn.execute(
                "INSERT INTO mensagens (id, empresa_id, ticket_id, ordem, remetente_id, atendente_id, tipo, "
                "conteudo, metadados, criado_em) VALUES (?, ?, ?, ?, ?, ?, 'texto', ?, NULL, ?)",
                (novo_id(), empresa, ticket, ordem, ana, ana, f"driver {i}", agora().isoformat()),
            )
            await conn.execute("COMMIT")

        return await medir("driver (aiosqlite, same statements)", n, passo)


async def asgi_cru(app: Any, url: str, token: str, conteudo: str | None, query: bytes = b"") -> None:
    """One POST as uvicorn would hand it over (a scope, one body message), no client library: the
    application's own cost, without httpx's request and response objects on the same CPU."""
    corpo = b"" if conteudo is None else json.dumps({"conteudo": conteudo}).encode()  # None: a GET
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST" if conteudo is not None else "GET",
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [
            (b"host", b"bench"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(corpo)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    entregue = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal entregue
        if entregue:
            await asyncio.sleep(3600)  # the client never disconnects during a request
        entregue = True
        return {"type": "http.request", "body": corpo, "more_body": False}

    async def send(mensagem: dict[str, Any]) -> None:
        nonlocal status
        if mensagem["type"] == "http.response.start":
            status = mensagem["status"]

    await app(scope, receive, send)
    if status != (201 if conteudo is not None else 200):
        raise RuntimeError(f"{scope['method']} answered {status}")


async def rodar(db: str, n: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="atendimento-bench-") as tmp:
        async with banco(db, Path(tmp)) as (admin_url, app_url, resumo):
            empresa, ticket, ana = resumo.empresa_id, resumo.tickets[1], resumo.id_de("ana@demo.local")
            linhas = [
                await (driver_postgres if db == "postgres" else driver_sqlite)(app_url, resumo, n),
            ]
            settings = Settings(  # type: ignore[call-arg]
                database_url=app_url, database_admin_url=admin_url, data_dir=Path(tmp), jwt_secret=SECRET
            )
            aplicacao = build_app(settings)
            await aplicacao.startup()
            try:
                servico = aplicacao.servico

                async def pelo_servico(i: int) -> None:
                    await servico.enviar_mensagem(
                        empresa, ticket, remetente_id=ana, role="atendente", conteudo=f"servico {i}"
                    )

                linhas.append(await medir("service (ServicoAtendimento.enviar_mensagem)", n, pelo_servico))
                token = aplicacao.tokens.emitir(ana, empresa, "atendente", "Ana Souza")
                transporte = httpx.ASGITransport(app=aplicacao.asgi)
                async with httpx.AsyncClient(transport=transporte, base_url="http://bench") as cliente:
                    url = f"/atendimento/tickets/{ticket}/mensagens"
                    cabecalhos = {"Authorization": f"Bearer {token}"}

                    async def pela_api(i: int) -> None:
                        resp = await cliente.post(url, json={"conteudo": f"api {i}"}, headers=cabecalhos)
                        if resp.status_code != 201:
                            raise RuntimeError(f"POST answered {resp.status_code}: {resp.text[:200]}")

                    linhas.append(
                        await medir("asgi (whole app in-process, httpx ASGITransport)", n, pela_api)
                    )

                    async def leitura(i: int) -> None:
                        resp = await cliente.get("/health")
                        if resp.status_code != 200:
                            raise RuntimeError(f"GET /health answered {resp.status_code}")

                    linhas.append(await medir("asgi GET /health (the app's floor per request)", n, leitura))
                linhas.append(
                    await medir(
                        "asgi raw (the same POST, ASGI messages in and out, no httpx)",
                        n,
                        lambda i: asgi_cru(aplicacao.asgi, url, token, f"cru {i}"),
                    )
                )
                linhas.append(
                    await medir(
                        "asgi raw GET /atendimento/tickets?limite=20 (a list, same way)",
                        n,
                        lambda i: asgi_cru(aplicacao.asgi, "/atendimento/tickets", token, None, b"limite=20"),
                    )
                )
            finally:
                await aplicacao.shutdown()
    return linhas


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("-n", type=int, default=500, help="calls per step")
    parser.add_argument("--json", help="also write the full results to this file")
    args = parser.parse_args()
    info = machine()
    resultados = {}
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        resultados[db] = uvloop.run(rodar(db, args.n))
    info["loadavg_after"] = machine()["loadavg"]
    print(f"one POST at a time, {args.n} calls per step; machine {json.dumps(info)}")
    print("| database | step | wall ms/call | CPU ms/call |")
    print("| --- | --- | ---: | ---: |")
    for db, linhas in resultados.items():
        for r in linhas:
            print(f"| {db} | {r['step']} | {r['wall_ms']:.3f} | {r['cpu_ms']:.3f} |")
    dump(args.json, {"machine": info, "results": resultados})
    return 0


if __name__ == "__main__":
    sys.exit(main())
