"""Acks: the two shapes every client event answers with, and the codes the gateway uses.

``{success: true, ...}`` or ``{success: false, error, code}`` (contract, "Client → server"). Handlers
raise ``FalhaEvento`` and one wrapper turns it into the failure ack, so no handler builds one by hand.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Codigo(StrEnum):
    # The contract's codes.
    PAYLOAD_INVALIDO = "PAYLOAD_INVALIDO"
    EVENTO_DESCONHECIDO = "EVENTO_DESCONHECIDO"
    LIMITE_EXCEDIDO = "LIMITE_EXCEDIDO"
    # The gateway's own, for rules the contract states without naming a code.
    PROIBIDO = "PROIBIDO"  # the caller's role may not do this (ticket:entrar, atendente:status)
    TICKET_NAO_ENCONTRADO = "TICKET_NAO_ENCONTRADO"  # unknown ticket and another tenant's alike
    FORA_DO_TICKET = "FORA_DO_TICKET"  # mensagem:digitando from a socket not in the ticket's room
    ERRO_INTERNO = "ERRO_INTERNO"  # something failed on our side; details go to the log only


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


def falha(codigo: Codigo | str, error: str | None = None, **extras: Any) -> dict[str, Any]:
    """``codigo`` is one of ours, or a domain error's code passed through (with its message)."""
    if error is None:
        error = MENSAGENS[codigo] if isinstance(codigo, Codigo) else "Erro"
    return {"success": False, "error": error, "code": str(codigo), **extras}
