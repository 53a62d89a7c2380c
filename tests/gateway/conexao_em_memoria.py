"""A Socket.IO connection with no transport: the gateway's handlers, driven in-process (fast lane).

``ConexaoEmMemoria`` stands where the engine's Engine.IO session stands (``EngineSession``: ``push``,
``scope``, ``transport``, ``connected``/``await_connect``) and is opened through the engine's own
Engine.IO → Socket.IO glue, so the engine's ``Client``, ``Namespace`` and ``Socket`` and the gateway's
handlers run exactly as they do behind a WebSocket: only the bytes on a wire are missing. Packets
go in as the protocol's text and come out decoded by the protocol core's own parser.

What it cannot show (heartbeats, upgrades, framing, the real socket.io-client's behaviour) the node
tests show; this is for the handlers' rules, in milliseconds and without node.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

from atendimento.engine import Reason, Server
from atendimento.engine.engineio.protocol.outgoing import Outgoing
from atendimento.engine.socketio.protocol.packets import (
    ACK,
    CONNECT,
    CONNECT_ERROR,
    DISCONNECT,
    EVENT,
    Packet,
    decode,
)

PRAZO_S = 5.0
_SIDS = itertools.count(1)


class ConexaoEmMemoria:
    """One client connection. ``await conectar(nsp, auth)``, ``await emitir(evento, *args)`` (the ack),
    ``await evento(nome)`` (the next server → client event of that name)."""

    transport = "websocket"

    def __init__(self, server: Server, *, endereco: str = "127.0.0.1") -> None:
        self.sid = f"mem{next(_SIDS)}"
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "path": server.config.path,
            "client": (endereco, 50000),
            "headers": [],
            "query_string": b"EIO=4&transport=websocket",
        }
        self.app: Any = None
        self.recebidos: list[Packet] = []  # every Socket.IO packet the server sent, in order
        self.fechada: Reason | None = None
        self._server = server
        self._acks = itertools.count(1)
        self._novo = asyncio.Event()
        server.engine.handler.on_open(self)  # type: ignore[arg-type]  # duck-typed EngineSession

    # --- what the engine calls on its session --------------------------------------------------------

    def push(self, out: Outgoing) -> None:
        for bruto in out.packets:
            if isinstance(bruto, str) and bruto.startswith("4"):
                self.recebidos.append(decode(bruto[1:]))
        self._novo.set()

    def connected(self) -> None:
        """The connection joined a namespace: no connect timeout here."""

    def await_connect(self, timeout: float) -> None:
        """The engine's connect timeout: not needed without a transport."""

    def close(self, reason: Reason, **_: Any) -> None:
        if self.fechada is None:
            self.fechada = reason
            self._server.engine.handler.on_close(self, reason)  # type: ignore[arg-type]

    # --- the client's side ---------------------------------------------------------------------------

    def enviar(self, texto: str) -> None:
        """One Socket.IO packet as its text (what a WebSocket message would carry after the ``4``)."""
        self._server.engine.handler.on_message(self, texto)  # type: ignore[arg-type]

    async def esperar(self, condicao: Callable[[Packet], bool], prazo: float = PRAZO_S) -> Packet:
        vistos = 0
        async with asyncio.timeout(prazo):
            while True:
                for pacote in self.recebidos[vistos:]:
                    if condicao(pacote):
                        return pacote
                vistos = len(self.recebidos)
                self._novo.clear()
                await self._novo.wait()

    async def conectar(self, nsp: str, auth: dict[str, Any]) -> Packet:
        """CONNECT; answers the server's CONNECT (its data has ``sid``) or CONNECT_ERROR."""
        self.enviar(f"0{nsp},{json.dumps(auth)}")
        return await self.esperar(lambda p: p.type in (CONNECT, CONNECT_ERROR) and p.nsp == nsp)

    async def emitir(self, nsp: str, evento: str, *args: Any) -> list[Any]:
        """An event with an ack id; answers the ack's arguments."""
        ack = next(self._acks)
        self.enviar(f"2{nsp},{ack}{json.dumps([evento, *args])}")
        pacote = await self.esperar(lambda p: p.type == ACK and p.nsp == nsp and p.id == ack)
        return list(pacote.data)

    async def evento(self, nsp: str, nome: str, desde: int = 0, prazo: float = PRAZO_S) -> list[Any]:
        """The arguments of the first event ``nome`` received at or after index ``desde``."""
        vistos = desde
        async with asyncio.timeout(prazo):
            while True:
                for pacote in self.recebidos[vistos:]:
                    if pacote.type == EVENT and pacote.nsp == nsp and pacote.data[0] == nome:
                        return list(pacote.data[1:])
                vistos = len(self.recebidos)
                self._novo.clear()
                await self._novo.wait()

    def eventos(self, nsp: str, nome: str) -> list[list[Any]]:
        return [
            list(p.data[1:]) for p in self.recebidos if p.type == EVENT and p.nsp == nsp and p.data[0] == nome
        ]

    def desconectado(self, nsp: str) -> bool:
        return any(p.type == DISCONNECT and p.nsp == nsp for p in self.recebidos)

    def fechar(self) -> None:
        """The transport went away (a closed tab)."""
        self.close(Reason.TRANSPORT_CLOSE)
