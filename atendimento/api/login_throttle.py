"""Login throttling, per account (with backoff) and per address, on a ``limits`` storage.

Per account (the normalised e-mail, whether or not it exists, so the answers stay the same): the
first ``falhas_livres`` failures are free; from then on each failure locks the account for
``espera_inicial_s``, doubled with each further failure, at most ``espera_maxima_s``, and only one
guess at a time is checked past the free ones. A good password clears the account's count; the
count is otherwise forgotten ``memoria_falhas_s`` after its first failure. Whoever guesses one
account from many addresses gets ~12 guesses an hour with the defaults, not an unbounded number.
The price, as with any account lock-out: someone who knows an e-mail can keep that account waiting
(at most ``espera_maxima_s`` between tries); its owner still logs in between two waits.

Per address (``addresses.chave_endereco``: IPv4 address, IPv6 /64):
- failures, ``falhas_por_endereco`` a minute: one address spraying many accounts. Each attempt takes
  a slot before its password is checked and a *successful* login gives it back, so a call centre
  behind one NAT is not locked out by its own agents logging in at the start of a shift;
- attempts of any outcome, ``tentativas_por_endereco`` a minute, generous: only bounds the argon2
  CPU one address can make the server spend.

Slots are taken before the password is checked (argon2 takes tens of milliseconds): a burst of
parallel guesses cannot all pass a check-then-count race. The storage is injected: in-process memory
by default, the cluster's shared Redis storage when several instances run (``cluster/rate_limit_storage.py``),
so the counts hold across instances.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from atendimento.addresses import chave_endereco
from atendimento.api.error_responses import ErroApi
from atendimento.config import Settings
from atendimento.domain.codigos import Codigo

_JANELA_ENDERECO_S = 60


@dataclass(frozen=True)
class PoliticaLogin:
    falhas_livres: int = 5
    espera_inicial_s: int = 60
    espera_maxima_s: int = 900
    memoria_falhas_s: int = 3600
    falhas_por_endereco: int = 30
    tentativas_por_endereco: int = 600

    def espera(self, falhas: int) -> int:
        """The lock-out after the account's ``falhas``-th failure (0 while still free)."""
        if falhas < self.falhas_livres:
            return 0
        expoente = min(falhas - self.falhas_livres, 30)
        return min(self.espera_maxima_s, self.espera_inicial_s * 2**expoente)

    @classmethod
    def from_settings(cls, settings: Settings) -> PoliticaLogin:
        return cls(
            falhas_livres=settings.login_free_failures,
            espera_inicial_s=settings.login_lockout_seconds,
            espera_maxima_s=max(settings.login_lockout_seconds, settings.login_lockout_max_seconds),
            falhas_por_endereco=settings.login_failures_per_address_per_minute,
            tentativas_por_endereco=settings.login_attempts_per_address_per_minute,
        )


@dataclass(frozen=True)
class Reserva:
    """One attempt's slots, for ``sucesso``, ``falha`` or ``liberar``."""

    conta: str
    chave_falhas_endereco: str
    ordem: int  # this attempt's number among the account's current failures (1-based)


def _excedido(retry_after: float) -> ErroApi:
    return ErroApi(
        429,
        Codigo.LIMITE_EXCEDIDO,
        "Muitas tentativas de login; tente novamente mais tarde",
        {"Retry-After": str(max(1, math.ceil(retry_after)))},
    )


class LimitadorLogin:
    def __init__(self, storage: Storage | None = None, *, politica: PoliticaLogin | None = None) -> None:
        self._storage = storage or MemoryStorage()
        self._politica = politica or PoliticaLogin()
        self._moving = MovingWindowRateLimiter(self._storage)
        self._tentativas = RateLimitItemPerMinute(self._politica.tentativas_por_endereco)

    @property
    def politica(self) -> PoliticaLogin:
        return self._politica

    async def reservar(self, email: str, ip: str | None) -> Reserva:
        """Take this attempt's slots before the password is checked, or raise 429 LIMITE_EXCEDIDO."""
        p, st = self._politica, self._storage
        conta, endereco = _normalizar(email), chave_endereco(ip)
        if not await self._moving.hit(self._tentativas, "login-tentativas", endereco):
            estado = await self._moving.get_window_stats(self._tentativas, "login-tentativas", endereco)
            raise _excedido(estado.reset_time - time.time())

        agora = time.time()
        janela = int(agora // _JANELA_ENDERECO_S)
        chave_endereco_falhas = f"login-falhas-endereco/{endereco}/{janela}"
        if await st.incr(chave_endereco_falhas, _JANELA_ENDERECO_S + 1) > p.falhas_por_endereco:
            await self._devolver(chave_endereco_falhas)
            raise _excedido((janela + 1) * _JANELA_ENDERECO_S - agora)

        ordem = await st.incr(_chave_falhas(conta), p.memoria_falhas_s)
        if ordem > p.falhas_livres:
            espera = await self._espera_da_conta(conta, ordem)
            if espera is not None:
                await self._devolver(_chave_falhas(conta))
                await self._devolver(chave_endereco_falhas)
                raise _excedido(espera)
        return Reserva(conta, chave_endereco_falhas, ordem)

    async def _espera_da_conta(self, conta: str, ordem: int) -> float | None:
        """Seconds this account must still wait before guess ``ordem`` may be checked, or None."""
        st = self._storage
        if await st.get(_chave_concluidas(conta)) < ordem - 1:
            return 1.0  # an earlier guess at this account is being checked right now: one at a time
        bloqueio = _chave_bloqueio(conta, ordem - 1)
        if await st.get(bloqueio) > 0:
            return await st.get_expiry(bloqueio) - time.time()
        return None

    async def falha(self, reserva: Reserva) -> None:
        """A wrong password (or unknown e-mail): the slots stay taken, and past the free failures the
        account is locked for its current wait."""
        p = self._politica
        await self._storage.incr(_chave_concluidas(reserva.conta), p.memoria_falhas_s)
        espera = p.espera(reserva.ordem)
        if espera:
            await self._storage.incr(_chave_bloqueio(reserva.conta, reserva.ordem), espera)

    async def sucesso(self, reserva: Reserva) -> None:
        """A good password: the account's failures are wiped, the address gets its slot back."""
        await self._storage.clear(_chave_falhas(reserva.conta))
        await self._storage.clear(_chave_concluidas(reserva.conta))
        await self._devolver(reserva.chave_falhas_endereco)

    async def liberar(self, reserva: Reserva) -> None:
        """The password was never checked (the database failed): give every slot back."""
        await self._devolver(_chave_falhas(reserva.conta))
        await self._devolver(reserva.chave_falhas_endereco)

    async def _devolver(self, chave: str) -> None:
        # A counter that expired meanwhile would come back as -1, a free extra slot: drop it instead.
        if await self._storage.incr(chave, _JANELA_ENDERECO_S + 1, -1) < 0:
            await self._storage.clear(chave)


def _chave_falhas(conta: str) -> str:
    return f"login-falhas-conta/{conta}"


def _chave_concluidas(conta: str) -> str:
    return f"login-falhas-conta-concluidas/{conta}"


def _chave_bloqueio(conta: str, ordem: int) -> str:
    return f"login-bloqueio-conta/{conta}/{ordem}"


def _normalizar(email: str) -> str:
    # Same folding as the domain's login lookup, so "Ana@Demo.local " and "ana@demo.local" share a limit.
    return email.strip().lower()
