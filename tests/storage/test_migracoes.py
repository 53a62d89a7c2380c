"""The shipped migrations: they reach head, run twice harmlessly, and match the models exactly."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from atendimento.config import async_database_url
from atendimento.storage import Storage, upgrade, upgrade_database, upgrade_urls
from atendimento.storage.migracoes import alembic_config, revisao_atual
from atendimento.storage.modelos import Base

if TYPE_CHECKING:
    from conftest import BancoTeste


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def _diferencas(url: str) -> list[Any]:
    engine = create_async_engine(async_database_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await engine.dispose()


async def test_migracoes_chegam_ao_head_e_batem_com_os_modelos(banco_vazio: BancoTeste) -> None:
    assert await revisao_atual(banco_vazio.admin_url) == _head()
    assert await _diferencas(banco_vazio.admin_url) == []


async def test_upgrade_de_novo_nao_muda_nada(banco_vazio: BancoTeste) -> None:
    await upgrade(banco_vazio.settings())
    await upgrade_urls(banco_vazio.admin_url, banco_vazio.app_url)
    # The sync form, for callers outside an event loop.
    await asyncio.to_thread(upgrade_database, banco_vazio.admin_url, banco_vazio.app_url)
    assert await revisao_atual(banco_vazio.admin_url) == _head()
    storage = Storage(banco_vazio.app_url)
    try:
        assert await storage.ping()
        assert await storage.banco_vazio()
    finally:
        await storage.close()


async def test_sqlite_novo_em_pasta_que_nao_existe(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/nova/pasta/atendimento.db"
    assert await revisao_atual(f"sqlite:///{tmp_path}/vazio.db") is None
    await upgrade_urls(url)
    assert await revisao_atual(url) == _head()
    assert (tmp_path / "nova" / "pasta" / "atendimento.db").is_file()


@pytest.mark.postgres
async def test_postgres_cria_o_papel_da_aplicacao_com_so_dml(pg_database: BancoTeste) -> None:
    storage = Storage(pg_database.app_url)
    try:
        assert await storage.problemas_do_papel() == []
        async with storage.engine.connect() as conn:
            privilegios = (
                await conn.execute(
                    text(
                        "SELECT DISTINCT privilege_type FROM information_schema.role_table_grants "
                        "WHERE grantee = 'atendimento_app' AND table_name = 'tickets'"
                    )
                )
            ).scalars()
            assert set(privilegios) == {"SELECT", "INSERT", "UPDATE", "DELETE"}
            # The migration bookkeeping: read (serve checks the schema is at head), never written.
            leitura, escrita = (
                await conn.execute(
                    text(
                        "SELECT has_table_privilege('alembic_version', 'SELECT'), "
                        "has_table_privilege('alembic_version', 'UPDATE')"
                    )
                )
            ).one()
            assert (leitura, escrita) == (True, False)
    finally:
        await storage.close()


@pytest.mark.postgres
async def test_postgres_recusa_papel_da_aplicacao_com_bypassrls(pg_database: BancoTeste) -> None:
    admin = Storage(pg_database.admin_url)
    try:
        async with admin.engine.begin() as conn:
            await conn.execute(
                text(
                    "DO $$ BEGIN CREATE ROLE atendimento_teste_bypass LOGIN BYPASSRLS; "
                    "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
                )
            )
        app_url = pg_database.app_url.replace("atendimento_app@", "atendimento_teste_bypass@")
        with pytest.raises(RuntimeError, match="BYPASSRLS"):
            await upgrade_urls(pg_database.admin_url, app_url)
    finally:
        # Refused before any grant, so the role owns nothing and can go (no login role left behind).
        async with admin.engine.begin() as conn:
            await conn.execute(text("DROP ROLE IF EXISTS atendimento_teste_bypass"))
        await admin.close()
