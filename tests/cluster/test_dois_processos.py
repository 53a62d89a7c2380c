"""Two real server processes (`atendimento serve`, uvicorn) sharing one Redis and one database.

What issue 6 promises, end to end: a socket on instance 1 gets the event of a REST write made on
instance 2 (and the other way round), each once; presence is cluster-wide (online on the first socket
anywhere, offline when the last one anywhere is gone, a reload onto the other instance emits nothing,
an instance killed without a goodbye has its users go offline in bounded time). The Redis is the
test's own, so no other test's traffic is on its channels; the database is a demo SQLite file both
processes open.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from atendimento.cluster.presenca import BATIMENTO_S, VIDAS

from .apoio_cluster import Caixa, Clientes, RedisProprio, ate, porta_livre

NS = "/atendimento"
SEGREDO = "segredo-dos-testes-de-cluster-com-mais-de-32-bytes"
GRACA = 0.5
BIN = Path(sys.executable).parent / "atendimento"


@dataclass
class Processo:
    url: str
    popen: subprocess.Popen[bytes]
    log: Path

    def matar(self) -> None:
        """SIGKILL: no shutdown, no goodbye to Redis (as a crashed machine)."""
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


def _ambiente(dados: Path, redis_url: str) -> dict[str, str]:
    ambiente = {k: v for k, v in os.environ.items() if not k.startswith("ATENDIMENTO_")}
    ambiente.update(
        ATENDIMENTO_DATA_DIR=str(dados),
        ATENDIMENTO_REDIS_URL=redis_url,
        ATENDIMENTO_JWT_SECRET=SEGREDO,
        ATENDIMENTO_PRESENCE_GRACE_SECONDS=str(GRACA),
        ATENDIMENTO_LOG_LEVEL="info",
    )
    return ambiente


def _subir(dados: Path, redis_url: str, nome: str) -> Processo:
    porta = porta_livre()
    log = dados / f"{nome}.log"
    with log.open("wb") as saida:
        popen = subprocess.Popen(
            [str(BIN), "serve", "--port", str(porta)],
            env=_ambiente(dados, redis_url),
            stdout=saida,
            stderr=subprocess.STDOUT,
        )
    return Processo(f"http://127.0.0.1:{porta}", popen, log)


async def _pronto(processo: Processo, prazo: float = 90) -> None:  # a loaded CI box starts slowly
    limite = time.monotonic() + prazo
    async with httpx.AsyncClient() as http:
        while time.monotonic() < limite:
            if processo.popen.poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{processo.url}/ready", timeout=2)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{processo.url} not ready:\n{processo.log.read_text()[-3000:]}")


@dataclass
class Par:
    um: Processo
    dois: Processo
    clientes: Clientes
    http: httpx.AsyncClient
    tokens: dict[str, str]
    ids: dict[str, str]

    async def login(self, email: str, processo: Processo) -> None:
        resposta = await self.http.post(
            f"{processo.url}/auth/login", json={"email": email, "senha": "demo-senha"}
        )
        assert resposta.status_code == 200, resposta.text
        dados = resposta.json()["data"]
        self.tokens[email] = dados["access_token"]
        self.ids[email] = dados["user"]["id"]

    async def rest(self, metodo: str, processo: Processo, caminho: str, email: str, corpo: Any = None) -> Any:
        resposta = await self.http.request(
            metodo,
            f"{processo.url}{caminho}",
            json=corpo,
            headers={"Authorization": f"Bearer {self.tokens[email]}"},
        )
        assert resposta.status_code < 300, resposta.text
        return resposta.json()["data"]

    async def socket(
        self, email: str, processo: Processo, transports: list[str] | None = None
    ) -> tuple[Any, Caixa]:
        return await self.clientes.conectar(processo.url, NS, {"token": self.tokens[email]}, transports)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo SQLite database, made once; each test copies it."""
    pasta = tmp_path_factory.mktemp("cluster-demo")
    subprocess.run(
        [str(BIN), "demo"],
        env=_ambiente(pasta, "redis://unused"),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return pasta


@pytest.fixture
def redis_do_par() -> Iterator[RedisProprio]:
    servidor = RedisProprio()
    servidor.iniciar()
    yield servidor
    servidor.encerrar()


@pytest.fixture
def dados(demo: Path, tmp_path: Path) -> Path:
    """A copy of the demo data folder (database and nothing else) for one test's two processes."""
    for arquivo in demo.iterdir():
        if arquivo.is_file() and not arquivo.name.endswith(".log"):
            (tmp_path / arquivo.name).write_bytes(arquivo.read_bytes())
    return tmp_path


@pytest.fixture
async def par(dados: Path, redis_do_par: RedisProprio) -> AsyncIterator[Par]:
    um = _subir(dados, redis_do_par.url, "um")
    dois = _subir(dados, redis_do_par.url, "dois")
    clientes = Clientes()
    try:
        await asyncio.gather(_pronto(um), _pronto(dois))
        async with httpx.AsyncClient(timeout=10) as http:
            par = Par(um, dois, clientes, http, {}, {})
            for email in ("gestor@demo.local", "ana@demo.local", "bruno@demo.local"):
                await par.login(email, dois)  # logins (and their shared throttle) on one instance
            yield par
    finally:
        await clientes.fechar()
        for processo in (um, dois):
            processo.parar()


async def test_escrita_rest_numa_instancia_chega_ao_socket_da_outra(par: Par) -> None:
    _, gestor = await par.socket("gestor@demo.local", par.um)  # WebSocket on instance 1
    _, bruno = await par.socket("bruno@demo.local", par.dois, ["polling"])  # long-polling on instance 2
    tickets = await par.rest("GET", par.dois, "/atendimento/tickets", "gestor@demo.local")
    ticket_id = tickets[0]["id"]

    await par.rest(
        "PATCH", par.dois, f"/atendimento/tickets/{ticket_id}", "gestor@demo.local", {"prioridade": "urgente"}
    )
    await ate(lambda: len(gestor.de("ticket:atualizado")) == 1 and len(bruno.de("ticket:atualizado")) == 1)
    evento = gestor.de("ticket:atualizado")[0][0]  # then the recovery offset
    assert evento["ticketId"] == ticket_id and evento["prioridade"] == "urgente"

    corpo = {"usuarioId": par.ids["bruno@demo.local"], "tipo": "aviso", "mensagem": "de outra instância"}
    await par.rest("POST", par.um, "/notificacoes", "gestor@demo.local", corpo)
    await ate(lambda: len(bruno.de("notificacao")) == 1)
    await asyncio.sleep(0.3)
    assert len(gestor.de("ticket:atualizado")) == len(bruno.de("ticket:atualizado")) == 1  # once
    assert gestor.de("notificacao") == []
    assert bruno.de("notificacao")[0][0]["mensagem"] == "de outra instância"


def _presenca(caixa: Caixa) -> list[tuple[str, str]]:
    return [(e, args[0]["atendenteId"]) for e, args in caixa.eventos if e.startswith("atendente:")]


async def _online(par: Par, processo: Processo) -> dict[str, bool]:
    atendentes = await par.rest("GET", processo, "/atendimento/atendentes", "gestor@demo.local")
    return {a["id"]: a["online"] for a in atendentes}


async def test_presenca_entre_as_duas_instancias(par: Par) -> None:
    ana = par.ids["ana@demo.local"]
    _, bruno = await par.socket("bruno@demo.local", par.dois)
    await ate(lambda: _presenca(bruno) == [("atendente:online", par.ids["bruno@demo.local"])])
    bruno.eventos.clear()

    cliente_ana, _ = await par.socket("ana@demo.local", par.um)
    await ate(lambda: _presenca(bruno) == [("atendente:online", ana)])
    assert (await _online(par, par.dois))[ana] is True
    assert (await _online(par, par.um))[ana] is True

    # A reload that lands on the other instance, within the grace period: nobody hears anything.
    await cliente_ana.disconnect()
    cliente_ana, _ = await par.socket("ana@demo.local", par.dois)
    await asyncio.sleep(GRACA + 1.0)
    assert _presenca(bruno) == [("atendente:online", ana)]

    await cliente_ana.disconnect()
    await ate(lambda: len(_presenca(bruno)) == 2, prazo=GRACA + 5)
    assert _presenca(bruno)[1] == ("atendente:offline", ana)
    assert (await _online(par, par.um))[ana] is False
    await asyncio.sleep(1.0)
    assert len(_presenca(bruno)) == 2  # once, although two instances could have said it


async def test_instancia_morta_seus_atendentes_saem_em_tempo_limitado(par: Par) -> None:
    ana = par.ids["ana@demo.local"]
    _, bruno = await par.socket("bruno@demo.local", par.dois)
    await par.socket("ana@demo.local", par.um)
    await ate(lambda: ("atendente:online", ana) in _presenca(bruno))
    par.um.matar()
    inicio = time.monotonic()
    limite = BATIMENTO_S * VIDAS + BATIMENTO_S + GRACA + 2  # key life + one sweep + slack
    await ate(lambda: ("atendente:offline", ana) in _presenca(bruno), prazo=limite)
    assert time.monotonic() - inicio <= limite
    assert (await _online(par, par.dois))[ana] is False
    await asyncio.sleep(BATIMENTO_S + 0.5)
    assert _presenca(bruno).count(("atendente:offline", ana)) == 1
