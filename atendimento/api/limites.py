"""Login throttling with the ``limits`` library (moving windows).

Two limits guard ``POST /auth/login``:
- failures per email and client IP (default 5 a minute): slows password guessing on one account;
- attempts per client IP (default 30 a minute): caps one address spraying many emails.

The storage is injected: in-process memory by default, a shared ``limits.aio.storage.RedisStorage``
when several instances run behind a load balancer (the cluster wiring passes it).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from atendimento.api.errors import ErroApi


def _excedido(retry_after: int) -> ErroApi:
    return ErroApi(
        429,
        "LIMITE_EXCEDIDO",
        "Muitas tentativas de login; tente novamente mais tarde",
        {"Retry-After": str(retry_after)},
    )


class LimitadorLogin:
    def __init__(
        self,
        storage: Storage | None = None,
        *,
        falhas_por_email_ip: RateLimitItem | None = None,
        tentativas_por_ip: RateLimitItem | None = None,
    ) -> None:
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())
        self._falhas = falhas_por_email_ip or RateLimitItemPerMinute(5)
        self._tentativas = tentativas_por_ip or RateLimitItemPerMinute(30)

    async def reservar(self, email: str, ip: str) -> None:
        """Count this attempt before the password is checked, or raise 429 LIMITE_EXCEDIDO.

        The failure slot is taken up front and given back by ``sucesso`` on a good password: a
        burst of parallel guesses then cannot all pass a check-then-count race while argon2 runs."""
        chave_email = _normalizar(email)
        if not await self._limiter.hit(self._tentativas, "login-ip", ip):
            raise _excedido(await self._espera(self._tentativas, "login-ip", ip))
        if not await self._limiter.hit(self._falhas, "login-falhas", chave_email, ip):
            raise _excedido(await self._espera(self._falhas, "login-falhas", chave_email, ip))

    async def sucesso(self, email: str, ip: str) -> None:
        """A good password wipes this email+IP's failures (the usual "reset on success")."""
        await self._limiter.clear(self._falhas, "login-falhas", _normalizar(email), ip)

    async def _espera(self, item: RateLimitItem, *chaves: str) -> int:
        estado = await self._limiter.get_window_stats(item, *chaves)
        return max(1, math.ceil(estado.reset_time - time.time()))


def _normalizar(email: str) -> str:
    # Same folding as the domain's login lookup, so "Ana@Demo.local " and "ana@demo.local" share a limit.
    return email.strip().lower()
