"""Order per ticket, with no head-of-line blocking beyond it: one ticket's failing event holds back
that ticket's later events and nothing else. And a rotated secret: both sign for 24 h."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .apoio import ate, receptor
from .conftest import Produto


async def test_um_ticket_falhando_nao_segura_o_outro_e_a_ordem_se_mantem(produto_paciente: Produto) -> None:
    produto = produto_paciente
    async with receptor() as r:
        falhando: set[str] = set()

        async def comportamento(_p: web.Request, evento: dict[str, Any]) -> web.StreamResponse | None:
            if evento["data"]["ticket"]["id"] in falhando:
                return web.Response(status=500)
            return None

        r.comportamento = comportamento
        await produto.definir_webhook(r.url)
        ticket_a = await produto.ticket_do_canal("+5511900000001")
        ticket_b = await produto.ticket_do_canal("+5511900000002")
        falhando.add(ticket_a)
        for i in range(3):
            await produto.responder(ticket_a, f"a{i}")
        for i in range(5):
            await produto.responder(ticket_b, f"b{i}")

        def de(ticket: str) -> list[str]:
            return [
                x.evento["data"]["mensagem"]["conteudo"]
                for x in r.recebidos
                if x.evento["data"]["ticket"]["id"] == ticket
            ]

        await r.esperar(lambda: len(de(ticket_b)) >= 5)
        # B flowed while A's first event kept failing; A's later events were never sent before it.
        assert de(ticket_b) == [f"b{i}" for i in range(5)]
        assert set(de(ticket_a)) == {"a0"}
        falhando.clear()  # A's receiver recovers (before the schedule runs out): A flows, in order
        await r.esperar(lambda: de(ticket_a)[-3:] == ["a0", "a1", "a2"])
        assert [c for c in de(ticket_a) if c != "a0"] == ["a1", "a2"]


async def test_segredo_rotacionado_os_dois_assinam(produto_sqlite: Produto) -> None:
    produto = produto_sqlite
    async with receptor() as r:
        antigo = await produto.definir_webhook(r.url)
        rotacao = await produto.cliente.post(
            f"/atendimento/canais/{produto.canal}/webhook/segredo", headers=produto.auth("admin@demo.local")
        )
        novo = rotacao.json()["data"]["segredo"]
        ticket = await produto.ticket_do_canal()
        await produto.responder(ticket, "depois da rotação")
        await r.esperar(lambda: len(r.recebidos) >= 1)
        # A receiver that knows only the old secret, and one that knows only the new, both verify.
        from standardwebhooks import Webhook

        recebido = r.recebidos[0]
        assert len(recebido.cabecalhos["webhook-signature"].split(" ")) == 2
        for segredo in (antigo, novo):
            Webhook(segredo).verify(recebido.corpo, recebido.cabecalhos)


async def test_ssrf_recusado_por_padrao(produto_seguro: Produto) -> None:
    produto = produto_seguro
    async with receptor() as r:
        await produto.definir_webhook(
            r.url
        )  # 127.0.0.1: saved (http allowed for the host), refused at delivery
        ticket = await produto.ticket_do_canal()
        await produto.responder(ticket, "não vai")
        gestor = produto.auth("gestor@demo.local")
        url = f"/atendimento/canais/{produto.canal}/entregas"

        async def tentou() -> bool:
            entregas = (await produto.cliente.get(url, headers=gestor)).json()["data"]
            return bool(entregas and entregas[0]["tentativas"])

        await ate(tentou)
        entregas = (await produto.cliente.get(url, headers=gestor)).json()["data"]
        assert "proibido" in entregas[0]["tentativas"][0]["erro"]
        assert entregas[0]["tentativas"][0]["httpStatus"] is None
        assert r.recebidos == []
