"""/docs renders the API's operations in headless Chromium with no network but 127.0.0.1."""

from __future__ import annotations

import re

import httpx

from .apoio_chromium import pagina_local
from .conftest import Subir


async def test_docs_render_without_a_cdn(subir_app: Subir) -> None:
    app = await subir_app()
    bloqueadas: list[str] = []
    async with pagina_local(bloqueadas) as pagina:
        resposta = await pagina.goto(app.url + "/docs")
        assert resposta is not None and resposta.status == 200
        await pagina.wait_for_selector(".opblock-summary-path", timeout=20_000)
        caminhos = await pagina.locator(".opblock-summary-path").all_inner_texts()
    assert any("/auth/login" in c for c in caminhos), caminhos
    assert any("/atendimento/tickets" in c for c in caminhos), caminhos
    assert bloqueadas == []  # nothing even tried to leave the machine


async def test_docs_page_has_no_inline_script(subir_app: Subir) -> None:
    """So a Content-Security-Policy with ``script-src 'self'`` leaves it working."""
    app = await subir_app()
    async with httpx.AsyncClient(base_url=app.url) as http:
        pagina = (await http.get("/docs")).text
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", pagina, re.S)
        assert scripts and all("src=" in attrs and not corpo.strip() for attrs, corpo in scripts)
        iniciar = await http.get("/docs/iniciar.js")
    assert iniciar.status_code == 200 and '"/openapi.json"' in iniciar.text
