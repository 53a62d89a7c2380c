"""Message writes on PostgreSQL at a steady rate on one ticket, straight through
``Storage.acrescentar_mensagem`` (no HTTP, no sockets): the storage's share of the write path's tail.

    bash bench/escritas_postgres.sh [RATE] [SECONDS] [CHECKOUT...]

(``escritas_postgres.sh`` makes a throw-away database, migrated and loaded with the demo data, and
runs this once per checkout given, alternating, three rounds; without one, this repository.) Write i
is started at t0 + i/rate whatever the earlier ones are doing (open loop) by the demo's gestor on the
demo's first open ticket, as ``compare-e2e.sh``'s driver does, and its latency is the moment the call
returned minus that scheduled time. Needs ``ATENDIMENTO_DATABASE_URL`` (the application role) and
``ATENDIMENTO_DATABASE_ADMIN_URL`` (to find the demo's ids).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import asyncpg

from atendimento.domain.entidades import agora, novo_id
from atendimento.domain.portas import NovaMensagem
from atendimento.storage import Storage


def _q(valores: list[float], p: float) -> float:
    ordenados = sorted(valores)
    return ordenados[int(p * (len(ordenados) - 1))] * 1000


async def medir(rate: float, duracao: float, rotulo: str) -> str:
    admin = await asyncpg.connect(os.environ["ATENDIMENTO_DATABASE_ADMIN_URL"])
    try:
        gestor = await admin.fetchrow(
            "SELECT id, empresa_id, role FROM usuarios WHERE email = 'gestor@demo.local'"
        )
        ticket = await admin.fetchval(
            "SELECT id FROM tickets WHERE empresa_id = $1 AND status <> 'fechado' ORDER BY numero LIMIT 1",
            gestor["empresa_id"],
        )
    finally:
        await admin.close()
    storage = Storage(os.environ["ATENDIMENTO_DATABASE_URL"])
    await storage.aquecer()
    latencias: list[float] = []

    async def escrever(i: int, quando: float) -> None:
        pedido = NovaMensagem(
            id=novo_id(),
            ticket_id=ticket,
            remetente_id=gestor["id"],
            role=gestor["role"],
            tipo="texto",
            conteudo=f"m{i}",
            metadados=None,
            criado_em=agora(),
        )
        await storage.acrescentar_mensagem(gestor["empresa_id"], pedido)
        latencias.append(time.perf_counter() - quando)

    tarefas = []
    inicio = time.perf_counter()
    for i in range(int(rate * duracao)):
        quando = inicio + i / rate
        espera = quando - time.perf_counter()
        if espera > 0:
            await asyncio.sleep(espera)
        tarefas.append(asyncio.ensure_future(escrever(i, quando)))
    await asyncio.gather(*tarefas)
    await storage.close()
    return (
        f"{rotulo} writes {len(latencias)} p50_ms {_q(latencias, 0.5):.1f} p90_ms {_q(latencias, 0.9):.1f} "
        f"p99_ms {_q(latencias, 0.99):.1f} max_ms {_q(latencias, 1.0):.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--label", default="this")
    args = parser.parse_args()
    print(asyncio.run(medir(args.rate, args.duration, args.label)))


if __name__ == "__main__":
    main()
