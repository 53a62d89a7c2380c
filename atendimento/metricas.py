"""Process metrics for Prometheus at ``GET /metrics`` (prometheus-client's exposition format).

Each app gets its own registry holding its engine's gauges, plus the process-wide registry where the
libraries' and the cluster's counters live. The gauges are computed when scraped, so the hot path
pays nothing for them. Labels never carry a tenant id or a user id: the endpoint answers whoever can
reach it, so it must say nothing about any one tenant (deploy it on an internal network all the same).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, make_asgi_app
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp

from atendimento.engine import Server

NAMESPACE_GATEWAY = "/atendimento"


class _MetricasEngine(Collector):
    def __init__(self, server: Server) -> None:
        self._server = server

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "atendimento_engine_sessoes",
            "Engine.IO sessions open in this process",
            value=len(self._server.engine.sessions),
        )
        yield GaugeMetricFamily(
            "atendimento_gateway_sockets",
            "Sockets connected to /atendimento in this process",
            value=len(self._server.of(NAMESPACE_GATEWAY).sockets),
        )


class _Processo(Collector):
    """The process-wide registry, read through at each scrape."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def app_metricas(server: Server) -> ASGIApp:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_MetricasEngine(server))
    registry.register(_Processo())
    return make_asgi_app(registry=registry)
