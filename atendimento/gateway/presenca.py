"""Presence of atendentes: who is online, and the ``atendente:online`` / ``atendente:offline`` edges.

``RegistroPresenca`` is the seam. The gateway tells it each atendente socket that connects and leaves;
the registry decides when a user goes online (first socket) or offline (last socket gone and not back
within the grace period, so a page reload emits neither) and tells its ``OuvintePresenca`` (the
publisher). ``PresencaLocal`` counts sockets in this process; a cluster implementation counts them
across instances (with instance heartbeats so a dead instance's sockets don't stay online) behind the
same four methods, and the gateway doesn't change.

``online(empresa_id)`` also answers the REST side's ``ConsultaPresenca`` port (GET /atendimento/atendentes).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from atendimento.domain.entidades import agora

# The ports live in gateway/portas.py (the cluster implements them); imported here for the
# callers that know them by this module.
from atendimento.gateway.portas import Atendente as Atendente
from atendimento.gateway.portas import OuvintePresenca as OuvintePresenca
from atendimento.gateway.portas import RegistroPresenca as RegistroPresenca
from atendimento.gateway.portas import avisar as avisar
from atendimento.gateway.portas import validar_graca as validar_graca

log = logging.getLogger(__name__)


@dataclass(slots=True)  # one per online atendente: no per-instance __dict__
class _Estado:
    atendente: Atendente
    # The sid of its one socket (the usual case: a set of one is 216 bytes), a set when it has more
    # (tabs), None while the grace period runs.
    sids: str | set[str] | None
    # Set while the last socket is gone and the grace period runs; cancelled by a reconnect.
    saida: asyncio.TimerHandle | None = None
    saiu_em: datetime | None = None


def _tem(sids: str | set[str] | None, sid: str) -> bool:
    return sids == sid if isinstance(sids, str) or sids is None else sid in sids


class PresencaLocal:
    """In-process presence: exact for a single instance."""

    def __init__(self, grace_seconds: float) -> None:
        self._grace = validar_graca(grace_seconds)
        self._ouvinte: OuvintePresenca | None = None
        # empresa_id → usuario_id → state, so online(empresa_id) reads one tenant only.
        self._empresas: dict[str, dict[str, _Estado]] = {}

    def ouvir(self, ouvinte: OuvintePresenca) -> None:
        self._ouvinte = ouvinte

    async def conectou(self, atendente: Atendente, sid: str) -> None:
        usuarios = self._empresas.setdefault(atendente.empresa_id, {})
        estado = usuarios.get(atendente.usuario_id)
        if estado is None:
            usuarios[atendente.usuario_id] = _Estado(atendente, sid)
            avisar(self._ouvinte, True, atendente, agora())
            return
        if estado.saida is not None:
            # Back within the grace period: to everyone else this user never left.
            estado.saida.cancel()
            estado.saida = None
            estado.saiu_em = None
        if estado.sids is None:
            estado.sids = sid
        elif isinstance(estado.sids, str):
            if estado.sids != sid:
                estado.sids = {estado.sids, sid}
        else:
            estado.sids.add(sid)

    async def desconectou(self, atendente: Atendente, sid: str) -> None:
        estado = self._empresas.get(atendente.empresa_id, {}).get(atendente.usuario_id)
        if estado is None or not _tem(estado.sids, sid):
            return  # a repeated or unknown leave changes nothing
        if isinstance(estado.sids, set):
            estado.sids.discard(sid)
            if estado.sids:
                return
        estado.sids = None
        estado.saiu_em = agora()
        if self._grace == 0:
            self._encerrar(atendente)
            return
        loop = asyncio.get_running_loop()
        estado.saida = loop.call_later(self._grace, self._encerrar, atendente)

    async def online(self, empresa_id: str) -> set[str]:
        return set(self._empresas.get(empresa_id, ()))

    async def fechar(self) -> None:
        for usuarios in self._empresas.values():
            for estado in usuarios.values():
                if estado.saida is not None:
                    estado.saida.cancel()
        self._empresas.clear()

    def _encerrar(self, atendente: Atendente) -> None:
        usuarios = self._empresas.get(atendente.empresa_id, {})
        estado = usuarios.get(atendente.usuario_id)
        if estado is None or estado.sids:
            return
        del usuarios[atendente.usuario_id]
        if not usuarios:
            del self._empresas[atendente.empresa_id]
        avisar(self._ouvinte, False, estado.atendente, estado.saiu_em or agora())
