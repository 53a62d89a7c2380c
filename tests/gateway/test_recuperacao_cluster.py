"""Connection state recovery on /atendimento across two instances of the product sharing a Redis.

Ana's socket.io-client (4.8.1, default options) reaches instance A through a TCP proxy the test owns;
she loses her transport, messages are published through the REST API of both instances, and her
reconnect lands on instance B. The gateway's connect handler runs on B: her identity travelled with
the session (as JSON) and is checked against her token there, so she recovers; an expired token is
refused, and another user's token restores nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from apoio_node import ClientesRecuperacao
from apoio_proxy import ProxyTcp, proxy_para
from cluster.apoio_cluster import RedisProprio, ate

from atendimento.cluster.wiring import build_cluster
from atendimento.config import Settings

from .apoio_gateway import Produto
from .conftest import Subir
from .test_recuperacao import ANA, _conectar, _sem_offset

pytestmark = pytest.mark.node


@dataclass
class Dois:
    a: Produto
    b: Produto
    proxy: ProxyTcp
    nos: ClientesRecuperacao

    async def fora(self, sid: str) -> int:
        inicio = len(self.nos.registros)
        self.proxy.cortar()
        await ate(lambda: sid not in self.a.gateway.namespace.sockets, prazo=5)
        await asyncio.sleep(0.1)  # the home registers the pid in Redis (not awaited by the disconnect)
        return inicio

    async def volta(self, desde: int) -> dict[str, object]:
        # A reconnect attempt while the proxy is still cut is a connect_error without data (the
        # transport failed); only the server's answer counts here: a connect, or a refusal with data.
        return await self.nos.esperar(
            lambda r: (
                r.get("client") == "ana"
                and (
                    r.get("type") == "connect"
                    or (r.get("type") == "connect_error" and r.get("data") is not None)
                )
            ),
            desde=desde,
            prazo=15,
        )


@pytest.fixture
async def dois(subir: Subir, node_instalado: None) -> AsyncIterator[Dois]:
    redis_proprio = RedisProprio()
    redis_proprio.iniciar()
    try:
        async with contextlib.AsyncExitStack() as pilha:
            produtos = []
            for nome in ("gw-a", "gw-b"):
                produto = await subir()
                settings = Settings(redis_url=redis_proprio.url)  # type: ignore[call-arg]
                cluster = build_cluster(produto.server, settings, instancia=nome, batimento_s=0.2)
                await cluster.start()
                pilha.push_async_callback(cluster.stop)
                produtos.append((produto, cluster))
            await ate(lambda: all(c.disponivel for _, c in produtos), prazo=10)
            a, b = produtos[0][0], produtos[1][0]
            proxy = await pilha.enter_async_context(proxy_para(a.url))
            nos = ClientesRecuperacao(proxy.url)
            await nos.iniciar()
            pilha.push_async_callback(nos.fechar)
            yield Dois(a, b, proxy, nos)
    finally:
        redis_proprio.encerrar()


async def test_ana_recupera_em_outra_instancia(dois: Dois) -> None:
    a, b, nos = dois.a, dois.b, dois.nos
    ticket_id = a.resumo.tickets[1]
    primeiro = await _conectar(nos, "ana", a.token(ANA), "websocket")
    sid = primeiro["id"]
    assert (await nos.pedir("ana", "ticket:entrar", {"ticketId": ticket_id}))["success"] is True
    salas_antes = a.gateway.namespace.sockets[sid].rooms
    inicio = await dois.fora(sid)
    enviadas = []
    for produto, texto in ((a, "um"), (b, "dois"), (a, "três")):
        caminho = f"/atendimento/tickets/{ticket_id}/mensagens"
        enviadas.append(await produto.rest("POST", caminho, "bruno@demo.local", {"conteudo": texto}))
        await asyncio.sleep(0.05)  # one Redis hop: the order A delivers in is the order published
    dois.proxy.religar(b.url)
    voltou = await dois.volta(inicio)
    assert voltou["type"] == "connect" and voltou["recovered"] is True and voltou["id"] == sid, voltou
    assert b.gateway.namespace.sockets[sid].rooms == salas_antes
    await ate(lambda: len(nos.eventos("ana", "mensagem:nova")) == 3, prazo=5)
    assert _sem_offset(nos, "ana", "mensagem:nova") == enviadas
    # Live on B afterwards, published on A.
    marca = len(nos.registros)
    await a.rest("POST", f"/atendimento/tickets/{ticket_id}/mensagens", "bruno@demo.local", {"conteudo": "4"})
    assert (await nos.esperar_evento("ana", "mensagem:nova", desde=marca))["conteudo"] == "4"


async def test_token_expirado_na_volta_em_outra_instancia_e_recusado(dois: Dois) -> None:
    a, b, nos = dois.a, dois.b, dois.nos
    primeiro = await _conectar(nos, "ana", a.token(ANA), "websocket")
    inicio = await dois.fora(primeiro["id"])
    nos.set_auth("ana", {"token": a.token(ANA, ttl=-3600)})
    dois.proxy.religar(b.url)
    voltou = await dois.volta(inicio)
    assert voltou["type"] == "connect_error" and voltou["data"] == {"code": "TOKEN_EXPIRADO"}
    assert primeiro["id"] not in b.gateway.namespace.adapter.sids
    assert primeiro["id"] not in b.gateway.namespace.sockets


async def test_token_de_outro_usuario_em_outra_instancia_nao_restaura_nada(dois: Dois) -> None:
    a, b, nos = dois.a, dois.b, dois.nos
    ticket_id = a.resumo.tickets[1]
    primeiro = await _conectar(nos, "ana", a.token(ANA), "websocket")
    assert (await nos.pedir("ana", "ticket:entrar", {"ticketId": ticket_id}))["success"] is True
    inicio = await dois.fora(primeiro["id"])
    await a.rest("POST", f"/atendimento/tickets/{ticket_id}/mensagens", "bruno@demo.local", {"conteudo": "x"})
    nos.set_auth("ana", {"token": a.token("bruno@demo.local")})  # the pid is still Ana's
    dois.proxy.religar(b.url)
    voltou = await dois.volta(inicio)
    assert voltou["type"] == "connect" and voltou["recovered"] is False and voltou["id"] != primeiro["id"]
    salas = b.gateway.namespace.sockets[voltou["id"]].rooms
    assert not any(s.startswith("ticket:") for s in salas) and f"user:{a.id(ANA)}" not in salas
    await asyncio.sleep(0.3)
    assert nos.eventos("ana", "mensagem:nova") == []
