"""A complete receiver for atendimento's channel webhooks (docs/channels.md), with aiohttp.

What a channel integration does with each request:

1. verify the Standard Webhooks signature over the raw body (``standardwebhooks`` from PyPI), and
   answer 401 when it does not verify (never act on an unsigned body);
2. de-duplicate by ``webhook-id``: delivery is at least once, so the same event may come again (a
   retry after a timeout, a re-send by an operator); answer 2xx to a repeat without acting twice;
3. answer 2xx quickly, then do the slow work (send to WhatsApp, e-mail, ...) on its own;
4. report what happened to each message with
   ``POST /atendimento/canais/{canalId}/mensagens/{mensagemId}/status`` (role ``integracao``).

Run: ``python examples/receptor_webhook.py`` with ``WEBHOOK_SECRET`` (the ``whsec_…`` secret that
``PUT /atendimento/canais/{canalId}/webhook`` answered), ``ATENDIMENTO_URL`` and ``ATENDIMENTO_TOKEN``
(a token of the channel's integration user); it listens on ``PORT`` (8080).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import OrderedDict
from typing import Any

import aiohttp
from aiohttp import web
from standardwebhooks import Webhook, WebhookVerificationError

# How many webhook-ids to remember. A real integration keeps them in its database, with the
# provider's id, for as long as retries can come (about 27 h with the default schedule).
LEMBRAR = 100_000


class Receptor:
    def __init__(self, segredo: str, atendimento_url: str, token: str) -> None:
        self.webhook = Webhook(segredo)
        self.atendimento_url = atendimento_url.rstrip("/")
        self.token = token
        self.vistos: OrderedDict[str, None] = OrderedDict()
        self.fila: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.enviados: list[dict[str, Any]] = []  # what was "sent to the customer" (for the demo)

    async def receber(self, pedido: web.Request) -> web.Response:
        corpo = await pedido.read()  # the raw bytes: the signature is over them exactly
        try:
            evento = self.webhook.verify(corpo, dict(pedido.headers))
        except WebhookVerificationError:
            return web.Response(status=401, text="assinatura inválida")
        webhook_id = pedido.headers["webhook-id"]
        if webhook_id in self.vistos:
            return web.Response(status=200, text="já recebido")
        self.vistos[webhook_id] = None
        if len(self.vistos) > LEMBRAR:
            self.vistos.popitem(last=False)
        await self.fila.put(evento)
        return web.Response(status=202, text="aceito")

    async def trabalhar(self, http: aiohttp.ClientSession) -> None:
        """Deliver each event to the customer, then report the message's status back."""
        while True:
            evento = await self.fila.get()
            if evento["type"] != "mensagem.criada":
                continue  # ticket.status: e.g. close the conversation on the provider's side
            dados = evento["data"]
            mensagem, canal_id = dados["mensagem"], dados["ticket"]["canalId"]
            # Here the provider's API would be called with dados["cliente"]["contato"] and
            # mensagem["conteudo"]; it answers the provider's id of the message.
            externo_id = f"prov-{mensagem['id']}"
            self.enviados.append({"para": dados["cliente"]["contato"], "texto": mensagem["conteudo"]})
            await self.reportar(http, canal_id, mensagem["id"], "enviada", externo_id)

    async def reportar(
        self,
        http: aiohttp.ClientSession,
        canal_id: str,
        mensagem_id: str,
        status: str,
        externo_id: str | None = None,
    ) -> None:
        corpo: dict[str, Any] = {"status": status}
        if externo_id is not None:
            corpo["externoId"] = externo_id
        url = f"{self.atendimento_url}/atendimento/canais/{canal_id}/mensagens/{mensagem_id}/status"
        async with http.post(url, json=corpo, headers={"Authorization": f"Bearer {self.token}"}) as resposta:
            resposta.raise_for_status()  # a real integration retries this too


async def servir(receptor: Receptor, porta: int) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/webhook", receptor.receber)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", porta).start()
    return runner


async def main() -> None:
    receptor = Receptor(
        os.environ["WEBHOOK_SECRET"], os.environ["ATENDIMENTO_URL"], os.environ["ATENDIMENTO_TOKEN"]
    )
    runner = await servir(receptor, int(os.environ.get("PORT", "8080")))
    async with aiohttp.ClientSession() as http:
        trabalho = asyncio.create_task(receptor.trabalhar(http))
        try:
            await asyncio.Event().wait()
        finally:
            trabalho.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await trabalho
            await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
