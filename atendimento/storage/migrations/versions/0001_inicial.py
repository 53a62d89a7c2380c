"""Initial schema: tenants, users, queues, channels, customers, tickets, messages; on PostgreSQL,
row-level security and the functions the application calls.

Revision ID: 0001_inicial
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_inicial"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(36)
QUANDO = sa.DateTime(timezone=True)

# Tenant tables and the column naming the tenant. Frozen here on purpose (not imported from the
# models): a migration describes the schema as it was when it was written.
TABELAS_TENANT = {
    "empresas": "id",
    "contadores_ticket": "empresa_id",
    "usuarios": "empresa_id",
    "filas": "empresa_id",
    "canais": "empresa_id",
    "clientes": "empresa_id",
    "tickets": "empresa_id",
    "mensagens": "empresa_id",
}


def _fk_empresa(tabela: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["empresa_id"], ["empresas.id"], name=f"fk_{tabela}_empresa_id_empresas")


def _criar_tabelas() -> None:
    op.create_table(
        "empresas",
        sa.Column("id", ID, nullable=False),
        sa.Column("nome", sa.String(200), nullable=False),
        sa.Column("criado_em", QUANDO, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_empresas"),
    )
    op.create_table(
        "contadores_ticket",
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("ultimo_numero", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("empresa_id", name="pk_contadores_ticket"),
        _fk_empresa("contadores_ticket"),
    )
    op.create_table(
        "usuarios",
        sa.Column("id", ID, nullable=False),
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("nome", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("senha_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("status_atendimento", sa.String(16), nullable=True),
        sa.Column("ativo", sa.Boolean(), nullable=False),
        sa.Column("criado_em", QUANDO, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_usuarios"),
        sa.UniqueConstraint("empresa_id", "id", name="uq_usuarios_empresa_id_id"),
        sa.UniqueConstraint("email", name="uq_usuarios_email"),
        sa.CheckConstraint(
            "status_atendimento IS NULL OR status_atendimento IN ('online', 'ocupado', 'ausente', 'offline')",
            name="ck_usuarios_status_atendimento",
        ),
        _fk_empresa("usuarios"),
    )
    op.create_index("ix_usuarios_empresa_role", "usuarios", ["empresa_id", "role"])
    op.create_table(
        "filas",
        sa.Column("id", ID, nullable=False),
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("nome", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_filas"),
        sa.UniqueConstraint("empresa_id", "id", name="uq_filas_empresa_id_id"),
        sa.UniqueConstraint("empresa_id", "nome", name="uq_filas_empresa_id_nome"),
        _fk_empresa("filas"),
    )
    op.create_table(
        "canais",
        sa.Column("id", ID, nullable=False),
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("nome", sa.String(200), nullable=False),
        sa.Column("tipo", sa.String(16), nullable=False),
        sa.Column("fila_padrao_id", ID, nullable=False),
        sa.Column("ativo", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_canais"),
        sa.UniqueConstraint("empresa_id", "id", name="uq_canais_empresa_id_id"),
        sa.ForeignKeyConstraint(
            ["empresa_id", "fila_padrao_id"],
            ["filas.empresa_id", "filas.id"],
            name="fk_canais_empresa_id_fila_padrao_id_filas",
        ),
        sa.CheckConstraint("tipo IN ('whatsapp', 'email', 'webchat')", name="ck_canais_tipo"),
        _fk_empresa("canais"),
    )
    op.create_table(
        "clientes",
        sa.Column("id", ID, nullable=False),
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("nome", sa.String(200), nullable=False),
        sa.Column("contato", sa.String(200), nullable=False),
        sa.Column("criado_em", QUANDO, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_clientes"),
        sa.UniqueConstraint("empresa_id", "id", name="uq_clientes_empresa_id_id"),
        sa.UniqueConstraint("empresa_id", "contato", name="uq_clientes_empresa_id_contato"),
        _fk_empresa("clientes"),
    )
    op.create_table(
        "tickets",
        sa.Column("id", ID, nullable=False),
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("numero", sa.Integer(), nullable=False),
        sa.Column("cliente_id", ID, nullable=False),
        sa.Column("canal_id", ID, nullable=False),
        sa.Column("fila_id", ID, nullable=False),
        sa.Column("atendente_id", ID, nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("prioridade", sa.String(16), nullable=False),
        sa.Column("assunto", sa.String(200), nullable=True),
        sa.Column("descricao", sa.Text(), nullable=True),
        sa.Column("total_mensagens", sa.Integer(), nullable=False),
        sa.Column("criado_em", QUANDO, nullable=False),
        sa.Column("atualizado_em", QUANDO, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
        sa.UniqueConstraint("empresa_id", "id", name="uq_tickets_empresa_id_id"),
        sa.UniqueConstraint("empresa_id", "numero", name="uq_tickets_empresa_id_numero"),
        sa.ForeignKeyConstraint(
            ["empresa_id", "cliente_id"],
            ["clientes.empresa_id", "clientes.id"],
            name="fk_tickets_empresa_id_cliente_id_clientes",
        ),
        sa.ForeignKeyConstraint(
            ["empresa_id", "canal_id"],
            ["canais.empresa_id", "canais.id"],
            name="fk_tickets_empresa_id_canal_id_canais",
        ),
        sa.ForeignKeyConstraint(
            ["empresa_id", "fila_id"],
            ["filas.empresa_id", "filas.id"],
            name="fk_tickets_empresa_id_fila_id_filas",
        ),
        sa.ForeignKeyConstraint(
            ["empresa_id", "atendente_id"],
            ["usuarios.empresa_id", "usuarios.id"],
            name="fk_tickets_empresa_id_atendente_id_usuarios",
        ),
        sa.CheckConstraint(
            "status IN ('aberto', 'em_atendimento', 'aguardando_cliente', 'resolvido', 'fechado')",
            name="ck_tickets_status",
        ),
        sa.CheckConstraint(
            "prioridade IN ('baixa', 'media', 'alta', 'urgente')", name="ck_tickets_prioridade"
        ),
        _fk_empresa("tickets"),
    )
    op.create_index("ix_tickets_empresa_status", "tickets", ["empresa_id", "status"])
    op.create_index("ix_tickets_empresa_atendente", "tickets", ["empresa_id", "atendente_id"])
    op.create_index("ix_tickets_empresa_cliente_canal", "tickets", ["empresa_id", "cliente_id", "canal_id"])
    op.create_table(
        "mensagens",
        sa.Column("id", ID, nullable=False),
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("ordem", sa.Integer(), nullable=False),
        sa.Column("remetente_id", sa.String(64), nullable=False),
        sa.Column("atendente_id", ID, nullable=True),
        sa.Column("tipo", sa.String(16), nullable=False),
        sa.Column("conteudo", sa.Text(), nullable=False),
        sa.Column("metadados", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column("criado_em", QUANDO, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mensagens"),
        sa.UniqueConstraint(
            "empresa_id", "ticket_id", "ordem", name="uq_mensagens_empresa_id_ticket_id_ordem"
        ),
        sa.ForeignKeyConstraint(
            ["empresa_id", "ticket_id"],
            ["tickets.empresa_id", "tickets.id"],
            name="fk_mensagens_empresa_id_ticket_id_tickets",
        ),
        sa.ForeignKeyConstraint(
            ["empresa_id", "atendente_id"],
            ["usuarios.empresa_id", "usuarios.id"],
            name="fk_mensagens_empresa_id_atendente_id_usuarios",
        ),
        sa.CheckConstraint(
            "tipo IN ('texto', 'imagem', 'audio', 'video', 'arquivo')", name="ck_mensagens_tipo"
        ),
        _fk_empresa("mensagens"),
    )


# The tenant of the current transaction. set_config(..., true) is transaction-local: the value is
# gone at COMMIT/ROLLBACK, so a pooled connection cannot carry it into someone else's transaction.
SET_CURRENT_TENANT = """
CREATE FUNCTION set_current_tenant(p_empresa_id text) RETURNS void
LANGUAGE sql VOLATILE AS $$ SELECT set_config('app.current_tenant', p_empresa_id, true) $$
"""

# Login happens before there is a tenant, and RLS hides every usuario then. This function runs as
# the owner (who has a read-all policy on usuarios, below) and returns one active user by email.
BUSCAR_USUARIO_LOGIN = """
CREATE FUNCTION buscar_usuario_login(p_email text)
RETURNS TABLE (id text, empresa_id text, nome text, email text, role text,
               status_atendimento text, senha_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT u.id::text, u.empresa_id::text, u.nome::text, u.email::text, u.role::text,
         u.status_atendimento::text, u.senha_hash::text
  FROM usuarios u WHERE u.email = p_email AND u.ativo
$$
"""

# The demo loader refuses a database with data; only the owner can see across tenants.
BANCO_VAZIO = """
CREATE FUNCTION banco_vazio() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT NOT EXISTS (SELECT 1 FROM empresas) AND NOT EXISTS (SELECT 1 FROM usuarios)
$$
"""


def _rls_postgres() -> None:
    for tabela, coluna in TABELAS_TENANT.items():
        op.execute(f"ALTER TABLE {tabela} ENABLE ROW LEVEL SECURITY")
        # FORCE: the owner is held to the policies too, not only other roles.
        op.execute(f"ALTER TABLE {tabela} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY isolamento_tenant ON {tabela} "
            f"USING ({coluna} = current_setting('app.current_tenant', true)) "
            f"WITH CHECK ({coluna} = current_setting('app.current_tenant', true))"
        )
    # Read-all for the owner (the admin URL's role) on the two tables its SECURITY DEFINER functions
    # need. The application role is never the owner (`db upgrade` checks), so this grants it nothing.
    for tabela in ("empresas", "usuarios"):
        op.execute(f"CREATE POLICY leitura_dono ON {tabela} FOR SELECT TO CURRENT_USER USING (true)")
    for ddl in (SET_CURRENT_TENANT, BUSCAR_USUARIO_LOGIN, BANCO_VAZIO):
        op.execute(ddl)
    for assinatura in ("set_current_tenant(text)", "buscar_usuario_login(text)", "banco_vazio()"):
        op.execute(f"REVOKE ALL ON FUNCTION {assinatura} FROM PUBLIC")


def upgrade() -> None:
    _criar_tabelas()
    if op.get_bind().dialect.name == "postgresql":
        _rls_postgres()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for assinatura in ("banco_vazio()", "buscar_usuario_login(text)", "set_current_tenant(text)"):
            op.execute(f"DROP FUNCTION IF EXISTS {assinatura}")
    for tabela in reversed(list(TABELAS_TENANT)):
        op.drop_table(tabela)
