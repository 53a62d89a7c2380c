"""The client side of the engine's interop tests with the real socket.io-client 4.8.1 (npm, run by node).

tests/node/engine_scenarios.js is one node process per test hosting named clients, driven by JSON lines
(binary values travel tagged, see that file); ``NodeClients`` drives it and keeps every record it
prints. The pinned client is installed from tests/node/package-lock.json when missing, by
``garantir_node_modules``. Also here: running code on the server's loop (``on_server``) and waiting
for server-side state (``until``).
"""

from __future__ import annotations

import asyncio
import base64
import inspect
from collections.abc import Callable
from typing import Any

from apoio_node import NODE_DIR, ProcessoNode, Registro

from atendimento.engine import Socket

from ..conftest import RunningServer

DRIVER = NODE_DIR / "engine_scenarios.js"
Record = dict[str, Any]

TRANSPORTS: dict[str, dict[str, Any]] = {
    "websocket": {"transports": ["websocket"]},
    "polling": {"transports": ["polling"]},
    "upgrade": {},  # the client's defaults: polling, then the upgrade to WebSocket
}
# Fast automatic reconnection, for the tests that want to see it (or see that it does not happen).
RECONNECTING = {"reconnection": True, "reconnectionDelay": 50, "reconnectionDelayMax": 50}
CARRIED = ("connect", "event", "ack")  # the records that say which transport their packet came on


class ArrayBuffer(bytes):
    """Bytes the driver hands to socket.io-client as an ``ArrayBuffer`` (plain bytes become a ``Buffer``)."""


def to_wire(value: Any) -> Any:
    if isinstance(value, ArrayBuffer):
        return {"$arraybuffer": base64.b64encode(value).decode()}
    if isinstance(value, (bytes, bytearray)):
        return {"$buffer": base64.b64encode(value).decode()}
    if isinstance(value, (list, tuple)):
        return [to_wire(item) for item in value]
    if isinstance(value, dict):
        return {key: to_wire(item) for key, item in value.items()}
    return value


