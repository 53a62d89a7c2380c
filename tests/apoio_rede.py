"""Test support shared by every folder: free ports and the product served by uvicorn on the test's loop.

uvicorn runs as a task of the test's own event loop (not a thread or a process), with the engine's
WebSocket protocol class as in production, so a test can look at rooms, presence and timers directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

from atendimento.engine.engineio.uvicorn_ws import EngineWebSocketProtocol


def porta_livre() -> int:
    with socket.socket() as sonda:
        sonda.bind(("127.0.0.1", 0))
        return int(sonda.getsockname()[1])


@contextlib.asynccontextmanager
async def servir_uvicorn(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1 and yield its base URL."""
    porta = porta_livre()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=porta,
        ws=EngineWebSocketProtocol,
        ws_per_message_deflate=False,
        log_level="warning",
        lifespan="off",
    )
    async with servir_config(config) as url:
        yield url


@contextlib.asynccontextmanager
async def servir_config(config: uvicorn.Config) -> AsyncIterator[str]:
    """Run uvicorn with ``config`` on the test's loop until the block ends; yield its base URL."""
    servidor = uvicorn.Server(config)
    # Signals stay with pytest: uvicorn would otherwise take SIGINT for itself while it runs.
    servidor.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    tarefa = asyncio.create_task(servidor.serve())
    try:
        async with asyncio.timeout(10):
            while not servidor.started:
                if tarefa.done():
                    tarefa.result()
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{config.port}"
    finally:
        servidor.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(tarefa, 10)
