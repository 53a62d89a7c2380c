"""Channels out: how many webhook deliveries per second one instance's relay sustains to a local
receiver on PostgreSQL, and the CPU each costs (the relay's process, and PostgreSQL's backends).

A fresh demo database (``pg_database.banco_postgres``); ``--tickets`` tickets on the demo's WhatsApp
channel, whose endpoint is a receiver in a child process (aiohttp, answering 200 at once, so its CPU
is not counted); ``--eventos`` outbox rows spread over the tickets (order per ticket holds, so the
tickets bound how many deliveries can be in flight); then the relay of this process (built as
``serve`` builds it) delivers them all. Reported: deliveries/s, relay CPU ms per delivery, PostgreSQL
CPU ms per delivery, and the attempt latency percentiles (from ``saida_tentativas``).

    .venv/bin/python bench/webhooks_throughput.py --eventos 20000 --tickets 500
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import PYTHON, cpu_by_pid, cpu_delta, dump, free_port, log, machine, percentile, wait_port
from pg_database import backends_pg, banco_postgres

RECEPTOR = """
import sys
from aiohttp import web
async def ok(request):
    await request.read()
    return web.Response(status=200)
app = web.Application()
app.router.add_post("/hook", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


async def _preparar(admin_url: str, resumo: Any, url: str, tickets: int, eventos: int) -> None:
    """As the owner: the endpoint, the tickets, the outbox rows (ticket.status, the cheapest body)."""
    import asyncpg

    from atendimento.domain.saida import gerar_segredo

    empresa, canal = resumo.empresa_id, resumo.canais["whatsapp"]
    conn = await asyncpg.connect(admin_url.replace("postgresql://", "postgres://"))
    try:
        await conn.execute("SELECT set_current_tenant($1)", empresa)
        modelo = await conn.fetchrow("SELECT * FROM tickets WHERE empresa_id = $1 LIMIT 1", empresa)
        await conn.execute(
            "INSERT INTO canal_webhooks (canal_id, empresa_id, url, segredo, ativo, criado_em, atualizado_em)"
            " VALUES ($1, $2, $3, $4, true, now(), now())",
            canal,
            empresa,
            url,
            gerar_segredo(),
        )
        ids = [str(uuid.uuid4()) for _ in range(tickets)]
        await conn.executemany(
            "INSERT INTO tickets (id, empresa_id, numero, cliente_id, canal_id, fila_id, status, prioridade,"
            " total_mensagens, criado_em, atualizado_em)"
            " VALUES ($1, $2, $3, $4, $5, $6, 'aberto', 'media', 0, now(), now())",
            [
                (t, empresa, 100000 + i, modelo["cliente_id"], canal, modelo["fila_id"])
                for i, t in enumerate(ids)
            ],
        )
        await conn.executemany(
            "INSERT INTO saida_eventos (id, empresa_id, canal_id, ticket_id, tipo, dados, criado_em)"
            " VALUES ($1, $2, $3, $4, 'ticket.status', $5::jsonb, now())",
            [
                (
                    "msg_" + uuid.uuid4().hex,
                    empresa,
                    canal,
                    ids[i % tickets],
                    '{"status": "em_atendimento", "statusAnterior": "aberto"}',
                )
                for i in range(eventos)
            ],
        )
    finally:
        await conn.close()


async def _pendentes(admin_url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgresql://", "postgres://"))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM saida_eventos WHERE estado = 'pendente'"))
    finally:
        await conn.close()


async def _esperar_fim(admin_url: str, inicio: float, limite: float) -> int:
    """Until no event is pending (polled: a count in the database), or ``limite`` seconds."""
    restantes = await _pendentes(admin_url)
    for _ in range(int(limite / 0.25)):
        if restantes == 0 or time.perf_counter() - inicio > limite:
            break
        await asyncio.sleep(0.25)
        restantes = await _pendentes(admin_url)
    return restantes


async def _latencias(admin_url: str) -> list[float]:
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgresql://", "postgres://"))
    try:
        return [float(r["duracao_ms"]) for r in await conn.fetch("SELECT duracao_ms FROM saida_tentativas")]
    finally:
        await conn.close()


async def medir(args: argparse.Namespace, porta: int) -> dict[str, Any]:
    from atendimento.config import Settings
    from atendimento.domain.servicos import ServicoAtendimento
    from atendimento.identity.passwords import senhas_padrao
    from atendimento.storage.banco import Storage
    from atendimento.webhooks.wiring import build_relay

    async with banco_postgres(args.keep) as (admin_url, app_url, nome, resumo):
        await _preparar(admin_url, resumo, f"http://127.0.0.1:{porta}/hook", args.tickets, args.eventos)
        settings = Settings(  # type: ignore[call-arg]
            database_url=app_url,
            webhook_allow_private=True,
            webhook_http_hosts=["127.0.0.1"],
            webhook_concurrency=args.concorrencia,
            webhook_concurrency_per_endpoint=args.concorrencia,
            data_dir=Path("/tmp"),
        )
        storage = Storage.from_settings(settings)
        relay = build_relay(settings, storage, ServicoAtendimento(storage, senhas=senhas_padrao()))
        await storage.aquecer(20)  # every pooled connection open now, so its backend's CPU is counted
        backends = await backends_pg(nome)
        cpu_pg_antes = cpu_by_pid(backends)
        cpu_antes, inicio = time.process_time(), time.perf_counter()
        await relay.start()
        restantes = await _esperar_fim(admin_url, inicio, args.limite)
        duracao = time.perf_counter() - inicio
        cpu_relay = time.process_time() - cpu_antes
        await relay.stop()
        backends = sorted(set(backends) | set(await backends_pg(nome)))
        cpu_pg, _ = cpu_delta(cpu_pg_antes, cpu_by_pid(backends))
        await storage.close()
        entregues = args.eventos - restantes
        latencias = await _latencias(admin_url)
    return {
        "machine": machine(),
        "eventos": args.eventos,
        "tickets": args.tickets,
        "concorrencia": args.concorrencia,
        "entregues": entregues,
        "segundos": round(duracao, 3),
        "entregas_por_segundo": round(entregues / duracao, 1),
        "cpu_relay_ms_por_entrega": round(1000 * cpu_relay / max(entregues, 1), 3),
        "cpu_postgres_ms_por_entrega": round(1000 * cpu_pg / max(entregues, 1), 3),
        "tentativa_ms_p50": percentile(latencias, 0.5),
        "tentativa_ms_p99": percentile(latencias, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eventos", type=int, default=20_000)
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--concorrencia", type=int, default=64, help="ATENDIMENTO_WEBHOOK_CONCURRENCY")
    parser.add_argument("--limite", type=float, default=600.0, help="give up after this many seconds")
    parser.add_argument("--json", help="also write the result here")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    if os.environ.get("ATENDIMENTO_LOG_LEVEL") is None:
        os.environ["ATENDIMENTO_LOG_LEVEL"] = "warning"
    porta = free_port()
    # The receiver in a child process, so that its CPU is not counted as the relay's.
    receptor = subprocess.Popen([PYTHON, "-c", RECEPTOR, str(porta)])
    try:
        wait_port(porta, receptor)
        resultado = asyncio.run(medir(args, porta))
    finally:
        receptor.terminate()
        receptor.wait(10)
    log(resultado)
    dump(args.json, resultado)


if __name__ == "__main__":
    main()
