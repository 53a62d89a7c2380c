"""python-socketio's AsyncClient (the pinned reference client) against our engine on real uvicorn.

Every scenario runs on long-polling only, WebSocket only, and polling upgraded to WebSocket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import socketio

from .conftest import RunningServer

TRANSPORTS = {"polling": ["polling"], "websocket": ["websocket"], "upgrade": None}


@pytest.fixture(params=list(TRANSPORTS))
def transports(request: pytest.FixtureRequest) -> list[str] | None:
    return TRANSPORTS[request.param]


class Inbox:
    """Collects events a client receives; ``get(event)`` waits for the next one."""

    def __init__(self) -> None:
        self.queues: dict[str, asyncio.Queue[Any]] = {}

    def queue(self, event: str) -> asyncio.Queue[Any]:
        return self.queues.setdefault(event, asyncio.Queue())

    def handler(self, event: str) -> Callable[..., Any]:
        async def put(*args: Any) -> None:
            self.queue(event).put_nowait(args)

        return put

    async def get(self, event: str) -> Any:
        return await asyncio.wait_for(self.queue(event).get(), 5.0)


ClientFactory = Callable[..., Any]


@pytest.fixture
async def connect(
    engine_server: RunningServer, transports: list[str] | None
) -> AsyncIterator[Callable[..., Any]]:
    clients: list[socketio.AsyncClient] = []

    async def make(
        auth: dict[str, Any] | None = None, namespaces: list[str] | None = None, **handlers: Any
    ) -> tuple[socketio.AsyncClient, Inbox]:
        client = socketio.AsyncClient(reconnection=False)
        inbox = Inbox()
        for event in ("welcome", "echo", "news", "question", "disconnect"):
            client.on(event, handlers.get(event) or inbox.handler(event))
        for namespace in namespaces or ["/"]:
            client.on(
                "connect_error", handlers.get("connect_error") or inbox.handler("connect_error"), namespace
            )
        clients.append(client)
        await client.connect(
            engine_server.url, auth=auth or {}, transports=transports, namespaces=namespaces, wait_timeout=5
        )
        if transports is None:  # give the upgrade time to complete so the test runs on WebSocket
            for _ in range(100):
                if client.transport() == "websocket":
                    break
                await asyncio.sleep(0.02)
            assert client.transport() == "websocket"
        return client, inbox

    yield make
    for client in clients:
        if client.connected:
            await client.disconnect()


async def test_connect_and_echo(connect: Any) -> None:
    client, inbox = await connect(auth={"token": "abc"})
    (welcome,) = await inbox.get("welcome")
    assert welcome["sid"] == client.get_sid("/")
    await client.emit("echo", {"texto": "olá", "n": [1, 2.5, None, True]})
    assert await inbox.get("echo") == ({"texto": "olá", "n": [1, 2.5, None, True]},)


async def test_event_ack_returns_handler_value(connect: Any) -> None:
    client, _ = await connect()
    assert await client.call("ack", {"a": 1}, timeout=5) == {"a": 1}
    # A handler returning a tuple acks with several arguments.
    got: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()
    await client.emit("ack", (1, "dois"), callback=lambda *args: got.set_result(args))
    assert await asyncio.wait_for(got, 5) == (1, "dois")


async def test_binary_payloads_both_ways(connect: Any) -> None:
    client, inbox = await connect()
    blob = bytes(range(256)) * 4
    await client.emit("echo", {"file": blob, "name": "x.bin"})
    (echoed,) = await inbox.get("echo")
    assert echoed == {"file": blob, "name": "x.bin"}
    assert await client.call("ack", [b"\x00\x01", "text", b"\xff"], timeout=5) == [
        b"\x00\x01",
        "text",
        b"\xff",
    ]


async def test_server_asks_client_with_ack(connect: Any) -> None:
    async def answer(*args: Any) -> Any:
        return {"got": list(args)}

    client, _ = await connect(question=answer)
    reply = await client.call("ask", "pergunta", timeout=5)
    assert reply == {"answer": [{"got": ["pergunta"]}]}


async def test_room_broadcasts(connect: Any) -> None:
    a, inbox_a = await connect(auth={"rooms": ["sala"]})
    b, inbox_b = await connect()
    c, inbox_c = await connect()
    assert "sala" in await b.call("join", "sala", timeout=5)

    await c.emit("ns_room", ("sala", "news", {"n": 1}))
    assert await inbox_a.get("news") == ({"n": 1},)
    assert await inbox_b.get("news") == ({"n": 1},)

    # socket.to(room) skips the sender, even though it is in the room.
    await a.emit("to_room", ("sala", "news", {"n": 2}))
    assert await inbox_b.get("news") == ({"n": 2},)
    await c.emit("echo", "sync")  # c gets nothing from the room; its echo proves the pipe is drained
    await inbox_c.get("echo")
    await a.emit("echo", "sync")
    await inbox_a.get("echo")
    assert inbox_a.queue("news").empty()
    assert inbox_c.queue("news").empty()

    await b.emit("leave", "sala")
    await c.emit("ns_room", ("sala", "news", {"n": 3}))
    assert await inbox_a.get("news") == ({"n": 3},)
    await b.emit("echo", "sync")
    await inbox_b.get("echo")
    assert inbox_b.queue("news").empty()


async def test_client_disconnect_reason(
    connect: Any, engine_server: RunningServer, transports: list[str] | None
) -> None:
    client, _ = await connect()
    sid = client.get_sid("/")
    await client.disconnect()
    reason = await asyncio.to_thread(engine_server.app.wait_disconnect, sid)
    if transports == ["polling"]:
        assert reason == "client namespace disconnect"
    else:
        # python-socketio queues DISCONNECT and then closes the WebSocket without waiting for its
        # writer, so the server may only see the socket close: both are what the wire says.
        assert reason in ("client namespace disconnect", "transport close")


async def test_server_disconnect(connect: Any, engine_server: RunningServer) -> None:
    reasons: asyncio.Queue[Any] = asyncio.Queue()

    async def on_disconnect(*args: Any) -> None:
        reasons.put_nowait(args)

    client, _ = await connect(disconnect=on_disconnect)
    sid = client.get_sid("/")
    await client.emit("kick")
    # python-socketio spells the reason of a server DISCONNECT packet its own way.
    assert await asyncio.wait_for(reasons.get(), 5) == (socketio.AsyncClient.reason.SERVER_DISCONNECT,)
    assert await asyncio.to_thread(engine_server.app.wait_disconnect, sid) == "io server disconnect"


async def test_refused_connection_gets_message_and_data(connect: Any) -> None:
    errors: asyncio.Queue[Any] = asyncio.Queue()

    async def on_error(data: Any) -> None:
        errors.put_nowait(data)

    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(auth={"refuse": True}, connect_error=on_error)
    assert await asyncio.wait_for(errors.get(), 5) == {
        "message": "Unauthorized",
        "data": {"code": "TOKEN_INVALIDO"},
    }


async def test_unknown_namespace_is_refused(connect: Any) -> None:
    errors: asyncio.Queue[Any] = asyncio.Queue()

    async def on_error(data: Any) -> None:
        errors.put_nowait(data)

    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(namespaces=["/nope"], connect_error=on_error)
    assert await asyncio.wait_for(errors.get(), 5) == {"message": "Invalid namespace"}


async def test_second_namespace_on_same_connection(connect: Any, engine_server: RunningServer) -> None:
    client, inbox = await connect(namespaces=["/", "/chat"])
    chat_inbox: asyncio.Queue[Any] = asyncio.Queue()

    async def on_chat_echo(*args: Any) -> None:
        chat_inbox.put_nowait(args)

    client.on("echo", on_chat_echo, namespace="/chat")
    await client.emit("echo", "no chat", namespace="/chat")
    assert await asyncio.wait_for(chat_inbox.get(), 5) == ("no chat",)
    await client.emit("echo", "no main")
    assert await inbox.get("echo") == ("no main",)


async def test_handler_exception_never_reaches_client(connect: Any) -> None:
    client, inbox = await connect()
    with pytest.raises(socketio.exceptions.TimeoutError):
        await client.call("boom", timeout=0.5)
    await client.emit("echo", "still alive")
    assert await inbox.get("echo") == ("still alive",)


async def test_unknown_event_handler_acks(connect: Any) -> None:
    client, _ = await connect()
    assert await client.call("sem:handler", {"x": 1}, timeout=5) == {
        "unknown": "sem:handler",
        "args": [{"x": 1}],
    }
