"""/metrics for channels out, per tenant (label ``empresa``), bounded like monitoring's series: the
``maximo`` tenants with most attempts get their own label, the rest are summed as ``outras``.

- ``atendimento_webhook_tentativas_total{empresa, resultado}``: attempts by outcome: ``entregue``
  (2xx), ``retentar`` (failed, another attempt scheduled), ``falhou`` (given up);
- ``atendimento_webhook_desativados_total{empresa}``: endpoints this process disabled;
- ``atendimento_webhook_endpoints{empresa, estado}``: endpoints ``ativo``/``desativado`` (from the
  database, refreshed by the relay every ``INTERVALO_ENDPOINTS_S``; every instance reports the same).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

OUTRAS = "outras"
INTERVALO_ENDPOINTS_S = 30.0


class MetricasWebhooks(Collector):
    def __init__(self, maximo_empresas: int = 20) -> None:
        self.maximo = maximo_empresas
        self.tentativas: Counter[tuple[str, str]] = Counter()
        self.desativados: Counter[str] = Counter()
        self.atividade: Counter[str] = Counter()
        self.endpoints: dict[tuple[str, bool], int] = {}

    def tentativa(self, empresa: str, resultado: str) -> None:
        self.tentativas[(empresa, resultado)] += 1
        self.atividade[empresa] += 1

    def desativado(self, empresa: str) -> None:
        self.desativados[empresa] += 1

    def collect(self) -> Iterator[Metric]:
        topo = {e for e, _ in self.atividade.most_common(self.maximo)}
        for empresa, _ativo in sorted(self.endpoints):
            if len(topo) >= self.maximo:
                break
            topo.add(empresa)

        def rotulo(empresa: str) -> str:
            return empresa if empresa in topo else OUTRAS

        tentativas = CounterMetricFamily(
            "atendimento_webhook_tentativas",
            "Webhook delivery attempts by tenant and outcome",
            labels=["empresa", "resultado"],
        )
        somadas: Counter[tuple[str, str]] = Counter()
        for (empresa, resultado), n in self.tentativas.items():
            somadas[(rotulo(empresa), resultado)] += n
        for chave, n in sorted(somadas.items()):
            tentativas.add_metric(list(chave), n)
        yield tentativas
        desativados = CounterMetricFamily(
            "atendimento_webhook_desativados",
            "Webhook endpoints disabled by this process",
            labels=["empresa"],
        )
        por_empresa: Counter[str] = Counter()
        for empresa, n in self.desativados.items():
            por_empresa[rotulo(empresa)] += n
        for empresa, n in sorted(por_empresa.items()):
            desativados.add_metric([empresa], n)
        yield desativados
        endpoints = GaugeMetricFamily(
            "atendimento_webhook_endpoints",
            "Webhook endpoints by tenant and state",
            labels=["empresa", "estado"],
        )
        estados: Counter[tuple[str, str]] = Counter()
        for (empresa, ativo), n in self.endpoints.items():
            estados[(rotulo(empresa), "ativo" if ativo else "desativado")] += n
        for chave, n in sorted(estados.items()):
            endpoints.add_metric(list(chave), n)
        yield endpoints
