"""Issue 10: while one socket floods, how long another tenant waits (REST and an event).

    .venv/bin/python bench/flood_fairness.py [--duration 15] [--rest-rate 20] [--json out.json]
        [--server-repo PATH]     # serve another checkout's code (e.g. main, for "before")

The server is the product (bench/gateway_server.py serve: ``build_app``, uvicorn, engine
WebSocket protocol, uvloop) on a fresh SQLite file with the demo data. Per scenario:

* the innocent: ``carla@outra.local`` (Outra Empresa) sends ``GET /atendimento/tickets`` open-loop
  at ``--rest-rate``/s, and ``ticket:entrar`` with an ack on one WebSocket at 1.5/s (under the
  per-user limit of 120/min, so every answer is a real one); latency = answer − scheduled send time;
* the observer: ``bruno@demo.local``, a colleague of the hostile agent, counts the
  ``atendente:status`` broadcasts he receives;
* the hostile: ``ana@demo.local`` (Empresa Demo) runs tests/gateway/cliente_hostil.py again and again
  for ``--duration`` seconds, each run one connection that writes 3,000 events at once (waiting at
  most 2 s for answers before the next run).

Scenarios: quiet (no hostile, the baseline), ``atendente:status`` over WebSocket and over polling,
``ticket:entrar`` over WebSocket, an unknown event over WebSocket. Reported per scenario: the
innocent's REST and event p50/p95/p99/max (ms) and errors, the hostile's runs and its acks by code,
and the broadcasts the observer got. A fresh server per scenario, so one's backlog can't leak into the
next. "Before": check out main somewhere (``git worktree add --detach /tmp/atendimento-main main``)
and pass ``--server-repo /tmp/atendimento-main``; the driver and the hostile client stay this repo's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from benchlib import PYTHON, REPO, app_env, dump, free_port, log, machine, percentile, server_process

HOSTIL = REPO / "tests" / "gateway" / "cliente_hostil.py"
NS = "/atendimento"
QUANTOS = 3000

CENARIOS: list[tuple[str, str | None, Any, str]] = [
    ("quiet", None, None, "websocket"),
    ("status-websocket", "atendente:status", {"status": "online"}, "websocket"),
    ("status-polling", "atendente:status", {"status": "online"}, "polling"),
    ("entrar-websocket", "ticket:entrar", "TICKET", "websocket"),
    ("unknown-websocket", "evento:desconhecido", {"x": 1}, "websocket"),
]


class Socket:
    """A raw Engine.IO/Socket.IO WebSocket client on /atendimento: acks by id, events by name."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.acks: dict[int, asyncio.Future[Any]] = {}
        self.eventos: Counter[str] = Counter()
        self.proximo = 0
        self.leitor = asyncio.create_task(self._ler())

    @classmethod
    async def abrir(cls, http: aiohttp.ClientSession, url: str, token: str) -> Socket:
        ws = await http.ws_connect(url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket")
        await ws.receive_str()
        await ws.send_str(f"40{NS}," + json.dumps({"token": token}))
        resposta = await ws.receive_str()
        if not resposta.startswith(f"40{NS},"):
            raise RuntimeError(f"not connected: {resposta}")
        return cls(ws)

    async def _ler(self) -> None:
        async for msg in self.ws:
            texto = msg.data
            if texto == "2":
                await self.ws.send_str("3")
            elif texto.startswith(f"43{NS},"):
                corpo = texto[len(NS) + 3 :]
                i = corpo.index("[")
                futuro = self.acks.pop(int(corpo[:i]), None)
                if futuro is not None and not futuro.done():
                    futuro.set_result(json.loads(corpo[i:]))
            elif texto.startswith(f"42{NS},"):
                corpo = texto[len(NS) + 3 :]
                self.eventos[json.loads(corpo[corpo.index("[") :])[0]] += 1

    async def pedir(self, evento: str, payload: Any) -> Any:
        ack_id, self.proximo = self.proximo, self.proximo + 1
        futuro: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.acks[ack_id] = futuro
        await self.ws.send_str(f"42{NS},{ack_id}" + json.dumps([evento, payload]))
        return await futuro

    async def fechar(self) -> None:
        self.leitor.cancel()
        await self.ws.close()


async def login(http: aiohttp.ClientSession, url: str, email: str) -> str:
    async with http.post(f"{url}/auth/login", json={"email": email, "senha": "demo-senha"}) as r:
        corpo = await r.json()
    return str(corpo["data"]["access_token"])


async def hostil(
    url: str, token: str, evento: str, payload: Any, transporte: str, ate: float
) -> dict[str, Any]:
    """Run the hostile client again and again until ``ate`` (monotonic); its acks summed up."""
    acks: Counter[str] = Counter()
    corridas = desconexoes = 0
    while time.monotonic() < ate:
        proc = await asyncio.create_subprocess_exec(
            PYTHON, str(HOSTIL), url, token, "--evento", evento, "--payload", json.dumps(payload),
            "--quantos", str(QUANTOS), "--transporte", transporte, "--prazo", "2",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        saida, _ = await proc.communicate()
        linhas = [json.loads(linha) for linha in saida.decode().splitlines() if linha.strip()]
        if linhas and "acks" in linhas[-1]:
            corridas += 1
            acks.update(linhas[-1]["acks"])
            desconexoes += bool(linhas[-1]["desconectado"] or linhas[-1]["fechado"])
    return {"runs": corridas, "acks": dict(acks), "disconnected_runs": desconexoes}


async def cenario(
    url: str, evento: str | None, payload: Any, transporte: str, dur: float, rate: float
) -> dict:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        carla = await login(http, url, "carla@outra.local")
        ana = await login(http, url, "ana@demo.local")
        bruno = await login(http, url, "bruno@demo.local")
        cabecalho = {"Authorization": f"Bearer {carla}"}
        async with http.get(f"{url}/atendimento/tickets", headers=cabecalho) as r:
            ticket_outra = (await r.json())["data"][0]["id"]
        async with http.get(f"{url}/atendimento/tickets", headers={"Authorization": f"Bearer {ana}"}) as r:
            ticket_demo = (await r.json())["data"][0]["id"]
        inocente = await Socket.abrir(http, url, carla)
        observador = await Socket.abrir(http, url, bruno)
        await asyncio.sleep(0.5)
        rest: list[float] = []
        eventos: list[float] = []
        erros: Counter[str] = Counter()
        inicio = time.monotonic()
        fim = inicio + dur

        async def um_rest(agendado: float) -> None:
            await asyncio.sleep(max(0.0, agendado - time.monotonic()))
            try:
                async with http.get(f"{url}/atendimento/tickets", headers=cabecalho) as r:
                    await r.read()
                    if r.status != 200:
                        erros[f"rest {r.status}"] += 1
                        return
            except (aiohttp.ClientError, TimeoutError) as exc:
                erros[f"rest {type(exc).__name__}"] += 1
                return
            rest.append((time.monotonic() - agendado) * 1000)

        async def um_evento(agendado: float) -> None:
            await asyncio.sleep(max(0.0, agendado - time.monotonic()))
            try:
                ack = await asyncio.wait_for(inocente.pedir("ticket:entrar", {"ticketId": ticket_outra}), 60)
            except TimeoutError:
                erros["event timeout"] += 1
                return
            if not ack or ack[0].get("success") is not True:
                erros[f"event {ack[0].get('code') if ack else 'no ack'}"] += 1
                return
            eventos.append((time.monotonic() - agendado) * 1000)

        tarefas = [asyncio.create_task(um_rest(inicio + i / rate)) for i in range(int(dur * rate))]
        tarefas += [asyncio.create_task(um_evento(inicio + i / 1.5)) for i in range(int(dur * 1.5))]
        resumo_hostil: dict[str, Any] = {}
        if evento is not None:
            carga = {"ticketId": ticket_demo} if payload == "TICKET" else payload
            resumo_hostil = await hostil(url, ana, evento, carga, transporte, fim)
        await asyncio.gather(*tarefas)
        await asyncio.sleep(0.5)
        broadcasts = observador.eventos["atendente:status"]
        await inocente.fechar()
        await observador.fechar()

    def pcts(xs: list[float]) -> dict[str, float]:
        return {f"p{int(q * 100)}": round(percentile(xs, q), 1) for q in (0.5, 0.95, 0.99)} | {
            "max": round(max(xs), 1) if xs else float("nan"),
            "n": len(xs),
        }

    return {
        "rest_ms": pcts(rest),
        "event_ms": pcts(eventos),
        "errors": dict(erros),
        "hostile": resumo_hostil,
        "status_broadcasts_to_observer": broadcasts,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=15.0)
    p.add_argument("--rest-rate", type=float, default=20.0)
    p.add_argument("--server-repo", type=Path, default=REPO)
    p.add_argument("--only", help="comma-separated scenario names")
    p.add_argument("--json")
    a = p.parse_args()
    repo = a.server_repo.resolve()
    escolhidos = set(a.only.split(",")) if a.only else None
    resultados: dict[str, Any] = {"machine": machine(), "server_repo": str(repo), "scenarios": {}}
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    resultados["server_commit"] = commit.stdout.strip()
    for nome, evento, payload, transporte in CENARIOS:
        if escolhidos is not None and nome not in escolhidos:
            continue
        with tempfile.TemporaryDirectory(prefix="flood-") as pasta:
            env = {**app_env(Path(pasta)), "PYTHONPATH": str(repo)}
            prep = subprocess.run(
                [PYTHON, str(repo / "bench" / "gateway_server.py"), "prepare", "--atendentes", "0"],
                cwd=repo, env={**os.environ, **env}, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if prep.returncode != 0:
                sys.exit(f"prepare failed: {prep.stderr[-2000:]}")
            argv = [PYTHON, str(repo / "bench" / "gateway_server.py"), "serve"]
            for tentativa in range(3):
                # On a shared machine another process may take the free port first: try another one.
                porta = free_port()
                try:
                    with server_process(f"flood-{nome}", argv, porta, env=env, cwd=repo):
                        url = f"http://127.0.0.1:{porta}"
                        log(f"bench: {nome} ({a.duration:.0f} s) against {repo}")
                        r = asyncio.run(cenario(url, evento, payload, transporte, a.duration, a.rest_rate))
                    break
                except (aiohttp.ClientError, RuntimeError, KeyError) as exc:
                    log(f"bench: {nome} attempt {tentativa + 1} failed: {exc!r}")
            else:
                sys.exit(f"{nome}: no run succeeded")
        resultados["scenarios"][nome] = r
        print(json.dumps({nome: r}), flush=True)
    dump(a.json, resultados)
    with contextlib.suppress(Exception):
        tabela(resultados)


def tabela(resultados: dict[str, Any]) -> None:
    log("| scenario | REST p50 / p95 / p99 (ms) | event p50 / p95 / p99 (ms) | errors | broadcasts |")
    for nome, r in resultados["scenarios"].items():
        rs, ev = r["rest_ms"], r["event_ms"]
        log(
            f"| {nome} | {rs['p50']} / {rs['p95']} / {rs['p99']} | {ev['p50']} / {ev['p95']} / {ev['p99']} "
            f"| {sum(r['errors'].values())} | {r['status_broadcasts_to_observer']} |"
        )


if __name__ == "__main__":
    main()
