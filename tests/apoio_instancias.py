"""Real ``atendimento serve`` processes for the deploy tests: one database, one Redis, a port each.

``Instancia.reiniciar()`` is a deploy of that instance: SIGTERM, wait for the process to end by itself
(the drain), then a new process on the same port, waited for until ``/ready`` answers 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from apoio_rede import porta_livre

BIN = Path(sys.executable).parent / "atendimento"
SEGREDO = "segredo-dos-testes-de-implantacao-com-mais-de-32-bytes"


def ambiente(dados: Path, database_url: str, redis_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATENDIMENTO_")}
    env.update(
        ATENDIMENTO_DATA_DIR=str(dados),
        ATENDIMENTO_DATABASE_URL=database_url,
        ATENDIMENTO_JWT_SECRET=SEGREDO,
        ATENDIMENTO_LOG_LEVEL="info",
    )
    if redis_url is not None:
        env["ATENDIMENTO_REDIS_URL"] = redis_url
    env.update(extra)
    return env


@dataclass
class Instancia:
    nome: str
    env: dict[str, str]
    pasta: Path
    porta: int = field(default_factory=porta_livre)
    popen: subprocess.Popen[bytes] | None = None
    geracao: int = 0
    saidas: list[int] = field(default_factory=list)  # exit codes of the processes that ended
    duracoes_drenagem: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.porta}"

    @property
    def log(self) -> Path:
        return self.pasta / f"{self.nome}-{self.geracao}.log"

    def subir(self) -> None:
        self.geracao += 1
        with self.log.open("wb") as saida:
            self.popen = subprocess.Popen(
                [str(BIN), "serve", "--port", str(self.porta)],
                env=self.env,
                stdout=saida,
                stderr=subprocess.STDOUT,
            )

    async def pronta(self, prazo: float = 60) -> None:
        limite = time.monotonic() + prazo
        async with httpx.AsyncClient() as http:
            while time.monotonic() < limite:
                assert self.popen is not None
                if self.popen.poll() is not None:
                    break
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{self.url}/ready", timeout=2)).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.nome} not ready:\n{self.log.read_text()[-3000:]}")

    async def terminar(self, prazo: float = 60) -> None:
        """SIGTERM and wait for the process to end by itself; its exit code goes to ``saidas``."""
        assert self.popen is not None
        inicio = time.monotonic()
        self.popen.send_signal(signal.SIGTERM)
        while self.popen.poll() is None:
            assert time.monotonic() - inicio < prazo, (
                f"{self.nome} did not end:\n{self.log.read_text()[-3000:]}"
            )
            await asyncio.sleep(0.05)
        self.duracoes_drenagem.append(time.monotonic() - inicio)
        self.saidas.append(self.popen.returncode)

    async def reiniciar(self) -> None:
        await self.terminar()
        self.subir()
        await self.pronta()

    def parar(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)


async def subir_todas(instancias: list[Instancia]) -> None:
    for instancia in instancias:
        instancia.subir()
    await asyncio.gather(*(i.pronta() for i in instancias))
