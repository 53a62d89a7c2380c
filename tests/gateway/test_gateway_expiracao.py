"""AgendaExpiracao: one timer for every socket's token deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from atendimento.gateway.expiracao import AgendaExpiracao


@pytest.fixture
def agenda() -> Iterator[AgendaExpiracao]:
    """A fresh AgendaExpiracao, closed (its timer cancelled) after the test."""
    nova = AgendaExpiracao()
    yield nova
    nova.fechar()


async def test_dispara_na_ordem_dos_prazos(agenda: AgendaExpiracao) -> None:
    disparos: list[str] = []
    agora = time.time()
    agenda.agendar("b", agora + 0.10, lambda: disparos.append("b"))
    agenda.agendar("a", agora + 0.05, lambda: disparos.append("a"))
    agenda.agendar("c", agora + 0.15, lambda: disparos.append("c"))
    await asyncio.sleep(0.3)
    assert disparos == ["a", "b", "c"]
    assert len(agenda) == 0


async def test_cancelar_e_reagendar(agenda: AgendaExpiracao) -> None:
    disparos: list[str] = []
    agora = time.time()
    agenda.agendar("a", agora + 0.05, lambda: disparos.append("a"))
    agenda.agendar("b", agora + 0.05, lambda: disparos.append("b"))
    agenda.cancelar("a")
    # Renewal: a later deadline replaces the first one.
    agenda.agendar("b", agora + 0.20, lambda: disparos.append("b2"))
    await asyncio.sleep(0.12)
    assert disparos == []
    assert agenda.prazo("b") is not None
    await asyncio.sleep(0.2)
    assert disparos == ["b2"]


async def test_prazo_vencido_dispara_logo(agenda: AgendaExpiracao) -> None:
    disparos: list[str] = []
    agenda.agendar("a", time.time() - 10, lambda: disparos.append("a"))
    await asyncio.sleep(0.02)
    assert disparos == ["a"]


async def test_uma_acao_com_erro_nao_impede_as_outras(agenda: AgendaExpiracao) -> None:
    disparos: list[str] = []

    def falha(agenda: AgendaExpiracao) -> None:
        raise RuntimeError("boom")

    agora = time.time()
    agenda.agendar("a", agora + 0.02, falha)
    agenda.agendar("b", agora + 0.02, lambda: disparos.append("b"))
    await asyncio.sleep(0.1)
    assert disparos == ["b"]


async def test_muitas_trocas_nao_crescem_o_heap_sem_limite(agenda: AgendaExpiracao) -> None:
    agora = time.time()
    for i in range(10_000):
        agenda.agendar(f"s{i % 10}", agora + 3600 + i, lambda: None)
    assert len(agenda) == 10
    assert len(agenda._heap) <= 2 * 10 + 64 + 1
