"""The real socket.io-client 4.8.1 (npm, run by node) against our engine on real uvicorn.

The server is ``build_test_server()`` (tests/engine/app.py) behind the ``engine_server`` fixture,
plus one handler of this module's own (``size``). The client side is tests/node/engine_scenarios.js:
one node process per test hosting named clients, driven by JSON lines (binary values travel tagged,
see that file). The pinned client is installed from tests/node/package-lock.json when missing, by
the gateway's ``garantir_node_modules``.

Most scenarios run on three transports: WebSocket only, long-polling only, and the client's default
(polling first, then upgraded to WebSocket while the test's traffic flows).
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from apoio_node import NODE_DIR, ProcessoNode, Registro, garantir_node_modules

from atendimento.engine import Socket

from .app import build_test_server
from .conftest import RunningServer

pytestmark = pytest.mark.node

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


@pytest.fixture(scope="session")
def node_modules() -> None:
    garantir_node_modules()


@pytest.fixture
async def node(node_modules: None, engine_server: RunningServer) -> AsyncIterator[NodeClients]:
    clients = NodeClients(engine_server.url)
    await clients.start()
    yield clients
    await clients.close()


@pytest.fixture(scope="module", autouse=True)
def size_handler(engine_server: RunningServer) -> None:
    """One more handler on the module's server: ``size(i, data)`` emits ``size(i, len(data))`` back."""

    def register() -> None:
        main = engine_server.app.server.of("/")

        @main.on("size")
        def size(socket: Socket, i: int, data: str | bytes) -> None:
            socket.emit("size", i, len(data))

    engine_server.call(register)


