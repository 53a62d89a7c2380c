"""The whole product on a real port, for the gateway's integration tests.

``subir`` builds what ``atendimento serve`` runs, through the same composition root
(``build_app``: engine, gateway, REST API, metrics, CORS, readiness) on a copy of the demo SQLite
database, served by uvicorn with the engine's WebSocket protocol class. Uvicorn runs as a task
on the test's own event loop (not in a thread), so a test can look at the gateway's objects (presence,
rooms) directly, and the clients (the real socket.io-client in node, python-socketio) are the only
things on the other side of the socket.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from apoio_node import ClientesAtendimento, garantir_node_modules
from apoio_rede import servir_uvicorn

from atendimento.app import build_app
from atendimento.config import Settings
from atendimento.gateway.presenca import RegistroPresenca
from atendimento.identity.passwords import Senhas

from .apoio_gateway import GRACE_TESTES, SEGREDO, Produto

Subir = Callable[..., Awaitable[Produto]]


@pytest.fixture
async def subir(demo_sqlite: Any, tmp_path: Path, senhas_rapidas: Senhas) -> AsyncIterator[Subir]:
    """``await subir(presenca=..., **settings)`` starts the product on the demo database; stopped after
    the test. ``presenca`` replaces the in-process registry (as the cluster layer does)."""
    pilha = contextlib.AsyncExitStack()

    async def iniciar(*, presenca: RegistroPresenca | None = None, **ajustes: Any) -> Produto:
        valores: dict[str, Any] = {
            "database_url": demo_sqlite.banco.app_url,
            "data_dir": tmp_path,
            "jwt_secret": SEGREDO,
            "presence_grace_seconds": GRACE_TESTES,
            "ping_interval_ms": 2000,
            "ping_timeout_ms": 2000,
        }
        valores.update(ajustes)
        settings = Settings(**valores)
        aplicacao = build_app(settings, storage=demo_sqlite.storage, senhas=senhas_rapidas, presenca=presenca)
        await aplicacao.startup()
        pilha.push_async_callback(aplicacao.shutdown)
        url = await pilha.enter_async_context(servir_uvicorn(aplicacao.asgi))
        # Sockets closed before uvicorn stops (it would wait for them), the rest after.
        pilha.callback(aplicacao.server.shutdown)
        http = await pilha.enter_async_context(httpx.AsyncClient(base_url=url, timeout=10))
        return Produto(
            url,
            aplicacao.gateway,
            aplicacao.server,
            aplicacao.tokens,
            demo_sqlite.resumo,
            settings,
            http,
            aplicacao.servico,
        )

    yield iniciar
    await pilha.aclose()


@pytest.fixture
async def produto(subir: Subir) -> Produto:
    return await subir()


@pytest.fixture(scope="session")
def node_instalado() -> None:
    garantir_node_modules()


@pytest.fixture
async def clientes(produto: Produto, node_instalado: None) -> AsyncIterator[ClientesAtendimento]:
    """A node process running the real socket.io-client 4.8.1 against ``produto``."""
    nos = await ClientesAtendimento(produto.url).iniciar()
    yield nos
    await nos.fechar()
