"""Run the shipped Alembic migrations, then (PostgreSQL) make sure the application role exists and
has exactly what it needs: DML on the tables and EXECUTE on the four functions — no ownership.

``db upgrade`` and ``serve`` call ``await upgrade(settings)``; sync callers (outside an event loop)
use ``upgrade_database(admin_url, app_url)``.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from atendimento.config import Settings, async_database_url, e_postgres
from atendimento.private_files import preparar_sqlite
from atendimento.storage.banco import caminho_sqlite
from atendimento.storage.modelos import TABELAS_TENANT

log = logging.getLogger(__name__)

PASTA_MIGRACOES = Path(__file__).parent / "migrations"
PAPEL_APP_PADRAO = "atendimento_app"
FUNCOES_APP = (
    "set_current_tenant(text)",
    "buscar_usuario_login(text)",
    "banco_vazio()",
    "acrescentar_mensagem(text, text, text, text, text, text, text, jsonb, timestamptz, boolean, text, text, "
    "timestamptz, text[], text)",
    "saida_reivindicar(text, double precision, integer, text[])",
    "saida_endpoints()",
)
# Any constant: serialises concurrent `db upgrade` runs against one database.
_TRAVA_MIGRACAO = 7_245_001


class ErroMigracao(RuntimeError):
    pass


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PASTA_MIGRACOES))
    config.attributes["connection"] = connection
    return config


def _ident(nome: str) -> str:
    return '"' + nome.replace('"', '""') + '"'


def _literal(valor: str) -> str:
    return "'" + valor.replace("'", "''") + "'"


def _migrar(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _TRAVA_MIGRACAO})
    command.upgrade(alembic_config(connection), "head")


def _preparar_papel_app(connection: Connection, app_url: str) -> None:
    """Create the application role when missing, check it cannot bypass RLS, grant it DML."""
    url = make_url(app_url)
    papel = url.username
    dono = connection.execute(text("SELECT current_user")).scalar_one()
    if not papel or papel == dono:
        log.warning(
            "a aplicação usa o papel dono das tabelas (%s); use ATENDIMENTO_DATABASE_URL com outro papel "
            "(ex.: %s) para que o RLS valha também para ela",
            dono,
            PAPEL_APP_PADRAO,
        )
        return
    existe = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :p"), {"p": papel}).first()
    if existe is None:
        senha = f" PASSWORD {_literal(url.password)}" if url.password else ""
        # Another `db upgrade` (another test database, say) may create it at the same moment.
        connection.execute(
            text(
                "DO $$ BEGIN "
                f"CREATE ROLE {_ident(papel)} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE{senha}; "
                "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            )
        )
    atributos = connection.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :p"), {"p": papel}
    ).one()
    if atributos.rolsuper or atributos.rolbypassrls:
        raise ErroMigracao(
            f"o papel da aplicação {papel} é superusuário ou tem BYPASSRLS; o RLS não valeria para ele"
        )
    banco = connection.execute(text("SELECT current_database()")).scalar_one()
    connection.execute(text(f"GRANT CONNECT ON DATABASE {_ident(banco)} TO {_ident(papel)}"))
    # No temporary objects (migration 0003): they could shadow what a SECURITY DEFINER function
    # reads. Again on every upgrade: a database restored or copied from a template has PUBLIC's
    # default TEMPORARY back. The application needs none.
    connection.execute(text(f"REVOKE TEMPORARY ON DATABASE {_ident(banco)} FROM PUBLIC"))
    connection.execute(text(f"REVOKE TEMPORARY ON DATABASE {_ident(banco)} FROM {_ident(papel)}"))
    connection.execute(text(f"GRANT USAGE ON SCHEMA {_ident(_esquema(connection))} TO {_ident(papel)}"))
    # Only those the database has, as for the functions below: a test (or an operator) may stop at
    # an older revision.
    existentes = [
        t for t in TABELAS_TENANT if connection.execute(text("SELECT to_regclass(:t)"), {"t": t}).scalar()
    ]
    tabelas = ", ".join(_ident(t) for t in existentes)
    connection.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {tabelas} TO {_ident(papel)}"))
    for funcao in FUNCOES_APP:
        # Only those the database has: a test (or an operator) may stop at an older revision.
        if connection.execute(text("SELECT to_regprocedure(:f)"), {"f": funcao}).scalar() is not None:
            connection.execute(text(f"GRANT EXECUTE ON FUNCTION {funcao} TO {_ident(papel)}"))
    # Read-only, so that `serve` (connected as this role) can check the schema is at head.
    connection.execute(text(f"GRANT SELECT ON alembic_version TO {_ident(papel)}"))


def _esquema(connection: Connection) -> str:
    return str(connection.execute(text("SELECT current_schema()")).scalar_one())


async def upgrade_urls(admin_url: str, app_url: str | None = None) -> None:
    """Migrate the database at ``admin_url`` (the owner) to head; on PostgreSQL, prepare
    ``app_url``'s role for the application."""
    if not e_postgres(admin_url):
        caminho = caminho_sqlite(admin_url)
        if caminho is not None:
            preparar_sqlite(caminho)
    opcoes: dict[str, Any] = {"poolclass": NullPool}
    engine = create_async_engine(async_database_url(admin_url), **opcoes)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_migrar)
            if e_postgres(admin_url) and app_url is not None and e_postgres(app_url):
                await conn.run_sync(_preparar_papel_app, app_url)
    finally:
        await engine.dispose()


async def upgrade(settings: Settings) -> None:
    """What ``db upgrade`` and ``serve`` run: migrate with the admin URL, prepare the app role."""
    await upgrade_urls(settings.effective_admin_database_url, settings.effective_database_url)


def upgrade_database(admin_url: str, app_url: str | None = None) -> None:
    """Sync form of ``upgrade_urls``, for callers outside an event loop."""
    asyncio.run(upgrade_urls(admin_url, app_url))


async def revisao_atual(url: str) -> str | None:
    """The revision the database is at (None before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    engine = create_async_engine(async_database_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
    finally:
        await engine.dispose()
