"""The user check's database reads, gathered: the records this instance's cache (``cache_usuarios``)
misses are read together, one transaction per tenant for every miss of a loop turn.

Why: after a deploy a whole team reconnects to an instance whose cache is cold, and the check runs
in every handshake; a transaction per handshake was the largest part of a connection's cost.

How: a miss joins its tenant's next read. The first miss of a tenant starts a reader task, which
begins its read on the next loop turn, so the misses of that turn go in the same statement; misses
that come while a read runs wait for the next one, which starts ``JANELA_S`` after that one ends (a
crowd: one read for many, and the handshakes it releases then announce their arrivals in the same
loop turn, so each colleague's socket gets one write for all of them). So every
answer comes from a read that began after it was asked for: a change committed and announced
(``esquecer``) before the question is always seen. The cache keeps what was read unless an
invalidation came meanwhile (its generation, as for a single read).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection

from atendimento.domain.cache_usuarios import CacheUsuarios
from atendimento.domain.entidades import UsuarioDados

# (empresa_id, usuario_ids) → the records the tenant holds, by id (one transaction).
LerRegistros = Callable[[str, Collection[str]], Awaitable[dict[str, UsuarioDados]]]
Pedidos = dict[str, "asyncio.Future[UsuarioDados | None]"]
# How long misses that come while a read runs are gathered before the next read: only during a
# crowd; a lone miss is read on the next loop turn.
JANELA_S = 0.02


class LeituraUsuarios:
    def __init__(self, ler: LerRegistros, cache: CacheUsuarios) -> None:
        self._ler = ler
        self._cache = cache
        # empresa_id → usuario_id → the answer awaited, for the tenant's next read.
        self._esperando: dict[str, Pedidos] = {}
        # empresa_id → the task reading it (at most one per tenant at a time).
        self._lendo: dict[str, asyncio.Task[None]] = {}

    async def obter(self, empresa_id: str, usuario_id: str) -> UsuarioDados | None:
        """The user's record as the database holds it now (None: the tenant has no such user)."""
        loop = asyncio.get_running_loop()
        pedidos = self._esperando.setdefault(empresa_id, {})
        futuro = pedidos.get(usuario_id)
        if futuro is None:
            futuro = pedidos[usuario_id] = loop.create_future()
        if empresa_id not in self._lendo:
            self._lendo[empresa_id] = loop.create_task(self._ler_tenant(empresa_id))
        # Shielded: two sockets of one user share the answer, and one of them going away (its
        # handshake cancelled) must not cancel it for the other.
        return await asyncio.shield(futuro)

    async def _ler_tenant(self, empresa_id: str) -> None:
        pedidos: Pedidos = {}
        try:
            while pedidos := self._esperando.pop(empresa_id, {}):
                geracao = self._cache.geracao
                try:
                    registros = await self._ler(empresa_id, pedidos.keys())
                except Exception as exc:
                    for futuro in pedidos.values():
                        if not futuro.done():
                            futuro.set_exception(exc)
                    continue
                for usuario_id, futuro in pedidos.items():
                    registro = registros.get(usuario_id)
                    self._cache.guardar(empresa_id, usuario_id, registro, geracao)
                    if not futuro.done():
                        futuro.set_result(registro)
                if empresa_id in self._esperando:
                    # More came while this read ran: a crowd (a deploy's reconnects). Gather it a
                    # little longer, so one read (and one turn of their presence edges) serves many.
                    await asyncio.sleep(JANELA_S)
        finally:
            del self._lendo[empresa_id]
            # Cancelled (shutting down): nobody will answer these; their callers must not hang.
            for futuro in (*pedidos.values(), *self._esperando.pop(empresa_id, {}).values()):
                if not futuro.done():
                    futuro.cancel()
