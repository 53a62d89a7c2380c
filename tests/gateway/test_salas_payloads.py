"""Pure parts of the gateway: room names, payload reading, ack shapes."""

from __future__ import annotations

import pytest

from atendimento.gateway import payloads, salas
from atendimento.gateway.respostas import Codigo, falha, sucesso
from atendimento.identity.tokens import Identidade


def _quem(role: str) -> Identidade:
    return Identidade(usuario_id="u1", empresa_id="e1", role=role, nome="N", exp=0)


@pytest.mark.parametrize(
    ("role", "esperadas"),
    [
        ("atendente", ["empresa:e1:user:u1", "empresa:e1", "empresa:e1:internos", "empresa:e1:atendentes"]),
        ("admin", ["empresa:e1:user:u1", "empresa:e1", "empresa:e1:internos"]),
        ("gestor", ["empresa:e1:user:u1", "empresa:e1", "empresa:e1:internos"]),
        ("supervisor", ["empresa:e1:user:u1", "empresa:e1", "empresa:e1:internos"]),
        ("vendedor", ["empresa:e1:user:u1", "empresa:e1"]),
        ("integracao", ["empresa:e1:user:u1", "empresa:e1"]),
    ],
)
def test_salas_de_conexao_seguem_o_contrato(role: str, esperadas: list[str]) -> None:
    assert salas.salas_de_conexao(_quem(role)) == esperadas


def test_nomes_de_sala() -> None:
    assert salas.usuario("e", "a") == "empresa:e:user:a"
    assert salas.empresa("e") == "empresa:e"
    assert salas.atendentes("e") == "empresa:e:atendentes"
    assert salas.internos("e") == "empresa:e:internos"
    assert salas.ticket("e", "t") == "empresa:e:ticket:t"


def test_toda_sala_de_empresa_diz_a_sua_empresa() -> None:
    """What the cluster partitions fan-out by: every tenant room names its tenant, escaped."""
    for sala in (salas.usuario("e", "a"), salas.empresa("e"), salas.internos("e"), salas.ticket("e", "t")):
        assert salas.empresa_da_sala(sala) == "e"
    assert salas.empresa_da_sala(salas.ticket("x:y", "t")) == "x%3Ay"
    assert salas.empresa_da_sala("abc123") is None  # a socket id
    assert salas.ticket_da_sala(salas.ticket("x:y", "t:1")) == "t:1"
    assert salas.ticket_da_sala(salas.usuario("e", "a")) is None


def test_ids_com_dois_pontos_nao_formam_a_sala_de_outro_tenant() -> None:
    # Without escaping, tenant "x:atendentes"'s own room would be tenant "x"'s atendentes room, and
    # ("x:user:y", "z") would name the same user room as ("x", "y:user:z").
    assert salas.empresa("x:atendentes") != salas.atendentes("x")
    assert salas.usuario("x:user:y", "z") != salas.usuario("x", "y:user:z")
    assert salas.empresa("a%3Ab") != salas.empresa("a:b")
    todas = {
        f(e)
        for e in ("x", "x:atendentes", "x:internos", "x:user:y")
        for f in (salas.empresa, salas.atendentes, salas.internos)
    } | {salas.usuario(e, u) for e, u in (("x", "y"), ("x:user:y", "z"), ("x", "y:user:z"))}
    assert len(todas) == 15


def test_ticket_id_valido() -> None:
    assert payloads.ticket_id({"ticketId": "550e8400-e29b-41d4-a716-446655440000"}) == (
        "550e8400-e29b-41d4-a716-446655440000"
    )
    # Extra keys are tolerated (forward compatibility), the id is what counts.
    assert payloads.ticket_id({"ticketId": "t1", "outro": 1}) == "t1"


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "t1",
        ["t1"],
        42,
        {},
        {"ticketId": None},
        {"ticketId": 123},
        {"ticketId": ""},
        {"ticketId": ["t1"]},
        {"ticketId": {"$ne": ""}},
        {"ticketId": "x" * 65},
        {"ticketId": "a b"},
        {"ticketId": "t1\n"},
        {"ticketId": "../t1"},
        {"ticketId": "t1", "lixo": "x" * 5000},
        {"ticketId": "t1", "lixo": list(range(2000))},
        {"ticketId": "t1", "fundo": [[[[[[[[[[[]]]]]]]]]]]},
    ],
)
def test_ticket_id_invalido(payload: object) -> None:
    with pytest.raises(payloads.PayloadInvalido):
        payloads.ticket_id(payload)


def test_ticket_id_no_limite() -> None:
    assert payloads.ticket_id({"ticketId": "x" * 64}) == "x" * 64


@pytest.mark.parametrize("status", ["online", "ocupado", "ausente", "offline"])
def test_status_valido(status: str) -> None:
    assert payloads.status_atendente({"status": status}) == status


@pytest.mark.parametrize(
    "payload", [None, {}, {"status": "ONLINE"}, {"status": "dormindo"}, {"status": 1}, "online"]
)
def test_status_invalido(payload: object) -> None:
    with pytest.raises(payloads.PayloadInvalido):
        payloads.status_atendente(payload)


def test_formas_do_ack() -> None:
    assert sucesso(ticketId="t") == {"success": True, "ticketId": "t"}
    assert falha(Codigo.PAYLOAD_INVALIDO) == {
        "success": False,
        "error": "Payload inválido",
        "code": "PAYLOAD_INVALIDO",
    }
    assert falha(Codigo.LIMITE_EXCEDIDO, retryAfterMs=10)["retryAfterMs"] == 10
    assert falha("USUARIO_NAO_ENCONTRADO", "Usuário não encontrado")["code"] == "USUARIO_NAO_ENCONTRADO"