@pytest.fixture(params=list(TRANSPORTS))
def transport(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    yield dict(TRANSPORTS[request.param])


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


# --- (1)-(3) transports ---------------------------------------------------------------------------


async def test_default_options_start_on_polling_and_upgrade_to_websocket(
    node: NodeClients, engine_server: RunningServer
) -> None:
    connected = await node.connect("a")
    assert connected["type"] == "connect"
    (opened,) = node.of("a", "open")
    assert opened["transport"] == "polling"  # the Engine.IO handshake, and the CONNECT that follows it
    sid = connected["id"]
    welcome = await node.event("a", "welcome")
    assert welcome["args"] == [{"sid": sid, "rooms": [sid]}]

    # Round trips from the moment of connecting, so they cross the upgrade: whichever transport
    # carries each one (the probe races the CONNECT reply), none is lost, duplicated or reordered.
    for i in range(8):
        await node.echo("a", {"n": i})
    upgraded = await node.wait(lambda r: r["type"] == "upgrade" and r["client"] == "a")
    assert upgraded["transport"] == "websocket"
    state = await node.state("a")
    assert state["transport"] == "websocket"
    assert state["connected"] and state["id"] == sid and state["engineId"] == opened["engineId"]

    def server_view() -> tuple[str, str]:
        socket = server_socket(engine_server, sid)
        return socket.session.transport, socket.session.sid

    assert await on_server(engine_server, server_view) == ("websocket", opened["engineId"])

    after = await node.echo("a", {"after": "upgrade", "texto": "olá"})
    assert after["transport"] == "websocket"
    acked = await node.request("a", "ack", "depois", 2)
    assert acked["args"] == ["depois", 2]
    assert acked["transport"] == "websocket"

    assert [r["args"] for r in node.of("a", "event", "echo")][:8] == [[{"n": i}] for i in range(8)]
    # Once a packet came over WebSocket, nothing more came over polling.
    carried = [r["transport"] for r in node.records if r.get("client") == "a" and r["type"] in CARRIED]
    assert carried == sorted(carried, key=["polling", "websocket"].index), carried
    assert len(node.of("a", "upgrade")) == 1
    assert node.of("a", "disconnect") == []


async def test_websocket_first_as_in_the_seed(node: NodeClients, engine_server: RunningServer) -> None:
    connected = await node.connect("a", {"transports": ["websocket", "polling"], "auth": {"token": "t"}})
    assert connected["type"] == "connect"
    assert connected["transport"] == "websocket"
    sid = connected["id"]
    assert (await node.event("a", "welcome"))["args"] == [{"sid": sid, "rooms": [sid]}]
    assert (await node.echo("a", "oi"))["transport"] == "websocket"
    assert (await node.request("a", "ack", {"a": 1}))["args"] == [{"a": 1}]

    def server_view() -> tuple[str, dict[str, Any], dict[str, Any]]:
        socket = server_socket(engine_server, sid)
        return socket.session.transport, socket.handshake.auth, socket.data["auth"]

    # The handler saw the auth (and kept it itself); the engine dropped its copy once connected.
    assert await on_server(engine_server, server_view) == ("websocket", {}, {"token": "t"})
    assert node.of("a", "upgrade") == []


async def test_polling_only_never_upgrades(node: NodeClients, engine_server: RunningServer) -> None:
    connected = await node.connect("a", {"transports": ["polling"]})
    assert connected["type"] == "connect"
    assert connected["transport"] == "polling"
    sid = connected["id"]
    await node.event("a", "welcome")
    for i in range(3):
        assert (await node.echo("a", i))["transport"] == "polling"
    # The payload separator, other control characters and astral-plane text inside a message.
    await node.echo("a", "a\x1eb\x1e", {"\x1e": "\x00\u2028🚀"}, ["olá", "\ud7ff"])
    assert (await node.request("a", "ack", "x"))["args"] == ["x"]

    # A push from outside any handler releases the pending long-poll GET.
    since = node.mark()
    await on_server(engine_server, lambda: server_socket(engine_server, sid).emit("news", {"n": 1}))
    news = await node.event("a", "news", since=since)
    assert news["args"] == [{"n": 1}]

    def server_view() -> tuple[str, bool]:
        session = server_socket(engine_server, sid).session
        return session.transport, session.upgrading or session.probe is not None

    assert await on_server(engine_server, server_view) == ("polling", False)
    assert (await node.state("a"))["transport"] == "polling"
    assert node.of("a", "upgrade") == []


async def test_client_disconnect_reaches_the_server_as_a_namespace_disconnect(
    node: NodeClients, engine_server: RunningServer, transport: dict[str, Any]
) -> None:
    sid = (await node.connect("a", transport))["id"]
    engine_sid = (await node.state("a"))["engineId"]
    await node.echo("a", "tchau")
    gone = await node.disconnect("a")
    assert gone["reason"] == "io client disconnect"
    assert gone["active"] is False
    assert await server_disconnect_reason(engine_server, sid) == "client namespace disconnect"

    async def session_closed() -> bool:
        return await on_server(
            engine_server, lambda: engine_sid not in engine_server.app.server.engine.sessions
        )

    await until(session_closed)  # socket.io-client then closes its Engine.IO connection


async def test_heartbeat_keeps_an_idle_connection_open(
    node: NodeClients, serve_app: Callable[..., RunningServer], transport: dict[str, Any]
) -> None:
    fast = build_test_server(ping_interval_ms=100, ping_timeout_ms=300)
    running = serve_app(fast.server.asgi())
    sid = (await node.connect("a", transport, server=running.url))["id"]
    for _ in range(6):  # ~0.6 s: pings answered with pongs, whatever transport carries them
        await node.wait(lambda r: r["type"] == "ping", since=node.mark(), limit=2)
    assert node.of("a", "disconnect") == []
    await node.echo("a", "acordado")
    assert fast.disconnects == []
    assert await on_server(running, lambda: sid in fast.server.namespaces["/"].sockets) is True


# --- (4) acks -------------------------------------------------------------------------------------


async def test_client_ack_gets_the_handler_return_values(
    node: NodeClients, transport: dict[str, Any]
) -> None:
    await node.connect("a", transport)
    # A tuple is several ack arguments; None is an ack with none; an unknown event gets the coded ack.
    assert (await node.request("a", "ack", 1, "dois", {"x": [1, None, True]}))["args"] == [
        1,
        "dois",
        {"x": [1, None, True]},
    ]
    assert (await node.request("a", "leave", "sala-nenhuma"))["args"] == []
    assert (await node.request("a", "sem:handler", {"y": 2}))["args"] == [
        {"unknown": "sem:handler", "args": [{"y": 2}]}
    ]


async def test_server_emit_with_ack_answered_by_the_client(
    node: NodeClients, engine_server: RunningServer, transport: dict[str, Any]
) -> None:
    sid = (await node.connect("a", transport))["id"]

    # Inside a handler: the client's "ask" makes the server ask back, and acks with the answer.
    since = node.mark()
    node.send(
        {"op": "emit", "client": "a", "event": "ask", "args": ["pergunta"], "ref": "ask", "timeoutMs": 3000}
    )
    question = await node.event("a", "question", since=since)
    assert question["args"] == ["pergunta"]
    assert isinstance(question["ack"], int)
    node.answer("a", question["ack"], {"resposta": 42}, "mais")
    reply = await node.wait(lambda r: r["type"] == "ack" and r.get("ref") == "ask", since=since)
    assert reply["args"] == [{"answer": [{"resposta": 42}, "mais"]}]

    # Directly: several server requests in flight at once, answered out of order.
    since = node.mark()
    pending = [
        asyncio.ensure_future(
            on_server(
                engine_server, lambda n=n: server_socket(engine_server, sid).emit_with_ack("q", n, timeout=3)
            )
        )
        for n in range(3)
    ]
    for n in range(3):
        await node.wait(
            lambda r, n=n: r["type"] == "event" and r.get("event") == "q" and r["args"] == [n], since=since
        )
    questions = node.of("a", "event", "q")[-3:]
    for record in reversed(questions):
        node.answer("a", record["ack"], record["args"][0] * 10)
    assert await asyncio.gather(*pending) == [[0], [10], [20]]


async def test_ack_timeouts_both_ways(
    node: NodeClients, engine_server: RunningServer, transport: dict[str, Any]
) -> None:
    sid = (await node.connect("a", transport))["id"]

    # Client side: the handler fails, so no ack ever comes and socket.timeout() fires.
    assert (await node.request("a", "boom", limit=0.3))["timeout"] is True

    # Server side: the client never answers, emit_with_ack raises TimeoutError.
    since = node.mark()
    asked = asyncio.ensure_future(
        on_server(
            engine_server, lambda: server_socket(engine_server, sid).emit_with_ack("silencio", timeout=0.3)
        )
    )
    question = await node.event("a", "silencio", since=since)
    with pytest.raises(TimeoutError):
        await asked

    # A late answer is ignored, and the connection carries on.
    node.answer("a", question["ack"], "tarde demais")
    await node.echo("a", "ainda aqui")
    assert await on_server(engine_server, lambda: server_socket(engine_server, sid).connected) is True
    assert node.of("a", "disconnect") == []


# --- (5) binary -----------------------------------------------------------------------------------

BLOB = bytes(range(256)) * 4


async def test_binary_event_both_ways_nested(node: NodeClients, transport: dict[str, Any]) -> None:
    await node.connect("a", transport)
    payload = {
        "file": BLOB,
        "name": "x.bin",
        "nested": {"ab": ArrayBuffer(b"\x01\x02\x03"), "list": [b"\xff\x00", "texto", {"deep": b"\x7f"}]},
    }
    echoed = await node.echo("a", payload, b"\x00", "fim")
    assert echoed["args"] == [payload, b"\x00", "fim"]


async def test_large_and_empty_binary_attachments(node: NodeClients, transport: dict[str, Any]) -> None:
    await node.connect("a", transport)
    large = bytes(range(251)) * 400  # 100 400 bytes: a WebSocket frame with a 64-bit length
    await node.echo("a", {"large": large})
    await node.echo("a", {"empty": b""}, b"")


async def test_binary_acks_both_ways(
    node: NodeClients, engine_server: RunningServer, transport: dict[str, Any]
) -> None:
    sid = (await node.connect("a", transport))["id"]

    # Client → server BINARY_EVENT with an ack; the handler's tuple comes back as a BINARY_ACK.
    acked = await node.request("a", "ack", BLOB, {"nested": [ArrayBuffer(b"ab"), "c"]})
    assert acked["args"] == [BLOB, {"nested": [b"ab", "c"]}]

    # Server → client BINARY_EVENT asking for an ack; the client answers with a BINARY_ACK.
    since = node.mark()
    asked = asyncio.ensure_future(
        on_server(
            engine_server,
            lambda: server_socket(engine_server, sid).emit_with_ack(
                "question", {"blob": b"\x00\xff"}, timeout=3
            ),
        )
    )
    question = await node.event("a", "question", since=since)
    assert question["args"] == [{"blob": b"\x00\xff"}]
    node.answer("a", question["ack"], {"echo": b"\x00\xff", "list": [ArrayBuffer(b"\x10")]}, b"\x01")
    answer = await asyncio.wait_for(asked, 5)
    assert answer == [{"echo": b"\x00\xff", "list": [b"\x10"]}, b"\x01"]
    assert all(isinstance(value, bytes) for value in (answer[0]["echo"], answer[0]["list"][0], answer[1]))


# --- (6) reconnection -----------------------------------------------------------------------------


async def test_transport_closed_by_server_reconnects_with_a_new_sid(
    node: NodeClients, engine_server: RunningServer, transport: dict[str, Any]
) -> None:
    first = await node.connect("a", {**transport, **RECONNECTING})
    old = first["id"]
    await node.event("a", "welcome")
    if not transport:
        await node.wait(lambda r: r["type"] == "upgrade")  # cut the upgraded connection

    since = node.mark()
    await on_server(engine_server, lambda: server_socket(engine_server, old).session.close("transport close"))
    gone = await node.wait(lambda r: r["type"] == "disconnect", since=since)
    assert gone["reason"] == "transport close"
    assert gone["active"] is True  # socket.io-client will reconnect by itself
    again = await node.wait(lambda r: r["type"] == "connect", since=since)
    new = again["id"]
    assert new != old
    assert node.of("a", "reconnect_attempt")
    assert len(node.of("a", "open")) == 2  # a new Engine.IO connection, not only a new namespace socket
    welcome = await node.event("a", "welcome", since=since)
    assert welcome["args"] == [{"sid": new, "rooms": [new]}]
    await node.echo("a", "de volta")

    assert await server_disconnect_reason(engine_server, old) == "transport close"
    sockets = await on_server(engine_server, lambda: set(engine_server.app.server.namespaces["/"].sockets))
    assert new in sockets and old not in sockets


def poll_is_pending(running: RunningServer, sid: str) -> bool:
    """On the server loop: ``sid``'s long-polling connection has a GET waiting."""
    return server_socket(running, sid).session.get_waiter is not None


async def test_polling_close_between_two_polls_reaches_the_client_as_transport_close(
    node: NodeClients, engine_server: RunningServer
) -> None:
    """The server closes a polling session while no GET is waiting (a GET was just answered).

    Like the reference server (engine.io's ``Polling.doClose``: "buffering orderly close"), what was
    queued and then the close packet must go out on the client's next GET, so socket.io-client sees
    every event and a clean "transport close", not a failed poll ("transport error").
    """
    sid = (await node.connect("a", {"transports": ["polling"], **RECONNECTING}))["id"]
    await node.event("a", "welcome")
    await until(lambda: on_server(engine_server, poll_is_pending, engine_server, sid))

    async def close_between_polls() -> None:
        socket = server_socket(engine_server, sid)
        socket.emit("adeus", 1)  # answers the waiting GET...
        while socket.session.get_waiter is not None:  # noqa: ASYNC110 - engine state, no event to await
            await asyncio.sleep(0)
        socket.emit("adeus", 2)  # ...and this is queued with no GET waiting, as is the close
        socket.session.close("transport close")

    since = node.mark()
    await on_server(engine_server, close_between_polls)
    gone = await node.wait(lambda r: r["type"] == "disconnect", since=since)
    received = [r["args"] for r in node.records[since:] if r["type"] == "event"]
    assert (received, gone["reason"]) == ([[1], [2]], "transport close")


async def test_polling_session_closed_between_polls_answers_the_next_get_with_queued_output_and_close(
    engine_server: RunningServer,
) -> None:
    """Same as above on the wire, with no timing involved: a raw polling client holding no GET."""
    base = engine_server.url + "/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as http:
        async with http.get(base) as response:
            url = f"{base}&sid={json.loads((await response.text())[1:])['sid']}"
        async with http.post(url, data="40") as response:
            assert response.status == 200
        async with http.get(url) as response:
            sid = json.loads((await response.text()).split("\x1e")[0][2:])["sid"]

        def emit_and_close() -> None:
            socket = server_socket(engine_server, sid)
            socket.emit("adeus")
            socket.session.close("transport close")

        await on_server(engine_server, emit_and_close)
        packets: list[str] = []
        for _ in range(3):  # the reference answers the messages, then a noop and the close packet
            async with http.get(url) as response:
                body = await response.text()
                assert response.status == 200, f"GET after the close: {response.status} {body}"
            packets += body.split("\x1e")
            if "1" in packets:
                break
    assert [p for p in packets if p != "6"] == ['42["adeus"]', "1"]


async def test_server_side_disconnect_does_not_reconnect(
    node: NodeClients, engine_server: RunningServer, transport: dict[str, Any]
) -> None:
    connected = await node.connect("a", {**transport, **RECONNECTING})
    sid = connected["id"]
    engine_sid = (await node.state("a"))["engineId"]

    since = node.mark()
    node.emit("a", "kick")
    gone = await node.wait(lambda r: r["type"] == "disconnect", since=since)
    assert gone["reason"] == "io server disconnect"
    assert gone["active"] is False
    assert await server_disconnect_reason(engine_server, sid) == "io server disconnect"

    # With its last namespace gone the client closes the Engine.IO connection, and the server sees it.
    async def session_closed() -> bool:
        return await on_server(
            engine_server, lambda: engine_sid not in engine_server.app.server.engine.sessions
        )

    await until(session_closed)
    # Absence can only be watched for: six reconnection delays with no attempt and no connect.
    await asyncio.sleep(0.3)
    assert node.of("a", "reconnect_attempt") == []
    assert [r for r in node.records[since:] if r.get("client") == "a" and r["type"] == "connect"] == []
    state = await node.state("a")
    assert state["connected"] is False and state["active"] is False


# --- (7) refused connections ----------------------------------------------------------------------


async def test_connect_error_carries_message_and_data(node: NodeClients, transport: dict[str, Any]) -> None:
    refused = await node.connect("a", {**transport, **RECONNECTING, "auth": {"refuse": True}})
    assert refused["type"] == "connect_error"
    assert refused["message"] == "Unauthorized"
    assert refused["data"] == {"code": "TOKEN_INVALIDO"}
    assert refused["active"] is False  # a refusal by the server is not retried
    assert node.of("a", "event", "welcome") == []

    unknown = await node.connect("b", transport, namespace="/nope")
    assert unknown["type"] == "connect_error"
    assert unknown["message"] == "Invalid namespace"
    assert unknown["data"] is None


# --- (8) multiplexing -----------------------------------------------------------------------------


async def test_two_namespaces_share_one_connection(
    node: NodeClients, engine_server: RunningServer, transport: dict[str, Any]
) -> None:
    main = await node.connect("a", transport)
    chat = await node.connect("a_chat", namespace="/chat", via="a")
    assert main["type"] == chat["type"] == "connect"
    assert main["id"] != chat["id"]
    engine_sid = (await node.state("a"))["engineId"]
    assert (await node.state("a_chat"))["engineId"] == engine_sid

    def same_session() -> bool:
        one = server_socket(engine_server, main["id"])
        two = server_socket(engine_server, chat["id"], "/chat")
        return one.session is two.session and one.session.sid == engine_sid

    assert await on_server(engine_server, same_session) is True

    await node.echo("a_chat", "no chat")
    await node.echo("a", "no principal")
    assert [r["args"] for r in node.of("a_chat", "event", "echo")] == [["no chat"]]
    assert [r["args"] for r in node.of("a", "event", "echo")] == [["no principal"]]

    # Leaving one namespace is a namespace DISCONNECT; the connection and the other namespace stay.
    await node.disconnect("a_chat")
    assert await server_disconnect_reason(engine_server, chat["id"]) == "client namespace disconnect"
    await node.echo("a", "ainda aqui")
    assert (await node.state("a"))["engineId"] == engine_sid
    assert node.of("a", "disconnect") == []


async def test_server_disconnect_of_one_namespace_keeps_the_other(
    node: NodeClients, engine_server: RunningServer, transport: dict[str, Any]
) -> None:
    main = await node.connect("a", transport)
    await node.connect("a_chat", namespace="/chat", via="a")
    engine_sid = (await node.state("a"))["engineId"]

    since = node.mark()
    node.emit("a", "kick")
    gone = await node.wait(lambda r: r["type"] == "disconnect" and r["client"] == "a", since=since)
    assert gone["reason"] == "io server disconnect"
    assert await server_disconnect_reason(engine_server, main["id"]) == "io server disconnect"
    await node.echo("a_chat", "ainda no chat")
    assert (await node.state("a_chat"))["engineId"] == engine_sid
    assert node.of("a_chat", "disconnect") == []


# --- rooms ----------------------------------------------------------------------------------------


async def test_room_broadcasts_reach_members_only(node: NodeClients, transport: dict[str, Any]) -> None:
    await node.connect("a", {**transport, "auth": {"rooms": ["sala"]}})
    await node.connect("b", transport)
    await node.connect("c", transport)
    assert (await node.request("b", "join", "sala"))["args"][0].count("sala") == 1

    since = node.mark()
    node.emit("c", "ns_room", "sala", "news", {"n": 1, "bin": b"\x01"})
    for client in ("a", "b"):
        assert (await node.event(client, "news", since=since))["args"] == [{"n": 1, "bin": b"\x01"}]

    # socket.to(room) skips the sender although it is in the room.
    since = node.mark()
    node.emit("a", "to_room", "sala", "news", {"n": 2})
    assert (await node.event("b", "news", since=since))["args"] == [{"n": 2}]
    for client in ("a", "c"):
        await node.echo(client, "barreira")  # whatever was coming to them has arrived by now
    assert [r["args"] for r in node.of("a", "event", "news")] == [[{"n": 1, "bin": b"\x01"}]]
    assert node.of("c", "event", "news") == []


# --- (9) malformed input on a raw connection ------------------------------------------------------

# Each is what a broken or hostile peer might send after joining "/". Most would make the ``echo``
# handler answer "raw" if the engine were lenient, so a socket that closes without it proves no handler ran.
MALFORMED: dict[str, list[str | bytes]] = {
    "json_cut_short": ['42["echo","raw"'],
    "json_trailing_garbage": ['42["echo","raw"]x'],
    "unknown_socketio_type": ['49["echo","raw"]'],
    "unknown_engineio_type": ['9["echo","raw"]'],
    "event_not_an_array": ['42{"echo":"raw"}'],
    "event_name_not_a_string": ['42[7,"raw"]'],
    "namespace_not_joined": ['42/chat,["echo","raw"]'],
    "attachment_placeholder_out_of_range": ['451-["echo",{"_placeholder":true,"num":3}]', b"\x01"],
    "text_while_attachment_due": ['451-["echo",{"_placeholder":true,"num":0}]', '42["echo","raw"]'],
    "binary_with_no_attachment_due": [b"\x01\x02"],
    "attachments_count_not_a_number": ['45x-["echo",{"_placeholder":true,"num":0}]', b"\x01"],
}


async def raw_join(ws: aiohttp.ClientWebSocketResponse) -> str:
    """Engine.IO open, then Socket.IO CONNECT to "/"; the socket's sid."""
    opened = await ws.receive(timeout=3)
    assert opened.type == aiohttp.WSMsgType.TEXT and opened.data.startswith("0{")
    await ws.send_str("40")
    while True:
        msg = await ws.receive(timeout=3)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        if msg.data.startswith("40{"):
            return str(json.loads(msg.data[2:])["sid"])


@pytest.mark.parametrize("packets", list(MALFORMED.values()), ids=list(MALFORMED))
async def test_malformed_packet_on_raw_websocket_closes_only_that_connection(
    node: NodeClients, engine_server: RunningServer, packets: list[str | bytes]
) -> None:
    await node.connect("bystander", {"transports": ["websocket"]})
    url = engine_server.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as http, http.ws_connect(url, autoping=False) as ws:
        sid = await raw_join(ws)
        await ws.send_str('42["echo","before"]')  # the handler works for well-formed input
        for packet in packets:
            if isinstance(packet, bytes):
                await ws.send_bytes(packet)
            else:
                await ws.send_str(packet)
        received: list[str] = []
        while True:
            msg = await ws.receive(timeout=3)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                break
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            received.append(msg.data)
    assert '42["echo","before"]' in received
    assert not any("raw" in text for text in received), received
    assert await server_disconnect_reason(engine_server, sid) == "parse error"
    await node.echo("bystander", "unaffected")


async def test_malformed_packet_on_raw_polling_closes_only_that_session(
    node: NodeClients, engine_server: RunningServer
) -> None:
    await node.connect("bystander", {"transports": ["polling"]})
    base = engine_server.url + "/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as http:
        async with http.get(base) as response:
            opened = await response.text()
        engine_sid = json.loads(opened[1:])["sid"]
        url = f"{base}&sid={engine_sid}"
        async with http.post(url, data="40") as response:
            assert response.status == 200
        async with http.get(url) as response:
            joined = (await response.text()).split("\x1e")
        sid = json.loads(joined[0][2:])["sid"]
        async with http.post(url, data='42["echo","raw"') as response:
            assert response.status == 400
        async with http.get(url) as response:
            body = await response.text()
        # The session is gone (400), or at most its close packet is still to be collected.
        assert response.status == 400 or (response.status == 200 and "1" in body.split("\x1e")), body
        assert "raw" not in body
    assert await server_disconnect_reason(engine_server, sid) == "parse error"
    await node.echo("bystander", "unaffected")


# --- (10) ordering --------------------------------------------------------------------------------

# Over polling, socket.io-client sends all but the first emit of a loop in one POST, which may carry at
# most max_polling_packets (256) packets: 250 stays under it, as a front end's legitimate burst would.
COUNT = 250


async def test_many_emits_in_one_loop_turn_arrive_in_order(
    node: NodeClients, engine_server: RunningServer, transport: dict[str, Any]
) -> None:
    sid = (await node.connect("a", {**transport, "auth": {"rooms": ["fila"]}}))["id"]
    await node.connect("b", {**transport, "auth": {"rooms": ["fila"]}})
    last = [COUNT - 1]

    # Client → server: one synchronous loop of emits; the echoes come back in the same order.
    since = node.mark()
    node.burst("a", "echo", COUNT)
    await node.wait(
        lambda r: r["type"] == "event" and r.get("event") == "echo" and r["args"] == last, since=since
    )
    assert [r["args"][0] for r in node.of("a", "event", "echo")] == list(range(COUNT))

    # Server → client: one loop turn of socket.emit, then of room broadcasts.
    def emit_many() -> None:
        socket = server_socket(engine_server, sid)
        for i in range(COUNT):
            socket.emit("seq", i)

    await on_server(engine_server, emit_many)
    await node.wait(lambda r: r["type"] == "event" and r.get("event") == "seq" and r["args"] == last)
    assert [r["args"][0] for r in node.of("a", "event", "seq")] == list(range(COUNT))

    def broadcast_many() -> None:
        namespace = engine_server.app.server.namespaces["/"]
        for i in range(COUNT):
            namespace.emit("fila", i, to="fila")

    await on_server(engine_server, broadcast_many)
    for client in ("a", "b"):
        await node.wait(
            lambda r, c=client: r.get("client") == c and r.get("event") == "fila" and r["args"] == last
        )
        assert [r["args"][0] for r in node.of(client, "event", "fila")] == list(range(COUNT))


async def test_burst_larger_than_max_payload_is_split_by_the_client_and_accepted(
    node: NodeClients, transport: dict[str, Any]
) -> None:
    # 6 x 300 kB in one turn: over polling the client must cut its POSTs at the handshake's
    # maxPayload (1 MB), and the server must take every one of them, in order.
    await node.connect("a", transport)
    since = node.mark()
    node.burst("a", "size", 6, "x" * 300_000)
    await node.wait(lambda r: r.get("event") == "size" and r["args"][0] == 5, since=since)
    assert [r["args"] for r in node.of("a", "event", "size")] == [[i, 300_000] for i in range(6)]
    # Binary: 2 x 400 kB is 2 x 533 kB of base64 over polling, more than one POST may carry.
    since = node.mark()
    node.burst("a", "size", 2, b"\x01" * 400_000)
    await node.wait(lambda r: r.get("event") == "size" and r["args"] == [1, 400_000], since=since)
    assert [r["args"] for r in node.of("a", "event", "size")][6:] == [[0, 400_000], [1, 400_000]]
    assert node.of("a", "disconnect") == []
