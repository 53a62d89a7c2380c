"""Ports the API needs from the rest of the product, so that ``build_api`` gets them injected.

The gateway (or the cluster's Redis presence) implements ``ConsultaPresenca``; the composition root
passes the readiness checks of whatever the process depends on (database, Redis backplane).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol


class ConsultaPresenca(Protocol):
    async def online(self, empresa_id: str) -> set[str]:
        """Ids of the tenant's users with at least one live socket (across instances)."""
        ...


# A readiness check answers (name, ok, detail). The detail goes to the log only: /ready is public
# and must not tell strangers about the infrastructure.
VerificacaoProntidao = Callable[[], Awaitable[tuple[str, bool, str | None]]]


class LimitesRest(Protocol):
    async def consumir(self, evento: str, empresa_id: str, usuario_id: str) -> int | None:
        """One ``evento`` by this user of this tenant: None when within every budget, else the
        milliseconds until one frees up (gateway/rate_limits.py, on the shared ``limits`` storage)."""
        ...
