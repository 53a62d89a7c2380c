"""``POST /auth/renovar``: a valid token for a new one, never past the maximum session age."""

from __future__ import annotations

import time

import jwt

from atendimento.api.saidas import LoginSaida
from atendimento.identity.tokens import ServicoTokens

from .apoio import SEGREDO, Ambiente, assert_erro, assert_ok
from .conftest import FabricaAmbiente

SESSAO_MAXIMA = 3 * 3600


def _claims(token: str) -> dict[str, int | str]:
    return dict(jwt.decode(token, SEGREDO, algorithms=["HS256"]))


def _com_login_ha(amb: Ambiente, email: str, segundos: int) -> str:
    """A token issued now for a login made ``segundos`` ago (as a chain of renewals leaves it)."""
    u = amb.usuarios[email]
    return amb.tokens.emitir(
        u["id"], u["empresa_id"], u["role"], u["nome"], auth_time=int(time.time()) - segundos
    )


async def _fabricar(amb_fabrica: FabricaAmbiente) -> Ambiente:
    return await amb_fabrica(
        tokens=ServicoTokens(["HS256"], SEGREDO, None, 5, 3600, max_session_seconds=SESSAO_MAXIMA)
    )


async def test_renovar_devolve_novo_token_com_o_mesmo_login(amb_fabrica: FabricaAmbiente) -> None:
    amb = await _fabricar(amb_fabrica)
    antigo = _com_login_ha(amb, "ana@demo.local", 600)
    resposta = await amb.cliente.post("/auth/renovar", headers={"Authorization": f"Bearer {antigo}"})
    data = assert_ok(resposta, 200, LoginSaida)
    assert data["token_type"] == "Bearer" and data["expires_in"] == 3600
    assert data["user"]["email"] == "ana@demo.local"
    novo, velho = _claims(data["access_token"]), _claims(antigo)
    assert novo["sub"] == velho["sub"] and novo["empresaId"] == velho["empresaId"]
    assert novo["auth_time"] == velho["auth_time"]  # the login time travels on
    assert int(novo["exp"]) - int(novo["iat"]) == 3600
    assert amb.tokens.verificar(data["access_token"]).usuario_id == amb.id("ana@demo.local")


async def test_renovar_nao_passa_da_idade_maxima_da_sessao(amb_fabrica: FabricaAmbiente) -> None:
    amb = await _fabricar(amb_fabrica)
    # 30 minutes of session left: the new token lives 30 minutes, not the usual hour.
    perto = _com_login_ha(amb, "ana@demo.local", SESSAO_MAXIMA - 1800)
    data = assert_ok(
        await amb.cliente.post("/auth/renovar", headers={"Authorization": f"Bearer {perto}"}), 200, LoginSaida
    )
    assert 1795 <= data["expires_in"] <= 1800
    claims = _claims(data["access_token"])
    assert int(claims["exp"]) == int(claims["auth_time"]) + SESSAO_MAXIMA
    # Past it: 401 SESSAO_EXPIRADA, and the caller must log in again.
    velho = _com_login_ha(amb, "ana@demo.local", SESSAO_MAXIMA + 1)
    resposta = await amb.cliente.post("/auth/renovar", headers={"Authorization": f"Bearer {velho}"})
    assert_erro(resposta, 401, "SESSAO_EXPIRADA")


async def test_renovar_recusa_sem_token_expirado_ou_usuario_desconhecido(amb: Ambiente) -> None:
    assert_erro(await amb.cliente.post("/auth/renovar"), 401, "TOKEN_AUSENTE")
    expirado = amb.token("ana@demo.local", ttl=-60)
    assert_erro(
        await amb.cliente.post("/auth/renovar", headers={"Authorization": f"Bearer {expirado}"}),
        401,
        "TOKEN_EXPIRADO",
    )
    invalido = amb.token("ana@demo.local")[:-3] + "xyz"
    assert_erro(
        await amb.cliente.post("/auth/renovar", headers={"Authorization": f"Bearer {invalido}"}),
        401,
        "TOKEN_INVALIDO",
    )
    # A token of the CRM for a user this database does not hold: refused (the database decides).
    alheio = amb.tokens.emitir("usuario-do-crm", amb.demo.empresa_id, "atendente", "Do CRM")
    assert_erro(
        await amb.cliente.post("/auth/renovar", headers={"Authorization": f"Bearer {alheio}"}),
        401,
        "USUARIO_INVALIDO",
    )


async def test_renovar_recusa_desativado_ou_rebaixado(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    e = amb.demo.empresa_id
    ana, gestor = amb.token("ana@demo.local"), amb.token("gestor@demo.local")
    await amb.servico.alterar_usuario(e, amb.id("ana@demo.local"), ativo=False)
    await amb.servico.alterar_usuario(e, amb.id("gestor@demo.local"), role="supervisor")
    for token in (ana, gestor):
        resposta = await amb.cliente.post("/auth/renovar", headers={"Authorization": f"Bearer {token}"})
        assert_erro(resposta, 401, "USUARIO_INVALIDO")


async def test_token_sem_auth_time_conta_a_sessao_do_iat(amb_fabrica: FabricaAmbiente) -> None:
    amb = await _fabricar(amb_fabrica)
    u = amb.usuarios["bruno@demo.local"]
    agora = int(time.time())
    claims = {
        "sub": u["id"],
        "empresaId": u["empresa_id"],
        "role": "atendente",
        "nome": "B",
        "iat": agora - 60,
        "exp": agora + 60,
    }
    token = jwt.encode(claims, SEGREDO, algorithm="HS256")
    data = assert_ok(
        await amb.cliente.post("/auth/renovar", headers={"Authorization": f"Bearer {token}"}), 200, LoginSaida
    )
    novo = _claims(data["access_token"])
    assert novo["auth_time"] == agora - 60
    assert novo["nome"] == u["nome"]  # name and role come from the database, not the old token
