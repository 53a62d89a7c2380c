"""Catch-up and retries: an index for paging tickets by (atualizado_em, id), the tenant's last update
instant (so ``atualizado_em`` grows in commit order), and the table of idempotency keys, under RLS on
PostgreSQL like every tenant table.

Revision ID: 0002_retomada
Revises: 0001_inicial
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_retomada"
down_revision = "0001_inicial"
branch_labels = None
depends_on = None

ID = sa.String(36)
QUANDO = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_index("ix_tickets_empresa_atualizado", "tickets", ["empresa_id", "atualizado_em", "id"])
    with op.batch_alter_table("contadores_ticket") as tabela:
        tabela.add_column(sa.Column("ultima_atualizacao", QUANDO, nullable=True))
    op.create_table(
        "chaves_idempotencia",
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("usuario_id", ID, nullable=False),
        sa.Column("chave", sa.String(200), nullable=False),
        sa.Column("impressao", sa.String(96), nullable=False),
        sa.Column("resultado", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("criado_em", QUANDO, nullable=False),
        sa.PrimaryKeyConstraint("empresa_id", "usuario_id", "chave", name="pk_chaves_idempotencia"),
        sa.ForeignKeyConstraint(
            ["empresa_id"], ["empresas.id"], name="fk_chaves_idempotencia_empresa_id_empresas"
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        # As in 0001: FORCE holds the owner to the policy too. The application role's grants are
        # given by `db upgrade` (storage/migracoes.py) for every tenant table of the models.
        op.execute("ALTER TABLE chaves_idempotencia ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE chaves_idempotencia FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY isolamento_tenant ON chaves_idempotencia "
            "USING (empresa_id = current_setting('app.current_tenant', true)) "
            "WITH CHECK (empresa_id = current_setting('app.current_tenant', true))"
        )


def downgrade() -> None:
    op.drop_table("chaves_idempotencia")
    with op.batch_alter_table("contadores_ticket") as tabela:
        tabela.drop_column("ultima_atualizacao")
    op.drop_index("ix_tickets_empresa_atualizado", table_name="tickets")
