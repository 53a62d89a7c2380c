"""Batched presence (``presenca: "lote"``) on two real ``serve`` processes (PostgreSQL, their own Redis),
with real socket.io-clients: the whole team on connect, then at most one ``atendente:presenca`` per
500 ms with what changed, ``versao`` +1 per batch; arrivals, departures, status changes and a second
tab; a reconnect after a gap starts again from a whole team; legacy clients beside them get the
seed's events unchanged; and a storm of N batched arrivals costs O(N) deliveries."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from apoio_equipe import criar_atendentes, tokens_para
from apoio_instancias import SEGREDO, Instancia, ambiente, subir_todas
from apoio_node import ClientesAtendimento, ClientesRecuperacao, garantir_node_modules

from .apoio_cluster import RedisProprio, ate

pytestmark = [pytest.mark.node, pytest.mark.postgres, pytest.mark.redis]


@contextlib.asynccontextmanager
async def _duas(demo_pg: Any, tmp_path: Path) -> AsyncIterator[list[Instancia]]:
    redis = RedisProprio()
    redis.iniciar()
    env = ambiente(tmp_path, demo_pg.banco.app_url, redis.url, ATENDIMENTO_PRESENCE_GRACE_SECONDS="0.5")
    instancias = [Instancia(nome, env, tmp_path) for nome in ("a", "b")]
    try:
        await subir_todas(instancias)
        yield instancias
    finally:
        for instancia in instancias:
            instancia.parar()
        redis.encerrar()


class Equipe:
    """What a batch client knows, rebuilt from its batches as a front end would."""

    def __init__(self, nos: ClientesAtendimento, cliente: str) -> None:
        self.nos, self.cliente = nos, cliente

    def lotes(self) -> list[dict[str, Any]]:
        return self.nos.payloads(self.cliente, "atendente:presenca")

    def estado(self) -> dict[str, dict[str, Any]]:
        atual: dict[str, dict[str, Any]] = {}
        versao = None
        for lote in self.lotes():
            if lote["completo"]:
                atual = {a["atendenteId"]: a for a in lote["atendentes"]}
            else:
                assert versao is not None and lote["versao"] == versao + 1, (versao, lote)  # no gap
                atual.update({a["atendenteId"]: a for a in lote["atendentes"]})
            versao = lote["versao"]
        return atual


def _opcoes(token: str, lote: bool) -> dict[str, Any]:
    auth: dict[str, Any] = {"token": token, "presenca": "lote"} if lote else {"token": token}
    return {"auth": auth, "transports": ["websocket"]}


@pytest.mark.timeout(300)
async def test_batches_and_legacy_side_by_side(demo_pg: Any, tmp_path: Path) -> None:
    garantir_node_modules()
    empresa = demo_pg.resumo.empresa_id
    equipe = await criar_atendentes(demo_pg.storage, empresa, 3, "lote")
    (x, y, z) = equipe
    tx, ty, tz = tokens_para(SEGREDO, empresa, equipe)
    async with _duas(demo_pg, tmp_path) as (a, b):
        nos = await ClientesRecuperacao(a.url).iniciar()
        try:
            assert (await nos.conectar("x-lote", opcoes=_opcoes(tx, True)))["type"] == "connect"
            x_ve = Equipe(nos, "x-lote")
            await ate(lambda: len(x_ve.lotes()) >= 1, prazo=10)
            primeiro = x_ve.lotes()[0]
            assert primeiro["completo"] is True
            ids = {e["atendenteId"] for e in primeiro["atendentes"]}
            assert {x[0], y[0], z[0], demo_pg.resumo.usuarios["ana@demo.local"]} <= ids  # the whole team
            assert set(primeiro["atendentes"][0]) == {"atendenteId", "atendenteNome", "online", "status"}

            # A legacy client on the other instance, and a batch arrival there.
            legado = await nos.connect("y-legado", _opcoes(ty, False), server=b.url, namespace="/atendimento")
            assert legado["type"] == "connect"
            await ate(lambda: x_ve.estado().get(y[0], {}).get("online") is True, prazo=10)
            assert x_ve.estado()[x[0]]["online"] is True  # its own arrival, in a batch

            # A status change reaches both kinds, each in its own form.
            resposta = await nos.pedir("y-legado", "atendente:status", {"status": "ausente"})
            assert resposta["success"], resposta
            await ate(lambda: x_ve.estado()[y[0]]["status"] == "ausente", prazo=10)
            await ate(lambda: len(nos.payloads("y-legado", "atendente:status")) == 1, prazo=10)
            status = nos.payloads("y-legado", "atendente:status")[0]
            assert set(status) == {"atendenteId", "atendenteNome", "status", "timestamp"}

            # z arrives in batch mode on b: the legacy client hears the seed's atendente:online.
            assert (await nos.connect("z-lote", _opcoes(tz, True), server=b.url, namespace="/atendimento"))[
                "type"
            ] == "connect"
            z_ve = Equipe(nos, "z-lote")
            await ate(
                lambda: any(p["atendenteId"] == z[0] for p in nos.payloads("y-legado", "atendente:online")),
                prazo=10,
            )
            online = next(p for p in nos.payloads("y-legado", "atendente:online") if p["atendenteId"] == z[0])
            assert set(online) == {"atendenteId", "atendenteNome", "timestamp"}
            await ate(lambda: x_ve.estado().get(z[0], {}).get("online") is True, prazo=10)
            await ate(lambda: z_ve.estado().get(y[0], {}).get("status") == "ausente", prazo=10)

            # A second tab of x (on b): no change for anyone; closing it announces nothing either.
            lotes_antes = len(x_ve.lotes())
            assert (await nos.connect("x-aba2", _opcoes(tx, True), server=b.url, namespace="/atendimento"))[
                "type"
            ] == "connect"
            await nos.disconnect("x-aba2")
            await asyncio.sleep(1.5)  # grace 0.5 s and three batch windows
            novos = [
                lote
                for lote in x_ve.lotes()[lotes_antes:]
                if any(e["atendenteId"] == x[0] for e in lote["atendentes"])
            ]
            assert novos == []
            assert not any(p["atendenteId"] == x[0] for p in nos.payloads("y-legado", "atendente:offline"))

            # A departure: y leaves; batch clients see it offline, in one batch.
            await nos.disconnect("y-legado")
            await ate(lambda: x_ve.estado()[y[0]]["online"] is False, prazo=10)
            await ate(lambda: z_ve.estado()[y[0]]["online"] is False, prazo=10)

            # A gap: x's transport dies; its reconnect begins with a whole team again, right as of now.
            inicio, vistos = len(nos.registros), len(x_ve.lotes())
            nos.drop("x-lote")
            await nos.esperar(
                lambda r: r.get("client") == "x-lote" and r.get("type") == "connect", desde=inicio, prazo=15
            )
            await ate(lambda: any(lote["completo"] for lote in x_ve.lotes()[vistos:]), prazo=10)
            estado = x_ve.estado()
            assert estado[y[0]]["online"] is False and estado[z[0]]["online"] is True

            # Batch clients never got the seed's events.
            for cliente in ("x-lote", "z-lote"):
                for evento in ("atendente:online", "atendente:offline", "atendente:status"):
                    assert nos.eventos(cliente, evento) == [], (cliente, evento)
        finally:
            await nos.fechar()


N = 200


@pytest.mark.timeout(300)
async def test_a_storm_of_batched_arrivals_costs_o_of_n_deliveries(demo_pg: Any, tmp_path: Path) -> None:
    garantir_node_modules()
    empresa = demo_pg.resumo.empresa_id
    equipe = await criar_atendentes(demo_pg.storage, empresa, N, "tempestade")
    tokens = tokens_para(SEGREDO, empresa, equipe)
    async with _duas(demo_pg, tmp_path) as instancias:
        nos = await ClientesRecuperacao(instancias[0].url).iniciar()
        try:
            for i, token in enumerate(tokens):  # all at once, each retrying by its own backoff if refused
                url = instancias[i % 2].url + "/atendimento"
                opcoes = {"reconnection": True, **_opcoes(token, True)}
                nos.send({"op": "connect", "client": f"t{i}", "url": url, "options": opcoes})
            todos = {e[0] for e in equipe}

            def completos() -> int:
                return sum(
                    1
                    for i in range(N)
                    if {a for a, e in Equipe(nos, f"t{i}").estado().items() if e["online"]} >= todos
                )

            await ate(lambda: completos() == N, prazo=120, passo=0.5)
            await asyncio.sleep(1.5)  # let the last batches out
            entregas = len(nos.eventos(None, "atendente:presenca"))
            print(f"{N} batched arrivals: {entregas} atendente:presenca deliveries")  # shown with -s
            assert entregas <= 10 * N, entregas
            assert nos.eventos(None, "atendente:online") == []
        finally:
            await nos.fechar()
