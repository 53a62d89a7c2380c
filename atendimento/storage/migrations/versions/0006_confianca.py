"""Trust nobody: ticket history, integrations bound to their channels.

``ticket_historico``: every change of a ticket (who: a user id or ``sistema``; what; when), written
in the transaction of the change. ``usuarios_canais``: the channels a user of role ``integracao``
may write to. Both tenant tables under RLS on PostgreSQL, like every other (the application role's
grants come from `db upgrade`, storage/migracoes.py, for every tenant table of the models).

Revision ID: 0006_confianca
Revises: 0005_escrita_unica
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_confianca"
down_revision = "0005_escrita_unica"
branch_labels = None
depends_on = None

ID = sa.String(36)
QUANDO = sa.DateTime(timezone=True)
TABELAS = ("usuarios_canais", "ticket_historico")


def upgrade() -> None:
    op.create_table(
        "usuarios_canais",
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("usuario_id", ID, nullable=False),
        sa.Column("canal_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("empresa_id", "usuario_id", "canal_id", name="pk_usuarios_canais"),
        sa.ForeignKeyConstraint(
            ["empresa_id"], ["empresas.id"], name="fk_usuarios_canais_empresa_id_empresas"
        ),
        sa.ForeignKeyConstraint(
            ["empresa_id", "usuario_id"],
            ["usuarios.empresa_id", "usuarios.id"],
            name="fk_usuarios_canais_empresa_id_usuario_id_usuarios",
        ),
        sa.ForeignKeyConstraint(
            ["empresa_id", "canal_id"],
            ["canais.empresa_id", "canais.id"],
            name="fk_usuarios_canais_empresa_id_canal_id_canais",
        ),
    )
    op.create_table(
        "ticket_historico",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("ator_id", sa.String(64), nullable=False),
        sa.Column("tipo", sa.String(32), nullable=False),
        sa.Column("mudancas", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("criado_em", QUANDO, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_historico"),
        sa.ForeignKeyConstraint(
            ["empresa_id"], ["empresas.id"], name="fk_ticket_historico_empresa_id_empresas"
        ),
        sa.ForeignKeyConstraint(
            ["empresa_id", "ticket_id"],
            ["tickets.empresa_id", "tickets.id"],
            name="fk_ticket_historico_empresa_id_ticket_id_tickets",
        ),
    )
    op.create_index(
        "ix_ticket_historico_empresa_ticket_id", "ticket_historico", ["empresa_id", "ticket_id", "id"]
    )
    if op.get_bind().dialect.name == "postgresql":
        for tabela in TABELAS:
            op.execute(f"ALTER TABLE {tabela} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {tabela} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY isolamento_tenant ON {tabela} "
                "USING (empresa_id = current_setting('app.current_tenant', true)) "
                "WITH CHECK (empresa_id = current_setting('app.current_tenant', true))"
            )


def downgrade() -> None:
    op.drop_index("ix_ticket_historico_empresa_ticket_id", table_name="ticket_historico")
    op.drop_table("ticket_historico")
    op.drop_table("usuarios_canais")
