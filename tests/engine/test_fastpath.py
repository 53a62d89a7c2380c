"""The hot path, in-process: a broadcast burst reaches each WebSocket with ONE transport.write.

The engine runs as a plain ASGI app here, with a fake asyncio transport in the raw-transport scope
extension (what ``EngineWebSocketProtocol`` provides under uvicorn), so we can count writes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from atendimento.engine import Server, Socket
from atendimento.engine.engineio import RAW_TRANSPORT_EXTENSION

from .engineio.protocol.test_frames import parse


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closing = False
        self.buffered = 0

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True


def frames(data: bytes) -> list[str | bytes]:
    """The payloads of the server frames in ``data``: text frames decoded, binary ones as bytes."""
    return [bytes(frame.data).decode() if frame.opcode == 1 else bytes(frame.data) for frame in parse(data)]


class WsClient:
    """Drives one WebSocket ASGI connection: ``put`` client messages, read frames from ``transport``."""

    def __init__(self, app: Any) -> None:
        self.transport = FakeTransport()
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        scope = {
            "type": "websocket",
            "path": "/socket.io/",
            "query_string": b"EIO=4&transport=websocket",
            "headers": [(b"host", b"test")],
            "client": ("127.0.0.1", 5000),
            "extensions": {RAW_TRANSPORT_EXTENSION: {"transport": self.transport}},
        }
        self.incoming.put_nowait({"type": "websocket.connect"})

        async def send(message: dict[str, Any]) -> None:
            self.sent.append(message)

        self.task = asyncio.get_running_loop().create_task(app(scope, self.incoming.get, send))

    def put(self, text: str) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "text": text})

    def received(self) -> list[str | bytes]:
        return [f for chunk in self.transport.writes for f in frames(chunk)]

    async def close(self) -> None:
        self.incoming.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(self.task, 5)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def connected_clients(server: Server, count: int, nsp: str = "/atendimento") -> list[WsClient]:
    app = server.asgi()
    clients = [WsClient(app) for _ in range(count)]
    await settle()
    for client in clients:
        assert client.sent[0] == {"type": "websocket.accept"}
        assert str(client.received()[0]).startswith("0{")
        client.put(f"40{nsp},")
    await settle()
    for client in clients:
        assert str(client.received()[-1]).startswith(f"40{nsp},{{")
        client.transport.writes.clear()
    return clients


async def test_burst_is_one_write_per_socket_and_no_task_per_recipient() -> None:
    server = Server()
    ns = server.of("/atendimento")

    @ns.on_connect
    def joined(socket: Socket, auth: dict[str, Any]) -> None:
        socket.join("sala")

    clients = await connected_clients(server, 5)
    tasks_before = len(asyncio.all_tasks())
    for i in range(100):
        ns.emit("ticket:novo", {"seq": i}, to="sala")
    assert len(asyncio.all_tasks()) == tasks_before  # nothing scheduled per recipient
    assert all(not c.transport.writes for c in clients)  # nothing written until the loop turns
    await asyncio.sleep(0)
    for client in clients:
        assert len(client.transport.writes) == 1
        got = client.received()
        assert got == [f'42/atendimento,["ticket:novo",{{"seq":{i}}}]' for i in range(100)]
    # The very same frame bytes object was appended for every recipient: encoded once.
    for client in clients:
        await client.close()


async def test_exclusions_and_each_socket_once() -> None:
    server = Server()
    ns = server.of("/atendimento")
    clients = await connected_clients(server, 3)
    sids = list(ns.sockets)
    a, b, c = (ns.sockets[s] for s in sids)
    a.join("x")
    a.join("y")
    b.join("y")
    c.join("x")
    c.join("z")
    ns.emit("e", 1, to=["x", "y"], exclude="z")
    ns.to("x").to("y").except_("nada").emit("f", 2)
    ns.emit("g", 3, exclude_sids=a.sid)
    a.to("y").emit("h", 4)  # everyone in y but a
    await asyncio.sleep(0)
    by_sid = {sid: [str(f) for f in client.received()] for sid, client in zip(sids, clients, strict=True)}
    assert by_sid[a.sid] == ['42/atendimento,["e",1]', '42/atendimento,["f",2]']
    assert by_sid[b.sid] == [
        '42/atendimento,["e",1]',
        '42/atendimento,["f",2]',
        '42/atendimento,["g",3]',
        '42/atendimento,["h",4]',
    ]
    assert by_sid[c.sid] == ['42/atendimento,["f",2]', '42/atendimento,["g",3]']
    assert ns.sockets_in("y") and {s.sid for s in ns.sockets_in("y")} == {a.sid, b.sid}
    assert a.rooms == frozenset({"x", "y", a.sid})
    for client in clients:
        await client.close()


async def test_slow_consumer_is_closed_without_hurting_others() -> None:
    server = Server(max_buffered_bytes=10_000)
    ns = server.of("/atendimento")
    reasons: list[str] = []
    ns.on_disconnect(lambda socket, reason: reasons.append(reason))
    slow, fast = await connected_clients(server, 2)
    slow.transport.buffered = 50_000  # its socket stopped draining
    ns.emit("e", "x" * 100)
    await asyncio.sleep(0)
    await settle()
    assert slow.transport.closing and reasons == ["transport error"]
    assert len(ns.sockets) == 1
    fast.transport.writes.clear()
    ns.emit("e", "still flowing")
    await asyncio.sleep(0)
    assert fast.received() == ['42/atendimento,["e","still flowing"]']
    # Within one turn, too much pending output closes the connection before it is even written.
    ns.emit("e", "y" * 20_000)
    await settle()
    assert fast.transport.closing and not ns.sockets
    for client in (slow, fast):
        await client.close()


async def test_emits_during_connect_handler_follow_the_connect_reply() -> None:
    server = Server()
    ns = server.of("/atendimento")

    @ns.on_connect
    async def hello(socket: Socket, auth: dict[str, Any]) -> None:
        socket.emit("first", auth)
        await asyncio.sleep(0)
        socket.emit("second")

    app = server.asgi()
    client = WsClient(app)
    await settle()
    client.put('40/atendimento,{"token":"t"}')
    await settle()
    got = [str(f) for f in client.received()[1:]]
    assert got[0].startswith("40/atendimento,{")
    assert got[1:] == ['42/atendimento,["first",{"token":"t"}]', '42/atendimento,["second"]']
    await client.close()
