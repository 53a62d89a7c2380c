"""Tokens for bench/presence_storm.sh: N atendentes of one tenant, one JWT per line on stdout.

``ours N``: inserts N atendentes into the demo tenant of the database in ATENDIMENTO_DATABASE_ADMIN_URL
(the owner, as the demo loader does) and mints their tokens with ATENDIMENTO_JWT_SECRET.
``peer N``: tokens for the Node contract peer (its secret, JWT_SECRET or its default), which keeps
presence per token ``sub`` and looks no user up.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid

import jwt
from sqlalchemy import insert, select

from atendimento.domain.entidades import agora
from atendimento.storage.banco import Storage
from atendimento.storage.modelos import Empresa, Usuario

PEER_SECRET = os.environ.get("JWT_SECRET", "peer-secret-peer-secret-peer-secret-0123")


def _token(segredo: str, sub: str, empresa: str, nome: str) -> str:
    agora_s = int(time.time())
    claims = {
        "sub": sub,
        "empresaId": empresa,
        "role": "atendente",
        "nome": nome,
        "iat": agora_s,
        "exp": agora_s + 3600,
    }
    return jwt.encode(claims, segredo, algorithm="HS256")


async def _ours(n: int) -> list[str]:
    storage = Storage(os.environ["ATENDIMENTO_DATABASE_ADMIN_URL"])
    try:
        async with storage.transacao(None) as conn:
            empresa = (
                await conn.execute(select(Empresa.id).where(Empresa.nome == "Empresa Demo"))
            ).scalar_one()
        gente = [(str(uuid.uuid4()), f"Agente {i:04d}") for i in range(n)]
        async with storage.transacao(empresa) as conn:
            await conn.execute(
                insert(Usuario),
                [
                    {
                        "id": i,
                        "empresa_id": empresa,
                        "nome": nome,
                        "email": f"{i}@storm.local",
                        "senha_hash": "!",
                        "role": "atendente",
                        "status_atendimento": "online",
                        "ativo": True,
                        "criado_em": agora(),
                    }
                    for i, nome in gente
                ],
            )
    finally:
        await storage.close()
    segredo = os.environ["ATENDIMENTO_JWT_SECRET"]
    return [_token(segredo, i, empresa, nome) for i, nome in gente]


def main() -> None:
    quem, n = sys.argv[1], int(sys.argv[2])
    if quem == "ours":
        tokens = asyncio.run(_ours(n))
    else:
        empresa = str(uuid.uuid4())
        tokens = [_token(PEER_SECRET, str(uuid.uuid4()), empresa, f"Agente {i:04d}") for i in range(n)]
    print("\n".join(tokens))


if __name__ == "__main__":
    main()
