"""The emitter path against our own publish: ``notificacao`` to N atendentes of one tenant.

    .venv/bin/python bench/emissores_fanout.py [--clients 1000] [--events 100] [--json out.json]
    # a quick check that it runs: --clients 20 --events 10

The real application (bench/gateway_server.py, as ``atendimento serve`` runs it) with Redis
(``ATENDIMENTO_BENCH_REDIS``, default redis://127.0.0.1:6379/0) and ``ATENDIMENTO_EMISSORES=node`` on
a key prefix of this run's own; N atendentes of Empresa Demo connect (bench/clients.js, raw Engine.IO
WebSocket clients). The same ``notificacao`` to ``empresa:{e}`` (every one of them) is then triggered:

* ``emitter``: an unmodified ``@socket.io/redis-emitter`` 5.1 (tests/node's pinned install, found
  through NODE_PATH) publishing ``of("/atendimento").to("empresa:{e}").emit("notificacao", ...)``;
* ``rest``: ``POST /notificacoes`` as the tenant's gestor, through the API, the domain and the gateway's
  publisher (with Redis, also published for the other instances, as in any clustered deployment).

Shapes and figures as bench/gateway_fanout.py: ``single`` (one event, wait for every delivery, next)
and ``burst`` (all at once); server CPU µs per delivery, deliveries/s, p50/p99/max latency from the
wall clock in the payload (``dados.t``) to receipt; median of 3 rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from benchlib import (
    BENCH,
    PYTHON,
    REPO,
    app_env,
    app_tokens,
    dump,
    fanout_medians,
    free_port,
    log,
    machine,
    markdown_table,
    node_version,
    prepare_app,
    run_clients,
    server_process,
)

STAMP = r'"t":([0-9.]+)'
NODE_MODULES_TESTES = REPO / "tests" / "node" / "node_modules"


def _login(port: int, email: str) -> str:
    corpo = json.dumps({"email": email, "senha": "demo-senha"}).encode()
    pedido = urllib.request.Request(
        f"http://127.0.0.1:{port}/auth/login", data=corpo, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(pedido, timeout=30) as resposta:
        token: str = json.loads(resposta.read())["data"]["access_token"]
    return token


def run(clients: int, events: int, redis_url: str) -> list[tuple[str, dict[str, Any]]]:
    chave = f"bench-{os.getpid()}.socket.io"
    rows: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="atendimento-bench-") as tmp:
        env = app_env(
            Path(tmp),
            redis_url=redis_url,
            emissores="node",
            emissores_prefixo=chave,
            max_requests_in_flight=str(max(64, events * 2)),
        )
        resumo = prepare_app(env, clients)
        empresa = resumo["empresa_id"]
        port = free_port()
        argv = [PYTHON, str(BENCH / "gateway_server.py"), "serve"]
        with server_process("emissores", argv, port, env=env) as proc:
            tokens = app_tokens(port, empresa, clients)
            gestor = _login(port, "gestor@demo.local")
            gatilhos = {
                "emitter": {
                    "kind": "emitter",
                    "redis": redis_url,
                    "key": chave,
                    "room": f"empresa:{empresa}",
                },
                "rest": {"kind": "rest", "port": port, "token": gestor},
            }
            for nome, gatilho in gatilhos.items():
                log(f"bench: {nome} ...")
                config = {
                    "targets": [{"port": port, "tokens": tokens}],
                    "namespace": "/atendimento",
                    "event": "notificacao",
                    "stamp": STAMP,
                    "trigger": gatilho,
                    "pids": [proc.pid],
                    "modes": [
                        {"name": "single", "count": 1, "events": events},
                        {"name": "burst", "count": events, "events": events},
                    ],
                    "rounds": 3,
                    "warmup": 5,
                    "settleMs": 1000,
                }
                rows.append((nome, run_clients(config)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100, help="events per round (3 rounds per shape)")
    parser.add_argument("--json", help="also write the full results to this file")
    args = parser.parse_args()
    if not (NODE_MODULES_TESTES / "@socket.io" / "redis-emitter" / "package.json").is_file():
        print(
            f"install the pinned emitter first: (cd {NODE_MODULES_TESTES.parent} && npm ci)", file=sys.stderr
        )
        return 2
    # clients.js finds the bench's packages and the tests' emitter alike.
    os.environ["BENCH_EXTRA_NODE_PATH"] = str(NODE_MODULES_TESTES)
    redis_url = os.environ.get("ATENDIMENTO_BENCH_REDIS", "redis://127.0.0.1:6379/0")
    info = {**machine(), "node": node_version(), "clients": args.clients, "events": args.events}
    log(f"bench: {info}")
    rows = run(args.clients, args.events, redis_url)
    head = ["path", "shape", "CPU µs/delivery (stat)", "deliveries/s", "p50 ms", "p99 ms", "max ms"]
    body = [
        [
            nome,
            forma,
            f"{m['cpuUsPerDelivery']:.2f}",
            f"{m['perSec']:,}",
            f"{m['p50']:.2f}",
            f"{m['p99']:.2f}",
            f"{m['max']:.2f}",
        ]
        for nome, forma, m in fanout_medians(rows)
    ]
    print(f"notificacao to {args.clients} atendentes, {args.events} events per round, median of 3 rounds")
    print(f"machine {info}")
    print("\n".join(markdown_table(head, body, left=2)))
    dump(args.json, {"machine": info, "results": dict(rows)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
