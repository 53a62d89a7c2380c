"""What the engine's interop tests with the real socket.io-client need besides the driver
(``NodeClients``, tests/apoio_node.py): the client options per transport, and the server's side: running
code on its loop (``on_server``) and waiting for its state (``until``).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from atendimento.engine import Socket

from ..conftest import RunningServer

TRANSPORTS: dict[str, dict[str, Any]] = {
    "websocket": {"transports": ["websocket"]},
    "polling": {"transports": ["polling"]},
    "upgrade": {},  # the client's defaults: polling, then the upgrade to WebSocket
}
# Fast automatic reconnection, for the tests that want to see it (or see that it does not happen).
RECONNECTING = {"reconnection": True, "reconnectionDelay": 50, "reconnectionDelayMax": 50}
CARRIED = ("connect", "event", "ack")  # the records that say which transport their packet came on


async def on_server(running: RunningServer, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` on the server's loop (awaiting a coroutine) without blocking this loop."""

    async def run() -> Any:
        result = fn(*args)
        if inspect.isawaitable(result):
            result = await result
        return result

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), running.loop))


def server_socket(running: RunningServer, sid: str, namespace: str = "/") -> Socket:
    """The server's ``Socket`` for ``sid``; only to be used inside functions run by ``on_server``."""
    return running.app.server.namespaces[namespace].sockets[sid]


async def server_disconnect_reason(running: RunningServer, sid: str) -> str:
    return await asyncio.to_thread(running.app.wait_disconnect, sid)


async def until(check: Callable[[], Any], limit: float = 3.0) -> None:
    """Wait for a condition only observable by looking (server state), checking every 20 ms."""
    async with asyncio.timeout(limit):
        while True:
            if await check():
                return
            await asyncio.sleep(0.02)
