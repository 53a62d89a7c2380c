"""Retries against a receiver that fails: 500, 503, 429 with Retry-After, timeouts, dropped
connections (retried with the same webhook-id), 410 (endpoint disabled at once, admin and gestor
notified, re-enabled resumes), exhaustion (``falhou``, the message too) and ``reenviar``."""

from __future__ import annotations

import time

import pytest

from atendimento.domain.saida import StatusMensagem

from .apoio import ate, demorar, derrubar, primeiro, receptor, responder
from .conftest import Produto


@pytest.mark.parametrize(
    "falha",
    [
        responder(500),
        responder(503),
        responder(302, location="http://example.invalid/"),
        derrubar,
        demorar(1.5),
    ],
    ids=["500", "503", "3xx", "conexao-derrubada", "timeout"],
)
async def test_falhas_sao_retentadas_com_o_mesmo_webhook_id(produto_sqlite: Produto, falha: object) -> None:
    produto = produto_sqlite
    async with receptor() as r:
        r.comportamento = primeiro(2, falha)  # type: ignore[arg-type]
        r.segredos.append(await produto.definir_webhook(r.url))
        await produto.responder(await produto.ticket_do_canal(), "oi")
        await r.esperar(lambda: len(r.recebidos) >= 3)
        assert len(set(r.ids())) == 1  # the same event, every attempt
        assert r.falhas_de_assinatura == 0
        entregas = (
            await produto.cliente.get(
                f"/atendimento/canais/{produto.canal}/entregas", headers=produto.auth("gestor@demo.local")
            )
        ).json()["data"]
        assert entregas[0]["id"] == r.ids()[0]


async def test_retry_after_do_429_e_respeitado(produto_sqlite: Produto) -> None:
    produto = produto_sqlite
    async with receptor() as r:
        r.comportamento = primeiro(1, responder(429, **{"Retry-After": "1"}))
        await produto.definir_webhook(r.url)
        await produto.responder(await produto.ticket_do_canal(), "oi")
        await r.esperar(lambda: len(r.recebidos) >= 2)
        # The schedule alone would retry after 0.05 s; the receiver asked for 1 s.
        assert r.recebidos[1].em - r.recebidos[0].em >= 0.9


async def test_410_desativa_avisa_gestao_e_reativar_retoma(produto: Produto) -> None:
    async with receptor() as r:
        r.comportamento = primeiro(1, responder(410))
        await produto.definir_webhook(r.url)
        ticket_id = await produto.ticket_do_canal()
        await produto.responder(ticket_id, "primeira")
        await r.esperar(lambda: len(r.recebidos) >= 1)
        gestor = produto.auth("gestor@demo.local")
        url_webhook = f"/atendimento/canais/{produto.canal}/webhook"
        limite = time.monotonic() + 10
        while (estado := (await produto.cliente.get(url_webhook, headers=gestor)).json()["data"])["ativo"]:
            assert time.monotonic() < limite
        assert "410" in estado["desativadoMotivo"] and estado["desativadoEm"]

        def avisados() -> set[object]:
            return {e.args[1] for e in produto.publicador.eventos if e.nome == "notificacao"}

        await ate(lambda: len(avisados()) >= 2)
        assert avisados() == {produto.demo.id_de("admin@demo.local"), produto.demo.id_de("gestor@demo.local")}
        await produto.responder(ticket_id, "segunda")  # accumulates while disabled
        assert len(r.recebidos) == 1
        reativado = await produto.cliente.post(f"{url_webhook}/reativar", headers=gestor)
        assert reativado.status_code == 200 and reativado.json()["data"]["ativo"] is True
        await r.esperar(lambda: len(r.recebidos) >= 3)
        conteudos = [x.evento["data"]["mensagem"]["conteudo"] for x in r.recebidos[1:]]
        assert conteudos == ["primeira", "segunda"]  # in order, the first one again (same id)
        assert r.recebidos[1].id == r.recebidos[0].id


async def test_esgotadas_a_entrega_falha_a_mensagem_tambem_e_reenviar_entrega(produto: Produto) -> None:
    async with receptor() as r:
        r.comportamento = responder(500)
        await produto.definir_webhook(r.url)
        ticket_id = await produto.ticket_do_canal()
        mensagem = await produto.responder(ticket_id, "vai falhar")
        await r.esperar(lambda: len(r.recebidos) >= 4)  # 1 + the schedule's 3
        gestor = produto.auth("gestor@demo.local")
        entregas_url = f"/atendimento/canais/{produto.canal}/entregas"
        limite = time.monotonic() + 10
        while not (
            falhas := (await produto.cliente.get(f"{entregas_url}?estado=falhou", headers=gestor)).json()[
                "data"
            ]
        ):
            assert time.monotonic() < limite
        entrega = falhas[0]
        assert entrega["mensagemId"] == mensagem["id"] and len(entrega["tentativas"]) == 4
        assert all(t["httpStatus"] == 500 for t in entrega["tentativas"])

        def status_publicados() -> list[object]:
            return [e.args[0] for e in produto.publicador.eventos if e.nome == "mensagem_status"]

        await ate(lambda: bool(status_publicados()))
        status = status_publicados()
        assert isinstance(status[-1], StatusMensagem)
        assert status[-1].status == "falhou" and status[-1].entrega_id == entrega["id"]
        lista = (
            await produto.cliente.get(f"/atendimento/tickets/{ticket_id}/mensagens", headers=gestor)
        ).json()
        assert [m["status"] for m in lista["data"] if m["id"] == mensagem["id"]] == ["falhou"]
        # An atendente may not re-send; a gestor may, and it goes out with the same webhook-id.
        proibido = await produto.cliente.post(
            f"{entregas_url}/{entrega['id']}/reenviar", headers=produto.auth("ana@demo.local")
        )
        assert proibido.status_code == 403
        r.comportamento = responder(200)
        reenvio = await produto.cliente.post(f"{entregas_url}/{entrega['id']}/reenviar", headers=gestor)
        assert reenvio.status_code == 202, reenvio.text
        await r.esperar(lambda: len(r.recebidos) >= 5)
        assert r.recebidos[-1].id == entrega["id"]
        lista = (
            await produto.cliente.get(f"/atendimento/tickets/{ticket_id}/mensagens", headers=gestor)
        ).json()
        assert [m["status"] for m in lista["data"] if m["id"] == mensagem["id"]] == ["pendente"]
