"""The integrator's example receiver (examples/receptor_webhook.py) against the real product: it
verifies, de-duplicates, refuses a bad signature, and reports the message's status back."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import importlib.util
from pathlib import Path
from types import ModuleType

import aiohttp
from apoio_rede import porta_livre, servir_uvicorn
from standardwebhooks import Webhook

from atendimento.domain.saida import gerar_segredo

from .apoio import ate
from .conftest import Produto

EXEMPLO = Path(__file__).parents[2] / "examples" / "receptor_webhook.py"


def _exemplo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("receptor_webhook", EXEMPLO)
    assert spec is not None and spec.loader is not None
    modulo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(modulo)
    return modulo


async def test_receptor_de_exemplo_recebe_deduplica_e_reporta(produto_sqlite: Produto) -> None:
    produto = produto_sqlite
    exemplo = _exemplo()
    async with servir_uvicorn(produto.aplicacao.asgi) as url_api, aiohttp.ClientSession() as http:
        porta = porta_livre()
        token = produto.auth("integracao@demo.local")["Authorization"].removeprefix("Bearer ")
        segredo = await produto.definir_webhook(f"http://127.0.0.1:{porta}/webhook")
        receptor = exemplo.Receptor(segredo, url_api, token)
        runner = await exemplo.servir(receptor, porta)
        trabalho = asyncio.create_task(receptor.trabalhar(http))
        try:
            ticket = await produto.ticket_do_canal("+5511977776666")
            mensagem = await produto.responder(ticket, "Seu pedido saiu para entrega.")
            await ate(lambda: len(receptor.enviados) == 1)
            assert receptor.enviados == [{"para": "+5511977776666", "texto": "Seu pedido saiu para entrega."}]

            async def reportada() -> bool:
                lista = await produto.cliente.get(
                    f"/atendimento/tickets/{ticket}/mensagens", headers=produto.auth("ana@demo.local")
                )
                dados = {m["id"]: m for m in lista.json()["data"]}[mensagem["id"]]
                return bool(dados["status"] == "enviada" and dados["externoId"] == f"prov-{mensagem['id']}")

            await ate(reportada)
            # A repeat of a delivered event (same webhook-id) is acknowledged and not acted on.
            webhook_id = next(iter(receptor.vistos))
            assert webhook_id.startswith("msg_")
            # A body that is not signed by the secret: 401.
            async with http.post(
                f"http://127.0.0.1:{porta}/webhook",
                data=b'{"type":"mensagem.criada"}',
                headers={"webhook-id": webhook_id, "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"},
            ) as resposta:
                assert resposta.status == 401
            assert len(receptor.enviados) == 1
        finally:
            trabalho.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await trabalho
            await runner.cleanup()


async def test_receptor_de_exemplo_ignora_repeticao() -> None:
    exemplo = _exemplo()
    segredo = gerar_segredo()
    receptor = exemplo.Receptor(segredo, "http://127.0.0.1:1", "t")
    porta = porta_livre()
    runner = await exemplo.servir(receptor, porta)
    try:
        corpo = b'{"type":"ticket.status","timestamp":"2026-12-07T00:00:00.000Z","data":{}}'
        agora = datetime.datetime.now(datetime.UTC)
        assinatura = Webhook(segredo).sign("msg_" + "0" * 32, agora, corpo)
        cabecalhos = {
            "webhook-id": "msg_" + "0" * 32,
            "webhook-timestamp": str(int(agora.timestamp())),
            "webhook-signature": assinatura,
        }
        async with aiohttp.ClientSession() as http:
            estados = []
            for _ in range(2):
                async with http.post(
                    f"http://127.0.0.1:{porta}/webhook", data=corpo, headers=cabecalhos
                ) as r:
                    estados.append((r.status, await r.text()))
        assert estados == [(202, "aceito"), (200, "já recebido")]
        assert receptor.fila.qsize() == 1
    finally:
        await runner.cleanup()
