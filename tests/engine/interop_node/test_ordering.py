"""Order: many emits in one loop turn arrive in order; a burst over max_payload is split and accepted.

The real socket.io-client 4.8.1 (node) against our engine on real uvicorn; most scenarios run on
three transports (the ``transport`` fixture, interop_node/conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from apoio_node import NodeClients

from ..conftest import RunningServer
from .apoio import on_server, server_socket

pytestmark = pytest.mark.node


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
