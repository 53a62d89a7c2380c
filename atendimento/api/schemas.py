"""Request bodies: camelCase as in the contract, with the domain's size limits.

The domain validates again (the gateway calls it too); checking here as well documents the limits
in /docs and lets a bad body fail before any I/O. Unknown keys are refused (``extra="forbid"``), so
a typo such as ``atendente_id`` is a clear 422 instead of a silently ignored field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    JsonValue,
    StrictBool,
    StrictInt,
    StringConstraints,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from typing_extensions import TypeAliasType

from atendimento.domain import regras

# Spelled out for the type checker; a test checks that they equal the domain's tuples.
StatusTicket = Literal["aberto", "em_atendimento", "aguardando_cliente", "resolvido", "fechado"]
Prioridade = Literal["baixa", "media", "alta", "urgente"]
TipoMensagem = Literal["texto", "imagem", "audio", "video", "arquivo"]

# No NUL in an id (the domain refuses it: PostgreSQL text cannot hold one), said in the schema too.
Id = Annotated[str, StringConstraints(min_length=1, max_length=regras.MAX_ID, pattern=r"^[^\x00]+$")]
Email = Annotated[str, StringConstraints(min_length=1, max_length=regras.MAX_EMAIL)]
Senha = Annotated[str, StringConstraints(min_length=1, max_length=regras.MAX_SENHA)]
Conteudo = Annotated[str, StringConstraints(min_length=1, max_length=regras.MAX_CONTEUDO)]
Assunto = Annotated[str, StringConstraints(max_length=regras.MAX_ASSUNTO)]
Descricao = Annotated[str, StringConstraints(max_length=regras.MAX_DESCRICAO)]
Contato = Annotated[str, StringConstraints(min_length=1, max_length=regras.MAX_CONTATO)]
Nome = Annotated[str, StringConstraints(max_length=regras.MAX_NOME)]
# What the domain's provisioning rules accept, said in the schema (so /openapi.json promises no more):
# a name with something besides spaces, an e-mail with one "@" and no spaces, a password of 10 or
# more characters, none of them with a NUL character.
# "Space" is what the domain's str.isspace() and strip() say, spelled out: the schema's regex runs
# with other engines (pydantic's, the client's), where \s leaves out the separators \x1c-\x1f.
_ESPACOS = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NomeCadastro = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=regras.MAX_NOME, pattern=rf"^[^\x00]*[^{_ESPACOS}\x00][^\x00]*$"
    ),
]
EmailCadastro = Annotated[
    str,
    StringConstraints(
        min_length=3,
        max_length=regras.MAX_EMAIL,
        pattern=rf"^[{_ESPACOS}]*[^@{_ESPACOS}\x00]+@[^@{_ESPACOS}\x00]+[{_ESPACOS}]*$",
    ),
]
SenhaNova = Annotated[
    str, StringConstraints(min_length=regras.MIN_SENHA, max_length=regras.MAX_SENHA, pattern=r"^[^\x00]*$")
]


def _inteiro(valor: object) -> object:
    """JSON's ``5.0`` is the integer 5 (JSON Schema's ``integer`` admits it); a string or a
    boolean is still refused by ``StrictInt``."""
    return int(valor) if isinstance(valor, float) and valor.is_integer() else valor


# The validator after the bounds: so the schema keeps ``minimum``/``maximum``.
Capacidade = Annotated[StrictInt, Field(ge=0, le=regras.MAX_CAPACIDADE), BeforeValidator(_inteiro)]
FilaIds = Annotated[list[Id], Field(max_length=regras.MAX_FILAS_POR_USUARIO)]
RoleCadastro = Literal["admin", "gestor", "supervisor", "atendente", "integracao"]
Distribuicao = Literal["manual", "automatica"]
TipoCanal = Literal["whatsapp", "email", "webchat", "telefone", "outro"]


class _SoChavesDoPadrao:
    """In the schema, an object's keys are only those of its ``patternProperties`` (pydantic lists
    the key's pattern there, which by itself would still admit any other key)."""

    def __get_pydantic_json_schema__(
        self, esquema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        resultado = handler(esquema)
        resultado["additionalProperties"] = False
        return resultado


# JSON with no NUL character in any key or string: jsonb cannot hold one (PostgreSQL), so the domain
# refuses it (``regras.tamanho_json``) on every database; the schema says so too.
_TextoSemNul = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
if TYPE_CHECKING:  # mypy cannot follow a recursive TypeAliasType: the same JSON, less precisely
    JsonSemNul = JsonValue
    ObjetoJson = dict[str, JsonValue]
else:
    JsonSemNul = TypeAliasType(
        "JsonSemNul",
        Union[  # noqa: UP007  # a recursive alias: the names are strings, which ``|`` cannot join
            Annotated[dict[_TextoSemNul, "JsonSemNul"], _SoChavesDoPadrao()],
            list["JsonSemNul"],
            _TextoSemNul,
            int,
            float,
            bool,
            None,
        ],
    )
    ObjetoJson = Annotated[dict[_TextoSemNul, JsonSemNul], _SoChavesDoPadrao()]

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
    """Only the keys present change; ``null`` clears ``assunto``/``descricao`` (a ticket always
    has a priority and a fila, so the schema admits no ``null`` for those)."""

    prioridade: Prioridade = None  # type: ignore[assignment]  # absent ≠ null: model_fields_set says which
    assunto: Assunto | None = None
    descricao: Descricao | None = None
    fila_id: Id = None  # type: ignore[assignment]

    def mudancas(self) -> dict[str, Any]:
        """The given fields, by the domain's keyword names (absent ones stay out of the call)."""
        return {nome: getattr(self, nome) for nome in self.model_fields_set}


class AtribuirEntrada(Entrada):
    atendente_id: Id


class LidaEntrada(Entrada):
    ate: Id = Field(description="id da última mensagem lida (e todas antes dela)")


class StatusEntrada(Entrada):
    status: StatusTicket


class _MensagemBase(Entrada):
    tipo: TipoMensagem = "texto"
    conteudo: Conteudo
    # Size (16 KiB of JSON) is the domain's check; the whole body is bounded by the middleware.
    metadados: ObjetoJson | None = None


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
    dados: JsonSemNul = None


class _Mudancas(Entrada):
    def mudancas(self) -> dict[str, Any]:
        """The given fields, by the domain's names (absent ones stay out); ``null`` is refused by
        the domain like any other wrong value."""
        return {nome: getattr(self, nome) for nome in self.model_fields_set}


class UsuarioCriar(Entrada):
    nome: NomeCadastro
    email: EmailCadastro
    role: RoleCadastro
    senha: SenhaNova | None = Field(
        default=None, description="ausente: uma senha é gerada e mostrada uma vez"
    )
    capacidade: Capacidade | None = None
    fila_ids: FilaIds | None = None
    canal_ids: FilaIds | None = Field(default=None, description="integracao: os canais em que pode postar")


class UsuarioAtualizar(_Mudancas):
    nome: NomeCadastro = None  # type: ignore[assignment]  # absent ≠ null: model_fields_set says which
    role: RoleCadastro = None  # type: ignore[assignment]
    ativo: StrictBool = None  # type: ignore[assignment]
    capacidade: Capacidade = None  # type: ignore[assignment]
    fila_ids: FilaIds = None  # type: ignore[assignment]
    canal_ids: FilaIds = None  # type: ignore[assignment]


class FilaCriar(Entrada):
    nome: NomeCadastro
    distribuicao: Distribuicao = "manual"


class FilaAtualizar(_Mudancas):
    nome: NomeCadastro = None  # type: ignore[assignment]
    distribuicao: Distribuicao = None  # type: ignore[assignment]


class CanalCriar(Entrada):
    nome: NomeCadastro
    tipo: TipoCanal
    fila_id: Id


class CanalAtualizar(_Mudancas):
    nome: NomeCadastro = None  # type: ignore[assignment]
    tipo: TipoCanal = None  # type: ignore[assignment]
    fila_id: Id = None  # type: ignore[assignment]
    ativo: StrictBool = None  # type: ignore[assignment]
