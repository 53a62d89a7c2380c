"""Whole application instances (``build_app``) sharing one backplane (a Redis or a Redis Cluster),
served on ports of their own, each with the real socket.io-client driver in front of it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apoio_node import ClientesAtendimento, garantir_node_modules
from apoio_rede import servir_uvicorn
from redis.asyncio import Redis

from atendimento.app import Aplicacao, build_app
from atendimento.cluster.envelopes import canal_empresa
from atendimento.cluster.topologia import Topologia, build_redis_client
from atendimento.cluster.wiring import Cluster
from atendimento.config import Settings

SEGREDO = "segredo-dos-testes-de-cluster-com-mais-de-32-bytes"
NS = "/atendimento"


@dataclass
class Instancia:
    app: Aplicacao
    nos: ClientesAtendimento
    url: str

    @property
    def cluster(self) -> Cluster:
        assert self.app.cluster is not None
        return self.app.cluster

    def token(
        self, resumo: Any, email: str, nome: str, role: str = "atendente", empresa: str | None = None
    ) -> str:
        return self.app.tokens.emitir(resumo.id_de(email), empresa or resumo.empresa_id, role, nome)


@contextlib.asynccontextmanager
async def instancias(
    redis_url: str, banco_url: str, pasta: Path, quantas: int = 3, **ajustes: Any
) -> AsyncIterator[list[Instancia]]:
    garantir_node_modules()
    pilha = contextlib.AsyncExitStack()
    feitas: list[Instancia] = []
    try:
        for _ in range(quantas):
            settings = Settings(  # type: ignore[call-arg]
                database_url=banco_url,
                data_dir=pasta,
                jwt_secret=SEGREDO,
                redis_url=redis_url,
                **({"presence_grace_seconds": 0.3} | ajustes),
            )
            app = build_app(settings)
            await app.startup()
            pilha.push_async_callback(app.shutdown)
            url = await pilha.enter_async_context(servir_uvicorn(app.asgi))
            nos = await ClientesAtendimento(url).iniciar()
            pilha.push_async_callback(nos.fechar)
            feitas.append(Instancia(app, nos, url))
        yield feitas
    finally:
        await pilha.aclose()


async def assinantes(redis_url: str, empresa: str) -> int:
    """How many instances read ``empresa``'s channel now (``PUBSUB SHARDNUMSUB`` on its node)."""
    cliente = build_redis_client(redis_url)
    topologia = Topologia(cliente)
    try:
        await topologia.atualizar()
        canal = canal_empresa(NS, empresa)
        no: Redis = topologia.cliente_de(topologia.no_de(canal))
        resposta = await no.execute_command("PUBSUB", "SHARDNUMSUB", canal)  # type: ignore[no-untyped-call]
        return int(resposta[1])
    finally:
        await topologia.fechar()
