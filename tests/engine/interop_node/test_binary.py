"""Binary payloads both ways: nested, large, empty, in acks.

The real socket.io-client 4.8.1 (node) against our engine on real uvicorn; most scenarios run on
three transports (the ``transport`` fixture, interop_node/conftest.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from apoio_node import ArrayBuffer, NodeClients

from ..conftest import RunningServer
from .apoio import on_server, server_socket

pytestmark = pytest.mark.node


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
