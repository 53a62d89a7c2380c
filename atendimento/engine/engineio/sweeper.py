"""The heartbeat: one periodic sweep per server instead of one timer per session.

Every ``period`` seconds the sweeper asks each session's ``SessionState`` what is due now
(``tick``): a ping to queue, a close (ping timeout, or the layer above's connect deadline), or
forgetting a closed session nobody came for; the decisions are the state's, the sweeper carries them
out. A session costs a few floats, not a ``TimerHandle`` per deadline, and the loop's timer heap holds
one entry however many clients there are. The sweep runs only while there are sessions.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from atendimento.engine.engineio.protocol.reasons import Reason
from atendimento.engine.engineio.protocol.session import Due
from atendimento.engine.engineio.session import PING

if TYPE_CHECKING:
    from atendimento.engine.engineio.server import EngineIOServer
    from atendimento.engine.engineio.session import EngineSession


class Sweeper:
    __slots__ = ("_engine", "_handle", "period")

    def __init__(self, engine: EngineIOServer, period: float) -> None:
        self._engine = engine
        self.period = period
        self._handle: asyncio.TimerHandle | None = None

    def ensure_running(self) -> None:
        if self._handle is None:
            self._handle = self._engine.loop.call_later(self.period, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def forget(self) -> None:
        """Drop the handle of a loop that no longer runs (nothing to cancel there)."""
        self._handle = None

    def _tick(self) -> None:
        engine = self._engine
        self._handle = None
        now = engine.loop.time()
        expired: list[tuple[EngineSession, Reason]] = []
        lingering: list[EngineSession] = []
        for session in engine.sessions.values():
            state = session.state
            if now < state.wake_at:
                continue  # the common case, kept to one comparison: nothing due for this one
            for due in state.tick(now):
                if due is Due.PING:
                    session.push(PING)
                elif due is Due.FORGET:
                    lingering.append(session)
                else:  # a close: the enum's value is the reason the layer above gets
                    expired.append((session, Reason(due.value)))
        # Closing changes the session table: not while walking it.
        for session, reason in expired:
            session.close(reason)
        for session in lingering:
            engine.discard(session)
        if engine.sessions:
            self._handle = engine.loop.call_later(self.period, self._tick)
