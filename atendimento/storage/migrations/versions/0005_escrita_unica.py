"""One message write: ``acrescentar_mensagem`` (PostgreSQL), ``mensagens.interna``, and the channels'
outbound endpoint and outbox tables.

Why: a message used to be written three ways (a SQLAlchemy statement inside a transaction, 0004's
function, plain sqlite3 statements), with the closed-ticket rule applied two ways. Every message is
now written by one operation per dialect (``storage/escrita_mensagem.py``); on PostgreSQL that is
this function, in one round trip, whether it runs in a statement of its own (an agent's message) or
inside a transaction (a customer's message, after the ticket is found or opened). It replaces 0004's
``gravar_mensagem`` and does, in the one statement:

1. sets the tenant for this transaction only (``set_current_tenant``);
2. the database is the authority: with a role (an agent's message), the sender must be an active
   user of the tenant with that role, or nothing is written (``autorizado`` false);
3. a call with the id of a message already stored answers as written and writes nothing (the
   caller may repeat a call whose answer it lost with its connection);
4. an ``Idempotency-Key`` is taken in the same statement (the row of ``chaves_idempotencia`` holds
   the message's id); a key already taken answers the first request's ``impressao`` and message;
5. numbers the message in its ticket (the counter's UPDATE takes the ticket's row lock) unless the
   ticket has the final status, inserts it, and, when the author is a person of the tenant, the
   message is not an internal note and the ticket's channel has an endpoint (active or not), queues
   a ``mensagem.criada`` event in ``saida_eventos`` (the outbox) in the same transaction. A refused
   write releases the key it took.

The answer carries whole rows (``tickets``, ``mensagens``), so no column list is spelled here: the
caller maps them with the same functions as every other read (``storage/tabelas.py``). The rules stay
in Python: the final status and the internal roles are parameters; the domain picks the refusal.

``SECURITY INVOKER``: it runs as the application role, under row-level security. ``search_path``
pinned and tables schema-qualified, as in 0003.

Revision ID: 0005_escrita_unica
Revises: 0004_gravar_mensagem
Create Date: 2026-12-07
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

revision = "0005_escrita_unica"
down_revision = "0004_gravar_mensagem"
branch_labels = None
depends_on = None

ID = sa.String(36)
QUANDO = sa.DateTime(timezone=True)
ASSINATURA = (
    "acrescentar_mensagem(text, text, text, text, text, text, text, jsonb, timestamptz, boolean, "
    "text, text, timestamptz, text[], text)"
)
ASSINATURA_0004 = "gravar_mensagem(text, text, text, text, text, text, jsonb, timestamptz, text[], text)"
TABELAS_NOVAS = ("canal_webhooks", "saida_eventos")


def _ident(nome: str) -> str:
    return '"' + nome.replace('"', '""') + '"'


def _acrescentar_mensagem(s: str) -> str:
    return f"""
CREATE FUNCTION {s}.acrescentar_mensagem(
    p_empresa_id text, p_ticket_id text, p_remetente_id text, p_role text, p_id text, p_tipo text,
    p_conteudo text, p_metadados jsonb, p_criado_em timestamptz, p_interna boolean,
    p_chave text, p_impressao text, p_chaves_desde timestamptz,
    p_roles_internos text[], p_status_final text)
RETURNS TABLE (autorizado boolean, gravada boolean, impressao_anterior text,
               o_ticket {s}.tickets, o_mensagem {s}.mensagens)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, {s}, pg_temp AS $$
DECLARE
    v_interno boolean := coalesce(p_role = ANY (p_roles_internos), false);
    v_anterior text;
BEGIN
    PERFORM {s}.set_current_tenant(p_empresa_id);
    gravada := false;
    autorizado := p_role IS NULL OR EXISTS (
        SELECT 1 FROM {s}.usuarios u
         WHERE u.empresa_id = p_empresa_id AND u.id = p_remetente_id AND u.ativo AND u.role = p_role);
    IF NOT autorizado THEN
        RETURN NEXT;
        RETURN;
    END IF;
    -- The same call again (the caller lost its connection before the answer): it was written.
    SELECT * INTO o_mensagem FROM {s}.mensagens y WHERE y.empresa_id = p_empresa_id AND y.id = p_id;
    IF FOUND THEN
        gravada := true;
    ELSE
        IF p_chave IS NOT NULL THEN
            DELETE FROM {s}.chaves_idempotencia k
             WHERE k.empresa_id = p_empresa_id AND k.usuario_id = p_remetente_id
               AND k.criado_em < p_chaves_desde;
            -- A concurrent holder of the key makes this wait for its end: committed, it is read below.
            INSERT INTO {s}.chaves_idempotencia (empresa_id, usuario_id, chave, impressao, resultado,
                                                 criado_em)
            VALUES (p_empresa_id, p_remetente_id, p_chave, p_impressao,
                    pg_catalog.jsonb_build_object('id', p_id), p_criado_em)
            ON CONFLICT DO NOTHING;
            IF NOT FOUND THEN
                SELECT k.impressao, k.resultado ->> 'id' INTO impressao_anterior, v_anterior
                  FROM {s}.chaves_idempotencia k
                 WHERE k.empresa_id = p_empresa_id AND k.usuario_id = p_remetente_id
                   AND k.chave = p_chave;
                SELECT * INTO o_mensagem FROM {s}.mensagens y
                 WHERE y.empresa_id = p_empresa_id AND y.id = v_anterior;
            END IF;
        END IF;
        IF impressao_anterior IS NULL THEN
            UPDATE {s}.tickets x SET total_mensagens = x.total_mensagens + 1
             WHERE x.empresa_id = p_empresa_id AND x.id = p_ticket_id AND x.status <> p_status_final
            RETURNING x.* INTO o_ticket;
            IF FOUND THEN
                INSERT INTO {s}.mensagens (id, empresa_id, ticket_id, ordem, remetente_id,
                                           atendente_id, tipo, conteudo, metadados, criado_em, interna)
                VALUES (p_id, p_empresa_id, p_ticket_id, (o_ticket).total_mensagens, p_remetente_id,
                        CASE WHEN v_interno THEN p_remetente_id END,
                        p_tipo, p_conteudo, p_metadados, p_criado_em, p_interna)
                RETURNING * INTO o_mensagem;
                IF v_interno AND NOT p_interna AND EXISTS (
                    SELECT 1 FROM {s}.canal_webhooks w
                     WHERE w.empresa_id = p_empresa_id AND w.canal_id = (o_ticket).canal_id) THEN
                    INSERT INTO {s}.saida_eventos (id, empresa_id, canal_id, ticket_id, tipo,
                                                   mensagem_id, criado_em)
                    VALUES ('msg_' || pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''),
                            p_empresa_id, (o_ticket).canal_id, p_ticket_id, 'mensagem.criada', p_id,
                            p_criado_em);
                END IF;
                gravada := true;
            ELSIF p_chave IS NOT NULL THEN
                -- Refused (no such ticket, or closed): a refused request holds no key.
                DELETE FROM {s}.chaves_idempotencia k
                 WHERE k.empresa_id = p_empresa_id AND k.usuario_id = p_remetente_id
                   AND k.chave = p_chave;
            END IF;
        END IF;
    END IF;
    IF (o_ticket).id IS NULL THEN
        SELECT * INTO o_ticket FROM {s}.tickets x
         WHERE x.empresa_id = p_empresa_id AND x.id = coalesce((o_mensagem).ticket_id, p_ticket_id);
    END IF;
    RETURN NEXT;
