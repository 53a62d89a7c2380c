"""Cheap refusals at the engine level: the rate-limited refusal log, the address key of the
per-address cap, a packet whose handling fails for any reason, and "/" refused unless served."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import aiohttp
import pytest

from atendimento.engine import Server
from atendimento.engine.engineio import EngineConfig, EngineIOServer, EngineSession
from atendimento.engine.engineio.addresses import UNKNOWN, address_key
from atendimento.engine.engineio.refusals import RefusalLog

from ..conftest import RunningServer

Serve = Callable[..., RunningServer]


def test_refusal_log_ceiling_and_suppressed_count(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    refused = RefusalLog(logging.getLogger("teste.recusas"), 3, 10.0, clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="teste.recusas")
    logged = [refused("line %d", i) for i in range(10)]
    assert logged == [True] * 3 + [False] * 7
    assert [r.getMessage() for r in caplog.records] == ["line 0", "line 1", "line 2"]
    now[0] = 10.0  # the next interval: the count of the last one comes first, then the line
    assert refused("line %d", 10)
    assert [r.getMessage() for r in caplog.records][3:] == [
        "7 refusal log lines suppressed in the last 10 s",
        "line 10",
    ]
    assert refused.suppressed_total == 7


@pytest.mark.parametrize(
    ("client", "key"),
    [
        (("203.0.113.9", 5000), "203.0.113.9"),
        (("2001:db8:1:2:aaaa::1", 5000), "2001:db8:1:2::/64"),
        (("2001:db8:1:2:bbbb::7", 5000), "2001:db8:1:2::/64"),  # same /64: same bucket
        (("2001:db8:1:3::1", 5000), "2001:db8:1:3::/64"),
        (("::ffff:198.51.100.4", 5000), "198.51.100.4"),
        (("fe80::1%eth0", 5000), "fe80::/64"),
        (None, UNKNOWN),
    ],
)
def test_address_key(client: tuple[str, int] | None, key: str) -> None:
    assert address_key({"client": client}) == key


class _Failing:
    """An Engine.IO handler whose message handling fails with an error of ours, not a ProtocolError."""

    def on_open(self, session: EngineSession) -> None:
        pass

    def on_message(self, session: EngineSession, data: str | bytes) -> None:
        raise RuntimeError("a bug the packet triggered " + "x" * 1000)

    def on_close(self, session: EngineSession, reason: str) -> None:
        pass


async def test_any_failure_while_handling_a_packet_closes_that_connection_only(
    serve_app: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    running = serve_app(EngineIOServer(_Failing(), EngineConfig(path="/engine.io/")))
    base = running.url + "/engine.io/?EIO=4&transport="
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "polling") as response:
            sid = json.loads((await response.text())[1:])["sid"]
        async with http.post(f"{base}polling&sid={sid}", data=b"4boom") as response:
            assert response.status == 400  # not 500
        async with http.ws_connect(base + "websocket") as ws:
            opened = await ws.receive_str()
            ws_sid = json.loads(opened[1:])["sid"]
            await ws.send_str("4boom")
            message = await asyncio.wait_for(ws.receive(), 5)
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    for one in (sid, ws_sid):
        lines = [r for r in caplog.records if one in r.getMessage()]
        assert len(lines) == 1 and "packet handling failed" in lines[0].getMessage()
        assert len(lines[0].getMessage()) < 300  # the client's data is cut short
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


async def test_main_namespace_refused_unless_served(serve_app: Serve) -> None:
    closed = Server()
    closed.of("/").on_connect(lambda socket, auth: None)  # handlers do not open it
    served = serve_app(Server(serve_main_namespace=True).asgi())
    refusing = serve_app(closed.asgi())
    async with aiohttp.ClientSession() as http:
        for running, answer in ((refusing, '44{"message":"Invalid namespace"}'), (served, "40{")):
            url = running.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
            async with http.ws_connect(url) as ws:
                await ws.receive_str()
                await ws.send_str('40{"x":1}')
                assert (await ws.receive_str()).startswith(answer)
