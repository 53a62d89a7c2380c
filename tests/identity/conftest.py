"""Fixtures of the identity tests: the keys (made once per module) and an HS256 ``ServicoTokens``."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from atendimento.identity.tokens import ServicoTokens

from .apoio_tokens import SEGREDO


@pytest.fixture(scope="module")
def rsa_privada() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_privada() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def hs() -> ServicoTokens:
    return ServicoTokens(["HS256"], SEGREDO, None, leeway_seconds=5, ttl_seconds=3600)
