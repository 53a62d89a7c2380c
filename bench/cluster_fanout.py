"""Cross-instance delivery: two instances of the real app sharing one Redis or a Redis Cluster.

    .venv/bin/python bench/cluster_fanout.py [--clients 1000] [--events 100] [--redis-url redis://127.0.0.1:6379/0]
        [--cluster | --cluster-url redis+cluster://h:p,h:p] [--json out.json]

Two processes of bench/gateway_server.py (the real app, ``build_app``, which wires
atendimento/cluster when ``ATENDIMENTO_REDIS_URL`` is set) on one temporary SQLite database and one
Redis, with the same JWT secret. N raw Engine.IO clients (bench/clients.js) connect as N generated
atendentes of Empresa Demo, alternately to instance A and instance B, so each holds N/2. The broadcast
is published on A only (``GET /bench/ticket-novo`` on A → ``Publicador.ticket_novo``): A delivers to
its own sockets and publishes once to Redis; B receives it and delivers to its sockets.

Same two shapes as bench/gateway_fanout.py (``single``: one event per trigger, waiting for every
delivery before the next; ``burst``: all the round's events in one trigger), 3 rounds each, medians.
Reported: CPU µs per delivery summed over both processes (and each process's share), deliveries per
second, p50/p99/max latency over all deliveries and separately for A's sockets (local) and B's
(through Redis). Redis's own CPU is not counted. The emit travels on Empresa Demo's sharded channel
(``atendimento:{empresaId}:/atendimento:broadcast``): run this on a quiet Redis.

``--cluster`` adds the same run through a Redis Cluster: 6 local ``redis-server --cluster-enabled``
(3 primaries, 3 replicas) started for the run and stopped after it (tests/cluster/apoio_redis_cluster.py);
``--cluster-url`` uses one that exists instead.

For a same-run baseline it then runs one instance with the same N sockets and no Redis
(``--no-baseline`` skips it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
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
    log,
    machine,
    markdown_table,
    node_version,
    node_workdir,
    prepare_app,
    server_process,
)
from gateway_fanout import run_gateway_clients

# The 6-node cluster the tests start, started the same way here (bench reads it, never the reverse).
sys.path[:0] = [str(BENCH.parent / "tests"), str(BENCH.parent / "tests" / "cluster")]


def run(clients: int, events: int, redis_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="atendimento-bench-") as tmp:
        extra = {"redis_url": redis_url} if redis_url else {}
        env = app_env(Path(tmp), **extra)
        empresa = prepare_app(env, clients)["empresa_id"]
        argv = [PYTHON, str(BENCH / "gateway_server.py"), "serve"]
        port_a = free_port()
        with server_process("cluster-a", argv, port_a, env=env) as proc_a:
            tokens = app_tokens(port_a, empresa, clients)
            if not redis_url:
                targets = [{"port": port_a, "tokens": tokens}]
                return run_gateway_clients(targets, port_a, empresa, [proc_a.pid], events, settle_ms=1500)
            port_b = free_port()
            with server_process("cluster-b", argv, port_b, env=env) as proc_b:
                targets = [{"port": port_a, "tokens": tokens[0::2]}, {"port": port_b, "tokens": tokens[1::2]}]
                return run_gateway_clients(
                    targets, port_a, empresa, [proc_a.pid, proc_b.pid], events, settle_ms=1500
                )


def run_cluster(args: argparse.Namespace) -> dict[str, Any]:
    if args.cluster_url:
        return run(args.clients, args.events, args.cluster_url)
    from apoio_redis_cluster import RedisClusterProprio

    cluster = RedisClusterProprio()
    try:
        cluster.iniciar()
        return run(args.clients, args.events, cluster.url)
    finally:
        cluster.encerrar()


def table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    head = [
        "setup",
        "shape",
        "CPU µs/delivery (A+B)",
        "(schedstat)",
        "A / B",
        "deliveries/s",
        "p50 ms",
        "p99 ms",
        "A p50/p99",
        "B p50/p99 (via Redis)",
    ]
    body = []
    for name, shape, m in fanout_medians(rows):
        split = " / ".join(f"{x:.2f}" for x in m.get("cpuUsPerDeliveryByPid", []))
        per = m.get("perTarget") or []
        a = f"{per[0]['p50']:.2f} / {per[0]['p99']:.2f}" if per else ""
        b = f"{per[1]['p50']:.2f} / {per[1]['p99']:.2f}" if len(per) > 1 else ""
        body.append(
            [
                name,
                shape,
                f"{m['cpuUsPerDelivery']:.2f}",
                f"{m['schedUsPerDelivery']:.2f}",
                split,
                f"{m['perSec']:,}",
                f"{m['p50']:.2f}",
                f"{m['p99']:.2f}",
                a,
                b,
            ]
        )
    lines = markdown_table(head, body, left=2)
    lines += ["", *connect_table(rows, "setup", "RSS KB/conn (both processes)")]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100, help="events per round (3 rounds per shape)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--no-baseline", action="store_true", help="skip the one-instance run without Redis")
    parser.add_argument(
        "--cluster", action="store_true", help="also run through a local 6-node Redis Cluster"
    )
    parser.add_argument("--cluster-url", help="also run through this Redis Cluster (redis+cluster://h:p,...)")
    parser.add_argument("--json", help="also write the full results to this file")
    args = parser.parse_args()
    node_workdir()
    info = {**machine(), "node": node_version(), "clients": args.clients, "events": args.events}
    log(f"bench: {info}")
    rows = []
    log("bench: two instances through Redis ...")
    rows.append(("2 instances + Redis, published on A", run(args.clients, args.events, args.redis_url)))
    if args.cluster or args.cluster_url:
        log("bench: two instances through a Redis Cluster ...")
        rows.append(("2 instances + Redis Cluster (3 shards)", run_cluster(args)))
    if not args.no_baseline:
        log("bench: one instance, no Redis ...")
        rows.append(("1 instance, no Redis", run(args.clients, args.events, None)))
    info["loadavg_after"] = machine()["loadavg"]
    print(f"ticket:novo to {args.clients} atendentes, {args.events} events per round, median of 3 rounds")
    print(f"machine {info}")
    print(table(rows))
    dump(args.json, {"machine": info, "results": dict(rows)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
