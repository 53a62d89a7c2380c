"""The engine's fan-out alone, in one process: no network, no node, no clock ticks to round to.

    .venv/bin/python bench/fanout_inprocess.py [--clients 1000] [--burst 100] [--bursts 20] [--rounds 5]

N WebSocket sessions on the raw-transport fast path (the scope extension ``EngineWebSocketProtocol``
provides under uvicorn, here with a socket that drops what it is given) join one room of
/atendimento; then ``--bursts`` times, ``--burst`` emits to the room in one loop turn and the turn's
flush. Reported: CPU µs (``time.process_time``) per delivered event, best of ``--rounds`` rounds. It
measures encoding once, ``push`` per recipient and one write per session per turn, which is what a
change to the hot path can make slower; compare_full.py measures the same beside the real clients.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from atendimento.engine import Server, Socket
from atendimento.engine.engineio import RAW_TRANSPORT_EXTENSION
from atendimento.engine.engineio.types import Message


class NullSocket:
    """The asyncio transport's methods the engine calls; everything written is dropped."""

    def write(self, data: bytes) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def run(clients: int, burst: int, bursts: int, rounds: int) -> float:
    server = Server()
    ns = server.of("/atendimento")

    @ns.on_connect
    def connect(socket: Socket, auth: Any) -> None:
        socket.join("sala")

    app = server.asgi()
    inboxes: list[asyncio.Queue[Message]] = []
    tasks: list[asyncio.Future[None]] = []

    async def send(message: Message) -> None:
        pass

    for i in range(clients):
        inbox: asyncio.Queue[Message] = asyncio.Queue()
        scope = {
            "type": "websocket",
            "path": "/socket.io/",
            "query_string": b"EIO=4&transport=websocket",
            "headers": [(b"host", b"bench")],
            "client": (f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", 5000),
            "extensions": {RAW_TRANSPORT_EXTENSION: {"transport": NullSocket()}},
        }
        inbox.put_nowait({"type": "websocket.connect"})
        tasks.append(asyncio.ensure_future(app(scope, inbox.get, send)))
        inboxes.append(inbox)
    await settle()
    for inbox in inboxes:
        inbox.put_nowait({"type": "websocket.receive", "text": "40/atendimento,"})
    await settle()
    assert len(ns.sockets) == clients, len(ns.sockets)
    payload = {"ticket": {"id": "t1", "assunto": "x" * 100, "status": "aberto"}}
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(bursts):
            for n in range(burst):
                ns.to("sala").emit("ticket:novo", payload, n)
            await asyncio.sleep(0)  # the turn's flush
        best = min(best, time.process_time() - started)
    server.engine.close_all()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return best / (bursts * burst * clients) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--bursts", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    us = asyncio.run(run(args.clients, args.burst, args.bursts, args.rounds))
    deliveries = args.clients * args.burst * args.bursts
    shape = f"{args.clients} sessions, {deliveries:,} deliveries per round, best of {args.rounds}"
    print(f"{us:.4f} CPU µs per delivery ({shape})")


if __name__ == "__main__":
    main()
