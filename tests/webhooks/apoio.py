"""A real webhook receiver for the tests (aiohttp.web on a free port of 127.0.0.1), and the product
with its relay running on a test database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from apoio_rede import porta_livre
from standardwebhooks import Webhook

Comportamento = Callable[[web.Request, dict[str, Any]], Awaitable[web.StreamResponse | None]]


@dataclass
class Recebido:
    cabecalhos: dict[str, str]
    corpo: bytes
    evento: dict[str, Any]
    em: float

    @property
    def id(self) -> str:
        return self.cabecalhos["webhook-id"]


async def _ok(_pedido: web.Request, _evento: dict[str, Any]) -> web.StreamResponse | None:
    return None


@dataclass
class Receptor:
    """Every request is recorded (also those it then fails); ``comportamento`` decides the answer
    (None: 200). ``segredos``: when set, each request must verify with one of them (by the
    ``standardwebhooks`` library, as a receiver would), else the test fails."""

    url: str = ""
    recebidos: list[Recebido] = field(default_factory=list)
    comportamento: Comportamento = _ok
    segredos: list[str] = field(default_factory=list)
    falhas_de_assinatura: int = 0
    _novo: asyncio.Event = field(default_factory=asyncio.Event)

    async def _tratar(self, pedido: web.Request) -> web.StreamResponse:
        corpo = await pedido.read()
        cabecalhos = {k.lower(): v for k, v in pedido.headers.items()}
        evento: dict[str, Any] = json.loads(corpo) if corpo else {}
        if self.segredos:
            for segredo in self.segredos:
                with contextlib.suppress(Exception):
                    evento = Webhook(segredo).verify(corpo, cabecalhos)
                    break
            else:
                self.falhas_de_assinatura += 1
        self.recebidos.append(Recebido(cabecalhos, corpo, evento, time.monotonic()))
        self._novo.set()
        resposta = await self.comportamento(pedido, evento)
        return resposta if resposta is not None else web.Response(status=200, text="ok")

    def ids(self) -> list[str]:
        return [r.id for r in self.recebidos]

    async def esperar(self, condicao: Callable[[], bool], prazo_s: float = 30.0) -> None:
        """Until ``condicao()`` holds (checked at each request and every 50 ms), or fail."""
        limite = time.monotonic() + prazo_s
        while not condicao():
            if time.monotonic() > limite:
                raise AssertionError(f"not met within {prazo_s}s; received {len(self.recebidos)}")
            self._novo.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._novo.wait(), 0.05)


@contextlib.asynccontextmanager
async def receptor(caminho: str = "/hook") -> AsyncIterator[Receptor]:
    r = Receptor()
    app = web.Application()
    app.router.add_post(caminho, r._tratar)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    porta = porta_livre()
    site = web.TCPSite(runner, "127.0.0.1", porta)
    await site.start()
    r.url = f"http://127.0.0.1:{porta}{caminho}"
    try:
        yield r
    finally:
        await runner.cleanup()


def responder(status: int, **cabecalhos: str) -> Comportamento:
    async def comportamento(_p: web.Request, _e: dict[str, Any]) -> web.StreamResponse:
        return web.Response(status=status, headers=cabecalhos)

    return comportamento


def primeiro(n: int, falha: Comportamento) -> Comportamento:
    """``falha`` for the first ``n`` requests, then 200."""
    vistos = [0]

    async def comportamento(p: web.Request, e: dict[str, Any]) -> web.StreamResponse | None:
        vistos[0] += 1
        return await falha(p, e) if vistos[0] <= n else None

    return comportamento


async def derrubar(pedido: web.Request, _e: dict[str, Any]) -> web.StreamResponse:
    """Drop the connection without an answer."""
    assert pedido.transport is not None
    pedido.transport.abort()
    raise ConnectionResetError


def demorar(segundos: float) -> Comportamento:
    async def comportamento(_p: web.Request, _e: dict[str, Any]) -> web.StreamResponse | None:
        await asyncio.sleep(segundos)
        return None

    return comportamento


# Settings for the relay in tests: fractions of a second between attempts, private addresses allowed
# (the receiver is on 127.0.0.1), a short timeout, a short poll.
CONFIG_RAPIDA: dict[str, Any] = {
    "webhook_retry_schedule": [0.05, 0.1, 0.15],
    "webhook_timeout_seconds": 1.0,
    "webhook_allow_private": True,
    "webhook_http_hosts": ["127.0.0.1", "localhost"],
    "webhook_poll_seconds": 0.2,
}


async def ate(condicao: Callable[[], Awaitable[bool]] | Callable[[], bool], prazo_s: float = 15.0) -> None:
    """Until ``condicao()`` (sync or async) holds, checked every 50 ms, or fail."""
    limite = time.monotonic() + prazo_s
    while True:
        valor = condicao()
        if asyncio.iscoroutine(valor):
            valor = await valor
        if valor:
            return
        if time.monotonic() > limite:
            raise AssertionError(f"not met within {prazo_s}s")
        await asyncio.sleep(0.05)
