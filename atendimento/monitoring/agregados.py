"""The Admin UI's aggregated event counts (``AGGREGATED_EVENTS``): per second, per type.

Types as @socket.io/admin-ui 0.5 names them: ``rawConnection``, ``rawDisconnection`` (subType: the
reason), ``packetsIn``/``bytesIn`` and ``packetsOut``/``bytesOut``. Outgoing packets are counted per
emit as recipients × frame size (one call per emit, engine/socketio/monitor.py), never per recipient.
"""

from __future__ import annotations

import time
from typing import Any

from atendimento.engine.socketio.monitor import Monitor


class EventosAgregados(Monitor):
    def __init__(self) -> None:
        self._contagens: dict[tuple[int, str, str | None], int] = {}

    def _somar(self, tipo: str, quantos: int = 1, subtipo: str | None = None) -> None:
        chave = (int(time.time()) * 1000, tipo, subtipo)
        self._contagens[chave] = self._contagens.get(chave, 0) + quantos

    def connection_opened(self, transport: str) -> None:
        self._somar("rawConnection")

    def connection_closed(self, reason: str) -> None:
        self._somar("rawDisconnection", 1, reason)

    def emitted(self, nsp: str, event: str, recipients: int, nbytes: int, first_sid: str | None) -> None:
        if recipients:
            self._somar("packetsOut", recipients)
            self._somar("bytesOut", recipients * nbytes)

    def received(self, nbytes: int) -> None:
        self._somar("packetsIn")
        self._somar("bytesIn", nbytes)

    def retirar(self) -> list[dict[str, Any]]:
        """Every count since the last call, in the UI's ``NamespaceEvent`` shape; the buffer empties."""
        contagens, self._contagens = self._contagens, {}
        saida: list[dict[str, Any]] = []
        for (momento, tipo, subtipo), quantos in contagens.items():
            item: dict[str, Any] = {"timestamp": momento, "type": tipo, "count": quantos}
            if subtipo is not None:
                item["subType"] = subtipo
            saida.append(item)
        return saida
