"""The domain's values: immutable snapshots that cross layer boundaries (storage → domain → gateway/API).

``para_evento()`` gives the contract's camelCase payload. Optional keys: ``atendenteId`` is always
present (``null`` when the ticket or message has no atendente), and so are ``assunto``,
``descricao`` and ``metadados`` (``null`` when absent). Every key of the contract's payload is
always present, so a client never has to tell "missing" from "null".
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

STATUS_TICKET: tuple[str, ...] = ("aberto", "em_atendimento", "aguardando_cliente", "resolvido", "fechado")
# A ticket in one of these is "open" for a channel: a new customer message is appended to it.
STATUS_TICKET_ABERTOS: frozenset[str] = frozenset({"aberto", "em_atendimento", "aguardando_cliente"})
PRIORIDADES: tuple[str, ...] = ("baixa", "media", "alta", "urgente")
TIPOS_MENSAGEM: tuple[str, ...] = ("texto", "imagem", "audio", "video", "arquivo")
STATUS_ATENDENTE: tuple[str, ...] = ("online", "ocupado", "ausente", "offline")
TIPOS_CANAL: tuple[str, ...] = ("whatsapp", "email", "webchat")
ROLES_INTERNOS: frozenset[str] = frozenset({"admin", "gestor", "supervisor", "atendente"})
ROLE_ATENDENTE = "atendente"
ROLE_INTEGRACAO = "integracao"
# Who may change any ticket of the tenant, take another's, and assign to someone else.
ROLES_GESTAO_TICKETS: frozenset[str] = frozenset({"supervisor", "gestor", "admin"})
# The actor of what the product does by itself (routing, the demo loader, the CLI).
ATOR_SISTEMA = "sistema"


def novo_id() -> str:
    return str(uuid.uuid4())


def agora() -> datetime:
    """Now, in UTC, cut to milliseconds: what is stored is exactly what events and answers show."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def iso_utc(momento: datetime) -> str:
    """``2026-11-29T17:08:20.123Z``; a naive datetime is taken as UTC (SQLite returns them so)."""
    # isoformat, not strftime: called for every instant of every answer and event, and strftime
    # (a C format through the locale) was 8 % of a message write's CPU (issue 13). ``milliseconds``
    # truncates, as the stored values are already cut to milliseconds.
    if momento.tzinfo is not None:
        if momento.utcoffset():
            momento = momento.astimezone(UTC)
        momento = momento.replace(tzinfo=None)
    return momento.isoformat(timespec="milliseconds") + "Z"


def de_iso(texto: str) -> datetime:
    """The inverse of ``iso_utc`` (any ISO 8601 with an offset or ``Z``; naive means UTC)."""
    momento = datetime.fromisoformat(texto)
    return momento.replace(tzinfo=UTC) if momento.tzinfo is None else momento.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class TicketDados:
    id: str
    numero: str
    empresa_id: str
    cliente_id: str
    canal_id: str
    fila_id: str
    atendente_id: str | None
    status: str
    prioridade: str
    assunto: str | None
    descricao: str | None
    criado_em: datetime
    atualizado_em: datetime

    @property
    def aberto(self) -> bool:
        return self.status in STATUS_TICKET_ABERTOS

    def para_evento(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "numero": self.numero,
            "empresaId": self.empresa_id,
            "clienteId": self.cliente_id,
            "canalId": self.canal_id,
            "filaId": self.fila_id,
            "atendenteId": self.atendente_id,
            "status": self.status,
            "prioridade": self.prioridade,
            "assunto": self.assunto,
            "descricao": self.descricao,
            "criadoEm": iso_utc(self.criado_em),
            "atualizadoEm": iso_utc(self.atualizado_em),
        }

    @classmethod
    def de_evento(cls, d: dict[str, Any]) -> TicketDados:
        """Back from ``para_evento()`` (a stored answer replayed for an idempotent retry)."""
        return cls(
            id=d["id"],
            numero=d["numero"],
            empresa_id=d["empresaId"],
            cliente_id=d["clienteId"],
            canal_id=d["canalId"],
            fila_id=d["filaId"],
            atendente_id=d["atendenteId"],
            status=d["status"],
            prioridade=d["prioridade"],
            assunto=d["assunto"],
            descricao=d["descricao"],
            criado_em=de_iso(d["criadoEm"]),
            atualizado_em=de_iso(d["atualizadoEm"]),
        )


