"""The whole product (``build_app``, as ``atendimento serve`` builds it) on a real port, with
/admin turned on, on a copy of the demo SQLite database; and the real socket.io-client in node."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from apoio_node import ClientesAtendimento, garantir_node_modules
from apoio_rede import servir_uvicorn
from gateway.apoio_gateway import PAPEIS, SEGREDO

from atendimento.app import Aplicacao, build_app
from atendimento.config import Settings
from atendimento.identity.passwords import Senhas
from atendimento.storage.demo import ResumoDemo

ADMIN_USUARIO = "operador"
ADMIN_SENHA = "senha-do-operador-de-testes"


@dataclass
class App:
    url: str
    aplicacao: Aplicacao
    resumo: ResumoDemo

    def metricas(self) -> dict[str, str]:
        """The scraper's header: /metrics answers nobody else."""
        return {"Authorization": f"Bearer {self.aplicacao.settings.resolve_metrics_token()}"}

    def token(self, email: str) -> str:
        nome, role = PAPEIS[email]
        empresa = self.resumo.outra_empresa_id if email.endswith("@outra.local") else self.resumo.empresa_id
        return self.aplicacao.tokens.emitir(self.resumo.id_de(email), empresa, role, nome)


Subir = Callable[..., Awaitable[App]]


@pytest.fixture(scope="session")
def admin_hash() -> str:
    return Senhas.rapidas().hash(ADMIN_SENHA)


@pytest.fixture
async def subir_app(demo_sqlite: Any, tmp_path: Path, admin_hash: str) -> AsyncIterator[Subir]:
    pilha = contextlib.AsyncExitStack()

    async def iniciar(**ajustes: Any) -> App:
        valores: dict[str, Any] = {
            "database_url": demo_sqlite.banco.app_url,
            "data_dir": tmp_path,
            "jwt_secret": SEGREDO,
            "admin_username": ADMIN_USUARIO,
            "admin_password_hash": admin_hash,
            "ping_interval_ms": 10000,
            "ping_timeout_ms": 10000,
        }
        valores.update(ajustes)
        aplicacao = build_app(Settings(**valores))
        await aplicacao.startup()
        pilha.push_async_callback(aplicacao.shutdown)
        url = await pilha.enter_async_context(servir_uvicorn(aplicacao.asgi))
        pilha.callback(aplicacao.server.shutdown)
        return App(url, aplicacao, demo_sqlite.resumo)

    yield iniciar
    await pilha.aclose()


@pytest.fixture
async def clientes(subir_app: Subir) -> AsyncIterator[tuple[App, ClientesAtendimento]]:
    garantir_node_modules()
    app = await subir_app()
    node = await ClientesAtendimento(app.url).iniciar()
    yield app, node
    await node.fechar()
