"""Issue 3: the engine beside the Node peer and python-socketio, every figure fanout.js measures.

    .venv/bin/python bench/compare_full.py [--clients 1000] [--burst 100] [--json out.json]

One run starts, one after the other, the Node socket.io 4.8 peer (../shared/bench/server.js), our
engine (bench/fanout_server.py) and python-socketio 5.18 (bench/python_socketio_server.py), and drives
each with the shared load generator ../shared/bench/fanout.js: N raw Engine.IO v4 WebSocket clients
on /atendimento, a warm-up burst of 5, then 3 bursts of BURST room broadcasts to all N. It reports,
per server:

* CPU µs per delivered event: the server process's utime+stime (/proc/<pid>/stat) over a burst,
  divided by BURST × N; median of the 3 bursts;
* deliveries per second over a burst (median of 3);
* p50 / p99 latency (ms) from emit (the server's wall clock, in the payload) to receipt, sampled on
  every 64th delivery; median of the 3 bursts' p50 and p99. In a burst every socket gets BURST
  events back to back, so this is the latency of a burst, not of a lone event;
* connects per second: N clients opening (50 every 5 ms) until the last CONNECT is acknowledged;
* RSS per idle connection: the server's VmRSS after the N connects minus before, divided by N.

compare-fanout.sh prints only the first figure; this prints them all, from the same processes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from benchlib import (
    BENCH,
    PYTHON,
    dump,
    free_port,
    log,
    machine,
    markdown_table,
    node_version,
    node_workdir,
    server_process,
)

SERVERS: dict[str, list[str]] = {
    "node-socketio-4.8": ["node", "server.js"],
    "ours (engine)": [PYTHON, str(BENCH / "fanout_server.py")],
    "python-socketio-5.18": [PYTHON, str(BENCH / "python_socketio_server.py")],
}
KEYS = {"node": "node-socketio-4.8", "ours": "ours (engine)", "python-socketio": "python-socketio-5.18"}


def run_server(name: str, argv: list[str], clients: int, burst: int) -> dict[str, Any]:
    work = node_workdir()
    port = free_port()
    cwd = work if argv[0] == "node" else BENCH.parent
    with server_process(name.split()[0], argv, port, cwd=cwd) as proc:
        time.sleep(0.3)  # let the process settle before fanout.js reads its first RSS
        out = subprocess.run(
            ["node", "fanout.js", str(port), str(clients), str(burst)],
            cwd=work,
            env={**os.environ, "SERVER_PID": str(proc.pid)},
            capture_output=True,
            text=True,
            timeout=300,
        )
    lines = [line for line in out.stdout.splitlines() if line.startswith(("{", "["))]
    if out.returncode != 0 or len(lines) < 2:
        raise RuntimeError(f"fanout.js against {name} failed ({out.returncode}): {out.stderr[-500:]}")
    connect, bursts = json.loads(lines[0]), json.loads(lines[-1])
    med = statistics.median
    return {
        "server": name,
        "cpu_us_per_delivery": med(b["serverCpuUsPerDelivery"] for b in bursts),
        "deliveries_per_s": med(b["perSec"] for b in bursts),
        "p50_ms": med(b["p50"] for b in bursts),
        "p99_ms": med(b["p99"] for b in bursts),
        "connects_per_s": connect["connectsPerSec"],
        "rss_kb_per_connection": connect["serverRssKbPerConnection"],
        "bursts": bursts,
        "connect": connect,
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = ["server", "CPU µs/delivery", "deliveries/s", "p50 ms", "p99 ms", "connects/s", "RSS KB/conn"]
    body = [
        [
            r["server"],
            f"{r['cpu_us_per_delivery']:.2f}",
            f"{r['deliveries_per_s']:,.0f}",
            f"{r['p50_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            f"{r['connects_per_s']:,}",
            f"{r['rss_kb_per_connection']:.1f}",
        ]
        for r in rows
    ]
    return "\n".join(markdown_table(head, body))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--only", choices=sorted(KEYS), action="append", help="run only these servers")
    parser.add_argument("--json", help="also write the full results to this file")
    args = parser.parse_args()
    chosen = [KEYS[k] for k in args.only] if args.only else list(SERVERS)
    info = {**machine(), "node": node_version(), "clients": args.clients, "burst": args.burst}
    log(f"bench: {info}")
    rows = []
    for name in chosen:
        log(f"bench: {name} ...")
        rows.append(run_server(name, SERVERS[name], args.clients, args.burst))
    info["loadavg_after"] = machine()["loadavg"]
    print(f"{args.clients} clients, bursts of {args.burst}, median of 3 bursts; machine {info}")
    print(table(rows))
    ours = next((r for r in rows if r["server"] == "ours (engine)"), None)
    node = next((r for r in rows if r["server"] == "node-socketio-4.8"), None)
    if ours and node:
        ratio = ours["cpu_us_per_delivery"] / node["cpu_us_per_delivery"]
        print(f"ratio ours/node CPU per delivery: {ratio:.3f}")
    dump(args.json, {"machine": info, "results": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
