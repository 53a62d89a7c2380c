"""Read state and who the customer is: ``naoLidas`` per user on every ticket of the lists, the same
from two logins (devices) and after a reload; ``POST …/lida``; ``cliente`` and ``canal``."""

from __future__ import annotations

from typing import Any

from atendimento.api.saidas import LidaSaida, TicketDetalheSaida

from .apoio import Ambiente, assert_erro, assert_ok

ANA = "ana@demo.local"
BRUNO = "bruno@demo.local"


async def _login(amb: Ambiente, email: str) -> dict[str, str]:
    resposta = await amb.cliente.post("/auth/login", json={"email": email, "senha": "demo-senha"})
    assert resposta.status_code == 200, resposta.text
    return {"Authorization": f"Bearer {resposta.json()['data']['access_token']}"}


async def _nao_lidas(amb: Ambiente, headers: dict[str, str]) -> dict[str, Any]:
    data = assert_ok(
        await amb.cliente.get("/atendimento/tickets", headers=headers), 200, list[TicketDetalheSaida]
    )
    return {t["id"]: t["naoLidas"] for t in data}


async def test_nao_lidas_em_dois_logins_e_depois_de_recarregar(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    celular, notebook = await _login(amb, ANA), await _login(amb, ANA)
    t0, t1 = amb.demo.tickets[0], amb.demo.tickets[1]
    # The demo: Ana read both messages of her ticket; ticket 0's customer message is unread by her.
    antes = await _nao_lidas(amb, celular)
    assert antes[t1] == 0 and antes[t0] == 1
    assert await _nao_lidas(amb, notebook) == antes

    # The customer writes twice on Ana's ticket (João, e-mail): 2 unread, on both devices.
    novas = []
    for texto in ("Recebi, obrigado", "Mas o valor está errado"):
        r = await amb.cliente.post(
            f"/atendimento/canais/{amb.demo.canais['email']}/mensagens",
            json={"contato": "joao.pereira@example.com", "conteudo": texto},
            headers=amb.auth("integracao@demo.local"),
        )
        assert r.status_code == 201, r.text
        assert r.json()["data"]["ticket"]["id"] == t1
        novas.append(r.json()["data"]["mensagem"]["id"])
    assert (await _nao_lidas(amb, celular))[t1] == 2
    assert (await _nao_lidas(amb, notebook))[t1] == 2
    # Bruno's counts are his own.
    assert (await _nao_lidas(amb, amb.auth(BRUNO)))[t1] == 4

    # Read on the phone up to the first: 1 left, on the laptop too; the event goes to her sockets.
    amb.publicador.limpar()
    lida = assert_ok(
        await amb.cliente.post(f"/atendimento/tickets/{t1}/lida", json={"ate": novas[0]}, headers=celular),
        200,
        LidaSaida,
    )
    assert lida == {"ticketId": t1, "ate": novas[0], "naoLidas": 1}
    assert [(e.nome, e.args) for e in amb.publicador.eventos] == [
        ("ticket_lido", (amb.demo.empresa_id, amb.id(ANA), t1, novas[0], 1))
    ]
    assert (await _nao_lidas(amb, notebook))[t1] == 1
    # The laptop marks the last; a late mark from the phone of an older message moves nothing back.
    await amb.cliente.post(f"/atendimento/tickets/{t1}/lida", json={"ate": novas[1]}, headers=notebook)
    tardia = await amb.cliente.post(
        f"/atendimento/tickets/{t1}/lida", json={"ate": novas[0]}, headers=celular
    )
    assert tardia.json()["data"] == {"ticketId": t1, "ate": novas[1], "naoLidas": 0}
    # Her own reply is not unread for her; it is for Bruno.
    await amb.cliente.post(
        f"/atendimento/tickets/{t1}/mensagens", json={"conteudo": "Vou ver"}, headers=celular
    )
    assert (await _nao_lidas(amb, await _login(amb, ANA)))[t1] == 0  # a third login: a reload
    assert (await _nao_lidas(amb, amb.auth(BRUNO)))[t1] == 5
    one = await amb.cliente.get(f"/atendimento/tickets/{t1}", headers=amb.auth(BRUNO))
    assert one.json()["data"]["naoLidas"] == 5


async def test_lida_recusas(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    t0 = amb.demo.tickets[0]
    mensagens = (await amb.cliente.get(f"/atendimento/tickets/{t0}/mensagens", headers=amb.auth(ANA))).json()[
        "data"
    ]
    de_outro_ticket = (
        await amb.cliente.get(f"/atendimento/tickets/{amb.demo.tickets[1]}/mensagens", headers=amb.auth(ANA))
    ).json()["data"][0]["id"]
    casos = [
        (t0, {"ate": "nao-existe"}, 404, "MENSAGEM_NAO_ENCONTRADA"),
        (t0, {"ate": de_outro_ticket}, 404, "MENSAGEM_NAO_ENCONTRADA"),
        (amb.demo.outra_ticket_id, {"ate": mensagens[0]["id"]}, 404, "TICKET_NAO_ENCONTRADO"),
        (t0, {}, 422, "PAYLOAD_INVALIDO"),
        (t0, {"ate": ""}, 422, "PAYLOAD_INVALIDO"),
    ]
    for ticket, corpo, status, codigo in casos:
        resposta = await amb.cliente.post(
            f"/atendimento/tickets/{ticket}/lida", json=corpo, headers=amb.auth(ANA)
        )
        assert_erro(resposta, status, codigo)
    assert (await _nao_lidas(amb, amb.auth(ANA)))[t0] == 1  # nothing changed
    integracao = await amb.cliente.post(
        f"/atendimento/tickets/{t0}/lida",
        json={"ate": mensagens[0]["id"]},
        headers=amb.auth("integracao@demo.local"),
    )
    assert_erro(integracao, 403, "PROIBIDO")


async def test_quem_e_o_cliente_e_o_canal(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    data = assert_ok(
        await amb.cliente.get("/atendimento/tickets", headers=amb.auth(ANA)), 200, list[TicketDetalheSaida]
    )
    por_id = {t["id"]: t for t in data}
    primeiro = por_id[amb.demo.tickets[0]]
    assert primeiro["cliente"] == {
        "id": amb.demo.clientes["Maria Oliveira"],
        "nome": "Maria Oliveira",
        "contato": "+5511990000001",
    }
    assert primeiro["canal"] == {"id": amb.demo.canais["whatsapp"], "tipo": "whatsapp", "nome": "WhatsApp"}
    status = await amb.cliente.post(
        f"/atendimento/tickets/{amb.demo.tickets[1]}/status",
        json={"status": "resolvido"},
        headers=amb.auth(ANA),
    )
    assert status.json()["data"]["cliente"]["nome"] == "João Pereira"
    assert status.json()["data"]["canal"]["tipo"] == "email"
