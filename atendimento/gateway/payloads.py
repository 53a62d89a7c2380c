"""Reading client payloads: each client event's fields, checked before anything else happens.

A payload that fails here changes nothing and answers ``PAYLOAD_INVALIDO``. The checks are strict on
what the gateway uses (a ticket id becomes part of a room name, a status is stored) and bounded on
what it ignores: extra keys are tolerated for forward compatibility, but the whole payload has a size
budget so a client can't make the server walk a huge structure it never needed.
"""

from __future__ import annotations

import re

from atendimento.domain.entidades import STATUS_ATENDENTE
from atendimento.domain.regras import MAX_ID as MAX_ID_CHARS

# Rough bytes a client event's payload may carry: the seed's payloads are a few dozen bytes.
MAX_PAYLOAD_UNITS = 4096
MAX_DEPTH = 8

# No whitespace, control characters or room separators beyond ":" that ids could carry.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


class PayloadInvalido(ValueError):
    """The payload's shape or a field is not what the event takes; the message is safe to show."""


def _custo(valor: object, profundidade: int = 0) -> int:
    """Approximate size of a decoded payload, stopping as soon as it is clearly over budget."""
    if profundidade > MAX_DEPTH:
        raise PayloadInvalido("payload aninhado demais")
    if isinstance(valor, str | bytes | bytearray):
        return len(valor) + 2
    if isinstance(valor, dict):
        total = 2
        for chave, item in valor.items():
            total += len(str(chave)) + 3 + _custo(item, profundidade + 1)
            if total > MAX_PAYLOAD_UNITS:
                break
        return total
    if isinstance(valor, list | tuple):
        total = 2
        for item in valor:
            total += 1 + _custo(item, profundidade + 1)
            if total > MAX_PAYLOAD_UNITS:
                break
        return total
    return 8


def objeto(payload: object) -> dict[str, object]:
    """The payload as an object within the size budget, or PayloadInvalido."""
    if not isinstance(payload, dict):
        raise PayloadInvalido("o payload deve ser um objeto")
    if _custo(payload) > MAX_PAYLOAD_UNITS:
        raise PayloadInvalido("payload grande demais")
    return payload


def _id(payload: dict[str, object], campo: str) -> str:
    valor = payload.get(campo)
    if not isinstance(valor, str) or not valor:
        raise PayloadInvalido(f"{campo} deve ser uma string não vazia")
    if len(valor) > MAX_ID_CHARS:
        raise PayloadInvalido(f"{campo} excede {MAX_ID_CHARS} caracteres")
    if not _ID.fullmatch(valor):
        raise PayloadInvalido(f"{campo} tem caracteres inválidos")
    return valor


def ticket_id(payload: object) -> str:
    """``{ticketId}``: ticket:entrar, ticket:sair, mensagem:digitando."""
    return _id(objeto(payload), "ticketId")


def status_atendente(payload: object) -> str:
    """``{status}``: atendente:status."""
    status = objeto(payload).get("status")
    if not isinstance(status, str) or status not in STATUS_ATENDENTE:
        raise PayloadInvalido(f"status deve ser um de {', '.join(STATUS_ATENDENTE)}")
    return status


def leitura(payload: object) -> tuple[str, str]:
    """``{ticketId, ate}``: ticket:lido (``ate``: the id of the last message read)."""
    dados = objeto(payload)
    return _id(dados, "ticketId"), _id(dados, "ate")
