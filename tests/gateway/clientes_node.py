"""The real socket.io-client 4.8.1 (tests/node), driven from pytest through tests/node/cliente.js.

One node process hosts any number of named clients. Commands go as JSON lines on its stdin; every
record it prints (connect, connect_error, disconnect, event, ack, upgrade) is kept in order in
``registros`` so a test can wait for one and also check what never arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
CLIENTE_JS = NODE_DIR / "cliente.js"
Registro = dict[str, Any]


def garantir_node_modules() -> None:
    """Install the pinned client from package-lock.json when it is missing (fresh clone, CI)."""
    if (NODE_DIR / "node_modules" / "socket.io-client" / "package.json").is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to install tests/node (socket.io-client 4.8.1)")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=NODE_DIR,
        check=True,
        timeout=300,
        env={**os.environ, "npm_config_update_notifier": "false"},
    )


class ClientesNode:
    script = CLIENTE_JS  # the driver it runs (tests/node/recuperacao.js keeps reconnection on)

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.registros: list[Registro] = []
        self._novo = asyncio.Event()
        self._proc: asyncio.subprocess.Process | None = None
        self._leitor: asyncio.Task[None] | None = None
        self._refs = itertools.count(1)
        self.stderr = b""

    async def iniciar(self) -> ClientesNode:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is needed for the socket.io-client tests")
        self._proc = await asyncio.create_subprocess_exec(
            node,
            str(self.script),
            cwd=NODE_DIR,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        self._leitor = asyncio.create_task(self._ler())
        await self.esperar(lambda r: r.get("type") == "ready", desde=0)
        return self

    async def _ler(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        while True:
            linha = await self._proc.stdout.readline()
            if not linha:
                self.registros.append({"type": "exit"})
                self._novo.set()
                return
            self.registros.append(json.loads(linha))
            self._novo.set()

    def _enviar(self, comando: dict[str, Any]) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write((json.dumps(comando) + "\n").encode())

    async def esperar(
        self, condicao: Callable[[Registro], bool], *, desde: int = 0, prazo: float = 10.0
    ) -> Registro:
        """The first record at index >= ``desde`` that matches; TimeoutError with the log otherwise."""

        async def procurar() -> Registro:
            i = desde
            while True:
                while i < len(self.registros):
                    registro = self.registros[i]
                    i += 1
                    if condicao(registro):
                        return registro
                    if registro.get("type") == "exit":
                        raise RuntimeError(f"node exited: {self.stderr.decode(errors='replace')}")
                self._novo.clear()
                await self._novo.wait()

        try:
            return await asyncio.wait_for(procurar(), prazo)
        except TimeoutError:
            raise TimeoutError(f"no matching record; got {self.registros[desde:]}") from None

    # --- commands -------------------------------------------------------------------------------

    async def conectar(
        self,
        cliente: str,
        token: str | None = None,
        *,
        opcoes: dict[str, Any] | None = None,
        namespace: str = "/atendimento",
        prazo: float = 10.0,
    ) -> Registro:
        """Connect and wait for ``connect`` or ``connect_error``; returns that record.

        With ``token`` the options are the seed's React example: ``auth.token`` and
        ``transports: ["websocket", "polling"]``; ``opcoes`` replaces them entirely.
        """
        if opcoes is None:
            opcoes = {"auth": {"token": token}, "transports": ["websocket", "polling"]}
        inicio = len(self.registros)
        self._enviar(
            {"op": "connect", "client": cliente, "url": self.base_url + namespace, "options": opcoes}
        )
        return await self.esperar(
            lambda r: r.get("client") == cliente and r.get("type") in ("connect", "connect_error"),
            desde=inicio,
            prazo=prazo,
        )

    def emitir(self, cliente: str, evento: str, *args: Any) -> None:
        self._enviar({"op": "emit", "client": cliente, "event": evento, "args": list(args)})

    async def pedir(self, cliente: str, evento: str, *args: Any, prazo: float = 5.0) -> Any:
        """Emit with an ack and return the ack's first argument."""
        ref = next(self._refs)
        inicio = len(self.registros)
        self._enviar(
            {
                "op": "emit",
                "client": cliente,
                "event": evento,
                "args": list(args),
                "ref": ref,
                "timeoutMs": int(prazo * 1000),
            }
        )
        registro = await self.esperar(
            lambda r: r.get("type") == "ack" and r.get("ref") == ref, desde=inicio, prazo=prazo + 2
        )
        if registro.get("timeout"):
            raise TimeoutError(f"no ack for {evento}")
        return registro["args"][0] if registro["args"] else None

    async def desconectar(self, cliente: str) -> None:
        inicio = len(self.registros)
        self._enviar({"op": "disconnect", "client": cliente})
        await self.esperar(
            lambda r: r.get("client") == cliente and r.get("type") == "disconnect", desde=inicio
        )

    # --- reading what arrived -------------------------------------------------------------------

    def eventos(self, cliente: str | None = None, evento: str | None = None) -> list[Registro]:
        return [
            r
            for r in self.registros
            if r.get("type") == "event"
            and (cliente is None or r.get("client") == cliente)
            and (evento is None or r.get("event") == evento)
        ]

    def payloads(self, cliente: str, evento: str) -> list[Any]:
        return [r["args"][0] if r["args"] else None for r in self.eventos(cliente, evento)]

    async def esperar_evento(self, cliente: str, evento: str, *, desde: int = 0, prazo: float = 10.0) -> Any:
        registro = await self.esperar(
            lambda r: r.get("type") == "event" and r.get("client") == cliente and r.get("event") == evento,
            desde=desde,
            prazo=prazo,
        )
        return registro["args"][0] if registro["args"] else None

    async def fechar(self) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(Exception):
            self._enviar({"op": "exit"})
            assert self._proc.stdin is not None
            self._proc.stdin.close()
        try:
            await asyncio.wait_for(self._proc.wait(), 5)
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()
        if self._proc.stderr is not None:
            self.stderr = await self._proc.stderr.read()
        if self._leitor is not None:
            self._leitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._leitor
        self._proc = None


class ClientesRecuperacao(ClientesNode):
    """``tests/node/recuperacao.js``: the same clients, plus dropping a client's transport (its
    socket.io-client then reconnects by itself, as after a network cut) and changing its auth."""

    script = NODE_DIR / "recuperacao.js"

    def derrubar(self, cliente: str) -> None:
        self._enviar({"op": "drop", "client": cliente})

    def trocar_auth(self, cliente: str, auth: dict[str, Any]) -> None:
        self._enviar({"op": "auth", "client": cliente, "auth": auth})
