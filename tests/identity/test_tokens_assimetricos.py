"""RS256 and ES256 tokens (a CRM's), and algorithm confusion between them and HS256."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from atendimento.identity.tokens import ServicoTokens

from .apoio_tokens import SEGREDO, assinar_hmac_manual, claims_de, codigo_do_erro, pem_publico, token_hs


def test_rs256(rsa_privada: rsa.RSAPrivateKey) -> None:
    servico = ServicoTokens(["RS256"], None, pem_publico(rsa_privada), 5, 3600)
    identidade = servico.verificar(jwt.encode(claims_de(), rsa_privada, algorithm="RS256"))
    assert identidade.usuario_id == "u1"
    assert not servico.pode_emitir
    with pytest.raises(RuntimeError):
        servico.emitir("u1", "e1", "admin", "A")


def test_rs256_outra_chave(rsa_privada: rsa.RSAPrivateKey) -> None:
    servico = ServicoTokens(["RS256"], None, pem_publico(rsa_privada), 5, 3600)
    outra = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert codigo_do_erro(servico, jwt.encode(claims_de(), outra, algorithm="RS256")) == "TOKEN_INVALIDO"


def test_rs256_expirado(rsa_privada: rsa.RSAPrivateKey) -> None:
    servico = ServicoTokens(["RS256"], None, pem_publico(rsa_privada), 0, 3600)
    token = jwt.encode(claims_de(exp=int(time.time()) - 1), rsa_privada, algorithm="RS256")
    assert codigo_do_erro(servico, token) == "TOKEN_EXPIRADO"


def test_es256(ec_privada: ec.EllipticCurvePrivateKey) -> None:
    servico = ServicoTokens(["ES256"], None, pem_publico(ec_privada), 5, 3600)
    assert servico.verificar(jwt.encode(claims_de(), ec_privada, algorithm="ES256")).nome == "Ana"
    outra = ec.generate_private_key(ec.SECP256R1())
    assert codigo_do_erro(servico, jwt.encode(claims_de(), outra, algorithm="ES256")) == "TOKEN_INVALIDO"


def test_es256_nao_aceito_quando_so_rs256(
    rsa_privada: rsa.RSAPrivateKey, ec_privada: ec.EllipticCurvePrivateKey
) -> None:
    servico = ServicoTokens(["RS256"], None, pem_publico(rsa_privada), 5, 3600)
    assert codigo_do_erro(servico, jwt.encode(claims_de(), ec_privada, algorithm="ES256")) == "TOKEN_INVALIDO"


def test_rs256_nao_aceito_quando_so_hs256(hs: ServicoTokens, rsa_privada: rsa.RSAPrivateKey) -> None:
    assert codigo_do_erro(hs, jwt.encode(claims_de(), rsa_privada, algorithm="RS256")) == "TOKEN_INVALIDO"


@pytest.mark.parametrize("algs", [["RS256"], ["HS256", "RS256"], ["RS256", "HS256"]])
def test_confusao_hs256_assinado_com_chave_publica(rsa_privada: rsa.RSAPrivateKey, algs: list[str]) -> None:
    """The classic attack: take the server's public key PEM and use it as an HMAC secret."""
    pem = pem_publico(rsa_privada)
    servico = ServicoTokens(algs, SEGREDO if "HS256" in algs else None, pem, 5, 3600)
    for chave in (pem.encode(), pem.strip().encode()):
        token = assinar_hmac_manual({"alg": "HS256", "typ": "JWT"}, claims_de(role="admin"), chave)
        assert codigo_do_erro(servico, token) == "TOKEN_INVALIDO"


def test_confusao_es256(ec_privada: ec.EllipticCurvePrivateKey) -> None:
    pem = pem_publico(ec_privada)
    servico = ServicoTokens(["ES256", "HS256"], SEGREDO, pem, 5, 3600)
    token = assinar_hmac_manual({"alg": "HS256"}, claims_de(), pem.encode())
    assert codigo_do_erro(servico, token) == "TOKEN_INVALIDO"
    # Both configured algorithms still work with their own keys.
    assert servico.verificar(jwt.encode(claims_de(), ec_privada, algorithm="ES256")).usuario_id == "u1"
    assert servico.verificar(token_hs(claims_de())).usuario_id == "u1"
