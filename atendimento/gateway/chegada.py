"""An atendente arriving is routing's cue: ``OuvinteChegada`` hears the presence edges, forwards them
to the publisher (``atendente:online``/``offline``), and on an arrival asks the domain to route the
automatic filas the atendente serves. The edge is decided once across instances (the presence
registry), so one instance routes; the database would refuse a second anyway."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Protocol

from atendimento.gateway.portas import Atendente, OuvintePresenca

log = logging.getLogger(__name__)


class Roteia(Protocol):
    async def rotear_atendente(self, empresa_id: str, usuario_id: str) -> object: ...


class OuvinteChegada:
    def __init__(self, publicador: OuvintePresenca, servico: Roteia) -> None:
        self._publicador = publicador
        self._servico = servico
        self._tarefas: set[asyncio.Task[object]] = set()

    def atendente_online(self, atendente: Atendente, momento: datetime) -> None:
        self._publicador.atendente_online(atendente, momento)
        try:
            tarefa = asyncio.get_running_loop().create_task(
                self._servico.rotear_atendente(atendente.empresa_id, atendente.usuario_id)
            )
        except RuntimeError:  # no loop (a synchronous caller in a test): nothing to route from
            return
        self._tarefas.add(tarefa)
        tarefa.add_done_callback(self._tarefas.discard)

    def atendente_offline(self, atendente: Atendente, momento: datetime) -> None:
        # Leaving frees nobody's capacity: its tickets stay its own; nothing to route.
        self._publicador.atendente_offline(atendente, momento)
