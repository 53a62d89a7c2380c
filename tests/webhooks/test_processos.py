"""Real ``atendimento serve`` processes on PostgreSQL: a ``kill -9`` with deliveries pending (some
mid-attempt) loses nothing after a restart, with the same webhook-id; two instances deliver each
event once between them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from apoio_rede import porta_livre

from atendimento.identity.tokens import ServicoTokens
from atendimento.storage.demo import USUARIOS_DEMO

from .apoio import Receptor, demorar, receptor, responder

pytestmark = pytest.mark.postgres

SEGREDO = "segredo-dos-testes-de-webhooks-com-mais-de-32-bytes"
BIN = Path(sys.executable).parent / "atendimento"
TOKENS = ServicoTokens(["HS256"], SEGREDO, None, 5, 3600)


class Instancia:
    def __init__(self, banco: Any, pasta: Path, nome: str) -> None:
        self.porta = porta_livre()
        self.url = f"http://127.0.0.1:{self.porta}"
        self.log = pasta / f"{nome}.log"
        ambiente = {k: v for k, v in os.environ.items() if not k.startswith("ATENDIMENTO_")}
        ambiente.update(
            ATENDIMENTO_DATA_DIR=str(pasta),
            ATENDIMENTO_DATABASE_URL=banco.app_url,
            ATENDIMENTO_DATABASE_ADMIN_URL=banco.admin_url,
            ATENDIMENTO_JWT_SECRET=SEGREDO,
            ATENDIMENTO_WEBHOOK_RETRY_SCHEDULE=",".join(["0.3"] * 40),
            ATENDIMENTO_WEBHOOK_TIMEOUT_SECONDS="1",
            ATENDIMENTO_WEBHOOK_ALLOW_PRIVATE="true",
            ATENDIMENTO_WEBHOOK_HTTP_HOSTS="127.0.0.1",
            ATENDIMENTO_WEBHOOK_POLL_SECONDS="0.3",
        )
        with self.log.open("wb") as saida:
            self.popen = subprocess.Popen(
                [str(BIN), "serve", "--port", str(self.porta)],
                env=ambiente,
                stdout=saida,
                stderr=subprocess.STDOUT,
            )

    async def pronta(self, prazo: float = 90) -> None:
        limite = time.monotonic() + prazo
        async with httpx.AsyncClient() as http:
            while time.monotonic() < limite:
                assert self.popen.poll() is None, self.log.read_text()
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{self.url}/health")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise AssertionError("did not start: " + self.log.read_text())

    def matar(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(10)

    def parar(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.matar()


@pytest.fixture
def instancias(demo_pg: Any, tmp_path: Path) -> Iterator[list[Instancia]]:
    lista: list[Instancia] = []
    yield lista
    for instancia in lista:
        instancia.matar()


def _auth(demo: Any, email: str) -> dict[str, str]:
    nome, role = next((n, r) for e, n, r in USUARIOS_DEMO if e == email)
    token = TOKENS.emitir(demo.resumo.id_de(email), demo.resumo.empresa_id, role, nome)
    return {"Authorization": f"Bearer {token}"}


async def _preparar(demo: Any, url: str, r: Receptor, n_tickets: int) -> tuple[str, list[str]]:
    canal = demo.resumo.canais["whatsapp"]
    async with httpx.AsyncClient(base_url=url) as http:
        resposta = await http.put(
            f"/atendimento/canais/{canal}/webhook",
            json={"url": r.url},
            headers=_auth(demo, "gestor@demo.local"),
        )
        assert resposta.status_code == 200, resposta.text
        tickets = []
        for i in range(n_tickets):
            resposta = await http.post(
                f"/atendimento/canais/{canal}/mensagens",
                json={"contato": f"+55119000{i:05d}", "conteudo": "oi"},
                headers=_auth(demo, "integracao@demo.local"),
            )
            tickets.append(resposta.json()["data"]["ticket"]["id"])
    return canal, tickets


async def _escrever(url: str, demo: Any, tickets: list[str], por_ticket: int) -> dict[str, str]:
    """``por_ticket`` agent messages on each ticket, in turn; message id → ticket id."""
    escritas: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=url) as http:
        for i in range(por_ticket):
            for ticket in tickets:
                resposta = await http.post(
                    f"/atendimento/tickets/{ticket}/mensagens",
                    json={"conteudo": f"{ticket}:{i}"},
                    headers=_auth(demo, "ana@demo.local"),
                )
                assert resposta.status_code == 201, resposta.text
                escritas[resposta.json()["data"]["id"]] = ticket
    return escritas


async def test_kill_9_com_entregas_pendentes_nada_se_perde(
    demo_pg: Any, tmp_path: Path, instancias: list[Instancia]
) -> None:
    async with receptor() as r:
        r.comportamento = demorar(0.3)  # slow: the kill lands during attempts too
        falhar = [True]
        lento = r.comportamento

        async def comportamento(p: web.Request, e: dict[str, Any]) -> web.StreamResponse | None:
            await lento(p, e)
            return web.Response(status=503) if falhar[0] else None

        r.comportamento = comportamento
        a = Instancia(demo_pg.banco, tmp_path, "a")
        instancias.append(a)
        await a.pronta()
        _, tickets = await _preparar(demo_pg, a.url, r, 2)
        escritas = await _escrever(a.url, demo_pg, tickets, 5)
        await r.esperar(lambda: len(r.recebidos) >= 4)
        a.matar()
        ids_antes = set(r.ids())
        falhar[0] = False
        b = Instancia(demo_pg.banco, tmp_path, "b")
        instancias.append(b)
        await b.pronta()

        await r.esperar(
            lambda: {x.evento["data"]["mensagem"]["id"] for x in r.recebidos} >= set(escritas), 60
        )
        # Every message went out; an event retried across the crash kept its webhook-id.
        por_mensagem: dict[str, set[str]] = {}
        for x in r.recebidos:
            por_mensagem.setdefault(x.evento["data"]["mensagem"]["id"], set()).add(x.id)
        assert all(len(ids) == 1 for ids in por_mensagem.values()), por_mensagem
        assert ids_antes <= set(r.ids())
        # Per ticket, in the order written.
        for ticket in tickets:
            conteudos = [
                x.evento["data"]["mensagem"]["conteudo"]
                for x in r.recebidos
                if x.evento["data"]["ticket"]["id"] == ticket
            ]
            primeira_vez = list(dict.fromkeys(conteudos))
            assert primeira_vez == [f"{ticket}:{i}" for i in range(5)]
        b.parar()


async def test_duas_instancias_entregam_cada_evento_uma_vez(
    demo_pg: Any, tmp_path: Path, instancias: list[Instancia]
) -> None:
    async with receptor() as r:
        r.comportamento = responder(200)
        a = Instancia(demo_pg.banco, tmp_path, "a")
        b = Instancia(demo_pg.banco, tmp_path, "b")
        instancias.extend([a, b])
        await asyncio.gather(a.pronta(), b.pronta())
        _, tickets = await _preparar(demo_pg, a.url, r, 4)
        escritas: dict[str, str] = {}
        partes = await asyncio.gather(
            _escrever(a.url, demo_pg, tickets[:2], 6), _escrever(b.url, demo_pg, tickets[2:], 6)
        )
        for parte in partes:
            escritas.update(parte)
        await r.esperar(lambda: len(set(r.ids())) >= len(escritas), 60)
        await asyncio.sleep(1.0)  # a second delivery of any, if there were one, would come now
        assert len(r.recebidos) == len(escritas) == 24
        assert {x.evento["data"]["mensagem"]["id"] for x in r.recebidos} == set(escritas)
        a.parar()
        b.parar()
