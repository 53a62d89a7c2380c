"""SIGTERM on one ``serve`` without Redis: nobody can take its sessions over, so the drain closes the
sockets at once (recoverable, so the clients reconnect by themselves), no wait, and the process ends
by itself with 0 well within the drain window."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest
import websockets
from apoio_instancias import Instancia, ambiente


async def test_sigterm_without_redis_closes_at_once_and_exits_zero(tmp_path: Path) -> None:
    env = ambiente(tmp_path, f"sqlite:///{tmp_path}/atendimento.db", None, ATENDIMENTO_DRAIN_SECONDS="30")
    instancia = Instancia("so", env, tmp_path)
    instancia.subir()
    try:
        await instancia.pronta()
        url = instancia.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        async with websockets.connect(url) as ws:
            assert str(await ws.recv()).startswith("0{")  # the Engine.IO open packet
            inicio = time.monotonic()
            assert instancia.popen is not None
            instancia.popen.send_signal(signal.SIGTERM)
            with pytest.raises(websockets.ConnectionClosed):
                while True:  # pings, then the close
                    await asyncio.wait_for(ws.recv(), 10)
        while instancia.popen.poll() is None:
            assert time.monotonic() - inicio < 15, "serve did not end by itself"
            await asyncio.sleep(0.05)
        assert instancia.popen.returncode == 0
        assert time.monotonic() - inicio < 15  # not the 30 s window: no Redis, nothing to hand over
    finally:
        instancia.parar()
