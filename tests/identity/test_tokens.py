"""ServicoTokens: what is accepted, what is refused, and with which code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from atendimento.config import Settings
from atendimento.identity.tokens import Identidade, ServicoTokens, TokenErro, extrair_bearer

SEGREDO = "s" * 64
OUTRO_SEGREDO = "x" * 64


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**extra: Any) -> dict[str, Any]:
    agora = int(time.time())
    base: dict[str, Any] = {
        "sub": "u1",
        "empresaId": "e1",
        "role": "atendente",
        "nome": "Ana",
        "iat": agora,
        "exp": agora + 600,
    }
    base.update(extra)
    return {k: v for k, v in base.items() if v is not _AUSENTE}


_AUSENTE: Any = object()


def _hs(claims: dict[str, Any], segredo: str = SEGREDO, alg: str = "HS256") -> str:
    return jwt.encode(claims, segredo, algorithm=alg)


def _assinar_hmac_manual(header: dict[str, Any], claims: dict[str, Any], chave: bytes) -> str:
    """Builds an HMAC token by hand, since PyJWT refuses PEM text as an HMAC key."""
    entrada = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    assinatura = hmac.new(chave, entrada.encode(), hashlib.sha256).digest()
    return f"{entrada}.{_b64(assinatura)}"


def _pem_publico(chave_privada: Any) -> str:
    return (
        chave_privada.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def rsa_privada() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_privada() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def hs() -> ServicoTokens:
    return ServicoTokens(["HS256"], SEGREDO, None, leeway_seconds=5, ttl_seconds=3600)


def _codigo(servico: ServicoTokens, token: Any) -> str:
    with pytest.raises(TokenErro) as info:
        servico.verificar(token)
    return info.value.code


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
    assert _codigo(hs, token) == "TOKEN_AUSENTE"


@pytest.mark.parametrize("token", [123, {"token": "x"}, ["a"], b"abc"])
def test_nao_texto_e_invalido(hs: ServicoTokens, token: Any) -> None:
    assert _codigo(hs, token) == "TOKEN_INVALIDO"


@pytest.mark.parametrize("token", ["abc", "a.b.c", "a.b", "....", "eyJ.eyJ.sig", "Bearer x"])
def test_malformado(hs: ServicoTokens, token: str) -> None:
    assert _codigo(hs, token) == "TOKEN_INVALIDO"


def test_adulterado_payload(hs: ServicoTokens) -> None:
    token = _hs(_claims())
    cabecalho, _, assinatura = token.split(".")
    falso = _b64(json.dumps(_claims(role="admin", empresaId="e2")).encode())
    assert _codigo(hs, f"{cabecalho}.{falso}.{assinatura}") == "TOKEN_INVALIDO"


def test_adulterado_assinatura(hs: ServicoTokens) -> None:
    token = _hs(_claims())
    cabecalho, payload, assinatura = token.split(".")
    outra = assinatura[:-2] + ("AA" if not assinatura.endswith("AA") else "BB")
    assert _codigo(hs, f"{cabecalho}.{payload}.{outra}") == "TOKEN_INVALIDO"
    assert _codigo(hs, f"{cabecalho}.{payload}.") == "TOKEN_INVALIDO"


def test_segredo_errado(hs: ServicoTokens) -> None:
    assert _codigo(hs, _hs(_claims(), OUTRO_SEGREDO)) == "TOKEN_INVALIDO"


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none(hs: ServicoTokens, alg: str) -> None:
    cabecalho = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    assert _codigo(hs, f"{cabecalho}.{payload}.") == "TOKEN_INVALIDO"


def test_sem_alg_no_cabecalho(hs: ServicoTokens) -> None:
    token = _assinar_hmac_manual({"typ": "JWT"}, _claims(), SEGREDO.encode())
    assert _codigo(hs, token) == "TOKEN_INVALIDO"


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_algoritmo_nao_configurado_mesmo_com_segredo_certo(hs: ServicoTokens, alg: str) -> None:
    assert _codigo(hs, _hs(_claims(), alg=alg)) == "TOKEN_INVALIDO"


def test_expirado(hs: ServicoTokens) -> None:
    agora = int(time.time())
    assert _codigo(hs, _hs(_claims(iat=agora - 100, exp=agora - 60))) == "TOKEN_EXPIRADO"


def test_expirado_dentro_da_tolerancia_passa(hs: ServicoTokens) -> None:
    agora = int(time.time())
    assert hs.verificar(_hs(_claims(iat=agora - 100, exp=agora - 2))).exp == agora - 2


def test_expirado_com_assinatura_errada_e_invalido(hs: ServicoTokens) -> None:
    agora = int(time.time())
    assert _codigo(hs, _hs(_claims(exp=agora - 60), OUTRO_SEGREDO)) == "TOKEN_INVALIDO"


# --- cache of verified tokens ------------------------------------------------------------------


class _Relogio:
    """Stands in for the ``time`` module inside atendimento.identity.tokens."""

    def __init__(self, agora: float) -> None:
        self.agora = agora

    def time(self) -> float:
        return self.agora


@pytest.fixture
def relogio(monkeypatch: pytest.MonkeyPatch) -> _Relogio:
    r = _Relogio(float(int(time.time())))
    monkeypatch.setattr("atendimento.identity.tokens.time", r)
    return r


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the full verifications (PyJWT decodes)."""
    chamadas: list[str] = []
    original = jwt.decode

    def contar(token: str, *args: Any, **kwargs: Any) -> Any:
        chamadas.append(token)
        return original(token, *args, **kwargs)

    monkeypatch.setattr("atendimento.identity.tokens.jwt.decode", contar)
    return chamadas


