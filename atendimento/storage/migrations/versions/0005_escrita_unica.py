"""TEMPORARY (branch saida only): the outbox and endpoint tables of interface 2, as the brief gives
them, so that channels out can be built and tested before the escrita branch lands. Replaced wholesale
by escrita's revision at the merge.

Revision ID: 0005_escrita_unica
Revises: 0004_gravar_mensagem
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_escrita_unica"
down_revision = "0004_gravar_mensagem"
branch_labels = None
depends_on = None

ID = sa.String(36)
QUANDO = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("mensagens") as tabela:
        tabela.add_column(sa.Column("interna", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "canal_webhooks",
        sa.Column("canal_id", ID, nullable=False),
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("segredo", sa.String(200), nullable=False),
        sa.Column("segredo_anterior", sa.String(200), nullable=True),
        sa.Column("segredo_anterior_ate", QUANDO, nullable=True),
        sa.Column("ativo", sa.Boolean(), nullable=False),
        sa.Column("desativado_em", QUANDO, nullable=True),
        sa.Column("desativado_motivo", sa.Text(), nullable=True),
        sa.Column("criado_em", QUANDO, nullable=False),
        sa.Column("atualizado_em", QUANDO, nullable=False),
        sa.PrimaryKeyConstraint("canal_id", name="pk_canal_webhooks"),
        sa.ForeignKeyConstraint(
            ["empresa_id"], ["empresas.id"], name="fk_canal_webhooks_empresa_id_empresas"
        ),
        sa.ForeignKeyConstraint(
            ["empresa_id", "canal_id"],
            ["canais.empresa_id", "canais.id"],
            name="fk_canal_webhooks_empresa_id_canal_id_canais",
        ),
    )
    op.create_table(
        "saida_eventos",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("canal_id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("tipo", sa.String(32), nullable=False),
        sa.Column("mensagem_id", ID, nullable=True),
        sa.Column("dados", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column("criado_em", QUANDO, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_saida_eventos"),
        sa.UniqueConstraint("id", name="uq_saida_eventos_id"),
        sa.ForeignKeyConstraint(["empresa_id"], ["empresas.id"], name="fk_saida_eventos_empresa_id_empresas"),
    )
    op.create_index(
        "ix_saida_eventos_empresa_ticket_seq", "saida_eventos", ["empresa_id", "ticket_id", "seq"]
    )
    if op.get_bind().dialect.name == "postgresql":
        for nome in ("canal_webhooks", "saida_eventos"):
            op.execute(f"ALTER TABLE {nome} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {nome} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY isolamento_tenant ON {nome} "
                "USING (empresa_id = current_setting('app.current_tenant', true)) "
                "WITH CHECK (empresa_id = current_setting('app.current_tenant', true))"
            )


def downgrade() -> None:
    op.drop_table("saida_eventos")
    op.drop_table("canal_webhooks")
    with op.batch_alter_table("mensagens") as tabela:
        tabela.drop_column("interna")
