"""Rate limit of ``mensagem:digitando``: at most 10 per minute per user and ticket (contract).

Built on the ``limits`` library's async API. The storage is injectable: in-process ``MemoryStorage``
by default, a shared ``limits.aio.storage.RedisStorage`` from the cluster layer so the budget holds
across instances. The key is tenant-qualified, so equal ids in two tenants never share a budget.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, MovingWindowSupport, Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter

DIGITANDO_POR_MINUTO = 10


class LimiteDigitando:
    def __init__(self, storage: Storage | None = None, *, por_minuto: int = DIGITANDO_POR_MINUTO) -> None:
        self._storage = storage if storage is not None else MemoryStorage()
        self._item: RateLimitItem = RateLimitItemPerMinute(por_minuto, namespace="digitando")
        # A moving window never lets 2x the budget through around a window edge; storages that
        # can't do it (none of the usual ones) fall back to a fixed window.
        self._limiter: RateLimiter = (
            MovingWindowRateLimiter(self._storage)
            if isinstance(self._storage, MovingWindowSupport)
            else FixedWindowRateLimiter(self._storage)
        )

    async def consumir(self, empresa_id: str, usuario_id: str, ticket_id: str) -> int | None:
        """Take one from the budget: None if allowed, else the milliseconds until one is free again."""
        chave = (empresa_id, usuario_id, ticket_id)
        if await self._limiter.hit(self._item, *chave):
            return None
        stats = await self._limiter.get_window_stats(self._item, *chave)
        return max(1, math.ceil((stats.reset_time - time.time()) * 1000))