def test_cache_evita_segunda_verificacao_completa(hs: ServicoTokens, decodes: list[str]) -> None:
    token = hs.emitir("u1", "e1", "atendente", "Ana")
    primeira = hs.verificar(token)
    assert hs.verificar(token) == primeira
    assert hs.verificar(token) is primeira
    assert len(decodes) == 1


def test_cache_expira_exatamente_como_sem_cache(relogio: _Relogio) -> None:
    """Through the cache an expiring token is accepted and refused at the very same instants as
    by a service without a cache (exp is checked against the clock on every use, with the leeway)."""
    com = ServicoTokens(["HS256"], SEGREDO, None, leeway_seconds=5, ttl_seconds=3600)
    sem = ServicoTokens(["HS256"], SEGREDO, None, leeway_seconds=5, ttl_seconds=3600, cache_size=0)
    inicio = relogio.agora
    token = _hs(_claims(iat=int(inicio), exp=int(inicio) + 10))
    assert com.verificar(token).exp == int(inicio) + 10  # now cached
    for delta in (0, 9, 10, 14, 14.999, 15, 16, 100):
        relogio.agora = inicio + delta
        esperado = "ok" if delta < 15 else "TOKEN_EXPIRADO"  # exp + leeway is the first refused second
        for servico in (com, sem):
            try:
                servico.verificar(token)
                obtido = "ok"
            except TokenErro as exc:
                obtido = exc.code
            assert obtido == esperado, (delta, servico is com)
    # Once refused it stays refused, cached or not.
    assert _codigo(com, token) == "TOKEN_EXPIRADO"


def test_cache_refaz_iat_e_nbf_com_o_relogio_de_agora(relogio: _Relogio) -> None:
    hs = ServicoTokens(["HS256"], SEGREDO, None, leeway_seconds=5, ttl_seconds=3600)
    inicio = int(relogio.agora)
    token = _hs(_claims(iat=inicio, nbf=inicio, exp=inicio + 600))
    hs.verificar(token)
    relogio.agora = inicio - 60  # the clock steps back: issued "in the future" again
    assert _codigo(hs, token) == "TOKEN_INVALIDO"
    relogio.agora = inicio
    assert hs.verificar(token).usuario_id == "u1"


def test_cache_nao_aceita_token_adulterado(hs: ServicoTokens) -> None:
    token = hs.emitir("u1", "e1", "atendente", "Ana")
    hs.verificar(token)
    cabecalho, corpo, assinatura = token.split(".")
    trocada = assinatura[:-2] + ("AA" if not assinatura.endswith("AA") else "BB")
    assert _codigo(hs, f"{cabecalho}.{corpo}.{trocada}") == "TOKEN_INVALIDO"
    outro_corpo = _b64(json.dumps({**_claims(), "role": "admin"}).encode())
    assert _codigo(hs, f"{cabecalho}.{outro_corpo}.{assinatura}") == "TOKEN_INVALIDO"
    assert _codigo(hs, token + " ") == "TOKEN_INVALIDO"  # the key is the exact string