@dataclass(frozen=True, slots=True)
class MensagemDados:
    """A message. ``atendente_id`` is the internal user who wrote it; ``None`` for a customer's message.
    ``interna``: an internal note, seen by the tenant's internal users and never sent to the customer."""

    id: str
    ticket_id: str
    ticket_numero: str
    remetente_id: str
    atendente_id: str | None
    tipo: str
    conteudo: str
    metadados: dict[str, Any] | None
    criado_em: datetime
    interna: bool = False

    def para_evento(self) -> dict[str, Any]:
        evento: dict[str, Any] = {
            "id": self.id,
            "ticketId": self.ticket_id,
            "ticketNumero": self.ticket_numero,
            "remetenteId": self.remetente_id,
            "atendenteId": self.atendente_id,
            "tipo": self.tipo,
            "conteudo": self.conteudo,
            "metadados": self.metadados,
            "criadoEm": iso_utc(self.criado_em),
        }
        if self.interna:  # only when true: every other message keeps the seed's shape exactly
            evento["interna"] = True
        return evento

    @classmethod
    def de_evento(cls, d: dict[str, Any]) -> MensagemDados:
        """Back from ``para_evento()`` (a stored answer replayed for an idempotent retry)."""
        return cls(
            id=d["id"],
            ticket_id=d["ticketId"],
            ticket_numero=d["ticketNumero"],
            remetente_id=d["remetenteId"],
            atendente_id=d["atendenteId"],
            tipo=d["tipo"],
            conteudo=d["conteudo"],
            metadados=d["metadados"],
            criado_em=de_iso(d["criadoEm"]),
            interna=bool(d.get("interna", False)),
        )


@dataclass(frozen=True, slots=True)
class UsuarioDados:
    """A user. ``ativo`` and ``canal_ids`` (the channels an integration may write to) are filled where
    they are read for authorisation (``Repositorio.obter_registro_usuario``); elsewhere the defaults."""

    id: str
    empresa_id: str
    nome: str
    email: str
    role: str
    status_atendimento: str | None
    ativo: bool = True
    canal_ids: frozenset[str] = frozenset()

    @property
    def interno(self) -> bool:
        return self.role in ROLES_INTERNOS

    def para_evento(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "empresaId": self.empresa_id,
            "nome": self.nome,
            "email": self.email,
            "role": self.role,
            "statusAtendimento": self.status_atendimento,
        }


@dataclass(frozen=True, slots=True)
class FilaDados:
    id: str
    empresa_id: str
    nome: str


@dataclass(frozen=True, slots=True)
class CanalDados:
    id: str
    empresa_id: str
    nome: str
    tipo: str
    fila_padrao_id: str
    ativo: bool


@dataclass(frozen=True, slots=True)
class ClienteDados:
    id: str
    empresa_id: str
    nome: str
    contato: str


@dataclass(frozen=True, slots=True)
class Ator:
    """Who makes a change: a user of the tenant with the role the database gave it, or the system
    (``ATOR_SISTEMA``: routing, the demo loader, the CLI)."""

    usuario_id: str
    role: str

    @property
    def sistema(self) -> bool:
        return self.usuario_id == ATOR_SISTEMA and self.role == ATOR_SISTEMA


SISTEMA = Ator(ATOR_SISTEMA, ATOR_SISTEMA)


_SEQUENCIA = itertools.count()


def novo_id_ordenado() -> str:
    """An id that sorts by creation: milliseconds, a per-process counter, then randomness (32 hex).
    History rows are paged by it, so two entries of one transaction keep their order."""
    ms = int(datetime.now(UTC).timestamp() * 1000)
    return f"{ms:012x}{next(_SEQUENCIA) % 0x10000:04x}{uuid.uuid4().hex[:16]}"


@dataclass(frozen=True, slots=True)
class HistoricoDados:
    """One change of a ticket: who (``ator_id``: a user id or ``sistema``), what (``tipo``: criado,
    atualizado, status, atribuido) and the fields it changed (``{campo: {"de": antes, "para": depois}}``)."""

    id: str
    empresa_id: str
    ticket_id: str
    ator_id: str
    tipo: str
    mudancas: dict[str, Any]
    criado_em: datetime

    def para_evento(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ticketId": self.ticket_id,
            "atorId": self.ator_id,
            "tipo": self.tipo,
            "mudancas": self.mudancas,
            "criadoEm": iso_utc(self.criado_em),
        }
