"""PostgreSQL: the hot write (an agent's message on a ticket) as one function, so one round trip.

Why (issue 13): a message written through one transaction cost seven round trips (BEGIN, the tenant,
the sender, the ticket's counter with its row lock, the INSERT, COMMIT), and asyncpg's share of the
server's CPU was mostly their sends and reads. ``gravar_mensagem`` does the same work in one
statement, in the implicit transaction of that statement (the caller sends no BEGIN or COMMIT):

1. sets the tenant for this transaction only (``set_current_tenant``, as every transaction does);
2. reads the sender; without one, writes nothing;
3. increments the ticket's counter (taking its row lock) unless the ticket has the status the caller
   names as final, and inserts the message with that number;
4. answers whether it wrote, the ticket as it is now (or no ticket) and the sender (or none).

A call with the id of a message already stored answers as if it had just written it and writes
nothing: a caller whose connection died before the answer can send the same call again safely.

The rules stay in Python: which status refuses a message and which roles make the sender the message's
``atendente_id`` are parameters, passed by ``storage/escrita_mensagem.py`` from the domain's own
constants; the domain decides which refusal to answer from what the function returns.

``SECURITY INVOKER`` (the default): it runs as the application role, under row-level security like
any statement of that role. ``search_path`` pinned and tables schema-qualified, as in 0003.

Revision ID: 0004_gravar_mensagem
Revises: 0003_endurecer_postgres
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0004_gravar_mensagem"
down_revision = "0003_endurecer_postgres"
branch_labels = None
depends_on = None

ASSINATURA = "gravar_mensagem(text, text, text, text, text, text, jsonb, timestamptz, text[], text)"


def _ident(nome: str) -> str:
    return '"' + nome.replace('"', '""') + '"'


def _gravar_mensagem(s: str) -> str:
    return f"""
CREATE FUNCTION {s}.gravar_mensagem(
    p_empresa_id text, p_ticket_id text, p_remetente_id text, p_id text, p_tipo text,
    p_conteudo text, p_metadados jsonb, p_criado_em timestamptz,
    p_roles_internos text[], p_status_final text)
RETURNS TABLE (
    gravada boolean,
    t_id text, t_numero integer, t_empresa_id text, t_cliente_id text, t_canal_id text,
    t_fila_id text, t_atendente_id text, t_status text, t_prioridade text, t_assunto text,
    t_descricao text, t_criado_em timestamptz, t_atualizado_em timestamptz,
    r_id text, r_empresa_id text, r_nome text, r_email text, r_role text, r_status_atendimento text)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, {s}, pg_temp AS $$
DECLARE
    r {s}.usuarios%ROWTYPE;
    t {s}.tickets%ROWTYPE;
BEGIN
    PERFORM {s}.set_current_tenant(p_empresa_id);
    gravada := false;
    SELECT * INTO r FROM {s}.usuarios u WHERE u.empresa_id = p_empresa_id AND u.id = p_remetente_id;
    -- The same call again (the caller lost its connection before the answer): it was written.
    PERFORM 1 FROM {s}.mensagens m WHERE m.id = p_id AND m.empresa_id = p_empresa_id;
    IF FOUND THEN
        SELECT * INTO t FROM {s}.tickets x WHERE x.empresa_id = p_empresa_id AND x.id = p_ticket_id;
        gravada := true;
    ELSIF r.id IS NOT NULL THEN
        UPDATE {s}.tickets x SET total_mensagens = x.total_mensagens + 1
         WHERE x.empresa_id = p_empresa_id AND x.id = p_ticket_id AND x.status <> p_status_final
        RETURNING x.* INTO t;
        IF FOUND THEN
            INSERT INTO {s}.mensagens (id, empresa_id, ticket_id, ordem, remetente_id, atendente_id,
                                       tipo, conteudo, metadados, criado_em)
            VALUES (p_id, p_empresa_id, p_ticket_id, t.total_mensagens, p_remetente_id,
                    CASE WHEN r.role = ANY (p_roles_internos) THEN r.id END,
                    p_tipo, p_conteudo, p_metadados, p_criado_em);
            gravada := true;
        END IF;
    END IF;
    IF NOT gravada THEN
        SELECT * INTO t FROM {s}.tickets x WHERE x.empresa_id = p_empresa_id AND x.id = p_ticket_id;
    END IF;
    t_id := t.id; t_numero := t.numero; t_empresa_id := t.empresa_id; t_cliente_id := t.cliente_id;
    t_canal_id := t.canal_id; t_fila_id := t.fila_id; t_atendente_id := t.atendente_id;
    t_status := t.status; t_prioridade := t.prioridade; t_assunto := t.assunto;
    t_descricao := t.descricao; t_criado_em := t.criado_em; t_atualizado_em := t.atualizado_em;
    r_id := r.id; r_empresa_id := r.empresa_id; r_nome := r.nome; r_email := r.email;
    r_role := r.role; r_status_atendimento := r.status_atendimento;
    RETURN NEXT;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    esquema = _ident(op.get_bind().execute(text("SELECT current_schema()")).scalar_one())
    op.execute(_gravar_mensagem(esquema))
    op.execute(f"REVOKE ALL ON FUNCTION {esquema}.{ASSINATURA} FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP FUNCTION IF EXISTS {ASSINATURA}")
