"""Several namespaces on one connection, and room broadcasts.

The real socket.io-client 4.8.1 (node) against our engine on real uvicorn; most scenarios run on
three transports (the ``transport`` fixture, interop_node/conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from apoio_node import NodeClients

from ..conftest import RunningServer
from .apoio import on_server, server_disconnect_reason, server_socket

pytestmark = pytest.mark.node


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
