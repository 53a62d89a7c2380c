"""The console shows what happened to each outgoing message (channels out) and lets a gestor re-send
a failed delivery; in headless Chromium against the real product with its relay and a real receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect
from webhooks.apoio import CONFIG_RAPIDA, ate, receptor, responder

from atendimento.app import build_app
from atendimento.config import Settings

from .apoio_console import ServidorReiniciavel, entrar
from .conftest import SEGREDO, Paginas, Produto


@pytest.fixture
async def produto_com_relay(demo_sqlite: Any, tmp_path: Path) -> AsyncIterator[Produto]:
    settings = Settings(  # type: ignore[call-arg]
        database_url=demo_sqlite.banco.app_url,
        data_dir=tmp_path,
        jwt_secret=SEGREDO,
        **CONFIG_RAPIDA,
    )
    app = build_app(settings)
    await app.startup()
    servidor = ServidorReiniciavel(app.asgi)
    await servidor.iniciar()
    try:
        async with httpx.AsyncClient(base_url=servidor.url, timeout=10) as http:
            yield Produto(app, servidor, http, demo_sqlite.resumo)
    finally:
        await servidor.parar(app)
        await app.shutdown()


async def test_estado_de_saida_e_reenvio_pelo_gestor(produto_com_relay: Produto, paginas: Paginas) -> None:
    produto = produto_com_relay
    canal = produto.resumo.canais["whatsapp"]
    async with receptor() as r:
        r.comportamento = responder(500)
        await produto.rest("PUT", f"/atendimento/canais/{canal}/webhook", "gestor@demo.local", {"url": r.url})
        entrada = await produto.rest(
            "POST",
            f"/atendimento/canais/{canal}/mensagens",
            "integracao@demo.local",
            {"contato": "+5511955554444", "conteudo": "Cadê meu pedido?", "nomeCliente": "Rita"},
        )
        ticket_id = entrada["ticket"]["id"]

        pagina = await paginas.nova()
        await entrar(pagina, produto.url, "gestor@demo.local")
        await pagina.locator(f'button[data-ticket="{ticket_id}"]').click()
        await expect(pagina.locator(".mensagens")).to_contain_text("Cadê meu pedido?")
        await pagina.locator("#resposta").fill("Já verifico, Rita.")
        await pagina.keyboard.press("Enter")
        mensagem = pagina.locator("li.mensagem.minha", has_text="Já verifico, Rita.")
        # Every attempt fails (HTTP 500): the relay gives up and the console says so, with the reason.
        await expect(mensagem.locator(".estado-saida")).to_have_text("falhou: HTTP 500", timeout=20_000)
        assert len(r.recebidos) == 4

        r.comportamento = responder(200)
        await mensagem.locator("button.reenviar").click()
        await expect(mensagem.locator(".estado-saida")).to_have_text("enviando", timeout=10_000)
        await r.esperar(lambda: len(r.recebidos) >= 5)
        assert r.recebidos[-1].id == r.recebidos[0].id  # the same webhook-id

        # The integration reports the customer's side: the console follows.
        mensagem_id = await mensagem.get_attribute("data-mensagem")
        await produto.rest(
            "POST",
            f"/atendimento/canais/{canal}/mensagens/{mensagem_id}/status",
            "integracao@demo.local",
            {"status": "entregue", "externoId": "wamid.X"},
        )
        await expect(mensagem.locator(".estado-saida")).to_have_text("entregue")
        # The customer's own message shows no delivery state.
        await expect(pagina.locator("li.mensagem.cliente .estado-saida")).to_have_count(0)


async def test_administracao_mostra_o_webhook_de_cada_canal(
    produto_com_relay: Produto, paginas: Paginas
) -> None:
    produto = produto_com_relay
    canal = produto.resumo.canais["whatsapp"]
    async with receptor() as r:
        r.comportamento = responder(500)
        await produto.rest("PUT", f"/atendimento/canais/{canal}/webhook", "admin@demo.local", {"url": r.url})
        entrada = await produto.rest(
            "POST",
            f"/atendimento/canais/{canal}/mensagens",
            "integracao@demo.local",
            {"contato": "+5511955553333", "conteudo": "Oi?", "nomeCliente": "Rita"},
        )
        await produto.rest(
            "POST",
            f"/atendimento/tickets/{entrada['ticket']['id']}/mensagens",
            "admin@demo.local",
            {"conteudo": "Olá, Rita."},
        )

        async def falhou() -> bool:
            caminho = f"/atendimento/canais/{canal}/entregas?estado=falhou"
            return bool(await produto.rest("GET", caminho, "admin@demo.local"))

        await ate(falhou)  # every attempt answered 500: the relay gave up on it

        pagina = await paginas.nova()
        await entrar(pagina, produto.url, "admin@demo.local")
        await pagina.get_by_role("button", name="Administração").click()
        canais = pagina.locator(".admin").get_by_role("list", name="Canais")
        # The channel's webhook: its URL, active, and the last delivery that failed, with the reason.
        webhook = canais.locator(f'li[data-canal="{canal}"] .webhook')
        await expect(webhook).to_contain_text(f"Webhook {r.url} · ativo")
        await expect(webhook.locator(".webhook-falha")).to_contain_text("última falha")
        await expect(webhook.locator(".webhook-falha")).to_contain_text("HTTP 500")
        # A channel without one says so.
        email = canais.locator(f'li[data-canal="{produto.resumo.canais["email"]}"] .webhook')
        await expect(email).to_have_text("Sem webhook de saída")
