"""AgendaExpiracao: one timer for every socket's token deadline.

The schedule is driven with a fake wall clock and ``vencer(agora)``; only the last tests let the real
timer fire, to check that it is wired to ``vencer``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest

from atendimento.gateway.expiracao import AgendaExpiracao

T = 1_700_000_000.0  # the fake wall clock's "now": deadlines are seconds after it, never reached for real
Agenda = AgendaExpiracao[Callable[[], None]]


def _chamar(acao: Callable[[], None]) -> None:
    """These tests' agenda holds callables as its targets, and its action calls them."""
    acao()


@pytest.fixture
def agenda() -> Iterator[Agenda]:
    """An AgendaExpiracao on a clock that stands still at T, closed (its timer cancelled) after the test."""
    nova = AgendaExpiracao(_chamar, relogio=lambda: T)
    yield nova
    nova.fechar()


async def test_dispara_na_ordem_dos_prazos(agenda: Agenda) -> None:
    disparos: list[str] = []
    agenda.agendar("b", T + 10, lambda: disparos.append("b"))
    agenda.agendar("a", T + 5, lambda: disparos.append("a"))
    agenda.agendar("c", T + 15, lambda: disparos.append("c"))
    assert agenda.alvo == T + 5  # one timer, for the earliest
    agenda.vencer(T + 4.9)
    assert disparos == []
    agenda.vencer(T + 10)
    assert disparos == ["a", "b"]
    assert agenda.alvo == T + 15  # re-armed for the next one
    agenda.vencer(T + 30)
    assert disparos == ["a", "b", "c"]
    assert len(agenda) == 0 and agenda.alvo is None


async def test_cancelar_e_reagendar(agenda: Agenda) -> None:
    disparos: list[str] = []
    agenda.agendar("a", T + 5, lambda: disparos.append("a"))
    agenda.agendar("b", T + 5, lambda: disparos.append("b"))
    agenda.cancelar("a")
    # Renewal: a later deadline replaces the first one.
    agenda.agendar("b", T + 20, lambda: disparos.append("b2"))
    agenda.vencer(T + 12)
    assert disparos == []
    assert agenda.prazo("b") == T + 20 and agenda.prazo("a") is None
    assert agenda.alvo == T + 20  # the stale entries at T + 5 no longer hold the timer
    agenda.vencer(T + 20)
    assert disparos == ["b2"]


async def test_um_prazo_mais_cedo_rearma_o_timer(agenda: Agenda) -> None:
    agenda.agendar("a", T + 60, lambda: None)
    agenda.agendar("b", T + 90, lambda: None)
    assert agenda.alvo == T + 60
    agenda.agendar("c", T + 30, lambda: None)
    assert agenda.alvo == T + 30


async def test_uma_acao_com_erro_nao_impede_as_outras(agenda: Agenda) -> None:
    disparos: list[str] = []

    def falha() -> None:
        raise RuntimeError("boom")

    agenda.agendar("a", T + 2, falha)
    agenda.agendar("b", T + 2, lambda: disparos.append("b"))
    agenda.vencer(T + 2)
    assert disparos == ["b"] and len(agenda) == 0


async def test_muitas_trocas_nao_crescem_o_heap_sem_limite(agenda: Agenda) -> None:
    for i in range(10_000):
        agenda.agendar(f"s{i % 10}", T + 3600 + i, lambda: None)
    assert len(agenda) == 10
    assert len(agenda._heap) <= 2 * 10 + 64 + 1


# ------------------------------------------------------------------------- the real timer, wired


async def test_o_timer_dispara_no_prazo() -> None:
    agenda: Agenda = AgendaExpiracao(_chamar)
    disparou = asyncio.Event()
    try:
        agenda.agendar("a", time.time() + 0.05, disparou.set)
        await asyncio.wait_for(disparou.wait(), 5)
        assert len(agenda) == 0 and agenda.alvo is None
    finally:
        agenda.fechar()


async def test_prazo_vencido_dispara_logo() -> None:
    agenda: Agenda = AgendaExpiracao(_chamar)
    disparou = asyncio.Event()
    try:
        agenda.agendar("a", time.time() - 10, disparou.set)
        await asyncio.wait_for(disparou.wait(), 1)
    finally:
        agenda.fechar()
