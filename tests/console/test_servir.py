"""Serving the console: ``/`` and ``/console/*`` with strict security headers, the front door page when
the bundle is not built, and every other unknown path still the API's JSON 404."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from atendimento.api.error_responses import registrar_handlers
from atendimento.api.rotas import TabelaRotas
from atendimento.console import build_console
from atendimento.console.servir import CSP


def _cliente(pasta: Path) -> httpx.AsyncClient:
    api = FastAPI()
    registrar_handlers(api, TabelaRotas(api).metodos)
    build_console(api, pasta)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://console.teste")


def _cabecalhos_estritos(resposta: httpx.Response) -> None:
    csp = resposta.headers["content-security-policy"]
    assert csp == CSP
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "unsafe-inline" not in csp
    assert "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert resposta.headers["x-content-type-options"] == "nosniff"
    assert resposta.headers["referrer-policy"] == "no-referrer"


async def test_sem_bundle_a_porta_de_entrada(tmp_path: Path) -> None:
    async with _cliente(tmp_path / "nada") as cliente:
        resposta = await cliente.get("/")
        assert resposta.status_code == 200
        assert resposta.headers["content-type"].startswith("text/html")
        _cabecalhos_estritos(resposta)
        for link in ('href="/docs"', 'href="/admin-ui/"', 'href="/metrics"'):
            assert link in resposta.text
        assert "<script" not in resposta.text and "style=" not in resposta.text
        ausente = await cliente.get("/console/app.js")
        assert ausente.status_code == 404 and ausente.json()["code"] == "ROTA_NAO_ENCONTRADA"
        outra = await cliente.get("/nao-existe")
        assert outra.status_code == 404 and outra.json()["code"] == "ROTA_NAO_ENCONTRADA"
        assert (await cliente.post("/")).status_code == 405


async def test_com_bundle_o_console(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text('<!doctype html><script defer src="/console/app.js"></script>')
    (tmp_path / "app.js").write_text("console.log('oi')")
    async with _cliente(tmp_path) as cliente:
        inicio = await cliente.get("/")
        assert inicio.status_code == 200 and "/console/app.js" in inicio.text
        _cabecalhos_estritos(inicio)
        script = await cliente.get("/console/app.js")
        assert script.status_code == 200 and script.text == "console.log('oi')"
        assert "javascript" in script.headers["content-type"]
        _cabecalhos_estritos(script)
        assert script.headers["cache-control"] == "no-cache" and "etag" in script.headers
        assert (await cliente.get("/console/../servir.py")).status_code == 404
