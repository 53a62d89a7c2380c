"""``PresencaLote`` on a real engine namespace, without the network: edges observed as they are
broadcast become batches, at most one per window, with ``versao`` +1 each, holding only what changed;
the whole team on entry, with the changes seen while it was being read."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, cast

from atendimento.engine import EventPacket, Server, Socket
from atendimento.engine.socketio.adapter import Target
from atendimento.gateway import salas
from atendimento.gateway.presenca_lote import EVENTO, PresencaLote, pediu_lote

EMPRESA = "e1"


class _Socket:
    """What PresencaLote uses of a socket: join and emit."""

    def __init__(self) -> None:
        self.salas: list[str] = []
        self.recebidos: list[dict[str, Any]] = []

    def join(self, sala: str) -> None:
        self.salas.append(sala)

    def emit(self, evento: str, dados: dict[str, Any]) -> None:
        assert evento == EVENTO
        self.recebidos.append(dados)


def _montar(janela_s: float, carregar: Any) -> tuple[PresencaLote, list[tuple[float, dict[str, Any]]], Any]:
    server = Server()
    ns = server.of("/atendimento")
    lotes: list[tuple[float, dict[str, Any]]] = []
    original = ns.adapter.broadcast_local

    def gravar(packet: EventPacket, target: Target, *, record: bool = True) -> None:
        if packet.event == EVENTO:
            assert record is False and target.rooms == frozenset({salas.presenca_lote(EMPRESA)})
            lotes.append((asyncio.get_running_loop().time(), packet.args[0]))
        original(packet, target, record=record)

    ns.adapter.broadcast_local = gravar  # type: ignore[method-assign]
    return PresencaLote(ns, carregar, janela_s=janela_s), lotes, ns


def _borda(ns: Any, evento: str, atendente_id: str, **extra: Any) -> None:
    dados = {"atendenteId": atendente_id, "atendenteNome": f"N{atendente_id}", **extra}
    ns.adapter.broadcast_local(
        EventPacket(ns.name, evento, (dados,)), Target(frozenset({salas.atendentes(EMPRESA)}))
    )


async def test_edges_become_batches_one_per_window_with_consecutive_versions() -> None:
    async def carregar(_: str) -> list[dict[str, Any]]:
        return [{"atendenteId": "a", "atendenteNome": "Na", "online": False, "status": "offline"}]

    lote, lotes, ns = _montar(0.2, carregar)
    socket = _Socket()
    await lote.entrou(cast(Socket, socket), EMPRESA)
    assert socket.salas == [salas.presenca_lote(EMPRESA)]
    assert socket.recebidos == [
        {
            "versao": 0,
            "completo": True,
            "atendentes": [{"atendenteId": "a", "atendenteNome": "Na", "online": False, "status": "offline"}],
        }
    ]
    for i in range(10):  # ten arrivals over half a second
        _borda(ns, "atendente:online", f"u{i}")
        await asyncio.sleep(0.05)
    _borda(ns, "atendente:status", "a", status="ausente")
    _borda(ns, "atendente:online", "u0")  # no change: not in any batch again
    await asyncio.sleep(0.5)
    assert 2 <= len(lotes) <= 5, lotes
    instantes = [t for t, _ in lotes]
    assert all(b - a >= 0.19 for a, b in itertools.pairwise(instantes))
    assert [dados["versao"] for _, dados in lotes] == list(range(1, len(lotes) + 1))
    assert all(dados["completo"] is False for _, dados in lotes)
    vistos = [a["atendenteId"] for _, dados in lotes for a in dados["atendentes"]]
    assert sorted(vistos) == sorted([f"u{i}" for i in range(10)] + ["a"])  # each change once
    ultimo_de_a = next(a for _, d in lotes for a in d["atendentes"] if a["atendenteId"] == "a")
    assert ultimo_de_a == {"atendenteId": "a", "atendenteNome": "Na", "online": False, "status": "ausente"}

    # A second client now gets the whole team as it stands, at the current versao.
    outro = _Socket()
    await lote.entrou(cast(Socket, outro), EMPRESA)
    (todo,) = outro.recebidos
    assert todo["completo"] is True and todo["versao"] == len(lotes)
    assert {a["atendenteId"] for a in todo["atendentes"] if a["online"]} == {f"u{i}" for i in range(10)}
    lote.fechar()


async def test_changes_while_the_team_is_read_are_not_lost_and_concurrent_entries_read_once() -> None:
    leituras = 0
    liberar = asyncio.Event()

    async def carregar(_: str) -> list[dict[str, Any]]:
        nonlocal leituras
        leituras += 1
        await liberar.wait()
        return [{"atendenteId": "a", "atendenteNome": "Na", "online": False, "status": "offline"}]

    lote, _, ns = _montar(0.1, carregar)
    primeiro, segundo = _Socket(), _Socket()
    entradas = asyncio.gather(
        lote.entrou(cast(Socket, primeiro), EMPRESA), lote.entrou(cast(Socket, segundo), EMPRESA)
    )
    await asyncio.sleep(0.05)
    _borda(ns, "atendente:online", "a")  # while the database is being read
    liberar.set()
    await entradas
    assert leituras == 1
    for socket in (primeiro, segundo):
        (todo,) = socket.recebidos
        assert todo["atendentes"] == [
            {"atendenteId": "a", "atendenteNome": "Na", "online": True, "status": "offline"}
        ]
    lote.fechar()


def test_only_presenca_lote_asks_for_batches() -> None:
    assert pediu_lote({"token": "t", "presenca": "lote"})
    assert not pediu_lote({"token": "t"})
    assert not pediu_lote({"presenca": "LOTE"})
    assert not pediu_lote(None)


async def test_after_a_large_batch_the_next_waits_longer() -> None:
    async def carregar(_: str) -> list[dict[str, Any]]:
        return []

    lote, lotes, ns = _montar(0.1, carregar)
    await lote.entrou(cast(Socket, _Socket()), EMPRESA)
    for i in range(25):
        _borda(ns, "atendente:online", f"u{i}")
    await asyncio.sleep(0.05)
    _borda(ns, "atendente:online", "depois")
    await asyncio.sleep(0.5)
    (t1, primeiro), (t2, segundo) = lotes
    assert len(primeiro["atendentes"]) == 25 and segundo["atendentes"][0]["atendenteId"] == "depois"
    assert t2 - t1 >= 0.19  # two windows after 25 changes
    lote.fechar()
