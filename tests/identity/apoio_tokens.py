"""Helpers of the token tests: claims as the contract has them, tokens signed by hand."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from atendimento.identity.tokens import ServicoTokens, TokenErro

SEGREDO = "s" * 64
OUTRO_SEGREDO = "x" * 64


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_de(**extra: Any) -> dict[str, Any]:
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
    return {k: v for k, v in base.items() if v is not AUSENTE}


AUSENTE: Any = object()


def token_hs(claims: dict[str, Any], segredo: str = SEGREDO, alg: str = "HS256") -> str:
    return jwt.encode(claims, segredo, algorithm=alg)


def assinar_hmac_manual(header: dict[str, Any], claims: dict[str, Any], chave: bytes) -> str:
    """Builds an HMAC token by hand, since PyJWT refuses PEM text as an HMAC key."""
    entrada = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    assinatura = hmac.new(chave, entrada.encode(), hashlib.sha256).digest()
    return f"{entrada}.{b64url(assinatura)}"


def pem_publico(chave_privada: Any) -> str:
    return (
        chave_privada.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def codigo_do_erro(servico: ServicoTokens, token: Any) -> str:
    with pytest.raises(TokenErro) as info:
        servico.verificar(token)
    return info.value.code
