"""Malformed input on a raw connection closes that connection only, and runs no handler.

The real socket.io-client 4.8.1 (node) against our engine on real uvicorn; most scenarios run on
three transports (the ``transport`` fixture, interop_node/conftest.py).
"""

from __future__ import annotations

import json

import aiohttp
import pytest
from apoio_node import NodeClients

from ..conftest import RunningServer
from .apoio import server_disconnect_reason

pytestmark = pytest.mark.node


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
