"""docs/grafana-atendimento.json is valid JSON and uses only series that /metrics really exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path

PAINEL = Path(__file__).resolve().parents[2] / "docs" / "grafana-atendimento.json"
SERIES = {
    "atendimento_empresa_sockets",
    "atendimento_empresa_eventos_entregues_total",
    "atendimento_empresa_eventos_cliente_total",
    "atendimento_empresa_escritas_rest_total",
    "atendimento_event_loop_lag_seconds",
    "atendimento_redis_link",
    "atendimento_recuperacao_buffer",
    "atendimento_gateway_sockets",
}


def test_dashboard_queries_name_our_series() -> None:
    painel = json.loads(PAINEL.read_text())
    usadas = {
        nome
        for p in painel["panels"]
        for alvo in p["targets"]
        for nome in re.findall(r"atendimento_[a-z_]+", alvo["expr"])
    }
    assert usadas == SERIES
