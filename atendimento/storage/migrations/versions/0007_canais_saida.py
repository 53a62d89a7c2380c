"""Channels out: the delivery state of the outbox, the attempts, message status back.

- ``saida_eventos`` (the outbox, 0005) gets its delivery state: ``estado`` (pendente | entregue |
  falhou), attempts in all and in this round, the earliest next attempt, the lease of the instance
  delivering it, the last error, when it ended, and the body as first sent (every attempt signs the
  same bytes). Defaults on every new column, so the message write (0005) inserts without knowing them.
- ``canal_webhooks.falhando_desde``: the first failure since the last 2xx (disabling an endpoint that
  fails for too long).
- ``saida_tentativas``: one row per attempt (the operators' deliveries list).
- ``mensagens``: ``status``, ``status_em``, ``status_erro``, ``externo_id`` as the integration
  reports them; ``mensagens_externas`` keeps ``externoId`` unique per channel.
- PostgreSQL: ``saida_reivindicar``, the relay's claim across tenants. The relay has no tenant (it
  serves them all) and row-level security shows a transaction without one nothing, so the claim is a
  SECURITY DEFINER function (run as the owner, who gets a policy on the outbox for it), as narrow as
  ``buscar_usuario_login``: it picks the due events (the head of each ticket's pending ones, endpoint
  active, lease free), leases them to the caller with ``FOR UPDATE SKIP LOCKED`` (two instances never
  take the same event) and returns only (empresa_id, seq, canal_id). Everything else the relay reads or writes
  it does in a transaction of that tenant, under RLS like any other.

Revision ID: 0007_canais_saida
Revises: 0006_confianca
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

revision = "0007_canais_saida"
down_revision = "0006_confianca"
branch_labels = None
depends_on = None

ID = sa.String(36)
QUANDO = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ASSINATURA = "saida_reivindicar(text, double precision, integer, text[])"
ASSINATURA_ENDPOINTS = "saida_endpoints()"
NOVAS_TABELAS = ("saida_tentativas", "mensagens_externas")


def _ident(nome: str) -> str:
    return '"' + nome.replace('"', '""') + '"'


def _reivindicar(s: str) -> str:
    return f"""
CREATE FUNCTION {s}.saida_reivindicar(
    p_dono text, p_lease_s double precision, p_limite integer, p_excluir text[])