def from_wire(value: Any) -> Any:
    if isinstance(value, list):
        return [from_wire(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1 and "$buffer" in value:
            return base64.b64decode(value["$buffer"])
        if len(value) == 1 and "$arraybuffer" in value:
            return base64.b64decode(value["$arraybuffer"])
        return {key: from_wire(item) for key, item in value.items()}
    return value


class NodeClients(ProcessoNode):
    """One node process running engine_scenarios.js; every record it prints is kept in ``records``."""

    fatais = ("exit", "error")

    def __init__(self, base_url: str) -> None:
        super().__init__(DRIVER)
        self.base_url = base_url.rstrip("/")
        self._refs = 0

    @property
    def records(self) -> list[Record]:
        return self.registros

    def decodificar(self, registro: Registro) -> Registro:
        for key in ("args", "data"):
            if key in registro:
                registro[key] = from_wire(registro[key])
        return registro

    async def start(self) -> None:
        await self.iniciar_processo(limite_linha=1 << 24)  # records with binary payloads are long lines

    async def close(self) -> None:
        await self.fechar()

    def send(self, command: dict[str, Any]) -> None:
        self.enviar(command)

    def mark(self) -> int:
        """An index into ``records``: pass it as ``since`` to wait only for what comes after now."""
        return len(self.records)

    async def wait(self, match: Callable[[Record], bool], *, since: int = 0, limit: float = 5.0) -> Record:
        """The first record at index >= ``since`` that matches; TimeoutError showing the log otherwise."""
        return await self.esperar(match, desde=since, prazo=limit)

    def of(self, client: str, kind: str, event: str | None = None) -> list[Record]:
        return [
            r
            for r in self.records
            if r.get("client") == client and r["type"] == kind and (event is None or r.get("event") == event)
        ]

    # --- commands ---------------------------------------------------------------------------------

    async def connect(
        self,
        client: str,
        options: dict[str, Any] | None = None,
        *,
        namespace: str = "/",
        via: str | None = None,
        server: str | None = None,
    ) -> Record:
        """Connect (``via``: on that client's Manager; ``server``: a base URL other than the fixture's)
        and return the ``connect`` or ``connect_error`` record."""
        since = self.mark()
        command: dict[str, Any] = {"op": "connect", "client": client, "options": options or {}}
        if via is None:
            command["url"] = (server or self.base_url).rstrip("/") + namespace
        else:
            command.update(via=via, namespace=namespace)
        self.send(command)
        return await self.wait(
            lambda r: r.get("client") == client and r["type"] in ("connect", "connect_error"), since=since
        )

    def emit(self, client: str, event: str, *args: Any) -> None:
        self.send({"op": "emit", "client": client, "event": event, "args": to_wire(args)})

    async def request(self, client: str, event: str, *args: Any, limit: float = 3.0) -> Record:
        """Emit with an ack callback (``socket.timeout(limit).emit``); the ``ack`` record (``args``, or
        ``timeout``: true when no ack came within ``limit`` seconds)."""
        self._refs += 1
        ref = self._refs
        since = self.mark()
        self.send(
            {
                "op": "emit",
                "client": client,
                "event": event,
                "args": to_wire(args),
                "ref": ref,
                "timeoutMs": int(limit * 1000),
            }
        )
        return await self.wait(
            lambda r: r["type"] == "ack" and r.get("ref") == ref, since=since, limit=limit + 2
        )

    def answer(self, client: str, ack: int, *args: Any) -> None:
        """Call the ack function socket.io-client gave for the server's event (record field ``ack``)."""
        self.send({"op": "ack", "client": client, "ack": ack, "args": to_wire(args)})

    def burst(self, client: str, event: str, count: int, *payload: Any) -> None:
        """``emit(event, i[, payload])`` for i in range(count), all in one turn of node's loop."""
        command = {"op": "burst", "client": client, "event": event, "count": count}
        if payload:
            command["payload"] = to_wire(payload[0])
        self.send(command)

    async def state(self, client: str) -> Record:
        self._refs += 1
        ref = self._refs
        since = self.mark()
        self.send({"op": "state", "client": client, "ref": ref})
        return await self.wait(lambda r: r["type"] == "state" and r.get("ref") == ref, since=since)

    async def event(self, client: str, event: str, *, since: int = 0) -> Record:
        return await self.wait(
            lambda r: r["type"] == "event" and r.get("client") == client and r.get("event") == event,
            since=since,
        )

    async def echo(self, client: str, *args: Any) -> Record:
        """Round trip through the server's ``echo`` handler; also a barrier for what was sent before."""
        since = self.mark()
        self.emit(client, "echo", *args)
        record = await self.event(client, "echo", since=since)
        assert record["args"] == list(args)
        return record

    async def disconnect(self, client: str) -> Record:
        since = self.mark()
        self.send({"op": "disconnect", "client": client})
        return await self.wait(lambda r: r.get("client") == client and r["type"] == "disconnect", since=since)


async def on_server(running: RunningServer, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` on the server's loop (awaiting a coroutine) without blocking this loop."""

    async def run() -> Any:
        result = fn(*args)
        if inspect.isawaitable(result):
            result = await result
        return result

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), running.loop))


def server_socket(running: RunningServer, sid: str, namespace: str = "/") -> Socket:
    """The server's ``Socket`` for ``sid``; only to be used inside functions run by ``on_server``."""
    return running.app.server.namespaces[namespace].sockets[sid]


async def server_disconnect_reason(running: RunningServer, sid: str) -> str:
    return await asyncio.to_thread(running.app.wait_disconnect, sid)


async def until(check: Callable[[], Any], limit: float = 3.0) -> None:
    """Wait for a condition only observable by looking (server state), checking every 20 ms."""
    async with asyncio.timeout(limit):
        while True:
            if await check():
                return
            await asyncio.sleep(0.02)
