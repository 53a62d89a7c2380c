"""Messages on a ticket (sent as the caller) and customer messages from a channel integration."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from atendimento.api.saidas import MensagemCanalSaida, MensagemSaida

from .apoio import Ambiente, assert_erro, assert_ok

ANA = "ana@demo.local"
INTEGRACAO = "integracao@demo.local"


def _url(ticket_id: str) -> str:
    return f"/atendimento/tickets/{ticket_id}/mensagens"


async def test_lista_mensagens(amb: Ambiente) -> None:
    t2 = amb.demo.tickets[1]
    data = assert_ok(await amb.cliente.get(_url(t2), headers=amb.auth(ANA)), 200, list[MensagemSaida])
    assert [m["atendenteId"] for m in data] == [None, amb.id(ANA)]  # the customer, then ana's answer
    assert {m["ticketId"] for m in data} == {t2}


async def test_envia_como_quem_chama(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    t1 = amb.demo.tickets[0]
    corpo = {"conteudo": "Vou verificar.", "tipo": "texto", "metadados": {"origem": "console"}}
    data = assert_ok(await amb.cliente.post(_url(t1), json=corpo, headers=amb.auth(ANA)), 201, MensagemSaida)
    assert data["remetenteId"] == amb.id(ANA)
    assert data["atendenteId"] == amb.id(ANA)
    assert data["metadados"] == {"origem": "console"}
    assert amb.publicador.nomes() == ["mensagem_nova"]
    mensagem, ticket = amb.publicador.eventos[0].args
    assert mensagem.para_evento() == data
    assert ticket.id == t1
    listadas = assert_ok(await amb.cliente.get(_url(t1), headers=amb.auth(ANA)), 200, list[MensagemSaida])
    assert listadas[-1] == data


async def test_remetente_nao_vem_do_corpo(amb: Ambiente) -> None:
    corpo = {"conteudo": "oi", "remetenteId": amb.id("bruno@demo.local")}
    assert_erro(
        await amb.cliente.post(_url(amb.demo.tickets[0]), json=corpo, headers=amb.auth(ANA)),
        422,
        "PAYLOAD_INVALIDO",
    )


@pytest.mark.parametrize(
    ("corpo", "status"),
    [
        ({}, 422),
        ({"conteudo": ""}, 422),
        ({"conteudo": "   "}, 422),
        ({"conteudo": "x" * 10_001}, 422),
        ({"conteudo": "oi", "tipo": "sticker"}, 422),
        ({"conteudo": 5}, 422),
        ({"conteudo": "oi", "metadados": "texto"}, 422),
        ({"conteudo": "oi", "metadados": [1, 2]}, 422),
        ({"conteudo": "oi", "metadados": {"k": "v" * 17_000}}, 422),  # over the domain's 16 KiB
        ({"conteudo": "oi", "metadados": {"k": "v" * 70_000}}, 413),  # over the body bound
    ],
)
async def test_envia_invalido_nao_grava(amb: Ambiente, corpo: dict[str, Any], status: int) -> None:
    t1 = amb.demo.tickets[0]
    antes = await amb.servico.listar_mensagens(amb.demo.empresa_id, t1)
    resposta = await amb.cliente.post(_url(t1), json=corpo, headers=amb.auth(ANA))
    erro = assert_erro(resposta, status, "PAYLOAD_INVALIDO")
    assert len(resposta.content) < 1000  # the reason names fields, never echoes the huge value
    assert "vvvvvvvvvv" not in erro["error"]
    assert await amb.servico.listar_mensagens(amb.demo.empresa_id, t1) == antes
    assert amb.publicador.eventos == []


async def test_envia_em_ticket_fechado_409(amb: Ambiente) -> None:
    t1 = amb.demo.tickets[0]
    await amb.cliente.post(
        f"/atendimento/tickets/{t1}/status", json={"status": "fechado"}, headers=amb.auth("gestor@demo.local")
    )
    amb.publicador.limpar()
    assert_erro(
        await amb.cliente.post(_url(t1), json={"conteudo": "oi"}, headers=amb.auth(ANA)),
        409,
        "TICKET_FECHADO",
    )
    assert amb.publicador.eventos == []


async def test_mensagens_de_ticket_desconhecido(amb: Ambiente) -> None:
    assert_erro(
        await amb.cliente.get(_url("nao-existe"), headers=amb.auth(ANA)), 404, "TICKET_NAO_ENCONTRADO"
    )
    assert_erro(
        await amb.cliente.post(_url("nao-existe"), json={"conteudo": "oi"}, headers=amb.auth(ANA)),
        404,
        "TICKET_NAO_ENCONTRADO",
    )


@pytest.mark.parametrize(
    ("usuario", "role"),
    [("fantasma", "atendente"), (ANA, "admin"), ("bruno@demo.local", "atendente")],
    ids=["nao-existe", "outro-papel", "inativo"],
)
async def test_envia_com_usuario_invalido_401(amb: Ambiente, usuario: str, role: str) -> None:
    """The database is the authority: a token whose user is absent from the tenant, has another
    role, or is inactive writes nothing."""
    t1 = amb.demo.tickets[0]
    async with amb.storage.transacao(amb.demo.empresa_id) as conn:
        await conn.execute(text("UPDATE usuarios SET ativo = false WHERE email = 'bruno@demo.local'"))
    sub = amb.id(usuario) if "@" in usuario else usuario
    token = amb.tokens.emitir(sub, amb.demo.empresa_id, role, "Nome")
    antes = await amb.servico.listar_mensagens(amb.demo.empresa_id, t1)
    resposta = await amb.cliente.post(
        _url(t1), json={"conteudo": "oi"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert_erro(resposta, 401, "USUARIO_INVALIDO")
    assert amb.publicador.eventos == []
    assert await amb.servico.listar_mensagens(amb.demo.empresa_id, t1) == antes


async def test_nota_interna(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    t1 = amb.demo.tickets[0]
    corpo = {"conteudo": "Cliente já ligou duas vezes.", "interna": True}
    data = assert_ok(await amb.cliente.post(_url(t1), json=corpo, headers=amb.auth(ANA)), 201, MensagemSaida)
    assert data["interna"] is True and data["atendenteId"] == amb.id(ANA)
    mensagem, _ = amb.publicador.eventos[0].args
    assert mensagem.para_evento() == data  # mensagem:nova carries the flag
    listadas = assert_ok(await amb.cliente.get(_url(t1), headers=amb.auth(ANA)), 200, list[MensagemSaida])
    assert listadas[-1] == data
    # Explicitly not a note: the message's JSON is the seed's, with no extra key.
    comum = assert_ok(
        await amb.cliente.post(_url(t1), json={"conteudo": "oi", "interna": False}, headers=amb.auth(ANA)),
        201,
        MensagemSaida,
    )
    assert "interna" not in comum
    for valor in ("true", 1, None):
        assert_erro(
            await amb.cliente.post(
                _url(t1), json={"conteudo": "oi", "interna": valor}, headers=amb.auth(ANA)
            ),
            422,
            "PAYLOAD_INVALIDO",
        )


# --- channel integration -----------------------------------------------------------------------


def _canal(canal_id: str) -> str:
    return f"/atendimento/canais/{canal_id}/mensagens"


async def test_canal_abre_ticket_e_depois_acrescenta(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    canal = amb.demo.canais["whatsapp"]
    corpo = {"contato": "+5511999990000", "nomeCliente": "Nova Cliente", "conteudo": "Olá!"}
    primeira = assert_ok(
        await amb.cliente.post(_canal(canal), json=corpo, headers=amb.auth(INTEGRACAO)),
        201,
        MensagemCanalSaida,
    )
    assert primeira["ticketCriado"] is True
    assert primeira["ticket"]["canalId"] == canal
    assert primeira["ticket"]["filaId"] == amb.demo.filas["Suporte"]  # the channel's default fila
    assert primeira["mensagem"]["atendenteId"] is None
    assert primeira["mensagem"]["remetenteId"] == primeira["ticket"]["clienteId"]
    assert amb.publicador.nomes() == ["ticket_novo", "mensagem_nova"]
    amb.publicador.limpar()

    segunda = assert_ok(
        await amb.cliente.post(
            _canal(canal),
            json={"contato": "+5511999990000", "conteudo": "Alguém?", "tipo": "texto"},
            headers=amb.auth(INTEGRACAO),
        ),
        201,
        MensagemCanalSaida,
    )
    assert segunda["ticketCriado"] is False
    assert segunda["ticket"]["id"] == primeira["ticket"]["id"]
    assert amb.publicador.nomes() == ["mensagem_nova"]


async def test_canal_cliente_existente_no_ticket_aberto(amb: Ambiente) -> None:
    corpo = {"contato": "+5511990000001", "conteudo": "E então?"}
    data = assert_ok(
        await amb.cliente.post(_canal(amb.demo.canais["whatsapp"]), json=corpo, headers=amb.auth(INTEGRACAO)),
        201,
        MensagemCanalSaida,
    )
    assert data["ticket"]["id"] == amb.demo.tickets[0]
    assert data["ticketCriado"] is False


@pytest.mark.parametrize("email", [ANA, "gestor@demo.local", "admin@demo.local", "vendas@demo.local"])
async def test_canal_so_integracao(amb: Ambiente, email: str) -> None:
    corpo = {"contato": "+5511999990000", "conteudo": "Olá!"}
    assert_erro(
        await amb.cliente.post(_canal(amb.demo.canais["whatsapp"]), json=corpo, headers=amb.auth(email)),
        403,
        "PROIBIDO",
    )
    assert amb.publicador.eventos == []


async def test_canal_desconhecido_e_de_outro_tenant(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    corpo = {"contato": "+5511999990000", "conteudo": "Olá!"}
    antes = await amb.servico.listar_tickets(amb.demo.outra_empresa_id)
    desconhecido = await amb.cliente.post(_canal("nao-existe"), json=corpo, headers=amb.auth(INTEGRACAO))
    de_outro = await amb.cliente.post(
        _canal(amb.demo.outra_canal_id), json=corpo, headers=amb.auth(INTEGRACAO)
    )
    assert_erro(desconhecido, 404, "CANAL_NAO_ENCONTRADO")
    assert de_outro.json() == desconhecido.json()
    assert await amb.servico.listar_tickets(amb.demo.outra_empresa_id) == antes
    assert amb.publicador.eventos == []


@pytest.mark.parametrize(
    "corpo",
    [
        {"conteudo": "Olá!"},
        {"contato": "", "conteudo": "Olá!"},
        {"contato": "c" * 201, "conteudo": "Olá!"},
        {"contato": "+55", "conteudo": "Olá!", "nomeCliente": "n" * 201},
        {"contato": "+55", "conteudo": "Olá!", "tipo": "fax"},
        {"contato": "+55", "conteudo": ""},
        {"contato": "+55", "conteudo": "Olá!", "clienteId": "x"},
        {"contato": "+55", "conteudo": "Olá!", "interna": True},  # a customer never writes a note
        {"contato": "+55", "conteudo": "Olá!", "interna": False},
    ],
)
async def test_canal_corpo_invalido(amb: Ambiente, corpo: dict[str, Any]) -> None:
    antes = await amb.servico.listar_tickets(amb.demo.empresa_id)
    resposta = await amb.cliente.post(
        _canal(amb.demo.canais["whatsapp"]), json=corpo, headers=amb.auth(INTEGRACAO)
    )
    assert_erro(resposta, 422, "PAYLOAD_INVALIDO")
    assert await amb.servico.listar_tickets(amb.demo.empresa_id) == antes
    assert amb.publicador.eventos == []
