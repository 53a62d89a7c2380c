"""Ends connections when their token expires: one timer for all sockets, not one task per socket.

Deadlines live in a heap keyed by wall-clock time (a JWT's ``exp`` is wall-clock seconds). A single
``loop.call_at`` handle is armed for the earliest deadline; when it fires, every due entry runs and the
handle is re-armed for the next one. Since ``exp`` has whole-second resolution, sockets expiring in
the same second share one wake-up, which is what a timer wheel would buy.

``agendar`` on a key that is already scheduled replaces its deadline: that is the hook for in-band token
renewal (a renewed token just moves its socket's deadline). Replaced and cancelled entries stay in the
heap and are skipped when popped; the heap is rebuilt when they outnumber the live ones.

The timer only calls ``vencer`` with the clock's time; ``vencer`` takes the time as an argument, so
tests drive the schedule with plain numbers (``relogio`` injected) instead of sleeping.

An agenda has one action (disconnect the socket; warn it) and each entry holds its target, not a
closure: a closure and its cell per socket were ~240 bytes of every idle connection, per agenda
(docs/capacity.md, "Where an idle agent's memory goes").
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class AgendaExpiracao(Generic[T]):
    def __init__(self, acao: Callable[[T], None], *, relogio: Callable[[], float] = time.time) -> None:
        """``acao(alvo)`` runs for each entry that falls due."""
        self._acao = acao
        self._relogio = relogio
        self._heap: list[tuple[float, int, str]] = []
        # key → (deadline, sequence, target); an entry in the heap is live only if it matches this.
        self._vivos: dict[str, tuple[float, int, T]] = {}
        self._sequencia = 0
        self._timer: asyncio.TimerHandle | None = None
        self._alvo: float | None = None  # the deadline the timer is armed for

    def __len__(self) -> int:
        return len(self._vivos)

    @property
    def alvo(self) -> float | None:
        """The deadline the timer is armed for (``None``: nothing scheduled)."""
        return self._alvo

    def prazo(self, chave: str) -> float | None:
        vivo = self._vivos.get(chave)
        return vivo[0] if vivo else None

    def agendar(self, chave: str, prazo: float, alvo: T) -> None:
        """Run the action on ``alvo`` at wall-clock ``prazo`` (epoch seconds); replaces an earlier
        schedule of ``chave``."""
        self._sequencia += 1
        self._vivos[chave] = (prazo, self._sequencia, alvo)
        heapq.heappush(self._heap, (prazo, self._sequencia, chave))
        if len(self._heap) > 2 * len(self._vivos) + 64:
            self._compactar()
        if self._alvo is None or prazo < self._alvo:
            self._armar()

    def cancelar(self, chave: str) -> None:
        self._vivos.pop(chave, None)

    def fechar(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._alvo = None
        self._heap.clear()
        self._vivos.clear()

    def _compactar(self) -> None:
        self._heap = [(prazo, seq, chave) for chave, (prazo, seq, _) in self._vivos.items()]
        heapq.heapify(self._heap)

    def _descartar_mortos(self) -> None:
        while self._heap:
            _, seq, chave = self._heap[0]
            vivo = self._vivos.get(chave)
            if vivo is not None and vivo[1] == seq:
                return
            heapq.heappop(self._heap)

    def _armar(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._descartar_mortos()
        if not self._heap:
            self._alvo = None
            return
        prazo = self._heap[0][0]
        loop = asyncio.get_running_loop()
        # Wall clock → loop clock at arming time; _disparar re-checks the wall clock, so a clock
        # step only makes a wake-up early (re-armed) or late by the step.
        atraso = max(0.0, prazo - self._relogio())
        self._alvo = prazo
        self._timer = loop.call_at(loop.time() + atraso, self._disparar)

    def vencer(self, agora: float) -> None:
        """Run, in deadline order, every action due at wall-clock ``agora``; re-arm for the next one."""
        while self._heap and self._heap[0][0] <= agora:
            _, seq, chave = heapq.heappop(self._heap)
            vivo = self._vivos.get(chave)
            if vivo is None or vivo[1] != seq:
                continue
            del self._vivos[chave]
            try:
                self._acao(vivo[2])
            except Exception:
                # One failing action must not stop the others from expiring.
                log.exception("expiration action failed for %s", chave)
        self._armar()

    def _disparar(self) -> None:
        self._timer = None
        self._alvo = None
        self.vencer(self._relogio())
