"""At most N client events of one tenant handled at once on this instance (the database pool is shared).

Each socket already handles its own events one at a time (engine/socketio/inbox.py), but one tenant may have
many sockets: without this, a tenant whose hundred sockets all wrote at once would hold every pooled
database connection, and another tenant's REST request would wait for one. With it, the tenant's
extra events wait in its own line and the rest of the pool stays free for everyone else.

Semaphores are made on demand and dropped when nobody holds or waits for them, so the table holds
only tenants with events in progress.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

VAGAS_POR_EMPRESA = 4


class _Vaga:
    __slots__ = ("semaforo", "usuarios")

    def __init__(self, limite: int) -> None:
        self.semaforo = asyncio.Semaphore(limite)
        self.usuarios = 0  # events holding or waiting for it


class VagasPorEmpresa:
    def __init__(self, por_empresa: int = VAGAS_POR_EMPRESA) -> None:
        if por_empresa < 1:
            raise ValueError("por_empresa must be >= 1")
        self._limite = por_empresa
        self._vagas: dict[str, _Vaga] = {}

    def __len__(self) -> int:
        return len(self._vagas)

    @asynccontextmanager
    async def de(self, empresa_id: str) -> AsyncIterator[None]:
        """Hold one of the tenant's places for the block (waiting for one if all are taken)."""
        vaga = self._vagas.get(empresa_id)
        if vaga is None:
            vaga = self._vagas[empresa_id] = _Vaga(self._limite)
        vaga.usuarios += 1
        try:
            async with vaga.semaforo:
                yield
        finally:
            vaga.usuarios -= 1
            if vaga.usuarios == 0:
                del self._vagas[empresa_id]
