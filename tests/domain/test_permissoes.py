"""The ticket role rules with no I/O (docs/roles.md): who may change, assign, take a ticket."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from atendimento.domain import permissoes
from atendimento.domain.entidades import SISTEMA, Ator, TicketDados, UsuarioDados
from atendimento.domain.erros import Proibido

ANA, BRUNO = "ana", "bruno"


def _ticket(atendente: str | None) -> TicketDados:
    agora = datetime(2026, 12, 7, tzinfo=UTC)
    return TicketDados(
        "t", "1", "e", "c", "canal", "f", atendente, "aberto", "media", None, None, agora, agora
    )


# (role, ticket's atendente) -> may change it (PATCH, status)
ALTERAR = [
    ("admin", ANA, True), ("admin", BRUNO, True), ("admin", None, True),
    ("gestor", ANA, True), ("gestor", BRUNO, True), ("gestor", None, True),
    ("supervisor", ANA, True), ("supervisor", BRUNO, True), ("supervisor", None, True),
    ("atendente", ANA, True), ("atendente", BRUNO, False), ("atendente", None, False),
    ("vendedor", ANA, False), ("integracao", None, False),
]  # fmt: skip


@pytest.mark.parametrize(("role", "dono", "pode"), ALTERAR)
def test_quem_altera(role: str, dono: str | None, pode: bool) -> None:
    ator = Ator(ANA, role)
    assert permissoes.pode_alterar(ator, _ticket(dono)) is pode
    if not pode:
        with pytest.raises(Proibido):
            permissoes.exigir_alterar(ator, _ticket(dono))


# (role, ticket's atendente, assign to) -> may assign
ATRIBUIR = [
    ("gestor", BRUNO, ANA, True), ("supervisor", None, BRUNO, True), ("admin", ANA, BRUNO, True),
    ("atendente", None, ANA, True),    # takes an unassigned ticket
    ("atendente", ANA, ANA, True),     # already hers: nothing changes
    ("atendente", BRUNO, ANA, False),  # takes another's ticket
    ("atendente", None, BRUNO, False),  # assigns to someone else
    ("atendente", ANA, BRUNO, False),  # hands her ticket to someone else
    ("vendedor", None, ANA, False),
]  # fmt: skip


@pytest.mark.parametrize(("role", "dono", "para", "pode"), ATRIBUIR)
def test_quem_atribui(role: str, dono: str | None, para: str, pode: bool) -> None:
    assert permissoes.pode_atribuir(Ator(ANA, role), dono, para) is pode


def test_o_sistema_faz_tudo() -> None:
    assert permissoes.pode_alterar(SISTEMA, _ticket(BRUNO))
    assert permissoes.pode_atribuir(SISTEMA, BRUNO, ANA)


def test_integracao_so_nos_seus_canais() -> None:
    integracao = UsuarioDados("i", "e", "I", "i@x", "integracao", None, canal_ids=frozenset({"wa"}))
    permissoes.exigir_canal_da_integracao(integracao, "wa")
    with pytest.raises(Proibido):
        permissoes.exigir_canal_da_integracao(integracao, "webchat")
    atendente = UsuarioDados("a", "e", "A", "a@x", "atendente", None, canal_ids=frozenset({"wa"}))
    with pytest.raises(Proibido):
        permissoes.exigir_canal_da_integracao(atendente, "wa")
