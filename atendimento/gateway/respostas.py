"""Acks: the two shapes every client event answers with, and the codes the gateway uses.

``{success: true, ...}`` or ``{success: false, error, code}`` (contract, "Client → server"). Handlers
raise ``FalhaEvento`` and one wrapper turns it into the failure ack, so no handler builds one by hand.
"""

from __future__ import annotations

from typing import Any

from atendimento.domain.codigos import Codigo

MENSAGENS: dict[Codigo, str] = {
    Codigo.PAYLOAD_INVALIDO: "Payload inválido",
    Codigo.EVENTO_DESCONHECIDO: "Evento desconhecido",
    Codigo.LIMITE_EXCEDIDO: "Limite de eventos excedido",
    Codigo.PROIBIDO: "Operação não permitida para este usuário",
    Codigo.TICKET_NAO_ENCONTRADO: "Ticket não encontrado",
    Codigo.FORA_DO_TICKET: "Entre no ticket (ticket:entrar) antes",
    Codigo.ERRO_INTERNO: "Erro interno",
}


class FalhaEvento(Exception):
    """A client event is refused; becomes the failure ack. ``extras`` adds keys (e.g. retryAfterMs)."""

    def __init__(self, codigo: Codigo, error: str | None = None, **extras: Any) -> None:
        super().__init__(error or MENSAGENS[codigo])
        self.codigo = codigo
        self.error = error or MENSAGENS[codigo]
        self.extras = extras


def sucesso(**campos: Any) -> dict[str, Any]:
    return {"success": True, **campos}


def falha(codigo: Codigo, error: str | None = None, **extras: Any) -> dict[str, Any]:
    """``codigo`` is one of ours, or a domain error's code passed through (with its message)."""
    if error is None:
        error = MENSAGENS[codigo] if isinstance(codigo, Codigo) else "Erro"
    return {"success": False, "error": error, "code": str(codigo), **extras}
