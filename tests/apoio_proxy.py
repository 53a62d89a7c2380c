"""A TCP proxy a test owns, to cut a client off its server and let it back in when the test says.

``cortar()`` closes every connection through it and refuses new ones (accepted, then closed at once,
as a dead network path would look to the client); ``religar(destino)`` lets them through again,
optionally to another server (the reconnect "lands on another instance"). ``congelar()`` is the
silent kind of failure: the open connections stay open but nothing crosses them any more (each side
finds out only by its own timeouts), while new connections go through.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from apoio_rede import porta_livre


class ProxyTcp:
    def __init__(self, destino: str) -> None:
        self.porta = porta_livre()
        self._destino = urlsplit(destino)
        self.aberto = True
        self._ligacoes: set[asyncio.StreamWriter] = set()
        self._congeladas: set[asyncio.StreamWriter] = set()
        self._servidor: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.porta}"

    async def iniciar(self) -> ProxyTcp:
        self._servidor = await asyncio.start_server(self._atender, "127.0.0.1", self.porta)
        return self

    def cortar(self) -> None:
        self.aberto = False
        for escritor in list(self._ligacoes):
            escritor.transport.abort()
        self._ligacoes.clear()

    def congelar(self) -> None:
        self._congeladas.update(self._ligacoes)

    def religar(self, destino: str | None = None) -> None:
        if destino is not None:
            self._destino = urlsplit(destino)
        self.aberto = True

    async def _atender(self, leitor: asyncio.StreamReader, escritor: asyncio.StreamWriter) -> None:
        if not self.aberto:
            escritor.transport.abort()
            return
        try:
            l2, e2 = await asyncio.open_connection(self._destino.hostname, self._destino.port)
        except OSError:
            escritor.transport.abort()
            return
        self._ligacoes.update((escritor, e2))

        async def copiar(de: asyncio.StreamReader, para: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while dados := await de.read(65536):
                    if para in self._congeladas:
                        await asyncio.Event().wait()  # a dead path: what was sent never arrives
                    para.write(dados)
                    await para.drain()
            para.transport.abort()

        try:
            await asyncio.gather(copiar(leitor, e2), copiar(l2, escritor))
        finally:
            self._ligacoes.discard(escritor)
            self._ligacoes.discard(e2)

    async def fechar(self) -> None:
        self.cortar()
        if self._servidor is not None:
            self._servidor.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._servidor.wait_closed(), 2)


@contextlib.asynccontextmanager
async def proxy_para(destino: str) -> AsyncIterator[ProxyTcp]:
    proxy = await ProxyTcp(destino).iniciar()
    try:
        yield proxy
    finally:
        await proxy.fechar()
