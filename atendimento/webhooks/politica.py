"""What an attempt's outcome means for its delivery: done, retry when, given up, or the endpoint
disabled. No I/O: the relay hands it the outcome and carries out the answer."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# A Retry-After longer than this is taken as this (a receiver cannot park a delivery for a month).
MAX_RETRY_AFTER_S = 24 * 3600.0
JITTER = 0.2  # each delay is the schedule's ± 20 %, so endpoints recovering together are not stampeded


@dataclass(frozen=True, slots=True)
class Resultado:
    """One attempt: the HTTP status (None: no answer), the error, ``Retry-After`` in seconds."""

    http_status: int | None
    erro: str | None
    duracao_ms: int
    retry_after_s: float | None = None

    @property
    def sucesso(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


@dataclass(frozen=True, slots=True)
class Decisao:
    estado: str  # pendente | entregue | falhou
    atraso_s: float | None  # pendente: the next attempt after this long
    desativar: str | None  # the reason to disable the endpoint at once


def descrever(resultado: Resultado) -> str:
    if resultado.http_status is not None:
        return f"HTTP {resultado.http_status}"
    return resultado.erro or "erro"


def decidir(
    resultado: Resultado, tentativas_rodada: int, agenda: list[float], aleatorio: random.Random
) -> Decisao:
    """``tentativas_rodada``: attempts of this round, this one included."""
    if resultado.sucesso:
        return Decisao("entregue", None, None)
    if resultado.http_status == 410:
        # The receiver says the endpoint is gone: stop sending there; the event waits, pending.
        return Decisao("pendente", 0.0, "HTTP 410 Gone")
    if tentativas_rodada > len(agenda):
        return Decisao("falhou", None, None)
    atraso = agenda[tentativas_rodada - 1] * (1 + aleatorio.uniform(-JITTER, JITTER))
    if resultado.retry_after_s is not None and resultado.http_status in (429, 503):
        atraso = min(max(resultado.retry_after_s, 0.0), MAX_RETRY_AFTER_S)
    return Decisao("pendente", atraso, None)


def retry_after(valor: str | None, agora: datetime | None = None) -> float | None:
    """``Retry-After``: seconds, or an HTTP date; None when absent or unreadable."""
    if not valor:
        return None
    valor = valor.strip()
    if valor.isdigit():
        return float(valor)
    try:
        quando = parsedate_to_datetime(valor)
    except (TypeError, ValueError):
        return None
    if quando.tzinfo is None:
        quando = quando.replace(tzinfo=UTC)
    return max(0.0, (quando - (agora or datetime.now(UTC))).total_seconds())
