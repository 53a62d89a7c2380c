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
            # Not public: no token, a 401 that names nobody; at /metrics itself, no redirect.
            sem_token = await http.get("/metrics")
            errado = await http.get("/metrics", headers={"Authorization": "Bearer errado"})
            token = sqlite_settings.resolve_metrics_token()
            resposta = await http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        for recusada in (sem_token, errado):
            assert recusada.status_code == 401 and recusada.json()["code"] == "NAO_AUTENTICADO"
            assert "empresa" not in recusada.text and "atendimento_" not in recusada.text
        arquivo = sqlite_settings.data_dir / "metrics-token"
        assert arquivo.stat().st_mode & 0o777 == 0o600 and arquivo.read_text().strip() == token
        assert resposta.status_code == 200  # at /metrics itself (httpx follows no redirect)
        linhas = resposta.text.splitlines()
        assert "atendimento_engine_sessoes 1.0" in linhas
        assert "atendimento_gateway_sockets 0.0" in linhas
        # The per-tenant families are there (monitoring/metricas_empresa.py) but hold no tenant yet.
        assert not [linha for linha in linhas if 'empresa="' in linha]
        assert "python_gc_objects_collected_total" in resposta.text  # the process-wide registry
    finally:
        await aplicacao.shutdown()


async def test_one_cors_policy_for_the_socket_transport_and_the_api(sqlite_settings: Settings) -> None:
    """A front end on another origin may send Idempotency-Key (and the other headers the contract asks
    for) to the REST API and to the Socket.IO polling transport: one policy answers both the same."""
    settings = sqlite_settings.model_copy(update={"cors_origins": ["http://painel.exemplo"]})
    aplicacao = build_app(settings)
    await aplicacao.startup()
    try:
        transporte = httpx.ASGITransport(app=aplicacao.asgi)
        pedido = {
            "Origin": "http://painel.exemplo",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        }
        async with httpx.AsyncClient(transport=transporte, base_url="http://teste") as http:
            rest = await http.options("/atendimento/tickets", headers=pedido)
            polling = await http.options("/socket.io/?EIO=4&transport=polling", headers=pedido)
            estranho = await http.options(
                "/atendimento/tickets", headers={**pedido, "Origin": "http://mal.exemplo"}
            )
            resposta = await http.get("/health", headers={"Origin": "http://painel.exemplo"})
        cors = {k: v for k, v in rest.headers.items() if k.startswith("access-control-")}
        assert rest.status_code == polling.status_code == 204
        assert cors == {k: v for k, v in polling.headers.items() if k.startswith("access-control-")}
        assert cors["access-control-allow-origin"] == "http://painel.exemplo"
        permitidos = {h.strip().lower() for h in cors["access-control-allow-headers"].split(",")}
        assert {"authorization", "content-type", "idempotency-key"} <= permitidos
        assert "POST" in cors["access-control-allow-methods"]
        assert "access-control-allow-origin" not in estranho.headers
        assert resposta.headers["access-control-allow-origin"] == "http://painel.exemplo"
        assert "retry-after" in resposta.headers["access-control-expose-headers"].lower()
    finally:
        await aplicacao.shutdown()
