"""Every change of a ticket is recorded with who made it and when, in the change's transaction:
``GET /atendimento/tickets/{id}/historico`` (paged), and the events carry ``atualizadoPor``."""

from __future__ import annotations

from atendimento.api.saidas import HistoricoSaida

from .apoio import Ambiente, assert_erro, assert_ok

GESTOR, ANA = "gestor@demo.local", "ana@demo.local"


async def test_historico_de_quem_mudou(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    d = amb.demo
    ticket = d.tickets[0]  # nobody's
    base = f"/atendimento/tickets/{ticket}"
    amb.publicador.limpar()
    passos = [
        (ANA, "POST", "/atribuir", {"atendenteId": amb.id(ANA)}),  # she takes it
        (ANA, "PATCH", "", {"prioridade": "urgente", "assunto": "Novo assunto"}),
        (ANA, "POST", "/status", {"status": "em_atendimento"}),
        (GESTOR, "POST", "/atribuir", {"atendenteId": amb.id("bruno@demo.local")}),
    ]
    for email, metodo, sufixo, corpo in passos:
        resposta = await amb.cliente.request(metodo, base + sufixo, json=corpo, headers=amb.auth(email))
        assert resposta.status_code == 200, resposta.text
    # Each event names who changed the ticket.
    assert amb.publicador.autores == [amb.id(ANA)] * 5 + [amb.id(GESTOR)] * 2

    pagina = await amb.cliente.get(f"{base}/historico?limite=2", headers=amb.auth(ANA))
    primeiros = assert_ok(pagina, 200, list[HistoricoSaida])
    cursor = pagina.json()["proximoCursor"]
    assert cursor
    resto = await amb.cliente.get(f"{base}/historico", params={"cursor": cursor}, headers=amb.auth(ANA))
    entradas = primeiros + assert_ok(resto, 200, list[HistoricoSaida])
    assert resto.json()["proximoCursor"] is None
    # The demo made it (as the system), then the four changes, oldest first.
    assert [(h["tipo"], h["atorId"]) for h in entradas] == [
        ("criado", "sistema"),
        ("atribuido", amb.id(ANA)),
        ("atualizado", amb.id(ANA)),
        ("status", amb.id(ANA)),
        ("atribuido", amb.id(GESTOR)),
    ]
    assert entradas[2]["mudancas"] == {
        "prioridade": {"de": "alta", "para": "urgente"},
        "assunto": {"de": "Pedido não chegou", "para": "Novo assunto"},
    }
    assert entradas[4]["mudancas"] == {"atendenteId": {"de": amb.id(ANA), "para": amb.id("bruno@demo.local")}}
    atual = await amb.servico.obter_ticket(d.empresa_id, ticket)
    assert entradas[-1]["criadoEm"] == atual.para_evento()["atualizadoEm"]


async def test_historico_de_outro_tenant_e_cursor_forjado(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    estrangeiro = await amb.cliente.get(
        f"/atendimento/tickets/{amb.demo.outra_ticket_id}/historico", headers=amb.auth(ANA)
    )
    desconhecido = await amb.cliente.get("/atendimento/tickets/nao-existe/historico", headers=amb.auth(ANA))
    assert_erro(desconhecido, 404, "TICKET_NAO_ENCONTRADO")
    assert estrangeiro.json() == desconhecido.json()
    forjado = await amb.cliente.get(
        f"/atendimento/tickets/{amb.demo.tickets[0]}/historico?cursor=abc", headers=amb.auth(ANA)
    )
    assert_erro(forjado, 422, "CURSOR_INVALIDO")


async def test_integracao_e_o_ator_do_que_abre(amb: Ambiente) -> None:
    canal = amb.demo.canais["whatsapp"]
    integracao = amb.id("integracao@demo.local")
    resposta = await amb.cliente.post(
        f"/atendimento/canais/{canal}/mensagens",
        json={"contato": "+5511977776666", "conteudo": "Oi"},
        headers=amb.auth("integracao@demo.local"),
    )
    ticket = resposta.json()["data"]["ticket"]["id"]
    entradas = await amb.servico.listar_historico(amb.demo.empresa_id, ticket)
    assert [(h.tipo, h.ator_id) for h in entradas] == [("criado", integracao)]
    assert amb.publicador.autores == [integracao]
