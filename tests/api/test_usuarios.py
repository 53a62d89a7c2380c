"""Provisioning users over REST: who may, every refusal, generated passwords, deactivation."""

from __future__ import annotations

import logging

import pytest

from atendimento.api.saidas import UsuarioCadastroSaida, UsuarioCriadoSaida

from .apoio import Ambiente, assert_erro, assert_ok

ADMIN = "admin@demo.local"
GESTOR = "gestor@demo.local"
ANA = "ana@demo.local"
ROTA = "/atendimento/usuarios"


async def _login(amb: Ambiente, email: str, senha: str) -> int:
    resposta = await amb.cliente.post("/auth/login", json={"email": email, "senha": senha})
    return resposta.status_code


async def test_admin_cria_com_senha_e_o_usuario_entra(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    suporte = amb.demo.filas["Suporte"]
    corpo = {
        "nome": "Dora Alves",
        "email": " Dora@Demo.Local ",
        "role": "atendente",
        "senha": "uma-senha-longa",
        "capacidade": 3,
        "filaIds": [suporte],
    }
    data = assert_ok(
        await amb.cliente.post(ROTA, json=corpo, headers=amb.auth(ADMIN)), 201, UsuarioCriadoSaida
    )
    assert data["email"] == "dora@demo.local" and data["ativo"] is True
    assert data["capacidade"] == 3 and data["filaIds"] == [suporte]
    assert data["statusAtendimento"] == "offline" and "senhaGerada" not in data
    assert "senha" not in str(data).lower().replace("senhagerada", "")
    assert await _login(amb, "dora@demo.local", "uma-senha-longa") == 200

    lista = assert_ok(await amb.cliente.get(ROTA, headers=amb.auth(GESTOR)), 200, list[UsuarioCadastroSaida])
    assert "dora@demo.local" in {u["email"] for u in lista}
    assert {u["empresaId"] for u in lista} == {amb.demo.empresa_id}  # this tenant only


async def test_senha_gerada_uma_vez_e_nunca_no_log(amb: Ambiente, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    corpo = {"nome": "Edu", "email": "edu@demo.local", "role": "atendente"}
    data = assert_ok(
        await amb.cliente.post(ROTA, json=corpo, headers=amb.auth(GESTOR)), 201, UsuarioCriadoSaida
    )
    senha = data["senhaGerada"]
    assert isinstance(senha, str) and len(senha) >= 10
    assert data["capacidade"] == 5 and data["filaIds"] == []
    assert await _login(amb, "edu@demo.local", senha) == 200
    lido = await amb.cliente.get(f"{ROTA}/{data['id']}", headers=amb.auth(ADMIN))
    assert senha not in lido.text and "senhaGerada" not in lido.text
    assert senha not in caplog.text


@pytest.mark.parametrize(
    ("corpo", "motivo"),
    [
        ({"nome": "X", "email": "x@demo.local", "role": "atendente", "senha": "curta"}, "senha"),
        ({"nome": " ", "email": "x@demo.local", "role": "atendente"}, "nome"),
        ({"nome": "X", "email": "sem-arroba", "role": "atendente"}, "email"),
        ({"nome": "X", "email": "x@demo.local", "role": "dono"}, "role"),
        ({"nome": "X", "email": "x@demo.local", "role": "atendente", "capacidade": -1}, "capacidade"),
        ({"nome": "X", "email": "x@demo.local", "role": "atendente", "capacidade": True}, "capacidade"),
        ({"nome": "X", "email": "x@demo.local", "role": "atendente", "filaIds": ["nao-existe"]}, "filaIds"),
        ({"nome": "X", "email": "x@demo.local", "role": "atendente", "senhaHash": "x"}, "senhaHash"),
    ],
)
async def test_campo_invalido_422_com_motivo(amb: Ambiente, corpo: dict[str, object], motivo: str) -> None:
    resposta = await amb.cliente.post(ROTA, json=corpo, headers=amb.auth(ADMIN))
    if motivo == "filaIds":  # well-formed, but no such fila here: not found
        erro = assert_erro(resposta, 404, "FILA_NAO_ENCONTRADA")
    else:
        erro = assert_erro(resposta, 422, "PAYLOAD_INVALIDO")
    assert motivo in erro["error"]
    assert await _login(amb, "x@demo.local", "qualquer-coisa") == 401  # nothing was created


async def test_email_em_uso_409_mesmo_de_outro_tenant(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    for email in (ANA, "carla@outra.local", "ANA@demo.local"):
        corpo = {"nome": "Outra", "email": email, "role": "atendente"}
        assert_erro(await amb.cliente.post(ROTA, json=corpo, headers=amb.auth(ADMIN)), 409, "EMAIL_EM_USO")


async def test_gestor_nao_cria_nem_promove_nem_altera_admin(amb: Ambiente) -> None:
    corpo = {"nome": "Chefe", "email": "chefe@demo.local", "role": "admin"}
    assert_erro(await amb.cliente.post(ROTA, json=corpo, headers=amb.auth(GESTOR)), 403, "PROIBIDO")
    promover = await amb.cliente.patch(
        f"{ROTA}/{amb.id(ANA)}", json={"role": "admin"}, headers=amb.auth(GESTOR)
    )
    assert_erro(promover, 403, "PROIBIDO")
    desativar = await amb.cliente.patch(
        f"{ROTA}/{amb.id(ADMIN)}", json={"ativo": False}, headers=amb.auth(GESTOR)
    )
    assert_erro(desativar, 403, "PROIBIDO")
    assert await _login(amb, ADMIN, "demo-senha") == 200  # unchanged
    # The admin may do all three.
    criado = await amb.cliente.post(ROTA, json=corpo, headers=amb.auth(ADMIN))
    assert criado.status_code == 201, criado.text


@pytest.mark.parametrize("email", [ANA, "vendas@demo.local", "integracao@demo.local"])
async def test_outros_perfis_403(amb: Ambiente, email: str) -> None:
    assert_erro(await amb.cliente.get(ROTA, headers=amb.auth(email)), 403, "PROIBIDO")
    corpo = {"nome": "X", "email": "x@demo.local", "role": "atendente"}
    assert_erro(await amb.cliente.post(ROTA, json=corpo, headers=amb.auth(email)), 403, "PROIBIDO")


async def test_usuario_de_outro_tenant_404(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    carla = amb.id("carla@outra.local")
    for resposta in (
        await amb.cliente.get(f"{ROTA}/{carla}", headers=amb.auth(ADMIN)),
        await amb.cliente.patch(f"{ROTA}/{carla}", json={"ativo": False}, headers=amb.auth(ADMIN)),
    ):
        assert_erro(resposta, 404, "USUARIO_NAO_ENCONTRADO")
    assert await _login(amb, "carla@outra.local", "demo-senha") == 200


async def test_desativar_bloqueia_login_renovacao_e_publica(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    token_ana = amb.auth(ANA)
    amb.publicador.limpar()
    mudou = await amb.cliente.patch(
        f"{ROTA}/{amb.id(ANA)}",
        json={"ativo": False, "capacidade": 2, "filaIds": [amb.demo.filas["Financeiro"]]},
        headers=amb.auth(GESTOR),
    )
    data = assert_ok(mudou, 200, UsuarioCadastroSaida)
    assert data["ativo"] is False and data["capacidade"] == 2
    assert data["filaIds"] == [amb.demo.filas["Financeiro"]]
    assert amb.publicador.usuarios_alterados == [(amb.demo.empresa_id, amb.id(ANA))]
    assert await _login(amb, ANA, "demo-senha") == 401
    renovar = await amb.cliente.post("/auth/renovar", headers=token_ana)
    assert renovar.status_code == 401, renovar.text
    # Reactivated: logs in again; a change that changes nothing publishes nothing.
    await amb.cliente.patch(f"{ROTA}/{amb.id(ANA)}", json={"ativo": True}, headers=amb.auth(ADMIN))
    amb.publicador.limpar()
    await amb.cliente.patch(f"{ROTA}/{amb.id(ANA)}", json={"capacidade": 2}, headers=amb.auth(ADMIN))
    assert amb.publicador.usuarios_alterados == []
    assert await _login(amb, ANA, "demo-senha") == 200


async def test_mudar_role_publica_e_ajusta_status(amb: Ambiente) -> None:
    amb.publicador.limpar()
    data = assert_ok(
        await amb.cliente.patch(
            f"{ROTA}/{amb.id(ANA)}", json={"role": "supervisor"}, headers=amb.auth(ADMIN)
        ),
        200,
        UsuarioCadastroSaida,
    )
    assert data["role"] == "supervisor" and data["statusAtendimento"] is None
    assert amb.publicador.usuarios_alterados == [(amb.demo.empresa_id, amb.id(ANA))]


@pytest.mark.parametrize(
    "corpo", [{"ativo": "nao"}, {"nome": None}, {"email": "novo@demo.local"}, {"capacidade": 1001}]
)
async def test_patch_invalido_422(amb: Ambiente, corpo: dict[str, object]) -> None:
    resposta = await amb.cliente.patch(f"{ROTA}/{amb.id(ANA)}", json=corpo, headers=amb.auth(ADMIN))
    assert_erro(resposta, 422, "PAYLOAD_INVALIDO")
