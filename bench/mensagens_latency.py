"""Issue 5: ``POST /atendimento/tickets/{id}/mensagens`` at a steady rate; latency to ``mensagem:nova``.

    .venv/bin/python bench/mensagens_latency.py [--db sqlite|postgres|both] [--rate 200] [--duration 30]
        [--sockets 10] [--profile] [--json out.json]

The server is the product itself, ``atendimento serve`` (uvicorn, engine WebSocket protocol, uvloop,
httptools), on the demo data:

* SQLite: a fresh file in a temporary folder (migrated and loaded by bench/gateway_server.py prepare,
  i.e. ``carregar_demo(settings)``);
* PostgreSQL: a fresh database created as ``postgres`` on 127.0.0.1:5432, migrated with
  ``upgrade_urls(admin_url, app_url)`` (the app connects as ``atendimento_app``, under RLS), the demo
  data loaded as the owner; dropped at the end (``--keep`` keeps it): bench/pg_database.py.

The driver (this process, one asyncio loop on uvloop) opens ``--sockets`` raw Engine.IO v4 WebSocket
clients (aiohttp) on /atendimento as internal users of Empresa Demo, each joins the ticket's room with
``ticket:entrar`` (acknowledged), then sends the POSTs open-loop: request i is scheduled at
t0 + i/rate and sent at that time whatever the earlier requests are doing (aiohttp, keep-alive pool),
so a slow server shows up as latency, not as a lower rate. Latency of a delivery = the moment a socket
receives the ``mensagem:nova`` carrying request i's content minus request i's *scheduled* send time.
Reported: p50/p99/max of every delivery (rate × duration × sockets), the HTTP response's p50/p99 on
the same clock, errors and missing deliveries, the driver's own send lag (actual − scheduled, to show
the driver kept up), and the CPU the server process and the database's backends (PostgreSQL: their
pids from pg_stat_activity at the start of the phase; a lower bound, since connections the pool opens
beyond them are not counted) spent per request, from /proc/<pid>/stat. A 2 s warm-up at the same rate
is not counted.

``--profile`` samples the server with py-spy (``PYSPY``, default ``py-spy`` on PATH; ``record --gil``,
so only samples of a thread holding the GIL count: Python and C code run by it, not waits) during the
measured phase (bench/pyspy_record.py) and prints the top functions (bench/pyspy_top.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from benchlib import (
    REPO,
    app_env,
    cpu_by_pid,
    cpu_delta,
    cpu_seconds,
    dump,
    free_port,
    log,
    machine,
    percentile,
    prepare_app,
    server_process,
)
from pg_database import backends_pg, banco_postgres
from pyspy_record import iniciar_perfil, terminar_perfil

from atendimento.identity.tokens import ServicoTokens

NAMESPACE = "/atendimento"
CONTEUDO = re.compile(r'"conteudo":"bench (\d+)"')
EVENTO = f'42{NAMESPACE},["mensagem:nova",'
WARMUP_S = 2.0


@dataclass
class Medidas:
    scheduled: dict[int, float] = field(default_factory=dict)
    sent: dict[int, float] = field(default_factory=dict)
    answered: dict[int, float] = field(default_factory=dict)
    status: dict[int, int] = field(default_factory=dict)
    received: list[tuple[int, float]] = field(default_factory=list)  # (seq, perf_counter)
    errors: list[str] = field(default_factory=list)


# --- clients ------------------------------------------------------------------------------------


async def socket_cliente(
    session: aiohttp.ClientSession, port: int, token: str, ticket_id: str, m: Medidas, pronto: asyncio.Event
) -> None:
    url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
    async with session.ws_connect(url, autoping=False, max_msg_size=0, compress=0) as ws:
        aberto = await ws.receive_str()
        if not aberto.startswith("0"):
            raise RuntimeError(f"unexpected open packet {aberto[:80]}")
        await ws.send_str(f"40{NAMESPACE}," + json.dumps({"token": token}))
        entrou = False
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            s: str = msg.data
            if s.startswith(EVENTO):
                agora = time.perf_counter()
                achado = CONTEUDO.search(s)
                if achado:
                    m.received.append((int(achado.group(1)), agora))
            elif s == "2":
                await ws.send_str("3")
            elif s.startswith(f"40{NAMESPACE}"):
                payload = json.dumps({"ticketId": ticket_id})
                await ws.send_str(f'42{NAMESPACE},1["ticket:entrar",{payload}]')
            elif s.startswith(f"43{NAMESPACE},1"):
                if '"success":true' not in s:
                    raise RuntimeError(f"ticket:entrar refused: {s}")
                if not entrou:
                    entrou = True
                    pronto.set()
            elif s.startswith("44"):
                raise RuntimeError(f"connect refused: {s}")


async def enviar(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], seq: int, m: Medidas
) -> None:
    m.sent[seq] = time.perf_counter()
    try:
        async with session.post(url, json={"conteudo": f"bench {seq}"}, headers=headers) as resp:
            await resp.read()
            m.status[seq] = resp.status
    except Exception as exc:
        m.status[seq] = -1
        m.errors.append(f"{type(exc).__name__}: {exc}")
    m.answered[seq] = time.perf_counter()


async def gerar(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    rate: float,
    seconds: float,
    primeiro: int,
    m: Medidas,
) -> int:
    """Open loop: request k at t0 + k/rate, sent as a task at that moment. Returns the next seq."""
    total = int(rate * seconds)
    t0 = time.perf_counter() + 0.05
    tarefas = []
    for k in range(total):
        seq = primeiro + k
        quando = t0 + k / rate
        espera = quando - time.perf_counter()
        if espera > 0:
            await asyncio.sleep(espera)
        m.scheduled[seq] = quando
        tarefas.append(asyncio.create_task(enviar(session, url, headers, seq, m)))
    await asyncio.gather(*tarefas)
    return primeiro + total


# --- one database -------------------------------------------------------------------------------


async def medir(
    port: int, pid: int, tokens: ServicoTokens, resumo: Any, args: argparse.Namespace, db_pids: Any
) -> dict[str, Any]:
    empresa = resumo.empresa_id
    ticket_id = resumo.tickets[1]  # em_atendimento, atendente ana: mensagem:nova only to the ticket room
    ana = resumo.id_de("ana@demo.local")
    quem = [
        ("ana@demo.local", "Ana Souza", "atendente"),
        ("bruno@demo.local", "Bruno Lima", "atendente"),
        ("gestor@demo.local", "Gestor Demo", "gestor"),
        ("admin@demo.local", "Administrador Demo", "admin"),
    ]
    m = Medidas()
    connector = aiohttp.TCPConnector(limit=256, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        prontos = []
        clientes = []
        for i in range(args.sockets):
            email, nome, role = quem[i % len(quem)]
            token = tokens.emitir(resumo.id_de(email), empresa, role, nome)
            pronto = asyncio.Event()
            prontos.append(pronto)
            clientes.append(asyncio.create_task(socket_cliente(session, port, token, ticket_id, m, pronto)))
        await asyncio.wait_for(asyncio.gather(*(p.wait() for p in prontos)), 30)
        url = f"http://127.0.0.1:{port}/atendimento/tickets/{ticket_id}/mensagens"
        headers = {"Authorization": "Bearer " + tokens.emitir(ana, empresa, "atendente", "Ana Souza")}
        seq = await gerar(session, url, headers, args.rate, WARMUP_S, 0, m)
        await asyncio.sleep(0.5)
        primeiro = seq
        pids_db = await db_pids()
        profiler = iniciar_perfil(pid, args.duration) if args.profile else None
        c0, d0, t0 = cpu_seconds(pid), cpu_by_pid(pids_db), time.perf_counter()
        seq = await gerar(session, url, headers, args.rate, args.duration, primeiro, m)
        c1, d1, t1 = cpu_seconds(pid), cpu_by_pid(pids_db), time.perf_counter()
        await asyncio.sleep(1.0)  # the last deliveries
        for c in clientes:
            c.cancel()
        await asyncio.gather(*clientes, return_exceptions=True)
    perfil = terminar_perfil(profiler) if profiler else None
    medidos = range(primeiro, seq)
    n = len(medidos)
    entregas = [t - m.scheduled[s] for s, t in m.received if s >= primeiro]
    respostas = [m.answered[s] - m.scheduled[s] for s in medidos if s in m.answered]
    atraso = [m.sent[s] - m.scheduled[s] for s in medidos if s in m.sent]
    ms = 1000.0
    db_cpu, db_perdidos = cpu_delta(d0, d1)
    ruins = sum(1 for s in medidos if m.status.get(s) != 201)
    return {
        "requests": n,
        "rate_scheduled": round(n / (m.scheduled[seq - 1] - m.scheduled[primeiro]) if n > 1 else 0, 1),
        "measured_s_until_last_answer": round(t1 - t0, 2),
        "sockets": args.sockets,
        "deliveries": len(entregas),
        "missing_deliveries": n * args.sockets - len(entregas),
        "non_201": ruins,
        "errors": m.errors[:5],
        "delivery_p50_ms": round(percentile(entregas, 0.5) * ms, 2),
        "delivery_p99_ms": round(percentile(entregas, 0.99) * ms, 2),
        "delivery_max_ms": round(max(entregas, default=float("nan")) * ms, 2),
        "response_p50_ms": round(percentile(respostas, 0.5) * ms, 2),
        "response_p99_ms": round(percentile(respostas, 0.99) * ms, 2),
        "send_lag_p99_ms": round(percentile(atraso, 0.99) * ms, 2),
        "server_cpu_ms_per_request": round((c1 - c0) * ms / n, 3),
        "server_cpu_utilisation": round((c1 - c0) / (t1 - t0), 3),
        "db_backends": len(pids_db),
        "db_backends_ended": db_perdidos,
        # A lower bound: backends that the pool opened during the phase (overflow) are not counted.
        "db_cpu_ms_per_request": round(db_cpu * ms / n, 3) if pids_db else None,
        "profile": perfil,
    }


async def rodar(db: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="atendimento-bench-") as tmp:
        port = free_port()
        argv = [str(REPO / ".venv" / "bin" / "atendimento"), "serve"]
        if db == "sqlite":
            env = app_env(Path(tmp), port=str(port))
            resumo = _Resumo(prepare_app(env, 0))
            tokens = _tokens(env)
            with server_process("serve-sqlite", argv, port, env=env) as proc:

                async def sem_db() -> list[int]:
                    return []

                return await medir(port, proc.pid, tokens, resumo, args, sem_db)
        async with banco_postgres(args.keep) as (admin_url, app_url, nome, resumo_pg):
            env = app_env(Path(tmp), app_url, database_admin_url=admin_url, port=str(port))
            tokens = _tokens(env)
            with server_process("serve-postgres", argv, port, env=env) as proc:

                async def do_pg() -> list[int]:
                    return await backends_pg(nome)

                return await medir(port, proc.pid, tokens, resumo_pg, args, do_pg)


class _Resumo:
    """The JSON summary of ``prepare`` with ResumoDemo's attributes."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.empresa_id = data["empresa_id"]
        self.tickets = data["tickets"]
        self._usuarios = data["usuarios"]

    def id_de(self, email: str) -> str:
        return str(self._usuarios[email])


