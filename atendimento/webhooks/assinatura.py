"""Standard Webhooks v1 signatures: ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")),
the key being the base64 part of the ``whsec_`` secret. Several secrets (during a rotation) give
several signatures, space-separated, as the spec allows: a receiver that knows either verifies."""

from __future__ import annotations

import base64
import hashlib
import hmac

PREFIXO = "whsec_"


def chave(segredo: str) -> bytes:
    corpo = segredo.removeprefix(PREFIXO)
    return base64.b64decode(corpo + "=" * (-len(corpo) % 4))


def assinar(chaves: list[bytes], webhook_id: str, timestamp: int, corpo: bytes) -> str:
    """The ``webhook-signature`` header for ``corpo`` sent at ``timestamp`` (Unix seconds)."""
    conteudo = f"{webhook_id}.{timestamp}.".encode() + corpo
    return " ".join(
        "v1," + base64.b64encode(hmac.new(k, conteudo, hashlib.sha256).digest()).decode("ascii")
        for k in chaves
    )


def cabecalhos(chaves: list[bytes], webhook_id: str, timestamp: int, corpo: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": assinar(chaves, webhook_id, timestamp, corpo),
    }
