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
TIPOS_CANAL: tuple[str, ...] = ("whatsapp", "email", "webchat", "telefone", "outro")
ROLES_INTERNOS: frozenset[str] = frozenset({"admin", "gestor", "supervisor", "atendente"})
ROLE_ATENDENTE = "atendente"
ROLE_INTEGRACAO = "integracao"
# Who may change any ticket of the tenant, take another's, and assign to someone else.
ROLES_GESTAO_TICKETS: frozenset[str] = frozenset({"supervisor", "gestor", "admin"})
# The actor of what the product does by itself (routing, the demo loader, the CLI).
ATOR_SISTEMA = "sistema"
ROLE_ADMIN = "admin"
# The roles provisioning gives: the internal ones and channel integrations.
ROLES_PROVISIONAVEIS: tuple[str, ...] = ("admin", "gestor", "supervisor", "atendente", "integracao")
DISTRIBUICOES: tuple[str, ...] = ("manual", "automatica")
CAPACIDADE_PADRAO = 5


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
    # Channels out: what the channel's integration reported (None: nothing yet), its provider id.
    status: str | None = None
    status_em: datetime | None = None
    status_erro: dict[str, str] | None = None
    externo_id: str | None = None

    @property
    def status_efetivo(self) -> str | None:
        """``pendente`` for a person's message until the first report; none for a customer's message
        or an internal note (neither goes out)."""
        if self.status is not None:
            return self.status
        return "pendente" if self.atendente_id is not None and not self.interna else None

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
            "status": self.status_efetivo,
            "externoId": self.externo_id,
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
            externo_id=d.get("externoId"),
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
class UsuarioCadastro:
    """A user as provisioning sees it: the public fields, whether it may log in, its routing
    capacity and the filas it serves. Never the password hash."""

    usuario: UsuarioDados
    ativo: bool
    capacidade: int
    fila_ids: tuple[str, ...]

    def para_evento(self) -> dict[str, Any]:
        return {
            **self.usuario.para_evento(),
            "ativo": self.ativo,
            "capacidade": self.capacidade,
            "filaIds": list(self.fila_ids),
        }


@dataclass(frozen=True, slots=True)
class FilaDados:
    id: str
    empresa_id: str
    nome: str
    distribuicao: str = "manual"

    def para_evento(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "empresaId": self.empresa_id,
            "nome": self.nome,
            "distribuicao": self.distribuicao,
        }


@dataclass(frozen=True, slots=True)
class CanalDados:
    id: str
    empresa_id: str
    nome: str
    tipo: str
    fila_padrao_id: str
    ativo: bool

    def para_evento(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "empresaId": self.empresa_id,
            "nome": self.nome,
            "tipo": self.tipo,
            "filaId": self.fila_padrao_id,
            "ativo": self.ativo,
        }


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


@dataclass(frozen=True, slots=True)
class TicketDetalhe:
    """A ticket as a console lists it: who the customer is, over which channel, and how many of its
    messages the reader has not read (``None`` where there is no reader). REST answers only: the
    events keep the seed's ticket payload."""

    ticket: TicketDados
    cliente: ClienteDados | None
    canal: CanalDados | None
    nao_lidas: int | None

    def para_evento(self) -> dict[str, Any]:
        cliente = self.cliente
        canal = self.canal
        return {
            **self.ticket.para_evento(),
            "cliente": None
            if cliente is None
            else {"id": cliente.id, "nome": cliente.nome, "contato": cliente.contato},
            "canal": None if canal is None else {"id": canal.id, "tipo": canal.tipo, "nome": canal.nome},
            "naoLidas": self.nao_lidas,
        }
