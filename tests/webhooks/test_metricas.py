"""/metrics for channels out: attempts by outcome and endpoints by state, per tenant, bounded."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from atendimento.webhooks.metricas import MetricasWebhooks


def _texto(m: MetricasWebhooks) -> str:
    registro = CollectorRegistry()
    registro.register(m)
    return generate_latest(registro).decode()


def test_series_por_empresa_com_cardinalidade_limitada() -> None:
    m = MetricasWebhooks(maximo_empresas=2)
    for _ in range(5):
        m.tentativa("e1", "entregue")
    for _ in range(3):
        m.tentativa("e2", "retentar")
    m.tentativa("e3", "falhou")
    m.desativado("e3")
    m.endpoints = {("e1", True): 2, ("e3", False): 1}
    texto = _texto(m)
    assert 'atendimento_webhook_tentativas_total{empresa="e1",resultado="entregue"} 5.0' in texto
    assert 'atendimento_webhook_tentativas_total{empresa="e2",resultado="retentar"} 3.0' in texto
    # The third tenant is summed into "outras": two tenants get their own label, as configured.
    assert 'atendimento_webhook_tentativas_total{empresa="outras",resultado="falhou"} 1.0' in texto
    assert 'atendimento_webhook_desativados_total{empresa="outras"} 1.0' in texto
    assert 'atendimento_webhook_endpoints{empresa="e1",estado="ativo"} 2.0' in texto
    assert 'atendimento_webhook_endpoints{empresa="outras",estado="desativado"} 1.0' in texto
    assert "e3" not in texto
