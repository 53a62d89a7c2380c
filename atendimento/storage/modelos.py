"""SQLAlchemy models: the schema as Python. The migrations in ``migrations/versions`` are the frozen
history of the same schema; a test checks that the two agree.

Ids are UUID strings (portable between SQLite and PostgreSQL). Every tenant table carries
``empresa_id``, and every reference between tenant rows is a composite foreign key
``(empresa_id, x_id)``: a row can only point at a row of its own tenant, whatever the code does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so migrations can refer to them on both dialects.
CONVENCAO_NOMES = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(36)
JSON_PORTAVEL = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=CONVENCAO_NOMES)


def _em(*valores: str) -> str:
    return ", ".join(f"'{v}'" for v in valores)


class Empresa(Base):
    __tablename__ = "empresas"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    nome: Mapped[str] = mapped_column(String(200))
    criado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ContadorTicket(Base):
    """The last ticket number given in a tenant; incremented with UPDATE … RETURNING, whose row lock
    serialises concurrent ticket creation in one tenant (and only in that tenant)."""

    __tablename__ = "contadores_ticket"

    empresa_id: Mapped[str] = mapped_column(ID, ForeignKey("empresas.id"), primary_key=True)
    ultimo_numero: Mapped[int] = mapped_column(Integer, default=0)
    # The last ``atualizado_em`` given to a ticket of the tenant. Each ticket write takes the next
    # one (later than this, and not before now) under this row's lock, so ``atualizado_em`` grows in
    # commit order and a cursor on it never passes over a write that commits late (migration 0002).
    ultima_atualizacao: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Usuario(Base):
    __tablename__ = "usuarios"
    __table_args__ = (
        UniqueConstraint("empresa_id", "id"),
        # Login is by email across tenants, so an email belongs to one user in the whole product.
        UniqueConstraint("email"),
        CheckConstraint(
            "status_atendimento IS NULL OR "
            f"status_atendimento IN ({_em('online', 'ocupado', 'ausente', 'offline')})",
            name="status_atendimento",
        ),
        Index("ix_usuarios_empresa_role", "empresa_id", "role"),
        CheckConstraint("capacidade >= 0", name="capacidade"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    empresa_id: Mapped[str] = mapped_column(ID, ForeignKey("empresas.id"))
    nome: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    senha_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    status_atendimento: Mapped[str | None] = mapped_column(String(16))
    ativo: Mapped[bool] = mapped_column(Boolean, default=True)
    criado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Open tickets automatic routing gives it at once; when routing last gave it one (idle longest
    # first). Migration 0008.
    capacidade: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    ultima_atribuicao_em: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Fila(Base):
    __tablename__ = "filas"
    __table_args__ = (
        UniqueConstraint("empresa_id", "id"),
        UniqueConstraint("empresa_id", "nome"),
        CheckConstraint(f"distribuicao IN ({_em('manual', 'automatica')})", name="distribuicao"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    empresa_id: Mapped[str] = mapped_column(ID, ForeignKey("empresas.id"))
    nome: Mapped[str] = mapped_column(String(200))
    distribuicao: Mapped[str] = mapped_column(String(16), default="manual", server_default="manual")


class UsuarioFila(Base):
    """A fila a user serves (routing offers it that fila's tickets). Migration 0008."""

    __tablename__ = "usuario_filas"
    __table_args__ = (
        ForeignKeyConstraint(["empresa_id", "usuario_id"], ["usuarios.empresa_id", "usuarios.id"]),
        ForeignKeyConstraint(["empresa_id", "fila_id"], ["filas.empresa_id", "filas.id"]),
        Index("ix_usuario_filas_empresa_fila", "empresa_id", "fila_id"),
    )

    empresa_id: Mapped[str] = mapped_column(ID, ForeignKey("empresas.id"), primary_key=True)
    usuario_id: Mapped[str] = mapped_column(ID, primary_key=True)
    fila_id: Mapped[str] = mapped_column(ID, primary_key=True)


class Canal(Base):
    __tablename__ = "canais"
    __table_args__ = (
        UniqueConstraint("empresa_id", "id"),
        ForeignKeyConstraint(["empresa_id", "fila_padrao_id"], ["filas.empresa_id", "filas.id"]),
        CheckConstraint(f"tipo IN ({_em('whatsapp', 'email', 'webchat', 'telefone', 'outro')})", name="tipo"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    empresa_id: Mapped[str] = mapped_column(ID, ForeignKey("empresas.id"))
    nome: Mapped[str] = mapped_column(String(200))
    tipo: Mapped[str] = mapped_column(String(16))
    fila_padrao_id: Mapped[str] = mapped_column(ID)
    ativo: Mapped[bool] = mapped_column(Boolean, default=True)


class Cliente(Base):
    __tablename__ = "clientes"
    __table_args__ = (UniqueConstraint("empresa_id", "id"), UniqueConstraint("empresa_id", "contato"))

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    empresa_id: Mapped[str] = mapped_column(ID, ForeignKey("empresas.id"))
    nome: Mapped[str] = mapped_column(String(200))
    contato: Mapped[str] = mapped_column(String(200))
    criado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("empresa_id", "id"),
        UniqueConstraint("empresa_id", "numero"),
        ForeignKeyConstraint(["empresa_id", "cliente_id"], ["clientes.empresa_id", "clientes.id"]),
        ForeignKeyConstraint(["empresa_id", "canal_id"], ["canais.empresa_id", "canais.id"]),
        ForeignKeyConstraint(["empresa_id", "fila_id"], ["filas.empresa_id", "filas.id"]),
        ForeignKeyConstraint(["empresa_id", "atendente_id"], ["usuarios.empresa_id", "usuarios.id"]),
        CheckConstraint(
            f"status IN ({_em('aberto', 'em_atendimento', 'aguardando_cliente', 'resolvido', 'fechado')})",
            name="status",
        ),
        CheckConstraint(f"prioridade IN ({_em('baixa', 'media', 'alta', 'urgente')})", name="prioridade"),
        Index("ix_tickets_empresa_status", "empresa_id", "status"),
        Index("ix_tickets_empresa_atendente", "empresa_id", "atendente_id"),
        Index("ix_tickets_empresa_cliente_canal", "empresa_id", "cliente_id", "canal_id"),
        # Catch-up pages: tickets by (atualizado_em, id) within a tenant (migration 0002).
        Index("ix_tickets_empresa_atualizado", "empresa_id", "atualizado_em", "id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    empresa_id: Mapped[str] = mapped_column(ID, ForeignKey("empresas.id"))
    numero: Mapped[int] = mapped_column(Integer)
    cliente_id: Mapped[str] = mapped_column(ID)
    canal_id: Mapped[str] = mapped_column(ID)
    fila_id: Mapped[str] = mapped_column(ID)
    atendente_id: Mapped[str | None] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(32))
    prioridade: Mapped[str] = mapped_column(String(16))
    assunto: Mapped[str | None] = mapped_column(String(200))
    descricao: Mapped[str | None] = mapped_column(Text)
    # Messages so far; the next message's ``ordem`` (UPDATE … RETURNING, like the ticket counter).
    total_mensagens: Mapped[int] = mapped_column(Integer, default=0)
    criado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    atualizado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Mensagem(Base):
    __tablename__ = "mensagens"
    __table_args__ = (
        UniqueConstraint("empresa_id", "ticket_id", "ordem"),
        ForeignKeyConstraint(["empresa_id", "ticket_id"], ["tickets.empresa_id", "tickets.id"]),
        ForeignKeyConstraint(["empresa_id", "atendente_id"], ["usuarios.empresa_id", "usuarios.id"]),
        CheckConstraint(f"tipo IN ({_em('texto', 'imagem', 'audio', 'video', 'arquivo')})", name="tipo"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    empresa_id: Mapped[str] = mapped_column(ID, ForeignKey("empresas.id"))
    ticket_id: Mapped[str] = mapped_column(ID)
    # Position in the ticket: a stable order even for messages stored in the same millisecond.
    ordem: Mapped[int] = mapped_column(Integer)
    # A usuario's id or a cliente's id (a customer's message), so no foreign key.
    remetente_id: Mapped[str] = mapped_column(String(64))
    atendente_id: Mapped[str | None] = mapped_column(ID)
    tipo: Mapped[str] = mapped_column(String(16))
    conteudo: Mapped[str] = mapped_column(Text)
    metadados: Mapped[dict[str, Any] | None] = mapped_column(JSON_PORTAVEL)
    criado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # An internal note: seen by the tenant's internal users, never sent out through the channel.
    interna: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # What the channel's integration reported of its delivery (migration 0007): forward only.
    status: Mapped[str | None] = mapped_column(String(16))
    status_em: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_erro: Mapped[dict[str, Any] | None] = mapped_column(JSON_PORTAVEL)
    externo_id: Mapped[str | None] = mapped_column(String(200))


class ChaveIdempotencia(Base):
    """A write made with an ``Idempotency-Key``: who sent it, a digest of what was asked, and the
    answer given, so a retry within 24 h gets that answer again (migration 0002). Inserted in the
    same transaction as the write; the primary key makes a concurrent duplicate wait, then replay."""

    __tablename__ = "chaves_idempotencia"

    empresa_id: Mapped[str] = mapped_column(ID, ForeignKey("empresas.id"), primary_key=True)
    # No foreign key: a token from the CRM may name a user this database does not hold.
    usuario_id: Mapped[str] = mapped_column(ID, primary_key=True)
    chave: Mapped[str] = mapped_column(String(200), primary_key=True)
    # The operation and a SHA-256 of its validated arguments: the same key for another request is a 409.
    impressao: Mapped[str] = mapped_column(String(96))
    resultado: Mapped[dict[str, Any]] = mapped_column(JSON_PORTAVEL)
    criado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UsuarioCanal(Base):
    """The channels a user of role ``integracao`` may write to (migration 0006)."""

    __tablename__ = "usuarios_canais"
    __table_args__ = (
        ForeignKeyConstraint(["empresa_id", "usuario_id"], ["usuarios.empresa_id", "usuarios.id"]),
        ForeignKeyConstraint(["empresa_id", "canal_id"], ["canais.empresa_id", "canais.id"]),
    )

    empresa_id: Mapped[str] = mapped_column(ID, ForeignKey("empresas.id"), primary_key=True)
    usuario_id: Mapped[str] = mapped_column(ID, primary_key=True)
    canal_id: Mapped[str] = mapped_column(ID, primary_key=True)


class TicketHistorico(Base):
    """Every change of a ticket: who (a user id or ``sistema``, so no foreign key), what and when
    (migration 0006). ``id`` sorts by creation (``entidades.novo_id_ordenado``): the page order."""

    __tablename__ = "ticket_historico"
    __table_args__ = (
        ForeignKeyConstraint(["empresa_id", "ticket_id"], ["tickets.empresa_id", "tickets.id"]),
        Index("ix_ticket_historico_empresa_ticket_id", "empresa_id", "ticket_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    empresa_id: Mapped[str] = mapped_column(ID, ForeignKey("empresas.id"))
    ticket_id: Mapped[str] = mapped_column(ID)
    ator_id: Mapped[str] = mapped_column(String(64))
    tipo: Mapped[str] = mapped_column(String(32))
    mudancas: Mapped[dict[str, Any]] = mapped_column(JSON_PORTAVEL)
    criado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CanalWebhook(Base):
    """A channel's one outbound endpoint: where its integration receives what agents write.

    Its existence (active or not) is what makes the message write queue a ``saida_eventos`` row: a
    disabled endpoint accumulates, and re-enabling it resumes delivery where it stopped."""

    __tablename__ = "canal_webhooks"
    __table_args__ = (ForeignKeyConstraint(["empresa_id", "canal_id"], ["canais.empresa_id", "canais.id"]),)

    canal_id: Mapped[str] = mapped_column(ID, primary_key=True)
    empresa_id: Mapped[str] = mapped_column(ID, ForeignKey("empresas.id"))
    url: Mapped[str] = mapped_column(Text)
    segredo: Mapped[str] = mapped_column(String(200))
    # The secret before the last rotation, which still signs until ``segredo_anterior_ate``.
    segredo_anterior: Mapped[str | None] = mapped_column(String(200))
    segredo_anterior_ate: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ativo: Mapped[bool] = mapped_column(Boolean, default=True)
    desativado_em: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    desativado_motivo: Mapped[str | None] = mapped_column(Text)
    criado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    atualizado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The first failed attempt since the last 2xx (migration 0007): what disables an endpoint that
    # fails for too long.
    falhando_desde: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SaidaEvento(Base):
    """The outbox: an event for a channel's endpoint, stored in the transaction of the write it
    tells of, so that nothing is lost between the write and its delivery. ``seq`` orders them; a
    ticket's events are numbered in the order of its writes (they hold the ticket's lock)."""

    __tablename__ = "saida_eventos"
    __table_args__ = (
        UniqueConstraint("id"),
        ForeignKeyConstraint(["empresa_id", "canal_id"], ["canais.empresa_id", "canais.id"]),
        ForeignKeyConstraint(["empresa_id", "ticket_id"], ["tickets.empresa_id", "tickets.id"]),
        CheckConstraint(f"tipo IN ({_em('mensagem.criada', 'ticket.status')})", name="tipo"),
        Index("ix_saida_eventos_empresa_ticket_seq", "empresa_id", "ticket_id", "seq"),
        # The delivery's state (migration 0007): the relay's claim reads pending rows by seq, the
        # deliveries list a channel's rows by seq.
        CheckConstraint(f"estado IN ({_em('pendente', 'entregue', 'falhou')})", name="estado"),
        Index("ix_saida_eventos_empresa_canal_seq", "empresa_id", "canal_id", "seq"),
        Index(
            "ix_saida_eventos_pendentes",
            "seq",
            postgresql_where=text("estado = 'pendente'"),
            sqlite_where=text("estado = 'pendente'"),
        ),
    )

    seq: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    # The ``webhook-id``: "msg_" and 32 hex digits, the same on every attempt.
    id: Mapped[str] = mapped_column(String(36))
    empresa_id: Mapped[str] = mapped_column(ID, ForeignKey("empresas.id"))
    canal_id: Mapped[str] = mapped_column(ID)
    ticket_id: Mapped[str] = mapped_column(ID)
    tipo: Mapped[str] = mapped_column(String(32))
    mensagem_id: Mapped[str | None] = mapped_column(ID)
    # ``ticket.status``: the new and the previous status.
    dados: Mapped[dict[str, Any] | None] = mapped_column(JSON_PORTAVEL)
    criado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The delivery (migration 0007; defaults, so the message write inserts without them): pendente |
    # entregue | falhou; attempts in all and in this round (``reenviar`` starts a new one); no attempt
    # before ``proxima_em``; the lease of the relay delivering it; the body as first sent, so that
    # every attempt signs the same bytes.
    estado: Mapped[str] = mapped_column(String(16), server_default="pendente")
    tentativas: Mapped[int] = mapped_column(Integer, server_default="0")
    tentativas_rodada: Mapped[int] = mapped_column(Integer, server_default="0")
    proxima_em: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_dono: Mapped[str | None] = mapped_column(String(64))
    lease_ate: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ultimo_erro: Mapped[str | None] = mapped_column(Text)
    concluido_em: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    corpo: Mapped[str | None] = mapped_column(Text)


class SaidaTentativa(Base):
    """One attempt at delivering an outbox event: when, the HTTP status or the error, how long."""

    __tablename__ = "saida_tentativas"

    empresa_id: Mapped[str] = mapped_column(ID, ForeignKey("empresas.id"), primary_key=True)
    evento_seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    numero: Mapped[int] = mapped_column(Integer, primary_key=True)
    em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    http_status: Mapped[int | None] = mapped_column(Integer)
    erro: Mapped[str | None] = mapped_column(String(500))
    duracao_ms: Mapped[int] = mapped_column(Integer)


class MensagemExterna(Base):
    """The provider's id of a message (``externoId``): one per message, unique per channel."""

    __tablename__ = "mensagens_externas"
    __table_args__ = (UniqueConstraint("empresa_id", "mensagem_id"),)

    empresa_id: Mapped[str] = mapped_column(ID, ForeignKey("empresas.id"), primary_key=True)
    canal_id: Mapped[str] = mapped_column(ID, primary_key=True)
    externo_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    mensagem_id: Mapped[str] = mapped_column(ID)


class Leitura(Base):
    """Read state: per user and ticket, the ``ordem`` of the last message read (migration 0008).
    No foreign key to usuarios: a token from the CRM may name a user this database does not hold."""

    __tablename__ = "leituras"
    __table_args__ = (
        ForeignKeyConstraint(["empresa_id", "ticket_id"], ["tickets.empresa_id", "tickets.id"]),
    )

    empresa_id: Mapped[str] = mapped_column(ID, ForeignKey("empresas.id"), primary_key=True)
    usuario_id: Mapped[str] = mapped_column(ID, primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ID, primary_key=True)
    ordem: Mapped[int] = mapped_column(Integer)
    atualizado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# Every table whose rows belong to one tenant, with the column that says which: RLS covers them all.
TABELAS_TENANT: dict[str, str] = {
    "empresas": "id",
    "contadores_ticket": "empresa_id",
    "usuarios": "empresa_id",
    "filas": "empresa_id",
    "canais": "empresa_id",
    "clientes": "empresa_id",
    "tickets": "empresa_id",
    "mensagens": "empresa_id",
    "chaves_idempotencia": "empresa_id",
    "usuarios_canais": "empresa_id",
    "ticket_historico": "empresa_id",
    "canal_webhooks": "empresa_id",
    "saida_eventos": "empresa_id",
    "saida_tentativas": "empresa_id",
    "mensagens_externas": "empresa_id",
    "usuario_filas": "empresa_id",
    "leituras": "empresa_id",
}
