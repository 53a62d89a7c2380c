"""The hostile side of the abuse tests: raw Engine.IO over HTTP long-polling or WebSocket (aiohttp).

A hostile client does not use socket.io-client: it writes the bytes it wants. These helpers open a
session, join ``/atendimento`` with a token (or not), and send whatever packets a test chooses; the
innocent side of each test is the real socket.io-client (``ClientesAtendimento``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

NAMESPACE = "/atendimento"


def url_polling(base: str, sid: str | None = None) -> str:
    url = f"{base}/socket.io/?EIO=4&transport=polling"
    return url if sid is None else f"{url}&sid={sid}"


def url_websocket(base: str) -> str:
    return base.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"


def connect_packet(token: str | None, namespace: str = NAMESPACE) -> str:
    auth = {} if token is None else {"token": token}
    prefix = "40" if namespace == "/" else f"40{namespace},"
    return prefix + json.dumps(auth)


class Polling:
    """One long-polling session, spoken raw."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base
        self.sid = ""

    async def abrir(self) -> Polling:
        async with self.http.get(url_polling(self.base)) as resposta:
            assert resposta.status == 200, await resposta.text()
            corpo = await resposta.text()
        self.sid = json.loads(corpo[1:])["sid"]
        return self

    @property
    def url(self) -> str:
        return url_polling(self.base, self.sid)

    async def post(self, corpo: bytes | str) -> tuple[int, str]:
        dados = corpo.encode() if isinstance(corpo, str) else corpo
        async with self.http.post(self.url, data=dados) as resposta:
            return resposta.status, await resposta.text()

    async def get(self) -> tuple[int, str]:
        async with self.http.get(self.url) as resposta:
            return resposta.status, await resposta.text()

    async def entrar(self, token: str | None, namespace: str = NAMESPACE) -> str:
        """Send CONNECT and return the server's answer (``40…`` connected, ``44…`` refused)."""
        status, _ = await self.post(connect_packet(token, namespace))
        assert status == 200
        status, corpo = await self.get()
        assert status == 200
        return corpo


async def medir(passo: Callable[[], Awaitable[Any]]) -> float:
    """Seconds ``passo()`` took (the innocent client's latency)."""
    inicio = time.perf_counter()
    await passo()
    return time.perf_counter() - inicio
