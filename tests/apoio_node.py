"""The one node driver of the tests: a node process running tests/node/clients.js (the real
socket.io-client 4.8.1, any number of named clients), talked to in JSON lines: commands on its stdin,
every record it prints kept in order in ``records`` so a test can wait for one and also check what
never arrived.

``NodeClients`` is the driver, in the engine's words (the engine's interop tests use it as it is);
``ClientesAtendimento`` is the same driver with the product's front-end conventions on top, for the
gateway's, cluster's and monitoring's tests; ``ClientesRecuperacao`` keeps the client's own automatic
reconnection on. Binary values travel tagged (see clients.js); the pinned client is installed from
tests/node/package-lock.json when missing, by ``garantir_node_modules``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from faixa_rapida import servicos_proibidos

NODE_DIR = Path(__file__).resolve().parent / "node"
DRIVER = NODE_DIR / "clients.js"
Record = dict[str, Any]
Registro = Record


def garantir_node_modules() -> None:
    """Install the pinned client from package-lock.json when it is missing (fresh clone, CI)."""
    if servicos_proibidos():
        raise RuntimeError("a test of the fast lane drives node: mark it `node` (tests/faixa_rapida.py)")
    pacotes = ("socket.io-client", "@socket.io/redis-emitter", "redis")
    if all((NODE_DIR / "node_modules" / p / "package.json").is_file() for p in pacotes):
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


class NodeClients:
    """The driver. English because it is infrastructure: it speaks Socket.IO (connect, emit, ack),
    knows no ticket, and the engine's tests, which know no product either, use it as it is."""

    # Records after which nothing more will come: ``wait`` raises on them instead of waiting.
    fatal: tuple[str, ...] = ("exit", "error")
    # Whether a client reconnects by itself (socket.io-client's own defaults) unless told otherwise.
    reconnection = False

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.records: list[Record] = []
        self.stderr = b""
        self._new = asyncio.Event()
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._refs = itertools.count(1)

    # --- the process ------------------------------------------------------------------------------

    async def start(self) -> None:
        if servicos_proibidos():
            raise RuntimeError("a test of the fast lane drives node: mark it `node` (tests/faixa_rapida.py)")
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is needed for the socket.io-client tests")
        self._proc = await asyncio.create_subprocess_exec(
            node,
            str(DRIVER),
            cwd=NODE_DIR,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=1 << 24,  # records with binary payloads are long lines
        )
        self._reader = asyncio.create_task(self._read())
        await self.wait(lambda r: r.get("type") == "ready", limit=10.0)

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout  # close() drops self._proc while this still reads
        while line := await stdout.readline():
            record = json.loads(line)
            for key in ("args", "data"):
                if key in record:
                    record[key] = from_wire(record[key])
            self.records.append(record)
            self._new.set()
        self.records.append({"type": "exit"})
        self._new.set()

    def send(self, command: dict[str, Any]) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write((json.dumps(command) + "\n").encode())

    async def close(self) -> None:
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
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    # --- reading what arrived ---------------------------------------------------------------------

    def mark(self) -> int:
        """An index into ``records``: pass it as ``since`` to wait only for what comes after now."""
        return len(self.records)

    async def wait(self, match: Callable[[Record], bool], *, since: int = 0, limit: float = 5.0) -> Record:
        """The first record at index >= ``since`` that matches; TimeoutError showing the log otherwise."""

        async def find() -> Record:
            i = since
            while True:
                while i < len(self.records):
                    record = self.records[i]
                    i += 1
                    if match(record):
                        return record
                    if record.get("type") in self.fatal:
                        raise RuntimeError(f"node driver: {record} {self.stderr.decode(errors='replace')}")
                self._new.clear()
                await self._new.wait()

        try:
            return await asyncio.wait_for(find(), limit)
        except TimeoutError:
            raise TimeoutError(f"no matching record; got {self.records[since:]}") from None

    def of(self, client: str, kind: str, event: str | None = None) -> list[Record]:
        return [
            r
            for r in self.records
            if r.get("client") == client and r["type"] == kind and (event is None or r.get("event") == event)
        ]

    async def event(self, client: str, event: str, *, since: int = 0, limit: float = 5.0) -> Record:
        return await self.wait(
            lambda r: r["type"] == "event" and r.get("client") == client and r.get("event") == event,
            since=since,
            limit=limit,
        )

    # --- commands ---------------------------------------------------------------------------------

    async def connect(
        self,
        client: str,
        options: dict[str, Any] | None = None,
        *,
        namespace: str = "/",
        via: str | None = None,
        server: str | None = None,
        limit: float = 5.0,
    ) -> Record:
        """Connect (``via``: on that client's Manager; ``server``: a base URL other than the fixture's)
        and return the ``connect`` or ``connect_error`` record."""
        since = self.mark()
        options = options or {}
        if self.reconnection:
            options = {"reconnection": True, **options}
        command: dict[str, Any] = {"op": "connect", "client": client, "options": options}
        if via is None:
            command["url"] = (server or self.base_url).rstrip("/") + namespace
        else:
            command.update(via=via, namespace=namespace)
        self.send(command)
        return await self.wait(
            lambda r: r.get("client") == client and r["type"] in ("connect", "connect_error"),
            since=since,
            limit=limit,
        )

    def emit(self, client: str, event: str, *args: Any) -> None:
        self.send({"op": "emit", "client": client, "event": event, "args": to_wire(args)})

    async def request(self, client: str, event: str, *args: Any, limit: float = 3.0) -> Record:
        """Emit with an ack callback (``socket.timeout(limit).emit``); the ``ack`` record (``args``, or
        ``timeout``: true when no ack came within ``limit`` seconds)."""
        ref = next(self._refs)
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
        ref = next(self._refs)
        since = self.mark()
        self.send({"op": "state", "client": client, "ref": ref})
        return await self.wait(lambda r: r["type"] == "state" and r.get("ref") == ref, since=since)

    async def echo(self, client: str, *args: Any) -> Record:
        """Round trip through the server's ``echo`` handler; also a barrier for what was sent before."""
        since = self.mark()
        self.emit(client, "echo", *args)
        record = await self.event(client, "echo", since=since)
        assert record["args"] == list(args)
        return record

    def drop(self, client: str) -> None:
        """Lose the client's transport; with reconnection on it reconnects by itself, as after a cut."""
        self.send({"op": "drop", "client": client})

    def set_auth(self, client: str, auth: dict[str, Any]) -> None:
        """What the client's next CONNECT sends (a renewed token, say)."""
        self.send({"op": "auth", "client": client, "auth": auth})

    async def disconnect(self, client: str, *, limit: float = 5.0) -> Record:
        since = self.mark()
        self.send({"op": "disconnect", "client": client})
        return await self.wait(
            lambda r: r.get("client") == client and r["type"] == "disconnect", since=since, limit=limit
        )


