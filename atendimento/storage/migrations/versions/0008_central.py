"""Running a contact centre: provisioning, routing with capacity, read state.

- ``usuarios.capacidade`` (open tickets an atendente takes at once from automatic routing, default 5)
  and ``usuarios.ultima_atribuicao_em`` (when routing last gave it a ticket: "idle longest" first);
- ``filas.distribuicao``: ``manual`` (someone assigns) or ``automatica`` (routing assigns);
- ``usuario_filas``: the filas each user serves (composite keys: a row only ties rows of its tenant);
- ``canais.tipo`` also ``telefone`` and ``outro``;
- ``leituras``: per user and ticket, the position (``ordem``) of the last message read, so unread
  counts are the same on every device and after a reload.

New tenant tables get the same row-level security as 0001's (the grants come from ``db upgrade``,
which grants on every table of ``modelos.TABELAS_TENANT``).

Revision ID: 0008_central
Revises: 0007_canais_saida
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_central"
down_revision = "0007_canais_saida"
branch_labels = None
depends_on = None

ID = sa.String(36)
QUANDO = sa.DateTime(timezone=True)
NOVAS_TABELAS = ("usuario_filas", "leituras")
TIPOS_ANTES = "tipo IN ('whatsapp', 'email', 'webchat')"
TIPOS_AGORA = "tipo IN ('whatsapp', 'email', 'webchat', 'telefone', 'outro')"


def _tipos_canal(condicao: str) -> None:
    # SQLite cannot alter a CHECK: batch mode copies the table (foreign keys are off while migrating).
    with op.batch_alter_table("canais") as tabela:
        tabela.drop_constraint("ck_canais_tipo", type_="check")
        tabela.create_check_constraint("ck_canais_tipo", condicao)


def upgrade() -> None:
    with op.batch_alter_table("usuarios") as tabela:
        tabela.add_column(sa.Column("capacidade", sa.Integer(), nullable=False, server_default="5"))
        tabela.add_column(sa.Column("ultima_atribuicao_em", QUANDO, nullable=True))
        tabela.create_check_constraint("ck_usuarios_capacidade", "capacidade >= 0")
    with op.batch_alter_table("filas") as tabela:
        tabela.add_column(sa.Column("distribuicao", sa.String(16), nullable=False, server_default="manual"))
        tabela.create_check_constraint("ck_filas_distribuicao", "distribuicao IN ('manual', 'automatica')")
    _tipos_canal(TIPOS_AGORA)
    op.create_table(
        "usuario_filas",
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("usuario_id", ID, nullable=False),
        sa.Column("fila_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("empresa_id", "usuario_id", "fila_id", name="pk_usuario_filas"),
        sa.ForeignKeyConstraint(
            ["empresa_id", "usuario_id"],
            ["usuarios.empresa_id", "usuarios.id"],
            name="fk_usuario_filas_empresa_id_usuario_id_usuarios",
        ),
        sa.ForeignKeyConstraint(
            ["empresa_id", "fila_id"],
            ["filas.empresa_id", "filas.id"],
            name="fk_usuario_filas_empresa_id_fila_id_filas",
        ),
        sa.ForeignKeyConstraint(["empresa_id"], ["empresas.id"], name="fk_usuario_filas_empresa_id_empresas"),
    )
    op.create_index("ix_usuario_filas_empresa_fila", "usuario_filas", ["empresa_id", "fila_id"])
    op.create_table(
        "leituras",
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("usuario_id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("ordem", sa.Integer(), nullable=False),
        sa.Column("atualizado_em", QUANDO, nullable=False),
        sa.PrimaryKeyConstraint("empresa_id", "usuario_id", "ticket_id", name="pk_leituras"),
        sa.ForeignKeyConstraint(
            ["empresa_id", "ticket_id"],
            ["tickets.empresa_id", "tickets.id"],
            name="fk_leituras_empresa_id_ticket_id_tickets",
        ),
        sa.ForeignKeyConstraint(["empresa_id"], ["empresas.id"], name="fk_leituras_empresa_id_empresas"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for nova in NOVAS_TABELAS:
            op.execute(f"ALTER TABLE {nova} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {nova} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY isolamento_tenant ON {nova} "
                "USING (empresa_id = current_setting('app.current_tenant', true)) "
                "WITH CHECK (empresa_id = current_setting('app.current_tenant', true))"
            )


def downgrade() -> None:
    op.drop_table("leituras")
    op.drop_index("ix_usuario_filas_empresa_fila", table_name="usuario_filas")
    op.drop_table("usuario_filas")
    _tipos_canal(TIPOS_ANTES)
    with op.batch_alter_table("filas") as tabela:
        tabela.drop_constraint("ck_filas_distribuicao", type_="check")
        tabela.drop_column("distribuicao")
    with op.batch_alter_table("usuarios") as tabela:
        tabela.drop_constraint("ck_usuarios_capacidade", type_="check")
        tabela.drop_column("ultima_atribuicao_em")
        tabela.drop_column("capacidade")
