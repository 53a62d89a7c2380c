"""Helpers of the cluster tests: a redis-server the test owns, and waiting for a condition."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import Any

import socketio
from apoio_node import ClientesRecuperacao
from apoio_proxy import ProxyTcp
from apoio_rede import porta_livre, servir_uvicorn

REDIS_URL = os.environ.get("ATENDIMENTO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class RedisProprio:
    """A throwaway redis-server (no persistence) on a free port; ``matar`` and ``iniciar`` again
    keep the port, as a Redis restarted by its supervisor would."""

    def __init__(self) -> None:
        self.porta = porta_livre()
        self._pasta = tempfile.mkdtemp(prefix="redis-cluster-teste-")
        self._processo: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.porta}/0"

    def iniciar(self) -> None:
        binario = shutil.which("redis-server")
        assert binario, "redis-server is not on PATH"
        self._processo = subprocess.Popen(
            [
                binario,
                "--port",
                str(self.porta),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._pasta,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        limite = time.monotonic() + 10
        while time.monotonic() < limite:
            try:
                with socket.create_connection(("127.0.0.1", self.porta), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.porta}")

    def matar(self) -> None:
        if self._processo is not None and self._processo.poll() is None:
            self._processo.kill()
            self._processo.wait(5)
        self._processo = None

    def encerrar(self) -> None:
        """Kill it for good and remove its folder."""
        self.matar()
        shutil.rmtree(self._pasta, ignore_errors=True)


async def ate(condicao: Callable[[], bool], prazo: float = 5.0, passo: float = 0.02) -> None:
    """Wait until ``condicao()`` holds; fail the test (AssertionError) after ``prazo`` seconds."""
    limite = time.monotonic() + prazo
    while not condicao():
        if time.monotonic() > limite:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(passo)


# --- engine servers on real ports, in this process -------------------------------------------------


servir = servir_uvicorn  # the cluster tests' name for it


class Caixa:
    """What one client received: ``eventos`` in order, as (event, args)."""

    def __init__(self) -> None:
        self.eventos: list[tuple[str, tuple[Any, ...]]] = []
        self.desconectado = asyncio.Event()

    def de(self, evento: str) -> list[tuple[Any, ...]]:
        return [args for nome, args in self.eventos if nome == evento]


class Clientes:
    """python-socketio clients (the reference client), closed at the end of the test."""

    def __init__(self) -> None:
        self._abertos: list[socketio.AsyncClient] = []

    async def conectar(
        self,
        url: str,
        namespace: str,
        auth: dict[str, Any] | None = None,
        transports: list[str] | None = None,
    ) -> tuple[socketio.AsyncClient, Caixa]:
        cliente = socketio.AsyncClient(reconnection=False)
        caixa = Caixa()

        async def qualquer(evento: str, *args: Any) -> None:
            caixa.eventos.append((evento, args))

        async def saiu(*_: Any) -> None:
            caixa.desconectado.set()

        cliente.on("*", qualquer, namespace=namespace)
        cliente.on("disconnect", saiu, namespace=namespace)
        await cliente.connect(
            url,
            namespaces=[namespace],
            auth=auth or {},
            transports=transports or ["websocket"],
            wait_timeout=5,
        )
        self._abertos.append(cliente)
        return cliente, caixa

    async def fechar(self) -> None:
        for cliente in self._abertos:
            with contextlib.suppress(Exception):
                await cliente.disconnect()


NS = "/atendimento"


class AnaPeloProxy:
    """For a recovery test's set-up that holds ``proxy`` (a TCP proxy the test owns, in front of the
    instance Ana's socket.io-client reaches) and ``clientes`` (the node driver with ``ana`` in it):
    what every such test does with Ana. A mixin of a dataclass, whose own fields provide both."""

    proxy: ProxyTcp
    clientes: ClientesRecuperacao

    async def conectar(self, transporte: str) -> dict[str, Any]:
        return await self.clientes.conectar("ana", opcoes={"transports": [transporte]}, namespace=NS)

    async def _cortar_ate(self, saiu: Callable[[], bool]) -> int:
        """Cut the proxy (Ana's client reconnects by itself), wait until the server agrees she is
        gone, and answer where her client's records stood."""
        inicio = len(self.clientes.registros)
        self.proxy.cortar()
        await ate(saiu, prazo=5)
        return inicio

    async def volta(self, desde: int) -> dict[str, Any]:
        return await self.clientes.esperar(
            lambda r: r.get("client") == "ana" and r.get("type") == "connect", desde=desde, prazo=15
        )

    def recebidos(self) -> list[Any]:
        return [r["args"][0] for r in self.clientes.eventos("ana", "n")]
