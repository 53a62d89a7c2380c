"""Shared fixtures: real databases (SQLite files and PostgreSQL), migrated, optionally with the demo data.

Each test that asks gets its own database, copied from a template made once per session (a file copy
for SQLite, ``CREATE DATABASE … TEMPLATE`` for PostgreSQL), so tests may write freely and the demo ids
in ``ResumoDemo`` are the same in every copy.

PostgreSQL: the server at ``ATENDIMENTO_TEST_PG`` (default ``postgresql://postgres@127.0.0.1:5432``,
a superuser). Migrations run as that owner; the application connects as ``atendimento_app`` (not
owner, not superuser, no BYPASSRLS). When the server does not answer, the tests fail, never skip.

Fixtures: ``sqlite_database``/``pg_database`` (fresh migrated empty databases, as ``BancoTeste``),
``sqlite_settings``/``pg_settings``, ``demo_sqlite``/``demo_pg`` and ``banco_demo`` (both dialects,
parametrised) as ``BancoDemo`` with an open ``storage`` and the ``resumo`` of the demo data,
``senhas_rapidas`` (cheap argon2 parameters; tests only).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
from apoio_eventos import PublicadorGravador
from sqlalchemy.engine import make_url

from atendimento.config import Settings
from atendimento.domain.eventos import PublicadorEventos
from atendimento.domain.servicos import ServicoAtendimento
from atendimento.identity.passwords import Senhas
from atendimento.storage import Storage, upgrade_urls
from atendimento.storage.demo import ResumoDemo, carregar_demo

pytest_plugins = ["faixa_rapida"]  # the fast lane: `make test-fast`

PG_SERVIDOR = os.environ.get("ATENDIMENTO_TEST_PG", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
PG_PAPEL_APP = "atendimento_app"
_SENHAS = Senhas.rapidas()


@dataclass(frozen=True)
class BancoTeste:
    """One test database: the owner's URL (migrations, demo) and the application's URL."""

    admin_url: str
    app_url: str
    data_dir: Path

    @property
    def is_postgres(self) -> bool:
        return self.app_url.startswith("postgresql")

    def settings(self, **extra: object) -> Settings:
        return Settings(  # type: ignore[call-arg]
            database_url=self.app_url, database_admin_url=self.admin_url, data_dir=self.data_dir, **extra
        )


@dataclass
class BancoDemo:
    """A database with the demo data; ``storage`` connects as the application role."""

    banco: BancoTeste
    resumo: ResumoDemo
    storage: Storage
    publicador: PublicadorGravador = field(default_factory=PublicadorGravador)

    @property
    def is_postgres(self) -> bool:
        return self.banco.is_postgres

    def servico(self, publicador: PublicadorEventos | None = None) -> ServicoAtendimento:
        """The domain service on this database; records events in ``self.publicador`` by default."""
        return ServicoAtendimento(self.storage, publicador or self.publicador, senhas=_SENHAS)


@pytest.fixture(scope="session")
def senhas_rapidas() -> Senhas:
    return _SENHAS


# --- PostgreSQL -------------------------------------------------------------------------------


class _ServidorPg:
    def __init__(self) -> None:
        self.prefixo = f"atendimento_test_{uuid.uuid4().hex[:10]}"
        self._contador = 0
        self.criados: list[str] = []

    async def _admin(self) -> asyncpg.Connection:
        try:
            return await asyncpg.connect(f"{PG_SERVIDOR}/postgres", timeout=5)
        except (OSError, asyncpg.PostgresError) as exc:
            pytest.fail(f"PostgreSQL não responde em {PG_SERVIDOR}: {exc!r}", pytrace=False)

    async def criar(self, sufixo: str, template: str | None = None) -> str:
        nome = f"{self.prefixo}_{sufixo}"
        conn = await self._admin()
        try:
            modelo = f" TEMPLATE {template}" if template else ""
            await conn.execute(f"CREATE DATABASE {nome}{modelo}")
        finally:
            await conn.close()
        self.criados.append(nome)
        return nome

    def proximo(self) -> str:
        self._contador += 1
        return f"t{self._contador}"

    async def apagar(self, nome: str) -> None:
        conn = await self._admin()
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {nome} WITH (FORCE)")
        finally:
            await conn.close()
        if nome in self.criados:
            self.criados.remove(nome)

    def banco(self, nome: str, data_dir: Path) -> BancoTeste:
        admin = make_url(f"{PG_SERVIDOR}/{nome}")
        app = admin.set(username=PG_PAPEL_APP, password=None)
        return BancoTeste(
            admin_url=admin.render_as_string(hide_password=False),
            app_url=app.render_as_string(hide_password=False),
            data_dir=data_dir,
        )


@pytest.fixture(scope="session")
async def pg_servidor() -> AsyncIterator[_ServidorPg]:
    servidor = _ServidorPg()
    yield servidor
    for nome in list(servidor.criados):
        await servidor.apagar(nome)


@pytest.fixture(scope="session")
async def _pg_modelos(
    pg_servidor: _ServidorPg, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, str, ResumoDemo]:
    """Two templates: migrated and empty; migrated with the demo data."""
    vazio = await pg_servidor.criar("vazio")
    await upgrade_urls(*_urls(pg_servidor.banco(vazio, tmp_path_factory.mktemp("pg"))))
    demo = await pg_servidor.criar("demo", template=vazio)
    banco = pg_servidor.banco(demo, tmp_path_factory.mktemp("pg"))
    storage = Storage(banco.admin_url)
    try:
        resumo = await carregar_demo(storage, senhas=_SENHAS)
    finally:
        await storage.close()
    return vazio, demo, resumo


def _urls(banco: BancoTeste) -> tuple[str, str]:
    return banco.admin_url, banco.app_url


async def _copia_pg(servidor: _ServidorPg, template: str, data_dir: Path) -> BancoTeste:
    nome = await servidor.criar(servidor.proximo(), template=template)
    # Tables, functions, policies and grants come with the copy; the role is cluster-wide, and
    # CONNECT belongs to PUBLIC by default, so nothing needs re-running.
    return servidor.banco(nome, data_dir)


@pytest.fixture
async def pg_database(
    pg_servidor: _ServidorPg, _pg_modelos: tuple[str, str, ResumoDemo], tmp_path: Path
) -> AsyncIterator[BancoTeste]:
    """A fresh, migrated, empty PostgreSQL database (dropped after the test)."""
    banco = await _copia_pg(pg_servidor, _pg_modelos[0], tmp_path)
    yield banco
    await pg_servidor.apagar(banco.admin_url.rsplit("/", 1)[-1])


@pytest.fixture
def pg_settings(pg_database: BancoTeste) -> Settings:
    return pg_database.settings()


@pytest.fixture
async def demo_pg(
    pg_servidor: _ServidorPg, _pg_modelos: tuple[str, str, ResumoDemo], tmp_path: Path
) -> AsyncIterator[BancoDemo]:
    banco = await _copia_pg(pg_servidor, _pg_modelos[1], tmp_path)
    storage = Storage(banco.app_url)
    yield BancoDemo(banco, _pg_modelos[2], storage)
    await storage.close()
    await pg_servidor.apagar(banco.admin_url.rsplit("/", 1)[-1])


# --- SQLite -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def _sqlite_modelos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, ResumoDemo]:
    pasta = tmp_path_factory.mktemp("sqlite-modelos")
    vazio, demo = pasta / "vazio.db", pasta / "demo.db"
    await upgrade_urls(f"sqlite:///{vazio}")
    await upgrade_urls(f"sqlite:///{demo}")
    storage = Storage(f"sqlite:///{demo}")
    try:
        resumo = await carregar_demo(storage, senhas=_SENHAS)
    finally:
        await storage.close()  # checkpoints the WAL into the file, so a plain copy is complete
    return vazio, demo, resumo


def _copia_sqlite(modelo: Path, pasta: Path) -> BancoTeste:
    destino = pasta / "atendimento.db"
    shutil.copyfile(modelo, destino)
    url = f"sqlite:///{destino}"
    return BancoTeste(admin_url=url, app_url=url, data_dir=pasta)


@pytest.fixture
def sqlite_database(_sqlite_modelos: tuple[Path, Path, ResumoDemo], tmp_path: Path) -> BancoTeste:
    """A fresh, migrated, empty SQLite database file."""
    return _copia_sqlite(_sqlite_modelos[0], tmp_path)


@pytest.fixture
def sqlite_settings(sqlite_database: BancoTeste) -> Settings:
    return sqlite_database.settings()


@pytest.fixture
async def demo_sqlite(
    _sqlite_modelos: tuple[Path, Path, ResumoDemo], tmp_path: Path
) -> AsyncIterator[BancoDemo]:
    banco = _copia_sqlite(_sqlite_modelos[1], tmp_path)
    storage = Storage(banco.app_url)
    yield BancoDemo(banco, _sqlite_modelos[2], storage)
    await storage.close()


# --- both dialects ----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def banco_demo(request: pytest.FixtureRequest) -> BancoDemo:
    """``demo_sqlite`` and ``demo_pg``: the test runs once on each."""
    nome = "demo_sqlite" if request.param == "sqlite" else "demo_pg"
    demo: BancoDemo = request.getfixturevalue(nome)
    return demo


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def banco_vazio(request: pytest.FixtureRequest) -> BancoTeste:
    """``sqlite_database`` and ``pg_database``: the test runs once on each."""
    banco: BancoTeste = request.getfixturevalue(
        "sqlite_database" if request.param == "sqlite" else "pg_database"
    )
    return banco
