"""Process metrics for Prometheus at ``GET /metrics`` (prometheus-client's exposition format).

Each app gets its own registry holding its engine's gauges, plus the process-wide registry where the
libraries' and the cluster's counters live. The gauges are computed when scraped, so the hot path
pays nothing for them. The per-tenant series (label ``empresa``, bounded: monitoring/metricas_empresa.py)
name tenants by id and never a user; the endpoint answers only a scraper that sends
``Authorization: Bearer <metrics token>`` (``Settings.resolve_metrics_token``), and anyone else a 401
that says nothing of any tenant. It is served at ``/metrics`` itself (a route, not a mount: a mount
answers ``/metrics`` with a redirect whose ``Location`` comes from the request's ``Host``).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, make_asgi_app
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Receive, Scope, Send

from atendimento.api import resposta_erro
from atendimento.domain.codigos import Codigo
from atendimento.engine import Server


class _MetricasEngine(Collector):
    def __init__(self, server: Server, namespace: str) -> None:
        self._server = server
        self._namespace = namespace

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "atendimento_engine_sessoes",
            "Engine.IO sessions open in this process",
            value=len(self._server.engine.sessions),
        )
        yield GaugeMetricFamily(
            "atendimento_gateway_sockets",
            "Sockets connected to /atendimento in this process",
            value=len(self._server.of(self._namespace).sockets),
        )


class _Processo(Collector):
    """The process-wide registry, read through at each scrape."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


class _SoComToken:
    """``app`` for requests whose bearer token is ``token``; 401 for any other."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.esperado = f"bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        recebido = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        esquema, _, credencial = recebido.partition(b" ")
        # Constant time: the comparison must not tell a guesser how much of the token was right.
        if hmac.compare_digest(esquema.lower() + b" " + credencial.strip(), self.esperado):
            await self.app(scope, receive, send)
            return
        resposta = resposta_erro(
            401, Codigo.NAO_AUTENTICADO, "Métricas exigem o token do coletor", {"WWW-Authenticate": "Bearer"}
        )
        await resposta(scope, receive, send)


def build_metrics_app(server: Server, namespace: str, token: str, *coletores: Collector) -> ASGIApp:
    """``namespace``: the gateway's, whose sockets the gauge counts (the composition root knows it).
    ``token``: the bearer token a scraper must send. ``coletores``: more of this app's own (the
    per-tenant series of monitoring/metricas_empresa.py)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_MetricasEngine(server, namespace))
    for coletor in coletores:
        registry.register(coletor)
    registry.register(_Processo())
    return _SoComToken(make_asgi_app(registry=registry), token)
