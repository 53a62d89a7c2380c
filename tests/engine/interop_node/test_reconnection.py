"""How a connection ends, and whether the client comes back: transport closes (with a new sid), polling
sessions closed between polls, server-side disconnects (no reconnection), refused connections.

The real socket.io-client 4.8.1 (node) against our engine on real uvicorn; most scenarios run on
three transports (the ``transport`` fixture, interop_node/conftest.py).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from apoio_node import NodeClients

from atendimento.engine import Reason

from ..conftest import RunningServer
from .apoio import RECONNECTING, on_server, server_disconnect_reason, server_socket, until

pytestmark = pytest.mark.node


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
    await on_server(
        engine_server, lambda: server_socket(engine_server, old).session.close(Reason.TRANSPORT_CLOSE)
    )
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
        socket.session.close(Reason.TRANSPORT_CLOSE)

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
            socket.session.close(Reason.TRANSPORT_CLOSE)

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
