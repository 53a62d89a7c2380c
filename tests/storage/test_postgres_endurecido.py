"""PostgreSQL hardening (migration 0003): the search_path hijack of the SECURITY DEFINER login function,
reproduced as the application role; the role's lack of temporary objects; an owner that is not a
superuser."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from atendimento.config import async_database_url
from atendimento.storage import Storage, upgrade_urls
from atendimento.storage.demo import carregar_demo
from atendimento.storage.migracoes import _preparar_papel_app, alembic_config

if TYPE_CHECKING:
    from conftest import BancoDemo, BancoTeste

pytestmark = pytest.mark.postgres

# As the application role: a temporary function that reads every tenant's users as whoever runs it,
# and a temporary view named like the table, over it. 0001's login function, whose search_path has
# pg_temp implicitly first, reads the view instead of the table, as the owner.
_SEQUESTRO = """
CREATE FUNCTION pg_temp.vazar() RETURNS TABLE (id text, empresa_id text, nome text, email text,
    role text, status_atendimento text, senha_hash text, ativo boolean)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT u.id::text, u.empresa_id::text, current_user::text, 'alvo@sequestro'::text,
                      u.role::text, u.status_atendimento::text, u.senha_hash::text, true
               FROM public.usuarios u;
END $$;
CREATE TEMP VIEW usuarios AS SELECT * FROM pg_temp.vazar();
"""


def _nome(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _sequestrar(app_url: str) -> list[asyncpg.Record]:
    """Run the hijack as the application role; the rows the login function returns for its e-mail."""
    conn = await asyncpg.connect(_dsn(app_url))
    try:
        await conn.execute(_SEQUESTRO)
        return list(await conn.fetch("SELECT * FROM buscar_usuario_login('alvo@sequestro')"))
    finally:
        await conn.close()


async def _como_admin(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(_dsn(admin_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _migrar_ate(admin_url: str, app_url: str, revisao: str, *, descer: bool = False) -> None:
    from alembic import command

    passo = command.downgrade if descer else command.upgrade
    engine = create_async_engine(async_database_url(admin_url), poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: passo(alembic_config(c), revisao))
            await conn.run_sync(_preparar_papel_app, app_url)
            # As 0001 left it: PUBLIC (so the application role) may create temporary objects.
            await conn.exec_driver_sql(
                f"GRANT TEMPORARY ON DATABASE {admin_url.rsplit('/', 1)[-1]} TO PUBLIC"
            )
    finally:
        await engine.dispose()


async def test_o_sequestro_funcionava_com_a_0001(pg_servidor: Any, _pg_modelos: Any, tmp_path: Any) -> None:
    """The attack as it was: shows what the next test guards against is real."""
    nome = await pg_servidor.criar(pg_servidor.proximo())
    banco: BancoTeste = pg_servidor.banco(nome, tmp_path)
    try:
        # Today's demo loader needs the head's schema (0002's column and table, 0004's message
        # function), so the data goes in at head and the schema then steps back to before 0003,
        # whose downgrade puts 0001's functions back as they were.
        await _migrar_ate(banco.admin_url, banco.app_url, "head")
        demo = Storage(banco.admin_url)
        try:
            await carregar_demo(demo)
        finally:
            await demo.close()
        await _migrar_ate(banco.admin_url, banco.app_url, "0002_retomada", descer=True)
        linhas = await _sequestrar(banco.app_url)
        assert len({linha["empresa_id"] for linha in linhas}) == 2  # both tenants' users
        assert {linha["nome"] for linha in linhas} == {"postgres"}  # ran as the owner
        assert all(linha["senha_hash"].startswith("$argon2") for linha in linhas)
    finally:
        await pg_servidor.apagar(nome)


async def test_o_sequestro_falha_no_head(demo_pg: BancoDemo) -> None:
    banco = demo_pg.banco
    # `db upgrade` on this copy (a database made from a template gets PUBLIC's TEMPORARY back).
    await upgrade_urls(banco.admin_url, banco.app_url)
    # First wall: the application role cannot create temporary objects at all.
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="temporary"):
        await _sequestrar(banco.app_url)
    # Second wall, should TEMPORARY come back (a restore that re-grants it): the function's pinned
    # search_path has pg_temp last and its tables are schema-qualified, so the view is never read.
    await _como_admin(
        banco.admin_url, f"GRANT TEMPORARY ON DATABASE {banco.admin_url.rsplit('/', 1)[-1]} TO PUBLIC"
    )
    assert await _sequestrar(banco.app_url) == []
    encontrado = await demo_pg.storage.buscar_login("ana@demo.local")
    assert encontrado is not None and encontrado[0].nome != "postgres"


async def test_funcoes_security_definer_tem_search_path_fixo(demo_pg: BancoDemo) -> None:
    conn = await asyncpg.connect(_dsn(demo_pg.banco.admin_url))
    try:
        linhas = await conn.fetch(
            "SELECT p.proname, p.proconfig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE p.prosecdef AND n.nspname = current_schema()"
        )
    finally:
        await conn.close()
    # Channels out's relay claims and counts across tenants through two more (migration 0007).
    assert {linha["proname"] for linha in linhas} == {
        "buscar_usuario_login",
        "banco_vazio",
        "saida_reivindicar",
        "saida_endpoints",
    }
    for linha in linhas:
        assert linha["proconfig"] == ["search_path=pg_catalog, public, pg_temp"], linha


async def test_papel_da_aplicacao_nao_cria_objetos(demo_pg: BancoDemo) -> None:
    banco = demo_pg.banco
    await upgrade_urls(banco.admin_url, banco.app_url)
    conn = await asyncpg.connect(_dsn(banco.app_url))
    try:
        for sql in (
            "CREATE TEMP TABLE t (x int)",
            "CREATE TABLE public.t (x int)",
            "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
async def dono_sem_superusuario(
    pg_servidor: Any, _pg_modelos: Any, tmp_path: Any
) -> AsyncIterator[BancoTeste]:
    """A database owned by a role that is not a superuser, with only LOGIN (see docs/storage.md)."""
    papel = f"atendimento_dono_{uuid.uuid4().hex[:8]}"
    nome = f"{pg_servidor.prefixo}_dono_{uuid.uuid4().hex[:6]}"
    servidor = pg_servidor.banco("postgres", tmp_path).admin_url
    await _como_admin(servidor, f"CREATE ROLE {papel} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
    try:
        await _como_admin(servidor, f"CREATE DATABASE {nome} OWNER {papel}")
        pg_servidor.criados.append(nome)
        base = pg_servidor.banco(nome, tmp_path)
        admin = make_url(base.admin_url).set(username=papel).render_as_string(hide_password=False)
        yield replace(base, admin_url=admin)
        await pg_servidor.apagar(nome)
    finally:
        await _como_admin(servidor, f"DROP ROLE IF EXISTS {papel}")


async def test_dono_que_nao_e_superusuario(dono_sem_superusuario: BancoTeste) -> None:
    banco = dono_sem_superusuario
    await upgrade_urls(banco.admin_url, banco.app_url)
    dono = Storage(banco.admin_url)
    try:
        resumo = await carregar_demo(dono)
        problemas = await dono.problemas_do_papel()
        # The owner of the tables, and nothing more: not a superuser, no BYPASSRLS.
        assert len(problemas) == 1 and "é dono de tabelas" in problemas[0], problemas
    finally:
        await dono.close()
    app = Storage(banco.app_url)
    try:
        assert await app.problemas_do_papel() == []
        encontrado = await app.buscar_login("carla@outra.local")
        assert encontrado is not None and encontrado[0].empresa_id == resumo.outra_empresa_id
        assert await app.banco_vazio() is False
    finally:
        await app.close()
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await _sequestrar(banco.app_url)


async def test_0003_desce_e_sobe_de_novo(pg_database: BancoTeste) -> None:
    from alembic import command

    async def _config_de_busca() -> list[str]:
        conn = await asyncpg.connect(_dsn(pg_database.admin_url))
        try:
            valor = await conn.fetchval(
                "SELECT proconfig FROM pg_proc WHERE proname = 'buscar_usuario_login'"
            )
        finally:
            await conn.close()
        return list(valor)

    engine = create_async_engine(async_database_url(pg_database.admin_url), poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0001_inicial"))
    finally:
        await engine.dispose()
    assert await _config_de_busca() != ["search_path=pg_catalog, public, pg_temp"]
    await upgrade_urls(pg_database.admin_url, pg_database.app_url)
    assert await _config_de_busca() == ["search_path=pg_catalog, public, pg_temp"]
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await _sequestrar(pg_database.app_url)
