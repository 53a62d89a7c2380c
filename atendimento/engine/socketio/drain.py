"""Leaving without being noticed: the drain before a process stops (``Server.drain``).

1. New sessions are refused with a 503 at the Engine.IO handshake (transport/admission.py), so the
   clients' reconnects, and a balancer's retries, go to another instance.
2. The open sessions are closed with ``"server shutting down"``, a recoverable reason: the client
   reconnects by itself and presents its session for recovery (recovery.py). The closes are spread
   evenly over ``spread_s``, so that the instances taking the clients over see a steady stream of
   handshakes, within their admission budget, instead of a storm.
3. The sessions those closes saved stay here until taken: by a reconnect that lands on this process
   (refused while draining, so in practice none) or by the hand-over to another instance, whose
   requests this process keeps answering (the recovery store of a cluster does; the engine only
   waits). It waits until none is left or ``linger_s`` has passed since the last close, whichever
   comes first: a client that never comes back must not hold the deploy.

The engine knows nothing of who the clients are; what to do around the drain (readiness, stopping
the process) is the composition root's.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from atendimento.engine.engineio.protocol.reasons import Reason

if TYPE_CHECKING:
    from atendimento.engine.socketio.server import Server

log = logging.getLogger("atendimento.engine")

REASON = Reason.SERVER_SHUTTING_DOWN
TICK_S = 0.05


async def drain(server: Server, spread_s: float, linger_s: float) -> None:
    engine = server.engine
    engine.admission.draining = True
    loop = asyncio.get_running_loop()
    sessions = list(engine.sessions.values())
    pids: set[str] = set()
    start = loop.time()
    total = len(sessions)
    log.info("draining: closing %d sessions over %.1f s", total, spread_s)
    for index, session in enumerate(sessions):
        due = start + spread_s * index / total
        delay = due - loop.time()
        if delay > TICK_S:
            await asyncio.sleep(delay)
        if session.closed:
            continue
        client = session.app
        for socket in list(getattr(client, "sockets", {}).values()):
            if socket.pid is not None:
                pids.add(socket.pid)
        session.close(REASON)
    engine.close_all(REASON)  # anything that slipped in (nothing should: handshakes are refused)
    store = server.recovery
    if store is None or not pids:
        return
    deadline = loop.time() + linger_s
    while loop.time() < deadline:
        pids = {pid for pid in pids if pid in store}
        if not pids:
            log.info("draining: every session was taken over")
            return
        await asyncio.sleep(TICK_S)
    log.info("draining: %d sessions not taken over within %.1f s", len(pids), linger_s)
