"""A fresh PostgreSQL database with the demo data for one benchmark run, and the pids of its backends.

Created as ``postgres`` on ``ATENDIMENTO_BENCH_PG`` (default 127.0.0.1:5432), migrated with
``upgrade_urls(admin_url, app_url)`` (the app connects as ``atendimento_app``, under RLS), the demo
data loaded as the owner; dropped at the end unless kept.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import Any

import asyncpg

PG_SERVER = os.environ.get("ATENDIMENTO_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")


@contextlib.asynccontextmanager
async def banco_postgres(keep: bool) -> Any:
    from atendimento.storage.banco import Storage
    from atendimento.storage.demo import carregar_demo
    from atendimento.storage.migracoes import upgrade_urls

    nome = f"atendimento_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(f"{PG_SERVER}/postgres", timeout=10)
    try:
        await conn.execute(f"CREATE DATABASE {nome}")
    finally:
        await conn.close()
    admin_url = f"{PG_SERVER}/{nome}"
    app_url = admin_url.replace("://postgres@", "://atendimento_app@", 1)
    try:
        await upgrade_urls(admin_url, app_url)
        storage = Storage(admin_url)
        try:
            resumo = await carregar_demo(storage)
        finally:
            await storage.close()
        yield admin_url, app_url, nome, resumo
    finally:
        if not keep:
            conn = await asyncpg.connect(f"{PG_SERVER}/postgres", timeout=10)
            try:
                await conn.execute(f"DROP DATABASE IF EXISTS {nome} WITH (FORCE)")
            finally:
                await conn.close()


async def backends_pg(nome: str) -> list[int]:
    conn = await asyncpg.connect(f"{PG_SERVER}/postgres", timeout=10)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", nome
        )
    finally:
        await conn.close()
    return [r["pid"] for r in rows]
