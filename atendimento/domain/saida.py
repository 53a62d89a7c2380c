"""Channels out, the rules with no I/O: endpoint URLs and secrets, a delivery's values, and the
forward-only state of a message as the channel's integration reports it (docs/channels.md)."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import iso_utc
from atendimento.domain.erros import DadosInvalidos, NaoEncontrado

TIPO_MENSAGEM_CRIADA = "mensagem.criada"
TIPO_TICKET_STATUS = "ticket.status"
ESTADOS_ENTREGA: tuple[str, ...] = ("pendente", "entregue", "falhou")
# What the integration reports; ``pendente`` is where every agent's message starts.
STATUS_MENSAGEM: tuple[str, ...] = ("enviada", "entregue", "lida", "falhou")
_ORDEM_STATUS = {"pendente": 0, "enviada": 1, "entregue": 2, "lida": 3}
MAX_URL = 2048
# What a webhook URL may be, said once for the server's check and the API's schema: a host of
# letters, digits, dots and hyphens, a port 1-65535, then a path or query with no space, control
# character nor fragment. ``{esquema}`` is ``https``, or ``https?`` where http is allowed.
_PORTA = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
PADRAO_URL = r"^{esquema}://[A-Za-z0-9.-]+(?::" + _PORTA + r")?(?:[/?][^\x00-\x20\x7f#]*)?$"
_URL = re.compile(PADRAO_URL.replace("{esquema}", "(https?)"))
MAX_EXTERNO_ID = 200
MAX_ERRO_CODIGO = 64
MAX_ERRO_DESCRICAO = 500
# A rotated-out secret still signs for this long, so receivers can switch without losing events.
ROTACAO_SEGUNDOS = 24 * 3600
_PREFIXO_SEGREDO = "whsec_"


def gerar_segredo() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes (the spec asks ≥ 24)."""
    return _PREFIXO_SEGREDO + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def gerar_id_evento() -> str:
    """A ``webhook-id``: ``msg_`` + 32 hex."""
    return "msg_" + secrets.token_hex(16)


def validar_url(valor: object, hosts_http: frozenset[str]) -> str:
    """``https://host[:port]/path``, or ``http://`` to a host the configuration allows. Where the host
    resolves is checked at every delivery (the relay's SSRF rules), not here: DNS changes."""
    if not isinstance(valor, str) or not valor or len(valor) > MAX_URL:
        raise DadosInvalidos(f"url: obrigatória, até {MAX_URL} caracteres", Codigo.URL_INVALIDA)
    if _URL.fullmatch(valor) is None:
        raise DadosInvalidos(
            "url: https://host[:porta][/caminho], sem espaços nem fragmento", Codigo.URL_INVALIDA
        )
    try:
        partes = urlsplit(valor)
        porta = partes.port
    except ValueError:
        raise DadosInvalidos("url: não é uma URL válida", Codigo.URL_INVALIDA) from None
    host = (partes.hostname or "").lower()
    if not host or partes.username or partes.password or partes.fragment:
        raise DadosInvalidos("url: host obrigatório, sem usuário, senha nem fragmento", Codigo.URL_INVALIDA)
    if porta == 0:
        raise DadosInvalidos("url: porta inválida", Codigo.URL_INVALIDA)
    if partes.scheme == "https" or (partes.scheme == "http" and host in hosts_http):
        return valor
    raise DadosInvalidos("url: precisa ser https (http só para hosts permitidos)", Codigo.URL_INVALIDA)


def status_avanca(atual: str | None, novo: str) -> bool:
    """Whether ``novo`` moves a message's status forward from ``atual`` (None: ``pendente``).
    ``falhou`` ends any state before ``lida``; nothing leaves ``falhou`` but an operator's re-send."""
    atual = atual or "pendente"
    if atual == "falhou" or atual == novo:
        return False
    if novo == "falhou":
        return atual != "lida"
    return _ORDEM_STATUS[novo] > _ORDEM_STATUS[atual]


