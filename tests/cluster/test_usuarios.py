"""``usuario_alterado`` across two instances sharing a real Redis (the test's own redis-server), with
the real socket.io-client: a user deactivated or demoted through one instance has its sockets on the
other disconnected within seconds, and its old token refused there at once (the other instance's
cached record is dropped, not left to its TTL)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from apoio_node import ClientesAtendimento, garantir_node_modules
from apoio_rede import servir_uvicorn

from atendimento.app import Aplicacao, build_app
from atendimento.config import Settings

from .apoio_cluster import RedisProprio

SEGREDO = "segredo-dos-testes-de-cluster-com-mais-de-32-bytes"
ANA, GESTOR, BRUNO = "ana@demo.local", "gestor@demo.local", "bruno@demo.local"
PAPEIS = {ANA: ("atendente", "Ana Souza"), GESTOR: ("gestor", "Gestor"), BRUNO: ("atendente", "Bruno Lima")}


@pytest.fixture
async def duas(
    demo_sqlite: Any, redis_proprio: RedisProprio, tmp_path: Path
) -> AsyncIterator[list[tuple[Aplicacao, str, ClientesAtendimento]]]:
    garantir_node_modules()
    pilha = contextlib.AsyncExitStack()
    instancias = []
    try:
        for _ in range(2):
            settings = Settings(  # type: ignore[call-arg]
                database_url=demo_sqlite.banco.app_url,
                data_dir=tmp_path,
                jwt_secret=SEGREDO,
                redis_url=redis_proprio.url,
                presence_grace_seconds=0.3,
                usuarios_cache_seconds=3600,  # the TTL would not save us: only the invalidation can
            )
            app = build_app(settings)
            await app.startup()
            pilha.push_async_callback(app.shutdown)
            url = await pilha.enter_async_context(servir_uvicorn(app.asgi))
            clientes = await ClientesAtendimento(url).iniciar()
            pilha.push_async_callback(clientes.fechar)
            instancias.append((app, url, clientes))
        yield instancias
    finally:
        await pilha.aclose()


def _token(app: Aplicacao, resumo: Any, email: str) -> str:
    role, nome = PAPEIS[email]
    return app.tokens.emitir(resumo.id_de(email), resumo.empresa_id, role, nome)


async def _status(url: str, token: str) -> int:
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        resposta = await http.get("/atendimento/tickets", headers={"Authorization": f"Bearer {token}"})
        return resposta.status_code


async def test_desativado_numa_instancia_cai_na_outra(
    duas: list[tuple[Aplicacao, str, ClientesAtendimento]], demo_sqlite: Any
) -> None:
    (app1, _, _), (app2, url2, nos2) = duas
    r = demo_sqlite.resumo
    tokens = {email: _token(app2, r, email) for email in PAPEIS}
    for nome, email in (("ana", ANA), ("gestor", GESTOR), ("bruno", BRUNO)):
        assert (await nos2.conectar(nome, tokens[email]))["type"] == "connect"
        assert await _status(url2, tokens[email]) == 200  # instance 2 has the record cached now
    marca = len(nos2.registros)
    inicio = time.monotonic()
    await app1.servico.alterar_usuario(r.empresa_id, r.id_de(ANA), ativo=False)
    await app1.servico.alterar_usuario(r.empresa_id, r.id_de(GESTOR), role="atendente")
    for nome in ("ana", "gestor"):
        saida = await nos2.esperar(
            lambda x, n=nome: x.get("client") == n and x["type"] == "disconnect", desde=marca, prazo=5
        )
        assert saida["reason"] == "io server disconnect"
    assert time.monotonic() - inicio < 5
    # Their old tokens no longer work on instance 2 (whose cache held them for an hour).
    for email in (ANA, GESTOR):
        limite = time.monotonic() + 2
        while await _status(url2, tokens[email]) != 401:
            assert time.monotonic() < limite, email
            await asyncio.sleep(0.05)
    # Bruno is untouched on either instance.
    assert await _status(url2, tokens[BRUNO]) == 200
    assert [
        x for x in nos2.registros[marca:] if x.get("client") == "bruno" and x["type"] == "disconnect"
    ] == []
