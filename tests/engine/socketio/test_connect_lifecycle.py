"""A connection that drops while the connect handler is still running: the handler's work is undone
by the disconnect handler, like any socket whose connect handler completed."""

from __future__ import annotations

import asyncio

import aiohttp
from apoio_rede import servir_uvicorn

from atendimento.engine import Server, Socket


async def test_on_disconnect_runs_for_a_socket_whose_connection_dropped_during_connect() -> None:
    server = Server(serve_main_namespace=True)
    ns = server.of("/")
    handler_started = asyncio.Event()
    release_handler = asyncio.Event()
    disconnected: asyncio.Queue[tuple[str, str, frozenset[str]]] = asyncio.Queue()

    @ns.on_connect
    async def connect(socket: Socket, auth: object) -> None:
        socket.join("sala")
        handler_started.set()
        await release_handler.wait()

    @ns.on_disconnect
    def disconnect(socket: Socket, reason: str) -> None:
        disconnected.put_nowait((socket.sid, reason, frozenset(ns.adapter.rooms)))

    async with servir_uvicorn(server.asgi()) as url, aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket")
        opened = await ws.receive_str()
        assert opened.startswith("0{")
        await ws.send_str("40")
        await asyncio.wait_for(handler_started.wait(), 5)
        await ws.close()
        async with asyncio.timeout(5):
            # No event to wait on: the engine's session table is the only sign it saw the close.
            while server.engine.sessions:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        release_handler.set()
        sid, reason, rooms_left = await asyncio.wait_for(disconnected.get(), 5)

    assert reason == "transport close"
    assert sid not in ns.sockets
    assert rooms_left == frozenset()  # the room joined while connecting is gone
