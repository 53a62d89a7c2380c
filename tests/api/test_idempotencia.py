"""``Idempotency-Key`` on POST …/mensagens and POST /atendimento/tickets (SQLite and PostgreSQL):
a retry answers the first answer and stores and publishes nothing new; another body is a 409; a
concurrent double submit stores one; a flaky connection's retry stores one message and one event."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from apoio_rede import servir_uvicorn
from sqlalchemy import update

from atendimento.api.saidas import MensagemSaida, TicketDetalheSaida
from atendimento.domain.entidades import agora
from atendimento.storage import Storage
from atendimento.storage.retomada import T_CHAVES

from .apoio import Ambiente, assert_erro, assert_ok

ANA = "ana@demo.local"
BRUNO = "bruno@demo.local"
GESTOR = "gestor@demo.local"
BASE = "/atendimento/tickets"


def _url(amb: Ambiente) -> str:
    return f"{BASE}/{amb.demo.tickets[1]}/mensagens"


def _h(amb: Ambiente, email: str, chave: str) -> dict[str, str]:
    return {**amb.auth(email), "Idempotency-Key": chave}


async def _mensagens(amb: Ambiente) -> list[Any]:
    return await amb.servico.listar_mensagens(amb.demo.empresa_id, amb.demo.tickets[1])


async def test_repeticao_devolve_a_primeira_resposta(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    antes = len(await _mensagens(amb))
    primeira = await amb.cliente.post(_url(amb), json={"conteudo": "olá"}, headers=_h(amb, ANA, "k-1"))
    assert_ok(primeira, 201, MensagemSaida)
    amb.publicador.limpar()
    for _ in range(3):
        de_novo = await amb.cliente.post(_url(amb), json={"conteudo": "olá"}, headers=_h(amb, ANA, "k-1"))
        assert de_novo.status_code == 201
        assert de_novo.json() == primeira.json()
    assert len(await _mensagens(amb)) == antes + 1
    assert amb.publicador.eventos == []
    # The same body again without a key, or with another key: a new message each.
    await amb.cliente.post(_url(amb), json={"conteudo": "olá"}, headers=amb.auth(ANA))
    await amb.cliente.post(_url(amb), json={"conteudo": "olá"}, headers=_h(amb, ANA, "k-2"))
    assert len(await _mensagens(amb)) == antes + 3


async def test_mesma_chave_outro_corpo_409(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    await amb.cliente.post(_url(amb), json={"conteudo": "um"}, headers=_h(amb, ANA, "k"))
    antes = len(await _mensagens(amb))
    amb.publicador.limpar()
    resposta = await amb.cliente.post(_url(amb), json={"conteudo": "dois"}, headers=_h(amb, ANA, "k"))
    assert_erro(resposta, 409, "IDEMPOTENCIA_CONFLITO")
    # Another route with the same key is another request too.
    outro_ticket = f"{BASE}/{amb.demo.tickets[0]}/mensagens"
    assert_erro(
        await amb.cliente.post(outro_ticket, json={"conteudo": "um"}, headers=_h(amb, ANA, "k")),
        409,
        "IDEMPOTENCIA_CONFLITO",
    )
    assert len(await _mensagens(amb)) == antes
    assert amb.publicador.eventos == []


async def test_chave_e_de_cada_usuario(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    antes = len(await _mensagens(amb))
    a = await amb.cliente.post(_url(amb), json={"conteudo": "x"}, headers=_h(amb, ANA, "mesma"))
    b = await amb.cliente.post(_url(amb), json={"conteudo": "x"}, headers=_h(amb, BRUNO, "mesma"))
    assert a.status_code == b.status_code == 201
    assert a.json()["data"]["id"] != b.json()["data"]["id"]
    assert b.json()["data"]["remetenteId"] == amb.id(BRUNO)
    assert len(await _mensagens(amb)) == antes + 2


async def test_envio_duplo_simultaneo_grava_uma(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    antes = len(await _mensagens(amb))
    amb.publicador.limpar()
    respostas = await asyncio.gather(
        *(
            amb.cliente.post(_url(amb), json={"conteudo": "duplo"}, headers=_h(amb, ANA, "clique-duplo"))
            for _ in range(5)
        )
    )
    assert {r.status_code for r in respostas} == {201}
    assert len({r.text for r in respostas}) == 1
    assert len(await _mensagens(amb)) == antes + 1
    assert amb.publicador.nomes() == ["mensagem_nova"]


async def test_criar_ticket_idempotente(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    corpo = {
        "clienteId": amb.demo.clientes["Pedro Santos"],
        "canalId": amb.demo.canais["webchat"],
        "filaId": amb.demo.filas["Suporte"],
        "assunto": "Repetido",
    }
    antes = len(await amb.servico.listar_tickets(amb.demo.empresa_id))
    primeira = await amb.cliente.post(BASE, json=corpo, headers=_h(amb, GESTOR, "t-1"))
    criado = assert_ok(primeira, 201, TicketDetalheSaida)
    # The ticket changes afterwards; a retry still answers the first answer, byte for byte.
    await amb.cliente.post(
        f"{BASE}/{criado['id']}/status", json={"status": "fechado"}, headers=amb.auth(GESTOR)
    )
    amb.publicador.limpar()
    de_novo = await amb.cliente.post(BASE, json=corpo, headers=_h(amb, GESTOR, "t-1"))
    assert (de_novo.status_code, de_novo.json()) == (201, primeira.json())
    assert amb.publicador.eventos == []
    assert len(await amb.servico.listar_tickets(amb.demo.empresa_id)) == antes + 1
    assert_erro(
        await amb.cliente.post(BASE, json={**corpo, "assunto": "Outro"}, headers=_h(amb, GESTOR, "t-1")),
        409,
        "IDEMPOTENCIA_CONFLITO",
    )


async def test_escrita_recusada_nao_prende_a_chave(amb: Ambiente) -> None:
    fechado = amb.demo.tickets[3]  # resolvido → fechado, then writes are refused
    await amb.cliente.post(f"{BASE}/{fechado}/status", json={"status": "fechado"}, headers=amb.auth(GESTOR))
    url = f"{BASE}/{fechado}/mensagens"
    assert_erro(
        await amb.cliente.post(url, json={"conteudo": "x"}, headers=_h(amb, ANA, "k")), 409, "TICKET_FECHADO"
    )
    # Nothing was kept: the same key works for a request that succeeds.
    assert_ok(
        await amb.cliente.post(_url(amb), json={"conteudo": "x"}, headers=_h(amb, ANA, "k")),
        201,
        MensagemSaida,
    )


async def test_chave_vencida_vale_como_nova(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    primeira = await amb.cliente.post(_url(amb), json={"conteudo": "velha"}, headers=_h(amb, ANA, "k"))
    antes = len(await _mensagens(amb))
    # 25 hours later (moved back in the database, as the application role, under RLS).
    async with amb.storage.unidade(amb.demo.empresa_id) as repo:
        await repo.conn.execute(update(T_CHAVES).values(criado_em=agora() - timedelta(hours=25)))
    outra = await amb.cliente.post(_url(amb), json={"conteudo": "nova"}, headers=_h(amb, ANA, "k"))
    assert outra.status_code == 201
    assert outra.json()["data"]["id"] != primeira.json()["data"]["id"]
    assert len(await _mensagens(amb)) == antes + 1


@pytest.mark.parametrize("chave", ["", "x" * 201, "com\ttab", "acentuação"])
async def test_chave_invalida_422(amb: Ambiente, chave: str) -> None:
    antes = len(await _mensagens(amb))
    cabecalhos = [
        (b"authorization", f"Bearer {amb.token(ANA)}".encode()),
        (b"idempotency-key", chave.encode()),
    ]
    resposta = await amb.cliente.post(_url(amb), json={"conteudo": "x"}, headers=cabecalhos)
    corpo = assert_erro(resposta, 422, "PAYLOAD_INVALIDO")
    assert "Idempotency-Key" in corpo["error"]
    assert len(await _mensagens(amb)) == antes


async def test_conexao_instavel_grava_uma_mensagem_e_um_evento(amb_ambos: Ambiente, tmp_path: Path) -> None:
    """A real server on a real port. The first POST is sent and its connection dropped before the
    answer is read (a flaky network); the client retries with the same key until it gets an answer."""
    amb = amb_ambos
    antes = len(await _mensagens(amb))
    amb.publicador.limpar()
    corpo = b'{"conteudo":"enviada num trem"}'
    async with servir_uvicorn(amb.aplicacao.asgi) as url:
        host, porta = url.removeprefix("http://").split(":")
        pedido = (
            f"POST {_url(amb)} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {amb.token(ANA)}\r\nIdempotency-Key: trem-1\r\n"
            f"Content-Length: {len(corpo)}\r\n\r\n"
        ).encode() + corpo
        for _ in range(3):  # sent whole, connection gone before the answer
            _, escritor = await asyncio.open_connection(host, int(porta))
            escritor.write(pedido)
            await escritor.drain()
            escritor.close()
        async with httpx.AsyncClient(base_url=url, timeout=10) as cliente:
            resposta = await cliente.post(
                _url(amb),
                content=corpo,
                headers={**_h(amb, ANA, "trem-1"), "Content-Type": "application/json"},
            )
        await asyncio.sleep(0.2)  # let any request still in the server finish
    assert resposta.status_code == 201
    assert len(await _mensagens(amb)) == antes + 1
    assert amb.publicador.nomes() == ["mensagem_nova"]


async def test_chaves_sob_rls(demo_pg: Any) -> None:
    """PostgreSQL: the application role sees only its tenant's keys, and cannot write another's."""
    from sqlalchemy import select, text
    from sqlalchemy.exc import DBAPIError

    from atendimento.domain.idempotencia import Idempotencia

    r = demo_pg.resumo
    s = demo_pg.servico()
    ana = r.id_de("ana@demo.local")
    await s.enviar_mensagem(
        r.empresa_id,
        r.tickets[1],
        remetente_id=ana,
        role="atendente",
        conteudo="x",
        idempotente=Idempotencia(ana, "k"),
    )
    storage: Storage = demo_pg.storage
    async with storage.transacao(r.outra_empresa_id) as conn:
        assert (await conn.execute(select(T_CHAVES))).all() == []
    with pytest.raises(DBAPIError):
        async with storage.transacao(r.outra_empresa_id) as conn:
            await conn.execute(
                text(
                    "INSERT INTO chaves_idempotencia (empresa_id, usuario_id, chave, impressao, resultado, "
                    "criado_em) VALUES (:e, :u, 'k2', 'x', '{}', now())"
                ),
                {"e": r.empresa_id, "u": ana},
            )