END
$$
"""


def _tabelas() -> None:
    with op.batch_alter_table("mensagens") as tabela:
        tabela.add_column(sa.Column("interna", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "canal_webhooks",
        sa.Column("canal_id", ID, nullable=False),
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
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
            ["empresa_id", "canal_id"],
            ["canais.empresa_id", "canais.id"],
            name="fk_canal_webhooks_empresa_id_canal_id_canais",
        ),
        sa.ForeignKeyConstraint(
            ["empresa_id"], ["empresas.id"], name="fk_canal_webhooks_empresa_id_empresas"
        ),
    )
    op.create_table(
        "saida_eventos",
        sa.Column("seq", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("empresa_id", ID, nullable=False),
        sa.Column("canal_id", ID, nullable=False),
        sa.Column("ticket_id", ID, nullable=False),
        sa.Column("tipo", sa.String(32), nullable=False),
        sa.Column("mensagem_id", ID, nullable=True),
        sa.Column("dados", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column("criado_em", QUANDO, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_saida_eventos"),
        sa.UniqueConstraint("id", name="uq_saida_eventos_id"),
        sa.ForeignKeyConstraint(
            ["empresa_id", "canal_id"],
            ["canais.empresa_id", "canais.id"],
            name="fk_saida_eventos_empresa_id_canal_id_canais",
        ),
        sa.ForeignKeyConstraint(
            ["empresa_id", "ticket_id"],
            ["tickets.empresa_id", "tickets.id"],
            name="fk_saida_eventos_empresa_id_ticket_id_tickets",
        ),
        sa.ForeignKeyConstraint(["empresa_id"], ["empresas.id"], name="fk_saida_eventos_empresa_id_empresas"),
        sa.CheckConstraint("tipo IN ('mensagem.criada', 'ticket.status')", name="ck_saida_eventos_tipo"),
    )
    op.create_index(
        "ix_saida_eventos_empresa_ticket_seq", "saida_eventos", ["empresa_id", "ticket_id", "seq"]
    )


def _funcao_0004() -> str:
    """0004's function, for downgrade: read from that migration, not copied."""
    caminho = Path(__file__).with_name("0004_gravar_mensagem.py")
    spec = importlib.util.spec_from_file_location("_migracao_0004", caminho)
    assert spec is not None and spec.loader is not None
    modulo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(modulo)
    esquema = _ident(op.get_bind().execute(text("SELECT current_schema()")).scalar_one())
    return str(modulo._gravar_mensagem(esquema))


def upgrade() -> None:
    _tabelas()
    if op.get_bind().dialect.name != "postgresql":
        return
    esquema = _ident(op.get_bind().execute(text("SELECT current_schema()")).scalar_one())
    # As in 0001/0002: FORCE holds the owner to the policy too; the application role's grants are
    # given by `db upgrade` (storage/migracoes.py) for every tenant table of the models.
    for tabela in TABELAS_NOVAS:
        op.execute(f"ALTER TABLE {tabela} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {tabela} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY isolamento_tenant ON {tabela} "
            "USING (empresa_id = current_setting('app.current_tenant', true)) "
            "WITH CHECK (empresa_id = current_setting('app.current_tenant', true))"
        )
    op.execute(_acrescentar_mensagem(esquema))
    op.execute(f"REVOKE ALL ON FUNCTION {esquema}.{ASSINATURA} FROM PUBLIC")
    op.execute(f"DROP FUNCTION {esquema}.{ASSINATURA_0004}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {ASSINATURA}")
        op.execute(_funcao_0004())
        op.execute(f"REVOKE ALL ON FUNCTION {ASSINATURA_0004} FROM PUBLIC")
    for nome in reversed(TABELAS_NOVAS):
        op.drop_table(nome)
    with op.batch_alter_table("mensagens") as tabela:
        tabela.drop_column("interna")
