"""The heartbeat: one periodic sweep per server instead of one timer per session.

Every ``period`` seconds the sweeper walks the sessions once: it queues a ping to those whose
``ping_at`` has come, and closes those whose ``pong_by`` (ping timeout) or ``deadline`` (set by the
layer above, e.g. Socket.IO's connect timeout) has passed. A session costs three floats, not three
``TimerHandle`` objects, and the loop's timer heap holds one entry however many clients there are.
The sweep runs only while there are sessions.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .session import PING

if TYPE_CHECKING:
    from .engine import EngineServer


class Sweeper:
    __slots__ = ("_engine", "_handle", "period")

    def __init__(self, engine: EngineServer, period: float) -> None:
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
        timeout = engine.ping_timeout
        expired = []
        lingering = []
        for session in engine.sessions.values():
            if session.state:
                # Closed, waiting for the GET that collects its close packet (see EngineSession).
                if now >= session.deadline:
                    lingering.append(session)
                continue
            if session.pong_by:
                if now >= session.pong_by:
                    expired.append((session, "ping timeout"))
                    continue
            elif now >= session.ping_at:
                # Counted from when the ping was due, not from this (possibly late) sweep, so a client
                # never gets more than pingInterval + pingTimeout of silence.
                session.pong_by = session.ping_at + timeout
                session.push(PING)
            if session.deadline and now >= session.deadline:
                expired.append((session, "forced close"))
        for session, reason in expired:
            session.close(reason)
        for session in lingering:
            engine.discard(session)
        if engine.sessions:
            self._handle = engine.loop.call_later(self.period, self._tick)
