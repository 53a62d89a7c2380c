"""Request bodies: camelCase as in the contract, with the domain's size limits.

The domain validates again (the gateway calls it too); checking here as well documents the limits
in /docs and lets a bad body fail before any I/O. Unknown keys are refused (``extra="forbid"``), so
a typo such as ``atendente_id`` is a clear 422 instead of a silently ignored field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, JsonValue, StrictBool, StringConstraints
from pydantic.alias_generators import to_camel

from atendimento.domain import regras

# Spelled out for the type checker; a test checks that they equal the domain's tuples.
StatusTicket = Literal["aberto", "em_atendimento", "aguardando_cliente", "resolvido", "fechado"]
Prioridade = Literal["baixa", "media", "alta", "urgente"]
TipoMensagem = Literal["texto", "imagem", "audio", "video", "arquivo"]

Id = Annotated[str, StringConstraints(min_length=1, max_length=regras.MAX_ID)]
Email = Annotated[str, StringConstraints(min_length=1, max_length=regras.MAX_EMAIL)]
Senha = Annotated[str, StringConstraints(min_length=1, max_length=regras.MAX_SENHA)]
Conteudo = Annotated[str, StringConstraints(min_length=1, max_length=regras.MAX_CONTEUDO)]
Assunto = Annotated[str, StringConstraints(max_length=regras.MAX_ASSUNTO)]
Descricao = Annotated[str, StringConstraints(max_length=regras.MAX_DESCRICAO)]
Contato = Annotated[str, StringConstraints(min_length=1, max_length=regras.MAX_CONTATO)]
Nome = Annotated[str, StringConstraints(max_length=regras.MAX_NOME)]
TipoNotificacao = Annotated[str, StringConstraints(min_length=1, max_length=regras.MAX_TIPO_NOTIFICACAO)]
TextoNotificacao = Annotated[str, StringConstraints(max_length=regras.MAX_MENSAGEM_NOTIFICACAO)]


class Entrada(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, validate_by_alias=True, validate_by_name=False
    )


class LoginEntrada(Entrada):
    email: Email
    senha: Senha


class TicketCriar(Entrada):
    cliente_id: Id
    canal_id: Id
    fila_id: Id
    prioridade: Prioridade = "media"
    assunto: Assunto | None = None
    descricao: Descricao | None = None
    atendente_id: Id | None = None


class TicketAtualizar(Entrada):
    """Only the keys present change; ``null`` clears ``assunto``/``descricao``."""

    prioridade: Prioridade | None = None
    assunto: Assunto | None = None
    descricao: Descricao | None = None
    fila_id: Id | None = None

    def mudancas(self) -> dict[str, Any]:
        """The given fields, by the domain's keyword names (absent ones stay out of the call)."""
        return {nome: getattr(self, nome) for nome in self.model_fields_set}


class AtribuirEntrada(Entrada):
    atendente_id: Id


class StatusEntrada(Entrada):
    status: StatusTicket


class _MensagemBase(Entrada):
    tipo: TipoMensagem = "texto"
    conteudo: Conteudo
    # Size (16 KiB of JSON) is the domain's check; the whole body is bounded by the middleware.
    metadados: dict[str, JsonValue] | None = None


class MensagemEntrada(_MensagemBase):
    # An internal note: seen by the tenant's internal users, never sent out through the channel.
    interna: StrictBool = False  # JSON true or false, nothing coerced


class MensagemCanalEntrada(_MensagemBase):
    # No ``interna``: a customer's message is never an internal note (the field is refused).
    contato: Contato
    nome_cliente: Nome | None = None


class NotificacaoEntrada(Entrada):
    usuario_id: Id | None = None
    tipo: TipoNotificacao
    mensagem: TextoNotificacao | None = None
    dados: JsonValue = None
