"""The seed's flow, as its React example runs it, with the real socket.io-client 4.8.1."""

from __future__ import annotations

import asyncio
import time

import pytest
from apoio_node import ClientesAtendimento

from .apoio_gateway import GRACE_TESTES, Produto

pytestmark = pytest.mark.node  # the real socket.io-client, run by node


async def _login(produto: Produto, email: str) -> str:
    resposta = await produto.http.post("/auth/login", json={"email": email, "senha": "demo-senha"})
    assert resposta.status_code == 200, resposta.text
    return str(resposta.json()["data"]["access_token"])


async def test_fluxo_do_exemplo_react(produto: Produto, clientes: ClientesAtendimento) -> None:
    ticket_id = produto.resumo.tickets[1]  # assigned to Ana
    ana_id, bruno_id = produto.id("ana@demo.local"), produto.id("bruno@demo.local")

    # 1-2. Connect with a token from POST /auth/login, auth.token and transports as in the example.
    token_ana, token_bruno = (
        await _login(produto, "ana@demo.local"),
        await _login(produto, "bruno@demo.local"),
    )
    conectou = await clientes.conectar("ana", token_ana)
    assert conectou["type"] == "connect" and conectou["transport"] == "websocket"
    assert (await clientes.conectar("bruno", token_bruno))["type"] == "connect"

    # 3-4. ticket:entrar, acked with the ticket id.
    assert await clientes.pedir("ana", "ticket:entrar", {"ticketId": ticket_id}) == {
        "success": True,
        "ticketId": ticket_id,
    }
    assert (await clientes.pedir("bruno", "ticket:entrar", {"ticketId": ticket_id}))["success"] is True

    # 5-6. Typing reaches the other participant, not the sender.
    marca = len(clientes.registros)
    clientes.emitir("ana", "mensagem:digitando", {"ticketId": ticket_id})
    digitando = await clientes.esperar_evento("bruno", "mensagem:digitando", desde=marca)
    assert digitando == {"ticketId": ticket_id, "usuarioId": ana_id, "usuarioNome": "Ana Souza"}
    await clientes.pedir("ana", "ticket:sair", {"ticketId": "outro"})  # a round trip: Ana's echo had time
    assert clientes.eventos("ana", "mensagem:digitando") == []

    # 7. A REST write: mensagem:nova to the ticket's room (both), with the contract's payload.
    marca = len(clientes.registros)
    criada = await produto.rest(
        "POST", f"/atendimento/tickets/{ticket_id}/mensagens", "ana@demo.local", {"conteudo": "Olá!"}
    )
    for quem in ("ana", "bruno"):
        nova = await clientes.esperar_evento(quem, "mensagem:nova", desde=marca)
        assert nova == criada
        assert set(nova) == {
            "id", "ticketId", "ticketNumero", "remetenteId", "atendenteId", "tipo", "conteudo",
            "metadados", "criadoEm", "status", "externoId",
        }  # fmt: skip
        # Channels out: an agent's message is pendente until its channel's integration reports.
        assert (nova["status"], nova["externoId"]) == ("pendente", None)
        assert nova["ticketId"] == ticket_id and nova["conteudo"] == "Olá!"
        assert nova["criadoEm"].endswith("Z") and len(nova["criadoEm"]) == len("2026-11-29T17:08:20.123Z")

    # 8-9. ticket:sair: Bruno, in the room, still gets the ticket's events; Ana left the room but is
    # the ticket's assignee, so its messages still reach her, through her user room, once each.
    assert await clientes.pedir("ana", "ticket:sair", {"ticketId": ticket_id}) == {
        "success": True,
        "ticketId": ticket_id,
    }
    marca = len(clientes.registros)
    await produto.rest(
        "POST", f"/atendimento/tickets/{ticket_id}/mensagens", "bruno@demo.local", {"conteudo": "Oi"}
    )
    await clientes.esperar_evento("bruno", "mensagem:nova", desde=marca)
    await clientes.esperar_evento("ana", "mensagem:nova", desde=marca)
    await clientes.pedir("ana", "ticket:sair", {"ticketId": "outro"})
    assert [e["conteudo"] for e in clientes.payloads("ana", "mensagem:nova")] == ["Olá!", "Oi"]
    # An internal note: the same event, flagged (the one key a note adds).
    marca = len(clientes.registros)
    await produto.rest(
        "POST",
        f"/atendimento/tickets/{ticket_id}/mensagens",
        "ana@demo.local",
        {"conteudo": "Cliente VIP", "interna": True},
    )
    nota = await clientes.esperar_evento("bruno", "mensagem:nova", desde=marca)
    assert nota["interna"] is True and set(nota) == set(criada) | {"interna"}
    marca = len(clientes.registros)
    await produto.rest(
        "POST", f"/atendimento/tickets/{ticket_id}/status", "gestor@demo.local", {"status": "resolvido"}
    )
    await clientes.esperar_evento("bruno", "ticket:status", desde=marca)
    await clientes.pedir("ana", "ticket:sair", {"ticketId": "outro"})
    assert clientes.eventos("ana", "ticket:status") == []  # the room's other events: not hers any more

    # 10-11. Ana disconnects; Bruno sees atendente:offline for her once the grace period is over.
    marca = len(clientes.registros)
    saiu = time.monotonic()
    await clientes.desconectar("ana")
    offline = await clientes.esperar_evento("bruno", "atendente:offline", desde=marca)
    assert time.monotonic() - saiu >= GRACE_TESTES * 0.9
    assert offline["atendenteId"] == ana_id and offline["atendenteNome"] == "Ana Souza"
    assert offline["timestamp"].endswith("Z")
    assert bruno_id not in {p["atendenteId"] for p in clientes.payloads("bruno", "atendente:offline")}


