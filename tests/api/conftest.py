"""Fixtures: the API wired to the real ServicoAtendimento on a copy of the demo database.

The databases come from the shared fixtures of ``tests/conftest.py`` (``demo_sqlite``, ``demo_pg``,
``banco_demo``): a fresh copy of the demo data per test, so tests may write freely.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from atendimento.api import create_api
from atendimento.config import Settings
from atendimento.identity.tokens import ServicoTokens
from atendimento.storage.demo import USUARIOS_DEMO, USUARIOS_OUTRA, ResumoDemo

from .apoio import SEGREDO, Ambiente, PresencaFixa

FabricaAmbiente = Callable[..., Awaitable[Ambiente]]


def _usuarios(resumo: ResumoDemo) -> dict[str, dict[str, Any]]:
    usuarios = {}
    for lista, empresa in ((USUARIOS_DEMO, resumo.empresa_id), (USUARIOS_OUTRA, resumo.outra_empresa_id)):
        for email, nome, role in lista:
            usuarios[email] = {
                "id": resumo.usuarios[email],
                "empresa_id": empresa,
                "role": role,
                "nome": nome,
            }
    return usuarios


async def _fabrica(banco: Any, tmp_path: Path) -> AsyncIterator[FabricaAmbiente]:
    """Builds the app over ``banco`` (a BancoDemo); options override create_api's collaborators."""
    clientes: list[httpx.AsyncClient] = []

    async def fabricar(**opcoes: Any) -> Ambiente:
        servico = opcoes.pop("servico", None) or banco.servico()
        tokens = opcoes.pop("tokens", None) or ServicoTokens(["HS256"], SEGREDO, None, 5, 3600)
        presenca = opcoes.pop("presenca", None) or PresencaFixa()
        settings = opcoes.pop("settings", None) or Settings(data_dir=tmp_path, jwt_secret=SEGREDO)  # type: ignore[call-arg]
        app = create_api(servico=servico, tokens=tokens, presenca=presenca, settings=settings, **opcoes)
        cliente = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 40000)), base_url="http://api.teste"
        )
        clientes.append(cliente)
        return Ambiente(
            app=app,
            cliente=cliente,
            servico=servico,
            tokens=tokens,
            publicador=banco.publicador,
            presenca=presenca,
            usuarios=_usuarios(banco.resumo),
            demo=banco.resumo,
            storage=banco.storage,
        )

    yield fabricar
    for cliente in clientes:
        await cliente.aclose()


@pytest.fixture
async def amb_fabrica(demo_sqlite: Any, tmp_path: Path) -> AsyncIterator[FabricaAmbiente]:
    async for fabrica in _fabrica(demo_sqlite, tmp_path):
        yield fabrica


@pytest.fixture
async def amb(amb_fabrica: FabricaAmbiente) -> Ambiente:
    """The API on SQLite: most tests are about the HTTP layer, and SQLite is fast."""
    return await amb_fabrica()


@pytest.fixture
async def amb_ambos(banco_demo: Any, tmp_path: Path) -> AsyncIterator[Ambiente]:
    """The API on SQLite and on PostgreSQL (application role under row-level security): for the
    tests about tenant isolation and writes, where the dialect matters."""
    async for fabrica in _fabrica(banco_demo, tmp_path):
        yield await fabrica()
