"""A big team for the presence tests and benches: N atendentes inserted into a demo tenant, and a
token for each (minted with the instances' secret, as ``atendimento token`` does)."""

from __future__ import annotations

import uuid

from sqlalchemy import insert

from atendimento.domain.entidades import agora
from atendimento.identity.tokens import ServicoTokens
from atendimento.storage.banco import Storage
from atendimento.storage.modelos import Usuario


async def criar_atendentes(
    storage: Storage, empresa_id: str, n: int, prefixo: str = "agente"
) -> list[tuple[str, str]]:
    """N atendentes of ``empresa_id`` (no password anyone knows): [(id, nome)]."""
    criados = [(str(uuid.uuid4()), f"{prefixo} {i:04d}") for i in range(n)]
    momento = agora()
    async with storage.transacao(empresa_id) as conn:
        await conn.execute(
            insert(Usuario),
            [
                {
                    "id": usuario_id,
                    "empresa_id": empresa_id,
                    "nome": nome,
                    "email": f"{usuario_id}@equipe.local",
                    "senha_hash": "!",
                    "role": "atendente",
                    "status_atendimento": "offline",
                    "ativo": True,
                    "criado_em": momento,
                }
                for usuario_id, nome in criados
            ],
        )
    return criados


def tokens_para(segredo: str, empresa_id: str, atendentes: list[tuple[str, str]]) -> list[str]:
    servico = ServicoTokens(
        algorithms=["HS256"], secret=segredo, public_key=None, leeway_seconds=0, ttl_seconds=3600
    )
    return [servico.emitir(usuario_id, empresa_id, "atendente", nome) for usuario_id, nome in atendentes]
