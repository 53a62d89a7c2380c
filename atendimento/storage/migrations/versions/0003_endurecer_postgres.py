"""PostgreSQL hardening: SECURITY DEFINER functions with a pinned search_path and schema-qualified
tables; no temporary objects for anyone but the database owner.

0001 created ``buscar_usuario_login`` and ``banco_vazio`` with ``SET search_path FROM CURRENT``
(``"$user", public``), where ``pg_temp`` is implicitly searched *first* for tables and views. The
application role could create a temporary view named ``usuarios`` over a temporary function of its
own, call the login function, and have that function run as the owner (who bypasses or is granted
past row-level security): every tenant's users and hashes came back. Now:

- both functions are replaced (``CREATE OR REPLACE`` keeps their owner and grants) with bodies that
  name the schema of every table and ``SET search_path = pg_catalog, <schema>, pg_temp``: ``pg_temp``
  last, so nothing temporary can shadow a table, a function or an operator they use;
- ``TEMPORARY`` on the database is revoked from PUBLIC (and so from the application role, which
  needs no temporary table): without it the role cannot create the shadowing objects at all.
  ``db upgrade`` re-asserts this on every run (``migracoes._preparar_papel_app``), since a database
  restored or copied from a template gets the default privileges back.

Independent of 0002's content; only ``down_revision`` names the previous step.

Revision ID: 0003_endurecer_postgres
Revises: 0002_retomada
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0003_endurecer_postgres"
down_revision = "0002_retomada"
branch_labels = None
depends_on = None


def _ident(nome: str) -> str:
    return '"' + nome.replace('"', '""') + '"'


def _buscar_usuario_login(esquema: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {esquema}.buscar_usuario_login(p_email text)
RETURNS TABLE (id text, empresa_id text, nome text, email text, role text,
               status_atendimento text, senha_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, {esquema}, pg_temp AS $$
  SELECT u.id::text, u.empresa_id::text, u.nome::text, u.email::text, u.role::text,
         u.status_atendimento::text, u.senha_hash::text
  FROM {esquema}.usuarios u WHERE u.email OPERATOR(pg_catalog.=) p_email AND u.ativo
$$
"""


def _banco_vazio(esquema: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {esquema}.banco_vazio() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, {esquema}, pg_temp AS $$
  SELECT NOT EXISTS (SELECT 1 FROM {esquema}.empresas) AND NOT EXISTS (SELECT 1 FROM {esquema}.usuarios)
$$
"""


# 0001's definitions, for downgrade only.
_ANTIGAS = (
    """
CREATE OR REPLACE FUNCTION buscar_usuario_login(p_email text)
RETURNS TABLE (id text, empresa_id text, nome text, email text, role text,
               status_atendimento text, senha_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT u.id::text, u.empresa_id::text, u.nome::text, u.email::text, u.role::text,
         u.status_atendimento::text, u.senha_hash::text
  FROM usuarios u WHERE u.email = p_email AND u.ativo
$$
""",
    """
CREATE OR REPLACE FUNCTION banco_vazio() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT NOT EXISTS (SELECT 1 FROM empresas) AND NOT EXISTS (SELECT 1 FROM usuarios)
$$
""",
)


def _esquema_e_banco() -> tuple[str, str]:
    # The schema the tables were created in (the migration's current schema, as in 0001).
    linha = op.get_bind().execute(text("SELECT current_schema(), current_database()")).one()
    return _ident(linha[0]), _ident(linha[1])


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    esquema, banco = _esquema_e_banco()
    op.execute(_buscar_usuario_login(esquema))
    op.execute(_banco_vazio(esquema))
    op.execute(f"REVOKE TEMPORARY ON DATABASE {banco} FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _, banco = _esquema_e_banco()
    for ddl in _ANTIGAS:
        op.execute(ddl)
    op.execute(f"GRANT TEMPORARY ON DATABASE {banco} TO PUBLIC")
