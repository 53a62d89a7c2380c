"""The Node emitter as the tests drive it: tests/node/emissor.js, an unmodified
``@socket.io/redis-emitter`` 5.1 on the ``redis`` client, one JSON command per line."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
from typing import Any

from apoio_node import NODE_DIR


class EmissorNode:
    def __init__(self, redis_url: str, chave: str) -> None:
        self._args = (redis_url, chave)
        self._proc: asyncio.subprocess.Process | None = None
        self._refs = itertools.count(1)

    async def iniciar(self) -> EmissorNode:
        node = shutil.which("node")
        assert node, "node is needed for the emitter tests"
        self._proc = await asyncio.create_subprocess_exec(
            node,
            str(NODE_DIR / "emissor.js"),
            *self._args,
            cwd=NODE_DIR,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert (await self._ler())["type"] == "ready"
        return self

    async def _ler(self) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        linha = await asyncio.wait_for(self._proc.stdout.readline(), 20)
        assert linha, "the emitter's node process ended"
        registro: dict[str, Any] = json.loads(linha)
        return registro

    async def enviar(self, op: str, **campos: Any) -> dict[str, Any]:
        """Run one command through the emitter; returns its ``done`` record once Redis has it."""
        assert self._proc is not None and self._proc.stdin is not None
        ref = next(self._refs)
        self._proc.stdin.write(json.dumps({"ref": ref, "op": op, **campos}).encode() + b"\n")
        await self._proc.stdin.drain()
        registro = await self._ler()
        assert registro.get("type") == "done" and registro.get("ref") == ref, registro
        return registro

    async def emitir(self, salas: list[str], evento: str, *args: Any, **campos: Any) -> None:
        await self.enviar("emit", rooms=salas, event=evento, args=list(args), **campos)

    async def fechar(self) -> None:
        if self._proc is None:
            return
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            await asyncio.wait_for(self._proc.wait(), 5)
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()
        self._proc = None
