"""PresencaLocal, the in-process presence registry: first and last socket, grace period, per tenant."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from atendimento.gateway.presenca import Atendente, PresencaLocal

ANA = Atendente("e1", "ana", "Ana")
BRUNO = Atendente("e1", "bruno", "Bruno")
CARLA = Atendente("e2", "carla", "Carla")


class Ouvinte:
    def __init__(self) -> None:
        self.eventos: list[tuple[str, str]] = []

    def atendente_online(self, atendente: Atendente, momento: datetime) -> None:
        self.eventos.append(("online", atendente.usuario_id))

    def atendente_offline(self, atendente: Atendente, momento: datetime) -> None:
        self.eventos.append(("offline", atendente.usuario_id))


async def test_primeiro_e_ultimo_socket() -> None:
    presenca, ouvinte = PresencaLocal(0.05), Ouvinte()
    presenca.ouvir(ouvinte)
    await presenca.conectou(ANA, "s1")
    await presenca.conectou(ANA, "s2")
    assert ouvinte.eventos == [("online", "ana")]
    await presenca.desconectou(ANA, "s1")
    await asyncio.sleep(0.1)
    assert ouvinte.eventos == [("online", "ana")]
    await presenca.desconectou(ANA, "s2")
    assert await presenca.online("e1") == {"ana"}  # still online during the grace period
    await asyncio.sleep(0.1)
    assert ouvinte.eventos == [("online", "ana"), ("offline", "ana")]
    assert await presenca.online("e1") == set()
    await presenca.fechar()


async def test_recarga_dentro_da_graca_nao_emite_nada() -> None:
    presenca, ouvinte = PresencaLocal(0.1), Ouvinte()
    presenca.ouvir(ouvinte)
    await presenca.conectou(ANA, "s1")
    await presenca.desconectou(ANA, "s1")
    await asyncio.sleep(0.03)
    await presenca.conectou(ANA, "s2")
    await asyncio.sleep(0.15)
    assert ouvinte.eventos == [("online", "ana")]
    assert await presenca.online("e1") == {"ana"}
    await presenca.fechar()


async def test_online_por_empresa_e_saidas_repetidas() -> None:
    presenca, ouvinte = PresencaLocal(0), Ouvinte()
    presenca.ouvir(ouvinte)
    await presenca.conectou(ANA, "s1")
    await presenca.conectou(BRUNO, "s2")
    await presenca.conectou(CARLA, "s3")
    assert await presenca.online("e1") == {"ana", "bruno"}
    assert await presenca.online("e2") == {"carla"}
    await presenca.desconectou(ANA, "s1")
    await presenca.desconectou(ANA, "s1")
    await presenca.desconectou(ANA, "nunca-visto")
    assert ouvinte.eventos.count(("offline", "ana")) == 1
    assert await presenca.online("e1") == {"bruno"}
    await presenca.fechar()


def test_graca_acima_do_contrato_e_recusada() -> None:
    with pytest.raises(ValueError):
        PresencaLocal(6)
