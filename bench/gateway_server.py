"""The real application (``build_app``) plus bench-only routes, for benchmarks through the gateway.

    # once per database: migrate, demo data, N generated atendentes of Empresa Demo (prints JSON)
    .venv/bin/python bench/gateway_server.py prepare --atendentes 1000
    # serve the real app on $PORT (settings from ATENDIMENTO_* as for `atendimento serve`)
    PORT=3201 .venv/bin/python bench/gateway_server.py serve

Settings come from the environment exactly as for ``atendimento serve`` (ATENDIMENTO_DATABASE_URL,
ATENDIMENTO_DATABASE_ADMIN_URL, ATENDIMENTO_JWT_SECRET, ATENDIMENTO_REDIS_URL, ...), and uvicorn is
configured as ``atendimento serve`` configures it (engine WebSocket protocol class, no
permessage-deflate, httptools, uvloop). Everything outside ``/bench/`` is the product, untouched.

Bench routes (GET, never part of the product):

* ``/bench/tokens?empresa=E&count=N&offset=K`` → JSON list of ``{id, nome, token}`` for the
  generated atendentes (ordered by email), tokens minted by the app's own ``ServicoTokens``;
* ``/bench/sample?empresa=E`` → the ``ticket:novo`` payload of a real ticket of E (what a peer sends);
* ``/bench/tracemalloc?acao=marcar|comparar&top=K`` → with ``BENCH_TRACEMALLOC=1``, a snapshot, then
  the source lines whose allocations grew since (bench/memoria_conexao.py);
* ``/bench/ticket-novo?empresa=E&count=N`` → calls ``gateway.publicador.ticket_novo(ticket)`` N times
  in a row, the call the domain makes after committing a new ticket. The ticket is a real one read
  from the database once; each call gets a copy whose ``assunto`` is ``"bench <seq> <t>"``, t being
  the wall clock in ms just before the call, so a client can time the delivery from the payload.
  Answers ``{ok, recipients}`` (sockets of the room on this instance).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import os
import sys
import time
import tracemalloc
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from sqlalchemy import insert, select

from atendimento.app import Aplicacao, build_app
from atendimento.config import load_settings
from atendimento.domain.entidades import TicketDados, agora, novo_id
from atendimento.engine.engineio.uvicorn_ws import EngineWebSocketProtocol
from atendimento.gateway import salas
from atendimento.storage.banco import Storage
from atendimento.storage.demo import carregar_demo
from atendimento.storage.modelos import Usuario

EMAIL_BENCH = "bench{:05d}@demo.local"


# --- prepare ------------------------------------------------------------------------------------


async def preparar(atendentes: int) -> dict[str, Any]:
    settings = load_settings()
    resumo = await carregar_demo(settings)
    storage = Storage.from_settings(settings, admin=True)
    try:
        async with storage.transacao(resumo.empresa_id) as session:
            hash_demo = (
                await session.execute(
                    select(Usuario.senha_hash).where(Usuario.id == resumo.id_de("ana@demo.local"))
                )
            ).scalar_one()
            momento = agora()
            linhas = [
                {
                    "id": novo_id(),
                    "empresa_id": resumo.empresa_id,
                    "nome": f"Atendente Bench {i:05d}",
                    "email": EMAIL_BENCH.format(i),
                    "senha_hash": hash_demo,
                    "role": "atendente",
                    "status_atendimento": "offline",
                    "ativo": True,
                    "criado_em": momento,
                }
                for i in range(atendentes)
            ]
            if linhas:
                await session.execute(insert(Usuario), linhas)
    finally:
        await storage.close()
    return {
        "empresa_id": resumo.empresa_id,
        "outra_empresa_id": resumo.outra_empresa_id,
        "tickets": resumo.tickets,
        "usuarios": resumo.usuarios,
        "atendentes_bench": atendentes,
    }


# --- serve --------------------------------------------------------------------------------------


class RotasBench:
    def __init__(self, aplicacao: Aplicacao) -> None:
        self.app = aplicacao
        self._tickets: dict[str, TicketDados] = {}
        self._atendentes: dict[str, list[tuple[str, str]]] = {}
        self._marca: tracemalloc.Snapshot | None = None

    async def _ticket(self, empresa_id: str) -> TicketDados:
        ticket = self._tickets.get(empresa_id)
        if ticket is None:
            tickets = await self.app.servico.listar_tickets(empresa_id)
            ticket = self._tickets[empresa_id] = tickets[0]
        return ticket

    async def _lista_atendentes(self, empresa_id: str) -> list[tuple[str, str]]:
        lista = self._atendentes.get(empresa_id)
        if lista is None:
            usuarios = await self.app.servico.listar_atendentes(empresa_id)
            bench = sorted((u for u in usuarios if u.email.startswith("bench")), key=lambda u: u.email)
            lista = self._atendentes[empresa_id] = [(u.id, u.nome) for u in bench]
        return lista

    def _memoria(self, query: dict[str, str]) -> Any:
        """``acao=marcar``: a tracemalloc snapshot to compare with; ``acao=comparar&top=K``: the K
        source lines that grew most since (bench/memoria_conexao.py). Needs BENCH_TRACEMALLOC=1."""
        if not tracemalloc.is_tracing():
            return {"error": "serve with BENCH_TRACEMALLOC=1"}
        gc.collect()
        if query.get("acao") == "marcar":
            self._marca = tracemalloc.take_snapshot()
            return {"ok": True}
        agora = tracemalloc.take_snapshot()
        filtro = [tracemalloc.Filter(False, tracemalloc.__file__)]
        assert self._marca is not None, "acao=marcar first"
        modo = "traceback" if tracemalloc.get_traceback_limit() > 1 else "lineno"
        diferencas = agora.filter_traces(filtro).compare_to(self._marca.filter_traces(filtro), modo)
        top = int(query.get("top", "30"))
        return {
            "total": sum(d.size_diff for d in diferencas),
            "linhas": [
                {"onde": " < ".join(map(str, d.traceback)), "bytes": d.size_diff, "blocos": d.count_diff}
                for d in diferencas[:top]
            ],
        }

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        path = scope["path"]
        empresa = query.get("empresa", "")
        body: Any
        if path == "/bench/ticket-novo":
            ticket = await self._ticket(empresa)
            publicador = self.app.gateway.publicador
            replace = dataclasses.replace
            for seq in range(int(query.get("count", "1"))):
                publicador.ticket_novo(replace(ticket, assunto=f"bench {seq} {time.time() * 1000:.3f}"))
            sala = salas.internos(empresa)
            body = {"ok": True, "recipients": len(self.app.gateway.namespace.adapter.members(sala))}
        elif path == "/bench/tokens":
            lista = await self._lista_atendentes(empresa)
            offset, count = int(query.get("offset", "0")), int(query.get("count", str(len(lista))))
            emitir = self.app.tokens.emitir
            body = [
                {"id": uid, "nome": nome, "token": emitir(uid, empresa, "atendente", nome)}
                for uid, nome in lista[offset : offset + count]
            ]
        elif path == "/bench/sample":
            body = (await self._ticket(empresa)).para_evento()
        elif path == "/bench/tracemalloc":
            body = self._memoria(query)
        else:
            await _responder(send, 404, {"error": "no such bench route"})
            return
        await _responder(send, 200, body)


async def _responder(send: Any, status: int, body: Any) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def asgi_com_bench(aplicacao: Aplicacao) -> Any:
    produto = aplicacao.asgi
    bench = RotasBench(aplicacao)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/bench/"):
            await bench(scope, receive, send)
        else:
            await produto(scope, receive, send)

    return app


def servir(port: int) -> None:
    if os.environ.get("BENCH_TRACEMALLOC") == "1":
        tracemalloc.start(int(os.environ.get("BENCH_TRACEMALLOC_FRAMES", "1")))
    settings = load_settings()
    aplicacao = build_app(settings)
    config = uvicorn.Config(
        asgi_com_bench(aplicacao),
        host="127.0.0.1",
        port=port,
        ws=EngineWebSocketProtocol,
        ws_per_message_deflate=False,
        ws_ping_interval=None,
        ws_max_size=settings.max_payload_bytes,
        http="httptools",
        loop="uvloop",
        lifespan="on",
        log_level="warning",
        access_log=False,
        server_header=False,
    )
    uvicorn.Server(config).run()


def main() -> int:
    parser = argparse.ArgumentParser(description="the real app plus bench-only routes")
    sub = parser.add_subparsers(dest="comando", required=True)
    prep = sub.add_parser("prepare", help="migrate, load the demo data, add generated atendentes")
    prep.add_argument("--atendentes", type=int, default=1000)
    sub.add_parser("serve", help="serve the real app plus /bench/* on $PORT")
    args = parser.parse_args()
    if args.comando == "prepare":
        print(json.dumps(asyncio.run(preparar(args.atendentes))))
    else:
        servir(int(os.environ.get("PORT", "3201")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
