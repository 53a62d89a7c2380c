"""Engine.IO transports over real uvicorn, spoken raw with aiohttp: the HTTP rules, CORS, limits,
strict parsing, heartbeat, the ASGI fallback and the router."""

from __future__ import annotations

import asyncio
import json
import logging
import socket as stdlib_socket
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
import socketio

from atendimento.engine import Server, Socket

from ..app import build_test_server
from ..conftest import RunningServer

Serve = Callable[..., RunningServer]
FLOOD = 256  # x 64 KiB: more than loopback socket buffers absorb


async def handshake(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(f"{url}/socket.io/?EIO=4&transport=polling") as response:
        assert response.status == 200
        body = await response.text()
    assert body.startswith("0")
    return str(json.loads(body[1:])["sid"])


async def polling_session(http: aiohttp.ClientSession, url: str) -> tuple[str, str]:
    """A handshake over polling: the Engine.IO sid and the session's polling URL."""
    sid = await handshake(http, url)
    return sid, f"{url}/socket.io/?EIO=4&transport=polling&sid={sid}"


async def connect_over_polling(http: aiohttp.ClientSession, base: str) -> None:
    """Connect to the main namespace (a ``40`` packet) on a polling session."""
    async with http.post(base, data=b"40") as response:
        assert response.status == 200


async def test_polling_handshake_and_errors(engine_server: RunningServer) -> None:
    url = engine_server.url
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/socket.io/?EIO=4&transport=polling") as response:
            assert response.headers["content-type"].startswith("text/plain")
            opened = json.loads((await response.text())[1:])
        assert set(opened) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
        assert opened["upgrades"] == ["websocket"] and opened["maxPayload"] == 1_000_000

        cases = [
            ("GET", "EIO=4&transport=polling&sid=nope", {"code": 1, "message": "Session ID unknown"}),
            ("POST", "EIO=4&transport=polling&sid=nope", {"code": 1, "message": "Session ID unknown"}),
            ("GET", "EIO=3&transport=polling", {"code": 5, "message": "Unsupported protocol version"}),
            ("GET", "transport=polling", {"code": 5, "message": "Unsupported protocol version"}),
            ("GET", "EIO=4&transport=carrier-pigeon", {"code": 0, "message": "Transport unknown"}),
            ("POST", "EIO=4&transport=polling", {"code": 2, "message": "Bad handshake method"}),
        ]
        for method, query, error in cases:
            async with http.request(method, f"{url}/socket.io/?{query}") as response:
                assert response.status == 400, (method, query)
                assert response.headers["content-type"] == "application/json"
                assert await response.json() == error


async def test_polling_post_and_get_with_socketio(engine_server: RunningServer) -> None:
    url = engine_server.url
    async with aiohttp.ClientSession() as http:
        _, base = await polling_session(http, url)
        async with http.post(base, data=b"40") as response:
            assert await response.text() == "ok"
        async with http.get(base) as response:
            body = (await response.text()).split("\x1e")
        assert body[0].startswith("40{") and body[1].startswith('42["welcome"')
        async with http.post(base, data=b'42["echo","a"]\x1e421["ack",1,2]') as response:
            assert response.status == 200
        async with http.get(base) as response:
            assert (await response.text()).split("\x1e") == ['42["echo","a"]', "431[1,2]"]


async def test_overlapping_get_closes_session(engine_server: RunningServer) -> None:
    url = engine_server.url
    async with aiohttp.ClientSession() as http:
        _, base = await polling_session(http, url)
        first = asyncio.ensure_future(http.get(base))
        await asyncio.sleep(0.1)
        async with http.get(base) as second:
            assert second.status == 400
        async with await first as response:
            assert await response.text() == "1"
        async with http.get(base) as response:
            assert response.status == 400


async def test_post_larger_than_max_payload_closes_session(serve_app: Serve) -> None:
    running = serve_app(build_test_server(max_payload_bytes=1000).server.asgi())
    async with aiohttp.ClientSession() as http:
        _, base = await polling_session(http, running.url)
        async with http.post(base, data=b"4" + b"x" * 2000) as response:
            assert response.status == 400
        async with http.get(base) as response:
            assert response.status == 400


async def test_invalid_packet_closes_with_one_log_line(
    engine_server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = engine_server.url
    caplog.set_level(logging.INFO, logger="atendimento.engine")
    async with aiohttp.ClientSession() as http:
        sid, base = await polling_session(http, url)
        await connect_over_polling(http, base)
        async with http.post(base, data=b'42["echo"]\x1e42{}') as response:
            assert response.status == 400
        async with http.get(base) as response:
            assert response.status == 400
    lines = [r for r in caplog.records if sid in r.getMessage()]
    assert len(lines) == 1 and "invalid packet" in lines[0].getMessage()
    assert lines[0].exc_info is None


@pytest.mark.parametrize(
    "bad",
    [
        '42["connect"]',
        "42abc[1]",
        "4{}",
        '42["x"',
        "40/nowhere,",
        "41/chat,",
        "7",
        '452-["x",{"_placeholder":true,"num":0}]',
    ],
)
async def test_websocket_protocol_errors_close_connection(engine_server: RunningServer, bad: str) -> None:
    ws_url = engine_server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url) as ws:
        assert (await ws.receive_str()).startswith("0{")
        await ws.send_str("40")
        assert (await ws.receive_str()).startswith("40{")
        await ws.receive_str()  # welcome
        await ws.send_str(bad)
        if bad == "40/nowhere,":  # unknown namespace: refused, not a protocol error
            assert await ws.receive_str() == '44/nowhere,{"message":"Invalid namespace"}'
            return
        if bad.startswith("452-"):
            await ws.send_str('42["echo"]')  # text while an attachment is due
        message = await asyncio.wait_for(ws.receive(), 5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_cors(serve_app: Serve) -> None:
    same_origin = serve_app(Server().asgi())
    listed = serve_app(Server(cors_origins=["http://localhost:5173"]).asgi())
    anyone = serve_app(Server(cors_origins=["*"]).asgi())
    path = "/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as http:

        async def headers(running: RunningServer, origin: str, method: str = "GET") -> Any:
            extra = {"Origin": origin, "Access-Control-Request-Headers": "content-type"}
            async with http.request(method, running.url + path, headers=extra) as response:
                return response.status, response.headers

        _, found = await headers(same_origin, "http://evil.example")
        assert "access-control-allow-origin" not in found
        _, found = await headers(listed, "http://localhost:5173")
        assert found["access-control-allow-origin"] == "http://localhost:5173"
        assert found["access-control-allow-credentials"] == "true"
        _, found = await headers(listed, "http://evil.example")
        assert "access-control-allow-origin" not in found
        _, found = await headers(anyone, "http://evil.example")
        assert found["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in found
        status, found = await headers(listed, "http://localhost:5173", "OPTIONS")
        assert status == 204 and "POST" in found["access-control-allow-methods"]
        allowed = {h.strip().lower() for h in found["access-control-allow-headers"].split(",")}
        assert {"content-type", "authorization", "idempotency-key"} <= allowed
        status, found = await headers(listed, "http://evil.example", "OPTIONS")
        assert status == 204 and "access-control-allow-origin" not in found

        # WebSocket: a browser page from an unlisted origin may not open one.
        ws_path = listed.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(ws_path, headers={"Origin": "http://evil.example"})
        async with http.ws_connect(ws_path, headers={"Origin": "http://localhost:5173"}) as ws:
            assert (await ws.receive_str()).startswith("0{")


async def test_heartbeat_and_connect_timeout_wiring(serve_app: Serve) -> None:
    """The wiring, with short intervals: pings reach the client, pongs the session, and a missing pong
    or CONNECT closes it (when each is due: tests/engine/engineio/protocol/test_session.py, fake clock)."""
    test_app = build_test_server(ping_interval_ms=100, ping_timeout_ms=100, connect_timeout_ms=300)
    running = serve_app(test_app.server.asgi())
    ws_url = running.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as http:
        # A client that answers pings stays: each pong is followed by the next ping, not a close
        # (an unheard pong would leave the first ping in flight until the ping timeout closed it).
        async with http.ws_connect(ws_url, autoping=False) as ws:
            await ws.receive_str()
            await ws.send_str("40")
            await ws.receive_str()
            await ws.receive_str()  # welcome
            for _ in range(3):
                assert await asyncio.wait_for(ws.receive_str(), 2) == "2"
                await ws.send_str("3")

        # One that never answers is closed with "ping timeout".
        async with http.ws_connect(ws_url, autoping=False) as ws:
            await ws.receive_str()
            await ws.send_str("40")
            await ws.receive_str()
            sid = json.loads((await ws.receive_str())[len('42["welcome",') : -1])["sid"]
            assert await ws.receive_str() == "2"
            message = await asyncio.wait_for(ws.receive(), 2)
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert await asyncio.to_thread(test_app.wait_disconnect, sid) == "ping timeout"

        # One that never joins a namespace is closed after connect_timeout, pongs or not.
        async with http.ws_connect(ws_url) as ws:
            await ws.receive_str()
            started = asyncio.get_running_loop().time()
            while True:
                message = await asyncio.wait_for(ws.receive(), 2)
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                try:
                    await ws.send_str("3")
                except aiohttp.ClientConnectionResetError:
                    break
            assert asyncio.get_running_loop().time() - started < 1.0


async def test_asgi_fallback_without_raw_transport(serve_app: Serve) -> None:
    """Under uvicorn's stock WebSocket protocol there is no raw transport: everything goes via ASGI."""
    test_app = build_test_server()
    running = serve_app(test_app.server.asgi(), ws="websockets-sansio")
    received: asyncio.Queue[Any] = asyncio.Queue()
    client = socketio.AsyncClient(reconnection=False)
    client.on("echo", lambda *args: received.put_nowait(args))
    await client.connect(running.url, transports=["websocket"], wait_timeout=5)
    await client.emit("echo", {"bin": b"\x00\x01", "n": 1})
    assert await asyncio.wait_for(received.get(), 5) == ({"bin": b"\x00\x01", "n": 1},)
    assert await client.call("ack", "x", timeout=5) == "x"
    sid = client.get_sid("/")
    await client.emit("kick")
    assert await asyncio.to_thread(test_app.wait_disconnect, sid) == "io server disconnect"
    await client.disconnect()


async def test_router_sends_other_paths_and_lifespan_to_other_app(serve_app: Serve) -> None:
    seen: list[str] = []

    async def other(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["type"])
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].replace("lifespan.", "")
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    server = Server()
    running = serve_app(server.asgi(other), lifespan="on")
    async with aiohttp.ClientSession() as http:
        async with http.get(running.url + "/api/health") as response:
            assert await response.text() == "/api/health"
        sid = await handshake(http, running.url)
        assert sid
    assert seen == ["lifespan", "http"]


async def test_slow_websocket_reader_is_disconnected(serve_app: Serve) -> None:
    """A client that stops reading fills the socket buffers; past max_buffered_bytes it is dropped."""
    server = Server(max_buffered_bytes=256 * 1024, serve_main_namespace=True)
    ns = server.of("/")
    reasons: list[str] = []
    ns.on_disconnect(lambda socket, reason: reasons.append(reason))

    @ns.on("flood")
    async def flood(socket: Socket) -> None:
        for _ in range(FLOOD):  # one 64 KiB event per loop turn: only a reader that stalls falls behind
            ns.emit("big", "x" * 64 * 1024)
            await asyncio.sleep(0.002)

    running = serve_app(server.asgi())
    raw = stdlib_socket.socket()
    raw.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_RCVBUF, 4096)  # fill up sooner
    raw.connect(("127.0.0.1", running.port))
    reader, writer = await asyncio.open_connection(sock=raw)
    writer.write(
        b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )

    def masked(text: str) -> bytes:
        data = text.encode()
        return bytes((0x81, 0x80 | len(data))) + b"\x00\x00\x00\x00" + data

    await reader.readuntil(b"\r\n\r\n")  # a client may not send frames before the 101
    writer.write(masked("40"))
    await asyncio.sleep(0.3)
    # A second, well-behaved client keeps receiving.
    good = socketio.AsyncClient(reconnection=False)
    bigs: list[Any] = []
    good.on("big", lambda *args: bigs.append(args))
    await good.connect(running.url, transports=["websocket"], wait_timeout=5)
    writer.write(masked('42["flood"]'))
    for _ in range(200):
        if reasons:
            break
        await asyncio.sleep(0.05)
    assert reasons == ["transport error"]
    for _ in range(200):
        if len(bigs) == FLOOD:
            break
        await asyncio.sleep(0.05)
    assert len(bigs) == FLOOD and good.connected
    await good.disconnect()
    writer.close()


async def test_upgrade_ends_a_pending_get_and_moves_buffered_output(engine_server: RunningServer) -> None:
    url = engine_server.url
    async with aiohttp.ClientSession() as http:
        sid, base = await polling_session(http, url)
        await connect_over_polling(http, base)
        async with http.get(base) as response:
            assert (await response.text()).startswith("40{")
        pending = asyncio.ensure_future(http.get(base))
        await asyncio.sleep(0.05)
        ws_url = url.replace("http", "ws") + f"/socket.io/?EIO=4&transport=websocket&sid={sid}"
        async with http.ws_connect(ws_url) as ws:
            await ws.send_str("2probe")
            assert await ws.receive_str() == "3probe"
            async with await pending as response:
                assert await response.text() == "6"
            # Output produced while upgrading waits in the session and goes out on the WebSocket.
            async with http.post(base, data=b'42["echo","during upgrade"]') as response:
                assert response.status == 200
            async with http.get(base) as response:
                assert await response.text() == "6"
            await ws.send_str("5")
            assert await ws.receive_str() == '42["echo","during upgrade"]'
            await ws.send_str('42["echo","after"]')
            assert await ws.receive_str() == '42["echo","after"]'
            async with http.get(base) as response:
                assert response.status == 400  # polling is over for this session


def test_server_survives_a_new_event_loop() -> None:
    """A Server built once and served by two successive loops (test runs, restarts) rebinds itself."""
    from ..test_fastpath import WsClient, settle

    server = Server(serve_main_namespace=True)
    ns = server.of("/")

    async def session() -> None:
        client = WsClient(server.asgi())
        await settle()
        client.put("40")
        await settle()
        assert len(ns.sockets) == 1
        ns.emit("hello")
        await asyncio.sleep(0)
        assert client.received()[-1] == '42["hello"]'

    asyncio.run(session())
    asyncio.run(session())


async def test_server_close_of_a_polling_session_reaches_its_next_gets(engine_server: RunningServer) -> None:
    """Queued events first, then the close packet alone (socket.io-client would drop events that share
    a payload with the close), then the session is gone."""
    url = engine_server.url
    async with aiohttp.ClientSession() as http:
        _, base = await polling_session(http, url)
        await connect_over_polling(http, base)
        async with http.get(base) as response:
            socket_sid = json.loads((await response.text()).split("\x1e")[0][2:])["sid"]

        def close_with_output() -> None:
            socket = engine_server.app.server.of("/").sockets[socket_sid]
            socket.emit("adeus", 2)
            socket.session.close("forced close")

        engine_server.call(close_with_output)
        async with http.get(base) as response:
            assert await response.text() == '42["adeus",2]'
        async with http.get(base) as response:
            assert await response.text() == "1"
        async with http.get(base) as response:
            assert response.status == 400
