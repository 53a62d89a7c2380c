"""Which algorithm and key configurations ServicoTokens accepts, and ServicoTokens.from_settings."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from atendimento.config import Settings
from atendimento.identity.tokens import ServicoTokens

from .apoio_tokens import SEGREDO, claims_de, pem_publico


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
        ServicoTokens(["RS256"], None, pem_publico(ec_privada), 5, 3600)
    with pytest.raises(ValueError):
        ServicoTokens(["ES256"], None, pem_publico(rsa_privada), 5, 3600)
    with pytest.raises(ValueError):
        ServicoTokens(["ES256"], None, "-----BEGIN PUBLIC KEY-----\nlixo\n-----END PUBLIC KEY-----", 5, 3600)
    p384 = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(ValueError):
        ServicoTokens(["ES256"], None, pem_publico(p384), 5, 3600)


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
    arquivo.write_text(pem_publico(rsa_privada))
    settings = Settings(data_dir=tmp_path, jwt_algorithms=["RS256"], jwt_public_key=str(arquivo))
    servico = ServicoTokens.from_settings(settings)
    assert servico.verificar(jwt.encode(claims_de(), rsa_privada, algorithm="RS256")).empresa_id == "e1"
    assert not (tmp_path / "jwt-secret").exists()
