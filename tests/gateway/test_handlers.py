"""The gateway's client-event handlers through an in-memory connection (no transport, no node).

The same rules the node tests check against a real socket.io-client (test_eventos_cliente.py,
test_salas_tenant.py), here in milliseconds: the product as ``build_app`` makes it, on a copy of the
demo SQLite database, driven through ``ConexaoEmMemoria``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from atendimento.app import Aplicacao, build_app
from atendimento.config import Settings
from atendimento.engine.socketio.protocol.packets import CONNECT, CONNECT_ERROR
from atendimento.gateway import salas
from atendimento.identity.passwords import Senhas

from .apoio_gateway import PAPEIS, SEGREDO
from .conexao_em_memoria import ConexaoEmMemoria

NS = "/atendimento"


class Mesa:
    """The product built in-process, and a way to open connections to it."""

    def __init__(self, app: Aplicacao, resumo: Any) -> None:
        self.app = app
        self.resumo = resumo

    def token(self, email: str) -> str:
        nome, role = PAPEIS[email]
        empresa = self.resumo.outra_empresa_id if email.endswith("@outra.local") else self.resumo.empresa_id
        return self.app.tokens.emitir(self.resumo.id_de(email), empresa, role, nome)

    async def entrar(self, email: str) -> ConexaoEmMemoria:
        conexao = ConexaoEmMemoria(self.app.server)
        resposta = await conexao.conectar(NS, {"token": self.token(email)})
        assert resposta.type == CONNECT, resposta
        return conexao

    def sids_em(self, sala: str) -> set[str]:
        return {s.sid for s in self.app.gateway.namespace.sockets_in(sala)}


@pytest.fixture
async def mesa(demo_sqlite: Any, tmp_path: Path, senhas_rapidas: Senhas) -> AsyncIterator[Mesa]:
    settings = Settings(  # type: ignore[call-arg]
        database_url=demo_sqlite.banco.app_url, data_dir=tmp_path, jwt_secret=SEGREDO
    )
    app = build_app(settings, storage=demo_sqlite.storage, senhas=senhas_rapidas)
    await app.startup()
    try:
        yield Mesa(app, demo_sqlite.resumo)
    finally:
        app.server.shutdown()
        await app.shutdown()


async def test_sem_token_a_conexao_e_recusada_com_codigo(mesa: Mesa) -> None:
    resposta = await ConexaoEmMemoria(mesa.app.server).conectar(NS, {})
    assert resposta.type == CONNECT_ERROR and resposta.data["data"]["code"]


async def test_atendente_entra_no_ticket_e_sai(mesa: Mesa) -> None:
    ana = await mesa.entrar("ana@demo.local")
    ticket_id = mesa.resumo.tickets[0]
    (ack,) = await ana.emitir(NS, "ticket:entrar", {"ticketId": ticket_id})
    assert ack["success"] is True
    assert len(mesa.sids_em(salas.ticket(mesa.resumo.empresa_id, ticket_id))) == 1
    (ack,) = await ana.emitir(NS, "ticket:sair", {"ticketId": ticket_id})
    assert ack["success"] is True
    assert mesa.sids_em(salas.ticket(mesa.resumo.empresa_id, ticket_id)) == set()


async def test_papel_nao_interno_nao_entra_nem_digita(mesa: Mesa) -> None:
    ticket_id = mesa.resumo.tickets[0]
    for email in ("vendas@demo.local", "integracao@demo.local"):
        conexao = await mesa.entrar(email)
        (ack,) = await conexao.emitir(NS, "ticket:entrar", {"ticketId": ticket_id})
        assert ack["success"] is False and ack["code"] == "PROIBIDO"
        (ack,) = await conexao.emitir(NS, "mensagem:digitando", {"ticketId": ticket_id})
        assert ack["code"] == "FORA_DO_TICKET"
    assert mesa.sids_em(salas.ticket(mesa.resumo.empresa_id, ticket_id)) == set()


async def test_outro_tenant_e_desconhecido_dao_o_mesmo_ack(mesa: Mesa) -> None:
    ana = await mesa.entrar("ana@demo.local")
    (outro,) = await ana.emitir(NS, "ticket:entrar", {"ticketId": mesa.resumo.outra_ticket_id})
    (desconhecido,) = await ana.emitir(NS, "ticket:entrar", {"ticketId": str(uuid.uuid4())})
    assert outro == desconhecido and outro["success"] is False
    for empresa in (mesa.resumo.empresa_id, mesa.resumo.outra_empresa_id):
        assert mesa.sids_em(salas.ticket(empresa, mesa.resumo.outra_ticket_id)) == set()


@pytest.mark.parametrize("args", [[], [None], [42], [{"ticketId": 42}], [{"ticketId": "x" * 500}]])
async def test_payload_invalido_tem_codigo_e_nao_muda_nada(mesa: Mesa, args: list[Any]) -> None:
    ana = await mesa.entrar("ana@demo.local")
    (ack,) = await ana.emitir(NS, "ticket:entrar", *args)
    assert ack["success"] is False and ack["code"] == "PAYLOAD_INVALIDO"
    assert set(ack) == {"success", "error", "code"}


async def test_evento_desconhecido(mesa: Mesa) -> None:
    ana = await mesa.entrar("ana@demo.local")
    (ack,) = await ana.emitir(NS, "nao:existe", {})
    assert ack["success"] is False and ack["code"] == "EVENTO_DESCONHECIDO"


async def test_digitando_chega_aos_outros_da_sala_e_nao_a_quem_digita(mesa: Mesa) -> None:
    ticket_id = mesa.resumo.tickets[0]
    ana = await mesa.entrar("ana@demo.local")
    bruno = await mesa.entrar("bruno@demo.local")
    for conexao in (ana, bruno):
        (ack,) = await conexao.emitir(NS, "ticket:entrar", {"ticketId": ticket_id})
        assert ack["success"] is True
    (ack,) = await ana.emitir(NS, "mensagem:digitando", {"ticketId": ticket_id})
    assert ack["success"] is True
    dados = (await bruno.evento(NS, "mensagem:digitando"))[0]  # then the recovery offset
    assert dados["ticketId"] == ticket_id and dados["usuarioId"] == mesa.resumo.id_de("ana@demo.local")
    assert ana.eventos(NS, "mensagem:digitando") == []


async def test_um_transporte_fechado_deixa_as_salas(mesa: Mesa) -> None:
    ana = await mesa.entrar("ana@demo.local")
    ticket_id = mesa.resumo.tickets[0]
    await ana.emitir(NS, "ticket:entrar", {"ticketId": ticket_id})
    ana.fechar()
    assert mesa.sids_em(salas.ticket(mesa.resumo.empresa_id, ticket_id)) == set()