def entrega_nao_encontrada() -> NaoEncontrado:
    return NaoEncontrado("Entrega não encontrada", Codigo.ENTREGA_NAO_ENCONTRADA)


def webhook_nao_encontrado() -> NaoEncontrado:
    return NaoEncontrado("Este canal não tem webhook", Codigo.WEBHOOK_NAO_ENCONTRADO)


def mensagem_nao_encontrada() -> NaoEncontrado:
    return NaoEncontrado("Mensagem não encontrada", Codigo.MENSAGEM_NAO_ENCONTRADA)


@dataclass(frozen=True, slots=True)
class WebhookDados:
    canal_id: str
    empresa_id: str
    url: str
    segredo: str
    segredo_anterior: str | None
    segredo_anterior_ate: datetime | None
    ativo: bool
    desativado_em: datetime | None
    desativado_motivo: str | None
    criado_em: datetime
    atualizado_em: datetime

    def para_resposta(self) -> dict[str, Any]:
        """What ``GET`` answers: never a secret."""
        resposta: dict[str, Any] = {"canalId": self.canal_id, "url": self.url, "ativo": self.ativo}
        if self.desativado_em is not None:
            resposta["desativadoEm"] = iso_utc(self.desativado_em)
        if self.desativado_motivo is not None:
            resposta["desativadoMotivo"] = self.desativado_motivo
        return resposta


@dataclass(frozen=True, slots=True)
class TentativaDados:
    numero: int
    em: datetime
    http_status: int | None
    erro: str | None
    duracao_ms: int

    def para_resposta(self) -> dict[str, Any]:
        return {
            "numero": self.numero,
            "em": iso_utc(self.em),
            "httpStatus": self.http_status,
            "erro": self.erro,
            "duracaoMs": self.duracao_ms,
        }


@dataclass(frozen=True, slots=True)
class EntregaDados:
    seq: int
    id: str
    canal_id: str
    ticket_id: str
    tipo: str
    mensagem_id: str | None
    estado: str
    tentativas: int
    proxima_em: datetime | None
    ultimo_erro: str | None
    criado_em: datetime
    concluido_em: datetime | None
    lista_tentativas: tuple[TentativaDados, ...] = field(default=())

    def para_resposta(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "canalId": self.canal_id,
            "ticketId": self.ticket_id,
            "tipo": self.tipo,
            "mensagemId": self.mensagem_id,
            "estado": self.estado,
            "criadoEm": iso_utc(self.criado_em),
            "proximaTentativaEm": None if self.proxima_em is None else iso_utc(self.proxima_em),
            "concluidoEm": None if self.concluido_em is None else iso_utc(self.concluido_em),
            "ultimoErro": self.ultimo_erro,
            "tentativas": [t.para_resposta() for t in self.lista_tentativas],
        }


@dataclass(frozen=True, slots=True)
class StatusMensagem:
    """A message's delivery state as reported back: what ``mensagem:status`` carries."""

    empresa_id: str
    mensagem_id: str
    ticket_id: str
    atendente_id: str | None  # the ticket's assignee (whose user room hears it too)
    status: str
    em: datetime
    erro: dict[str, str] | None
    externo_id: str | None
    entrega_id: str | None = None

    def para_evento(self) -> dict[str, Any]:
        evento: dict[str, Any] = {
            "id": self.mensagem_id,
            "ticketId": self.ticket_id,
            "status": self.status,
            "em": iso_utc(self.em),
        }
        if self.erro is not None:
            evento["erro"] = self.erro
        if self.externo_id is not None:
            evento["externoId"] = self.externo_id
        if self.entrega_id is not None:
            evento["entregaId"] = self.entrega_id
        return evento


def _nada() -> None:
    pass


@dataclass(slots=True)
class ConfigSaida:
    """What the channels-out use cases need from outside: the hosts an ``http://`` endpoint may name,
    and how to wake the relay once an outbox row is committed (the composition root plugs it in;
    by default nobody is woken and the relay finds the row on its next poll)."""

    hosts_http: frozenset[str] = frozenset()
    avisar: Callable[[], None] = _nada
