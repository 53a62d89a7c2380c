"""``EngineWebSocketProtocol``: our own protocol class, on public APIs only, under a real uvicorn.

It must import nothing of uvicorn (so no uvicorn upgrade can break it by moving internals), and be
a complete WebSocket server for an ASGI app: handshake (accept, refusal, failure), messages both
ways, fragments, pings, closes from either side and at server shutdown, and the raw transport the
engine writes frames to. The engine over it: tests/engine (interop with socket.io-client included).
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from apoio_rede import porta_livre, servir_config
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from atendimento.engine.engineio import RAW_TRANSPORT_EXTENSION, uvicorn_ws
from atendimento.engine.engineio.uvicorn_ws import EngineWebSocketProtocol


def test_imports_nothing_of_uvicorn() -> None:
    arvore = ast.parse(inspect.getsource(uvicorn_ws))
    nomes = [a.name for n in ast.walk(arvore) if isinstance(n, ast.Import) for a in n.names]
    nomes += [n.module or "" for n in ast.walk(arvore) if isinstance(n, ast.ImportFrom)]
    assert not [n for n in nomes if n.split(".")[0] == "uvicorn"]
    # Nor through another module: importing it in a fresh interpreter loads no uvicorn module.
    carregados = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, atendimento.engine.engineio.uvicorn_ws; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'uvicorn'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert carregados == "[]"


class App:
    """Accepts (or refuses, or fails) and echoes; records what it saw."""

    def __init__(self) -> None:
        self.escopos: list[dict[str, Any]] = []
        self.desconexoes: list[dict[str, Any]] = []
        self.desconectou = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "websocket"
        self.escopos.append(scope)
        assert (await receive())["type"] == "websocket.connect"
        if scope["path"] == "/recusa":
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["path"] == "/falha":
            raise RuntimeError("boom")
        await send({"type": "websocket.accept", "headers": [(b"x-teste", b"1")]})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.desconexoes.append(message)
                self.desconectou.set()
                return
            if message.get("text") == "feche":
                await send({"type": "websocket.close", "code": 4000, "reason": "pedido"})
                continue
            if message.get("text") == "cru":
                # What the engine does: whole frames straight to the socket.
                cru = scope["extensions"][RAW_TRANSPORT_EXTENSION]["transport"]
                cru.write(b"\x81\x03cru")
                continue
            await send(
                {"type": "websocket.send", **{k: v for k, v in message.items() if k in ("text", "bytes")}}
            )


@pytest.fixture
async def servidor() -> AsyncIterator[tuple[str, App, uvicorn.Server]]:
    app = App()
    # uvicorn's defaults (permessage-deflate on, its own pings): the class ignores both.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=porta_livre(), ws=EngineWebSocketProtocol, lifespan="off"
    )
    async with servir_config(config) as url:
        yield url.replace("http", "ws"), app, config  # type: ignore[misc]


async def test_messages_both_ways_and_the_raw_transport(servidor: tuple[str, App, Any]) -> None:
    url, app, _ = servidor
    async with connect(url + "/eco?x=1", compression="deflate", subprotocols=None) as ws:
        assert ws.response.headers["x-teste"] == "1"
        assert "Sec-WebSocket-Extensions" not in ws.response.headers  # never negotiated
        await ws.send("olá")
        assert await ws.recv() == "olá"
        await ws.send(b"\x00\x01")
        assert await ws.recv() == b"\x00\x01"
        await ws.send(["frag", "mentada"])  # a fragmented message arrives whole
        assert await ws.recv() == "fragmentada"
        await ws.send("cru")
        assert await ws.recv() == "cru"
        await asyncio.wait_for(ws.ping(), 5)  # answered by websockets' pong
    escopo = app.escopos[0]
    assert escopo["path"] == "/eco" and escopo["query_string"] == b"x=1"
    assert escopo["client"][0] == "127.0.0.1" and escopo["scheme"] == "ws"
    assert all(nome == nome.lower() for nome, _ in escopo["headers"])
    await asyncio.wait_for(app.desconectou.wait(), 5)
    assert app.desconexoes[0]["code"] == 1000


async def test_refusal_and_failure_before_accept(servidor: tuple[str, App, Any]) -> None:
    url, _, _ = servidor
    with pytest.raises(InvalidStatus) as recusa:
        async with connect(url + "/recusa"):
            pass
    assert recusa.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as falha:
        async with connect(url + "/falha"):
            pass
    assert falha.value.response.status_code == 500


async def test_closes_from_the_app_and_on_bad_input(servidor: tuple[str, App, Any]) -> None:
    url, _, _ = servidor
    async with connect(url + "/eco") as ws:
        await ws.send("feche")
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 4000 and ws.close_reason == "pedido"
    async with connect(url + "/eco") as ws:
        # Invalid UTF-8 in a text frame (masked, as a client must): the connection is failed with 1007.
        mascara = b"\x01\x02\x03\x04"
        carga = bytes(b ^ mascara[i % 4] for i, b in enumerate(b"\xff\xfe"))
        ws.transport.write(b"\x81\x82" + mascara + carga)
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 1007


async def test_server_shutdown_closes_with_1012() -> None:
    app = App()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=porta_livre(), ws=EngineWebSocketProtocol, lifespan="off"
    )
    servidor = uvicorn.Server(config)
    tarefa = asyncio.create_task(servidor.serve())
    try:
        for _ in range(1000):  # up to 10 s
            if servidor.started:
                break
            await asyncio.sleep(0.01)
        async with connect(f"ws://127.0.0.1:{config.port}/eco") as ws:
            await ws.send("oi")
            assert await ws.recv() == "oi"
            servidor.should_exit = True
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            assert ws.close_code == 1012
    finally:
        servidor.should_exit = True
        await asyncio.wait_for(tarefa, 10)
    assert app.desconexoes and app.desconexoes[0]["code"] == 1012