def test_cache_e_de_cada_instancia(hs: ServicoTokens) -> None:
    token = hs.emitir("u1", "e1", "atendente", "Ana")
    hs.verificar(token)
    outro = ServicoTokens(["HS256"], OUTRO_SEGREDO, None, leeway_seconds=5, ttl_seconds=3600)
    assert _codigo(outro, token) == "TOKEN_INVALIDO"


def test_cache_limitado_descarta_o_menos_usado(decodes: list[str]) -> None:
    hs = ServicoTokens(["HS256"], SEGREDO, None, leeway_seconds=5, ttl_seconds=3600, cache_size=2)
    a, b, c = (hs.emitir(f"u{i}", "e1", "atendente", "Ana") for i in range(3))
    hs.verificar(a)
    hs.verificar(b)
    hs.verificar(a)  # a is now the most recently used
    hs.verificar(c)  # evicts b
    assert decodes == [a, b, c]
    hs.verificar(a)
    hs.verificar(c)
    assert decodes == [a, b, c]
    hs.verificar(b)
    assert decodes == [a, b, c, b]


def test_cache_tamanho_invalido() -> None:
    with pytest.raises(ValueError):
        ServicoTokens(["HS256"], SEGREDO, None, leeway_seconds=5, ttl_seconds=3600, cache_size=-1)


@pytest.mark.parametrize("claim", ["sub", "empresaId", "role", "nome", "exp"])
def test_claim_obrigatoria_ausente(hs: ServicoTokens, claim: str) -> None:
    assert _codigo(hs, _hs(_claims(**{claim: _AUSENTE}))) == "TOKEN_INVALIDO"


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
    assert _codigo(hs, _hs(_claims(**extra))) == "TOKEN_INVALIDO"


def test_iat_opcional(hs: ServicoTokens) -> None:
    assert hs.verificar(_hs(_claims(iat=_AUSENTE))).iat is None


def test_token_enorme(hs: ServicoTokens) -> None:
    assert _codigo(hs, _hs(_claims(nome="n" * 10_000))) == "TOKEN_INVALIDO"


def test_erro_nao_vaza_motivo_na_mensagem(hs: ServicoTokens) -> None:
    with pytest.raises(TokenErro) as info:
        hs.verificar(_hs(_claims(), OUTRO_SEGREDO))
    assert str(info.value) == "Token inválido"
    assert info.value.motivo


# --- RS256 / ES256 and algorithm confusion ---------------------------------------------------------


def test_rs256(rsa_privada: rsa.RSAPrivateKey) -> None:
    servico = ServicoTokens(["RS256"], None, _pem_publico(rsa_privada), 5, 3600)
    identidade = servico.verificar(jwt.encode(_claims(), rsa_privada, algorithm="RS256"))
    assert identidade.usuario_id == "u1"
    assert not servico.pode_emitir
    with pytest.raises(RuntimeError):
        servico.emitir("u1", "e1", "admin", "A")


def test_rs256_outra_chave(rsa_privada: rsa.RSAPrivateKey) -> None:
    servico = ServicoTokens(["RS256"], None, _pem_publico(rsa_privada), 5, 3600)
    outra = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _codigo(servico, jwt.encode(_claims(), outra, algorithm="RS256")) == "TOKEN_INVALIDO"


def test_rs256_expirado(rsa_privada: rsa.RSAPrivateKey) -> None:
    servico = ServicoTokens(["RS256"], None, _pem_publico(rsa_privada), 0, 3600)
    token = jwt.encode(_claims(exp=int(time.time()) - 1), rsa_privada, algorithm="RS256")
    assert _codigo(servico, token) == "TOKEN_EXPIRADO"


def test_es256(ec_privada: ec.EllipticCurvePrivateKey) -> None:
    servico = ServicoTokens(["ES256"], None, _pem_publico(ec_privada), 5, 3600)
    assert servico.verificar(jwt.encode(_claims(), ec_privada, algorithm="ES256")).nome == "Ana"
    outra = ec.generate_private_key(ec.SECP256R1())
    assert _codigo(servico, jwt.encode(_claims(), outra, algorithm="ES256")) == "TOKEN_INVALIDO"


def test_es256_nao_aceito_quando_so_rs256(
    rsa_privada: rsa.RSAPrivateKey, ec_privada: ec.EllipticCurvePrivateKey
) -> None:
    servico = ServicoTokens(["RS256"], None, _pem_publico(rsa_privada), 5, 3600)
    assert _codigo(servico, jwt.encode(_claims(), ec_privada, algorithm="ES256")) == "TOKEN_INVALIDO"


