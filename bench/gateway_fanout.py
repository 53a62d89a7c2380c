"""Issue 4: ``ticket:novo`` to 1,000 connected atendentes of one tenant, through the gateway's publisher.

    .venv/bin/python bench/gateway_fanout.py [--clients 1000] [--events 100] [--json out.json]

Ours: the real application (``build_app`` on a temporary SQLite with the demo data and N
generated atendentes of Empresa Demo), served by bench/gateway_server.py as ``atendimento serve``
serves it. N raw Engine.IO v4 WebSocket clients (bench/clients.js, node) connect to /atendimento with
tokens minted by the app's ``ServicoTokens``, so they go through the gateway's real handshake, rooms
and presence. ``GET /bench/ticket-novo`` then calls ``Publicador.ticket_novo`` (the function the
domain calls after a commit), which emits to ``empresa:{e}:internos``: the N atendentes.

Beside it, in the same run and with the same client program: the Node socket.io 4.8 peer
(../shared/bench/server.js) broadcasting the same payload (the real ticket's ``para_evento()``) to
its room ``empresa:e1:atendentes`` of N sockets, and python-socketio 5.18 (reference).

Two shapes, each ``--events`` events per round, 3 rounds, medians reported:

* ``single``: one event per trigger, the next trigger once every socket has the previous one (how
  tickets arrive in the product);
* ``burst``: all the round's events in one trigger (``count=--events``): the fan-out ceiling.

Per shape: server CPU µs per delivery (utime+stime of the server process from /proc/<pid>/stat over
the round, divided by events × N; includes handling the trigger request), deliveries per second and
p50/p99/max latency from the emit (wall clock in the payload) to receipt, over every delivery.
Connects per second and RSS per connection come from the connect phase (ours includes the presence
edges: each atendente's arrival is an ``atendente:online`` to all the atendentes already there).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import (
    BENCH,
    PYTHON,
    app_env,
    app_tokens,
    connect_table,
    dump,
    fanout_medians,
    free_port,
    http_json,
    log,
    machine,
    markdown_table,
    node_version,
    node_workdir,
    peer_tokens,
    prepare_app,
    run_clients,
    server_process,
)

STAMP_GATEWAY = r'"assunto":"bench \d+ ([0-9.]+)"'
STAMP_PEER = r'"t":([0-9.]+)'


def modes(events: int) -> list[dict[str, Any]]:
    return [
        {"name": "single", "count": 1, "events": events},
        {"name": "burst", "count": events, "events": events},
    ]


def run_gateway_clients(
    targets: list[dict[str, Any]], port: int, empresa: str, pids: list[int], events: int, settle_ms: int
) -> dict[str, Any]:
    """clients.js on instances of the real app: ticket:novo, triggered through /bench on ``port``."""
    return run_clients(
        {
            "targets": targets,
            "namespace": "/atendimento",
            "event": "ticket:novo",
            "stamp": STAMP_GATEWAY,
            "trigger": {"port": port, "kind": "gateway", "empresa": empresa},
            "pids": pids,
            "modes": modes(events),
            "rounds": 3,
            "warmup": 5,
            "settleMs": settle_ms,
        }
    )


def run_ours(clients: int, events: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="atendimento-bench-") as tmp:
        env = app_env(Path(tmp))
        resumo = prepare_app(env, clients)
        empresa = resumo["empresa_id"]
        port = free_port()
        argv = [PYTHON, str(BENCH / "gateway_server.py"), "serve"]
        with server_process("gateway", argv, port, env=env) as proc:
            tokens = app_tokens(port, empresa, clients)
            sample = http_json(port, f"/bench/sample?empresa={empresa}")
            targets = [{"port": port, "tokens": tokens}]
            result = run_gateway_clients(targets, port, empresa, [proc.pid], events, settle_ms=1000)
    result["sample"] = sample
    return result


def run_peer(
    name: str, argv: list[str], cwd: Path, clients: int, events: int, payload: Any
) -> dict[str, Any]:
    port = free_port()
    with server_process(name, argv, port, cwd=cwd) as proc:
        time.sleep(0.3)
        return run_clients(
            {
                "targets": [{"port": port, "tokens": peer_tokens(clients)}],
                "namespace": "/atendimento",
                "event": "ticket:novo",
                "stamp": STAMP_PEER,
                "trigger": {
                    "port": port,
                    "kind": "peer",
                    "room": "empresa:e1:atendentes",
                    "payload": payload,
                },
                "pids": [proc.pid],
                "modes": modes(events),
                "rounds": 3,
                "warmup": 5,
                "settleMs": 300,
            }
        )


def table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    head = [
        "server",
        "shape",
        "CPU µs/delivery (stat)",
        "(schedstat)",
        "deliveries/s",
        "p50 ms",
        "p99 ms",
        "max ms",
    ]
    body = [
        [
            name,
            shape,
            f"{m['cpuUsPerDelivery']:.2f}",
            f"{m['schedUsPerDelivery']:.2f}",
            f"{m['perSec']:,}",
            f"{m['p50']:.2f}",
            f"{m['p99']:.2f}",
            f"{m['max']:.2f}",
        ]
        for name, shape, m in fanout_medians(rows)
    ]
    lines = markdown_table(head, body, left=2)
    lines += ["", *connect_table(rows, "server", "RSS KB/conn")]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100, help="events per round (3 rounds per shape)")
    parser.add_argument(
        "--no-python-socketio", action="store_true", help="skip the python-socketio reference"
    )
    parser.add_argument("--json", help="also write the full results to this file")
    args = parser.parse_args()
    work = node_workdir()
    info = {**machine(), "node": node_version(), "clients": args.clients, "events": args.events}
    log(f"bench: {info}")
    rows: list[tuple[str, dict[str, Any]]] = []
    log("bench: ours (real app, Publicador.ticket_novo) ...")
    ours = run_ours(args.clients, args.events)
    rows.append(("ours (gateway, real app)", ours))
    payload = {k: v for k, v in ours["sample"].items()}
    log("bench: node socket.io 4.8 peer ...")
    rows.append(
        (
            "node-socketio-4.8",
            run_peer("node-peer", ["node", "server.js"], work, args.clients, args.events, payload),
        )
    )
    if not args.no_python_socketio:
        log("bench: python-socketio 5.18 ...")
        argv = [PYTHON, str(BENCH / "python_socketio_server.py")]
        rows.append(
            (
                "python-socketio-5.18",
                run_peer("python-socketio", argv, BENCH.parent, args.clients, args.events, payload),
            )
        )
    info["loadavg_after"] = machine()["loadavg"]
    print(f"ticket:novo to {args.clients} atendentes, {args.events} events per round, median of 3 rounds")
    print(f"machine {info}")
    print(table(rows))
    dump(args.json, {"machine": info, "results": dict(rows)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
