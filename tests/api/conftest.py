"""Fixtures: the product built by the composition root (``build_app``) on a copy of the demo
database, its HTTP side called in-process; events recorded instead of published to sockets.

The databases come from the shared fixtures of ``tests/conftest.py`` (``demo_sqlite``, ``demo_pg``,
``banco_demo``): a fresh copy of the demo data per test, so tests may write freely.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from atendimento.api import LimitadorLogin, VerificacaoProntidao
from atendimento.app import build_app
from atendimento.config import Settings
from atendimento.domain.servicos import ServicoAtendimento
from atendimento.identity.passwords import Senhas
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


async def _fabrica(banco: Any, tmp_path: Path, senhas: Senhas) -> AsyncIterator[FabricaAmbiente]:
    """Builds the app over ``banco`` (a BancoDemo); the options are the parts of ``build_app``
    a test swaps. Events go to ``banco.publicador`` (a recorder) unless ``servico`` has its own."""
    clientes: list[httpx.AsyncClient] = []

    async def fabricar(
        *,
        servico: ServicoAtendimento | None = None,
        tokens: ServicoTokens | None = None,
        presenca: PresencaFixa | None = None,
        settings: Settings | None = None,
        readiness: Sequence[VerificacaoProntidao] | None = None,
        degradacao: Sequence[VerificacaoProntidao] = (),
        limitador_login: LimitadorLogin | None = None,
    ) -> Ambiente:
        tokens = tokens or ServicoTokens(["HS256"], SEGREDO, None, 5, 3600)
        presenca = presenca or PresencaFixa()
        settings = settings or Settings(data_dir=tmp_path, jwt_secret=SEGREDO)  # type: ignore[call-arg]
        aplicacao = build_app(
            settings,
            storage=banco.storage,
            senhas=senhas,
            tokens=tokens,
            servico=servico,
            publicador=banco.publicador,
            presenca=presenca,
            readiness=readiness,
            degradacao=degradacao,
            limitador_login=limitador_login,
        )
        cliente = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=aplicacao.asgi, client=("203.0.113.7", 40000)),
            base_url="http://api.teste",
        )
        clientes.append(cliente)
        return Ambiente(
            aplicacao=aplicacao,
            app=aplicacao.api,
            cliente=cliente,
            servico=aplicacao.servico,
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
async def amb_fabrica(
    demo_sqlite: Any, tmp_path: Path, senhas_rapidas: Senhas
) -> AsyncIterator[FabricaAmbiente]:
    async for fabrica in _fabrica(demo_sqlite, tmp_path, senhas_rapidas):
        yield fabrica


@pytest.fixture
async def amb(amb_fabrica: FabricaAmbiente) -> Ambiente:
    """The API on SQLite: most tests are about the HTTP layer, and SQLite is fast."""
    return await amb_fabrica()


@pytest.fixture
async def amb_ambos(banco_demo: Any, tmp_path: Path, senhas_rapidas: Senhas) -> AsyncIterator[Ambiente]:
    """The API on SQLite and on PostgreSQL (application role under row-level security): for the
    tests about tenant isolation and writes, where the dialect matters."""
    async for fabrica in _fabrica(banco_demo, tmp_path, senhas_rapidas):
        yield await fabrica()
