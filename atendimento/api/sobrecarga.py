"""A bound on the REST requests one instance works on at once: past it, 503 at once.

Why (issue 13): an open-loop client (a front end, an integration) does not slow down when the server
does. Past one core's capacity every request was accepted and queued behind the others, latencies
grew into seconds, and the growing queue (its objects, connections and tasks) made each request
dearer still. With a bound, a request over it is answered ``503`` with ``Retry-After`` before any
routing, body, token or database work, so the requests already accepted keep their latency and
their events (an accepted write is processed and published as always).

Pure ASGI (no task per request). Only the REST application passes here: the engine's traffic
(long-polling GETs that stay open, WebSocket) is routed before it, so open sessions do not count.
uvicorn's own ``limit_concurrency`` counts connections and WebSockets too, hence this instead.
Probes (``/health``, ``/ready``) and ``/metrics`` are never refused.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from atendimento.api.error_responses import resposta_erro
from atendimento.domain.codigos import Codigo

log = logging.getLogger(__name__)

ISENTOS = ("/health", "/ready", "/metrics")


class LimiteEmCurso:
    """At most ``maximo`` HTTP requests in progress; the next one gets 503 with ``Retry-After``."""

    def __init__(self, app: ASGIApp, maximo: int, retry_after_s: int = 1) -> None:
        self.app = app
        self.maximo = maximo
        self.em_curso = 0
        self.recusadas = 0
        self.retry_after_s = retry_after_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ISENTOS):
            await self.app(scope, receive, send)
            return
        if self.em_curso >= self.maximo:
            self.recusadas += 1
            if self.recusadas & (self.recusadas - 1) == 0:  # 1st, 2nd, 4th, 8th…: a trace, not a flood
                log.warning("overloaded: %d in progress, %d refused so far", self.em_curso, self.recusadas)
            # A new response each time: CORS adds its headers to the list of the one it sends.
            resposta = resposta_erro(
                503,
                Codigo.SOBRECARGA,
                "Servidor sobrecarregado; tente novamente em instantes",
                {"Retry-After": str(self.retry_after_s)},
            )
            await resposta(scope, receive, send)
            return
        self.em_curso += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.em_curso -= 1
