"""The composition root: one ASGI app with the engine, the gateway and the API, and its metrics."""

from __future__ import annotations

import httpx

from atendimento.app import build_app
from atendimento.config import Settings


async def test_metrics_say_how_many_are_connected_and_name_no_tenant_before_traffic(
    sqlite_settings: Settings,
) -> None:
    aplicacao = build_app(sqlite_settings)
    await aplicacao.startup()
    try:
        transporte = httpx.ASGITransport(app=aplicacao.asgi)
        async with httpx.AsyncClient(transport=transporte, base_url="http://teste") as http:
            aberta = await http.get("/socket.io/?EIO=4&transport=polling")
            assert aberta.status_code == 200 and aberta.text.startswith("0{")
            resposta = await http.get("/metrics/")
        assert resposta.status_code == 200
        linhas = resposta.text.splitlines()
        assert "atendimento_engine_sessoes 1.0" in linhas
        assert "atendimento_gateway_sockets 0.0" in linhas
        # The per-tenant families are there (monitoring/metricas_empresa.py) but hold no tenant yet.
        assert not [linha for linha in linhas if 'empresa="' in linha]
        assert "python_gc_objects_collected_total" in resposta.text  # the process-wide registry
    finally:
        await aplicacao.shutdown()
