"""The agent console in headless Chromium against the real product on the demo data (issue 12).

Each test logs in through the form and works as an agent would; "elsewhere" is the REST API or a
python-socketio client of another user. No uncaught page error in any test (the ``paginas`` fixture).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

from atendimento.app import build_app
from atendimento.config import Settings

from .apoio_console import OutroCliente, ServidorReiniciavel, entrar
from .conftest import SEGREDO, Paginas, Produto

ASSUNTOS_DEMO = ["Pedido não chegou", "Segunda via do boleto", "Dúvida sobre o produto", "Reembolso"]


def _ticket(pagina: Page, ticket_id: str):  # type: ignore[no-untyped-def]
    return pagina.locator(f'button[data-ticket="{ticket_id}"]')


async def _novo_ticket(produto: Produto, assunto: str) -> dict[str, object]:
    r = produto.resumo
    return dict(
        await produto.rest(
            "POST",
            "/atendimento/tickets",
            "gestor@demo.local",
            {
                "clienteId": r.clientes["Pedro Santos"],
                "canalId": r.canais["webchat"],
                "filaId": r.filas["Suporte"],
                "prioridade": "alta",
                "assunto": assunto,
            },
        )
    )


async def test_login_fila_e_conversa_ao_vivo(produto: Produto, paginas: Paginas, tmp_path: Path) -> None:
    pagina = await paginas.nova()
    await entrar(pagina, produto.url, "ana@demo.local")

    # The queue lists the demo tickets that are not closed (the default filter).
    fila = pagina.locator(".lista-tickets")
    for assunto in ASSUNTOS_DEMO:
        await expect(fila).to_contain_text(assunto)

    # By status: only the resolved one; then back to everything not closed.
    await pagina.locator("#filtro-status").select_option("resolvido")
    await expect(fila.locator("button.ticket")).to_have_count(1)
    await expect(fila).to_contain_text("Reembolso")
    await pagina.locator("#filtro-status").select_option("ativos")
    await expect(fila.locator("button.ticket")).to_have_count(4)

    # A ticket created through the REST API by another user appears without a reload.
    novo = await _novo_ticket(produto, "Troca de endereço de entrega")
    ticket_id = str(novo["id"])
    await expect(_ticket(pagina, ticket_id)).to_contain_text("Troca de endereço de entrega")
    await expect(_ticket(pagina, ticket_id)).to_contain_text("Sem atendente")

    # Another agent's program (the gestor) watches the ticket room.
    gestor = await OutroCliente().conectar(produto.url, await produto.token("gestor@demo.local"))
    try:
        assert (await gestor.pedir("ticket:entrar", {"ticketId": ticket_id}))["success"]

        # Open it, by keyboard: focus the queue item and press Enter.
        await _ticket(pagina, ticket_id).focus()
        await pagina.keyboard.press("Enter")
        await expect(pagina.locator("#titulo-conversa")).to_contain_text(f"#{novo['numero']}")
        await expect(pagina.locator(".mensagens")).to_contain_text("Nenhuma mensagem ainda")
        # The gestor is already in the room: "who else is here".
        await expect(pagina.locator(".visualizando")).to_contain_text("Gestor Demo")

        # A message written elsewhere appears.
        await produto.rest(
            "POST",
            f"/atendimento/tickets/{ticket_id}/mensagens",
            "gestor@demo.local",
            {"conteudo": "Cliente ligou agora"},
        )
        await expect(pagina.locator(".mensagens")).to_contain_text("Cliente ligou agora")

        # Typing is shown to another client, throttled (one event for a burst of keystrokes).
        resposta = pagina.get_by_label("Resposta")
        await resposta.press_sequentially("Olá Pedro,", delay=20)
        await gestor.esperar("mensagem:digitando", lambda d: d["ticketId"] == ticket_id)
        await resposta.press("Shift+Enter")
        await resposta.press_sequentially("já estou vendo.", delay=20)
        # 25 keystrokes, one event per 8 s window (two if this machine is slow enough to cross one).
        assert 1 <= len(gestor.de("mensagem:digitando")) <= 2
        # Typing from elsewhere is shown here.
        await gestor.pedir("mensagem:digitando", {"ticketId": ticket_id})
        await expect(pagina.locator(".digitando")).to_contain_text("Gestor Demo está digitando")

        # Enter sends; Shift+Enter made a new line inside the message.
        await resposta.press("Enter")
        texto = "Olá Pedro,\njá estou vendo."
        await expect(pagina.locator(".mensagem.minha .conteudo")).to_have_text(texto)
        await expect(resposta).to_have_value("")
        nova = await gestor.esperar("mensagem:nova", lambda m: m["conteudo"] == texto)
        assert nova["remetenteId"] == produto.id("ana@demo.local")
        guardadas = await produto.rest(
            "GET", f"/atendimento/tickets/{ticket_id}/mensagens", "gestor@demo.local"
        )
        assert [m["conteudo"] for m in guardadas] == ["Cliente ligou agora", texto]

        # Assign to me, then change the status with the valid transitions only.
        await pagina.get_by_role("button", name="Atribuir a mim").click()
        await expect(pagina.locator(".detalhes")).to_contain_text("Atendente: Ana Souza")
        await expect(pagina.get_by_role("button", name="Atribuir a mim")).to_have_count(0)
        acoes = pagina.locator(".acoes button[data-status]")
        await expect(acoes).to_have_count(4)  # aberto → the four others
        await pagina.locator('.acoes button[data-status="em_atendimento"]').click()
        await expect(pagina.locator(".detalhes .selo")).to_have_text("Em atendimento")
        # From em_atendimento the way back to the queue is offered, em_atendimento itself is not.
        await expect(pagina.locator('.acoes button[data-status="aberto"]')).to_have_count(1)
        await expect(pagina.locator('.acoes button[data-status="em_atendimento"]')).to_have_count(0)
        await gestor.esperar("ticket:status", lambda t: t["status"] == "em_atendimento")
        atual = await produto.rest("GET", f"/atendimento/tickets/{ticket_id}", "gestor@demo.local")
        assert atual["status"] == "em_atendimento" and atual["atendenteId"] == produto.id("ana@demo.local")

        # One's own assignment is no news: no "assigned to you" toast for it.
        await expect(pagina.locator(".toast", has_text="atribuído a você")).to_have_count(0)

        # "Meus" now holds it.
        await pagina.get_by_role("button", name="Meus").click()
        await expect(_ticket(pagina, ticket_id)).to_be_visible()
        await pagina.screenshot(path=str(tmp_path / "console-1366x768.png"))
    finally:
        await gestor.fechar()


async def test_quem_mais_esta_no_ticket_e_presenca(
    produto: Produto, paginas: Paginas, tmp_path: Path
) -> None:
    ticket_id = produto.resumo.tickets[0]  # "Pedido não chegou", no atendente
    ana = await paginas.nova()
    await entrar(ana, produto.url, "ana@demo.local")
    bruno = await paginas.nova(390, 844)  # a phone-width window
    await entrar(bruno, produto.url, "bruno@demo.local")

    # Presence: each sees the other online in the team panel (Bruno's is below the queue on a phone).
    await expect(
        ana.locator(f'.atendente[data-atendente="{produto.id("bruno@demo.local")}"]')
    ).to_contain_text("Disponível")

    # The server's count first (the customer's message, unread by both), then a message on an
    # unassigned ticket (mensagem:nao-atribuida) counts as one more in every queue.
    await expect(_ticket(ana, ticket_id).locator(".nao-lidas")).to_have_text("1")
    await produto.rest(
        "POST",
        f"/atendimento/tickets/{ticket_id}/mensagens",
        "gestor@demo.local",
        {"conteudo": "Alguém pega?"},
    )
    await expect(_ticket(ana, ticket_id).locator(".nao-lidas")).to_have_text("2")
    await expect(_ticket(bruno, ticket_id).locator(".nao-lidas")).to_have_text("2")
    # A degraded backplane (sistema:estado) is a warning, and its end clears it.
    aviso = ana.locator(".banner-aviso")
    produto.app.gateway.namespace.emit("sistema:estado", {"redis": "degradado"})
    await expect(aviso).to_contain_text("degradada")
    produto.app.gateway.namespace.emit("sistema:estado", {"redis": "ok"})
    await expect(aviso).to_be_hidden()

    await _ticket(ana, ticket_id).click()
    await expect(ana.locator(".mensagens")).to_contain_text("meu pedido 1234")
    await expect(_ticket(ana, ticket_id).locator(".nao-lidas")).to_have_count(0)
    await _ticket(bruno, ticket_id).click()
    await expect(bruno.locator(".visualizando")).to_contain_text("Ana Souza")
    await expect(ana.locator(".visualizando")).to_contain_text("Bruno Lima")
    await expect(bruno.locator(".mensagens")).to_contain_text("meu pedido 1234")
    await bruno.screenshot(path=str(tmp_path / "console-390x844.png"))

    # My own status, live to colleagues.
    await ana.locator("#meu-status").select_option("ocupado")
    await expect(bruno.locator(".conversa")).to_be_visible()
    await bruno.get_by_role("button", name="← Fila").click()  # back to the queue on a phone
    linha_ana = bruno.locator(f'.atendente[data-atendente="{produto.id("ana@demo.local")}"]')
    await expect(linha_ana).to_contain_text("Ocupado")

    # Bruno left the ticket: Ana no longer sees him there.
    await expect(ana.locator(".visualizando")).to_have_text("")
    # Bruno logs out: he goes offline for Ana (after the grace period) and sees the login again.
    await bruno.get_by_role("button", name="Sair").click()
    await expect(bruno.get_by_role("heading", name="Atendimento")).to_be_visible()
    await expect(
        ana.locator(f'.atendente[data-atendente="{produto.id("bruno@demo.local")}"]')
    ).to_contain_text("Offline")

    # Assigned to me by someone else: a toast (and a beep; a system notification when allowed).
    await produto.rest(
        "POST",
        f"/atendimento/tickets/{ticket_id}/atribuir",
        "gestor@demo.local",
        {"atendenteId": produto.id("ana@demo.local")},
    )
    numero = (await produto.rest("GET", f"/atendimento/tickets/{ticket_id}", "gestor@demo.local"))["numero"]
    await expect(ana.locator(".toast", has_text=f"Ticket #{numero} atribuído a você")).to_be_visible()

    # A notification (POST /notificacoes) is a toast.
    await produto.rest(
        "POST",
        "/notificacoes",
        "gestor@demo.local",
        {"usuarioId": produto.id("ana@demo.local"), "tipo": "aviso", "mensagem": "Reunião às 15h"},
    )
    await expect(ana.locator(".toast", has_text="Reunião às 15h")).to_be_visible()


async def test_queda_do_servidor_banner_e_tudo_que_chegou_enquanto_isso(
    produto: Produto, paginas: Paginas
) -> None:
    ticket_id = produto.resumo.tickets[1]  # "Segunda via do boleto", Ana's
    pagina = await paginas.nova()
    await entrar(pagina, produto.url, "ana@demo.local")
    await _ticket(pagina, ticket_id).click()
    await expect(pagina.locator(".mensagens")).to_contain_text("segue a segunda via")

    # The server goes away: the banner says so.
    await produto.servidor.parar(produto.app)
    banner = pagina.locator(".banner[data-estado]")
    await expect(banner).to_contain_text("Sem conexão")

    # Meanwhile, the world goes on (straight through the domain: the API is down with the server).
    servico = produto.app.servico
    empresa = produto.resumo.empresa_id
    gestor = produto.id("gestor@demo.local")
    textos = [f"Enquanto você estava fora {i}" for i in range(3)]
    for texto in textos:
        await servico.enviar_mensagem(empresa, ticket_id, remetente_id=gestor, role="gestor", conteudo=texto)
    await servico.mudar_status(empresa, ticket_id, "aguardando_cliente")
    await asyncio.sleep(1)
    await expect(banner).not_to_contain_text("restabelecida")

    # Back: the console catches up over REST before it says so, and works live again.
    await produto.servidor.iniciar()
    await expect(banner).to_contain_text("Conexão restabelecida", timeout=20_000)
    for texto in textos:
        await expect(pagina.locator(".mensagens")).to_contain_text(texto)
    await expect(pagina.locator(".detalhes .selo")).to_have_text("Aguardando cliente")
    await expect(_ticket(pagina, ticket_id)).to_contain_text("Aguardando cliente")
    await produto.rest(
        "POST",
        f"/atendimento/tickets/{ticket_id}/mensagens",
        "gestor@demo.local",
        {"conteudo": "Ao vivo de novo"},
    )
    await expect(pagina.locator(".mensagens")).to_contain_text("Ao vivo de novo")
    assert await pagina.locator(".mensagem").count() == 2 + len(textos) + 1  # each once


async def test_renova_o_token_antes_de_expirar(demo_sqlite: Any, paginas: Paginas, tmp_path: Path) -> None:
    """A 60 s token: the console renews it halfway (POST /auth/renovar), keeps it for the tab, hands
    it to the socket, and works on with it."""
    settings = Settings(  # type: ignore[call-arg]
        database_url=demo_sqlite.banco.app_url, data_dir=tmp_path, jwt_secret=SEGREDO, token_ttl_seconds=60
    )
    app = build_app(settings)
    await app.startup()
    servidor = ServidorReiniciavel(app.asgi)
    await servidor.iniciar()
    try:
        pagina = await paginas.nova()
        await entrar(pagina, servidor.url, "ana@demo.local")
        ler = "() => JSON.parse(sessionStorage.getItem('atendimento.sessao')).token"
        primeiro = await pagina.evaluate(ler)
        segundo = primeiro
        for _ in range(90):  # renewal is due at 30 s
            await asyncio.sleep(0.5)
            segundo = await pagina.evaluate(ler)
            if segundo != primeiro:
                break
        assert segundo != primeiro, "the console did not renew its token"
        identidade = app.tokens.verificar(segundo)
        assert identidade.auth_time == app.tokens.verificar(primeiro).auth_time
        # The console goes on working with the new token (REST and socket).
        await _ticket(pagina, demo_sqlite.resumo.tickets[0]).click()
        await expect(pagina.locator(".mensagens")).to_contain_text("meu pedido 1234")
        await expect(pagina.locator(".banner[data-estado]")).to_have_count(0)
    finally:
        await servidor.parar(app)
        await app.shutdown()
