"""What an idle authenticated agent costs in memory, line by line (tracemalloc) and in RSS.

    .venv/bin/python bench/memoria_conexao.py [--clients 500] [--top 25] [--json out.json]

One instance of the real app (bench/gateway_server.py, SQLite, no Redis) with ``BENCH_TRACEMALLOC=1``.
After a warm-up connection, a tracemalloc snapshot; then N raw Engine.IO v4 WebSocket clients (this
process, ``websockets``) connect to /atendimento as N generated atendentes and stay idle; then the
lines that allocated since, with bytes per connection. The RSS figure comes from a second run of the
same N without tracemalloc (its own bookkeeping inflates RSS): ``rss`` in KB per connection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import websockets
from benchlib import (
    BENCH,
    PYTHON,
    app_env,
    app_tokens,
    dump,
    free_port,
    http_json,
    log,
    prepare_app,
    rss_kb,
    server_process,
)


async def _cliente(
    port: int, token: str, prontos: asyncio.Queue[None], parar: asyncio.Event, caidos: list[str]
) -> None:
    try:
        await _sessao(port, token, prontos, parar)
    except Exception as exc:  # a connection that ended early would make the figures lie: count it
        caidos.append(f"{type(exc).__name__}: {exc}"[:200])


async def _sessao(port: int, token: str, prontos: asyncio.Queue[None], parar: asyncio.Event) -> None:
    url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(url, max_size=None, compression=None, open_timeout=120) as ws:
        await ws.recv()  # Engine.IO open
        await ws.send("40/atendimento," + json.dumps({"token": token}))
        while True:
            quadro = await ws.recv()
            if isinstance(quadro, str) and quadro.startswith("40/atendimento"):
                break
            if quadro == "2":
                await ws.send("3")
        prontos.put_nowait(None)
        while not parar.is_set():
            try:
                quadro = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            if quadro == "2":
                await ws.send("3")


async def _conectar(port: int, tokens: list[str], medir: Any) -> Any:
    prontos: asyncio.Queue[None] = asyncio.Queue()
    parar = asyncio.Event()
    caidos: list[str] = []
    tarefas = []
    for token in tokens:
        tarefas.append(asyncio.create_task(_cliente(port, token, prontos, parar, caidos)))
        await asyncio.sleep(0.005)
    for _ in tokens:
        await asyncio.wait_for(prontos.get(), 180)
    await asyncio.sleep(1.0)  # settle: presence writes, timers
    antes = len(caidos)
    resultado = await asyncio.to_thread(medir)
    if antes or caidos:
        raise RuntimeError(f"{len(caidos)} connections ended before the measurement was over: {caidos[:3]}")
    parar.set()
    await asyncio.gather(*tarefas, return_exceptions=True)
    return resultado


def run(clients: int, top: int, tracemalloc: bool, frames: int = 1) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="atendimento-bench-") as tmp:
        env = app_env(Path(tmp))
        if tracemalloc:
            env["BENCH_TRACEMALLOC"] = "1"
            env["BENCH_TRACEMALLOC_FRAMES"] = str(frames)
        empresa = prepare_app(env, clients + 1)["empresa_id"]
        port = free_port()
        argv = [PYTHON, str(BENCH / "gateway_server.py"), "serve"]
        with server_process("memoria", argv, port, env=env) as proc:
            tokens = app_tokens(port, empresa, clients + 1)
            asyncio.run(_conectar(port, tokens[:1], lambda: None))  # warm-up: first-use caches
            if tracemalloc:
                http_json(port, "/bench/tracemalloc?acao=marcar")
            antes = rss_kb(proc.pid)

            def medir() -> Any:
                if tracemalloc:
                    return http_json(port, f"/bench/tracemalloc?acao=comparar&top={top}")
                return {"rss": (rss_kb(proc.pid) - antes) / clients}

            return dict(asyncio.run(_conectar(port, tokens[1:], medir)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--frames", type=int, default=1, help="tracemalloc frames (>1: group by traceback)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    log("bench: tracemalloc run ...")
    linhas = run(args.clients, args.top, tracemalloc=True, frames=args.frames)
    log("bench: RSS run ...")
    rss = run(args.clients, args.top, tracemalloc=False)
    print(f"{args.clients} idle authenticated agents on one instance (SQLite, no Redis)")
    print(
        f"RSS: {rss['rss']:.1f} KB per connection; Python heap (tracemalloc): "
        f"{linhas['total'] / args.clients / 1024:.2f} KB per connection"
    )
    print("| bytes/conn | blocks/conn | where |\n| ---: | ---: | --- |")
    for linha in linhas["linhas"]:
        n = args.clients
        print(f"| {linha['bytes'] / n:.0f} | {linha['blocos'] / n:.2f} | {linha['onde']} |")
    dump(args.json, {"clients": args.clients, "rss": rss, "tracemalloc": linhas})
    return 0


if __name__ == "__main__":
    sys.exit(main())
