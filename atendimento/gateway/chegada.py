"""An atendente arriving is routing's cue: ``OuvinteChegada`` hears the presence edges, forwards them
to the publisher (``atendente:online``/``offline``), and on an arrival asks the domain to route the
automatic filas the atendente serves. The edge is decided once across instances (the presence
registry), so one instance routes; the database would refuse a second anyway.

Arrivals are routed together, per tenant: the first one of a tenant starts a routing run on the next
loop turn for everyone who arrived by then, and whoever arrives while a run is going waits for the
next one (started as soon as it ends). After a deploy a whole team reconnects at once; one read of
their filas per arrival was most of what an authenticated connection cost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from atendimento.gateway.portas import Atendente, OuvintePresenca

log = logging.getLogger(__name__)


class Roteia(Protocol):
    async def rotear_atendentes(self, empresa_id: str, usuario_ids: Collection[str]) -> object: ...


class OuvinteChegada:
    def __init__(self, publicador: OuvintePresenca, servico: Roteia) -> None:
        self._publicador = publicador
        self._servico = servico
        # empresa_id → who arrived and waits for the tenant's next routing run.
        self._chegados: dict[str, set[str]] = {}
        # empresa_id → its routing run (at most one per tenant at a time).
        self._rodando: dict[str, asyncio.Task[None]] = {}

    def atendente_online(self, atendente: Atendente, momento: datetime) -> None:
        self._publicador.atendente_online(atendente, momento)
        empresa_id = atendente.empresa_id
        self._chegados.setdefault(empresa_id, set()).add(atendente.usuario_id)
        if empresa_id in self._rodando:
            return  # the run going on starts the next one when it ends
        try:
            tarefa = asyncio.get_running_loop().create_task(self._rotear(empresa_id))
        except RuntimeError:  # no loop (a synchronous caller in a test): nothing to route from
            self._chegados.pop(empresa_id, None)
            return
        self._rodando[empresa_id] = tarefa

    async def _rotear(self, empresa_id: str) -> None:
        try:
            while chegados := self._chegados.pop(empresa_id, None):
                try:
                    await self._servico.rotear_atendentes(empresa_id, chegados)
                except Exception:  # the domain logs its own; this keeps the next run going
                    log.exception("routing the arrivals of tenant %s failed", empresa_id)
        finally:
            del self._rodando[empresa_id]

    def atendente_offline(self, atendente: Atendente, momento: datetime) -> None:
        # Leaving frees nobody's capacity: its tickets stay its own; nothing to route.
        self._publicador.atendente_offline(atendente, momento)
