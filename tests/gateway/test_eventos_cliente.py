"""Client → server events against the real server: rules, coded acks, payload checks, the typing limit."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import socketio
from apoio_node import ClientesAtendimento

from atendimento.gateway import salas

from .apoio_gateway import Produto

pytestmark = pytest.mark.node  # the real socket.io-client, run by node


def _socket_de(produto: Produto, email: str) -> Any:
    sala = salas.usuario(produto.empresa_de(email), produto.id(email))
    (socket,) = produto.gateway.namespace.sockets_in(sala)
    return socket


async def test_papel_nao_interno_nao_entra_no_ticket(produto: Produto, clientes: ClientesAtendimento) -> None:
    ticket_id = produto.resumo.tickets[0]
    for nome, email in (("vendas", "vendas@demo.local"), ("integracao", "integracao@demo.local")):
        assert (await clientes.conectar(nome, produto.token(email)))["type"] == "connect"
        ack = await clientes.pedir(nome, "ticket:entrar", {"ticketId": ticket_id})
        assert ack["success"] is False and ack["code"] == "PROIBIDO" and ack["error"]
        # Not in the room, so typing is refused too and reaches nobody.
        ack = await clientes.pedir(nome, "mensagem:digitando", {"ticketId": ticket_id})
        assert ack["code"] == "FORA_DO_TICKET"
    assert produto.sids_em(salas.ticket(produto.resumo.empresa_id, ticket_id)) == set()


async def test_ticket_de_outro_tenant_e_ticket_desconhecido_dao_o_mesmo_ack(
    produto: Produto, clientes: ClientesAtendimento
) -> None:
    await clientes.conectar("ana", produto.token("ana@demo.local"))
    outro_tenant = await clientes.pedir("ana", "ticket:entrar", {"ticketId": produto.resumo.outra_ticket_id})
    desconhecido = await clientes.pedir("ana", "ticket:entrar", {"ticketId": str(uuid.uuid4())})
    assert outro_tenant == desconhecido
    assert set(outro_tenant) == {"success", "error", "code"} and outro_tenant["success"] is False
    # A forged tenant in the payload changes nothing: the tenant is the token's.
    forjado = await clientes.pedir(
        "ana",
        "ticket:entrar",
        {"ticketId": produto.resumo.outra_ticket_id, "empresaId": produto.resumo.outra_empresa_id},
    )
    assert forjado == desconhecido
    for empresa in (produto.resumo.empresa_id, produto.resumo.outra_empresa_id):
        assert produto.sids_em(salas.ticket(empresa, produto.resumo.outra_ticket_id)) == set()


PAYLOADS_INVALIDOS: list[tuple[str, list[Any]]] = [
    ("ticket:entrar", []),
    ("ticket:entrar", [None]),
    ("ticket:entrar", ["550e8400-e29b-41d4-a716-446655440000"]),
    ("ticket:entrar", [42]),
    ("ticket:entrar", [["t"]]),
    ("ticket:entrar", [{}]),
    ("ticket:entrar", [{"ticketId": 1}]),
    ("ticket:entrar", [{"ticketId": ""}]),
    ("ticket:entrar", [{"ticketId": "x" * 65}]),
    ("ticket:entrar", [{"ticketId": {"$ne": ""}}]),
    ("ticket:entrar", [{"ticketId": ["a", "b"]}]),
    ("ticket:entrar", [{"ticketId": "a b"}]),
    ("ticket:entrar", [{"ticketId": "TICKET", "lixo": "x" * 20_000}]),
    ("ticket:entrar", [{"ticketId": "TICKET"}, {"ticketId": "TICKET"}]),
    ("ticket:sair", [{"ticketId": None}]),
    ("ticket:sair", ["TICKET"]),
    ("mensagem:digitando", [{"ticketId": "x" * 1000}]),
    ("mensagem:digitando", [{"ticket": "TICKET"}]),
    ("mensagem:digitando", [True]),
    ("atendente:status", [{"status": "dormindo"}]),
    ("atendente:status", [{"status": "ONLINE"}]),
    ("atendente:status", [{"status": None}]),
    ("atendente:status", ["online"]),
    ("atendente:status", [{}]),
]


async def test_payload_invalido_nao_muda_nada(produto: Produto, clientes: ClientesAtendimento) -> None:
    ticket_id = produto.resumo.tickets[0]
    await clientes.conectar("ana", produto.token("ana@demo.local"))
    await clientes.conectar("bruno", produto.token("bruno@demo.local"))
    assert (await clientes.pedir("bruno", "ticket:entrar", {"ticketId": ticket_id}))["success"]
    ana = _socket_de(produto, "ana@demo.local")
    salas_antes = ana.rooms

    for evento, args in PAYLOADS_INVALIDOS:
        ack = await clientes.pedir("ana", evento, *[_trocar(a, ticket_id) for a in args])
        assert ack["success"] is False and ack["code"] == "PAYLOAD_INVALIDO" and ack["error"], (evento, args)
        assert ana.rooms == salas_antes, (evento, args)

    await clientes.pedir("bruno", "ticket:sair", {"ticketId": "barreira"})
    assert clientes.eventos("bruno", "mensagem:digitando") == []
    assert clientes.eventos("bruno", "atendente:status") == []
    atendentes = await produto.rest("GET", "/atendimento/atendentes", "gestor@demo.local")
    assert {a["statusAtendimento"] for a in atendentes} == {"offline"}
    # The connection is still fine after all that.
    assert (await clientes.pedir("ana", "ticket:entrar", {"ticketId": ticket_id}))["success"]


def _trocar(valor: Any, ticket_id: str) -> Any:
    if isinstance(valor, dict):
        return {k: _trocar(v, ticket_id) for k, v in valor.items()}
    return ticket_id if valor == "TICKET" else valor


async def test_evento_desconhecido(produto: Produto, clientes: ClientesAtendimento) -> None:
    await clientes.conectar("ana", produto.token("ana@demo.local"))
    for evento in ("ticket:apagar", "join", "mensagem:nova", "admin:kick"):
        ack = await clientes.pedir("ana", evento, {"ticketId": produto.resumo.tickets[0]})
        assert ack == {"success": False, "error": ack["error"], "code": "EVENTO_DESCONHECIDO"}
    # Without an ack the event is simply ignored, and the connection goes on.
    clientes.emitir("ana", "qualquer:coisa", {"x": 1})
    assert (await clientes.pedir("ana", "ticket:sair", {"ticketId": "t"}))["success"] is True


async def test_digitando_para_no_decimo_por_minuto(produto: Produto, clientes: ClientesAtendimento) -> None:
    ticket_id = produto.resumo.tickets[1]
    await clientes.conectar("ana", produto.token("ana@demo.local"))
    await clientes.conectar("bruno", produto.token("bruno@demo.local"))
    for quem in ("ana", "bruno"):
        assert (await clientes.pedir(quem, "ticket:entrar", {"ticketId": ticket_id}))["success"]

    acks = [await clientes.pedir("ana", "mensagem:digitando", {"ticketId": ticket_id}) for _ in range(15)]
    assert all(a == {"success": True, "ticketId": ticket_id} for a in acks[:10])
    for ack in acks[10:]:
        assert ack["success"] is False and ack["code"] == "LIMITE_EXCEDIDO" and ack["error"]
        assert isinstance(ack["retryAfterMs"], int) and 0 < ack["retryAfterMs"] <= 60_000
    await clientes.pedir("bruno", "ticket:sair", {"ticketId": "barreira"})
    assert len(clientes.eventos("bruno", "mensagem:digitando")) == 10
    # Bruno's own budget is separate.
    assert (await clientes.pedir("bruno", "mensagem:digitando", {"ticketId": ticket_id}))["success"]


async def test_atendente_status(produto: Produto, clientes: ClientesAtendimento) -> None:
    await clientes.conectar("bruno", produto.token("bruno@demo.local"))
    await clientes.conectar("gestor", produto.token("gestor@demo.local"))
    await clientes.conectar("ana", produto.token("ana@demo.local"))
    marca = len(clientes.registros)
    assert await clientes.pedir("bruno", "atendente:status", {"status": "ocupado"}) == {
        "success": True,
        "status": "ocupado",
    }
    evento = await clientes.esperar_evento("ana", "atendente:status", desde=marca)
    assert evento["atendenteId"] == produto.id("bruno@demo.local") and evento["status"] == "ocupado"
    atendentes = await produto.rest("GET", "/atendimento/atendentes", "gestor@demo.local")
    bruno = next(a for a in atendentes if a["id"] == produto.id("bruno@demo.local"))
    assert bruno["statusAtendimento"] == "ocupado" and bruno["online"] is True

    # Only atendentes have a status; the gestor is refused and nothing is emitted.
    ack = await clientes.pedir("gestor", "atendente:status", {"status": "online"})
    assert ack["success"] is False and ack["code"] == "PROIBIDO"
    await clientes.pedir("ana", "ticket:sair", {"ticketId": "barreira"})
    assert len(clientes.eventos("ana", "atendente:status")) == 1


async def test_cliente_python_socketio(produto: Produto, clientes: ClientesAtendimento) -> None:
    """python-socketio's AsyncClient as a second, independent client implementation."""
    ticket_id = produto.resumo.tickets[1]
    recebidos: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    sio = socketio.AsyncClient(reconnection=False)

    @sio.on("*", namespace="/atendimento")
    async def qualquer(evento: str, dados: Any, *offset: Any) -> None:  # a broadcast ends with its offset
        await recebidos.put((evento, dados))

    await sio.connect(
        produto.url,
        namespaces=["/atendimento"],
        auth={"token": produto.token("gestor@demo.local")},
        transports=["websocket"],
        wait_timeout=5,
    )
    try:
        ack = await sio.call("ticket:entrar", {"ticketId": ticket_id}, namespace="/atendimento", timeout=5)
        assert ack == {"success": True, "ticketId": ticket_id}
        await clientes.conectar("ana", produto.token("ana@demo.local"))
        assert (await clientes.pedir("ana", "ticket:entrar", {"ticketId": ticket_id}))["success"]
        clientes.emitir("ana", "mensagem:digitando", {"ticketId": ticket_id})
        evento, dados = await asyncio.wait_for(recebidos.get(), 5)
        while evento == "ticket:visualizando":  # Ana's entrar announced her first
            evento, dados = await asyncio.wait_for(recebidos.get(), 5)
        assert evento == "mensagem:digitando" and dados["usuarioNome"] == "Ana Souza"
        ack = await sio.call("nao:existe", {}, namespace="/atendimento", timeout=5)
        assert ack["code"] == "EVENTO_DESCONHECIDO"
    finally:
        await sio.disconnect()
