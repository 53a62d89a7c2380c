"""The relay against a real receiver: what goes out, signed (verified by the ``standardwebhooks``
library), and what never does; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from .apoio import receptor
from .conftest import Produto


async def test_resposta_do_agente_sai_assinada_e_mensagem_do_cliente_nao(produto: Produto) -> None:
    async with receptor() as r:
        r.segredos.append(await produto.definir_webhook(r.url))
        ticket_id = await produto.ticket_do_canal()  # the customer's message: never sent back out
        mensagem = await produto.responder(ticket_id, "Olá! Vou verificar.")
        await r.esperar(lambda: len(r.recebidos) >= 1)
        await asyncio.sleep(0.3)  # nothing else comes (the customer's message stays in)
        assert r.falhas_de_assinatura == 0
        assert len(r.recebidos) == 1
        recebido = r.recebidos[0]
        assert recebido.id.startswith("msg_") and len(recebido.id) == 36
        evento = recebido.evento
        assert evento["type"] == "mensagem.criada"
        assert evento["data"]["mensagem"]["id"] == mensagem["id"]
        assert evento["data"]["mensagem"]["conteudo"] == "Olá! Vou verificar."
        assert evento["data"]["ticket"]["id"] == ticket_id
        assert evento["data"]["ticket"]["canalId"] == produto.canal
        assert evento["data"]["cliente"]["contato"] == "+5511999990000"
        assert recebido.cabecalhos["content-type"] == "application/json"


async def test_mudanca_de_status_sai_como_ticket_status(produto: Produto) -> None:
    async with receptor() as r:
        r.segredos.append(await produto.definir_webhook(r.url))
        ticket_id = await produto.ticket_do_canal()
        resposta = await produto.cliente.post(
            f"/atendimento/tickets/{ticket_id}/status",
            json={"status": "resolvido"},
            headers=produto.auth("gestor@demo.local"),
        )
        assert resposta.status_code == 200, resposta.text
        await r.esperar(lambda: len(r.recebidos) >= 1)
        assert r.falhas_de_assinatura == 0
        dados = r.recebidos[0].evento["data"]
        assert r.recebidos[0].evento["type"] == "ticket.status"
        assert (dados["status"], dados["statusAnterior"]) == ("resolvido", "aberto")
        assert dados["ticket"]["id"] == ticket_id


async def test_canal_sem_webhook_nao_grava_nada_e_outro_canal_nao_recebe(produto: Produto) -> None:
    async with receptor() as r:
        await produto.definir_webhook(r.url, canal=produto.demo.canais["email"])
        ticket_id = await produto.ticket_do_canal()  # WhatsApp: no endpoint
        await produto.responder(ticket_id, "resposta")
        await asyncio.sleep(0.5)
        assert r.recebidos == []
        lista = await produto.cliente.get(
            f"/atendimento/canais/{produto.canal}/entregas", headers=produto.auth("gestor@demo.local")
        )
        assert lista.status_code == 200 and lista.json()["data"] == []
