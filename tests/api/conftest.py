"""Fixtures: the API wired to the real ServicoAtendimento on a SQLite copy of the demo database.

The demo database is built once per session (migrations + demo data) and copied for each test, so
every test starts from the same data and may change it freely.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from atendimento.api import create_api
from atendimento.config import Settings
from atendimento.domain.eventos import PublicadorGravador
from atendimento.domain.servicos import ServicoAtendimento
from atendimento.identity.passwords import Senhas
from atendimento.identity.tokens import ServicoTokens
from atendimento.storage import Storage
from atendimento.storage.demo import USUARIOS_DEMO, USUARIOS_OUTRA, ResumoDemo, carregar_demo

from .apoio import SEGREDO, Ambiente, PresencaFixa

FabricaAmbiente = Callable[..., Awaitable[Ambiente]]


@pytest.fixture(scope="session")
async def demo_modelo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ResumoDemo]:
    pasta = tmp_path_factory.mktemp("demo-api")
    arquivo = pasta / "demo.db"
    settings = Settings(database_url=f"sqlite:///{arquivo}", data_dir=pasta, jwt_secret=SEGREDO)
    resumo = await carregar_demo(settings, senhas=Senhas.rapidas())
    return arquivo, resumo


def _usuarios(resumo: ResumoDemo) -> dict[str, dict[str, Any]]:
    usuarios = {}
    for lista, empresa_id in ((USUARIOS_DEMO, resumo.empresa_id), (USUARIOS_OUTRA, resumo.outra_empresa_id)):
        for email, nome, role in lista:
            usuarios[email] = {
                "id": resumo.usuarios[email],
                "empresa_id": empresa_id,
                "role": role,
                "nome": nome,
            }
    return usuarios


@pytest.fixture
async def amb_fabrica(demo_modelo: tuple[Path, ResumoDemo], tmp_path: Path) -> AsyncIterator[FabricaAmbiente]:
    modelo, resumo = demo_modelo
    abertos: list[tuple[httpx.AsyncClient, Storage]] = []

    async def fabricar(**opcoes: Any) -> Ambiente:
        arquivo = tmp_path / f"api-{len(abertos)}.db"
        shutil.copyfile(modelo, arquivo)
        storage = Storage(f"sqlite:///{arquivo}")
        publicador = PublicadorGravador()
        servico = opcoes.pop("servico", None) or ServicoAtendimento(
            storage, publicador, senhas=Senhas.rapidas()
        )
        tokens = opcoes.pop("tokens", None) or ServicoTokens(["HS256"], SEGREDO, None, 5, 3600)
        presenca = opcoes.pop("presenca", None) or PresencaFixa()
        settings = opcoes.pop("settings", None) or Settings(data_dir=tmp_path, jwt_secret=SEGREDO)
        app = create_api(servico=servico, tokens=tokens, presenca=presenca, settings=settings, **opcoes)
        cliente = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 40000)), base_url="http://api.teste"
        )
        abertos.append((cliente, storage))
        return Ambiente(
            app=app,
            cliente=cliente,
            servico=servico,
            tokens=tokens,
            publicador=publicador,
            presenca=presenca,
            usuarios=_usuarios(resumo),
            demo=resumo,
            storage=storage,
        )

    yield fabricar
    for cliente, storage in abertos:
        await cliente.aclose()
        await storage.close()


@pytest.fixture
async def amb(amb_fabrica: FabricaAmbiente) -> Ambiente:
    return await amb_fabrica()
