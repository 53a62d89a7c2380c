"""Process metrics for Prometheus at ``GET /metrics`` (prometheus-client's exposition format).

Each app gets its own registry holding its engine's gauges, plus the process-wide registry where the
libraries' and the cluster's counters live. The gauges are computed when scraped, so the hot path
pays nothing for them. The per-tenant series (label ``empresa``, bounded: monitoring/metricas_empresa.py)
name tenants by id and never a user: the endpoint answers whoever can reach it, so deploy it on an
internal network only.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, make_asgi_app
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp

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


def build_metrics_app(server: Server, namespace: str, *coletores: Collector) -> ASGIApp:
    """``namespace``: the gateway's, whose sockets the gauge counts (the composition root knows it).
    ``coletores``: more of this app's own (the per-tenant series of monitoring/metricas_empresa.py)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_MetricasEngine(server, namespace))
    for coletor in coletores:
        registry.register(coletor)
    registry.register(_Processo())
    return make_asgi_app(registry=registry)
