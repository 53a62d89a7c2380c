"""Recovery across two real server processes (`atendimento serve`, wired by the composition root).

The gestor's socket.io-client (4.8.1, default options) reaches process 1 through a TCP proxy the test
owns; the proxy cuts it, notifications are published through the REST API of both processes, and the
reconnect lands on process 2: it recovers (process 1 hands the session over), or, when process 1
was killed (SIGKILL) during the gap, it is a clean fresh connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from apoio_node import ClientesRecuperacao, garantir_node_modules
from apoio_proxy import ProxyTcp, proxy_para

from . import test_dois_processos as dois_processos
from .apoio_cluster import ate
from .test_dois_processos import NS, Par, Processo

# The two processes and their Redis, as in the two-process tests (pytest finds the fixtures here).
demo = dois_processos.demo
dados = dois_processos.dados
redis_do_par = dois_processos.redis_do_par
par = dois_processos.par

pytestmark = pytest.mark.node

GESTOR = "gestor@demo.local"


async def _avisar(par: Par, processo: Processo, texto: str) -> None:
    corpo = {"usuarioId": par.ids[GESTOR], "tipo": "aviso", "mensagem": texto}
    await par.rest("POST", processo, "/notificacoes", GESTOR, corpo)
    await asyncio.sleep(0.1)  # one Redis hop, so that the order published is the order delivered


async def _cortado(par: Par, proxy: ProxyTcp) -> tuple[ClientesRecuperacao, dict[str, Any], int]:
    garantir_node_modules()
    nos = await ClientesRecuperacao(proxy.url).iniciar()
    opcoes = {"auth": {"token": par.tokens[GESTOR]}, "transports": ["websocket"]}
    primeiro = await nos.conectar("gestor", opcoes=opcoes, namespace=NS)
    assert primeiro["type"] == "connect"
    inicio = len(nos.registros)
    proxy.cortar()
    await asyncio.sleep(0.5)  # process 1 sees the TCP connection close and keeps the session
    return nos, primeiro, inicio


async def _volta(nos: ClientesRecuperacao, desde: int) -> dict[str, Any]:
    return await nos.esperar(
        lambda r: (
            r.get("client") == "gestor"
            and (
                r.get("type") == "connect" or (r.get("type") == "connect_error" and r.get("data") is not None)
            )
        ),
        desde=desde,
        prazo=20,
    )


def _avisos(nos: ClientesRecuperacao) -> list[str]:
    return [r["args"][0]["mensagem"] for r in nos.eventos("gestor", "notificacao")]


async def test_reconnect_on_the_other_process_recovers_every_missed_event(par: Par) -> None:
    async with proxy_para(par.um.url) as proxy:
        nos, primeiro, inicio = await _cortado(par, proxy)
        try:
            for processo, texto in ((par.um, "1"), (par.dois, "2"), (par.um, "3")):
                await _avisar(par, processo, texto)
            proxy.religar(par.dois.url)
            voltou = await _volta(nos, inicio)
            assert voltou["type"] == "connect" and voltou["recovered"] is True, voltou
            assert voltou["id"] == primeiro["id"]
            await ate(lambda: len(_avisos(nos)) == 3, prazo=5)
            await _avisar(par, par.um, "4")  # live, through process 2
            await ate(lambda: len(_avisos(nos)) == 4, prazo=5)
            await asyncio.sleep(0.2)
            assert _avisos(nos) == ["1", "2", "3", "4"]
        finally:
            await nos.fechar()


async def test_the_home_process_killed_during_the_gap_gives_a_fresh_connection(par: Par) -> None:
    async with proxy_para(par.um.url) as proxy:
        nos, primeiro, inicio = await _cortado(par, proxy)
        try:
            await _avisar(par, par.dois, "1")
            par.um.matar()
            await _avisar(par, par.dois, "2")
            proxy.religar(par.dois.url)
            voltou = await _volta(nos, inicio)
            assert voltou["type"] == "connect" and voltou["recovered"] is False, voltou
            assert voltou["id"] != primeiro["id"]
            await asyncio.sleep(0.3)
            assert _avisos(nos) == []  # nothing replayed, nothing partial
        finally:
            await nos.fechar()
