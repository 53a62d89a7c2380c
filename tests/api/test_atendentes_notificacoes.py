"""GET /atendimento/atendentes (presence from the injected port) and POST /notificacoes."""

from __future__ import annotations

from typing import Any

import pytest

from atendimento.api.saidas import AtendenteSaida, NotificacaoSaida

from .apoio import Ambiente, PresencaFixa, assert_erro, assert_ok

ANA = "ana@demo.local"
BRUNO = "bruno@demo.local"
GESTOR = "gestor@demo.local"


async def test_atendentes_com_presenca_e_status(amb: Ambiente) -> None:
    amb.presenca.ids = {amb.id(ANA), amb.id(GESTOR)}
    await amb.servico.definir_status_atendente(amb.demo.empresa_id, amb.id(BRUNO), "ausente")
    data = assert_ok(
        await amb.cliente.get("/atendimento/atendentes", headers=amb.auth(GESTOR)), 200, list[AtendenteSaida]
    )
    por_email = {a["email"]: a for a in data}
    assert set(por_email) == {ANA, BRUNO}  # atendentes only, of this tenant only
    assert por_email[ANA]["online"] is True
    assert por_email[BRUNO]["online"] is False
    assert por_email[BRUNO]["statusAtendimento"] == "ausente"
    assert amb.presenca.consultas == [amb.demo.empresa_id]


async def test_atendentes_de_outro_tenant(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    data = assert_ok(
        await amb.cliente.get("/atendimento/atendentes", headers=amb.auth("carla@outra.local")),
        200,
        list[AtendenteSaida],
    )
    assert [a["email"] for a in data] == ["carla@outra.local"]
    assert amb.presenca.consultas == [amb.demo.outra_empresa_id]


async def test_atendentes_presenca_indisponivel(amb_fabrica) -> None:  # type: ignore[no-untyped-def]
    amb: Ambiente = await amb_fabrica(presenca=PresencaFixa(erro=ConnectionError("redis fora")))
    resposta = await amb.cliente.get("/atendimento/atendentes", headers=amb.auth(ANA))
    data = assert_ok(resposta, 200, list[AtendenteSaida])
    assert {a["online"] for a in data} == {None}
    assert "redis" not in resposta.text


# --- notificações ----------------------------------------------------------------------------


@pytest.mark.parametrize("email", [GESTOR, "admin@demo.local"])
async def test_notifica_usuario(amb: Ambiente, email: str) -> None:
    corpo = {"usuarioId": amb.id(ANA), "tipo": "aviso", "mensagem": "Reunião às 15h", "dados": {"sala": 2}}
    data = assert_ok(
        await amb.cliente.post("/notificacoes", json=corpo, headers=amb.auth(email)), 202, NotificacaoSaida
    )
    assert data == {"usuarioId": amb.id(ANA), "tipo": "aviso"}
    assert amb.publicador.nomes() == ["notificacao"]
    assert amb.publicador.eventos[0].args == (
        amb.demo.empresa_id,
        amb.id(ANA),
        "aviso",
        "Reunião às 15h",
        {"sala": 2},
    )


async def test_notifica_tenant_inteiro(amb: Ambiente) -> None:
    resposta = await amb.cliente.post("/notificacoes", json={"tipo": "manutencao"}, headers=amb.auth(GESTOR))
    assert assert_ok(resposta, 202, NotificacaoSaida) == {"usuarioId": None, "tipo": "manutencao"}
    assert amb.publicador.eventos[0].args == (amb.demo.empresa_id, None, "manutencao", None, None)


@pytest.mark.parametrize("email", [ANA, "vendas@demo.local", "integracao@demo.local", "carla@outra.local"])
async def test_notifica_so_gestor_e_admin(amb: Ambiente, email: str) -> None:
    resposta = await amb.cliente.post("/notificacoes", json={"tipo": "aviso"}, headers=amb.auth(email))
    assert_erro(resposta, 403, "PROIBIDO")
    assert amb.publicador.eventos == []


async def test_notifica_atendente_proibido(amb: Ambiente) -> None:
    resposta = await amb.cliente.post(
        "/notificacoes", json={"tipo": "aviso"}, headers=amb.auth("ana@demo.local")
    )
    assert_erro(resposta, 403, "PROIBIDO")


async def test_notifica_papel_alegado_recusado(amb: Ambiente) -> None:
    # The gestor's id with a role the database does not give it: the database decides.
    token = amb.tokens.emitir(amb.id(GESTOR), amb.demo.empresa_id, "supervisor", "Sup")
    resposta = await amb.cliente.post(
        "/notificacoes", json={"tipo": "aviso"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert_erro(resposta, 401, "USUARIO_INVALIDO")


async def test_notifica_usuario_de_outro_tenant_404(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    for usuario_id in (amb.id("carla@outra.local"), "nao-existe"):
        resposta = await amb.cliente.post(
            "/notificacoes", json={"usuarioId": usuario_id, "tipo": "aviso"}, headers=amb.auth(GESTOR)
        )
        assert_erro(resposta, 404, "USUARIO_NAO_ENCONTRADO")
    assert amb.publicador.eventos == []


@pytest.mark.parametrize(
    "corpo",
    [
        {},
        {"tipo": ""},
        {"tipo": "t" * 65},
        {"tipo": "aviso", "mensagem": "m" * 2001},
        {"tipo": "aviso", "dados": {"x": "d" * 17_000}},
        {"tipo": "aviso", "usuarioId": ""},
        {"tipo": "aviso", "empresaId": "outra"},
    ],
)
async def test_notifica_invalido(amb: Ambiente, corpo: dict[str, Any]) -> None:
    assert_erro(
        await amb.cliente.post("/notificacoes", json=corpo, headers=amb.auth(GESTOR)), 422, "PAYLOAD_INVALIDO"
    )
    assert amb.publicador.eventos == []
