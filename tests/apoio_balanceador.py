"""A TCP round-robin balancer a test owns, in front of several server instances.

Like a Kubernetes Service or an nginx with health checks, it sends new connections only to the
instances whose ``/ready`` answered 200 on its last probe (every ``intervalo`` seconds), in turn; an
instance whose port refuses is skipped for that connection. It knows nothing of HTTP beyond the
probe: WebSocket connections are plain TCP to it, and stay on their instance until one side closes.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

import httpx
from apoio_rede import porta_livre


class Balanceador:
    def __init__(self, destinos: list[str], intervalo: float = 0.1) -> None:
        self.porta = porta_livre()
        self.destinos = [urlsplit(d) for d in destinos]
        self.prontos = [False] * len(destinos)
        self.intervalo = intervalo
        self.ligacoes_por_destino = [0] * len(destinos)
        self._vez = 0
        self._servidor: asyncio.Server | None = None
        self._sonda: asyncio.Task[None] | None = None
        self._abertas: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.porta}"

    async def iniciar(self) -> Balanceador:
        self._sonda = asyncio.create_task(self._sondar())
        self._servidor = await asyncio.start_server(self._atender, "127.0.0.1", self.porta)
        return self

    async def _sondar(self) -> None:
        async with httpx.AsyncClient(timeout=1.0) as http:
            while True:
                for i, destino in enumerate(self.destinos):
                    try:
                        resposta = await http.get(f"http://{destino.netloc}/ready")
                        self.prontos[i] = resposta.status_code == 200
                    except httpx.HTTPError:
                        self.prontos[i] = False
                await asyncio.sleep(self.intervalo)

    def _ordem(self) -> list[int]:
        n = len(self.destinos)
        self._vez = (self._vez + 1) % n
        return [(self._vez + k) % n for k in range(n) if self.prontos[(self._vez + k) % n]]

    async def _atender(self, leitor: asyncio.StreamReader, escritor: asyncio.StreamWriter) -> None:
        for i in self._ordem():
            destino = self.destinos[i]
            try:
                l2, e2 = await asyncio.open_connection(destino.hostname, destino.port)
            except OSError:
                continue
            self.ligacoes_por_destino[i] += 1
            await self._ligar(leitor, escritor, l2, e2)
            return
        escritor.transport.abort()  # no instance ready: as a balancer with no endpoint

    async def _ligar(
        self,
        leitor: asyncio.StreamReader,
        escritor: asyncio.StreamWriter,
        l2: asyncio.StreamReader,
        e2: asyncio.StreamWriter,
    ) -> None:
        self._abertas.update((escritor, e2))

        async def copiar(de: asyncio.StreamReader, para: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while dados := await de.read(65536):
                    para.write(dados)
                    await para.drain()
            with contextlib.suppress(Exception):
                para.write_eof()  # a close passes through as a close, not a reset
            await asyncio.sleep(0)

        try:
            await asyncio.gather(copiar(leitor, e2), copiar(l2, escritor))
        finally:
            for lado in (escritor, e2):
                self._abertas.discard(lado)
                lado.transport.abort()

    async def fechar(self) -> None:
        if self._sonda is not None:
            self._sonda.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sonda
        for escritor in list(self._abertas):
            escritor.transport.abort()
        if self._servidor is not None:
            self._servidor.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._servidor.wait_closed(), 2)

    async def todos_prontos(self, prazo: float = 30.0) -> None:
        limite = asyncio.get_running_loop().time() + prazo
        while not all(self.prontos):
            assert asyncio.get_running_loop().time() < limite, f"not every instance ready: {self.prontos}"
            await asyncio.sleep(0.05)
