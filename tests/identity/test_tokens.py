"""ServicoTokens with HS256: what is accepted, what is refused (malformed, tampered, expired, wrong
claims), and with which code; the bearer header."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest

from atendimento.identity.tokens import Identidade, ServicoTokens, TokenErro, extrair_bearer

from .apoio_tokens import (
    AUSENTE,
    OUTRO_SEGREDO,
    SEGREDO,
    assinar_hmac_manual,
    b64url,
    claims_de,
    codigo_do_erro,
    token_hs,
)

# --- HS256 ---------------------------------------------------------------------------------------


def test_emitir_e_verificar(hs: ServicoTokens) -> None:
    antes = int(time.time())
    identidade = hs.verificar(hs.emitir("u1", "e1", "gestor", "Gil"))
    assert identidade.usuario_id == "u1"
    assert identidade.empresa_id == "e1"
    assert identidade.role == "gestor"
    assert identidade.nome == "Gil"
    assert identidade.interno
    assert identidade.iat is not None and antes <= identidade.iat <= antes + 2
    assert identidade.exp == identidade.iat + 3600


def test_emitir_respeita_ttl_e_claims_do_contrato(hs: ServicoTokens) -> None:
    token = hs.emitir("u1", "e1", "vendedor", "Vera", ttl_seconds=60)
    claims = jwt.decode(token, SEGREDO, algorithms=["HS256"])
    # The contract's claims, plus auth_time (the login time, OIDC's name) that /auth/renovar carries on.
    assert set(claims) == {"sub", "empresaId", "role", "nome", "iat", "exp", "auth_time"}
    assert claims["exp"] - claims["iat"] == 60
    assert claims["auth_time"] == claims["iat"]
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert not hs.verificar(token).interno


@pytest.mark.parametrize("role", ["admin", "gestor", "supervisor", "atendente"])
def test_roles_internas(role: str) -> None:
    assert Identidade("u", "e", role, "n", exp=1).interno


@pytest.mark.parametrize("role", ["vendedor", "integracao", "Admin", ""])
def test_roles_nao_internas(role: str) -> None:
    assert not Identidade("u", "e", role, "n", exp=1).interno


def test_identidade_imutavel() -> None:
    identidade = Identidade("u", "e", "admin", "n", exp=1)
    with pytest.raises(AttributeError):
        identidade.role = "x"  # type: ignore[misc]


@pytest.mark.parametrize("token", [None, "", "   "])
def test_ausente(hs: ServicoTokens, token: str | None) -> None:
    assert codigo_do_erro(hs, token) == "TOKEN_AUSENTE"


@pytest.mark.parametrize("token", [123, {"token": "x"}, ["a"], b"abc"])
def test_nao_texto_e_invalido(hs: ServicoTokens, token: Any) -> None:
    assert codigo_do_erro(hs, token) == "TOKEN_INVALIDO"


@pytest.mark.parametrize("token", ["abc", "a.b.c", "a.b", "....", "eyJ.eyJ.sig", "Bearer x"])
def test_malformado(hs: ServicoTokens, token: str) -> None:
    assert codigo_do_erro(hs, token) == "TOKEN_INVALIDO"


def test_adulterado_payload(hs: ServicoTokens) -> None:
    token = token_hs(claims_de())
    cabecalho, _, assinatura = token.split(".")
    falso = b64url(json.dumps(claims_de(role="admin", empresaId="e2")).encode())
    assert codigo_do_erro(hs, f"{cabecalho}.{falso}.{assinatura}") == "TOKEN_INVALIDO"


def test_adulterado_assinatura(hs: ServicoTokens) -> None:
    token = token_hs(claims_de())
    cabecalho, payload, assinatura = token.split(".")
    outra = assinatura[:-2] + ("AA" if not assinatura.endswith("AA") else "BB")
    assert codigo_do_erro(hs, f"{cabecalho}.{payload}.{outra}") == "TOKEN_INVALIDO"
    assert codigo_do_erro(hs, f"{cabecalho}.{payload}.") == "TOKEN_INVALIDO"


def test_segredo_errado(hs: ServicoTokens) -> None:
    assert codigo_do_erro(hs, token_hs(claims_de(), OUTRO_SEGREDO)) == "TOKEN_INVALIDO"


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none(hs: ServicoTokens, alg: str) -> None:
    cabecalho = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims_de()).encode())
    assert codigo_do_erro(hs, f"{cabecalho}.{payload}.") == "TOKEN_INVALIDO"


def test_sem_alg_no_cabecalho(hs: ServicoTokens) -> None:
    token = assinar_hmac_manual({"typ": "JWT"}, claims_de(), SEGREDO.encode())
    assert codigo_do_erro(hs, token) == "TOKEN_INVALIDO"


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_algoritmo_nao_configurado_mesmo_com_segredo_certo(hs: ServicoTokens, alg: str) -> None:
    assert codigo_do_erro(hs, token_hs(claims_de(), alg=alg)) == "TOKEN_INVALIDO"


def test_expirado(hs: ServicoTokens) -> None:
    agora = int(time.time())
    assert codigo_do_erro(hs, token_hs(claims_de(iat=agora - 100, exp=agora - 60))) == "TOKEN_EXPIRADO"


def test_expirado_dentro_da_tolerancia_passa(hs: ServicoTokens) -> None:
    agora = int(time.time())
    assert hs.verificar(token_hs(claims_de(iat=agora - 100, exp=agora - 2))).exp == agora - 2


def test_expirado_com_assinatura_errada_e_invalido(hs: ServicoTokens) -> None:
    agora = int(time.time())
    assert codigo_do_erro(hs, token_hs(claims_de(exp=agora - 60), OUTRO_SEGREDO)) == "TOKEN_INVALIDO"


# --- claims ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("claim", ["sub", "empresaId", "role", "nome", "exp"])
def test_claim_obrigatoria_ausente(hs: ServicoTokens, claim: str) -> None:
    assert codigo_do_erro(hs, token_hs(claims_de(**{claim: AUSENTE}))) == "TOKEN_INVALIDO"


@pytest.mark.parametrize(
    "extra",
    [
        {"sub": 42},
        {"sub": ""},
        {"empresaId": 7},
        {"empresaId": None},
        {"role": ["admin"]},
        {"nome": {"x": 1}},
        {"nome": "  "},
        {"exp": str(int(time.time()) + 600)},
        {"exp": True},
        {"exp": None},
        {"iat": "agora"},
        {"iat": int(time.time()) + 3600},  # issued in the future
        {"nbf": int(time.time()) + 3600},
    ],
)
def test_tipos_errados(hs: ServicoTokens, extra: dict[str, Any]) -> None:
    assert codigo_do_erro(hs, token_hs(claims_de(**extra))) == "TOKEN_INVALIDO"


def test_iat_opcional(hs: ServicoTokens) -> None:
    assert hs.verificar(token_hs(claims_de(iat=AUSENTE))).iat is None


def test_token_enorme(hs: ServicoTokens) -> None:
    assert codigo_do_erro(hs, token_hs(claims_de(nome="n" * 10_000))) == "TOKEN_INVALIDO"


def test_erro_nao_vaza_motivo_na_mensagem(hs: ServicoTokens) -> None:
    with pytest.raises(TokenErro) as info:
        hs.verificar(token_hs(claims_de(), OUTRO_SEGREDO))
    assert str(info.value) == "Token inválido"
    assert info.value.motivo


# --- the Authorization header ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("valor", "esperado"),
    [
        (None, None),
        ("", None),
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Bearer", None),
        ("Bearer   ", None),
        ("Basic abc", None),
        ("abc", None),
    ],
)
def test_extrair_bearer(valor: str | None, esperado: str | None) -> None:
    assert extrair_bearer(valor) == esperado
