"""Acknowledgements both ways: the handler's return values, the server's emit_with_ack, timeouts.

The real socket.io-client 4.8.1 (node) against our engine on real uvicorn; most scenarios run on
three transports (the ``transport`` fixture, interop_node/conftest.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from apoio_node import NodeClients

from ..conftest import RunningServer
from .apoio import on_server, server_socket

pytestmark = pytest.mark.node


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
