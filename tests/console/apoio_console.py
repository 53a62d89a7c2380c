"""Helpers of the console tests: a server that can stop and start again on the same port, logging in
through the page, and a python-socketio client as "another agent's" program."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import socketio
import uvicorn
from apoio_rede import porta_livre
from playwright.async_api import Page, expect

from atendimento.app import Aplicacao
from atendimento.engine.engineio.uvicorn_ws import EngineWebSocketProtocol


class ServidorReiniciavel:
    """uvicorn on the test's loop, on one port for its whole life: ``parar`` then ``iniciar`` is a
    server restart as a browser sees it (connections refused in between)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.porta = porta_livre()
        self._servidor: uvicorn.Server | None = None
        self._tarefa: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.porta}"

    async def iniciar(self) -> None:
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.porta,
            ws=EngineWebSocketProtocol,
            ws_per_message_deflate=False,
            log_level="warning",
            lifespan="off",
        )
        self._servidor = uvicorn.Server(config)
        self._servidor.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        self._tarefa = asyncio.create_task(self._servidor.serve())
        async with asyncio.timeout(10):
            while not self._servidor.started:
                if self._tarefa.done():
                    self._tarefa.result()
                await asyncio.sleep(0.01)

    async def parar(self, app: Aplicacao) -> None:
        # Sockets first (as the product's shutdown does), so pending long-polls do not hold uvicorn.
        app.server.shutdown()
        if self._servidor is not None and self._tarefa is not None:
            self._servidor.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._tarefa, 15)
        self._servidor = None
        self._tarefa = None


async def entrar(pagina: Page, url: str, email: str, senha: str = "demo-senha") -> None:
    """Log in through the form, by keyboard, and wait for the queue."""
    await pagina.goto(url + "/")
    await pagina.get_by_label("E-mail").fill(email)
    await pagina.get_by_label("Senha").fill(senha)
    await pagina.get_by_label("Senha").press("Enter")
    await expect(pagina.get_by_role("heading", name="Fila")).to_be_visible()


class OutroCliente:
    """python-socketio's AsyncClient on /atendimento, recording every event."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.eventos: list[tuple[str, Any]] = []

        @self.sio.on("*", namespace="/atendimento")
        async def qualquer(evento: str, *args: Any) -> None:
            # With connection state recovery on, a room broadcast carries an offset as its last argument.
            self.eventos.append((evento, args[0] if args else None))

    async def conectar(self, url: str, token: str) -> OutroCliente:
        await self.sio.connect(
            url, namespaces=["/atendimento"], auth={"token": token}, transports=["websocket"], wait_timeout=5
        )
        return self

    async def pedir(self, evento: str, dados: Any) -> Any:
        return await self.sio.call(evento, dados, namespace="/atendimento", timeout=5)

    def de(self, evento: str) -> list[Any]:
        return [d for e, d in self.eventos if e == evento]

    async def esperar(self, evento: str, condicao: Any = None, prazo: float = 10) -> Any:
        limite = asyncio.get_running_loop().time() + prazo
        while True:
            for dados in self.de(evento):
                if condicao is None or condicao(dados):
                    return dados
            if asyncio.get_running_loop().time() > limite:
                raise AssertionError(f"no {evento} in time; got {self.eventos}")
            await asyncio.sleep(0.05)

    async def fechar(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()