class ClientesAtendimento(NodeClients):
    """The driver as the product's front end uses socket.io-client: namespace /atendimento, the token
    in ``auth``, an answer being the ack's first argument. Portuguese because these are the product's
    conventions; the verbs are the ones the gateway's, cluster's and monitoring's tests were written
    with, thin wrappers of ``NodeClients``'s. An ``error`` record does not end a wait here (as before
    the merge): a test of the product waits for what it expects and times out otherwise."""

    fatal = ("exit",)

    @property
    def registros(self) -> list[Registro]:
        return self.records

    async def iniciar(self) -> ClientesAtendimento:
        await self.start()
        return self

    async def fechar(self) -> None:
        await self.close()

    def enviar(self, comando: dict[str, Any]) -> None:
        self.send(comando)

    async def esperar(
        self, condicao: Callable[[Registro], bool], *, desde: int = 0, prazo: float = 10.0
    ) -> Registro:
        return await self.wait(condicao, since=desde, limit=prazo)

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
        return await self.connect(cliente, opcoes, namespace=namespace, limit=prazo)

    def emitir(self, cliente: str, evento: str, *args: Any) -> None:
        self.emit(cliente, evento, *args)

    async def pedir(self, cliente: str, evento: str, *args: Any, prazo: float = 5.0) -> Any:
        """Emit with an ack and return the ack's first argument."""
        registro = await self.request(cliente, evento, *args, limit=prazo)
        if registro.get("timeout"):
            raise TimeoutError(f"no ack for {evento}")
        return registro["args"][0] if registro["args"] else None

    async def desconectar(self, cliente: str) -> None:
        await self.disconnect(cliente, limit=10.0)

    def eventos(self, cliente: str | None = None, evento: str | None = None) -> list[Registro]:
        return [
            r
            for r in self.records
            if r.get("type") == "event"
            and (cliente is None or r.get("client") == cliente)
            and (evento is None or r.get("event") == evento)
        ]

    def payloads(self, cliente: str, evento: str) -> list[Any]:
        return [r["args"][0] if r["args"] else None for r in self.eventos(cliente, evento)]

    async def esperar_evento(self, cliente: str, evento: str, *, desde: int = 0, prazo: float = 10.0) -> Any:
        registro = await self.event(cliente, evento, since=desde, limit=prazo)
        return registro["args"][0] if registro["args"] else None


class ClientesRecuperacao(ClientesAtendimento):
    """Clients that reconnect by themselves with socket.io-client's defaults, as an unmodified front
    end does after a network cut: the connection state recovery tests (``drop`` is the cut)."""

    reconnection = True
