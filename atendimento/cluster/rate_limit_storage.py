"""Rate-limit counters shared by every instance: the ``limits`` async Redis storage, with a fallback.

The gateway's typing limiter (``gateway/rate_limits.py``) and the API's login throttle take a
``limits.aio.storage.Storage``. On one instance an in-process ``MemoryStorage`` is exact; behind a
load balancer each instance would grant the whole budget again, so the cluster hands them
``armazenamento_limites(settings.redis_url)`` instead.

Why a fallback: a limiter that raises when Redis is away would turn a Redis outage into failed logins
and failed typing events. While Redis does not answer, the counters live in this process (per-instance
budgets: looser by at most the number of instances, never a crash), and Redis is tried again after a
short pause, so a dead Redis doesn't add a connect timeout to every hit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from limits.aio.storage import (
    MemoryStorage,
    MovingWindowSupport,
    RedisClusterStorage,
    RedisStorage,
    Storage,
)
from limits.aio.storage.base import SlidingWindowCounterSupport
from redis.asyncio import ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from atendimento.cluster.topologia import ERROS_REDIS, e_cluster

log = logging.getLogger(__name__)

T = TypeVar("T")

PREFIXO_LIMITES = "atendimento:limites"


def url_limits(redis_url: str) -> str:
    """``redis://…`` → ``async+redis://…``: the scheme ``limits`` maps to its async Redis storage
    (``redis+cluster://…`` → ``async+redis+cluster://…``, its Redis Cluster storage)."""
    for esquema in ("redis://", "rediss://", "redis+cluster://"):
        if redis_url.startswith(esquema):
            return "async+" + redis_url
    if redis_url.startswith("unix://"):
        return "async+redis+unix://" + redis_url[len("unix://") :]
    if redis_url.startswith("async+"):
        return redis_url
    raise ValueError(f"unsupported Redis URL scheme: {redis_url.split('://')[0]}://")


class ArmazenamentoResiliente(Storage, MovingWindowSupport, SlidingWindowCounterSupport):
    """A ``limits`` storage on Redis that falls back to process memory while Redis is unreachable."""

    STORAGE_SCHEME = None  # not registered under a URL scheme: built by armazenamento_limites()

    def __init__(
        self,
        redis: Storage,
        *,
        pausa_s: float = 1.0,
        pool: ConnectionPool | None = None,
        cliente: Any = None,
    ) -> None:
        super().__init__()
        if not isinstance(redis, MovingWindowSupport | SlidingWindowCounterSupport):
            raise TypeError("the Redis storage must support moving and sliding windows")
        self.redis = redis
        self._pool = pool  # ours to close: limits' storage has no close of its own
        self._cliente = cliente  # the same, for a cluster client
        self.memoria = MemoryStorage()
        self._pausa_s = pausa_s
        self._falhou_em: float | None = None
        self.falhas = 0  # hits answered from memory because Redis failed (tests, logs)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        # Nothing escapes _chamar: the limiter never sees a storage error.
        return ()

    async def fechar(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()
        if self._cliente is not None:
            await self._cliente.aclose()

    @property
    def em_memoria(self) -> bool:
        return self._falhou_em is not None and time.monotonic() - self._falhou_em < self._pausa_s

    async def _chamar(self, redis: Callable[[], Awaitable[T]], memoria: Callable[[], Awaitable[T]]) -> T:
        if self.em_memoria:
            return await memoria()
        try:
            resultado = await redis()
        except ERROS_REDIS as exc:
            if self._falhou_em is None:
                log.warning("limits: Redis unreachable (%s); per-instance counters until it's back", exc)
            self._falhou_em = time.monotonic()
            self.falhas += 1
            return await memoria()
        if self._falhou_em is not None:
            log.info("limits: Redis is back; shared counters again")
            self._falhou_em = None
        return resultado

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return await self._chamar(
            lambda: self.redis.incr(key, expiry, amount), lambda: self.memoria.incr(key, expiry, amount)
        )

    async def get(self, key: str) -> int:
        return await self._chamar(lambda: self.redis.get(key), lambda: self.memoria.get(key))

    async def get_expiry(self, key: str) -> float:
        return await self._chamar(lambda: self.redis.get_expiry(key), lambda: self.memoria.get_expiry(key))

    async def check(self) -> bool:
        try:
            return await self.redis.check()
        except ERROS_REDIS:
            return False

    async def reset(self) -> int | None:
        return await self._chamar(self.redis.reset, self.memoria.reset)

    async def clear(self, key: str) -> None:
        await self._chamar(lambda: self.redis.clear(key), lambda: self.memoria.clear(key))

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        assert isinstance(self.redis, MovingWindowSupport)
        redis = self.redis
        return await self._chamar(
            lambda: redis.acquire_entry(key, limit, expiry, amount),
            lambda: self.memoria.acquire_entry(key, limit, expiry, amount),
        )

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        assert isinstance(self.redis, MovingWindowSupport)
        redis = self.redis
        return await self._chamar(
            lambda: redis.get_moving_window(key, limit, expiry),
            lambda: self.memoria.get_moving_window(key, limit, expiry),
        )

    async def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        assert isinstance(self.redis, SlidingWindowCounterSupport)
        redis = self.redis
        return await self._chamar(
            lambda: redis.acquire_sliding_window_entry(key, limit, expiry, amount),
            lambda: self.memoria.acquire_sliding_window_entry(key, limit, expiry, amount),
        )

    async def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        assert isinstance(self.redis, SlidingWindowCounterSupport)
        redis = self.redis
        return await self._chamar(
            lambda: redis.get_sliding_window(key, expiry),
            lambda: self.memoria.get_sliding_window(key, expiry),
        )

    async def clear_sliding_window(self, key: str, expiry: int) -> None:
        assert isinstance(self.redis, SlidingWindowCounterSupport)
        redis = self.redis
        await self._chamar(
            lambda: redis.clear_sliding_window(key, expiry),
            lambda: self.memoria.clear_sliding_window(key, expiry),
        )


def armazenamento_limites(
    redis_url: str, *, prefixo: str = PREFIXO_LIMITES, timeout_s: float = 0.5
) -> ArmazenamentoResiliente:
    """The shared storage for ``LimiteDigitando(storage=…)`` and the login throttle.

    ``redis_url`` is ``settings.redis_url`` as the operator wrote it (``redis://host:6379/0``).
    Short timeouts and no retries: a limiter check sits on the request path, and a slow Redis should
    fall back quickly rather than hold a login for seconds. On a Redis Cluster each limit is one key,
    so each check runs on the shard of that key (``limits``' cluster storage, on redis-py's client).
    """
    if e_cluster(redis_url):
        cluster = RedisClusterStorage(
            url_limits(redis_url),
            implementation="redispy",
            key_prefix=prefixo,
            socket_connect_timeout=timeout_s,
            socket_timeout=timeout_s,
        )
        return ArmazenamentoResiliente(cluster, cliente=getattr(cluster.bridge, "storage", None))
    pool = ConnectionPool.from_url(
        redis_url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s, retry=Retry(NoBackoff(), 0)
    )
    redis = RedisStorage(
        url_limits(redis_url),
        implementation="redispy",
        key_prefix=prefixo,
        connection_pool=pool,  # type: ignore[arg-type]
    )
    return ArmazenamentoResiliente(redis, pool=pool)