def _tokens(env: dict[str, str]) -> ServicoTokens:
    return ServicoTokens(["HS256"], env["ATENDIMENTO_JWT_SECRET"], None, 5, 3600)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds")
    parser.add_argument("--sockets", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="py-spy the server during the measured phase")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--json", help="also write the full results to this file")
    args = parser.parse_args()
    info = {**machine(), "rate": args.rate, "duration": args.duration, "sockets": args.sockets}
    log(f"bench: {info}")
    resultados: dict[str, Any] = {}
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        log(f"bench: {db} ...")
        resultados[db] = uvloop.run(rodar(db, args))
        log(f"bench: {db}: {json.dumps({k: v for k, v in resultados[db].items() if k != 'profile'})}")
    info["loadavg_after"] = machine()["loadavg"]
    print(f"POST mensagens at {args.rate:g}/s for {args.duration:g}s, {args.sockets} sockets in the room")
    print(f"machine {info}")
    print(
        "| database | deliveries | p50 ms | p99 ms | max ms | HTTP p50 | HTTP p99 | server CPU ms/req "
        "| server CPU % | DB CPU ms/req | errors |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for db, r in resultados.items():
        dbcpu = "" if r["db_cpu_ms_per_request"] is None else f"{r['db_cpu_ms_per_request']:.2f}"
        print(
            f"| {db} | {r['deliveries']:,} | {r['delivery_p50_ms']:.2f} | {r['delivery_p99_ms']:.2f} | "
            f"{r['delivery_max_ms']:.1f} | {r['response_p50_ms']:.2f} | {r['response_p99_ms']:.2f} | "
            f"{r['server_cpu_ms_per_request']:.2f} | {r['server_cpu_utilisation'] * 100:.0f} | {dbcpu} | "
            f"{r['non_201'] + r['missing_deliveries']} |"
        )
        if r.get("profile"):
            print(f"\npy-spy of the server ({db}): top functions by own time, then by inclusive time")
            print(r["profile"]["text"])
    dump(args.json, {"machine": info, "results": resultados})
    return 0


if __name__ == "__main__":
    sys.exit(main())
