"""A socket's events: handled in order, one at a time, at most ``max_pending_events`` in flight or queued;
refused past that through the overflow hook (with an ack for each that asked), and the socket
disconnected when its client keeps going. Spoken raw (aiohttp) over WebSocket and long-polling, so the
test controls exactly how many frames arrive together."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from apoio_rede import servir_uvicorn

from atendimento.engine import Server, Socket


@dataclass
class Bancada:
    server: Server
    url: str
    liberar: asyncio.Event = field(default_factory=asyncio.Event)
    ordem: list[int] = field(default_factory=list)
    simultaneos: int = 0
    maximo: int = 0
    saidas: list[str] = field(default_factory=list)


@asynccontextmanager
async def bancada(**opcoes: Any) -> AsyncIterator[Bancada]:
    server = Server(ping_interval_ms=2000, ping_timeout_ms=2000, serve_main_namespace=True, **opcoes)
    ns = server.of("/")
    async with servir_uvicorn(server.asgi()) as url:
        b = Bancada(server, url)

        @ns.on("lento")
        async def lento(socket: Socket, n: int, esperar: bool = False) -> int:
            b.simultaneos += 1
            b.maximo = max(b.maximo, b.simultaneos)
            try:
                if esperar:
                    await b.liberar.wait()
                await asyncio.sleep(0.001 * (n % 3))  # uneven: parallel handlers would reorder
                b.ordem.append(n)
                return n
            finally:
                b.simultaneos -= 1

        @ns.on("rapido")
        def rapido(socket: Socket, n: int) -> int:
            b.ordem.append(n)
            return n

        @ns.on_disconnect
        def saiu(socket: Socket, reason: str) -> None:
            b.saidas.append(reason)

        yield b


def evento(ack: int, nome: str, *args: Any) -> str:
    return f"42{ack}" + json.dumps([nome, *args], separators=(",", ":"))


async def ws_conectado(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket")
    assert (await ws.receive_str()).startswith("0{")
    await ws.send_str("40")
    assert (await ws.receive_str()).startswith("40{")
    return ws


async def ler_acks(ws: aiohttp.ClientWebSocketResponse, quantos: int) -> tuple[dict[int, Any], list[str]]:
    """Read until ``quantos`` acks (or the namespace's DISCONNECT) came: ack id → its first argument."""
    acks: dict[int, Any] = {}
    outros: list[str] = []
    async with asyncio.timeout(10):
        while len(acks) < quantos:
            msg = await ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT:
                outros.append(str(msg.type))
                break
            texto = msg.data
            if texto.startswith("43"):
                i = texto.index("[")
                acks[int(texto[2:i])] = json.loads(texto[i:])[0]
            else:
                outros.append(texto)
                if texto == "41":
                    break
    return acks, outros


async def test_events_run_one_at_a_time_in_order_each_acked() -> None:
    async with bancada() as b, aiohttp.ClientSession() as http:
        ws = await ws_conectado(http, b.url)
        for n in range(12):
            nome = "rapido" if n % 4 == 3 else "lento"  # a sync handler waits its turn too
            await ws.send_str(evento(n, nome, n))
        acks, outros = await ler_acks(ws, 12)
        await ws.close()
    assert acks == {n: n for n in range(12)}
    assert b.ordem == list(range(12))
    assert b.maximo == 1
    assert outros == []


async def test_past_the_bound_the_hook_answers_and_the_handler_does_not_run() -> None:
    async with bancada(max_pending_events=4, max_refused_events=1000) as b, aiohttp.ClientSession() as http:
        b.server.of("/").on_overflow(lambda socket, event: {"recusado": event})
        ws = await ws_conectado(http, b.url)
        frames = [evento(n, "lento", n, True) for n in range(20)]
        await ws.send_str(frames[0])
        for frame in frames[1:]:
            await ws.send_str(frame)
        # The first runs and waits; three wait behind it; the 16 others are refused at once.
        recusas, _ = await ler_acks(ws, 16)
        assert recusas == {n: {"recusado": "lento"} for n in range(4, 20)}
        b.liberar.set()
        feitos, _ = await ler_acks(ws, 4)
        await ws.close()
    assert feitos == {0: 0, 1: 1, 2: 2, 3: 3}
    assert b.ordem == [0, 1, 2, 3]


async def test_a_client_that_keeps_going_is_disconnected() -> None:
    async with bancada(max_pending_events=2, max_refused_events=5) as b, aiohttp.ClientSession() as http:
        b.server.of("/").on_overflow(lambda socket, event: "recusado")
        ws = await ws_conectado(http, b.url)
        with contextlib.suppress(ConnectionResetError):  # the server may close it mid-flood
            for n in range(3000):
                await ws.send_str(evento(n, "lento", n, True))
        acks, outros = await ler_acks(ws, 3000)
        b.liberar.set()
        await asyncio.sleep(0.05)
        # The rest of the flood was dropped, not taken for a protocol error: the connection lives
        # (with no namespace), which is how the refusals and the DISCONNECT reached the client.
        (sessao,) = b.server.engine.sessions.values()
        assert not sessao.app.sockets and sessao.app.overflowed == {"/"}
        await ws.send_str("40")  # it may join again, and is served
        while not (await ws.receive_str()).startswith("40{"):
            pass
        await ws.send_str(evento(0, "rapido", 7))
        assert (await ler_acks(ws, 1))[0] == {0: 7}
        await ws.close()
    assert sorted(acks) == list(range(2, 7)) and set(acks.values()) == {"recusado"}
    assert outros[0] == "41"  # DISCONNECT for the namespace: the client does not reconnect by itself
    assert b.saidas == ["event overflow", "transport close"]  # the second: the socket that joined again
    assert b.ordem[0] == 0  # the one in flight ended; the one queued behind it was dropped
    assert b.ordem[1:] == [7]


async def test_bursts_that_each_drain_still_add_up_to_a_disconnect() -> None:
    """A client that floods in bursts (the queue empties between them) is caught too; one that pauses
    longer than the server remembers refusals is not."""
    async with bancada(max_pending_events=2, max_refused_events=5) as b, aiohttp.ClientSession() as http:
        b.server.of("/").on_overflow(lambda socket, event: "recusado")
        b.liberar.set()
        ws = await ws_conectado(http, b.url)
        for rajada in range(3):
            for n in range(4):  # 1 runs, 1 waits, 2 refused
                await ws.send_str(evento(10 * rajada + n, "lento", 0))
            acks, outros = await ler_acks(ws, 4)
            if outros:
                break
        assert outros == ["41"] and b.saidas == ["event overflow"]  # 2 + 2 + 2 > 5
        await ws.close()

        b.server.refusal_memory_s = 0.05
        ws = await ws_conectado(http, b.url)
        for rajada in range(4):
            for n in range(4):
                await ws.send_str(evento(10 * rajada + n, "lento", 0))
            acks, outros = await ler_acks(ws, 4)
            assert outros == [] and list(acks.values()).count("recusado") == 2
            await asyncio.sleep(0.1)
        await ws.close()


async def test_without_a_hook_a_refused_event_gets_no_ack() -> None:
    async with bancada(max_pending_events=1, max_refused_events=100) as b, aiohttp.ClientSession() as http:
        ws = await ws_conectado(http, b.url)
        await ws.send_str(evento(0, "lento", 0, True))
        await ws.send_str(evento(1, "lento", 1))
        await ws.send_str(evento(2, "rapido", 2))
        await asyncio.sleep(0.05)
        b.liberar.set()
        acks, _ = await ler_acks(ws, 1)  # the slow one done: the socket is idle again
        await ws.send_str(evento(3, "rapido", 3))
        depois, _ = await ler_acks(ws, 1)
        await ws.close()
    assert {**acks, **depois} == {0: 0, 3: 3}
    assert b.ordem == [0, 3]


@pytest.mark.parametrize("por_post", [1, 20])
async def test_polling_payloads_go_through_the_same_bound(por_post: int) -> None:
    async with bancada(max_pending_events=3, max_refused_events=1000) as b, aiohttp.ClientSession() as http:
        b.server.of("/").on_overflow(lambda socket, event: "recusado")
        async with http.get(f"{b.url}/socket.io/?EIO=4&transport=polling") as r:
            sid = json.loads((await r.text())[1:])["sid"]
        base = f"{b.url}/socket.io/?EIO=4&transport=polling&sid={sid}"
        async with http.post(base, data=b"40") as r:
            assert r.status == 200
        frames = [evento(n, "lento", n, True) for n in range(20)]
        for i in range(0, 20, por_post):
            async with http.post(base, data="\x1e".join(frames[i : i + por_post]).encode()) as r:
                assert r.status == 200
        textos: list[str] = []
        async with asyncio.timeout(10):
            while sum(t.startswith("43") for t in textos) < 17:
                async with http.get(base) as r:
                    textos += (await r.text()).split("\x1e")
            b.liberar.set()
            while sum(t.startswith("43") for t in textos) < 20:
                async with http.get(base) as r:
                    textos += (await r.text()).split("\x1e")
    acks = {int(t[2 : t.index("[")]): json.loads(t[t.index("[") :])[0] for t in textos if t.startswith("43")}
    assert acks == {0: 0, 1: 1, 2: 2, **{n: "recusado" for n in range(3, 20)}}
    assert b.ordem == [0, 1, 2]


def test_the_overflow_hook_must_be_sync() -> None:
    async def assincrono(socket: Socket, event: str) -> None:
        return None

    with pytest.raises(TypeError):
        Server().of("/").on_overflow(assincrono)
    with pytest.raises(ValueError):
        Server(max_pending_events=0)
