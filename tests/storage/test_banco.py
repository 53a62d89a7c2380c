"""Storage itself: health check, transactions, settings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select, text, update

from atendimento.config import Settings
from atendimento.domain.servicos import ServicoAtendimento
from atendimento.identity.passwords import Senhas
from atendimento.storage import Storage, StorageUnavailable
from atendimento.storage.modelos import Fila

if TYPE_CHECKING:
    from conftest import BancoDemo


async def test_ping(banco_demo: BancoDemo) -> None:
    assert await banco_demo.storage.ping() is True


@pytest.mark.parametrize(
    "url", ["postgresql://ninguem@127.0.0.1:1/nada", "sqlite:////proc/nao/pode/existir.db"]
)
async def test_ping_sem_banco_levanta(url: str) -> None:
    try:
        storage = Storage(url)
    except OSError:
        return  # the SQLite folder cannot even be made: as unavailable as it gets
    try:
        with pytest.raises(StorageUnavailable):
            await storage.ping()
    finally:
        await storage.close()


async def test_transacao_desfaz_com_excecao(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    with pytest.raises(RuntimeError):
        async with banco_demo.storage.transacao(r.empresa_id) as conn:
            renomeada = await conn.execute(
                update(Fila).where(Fila.id == r.filas["Suporte"]).values(nome="Renomeada")
            )
            assert renomeada.rowcount == 1  # type: ignore[attr-defined]
            raise RuntimeError("desfaz")
    async with banco_demo.storage.transacao(r.empresa_id, escrita=False) as conn:
        assert await conn.scalar(select(Fila.nome).where(Fila.id == r.filas["Suporte"])) == "Suporte"


def test_from_settings_escolhe_a_url(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(  # type: ignore[call-arg]
        data_dir=tmp_path,
        database_url="postgresql://atendimento_app@127.0.0.1:5432/x",
        database_admin_url="postgresql://postgres@127.0.0.1:5432/x",
    )
    assert Storage.from_settings(settings).url.startswith("postgresql://atendimento_app@")
    assert Storage.from_settings(settings, admin=True).url.startswith("postgresql://postgres@")
    assert Storage.from_settings(settings).is_postgres
    embutido = Storage.from_settings(Settings(data_dir=tmp_path))  # type: ignore[call-arg]
    assert not embutido.is_postgres and embutido.url.endswith("atendimento.db")


@pytest.mark.postgres
async def test_conexao_morta_no_pool_e_trocada_sem_erro(demo_pg: BancoDemo) -> None:
    """No pre-ping: a pooled connection that the server closed is found dead by the tenant
    statement, discarded, and the use case runs on a new connection without an error."""
    import asyncpg

    r = demo_pg.resumo
    storage = Storage(demo_pg.banco.app_url, pool_size=1, max_overflow=0)
    try:
        servico = ServicoAtendimento(storage, senhas=Senhas.rapidas())
        assert await servico.ticket_existe(r.empresa_id, r.tickets[1])
        async with storage.transacao(r.empresa_id) as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        admin = await asyncpg.connect(demo_pg.banco.admin_url)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        ana = r.id_de("ana@demo.local")
        mensagem = await servico.enviar_mensagem(
            r.empresa_id, r.tickets[1], remetente_id=ana, role="atendente", conteudo="oi"
        )
        assert mensagem.ticket_numero == "2"
        async with storage.transacao(r.empresa_id) as conn:
            assert (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one() != pid
    finally:
        await storage.close()


async def test_conexao_faz_commit_ou_rollback(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    renomear = text("UPDATE filas SET nome = :n WHERE empresa_id = :e AND id = :f")
    with pytest.raises(RuntimeError):
        async with banco_demo.storage.transacao(r.empresa_id) as conn:
            await conn.execute(renomear, {"n": "Desfeita", "e": r.empresa_id, "f": r.filas["Suporte"]})
            raise RuntimeError("desfaz")
    async with banco_demo.storage.transacao(r.empresa_id) as conn:
        await conn.execute(renomear, {"n": "Feita", "e": r.empresa_id, "f": r.filas["Suporte"]})
    async with banco_demo.storage.transacao(r.empresa_id, escrita=False) as conn:
        assert await conn.scalar(select(Fila.nome).where(Fila.id == r.filas["Suporte"])) == "Feita"


@pytest.mark.parametrize(("valor", "pragma"), [(None, 2), ("full", 2), ("normal", 1)])
async def test_sqlite_synchronous_vem_da_configuracao(tmp_path: Path, valor: str | None, pragma: int) -> None:
    # FULL (2) by default: an acknowledged write survives a power cut; NORMAL (1) only when asked.
    extra = {} if valor is None else {"sqlite_synchronous": valor}
    settings = Settings(data_dir=tmp_path, **extra)  # type: ignore[arg-type]
    storage = Storage.from_settings(settings)
    try:
        async with storage.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar() == pragma
    finally:
        await storage.close()


async def test_aquecer_abre_as_conexoes_antes_do_primeiro_pedido(demo_pg: BancoDemo) -> None:
    storage = Storage(demo_pg.banco.app_url)
    try:
        assert storage.engine.pool.checkedin() == 0  # type: ignore[attr-defined]
        await storage.aquecer(3)
        assert storage.engine.pool.checkedin() == 3  # type: ignore[attr-defined]
    finally:
        await storage.close()


async def test_sem_banco_nao_tenta_conectar_duas_vezes() -> None:
    """The retry is for a dead pooled connection; a database that refuses connections is answered at
    once (a second try would only double the wait), by transactions and the message write alike."""
    from sqlalchemy import event
    from sqlalchemy.exc import DBAPIError

    from atendimento.domain.entidades import agora, novo_id
    from atendimento.domain.portas import NovaMensagem

    storage = Storage("postgresql://ninguem@127.0.0.1:1/nada")
    tentativas: list[object] = []
    event.listen(storage.engine.sync_engine, "do_connect", lambda *args: tentativas.append(args))
    try:
        with pytest.raises((DBAPIError, OSError)):
            async with storage.transacao("e"):
                pass
        assert len(tentativas) == 1
        pedido = NovaMensagem(novo_id(), "t", "u", "atendente", "texto", "oi", None, agora())
        with pytest.raises((DBAPIError, OSError)):
            await storage.acrescentar_mensagem("e", pedido)
        assert len(tentativas) == 2
    finally:
        await storage.close()
