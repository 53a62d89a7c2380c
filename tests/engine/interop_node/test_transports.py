"""Transports: WebSocket only, long-polling only, the client's default (polling, then the upgrade), a
client's disconnect and the heartbeat.

The real socket.io-client 4.8.1 (node) against our engine on real uvicorn; most scenarios run on
three transports (the ``transport`` fixture, interop_node/conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from apoio_node import NodeClients

from ..app import build_test_server
from ..conftest import RunningServer
from .apoio import CARRIED, on_server, server_disconnect_reason, server_socket, until

pytestmark = pytest.mark.node


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