RETURNS TABLE (empresa_id text, seq integer, canal_id text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, {s}, pg_temp AS $$
  WITH livres AS (
    SELECT e.seq FROM {s}.saida_eventos e
      JOIN {s}.canal_webhooks w ON w.empresa_id = e.empresa_id AND w.canal_id = e.canal_id
     WHERE e.estado = 'pendente' AND w.ativo
       AND (e.proxima_em IS NULL OR e.proxima_em <= pg_catalog.clock_timestamp())
       AND (e.lease_ate IS NULL OR e.lease_ate <= pg_catalog.clock_timestamp())
       AND NOT (e.canal_id = ANY (p_excluir))
       AND NOT EXISTS (
         SELECT 1 FROM {s}.saida_eventos p
          WHERE p.empresa_id = e.empresa_id AND p.ticket_id = e.ticket_id
            AND p.seq < e.seq AND p.estado = 'pendente')
     ORDER BY e.seq
     LIMIT p_limite
     FOR UPDATE OF e SKIP LOCKED
  )
  UPDATE {s}.saida_eventos x
     SET lease_dono = p_dono,
         lease_ate = pg_catalog.clock_timestamp() + p_lease_s * interval '1 second'
    FROM livres WHERE x.seq = livres.seq
  RETURNING x.empresa_id::text, x.seq, x.canal_id::text
$$
"""


def _endpoints(s: str) -> str:
    # /metrics: how many endpoints each tenant has, active or not (counts only, never a URL).
    return f"""
CREATE FUNCTION {s}.saida_endpoints()
RETURNS TABLE (empresa_id text, ativo boolean, total bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, {s}, pg_temp AS $$
  SELECT w.empresa_id::text, w.ativo, count(*) FROM {s}.canal_webhooks w GROUP BY w.empresa_id, w.ativo
$$
"""


def upgrade() -> None:
    with op.batch_alter_table("saida_eventos") as t:
        t.add_column(sa.Column("estado", sa.String(16), server_default="pendente", nullable=False))
        t.add_column(sa.Column("tentativas", sa.Integer(), server_default="0", nullable=False))
        t.add_column(sa.Column("tentativas_rodada", sa.Integer(), server_default="0", nullable=False))
        t.add_column(sa.Column("proxima_em", QUANDO, nullable=True))
        t.add_column(sa.Column("lease_dono", sa.String(64), nullable=True))
        t.add_column(sa.Column("lease_ate", QUANDO, nullable=True))
        t.add_column(sa.Column("ultimo_erro", sa.Text(), nullable=True))
        t.add_column(sa.Column("concluido_em", QUANDO, nullable=True))
        t.add_column(sa.Column("corpo", sa.Text(), nullable=True))
        t.create_check_constraint("estado", "estado IN ('pendente', 'entregue', 'falhou')")
    op.create_index("ix_saida_eventos_empresa_canal_seq", "saida_eventos", ["empresa_id", "canal_id", "seq"])
    op.create_index(
        "ix_saida_eventos_pendentes",
        "saida_eventos",
        ["seq"],
        postgresql_where=text("estado = 'pendente'"),
        sqlite_where=text("estado = 'pendente'"),
    )
    with op.batch_alter_table("canal_webhooks") as t:
        t.add_column(sa.Column("falhando_desde", QUANDO, nullable=True))
    with op.batch_alter_table("mensagens") as t:
        t.add_column(sa.Column("status", sa.String(16), nullable=True))
        t.add_column(sa.Column("status_em", QUANDO, nullable=True))
        t.add_column(sa.Column("status_erro", JSON, nullable=True))
        t.add_column(sa.Column("externo_id", sa.String(200), nullable=True))
    op.create_table(
        "saida_tentativas",
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("evento_seq", sa.Integer(), nullable=False),
        sa.Column("numero", sa.Integer(), nullable=False),
        sa.Column("em", QUANDO, nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("erro", sa.String(500), nullable=True),
        sa.Column("duracao_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("empresa_id", "evento_seq", "numero", name="pk_saida_tentativas"),
        sa.ForeignKeyConstraint(
            ["empresa_id"], ["empresas.id"], name="fk_saida_tentativas_empresa_id_empresas"
        ),
    )
    op.create_table(
        "mensagens_externas",
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("canal_id", ID, nullable=False),
        sa.Column("externo_id", sa.String(200), nullable=False),
        sa.Column("mensagem_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("empresa_id", "canal_id", "externo_id", name="pk_mensagens_externas"),
        sa.UniqueConstraint("empresa_id", "mensagem_id", name="uq_mensagens_externas_empresa_id_mensagem_id"),
        sa.ForeignKeyConstraint(
            ["empresa_id"], ["empresas.id"], name="fk_mensagens_externas_empresa_id_empresas"
        ),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    for tabela in NOVAS_TABELAS:
        op.execute(f"ALTER TABLE {tabela} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {tabela} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY isolamento_tenant ON {tabela} "
            "USING (empresa_id = current_setting('app.current_tenant', true)) "
            "WITH CHECK (empresa_id = current_setting('app.current_tenant', true))"
        )
    # The owner (who runs saida_reivindicar) sees and leases every tenant's events; the application
    # role is never the owner (`db upgrade` checks), so these grant it nothing.
    op.execute("CREATE POLICY relay_dono ON saida_eventos TO CURRENT_USER USING (true) WITH CHECK (true)")
    op.execute("CREATE POLICY relay_dono ON canal_webhooks FOR SELECT TO CURRENT_USER USING (true)")
    esquema = _ident(op.get_bind().execute(text("SELECT current_schema()")).scalar_one())
    op.execute(_reivindicar(esquema))
    op.execute(_endpoints(esquema))
    for assinatura in (ASSINATURA, ASSINATURA_ENDPOINTS):
        op.execute(f"REVOKE ALL ON FUNCTION {esquema}.{assinatura} FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {ASSINATURA}")
        op.execute(f"DROP FUNCTION IF EXISTS {ASSINATURA_ENDPOINTS}")
        op.execute("DROP POLICY IF EXISTS relay_dono ON saida_eventos")
        op.execute("DROP POLICY IF EXISTS relay_dono ON canal_webhooks")
    for tabela in reversed(NOVAS_TABELAS):
        op.drop_table(tabela)
    with op.batch_alter_table("mensagens") as t:
        for coluna in ("externo_id", "status_erro", "status_em", "status"):
            t.drop_column(coluna)
    with op.batch_alter_table("canal_webhooks") as t:
        t.drop_column("falhando_desde")
    op.drop_index("ix_saida_eventos_pendentes", table_name="saida_eventos")
    op.drop_index("ix_saida_eventos_empresa_canal_seq", table_name="saida_eventos")
    with op.batch_alter_table("saida_eventos") as t:
        t.drop_constraint("estado", type_="check")
        for coluna in (
            "corpo",
            "concluido_em",
            "ultimo_erro",
            "lease_ate",
            "lease_dono",
            "proxima_em",
            "tentativas_rodada",
            "tentativas",
            "estado",
        ):
            t.drop_column(coluna)
