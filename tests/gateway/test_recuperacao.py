"""Connection state recovery on /atendimento, with socket.io-client 4.8.1 and its default options.

Ana loses her transport; events are published through the REST API while she is away; her client
reconnects by itself and must come back ``recovered``, with her id, her rooms (the server's record)
and every missed event once, in order. The gateway's connect handler runs on every reconnect: an
expired token is refused, and another user's or tenant's pid restores nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from apoio_node import ClientesRecuperacao
from apoio_proxy import proxy_para

from atendimento.gateway.salas import usuario as sala_de_usuario

from .apoio_gateway import Produto
from .conftest import Subir

pytestmark = pytest.mark.node

ANA = "ana@demo.local"


@pytest.fixture
async def nos(produto: Produto, node_instalado: None) -> AsyncIterator[ClientesRecuperacao]:
    clientes = ClientesRecuperacao(produto.url)
    await clientes.iniciar()
    yield clientes
    await clientes.fechar()


async def _conectar(nos: ClientesRecuperacao, cliente: str, token: str, transporte: str, **extra: Any) -> Any:
    # The client's own defaults; only the token (and the transport under test) are set.
    opcoes = {"auth": {"token": token, **extra}, "transports": [transporte]}
    return await nos.conectar(cliente, opcoes=opcoes)


async def _fora(produto: Produto, nos: ClientesRecuperacao, cliente: str, sid: str) -> int:
    inicio = len(nos.registros)
    nos.drop(cliente)
    for _ in range(300):
        if sid not in produto.gateway.namespace.sockets:
            return inicio
        await asyncio.sleep(0.01)
    raise AssertionError("the server kept the socket")


async def _volta(nos: ClientesRecuperacao, cliente: str, desde: int) -> Any:
    return await nos.esperar(
        lambda r: r.get("client") == cliente and r.get("type") in ("connect", "connect_error"),
        desde=desde,
        prazo=10,
    )


def _sem_offset(nos: ClientesRecuperacao, cliente: str, evento: str) -> list[Any]:
    registros = nos.eventos(cliente, evento)
    for r in registros:
        assert len(r["args"]) == 2 and isinstance(r["args"][1], str)  # the payload, then the offset
    return [r["args"][0] for r in registros]


@pytest.mark.parametrize("transporte", ["websocket", "polling"])
async def test_ana_recupera_id_salas_e_os_eventos_perdidos(
    produto: Produto, nos: ClientesRecuperacao, transporte: str
) -> None:
    ticket_id = produto.resumo.tickets[1]
    primeiro = await _conectar(nos, "ana", produto.token(ANA), transporte)
    assert primeiro["type"] == "connect" and primeiro["recovered"] is False
    sid = primeiro["id"]
    assert (await nos.pedir("ana", "ticket:entrar", {"ticketId": ticket_id}))["success"] is True
    salas_antes = produto.gateway.namespace.sockets[sid].rooms

    inicio = await _fora(produto, nos, "ana", sid)
    enviadas = []
    for texto in ("um", "dois", "três"):
        enviadas.append(
            await produto.rest(
                "POST", f"/atendimento/tickets/{ticket_id}/mensagens", "bruno@demo.local", {"conteudo": texto}
            )
        )
    aviso = {"usuarioId": produto.id(ANA), "tipo": "aviso", "mensagem": "só Ana"}
    await produto.rest("POST", "/notificacoes", "admin@demo.local", aviso)

    voltou = await _volta(nos, "ana", inicio)
    assert voltou["type"] == "connect"
    assert voltou["recovered"] is True and voltou["id"] == sid
    assert produto.gateway.namespace.sockets[sid].rooms == salas_antes
    await nos.esperar_evento("ana", "notificacao", desde=inicio)
    assert _sem_offset(nos, "ana", "mensagem:nova") == enviadas
    assert [n["mensagem"] for n in _sem_offset(nos, "ana", "notificacao")] == ["só Ana"]
    # The order across events is the order of publication.
    ordem = [r["event"] for r in nos.eventos("ana") if r["event"] in ("mensagem:nova", "notificacao")]
    assert ordem == ["mensagem:nova"] * 3 + ["notificacao"]

    # Still in the ticket's room: live events after the recovery arrive too.
    marca = len(nos.registros)
    await produto.rest(
        "POST", f"/atendimento/tickets/{ticket_id}/mensagens", "bruno@demo.local", {"conteudo": "quatro"}
    )
    assert (await nos.esperar_evento("ana", "mensagem:nova", desde=marca))["conteudo"] == "quatro"


async def test_token_expirado_na_volta_e_recusado(produto: Produto, nos: ClientesRecuperacao) -> None:
    primeiro = await _conectar(nos, "ana", produto.token(ANA), "websocket")
    inicio = await _fora(produto, nos, "ana", primeiro["id"])
    nos.set_auth("ana", {"token": produto.token(ANA, ttl=-3600)})  # what the client sends next
    voltou = await _volta(nos, "ana", inicio)
    assert voltou["type"] == "connect_error" and voltou["data"] == {"code": "TOKEN_EXPIRADO"}
    assert primeiro["id"] not in produto.gateway.namespace.adapter.sids


@pytest.mark.parametrize("intruso", ["bruno@demo.local", "carla@outra.local"])
async def test_pid_de_outro_usuario_ou_empresa_nao_restaura_nada(
    produto: Produto, nos: ClientesRecuperacao, intruso: str
) -> None:
    ticket_id = produto.resumo.tickets[1]
    # Ana goes through a proxy the test owns, so that she stays away until the intruder has tried.
    async with proxy_para(produto.url) as proxy:
        cortada = await ClientesRecuperacao(proxy.url).iniciar()
        try:
            ana = await _conectar(cortada, "ana", produto.token(ANA), "websocket")
            assert (await cortada.pedir("ana", "ticket:entrar", {"ticketId": ticket_id}))["success"] is True
            inicio = len(cortada.registros)
            proxy.cortar()
            for _ in range(300):
                if ana["id"] not in produto.gateway.namespace.sockets:
                    break
                await asyncio.sleep(0.01)
            await produto.rest(
                "POST",
                f"/atendimento/tickets/{ticket_id}/mensagens",
                "bruno@demo.local",
                {"conteudo": "segredo"},
            )
            # The intruder presents Ana's pid with a valid token of their own.
            outro = await _conectar(nos, "intruso", produto.token(intruso), "websocket", pid=ana["pid"])
            assert outro["type"] == "connect" and outro["recovered"] is False and outro["id"] != ana["id"]
            salas = produto.gateway.namespace.sockets[outro["id"]].rooms
            assert not any(s.startswith("ticket:") for s in salas)
            sala_intruso = sala_de_usuario(produto.empresa_de(intruso), produto.id(intruso))
            assert (
                sala_intruso in salas
                and sala_de_usuario(produto.empresa_de(ANA), produto.id(ANA)) not in salas
            )
            await nos.pedir("intruso", "ticket:sair", {"ticketId": "x"})  # a round trip
            assert nos.eventos("intruso", "mensagem:nova") == []
            # Single use: Ana's own reconnect now finds nothing to restore.
            proxy.religar()
            voltou = await _volta(cortada, "ana", inicio)
            assert voltou["type"] == "connect" and voltou["recovered"] is False
        finally:
            await cortada.fechar()


async def test_pid_forjado_da_uma_conexao_nova(produto: Produto, nos: ClientesRecuperacao) -> None:
    primeiro = await _conectar(nos, "ana", produto.token(ANA), "websocket")
    inicio = await _fora(produto, nos, "ana", primeiro["id"])
    nos.set_auth("ana", {"token": produto.token(ANA), "pid": "forjado" * 3, "offset": "x.1"})
    voltou = await _volta(nos, "ana", inicio)
    assert voltou["type"] == "connect" and voltou["recovered"] is False and voltou["id"] != primeiro["id"]


async def test_janela_vencida_da_uma_conexao_nova(subir: Subir, node_instalado: None) -> None:
    produto = await subir(recovery_window_seconds=0.3)  # the client waits at least 0.5 s
    ticket_id = produto.resumo.tickets[1]
    nos = await ClientesRecuperacao(produto.url).iniciar()
    try:
        primeiro = await _conectar(nos, "ana", produto.token(ANA), "websocket")
        assert (await nos.pedir("ana", "ticket:entrar", {"ticketId": ticket_id}))["success"] is True
        inicio = await _fora(produto, nos, "ana", primeiro["id"])
        await produto.rest(
            "POST", f"/atendimento/tickets/{ticket_id}/mensagens", "bruno@demo.local", {"conteudo": "perdida"}
        )
        voltou = await _volta(nos, "ana", inicio)
        assert voltou["type"] == "connect" and voltou["recovered"] is False
        salas = produto.gateway.namespace.sockets[voltou["id"]].rooms
        assert not any(s.startswith("ticket:") for s in salas)  # a fresh socket: default rooms only
        await nos.pedir("ana", "ticket:sair", {"ticketId": "x"})
        assert nos.eventos("ana", "mensagem:nova") == []  # nothing partial: catch up over REST
    finally:
        await nos.fechar()


async def test_recuperada_volta_a_contar_entre_quem_ve_o_ticket(
    produto: Produto, nos: ClientesRecuperacao
) -> None:
    # Her disconnect took Ana out of "who else is here"; the restored socket is back in the ticket's
    # room with no new ticket:entrar, so the gateway counts her again and Bruno sees her back.
    ticket_id = produto.resumo.tickets[1]
    primeiro = await _conectar(nos, "ana", produto.token(ANA), "websocket")
    assert (await _conectar(nos, "bruno", produto.token("bruno@demo.local"), "websocket"))[
        "type"
    ] == "connect"
    for cliente in ("ana", "bruno"):
        assert (await nos.pedir(cliente, "ticket:entrar", {"ticketId": ticket_id}))["success"] is True

    def nomes(payload: dict[str, Any]) -> list[str]:
        return sorted(u["usuarioId"] for u in payload["usuarios"])

    ana, bruno = produto.id(ANA), produto.id("bruno@demo.local")
    inicio = await _fora(produto, nos, "ana", primeiro["id"])
    saiu = await nos.esperar_evento("bruno", "ticket:visualizando", desde=inicio)
    assert nomes(saiu) == [bruno]
    marca = len(nos.registros)
    voltou = await _volta(nos, "ana", inicio)
    assert voltou["recovered"] is True
    de_volta = await nos.esperar_evento("bruno", "ticket:visualizando", desde=marca)
    assert nomes(de_volta) == sorted([ana, bruno])
