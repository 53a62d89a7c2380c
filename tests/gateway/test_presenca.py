"""Presence on the real server: first and last socket across tabs, the REST view, a handshake cut short."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from apoio_node import ClientesAtendimento

from atendimento.gateway.presenca import Atendente, PresencaLocal

from .apoio_gateway import GRACE_TESTES, Produto

pytestmark = pytest.mark.node  # the real socket.io-client, run by node


async def _online(produto: Produto) -> set[str]:
    atendentes = await produto.rest("GET", "/atendimento/atendentes", "gestor@demo.local")
    return {a["id"] for a in atendentes if a["online"]}


async def test_varias_abas_um_online_e_um_offline(produto: Produto, clientes: ClientesAtendimento) -> None:
    ana_id = produto.id("ana@demo.local")
    await clientes.conectar("bruno", produto.token("bruno@demo.local"))
    assert await _online(produto) == {produto.id("bruno@demo.local")}

    marca = len(clientes.registros)
    await clientes.conectar("aba1", produto.token("ana@demo.local"))
    await clientes.conectar("aba2", produto.token("ana@demo.local"))
    await clientes.esperar_evento("bruno", "atendente:online", desde=marca)
    assert ana_id in await _online(produto)

    await clientes.desconectar("aba1")
    await asyncio.sleep(GRACE_TESTES + 0.3)
    assert ana_id in await _online(produto)  # one tab is still open
    marca_saida = len(clientes.registros)
    await clientes.desconectar("aba2")
    offline = await clientes.esperar_evento("bruno", "atendente:offline", desde=marca_saida)
    assert offline["atendenteId"] == ana_id
    assert ana_id not in await _online(produto)

    do_bruno = [p["atendenteId"] for p in clientes.payloads("bruno", "atendente:online")]
    assert do_bruno.count(ana_id) == 1
    assert [p["atendenteId"] for p in clientes.payloads("bruno", "atendente:offline")] == [ana_id]


class PresencaLenta(PresencaLocal):
    """Counting a socket takes a while, as it may with Redis: the handshake can be cut meanwhile."""

    def __init__(self, grace_seconds: float) -> None:
        super().__init__(grace_seconds)
        self.contando = asyncio.Event()

    async def conectou(self, atendente: Atendente, sid: str) -> None:
        await super().conectou(atendente, sid)
        self.contando.set()
        await asyncio.sleep(0.3)


async def test_conexao_cortada_durante_o_handshake_nao_deixa_presenca(subir: Any) -> None:
    presenca = PresencaLenta(0.1)
    produto: Produto = await subir(presenca=presenca)
    url = produto.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(url) as ws:
        assert str(await ws.recv()).startswith("0")  # Engine.IO open
        await ws.send("40/atendimento," + json.dumps({"token": produto.token("ana@demo.local")}))
        await asyncio.wait_for(presenca.contando.wait(), 5)
    # The socket was counted, then its connection closed before the connect handler finished.
    await asyncio.sleep(0.3 + 0.1 + 0.3)
    assert await presenca.online(produto.resumo.empresa_id) == set()
    assert len(produto.gateway.expiracoes) == 0
    assert produto.gateway.namespace.sockets == {}
