"""Rate limits of client events: every event has one, typing has the contract's own on top.

Built on the ``limits`` library's async API. The storage is injectable: in-process ``MemoryStorage``
by default, a shared Redis storage from the cluster layer so the budgets hold across instances. Keys
are tenant-qualified (and their parts escaped), so equal ids in two tenants never share a budget.

- ``LimiteDigitando``: ``mensagem:digitando``, at most 10 per minute per user and ticket (contract),
  in a moving window (never 2x the budget around a window edge).
- ``LimitesEventos``: every client event, per user and, where one tenant's volume costs the others
  (a database write, a broadcast to the whole tenant), per tenant. An event without a limit of its
  own gets the default one (``*``), so a newly registered event is limited without anyone writing a
  line; events with no handler count against ``?``. Sliding-window counters: O(1) per check in
  memory and in Redis, cheap enough to sit in front of every event.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute, parse
from limits.aio.storage import MemoryStorage, MovingWindowSupport, SlidingWindowCounterSupport, Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)

DIGITANDO_POR_MINUTO = 10

PADRAO = "*"  # any registered event without a limit of its own
DESCONHECIDO = "?"  # events with no handler

# Per user: far above what a person at a console does, far below a runaway loop. A console may join
# a few dozen ticket rooms at load; a human changes status a few times an hour.
POR_USUARIO: dict[str, str] = {
    PADRAO: "60/minute",
    DESCONHECIDO: "30/minute",
    "ticket:entrar": "120/minute",
    "ticket:sair": "120/minute",
    "mensagem:digitando": "120/minute",  # across tickets; the contract's 10/min per ticket also holds
    "atendente:status": "30/minute",
    "ticket:lido": "120/minute",  # a console marks a ticket read as its messages arrive
}
# Per tenant, where each event costs the database or every agent of the tenant: room for a large
# tenant's normal day, not for one tenant to take the shared database or broadcast without end.
POR_EMPRESA: dict[str, str] = {
    "ticket:entrar": "3000/minute",
    "atendente:status": "600/minute",
    "ticket:lido": "6000/minute",
}


# The REST writes that cost the most (contract, "Trust nobody"), counted per user and per tenant on
# the same storage (ATENDIMENTO_REST_RATE_LIMITS / _TENANT override them). Only these are limited.
# Per user: a person at a console sends a message every few seconds at best and opens a few tickets
# an hour; an integration forwards every customer of its channels; a gestor notifies by hand. So
# 600 messages (10/s), 120 tickets and 30 notifications a minute are far above a busy human, and far
# below a script (hundreds a second). Per tenant: a contact centre of a few hundred agents at peak.
REST_POR_USUARIO: dict[str, str] = {
    "mensagem:enviar": "600/minute",
    "ticket:criar": "120/minute",
    "mensagem:canal": "3000/minute",
    "notificacao": "30/minute",
}
REST_POR_EMPRESA: dict[str, str] = {
    "mensagem:enviar": "12000/minute",
    "ticket:criar": "3000/minute",
    "mensagem:canal": "6000/minute",
    "notificacao": "300/minute",
}


def _chave(*partes: str) -> tuple[str, ...]:
    # ``limits`` joins identifiers with "/": escape it so ("a/b", "c") and ("a", "b/c") stay apart.
    return tuple(p.replace("%", "%25").replace("/", "%2F") for p in partes)


def _espera_ms(reset_time: float) -> int:
    return max(1, math.ceil((reset_time - time.time()) * 1000))


class LimiteDigitando:
    def __init__(self, storage: Storage | None = None, *, por_minuto: int = DIGITANDO_POR_MINUTO) -> None:
        self._storage = storage if storage is not None else MemoryStorage()
        self._item: RateLimitItem = RateLimitItemPerMinute(por_minuto, namespace="digitando")
        # Storages that can't do a moving window (none of the usual ones) fall back to a fixed window.
        self._limiter: RateLimiter = (
            MovingWindowRateLimiter(self._storage)
            if isinstance(self._storage, MovingWindowSupport)
            else FixedWindowRateLimiter(self._storage)
        )

    async def consumir(self, empresa_id: str, usuario_id: str, ticket_id: str) -> int | None:
        """Take one from the budget: None if allowed, else the milliseconds until one is free again."""
        chave = _chave(empresa_id, usuario_id, ticket_id)
        if await self._limiter.hit(self._item, *chave):
            return None
        stats = await self._limiter.get_window_stats(self._item, *chave)
        return _espera_ms(stats.reset_time)


@dataclass(frozen=True, slots=True)
class _Regra:
    usuario: RateLimitItem | None
    empresa: RateLimitItem | None


class LimitesEventos:
    """Per-event budgets; ``consumir`` answers None (go ahead) or the milliseconds to wait."""

    def __init__(
        self,
        storage: Storage | None = None,
        *,
        por_usuario: Mapping[str, str] | None = None,
        por_empresa: Mapping[str, str] | None = None,
        padrao_usuario: Mapping[str, str] = POR_USUARIO,
        padrao_empresa: Mapping[str, str] = POR_EMPRESA,
        escopo: str = "evento",
    ) -> None:
        """``padrao_*``: the defaults the overrides ``por_*`` go over (the client events' unless
        said); ``escopo`` keeps one set's counters apart from another's in the shared storage."""
        storage = storage if storage is not None else MemoryStorage()
        if not isinstance(storage, SlidingWindowCounterSupport):
            raise TypeError("the limits storage must support sliding-window counters")
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        usuario, empresa = (
            {**padrao_usuario, **(por_usuario or {})},
            {**padrao_empresa, **(por_empresa or {})},
        )
        self._usuario = {e: _item(t, f"{escopo}:u") for e, t in usuario.items()}
        self._empresa = {e: _item(t, f"{escopo}:e") for e, t in empresa.items()}
        self._regras: dict[str, _Regra] = {}

    def _regra(self, evento: str) -> _Regra:
        regra = self._regras.get(evento)
        if regra is None:
            # Known events only reach here (unknown ones come as DESCONHECIDO), so this stays small.
            regra = self._regras[evento] = _Regra(
                self._usuario.get(evento, self._usuario.get(PADRAO)),
                self._empresa.get(evento, self._empresa.get(PADRAO)),
            )
        return regra

    async def consumir(self, evento: str, empresa_id: str, usuario_id: str) -> int | None:
        """One ``evento`` by this user: None if within every budget, else ms until one frees up.

        The user's budget is checked first, so a refused user does not spend the tenant's.
        """
        regra = self._regra(evento)
        for item, chave in (
            # The event is part of the key: events under the same (default) limit count apart.
            (regra.usuario, _chave(evento, empresa_id, usuario_id)),
            (regra.empresa, _chave(evento, empresa_id)),
        ):
            if item is not None and not await self._limiter.hit(item, *chave):
                stats = await self._limiter.get_window_stats(item, *chave)
                return _espera_ms(stats.reset_time)
        return None


def _item(texto: str, namespace: str) -> RateLimitItem:
    modelo = parse(texto)
    # The namespace keeps the per-user and per-tenant counters apart in the shared storage.
    return type(modelo)(modelo.amount, modelo.multiples, namespace=namespace)


def limites_rest(
    storage: Storage | None = None,
    *,
    por_usuario: Mapping[str, str] | None = None,
    por_empresa: Mapping[str, str] | None = None,
) -> LimitesEventos:
    """The REST writes' limits (``REST_POR_USUARIO``/``REST_POR_EMPRESA`` under the overrides)."""
    return LimitesEventos(
        storage,
        por_usuario=por_usuario,
        por_empresa=por_empresa,
        padrao_usuario=REST_POR_USUARIO,
        padrao_empresa=REST_POR_EMPRESA,
        escopo="rest",
    )
