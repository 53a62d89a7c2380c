"""One node process running a driver of tests/node (the real socket.io-client 4.8.1), talked to in
JSON lines: commands on its stdin, every record it prints kept in order in ``registros``.

The gateway's ``ClientesNode`` (tests/gateway/clientes_node.py, driver cliente.js) and the engine's
interop ``NodeClients`` (tests/engine/interop_node/, driver engine_scenarios.js) are
both this process with their own commands on top.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).resolve().parent / "node"
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


class ProcessoNode:
    # Records after which nothing more will come: ``esperar`` raises on them instead of waiting.
    fatais: tuple[str, ...] = ("exit",)

    def __init__(self, script: Path) -> None:
        self.script = script
        self.registros: list[Registro] = []
        self.stderr = b""
        self._novo = asyncio.Event()
        self._proc: asyncio.subprocess.Process | None = None
        self._leitor: asyncio.Task[None] | None = None

    def decodificar(self, registro: Registro) -> Registro:
        """A driver's own encoding of values (binary, for one), undone as each record arrives."""
        return registro

    async def iniciar_processo(self, *, limite_linha: int = 1 << 16) -> None:
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
            limit=limite_linha,
        )
        self._leitor = asyncio.create_task(self._ler())
        await self.esperar(lambda r: r.get("type") == "ready")

    async def _ler(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout  # fechar() drops self._proc while this still reads
        while linha := await stdout.readline():
            self.registros.append(self.decodificar(json.loads(linha)))
            self._novo.set()
        self.registros.append({"type": "exit"})
        self._novo.set()

    def enviar(self, comando: dict[str, Any]) -> None:
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
                    if registro.get("type") in self.fatais:
                        raise RuntimeError(f"node driver: {registro} {self.stderr.decode(errors='replace')}")
                self._novo.clear()
                await self._novo.wait()

        try:
            return await asyncio.wait_for(procurar(), prazo)
        except TimeoutError:
            raise TimeoutError(f"no matching record; got {self.registros[desde:]}") from None

    async def fechar(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(Exception):
            assert proc.stdin is not None
            proc.stdin.write(b'{"op": "exit"}\n')
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        if proc.stderr is not None:
            self.stderr = await proc.stderr.read()
        if self._leitor is not None:
            self._leitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._leitor
