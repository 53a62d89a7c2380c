"""Idempotent writes: a client's ``Idempotency-Key`` makes a retried POST answer its first answer.

The key belongs to (tenant, user): another user's identical key is another key. What was asked is
remembered as an ``impressao`` (the operation and a SHA-256 of its validated arguments), so reusing
a key for a different request is a conflict (409), not a silent replay of something else. Keys live
24 hours; an older one is as good as unused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import agora
from atendimento.domain.erros import DadosInvalidos, ErroDominio
from atendimento.domain.portas import Repositorio

VALIDADE = timedelta(hours=24)
MAX_CHAVE = 200


class ConflitoIdempotencia(ErroDominio):
    http_status = 409
    code_padrao = Codigo.IDEMPOTENCIA_CONFLITO


@dataclass(frozen=True, slots=True)
class Idempotencia:
    """Who asked, and the key they sent with the request."""

    usuario_id: str
    chave: str


def validar_chave(chave: object) -> str:
    """1 to 200 printable ASCII characters (what a header carries safely), else PAYLOAD_INVALIDO."""
    if (
        not isinstance(chave, str)
        or not 1 <= len(chave) <= MAX_CHAVE
        or any(not " " <= c <= "~" for c in chave)
    ):
        raise DadosInvalidos(
            f"Idempotency-Key inválida: de 1 a {MAX_CHAVE} caracteres ASCII imprimíveis",
            Codigo.PAYLOAD_INVALIDO,
        )
    return chave


def impressao(operacao: str, **argumentos: Any) -> str:
    """``operacao:sha256`` of the arguments as canonical JSON (key order and spacing do not count)."""
    texto = json.dumps(argumentos, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return f"{operacao}:{hashlib.sha256(texto.encode()).hexdigest()}"


def conflito() -> ConflitoIdempotencia:
    return ConflitoIdempotencia(
        "Esta Idempotency-Key já foi usada com outra requisição", Codigo.IDEMPOTENCIA_CONFLITO
    )


async def reservar(repo: Repositorio, idem: Idempotencia | None, impressao_: str) -> dict[str, Any] | None:
    """In the write's transaction, before the write: None to go ahead (the key is now held), or the
    first answer to give again. The same key for another request raises ``ConflitoIdempotencia``."""
    if idem is None:
        return None
    achado = await repo.reservar_chave(idem.usuario_id, idem.chave, impressao_, agora() - VALIDADE)
    if achado is None:
        return None
    impressao_anterior, resultado = achado
    if impressao_anterior != impressao_:
        raise conflito()
    return resultado


async def concluir(repo: Repositorio, idem: Idempotencia | None, resultado: dict[str, Any]) -> None:
    """In the write's transaction, after the write: remember the answer with the key."""
    if idem is not None:
        await repo.concluir_chave(idem.usuario_id, idem.chave, resultado)