async def test_opcoes_padrao_do_cliente_polling_e_upgrade(
    produto: Produto, clientes: ClientesAtendimento
) -> None:
    """An unmodified client (default transports: polling first, then the upgrade) works the same."""
    ticket_id = produto.resumo.tickets[0]
    opcoes = {"auth": {"token": produto.token("gestor@demo.local")}}
    assert (await clientes.conectar("gestor", opcoes=opcoes))["type"] == "connect"
    assert (await clientes.pedir("gestor", "ticket:entrar", {"ticketId": ticket_id}))["success"] is True
    apenas_polling = {"auth": {"token": produto.token("ana@demo.local")}, "transports": ["polling"]}
    assert (await clientes.conectar("ana", opcoes=apenas_polling))["transport"] == "polling"
    assert (await clientes.pedir("ana", "ticket:entrar", {"ticketId": ticket_id}))["success"] is True

    marca = len(clientes.registros)
    clientes.emitir("ana", "mensagem:digitando", {"ticketId": ticket_id})
    assert (await clientes.esperar_evento("gestor", "mensagem:digitando", desde=marca))["usuarioId"] == (
        produto.id("ana@demo.local")
    )
    marca = len(clientes.registros)
    await produto.rest(
        "POST", f"/atendimento/tickets/{ticket_id}/status", "gestor@demo.local", {"status": "em_atendimento"}
    )
    for quem in ("gestor", "ana"):
        status = await clientes.esperar_evento(quem, "ticket:status", desde=marca)
        assert status["ticketId"] == ticket_id and status["status"] == "em_atendimento"
        assert status["id"] == ticket_id


async def test_recarga_dentro_da_graca_nao_emite_offline_nem_online(
    produto: Produto, clientes: ClientesAtendimento
) -> None:
    assert (await clientes.conectar("bruno", produto.token("bruno@demo.local")))["type"] == "connect"
    marca = len(clientes.registros)
    assert (await clientes.conectar("ana", produto.token("ana@demo.local")))["type"] == "connect"
    online = await clientes.esperar_evento("bruno", "atendente:online", desde=marca)
    assert online["atendenteId"] == produto.id("ana@demo.local")

    # A page reload: the old socket goes, a new one comes well within the grace period.
    marca = len(clientes.registros)
    await clientes.desconectar("ana")
    assert (await clientes.conectar("ana2", produto.token("ana@demo.local")))["type"] == "connect"
    await asyncio.sleep(GRACE_TESTES + 0.4)
    novos = [r for r in clientes.registros[marca:] if r.get("client") == "bruno" and r["type"] == "event"]
    assert [r["event"] for r in novos] == []
    atendentes = await produto.rest("GET", "/atendimento/atendentes", "gestor@demo.local")
    online_ids = {a["id"] for a in atendentes if a["online"]}
    assert online_ids == {produto.id("ana@demo.local"), produto.id("bruno@demo.local")}
