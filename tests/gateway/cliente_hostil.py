"""A hostile Socket.IO client, run as its own process: it writes N events at once and counts the answers.

Raw Engine.IO v4 / Socket.IO v5 (websockets, aiohttp; no Socket.IO client paces it): over
WebSocket every event is one frame, sent back to back; over long-polling the events go in POSTs of ``--lote``
packets while another request reads. Prints one JSON line: how many acks of each kind came back
(``ok`` or the ack's ``code``), whether the server disconnected the namespace (``41``) or closed
the connection, and how long it took. Before the flood it prints ``{"conectado": true}``, so whoever
runs it knows when to start measuring. Used by tests/gateway/test_justica.py and
bench/flood_fairness.py:

    python tests/gateway/cliente_hostil.py URL TOKEN --evento atendente:status \
        --payload '{"status": "online"}' --quantos 3000 --transporte websocket
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections import Counter
from typing import Any

import aiohttp
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

NS = "/atendimento"


class Placar:
    def __init__(self) -> None:
        self.acks: Counter[str] = Counter()
        self.desconectado = False
        self.fechado = False
        self.fim = asyncio.Event()

    def ler(self, pacote: str) -> None:
        if pacote.startswith(f"43{NS},"):
            corpo = pacote[len(NS) + 3 :]
            args = json.loads(corpo[corpo.index("[") :])
            ack = args[0] if args else None
            if isinstance(ack, dict) and ack.get("success") is False:
                self.acks[str(ack.get("code"))] += 1
            else:
                self.acks["ok"] += 1
        elif pacote.startswith(f"41{NS},"):
            self.desconectado = True
            self.fim.set()

    def resumo(self, enviados: int, inicio: float) -> dict[str, Any]:
        return {
            "enviados": enviados,
            "acks": dict(self.acks),
            "desconectado": self.desconectado,
            "fechado": self.fechado,
            "segundos": round(time.monotonic() - inicio, 3),
        }


def _pronto() -> None:
    print(json.dumps({"conectado": True}), flush=True)


def _evento(ack_id: int, evento: str, payload: Any) -> str:
    return f"42{NS},{ack_id}" + json.dumps([evento, payload], separators=(",", ":"))


async def por_websocket(url: str, token: str, evento: str, payload: Any, quantos: int, prazo: float) -> dict:
    # websockets, not aiohttp: its recv() hands over every message that arrived before a close, so the
    # answers to a flood the server ends are all counted.
    placar = Placar()
    ws_url = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    async with connect(ws_url, max_size=None, compression=None) as ws:
        assert str(await ws.recv()).startswith("0{")
        await ws.send(f"40{NS}," + json.dumps({"token": token}))
        resposta = str(await ws.recv())
        if not resposta.startswith(f"40{NS},"):
            raise SystemExit(f"not connected: {resposta}")
        _pronto()
        inicio = time.monotonic()

        async def ler() -> None:
            with contextlib.suppress(ConnectionClosed):
                while sum(placar.acks.values()) < quantos:
                    texto = str(await ws.recv())
                    if texto == "2":
                        await ws.send("3")
                    else:
                        placar.ler(texto)
            placar.fechado = ws.close_code is not None
            placar.fim.set()

        leitor = asyncio.create_task(ler())
        enviados = 0
        with contextlib.suppress(ConnectionClosed):
            for i in range(quantos):
                await ws.send(_evento(i, evento, payload))
                enviados += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(placar.fim.wait(), prazo)
        leitor.cancel()
        placar.fechado = placar.fechado or ws.close_code is not None
        return placar.resumo(enviados, inicio)


async def por_polling(
    url: str, token: str, evento: str, payload: Any, quantos: int, lote: int, prazo: float
) -> dict:
    placar = Placar()
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/socket.io/?EIO=4&transport=polling") as r:
            sid = json.loads((await r.text())[1:])["sid"]
        base = f"{url}/socket.io/?EIO=4&transport=polling&sid={sid}"
        async with http.post(base, data=(f"40{NS}," + json.dumps({"token": token})).encode()) as r:
            assert r.status == 200
        async with http.get(base) as r:
            resposta = await r.text()
        if f"40{NS}," not in resposta:
            raise SystemExit(f"not connected: {resposta}")
        _pronto()
        inicio = time.monotonic()

        async def ler() -> None:
            while True:
                async with http.get(base) as r:
                    if r.status != 200:
                        placar.fechado = True
                        break
                    corpo = await r.text()
                for pacote in corpo.split("\x1e"):
                    if pacote == "2":
                        await http.post(base, data=b"3")
                    elif pacote == "1":
                        placar.fechado = True
                    else:
                        placar.ler(pacote)
                if placar.fechado or sum(placar.acks.values()) >= quantos:
                    break
            placar.fim.set()

        leitor = asyncio.create_task(ler())
        enviados = 0
        for i in range(0, quantos, lote):
            corpo = "\x1e".join(_evento(n, evento, payload) for n in range(i, min(quantos, i + lote)))
            async with http.post(base, data=corpo.encode()) as r:
                if r.status != 200:
                    placar.fechado = True
                    break
            enviados = min(quantos, i + lote)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(placar.fim.wait(), prazo)
        leitor.cancel()
        with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
            await leitor
        return placar.resumo(enviados, inicio)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("url")
    p.add_argument("token")
    p.add_argument("--evento", default="atendente:status")
    p.add_argument("--payload", default='{"status": "online"}')
    p.add_argument("--quantos", type=int, default=3000)
    p.add_argument("--transporte", choices=("websocket", "polling"), default="websocket")
    p.add_argument("--lote", type=int, default=50, help="packets per polling POST")
    p.add_argument("--prazo", type=float, default=30.0, help="seconds to wait for the answers")
    a = p.parse_args()
    payload = json.loads(a.payload)
    if a.transporte == "websocket":
        resumo = asyncio.run(por_websocket(a.url, a.token, a.evento, payload, a.quantos, a.prazo))
    else:
        resumo = asyncio.run(por_polling(a.url, a.token, a.evento, payload, a.quantos, a.lote, a.prazo))
    print(json.dumps(resumo), flush=True)


if __name__ == "__main__":
    main()
