"""Redis commands per authenticated connect, per emit and per presence change, from ``INFO
commandstats`` deltas on a redis-server of the run's own (nobody else's traffic in the counts).

    .venv/bin/python bench/redis_comandos.py [--json out.json]

One instance of the real app (bench/gateway_server.py, SQLite) on that Redis. Steps, each measured
as the delta of every command's calls: idle for 1 s (heartbeats), the first atendente of the tenant
connects (raw Engine.IO WebSocket, authenticated), a second one connects, 100 ``ticket:novo`` emits
(``/bench/ticket-novo``), each opens a ticket (``ticket:entrar``: the viewers' set grows), a second
tab of the second opens it too, the first closes it (``ticket:sair``), the second one leaves
(presence edge after the grace period; its viewers go with it), Redis' link is cut (``CLIENT KILL``
of the instance's connections) and comes back (presence and the viewers written again).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
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
    server_process,
)

ENTRAR = "ticket:entrar"

sys.path[:0] = [str(BENCH.parent / "tests"), str(BENCH.parent / "tests" / "cluster")]


def _contagens(cliente: redis.Redis) -> dict[str, int]:
    return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in cliente.info("commandstats").items()}


async def _conectar(port: int, token: str) -> Any:
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket")
    await ws.recv()
    await ws.send("40/atendimento," + json.dumps({"token": token}))
    while not str(await ws.recv()).startswith("40/atendimento"):
        pass
    return ws


async def _pedir(ws: Any, evento: str, payload: dict[str, Any], ref: int) -> None:
    """Emit ``evento`` with an ack id and wait for that ack (other frames are skipped)."""
    await ws.send(f"42/atendimento,{ref}" + json.dumps([evento, payload]))
    while not str(await ws.recv()).startswith(f"43/atendimento,{ref}"):
        pass


def medir(passos: list[tuple[str, Any]], cliente: redis.Redis) -> dict[str, dict[str, int]]:
    saida = {}
    for nome, passo in passos:
        antes = _contagens(cliente)
        passo()
        depois = _contagens(cliente)
        saida[nome] = {k: v - antes.get(k, 0) for k, v in depois.items() if v != antes.get(k, 0)}
        saida[nome].pop("info", None)
    return saida


def run() -> dict[str, dict[str, int]]:
    from apoio_cluster import RedisProprio

    servidor = RedisProprio()
    servidor.iniciar()
    loop = asyncio.new_event_loop()
    try:
        with tempfile.TemporaryDirectory(prefix="atendimento-bench-") as tmp:
            env = app_env(Path(tmp), redis_url=servidor.url)
            env["ATENDIMENTO_PRESENCE_GRACE_SECONDS"] = "0.5"
            empresa = prepare_app(env, 2)["empresa_id"]
            port = free_port()
            argv = [PYTHON, str(BENCH / "gateway_server.py"), "serve"]
            with server_process("redis-comandos", argv, port, env=env):
                tokens = app_tokens(port, empresa, 2)
                ticket = http_json(port, f"/bench/sample?empresa={empresa}")["id"]
                cliente = redis.Redis.from_url(servidor.url)
                sockets: list[Any] = []

                def conectar(i: int) -> None:
                    sockets.append(loop.run_until_complete(_conectar(port, tokens[i])))
                    time.sleep(0.5)

                def sair() -> None:
                    loop.run_until_complete(sockets.pop().close())
                    time.sleep(1.5)

                def ticket_evento(i: int, evento: str) -> None:
                    loop.run_until_complete(_pedir(sockets[i], evento, {"ticketId": ticket}, 1))
                    time.sleep(0.3)

                def segunda_aba() -> None:
                    conectar(1)
                    ticket_evento(2, ENTRAR)

                def fechar_aba() -> None:
                    loop.run_until_complete(sockets.pop().close())
                    time.sleep(1.5)

                def cortar_redis() -> None:
                    # The instance's connections only (ours, redis-py's, has no name set by the app;
                    # this client's own is skipped: SKIPME yes is the default).
                    cliente.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
                    cliente.execute_command("CLIENT", "KILL", "TYPE", "normal")
                    time.sleep(6)  # the link back (backoff), a heartbeat, the rewrites

                def emitir() -> None:
                    http_json(port, f"/bench/ticket-novo?empresa={empresa}&count=100")
                    time.sleep(0.5)

                resultado = medir(
                    [
                        ("idle 1 s", lambda: time.sleep(1)),
                        ("first agent of the tenant connects", lambda: conectar(0)),
                        ("second agent connects", lambda: conectar(1)),
                        ("100 emits", emitir),
                        ("first agent opens a ticket (ticket:entrar)", lambda: ticket_evento(0, ENTRAR)),
                        ("second agent opens it (the set changes)", lambda: ticket_evento(1, ENTRAR)),
                        ("a second tab of the second agent connects and opens it", segunda_aba),
                        ("that tab leaves (the user still has the ticket open)", fechar_aba),
                        ("first agent closes it (ticket:sair)", lambda: ticket_evento(0, "ticket:sair")),
                        ("Redis cuts the instance's connections; it comes back", cortar_redis),
                        ("second agent leaves (offline after grace; viewers too)", sair),
                    ],
                    cliente,
                )
                for ws in sockets:
                    loop.run_until_complete(ws.close())
                return resultado
    finally:
        loop.close()
        servidor.encerrar()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    log("bench: one instance on a Redis of its own ...")
    resultado = run()
    print("| step | Redis commands (calls) |\n| --- | --- |")
    for passo, comandos in resultado.items():
        print(f"| {passo} | {', '.join(f'{k} {v}' for k, v in sorted(comandos.items()))} |")
    dump(args.json, resultado)
    return 0


if __name__ == "__main__":
    sys.exit(main())