def test_rs256_nao_aceito_quando_so_hs256(hs: ServicoTokens, rsa_privada: rsa.RSAPrivateKey) -> None:
    assert _codigo(hs, jwt.encode(_claims(), rsa_privada, algorithm="RS256")) == "TOKEN_INVALIDO"


@pytest.mark.parametrize("algs", [["RS256"], ["HS256", "RS256"], ["RS256", "HS256"]])
def test_confusao_hs256_assinado_com_chave_publica(rsa_privada: rsa.RSAPrivateKey, algs: list[str]) -> None:
    """The classic attack: take the server's public key PEM and use it as an HMAC secret."""
    pem = _pem_publico(rsa_privada)
    servico = ServicoTokens(algs, SEGREDO if "HS256" in algs else None, pem, 5, 3600)
    for chave in (pem.encode(), pem.strip().encode()):
        token = _assinar_hmac_manual({"alg": "HS256", "typ": "JWT"}, _claims(role="admin"), chave)
        assert _codigo(servico, token) == "TOKEN_INVALIDO"


def test_confusao_es256(ec_privada: ec.EllipticCurvePrivateKey) -> None:
    pem = _pem_publico(ec_privada)
    servico = ServicoTokens(["ES256", "HS256"], SEGREDO, pem, 5, 3600)
    token = _assinar_hmac_manual({"alg": "HS256"}, _claims(), pem.encode())
    assert _codigo(servico, token) == "TOKEN_INVALIDO"
    # Both configured algorithms still work with their own keys.
    assert servico.verificar(jwt.encode(_claims(), ec_privada, algorithm="ES256")).usuario_id == "u1"
    assert servico.verificar(_hs(_claims())).usuario_id == "u1"


# --- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("algs", "segredo"),
    [(["HS256"], None), (["HS256"], "curto"), (["HS256"], "a" * 31), ([], SEGREDO), (["HS512"], SEGREDO)],
)
def test_configuracao_hs_invalida(algs: list[str], segredo: str | None) -> None:
    with pytest.raises(ValueError):
        ServicoTokens(algs, segredo, None, 5, 3600)


def test_configuracao_assimetrica_invalida(
    rsa_privada: rsa.RSAPrivateKey, ec_privada: ec.EllipticCurvePrivateKey
) -> None:
    with pytest.raises(ValueError):
        ServicoTokens(["RS256"], None, None, 5, 3600)
    with pytest.raises(ValueError):
        ServicoTokens(["RS256"], None, _pem_publico(ec_privada), 5, 3600)
    with pytest.raises(ValueError):
        ServicoTokens(["ES256"], None, _pem_publico(rsa_privada), 5, 3600)
    with pytest.raises(ValueError):
        ServicoTokens(["ES256"], None, "-----BEGIN PUBLIC KEY-----\nlixo\n-----END PUBLIC KEY-----", 5, 3600)
    p384 = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(ValueError):
        ServicoTokens(["ES256"], None, _pem_publico(p384), 5, 3600)


def test_from_settings_com_segredo(tmp_path: Path) -> None:
    settings = Settings(jwt_secret=SEGREDO, data_dir=tmp_path, jwt_leeway_seconds=0, token_ttl_seconds=120)
    servico = ServicoTokens.from_settings(settings)
    assert servico.algorithms == ("HS256",)
    assert servico.ttl_seconds == 120
    token = servico.emitir("u1", "e1", "admin", "Adm")
    assert jwt.decode(token, SEGREDO, algorithms=["HS256"])["sub"] == "u1"


def test_from_settings_segredo_gerado_e_estavel(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    token = ServicoTokens.from_settings(settings).emitir("u1", "e1", "admin", "Adm")
    # A second instance (a restart) reads the same secret from the data folder.
    assert ServicoTokens.from_settings(Settings(data_dir=tmp_path)).verificar(token).usuario_id == "u1"


def test_from_settings_rs256(tmp_path: Path, rsa_privada: rsa.RSAPrivateKey) -> None:
    arquivo = tmp_path / "pub.pem"
    arquivo.write_text(_pem_publico(rsa_privada))
    settings = Settings(data_dir=tmp_path, jwt_algorithms=["RS256"], jwt_public_key=str(arquivo))
    servico = ServicoTokens.from_settings(settings)
    assert servico.verificar(jwt.encode(_claims(), rsa_privada, algorithm="RS256")).empresa_id == "e1"
    assert not (tmp_path / "jwt-secret").exists()


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
