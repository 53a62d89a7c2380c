"""The real socket.io-client 4.8.1 (tests/node), driven from pytest through tests/node/cliente.js.

One node process hosts any number of named clients. Commands go as JSON lines on its stdin; every
record it prints (connect, connect_error, disconnect, event, ack, upgrade) is kept in order in
``registros`` so a test can wait for one and also check what never arrived.
"""

from __future__ import annotations

import itertools
from typing import Any

from apoio_node import NODE_DIR, ProcessoNode, Registro

CLIENTE_JS = NODE_DIR / "cliente.js"


class ClientesNode(ProcessoNode):
    script = CLIENTE_JS  # the driver it runs (tests/node/recuperacao.js keeps reconnection on)

    def __init__(self, base_url: str) -> None:
        super().__init__(self.script)
        self.base_url = base_url.rstrip("/")
        self._refs = itertools.count(1)

    async def iniciar(self) -> ClientesNode:
        await self.iniciar_processo()
        return self

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
        self.enviar({"op": "connect", "client": cliente, "url": self.base_url + namespace, "options": opcoes})
        return await self.esperar(
            lambda r: r.get("client") == cliente and r.get("type") in ("connect", "connect_error"),
            desde=inicio,
            prazo=prazo,
        )

    def emitir(self, cliente: str, evento: str, *args: Any) -> None:
        self.enviar({"op": "emit", "client": cliente, "event": evento, "args": list(args)})

    async def pedir(self, cliente: str, evento: str, *args: Any, prazo: float = 5.0) -> Any:
        """Emit with an ack and return the ack's first argument."""
        ref = next(self._refs)
        inicio = len(self.registros)
        self.enviar(
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
        self.enviar({"op": "disconnect", "client": cliente})
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


class ClientesRecuperacao(ClientesNode):
    """``tests/node/recuperacao.js``: the same clients, plus dropping a client's transport (its
    socket.io-client then reconnects by itself, as after a network cut) and changing its auth."""

    script = NODE_DIR / "recuperacao.js"

    def derrubar(self, cliente: str) -> None:
        self.enviar({"op": "drop", "client": cliente})

    def trocar_auth(self, cliente: str, auth: dict[str, Any]) -> None:
        self.enviar({"op": "auth", "client": cliente, "auth": auth})
