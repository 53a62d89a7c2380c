"""The answers' ``data``, declared for OpenAPI.

The routes send the entities' ``para_evento()`` dicts (the same JSON the events carry); these models
only describe them. ``extra="forbid"`` lets the API tests validate real answers against them, so the
documentation cannot drift from what is sent.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from atendimento.api.schemas import Prioridade, StatusTicket, TipoMensagem


class Saida(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, validate_by_alias=True, validate_by_name=False
    )


class TicketSaida(Saida):
    id: str
    numero: str
    empresa_id: str
    cliente_id: str
    canal_id: str
    fila_id: str
    atendente_id: str | None
    status: StatusTicket
    prioridade: Prioridade
    assunto: str | None
    descricao: str | None
    criado_em: str
    atualizado_em: str


class HistoricoSaida(Saida):
    """One change of a ticket: ``atorId`` (a user id, or ``sistema``), ``tipo`` (criado, atualizado,
    status, atribuido) and ``mudancas`` ({campo: {de, para}})."""

    id: str
    ticket_id: str
    ator_id: str
    tipo: str
    mudancas: dict[str, Any]
    criado_em: str


class ClienteResumo(Saida):
    id: str
    nome: str
    contato: str


class CanalResumo(Saida):
    id: str
    tipo: str
    nome: str


class TicketDetalheSaida(TicketSaida):
    """A ticket in the REST answers: who the customer is, the channel, and the caller's unread count."""

    cliente: ClienteResumo | None
    canal: CanalResumo | None
    nao_lidas: int | None


class LidaSaida(Saida):
    ticket_id: str
    ate: str
    nao_lidas: int


class MensagemSaida(Saida):
    id: str
    ticket_id: str
    ticket_numero: str
    remetente_id: str
    atendente_id: str | None
    tipo: TipoMensagem
    conteudo: str
    metadados: dict[str, Any] | None
    criado_em: str
    status: Literal["pendente", "enviada", "entregue", "lida", "falhou"] | None
    externo_id: str | None
    # Present (true) only on an internal note; absent on every other message.
    interna: bool | None = None


class UsuarioSaida(Saida):
    id: str
    empresa_id: str
    nome: str
    email: str | None
    role: str
    status_atendimento: str | None


class AtendenteSaida(UsuarioSaida):
    # None when presence could not be asked (e.g. the backplane is down): unknown, not offline.
    online: bool | None


class LoginSaida(BaseModel):
    model_config = ConfigDict(extra="forbid")

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    user: UsuarioSaida


class MensagemCanalSaida(Saida):
    ticket: TicketSaida
    mensagem: MensagemSaida
    ticket_criado: bool


class NotificacaoSaida(Saida):
    usuario_id: str | None
    tipo: str


class SaudeSaida(Saida):
    status: Literal["ok"]


class ProntidaoSaida(Saida):
    status: Literal["pronto", "degradado"]
    verificacoes: dict[str, bool]


class UsuarioCadastroSaida(UsuarioSaida):
    ativo: bool
    capacidade: int
    fila_ids: list[str]


class UsuarioCriadoSaida(UsuarioCadastroSaida):
    # Only when the request had no senha: the generated one, shown this once and never again.
    senha_gerada: str | None = None


class FilaSaida(Saida):
    id: str
    empresa_id: str
    nome: str
    distribuicao: Literal["manual", "automatica"]


class FilaEsperaSaida(FilaSaida):
    # Tickets of the fila with no atendente, still open; the oldest one's creation, and its wait.
    aguardando: int
    aguardando_desde: str | None
    espera_mais_longa_segundos: float | None


class CanalSaida(Saida):
    id: str
    empresa_id: str
    nome: str
    tipo: Literal["whatsapp", "email", "webchat", "telefone", "outro"]
    fila_id: str
    ativo: bool
