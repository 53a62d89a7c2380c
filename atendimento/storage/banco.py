"""``Storage``: the engine, tenant-scoped transactions, health check.

On PostgreSQL every transaction for a tenant starts with ``SELECT set_current_tenant(:empresa_id)``,
which sets ``app.current_tenant`` *transaction-locally*: when the transaction ends the setting is
gone, so a pooled connection never carries a tenant into the next transaction, and row-level
security shows a transaction without a tenant nothing at all.

Connections (PostgreSQL): no pre-ping. On asyncpg SQLAlchemy's pre-ping is BEGIN, ``;``, ROLLBACK:
three round trips before every transaction. Instead connections are recycled after
``POOL_RECYCLE_S``, and one retry policy (``_na_conexao``, with one classification of a dead
connection, ``falhas.conexao_perdida``) covers what is safe to send again: a transaction's opening (the
tenant statement, the first thing a tenant transaction sends; a transaction without a tenant sends
nothing before its first statement, so it fails that once) and the message write, whose function
answers a repeated call without writing twice. The dead connection is discarded and the work sent
once more on a fresh one. SQLAlchemy also invalidates the pool's older connections on such a
failure, so after a database restart the next transactions reconnect instead of failing one by one.

On SQLite (the embedded default) there is no RLS; the code-level scoping is the only guard.
Write transactions there start with ``BEGIN IMMEDIATE``: SQLite then serialises writers at BEGIN,
instead of failing one of two transactions that both read and then both try to write; and they
queue in-process first, because statements run on the event loop (``sqlite_conexao``), where
SQLite's busy handler would sleep with the whole process. That queue commits them in groups
(``sqlite_grupo``): the ones that arrive during a COMMIT's fsync run next, each in its own
SAVEPOINT of one transaction, and share one COMMIT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import bindparam, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    create_async_engine,
)

from atendimento.config import Settings, SqliteSynchronous, async_database_url, e_postgres
from atendimento.domain.entidades import UsuarioDados
from atendimento.domain.portas import MensagemGravada, NovaMensagem
from atendimento.private_files import preparar_sqlite
from atendimento.storage.escrita_lote import LotesPorTicket
from atendimento.storage.escrita_mensagem import acrescentar, acrescentar_lote
from atendimento.storage.falhas import conexao_perdida
from atendimento.storage.modelos import Empresa, Usuario
from atendimento.storage.repositorio import T_USUARIOS, RepositorioSql, usuario_dados
from atendimento.storage.sqlite_conexao import criador
from atendimento.storage.sqlite_grupo import GrupoDeCommit

log = logging.getLogger(__name__)

_MODO_BEGIN = "atendimento_sqlite_begin"
SQLITE_BUSY_TIMEOUT_S = 30.0
_SET_TENANT = text("SELECT set_current_tenant(:e)")
# The same columns either way: the function returns the usuarios row of one active user.
_LOGIN_POSTGRES = text("SELECT * FROM buscar_usuario_login(:email)")
_LOGIN_SQLITE = select(T_USUARIOS).where(
    T_USUARIOS.c.email == bindparam("email"), T_USUARIOS.c.ativo.is_(True)
)
# Below the usual idle timeouts of proxies, firewalls and managed databases (often an hour or more).
POOL_RECYCLE_S = 1800
# One process keeps up to this many connections open for good. No overflow: an overflow connection is
# opened and closed again under load (connect + TLS negotiation in the request, seen in the issue 5
# profile); beyond POOL_SIZE concurrent transactions a request waits for a free connection instead.
POOL_SIZE = 20
# Opened at start-up (``Storage.aquecer``): the concurrency of a steady few hundred writes a second.
CONEXOES_AQUECIDAS = 8


T = TypeVar("T")


class StorageUnavailable(RuntimeError):
    """The database did not answer the health check."""


def caminho_sqlite(url: str) -> Path | None:
    """The file behind a sqlite:/// URL (None for :memory:)."""
    database = make_url(async_database_url(url)).database
    if not database or database == ":memory:":
        return None
    return Path(database)


def _configurar_sqlite(engine: AsyncEngine, synchronous: SqliteSynchronous) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _ao_conectar(dbapi_connection: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (the driver's implicit BEGIN is DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the writer
        # FULL: a commit waits for the WAL's fsync, so an acknowledged write survives a power cut;
        # the one writer holds its lock through it, which bounds writes a second by the disk.
        # NORMAL (the setting's other value): no fsync per commit; still never corrupt, but the
        # last commits before a power cut (not a process crash) can be lost. docs/storage.md.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _ao_comecar(conn: Any) -> None:
        modo = conn.get_execution_options().get(_MODO_BEGIN, "IMMEDIATE")
        if modo is None:  # the group commit's writer: its batches BEGIN and COMMIT on sqlite3 directly
            return
        conn.exec_driver_sql(f"BEGIN {modo}")


class Storage:
    """One database. ``Storage(url)`` with a plain URL (``sqlite:///…``, ``postgresql://…``)."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = POOL_SIZE,
        max_overflow: int = 0,
        echo: bool = False,
        sqlite_synchronous: SqliteSynchronous = "FULL",
    ) -> None:
        self.url = url
        self.is_postgres = e_postgres(url)
        async_url = async_database_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_postgres:
            # No pool_pre_ping: see the module's docstring (recycle + one retry on a dead connection).
            # LIFO: the most recently returned connection serves next, so a steady load keeps using
            # the few connections it needs, whose server backends already have the message function
            # compiled and the statements planned (a backend's first call cost ~5 ms more); the rest
            # wait for bursts.
            kwargs.update(
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_recycle=POOL_RECYCLE_S,
                pool_use_lifo=True,
            )
        else:
            caminho = caminho_sqlite(url)
            if caminho is not None:
                preparar_sqlite(caminho)  # 0600 (and its -wal/-shm), in a 0700 folder when we make it
                # Statements on the loop, commits on one thread (sqlite_conexao's docstring).
                kwargs["async_creator"] = criador(str(caminho), SQLITE_BUSY_TIMEOUT_S)
            else:
                kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
        self.engine: AsyncEngine = create_async_engine(async_url, **kwargs)
        # SQLite has one writer per file: write transactions queue here, in-process, instead of in
        # SQLite's busy handler (which sleeps and retries, and would now sleep in the loop), and
        # those that queue behind one COMMIT share the next (sqlite_grupo's docstring).
        self._grupo: GrupoDeCommit | None = None
        # PostgreSQL: one ticket's message writes go in batches, one batch in the database at a time
        # (escrita_lote's docstring).
        self._lotes: LotesPorTicket | None = None
        if self.is_postgres:
            self._lotes = LotesPorTicket(self._acrescentar_lote, self._acrescentar_uma)
        if not self.is_postgres:
            _configurar_sqlite(self.engine, sqlite_synchronous)
            if caminho_sqlite(url) is not None:  # a file; ``:memory:`` has no writer to share
                # (each pooled connection is its own database): its transactions stay plain.
                self._grupo = GrupoDeCommit(self._conectar_escritor)

    @classmethod
    def from_settings(cls, settings: Settings, *, admin: bool = False) -> Storage:
        """The application's storage (``database_url``), or the owner's (``admin=True``)."""
        url = settings.effective_admin_database_url if admin else settings.effective_database_url
        return cls(url, sqlite_synchronous=settings.sqlite_synchronous)

    @asynccontextmanager
    async def transacao(
        self, empresa_id: str | None, *, escrita: bool = True
    ) -> AsyncIterator[AsyncConnection]:
        """One transaction for one tenant (None: no tenant, so RLS shows nothing on PostgreSQL), on
        a bare ``AsyncConnection`` (SQLAlchemy Core, no ORM session).

        Commits when the block ends normally, rolls back on an exception. On SQLite a write
        transaction commits together with those queued beside it (``sqlite_grupo``): the block's
        work is undone alone on an exception, and the block returns once its COMMIT is durable."""
        if self._grupo is None or not escrita:
            async with self._transacao(empresa_id, escrita) as conn:
                yield conn
            return
        async with self._grupo.transacao() as conn:
            yield conn

    @asynccontextmanager
    async def _transacao(self, empresa_id: str | None, escrita: bool) -> AsyncIterator[AsyncConnection]:
        conn = await self._abrir(empresa_id, escrita)
        try:
            yield conn
        except BaseException:
            await conn.rollback()
            raise
        else:
            await conn.commit()
        finally:
            await conn.close()

    async def _conectar_escritor(self) -> AsyncConnection:
        """The group commit's writer connection (SQLite): SQLAlchemy sends no BEGIN on it, since
        each batch begins and commits on the sqlite3 connection itself (``sqlite_grupo``)."""
        conn = await self.engine.connect()
        return await conn.execution_options(**{_MODO_BEGIN: None})

    async def _na_conexao(self, fazer: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """The one retry policy: ``fazer`` on a pooled connection and, when it failed because that
        connection was dead (``falhas.conexao_perdida``), the dead one thrown away and ``fazer`` once
        more on another. Only for work that is safe to send twice (a transaction's opening; the
        message write). Connecting itself is not retried: then the database is away, and a second try
        would only double the wait. The connection is closed here when ``fazer`` fails; when it
        succeeds, it is ``fazer``'s to keep or close."""
        for tentativa in (1, 2):
            conn = await self.engine.connect()
            try:
                return await fazer(conn)
            except BaseException as exc:
                perdida = isinstance(exc, Exception) and conexao_perdida(exc)
                if perdida:
                    await conn.invalidate()  # not back into the pool
                await conn.close()
                if not perdida or tentativa > 1:
                    raise
                log.warning("database connection lost (%s); retrying on a new connection", type(exc).__name__)
        raise AssertionError("unreachable")

    async def _abrir(self, empresa_id: str | None, escrita: bool) -> AsyncConnection:
        """A connection in a transaction with the tenant set; once more on a dead connection."""

        async def comecar(conn: AsyncConnection) -> AsyncConnection:
            if self.is_postgres:
                await conn.begin()  # asyncpg's BEGIN goes out with the first statement
                if empresa_id is not None:
                    await conn.execute(_SET_TENANT, {"e": empresa_id})
                return conn
            conn = await conn.execution_options(**{_MODO_BEGIN: "IMMEDIATE" if escrita else "DEFERRED"})
            await conn.begin()
            return conn

        return await self._na_conexao(comecar)

    @asynccontextmanager
    async def unidade(self, empresa_id: str, *, escrita: bool = True) -> AsyncIterator[RepositorioSql]:
        """``transacao`` wrapped in the domain's repository port."""
        async with self.transacao(empresa_id, escrita=escrita) as conn:
            yield RepositorioSql(conn, empresa_id, postgres=self.is_postgres)

    async def acrescentar_mensagem(self, empresa_id: str, pedido: NovaMensagem) -> MensagemGravada:
        """The one message write (``escrita_mensagem``) in a transaction of its own. PostgreSQL: one
        statement in its implicit transaction (no BEGIN, no tenant statement, no COMMIT: the function
        sets the tenant), with the writes queued behind the ticket's batch in the database when it
        has one (``escrita_lote``), sent once more on a new connection when the pooled one was dead
        (a repeated call answers as written, so the retry never writes twice). SQLite: a write
        transaction of the group commit."""
        if self._lotes is not None:
            return await self._lotes.acrescentar(empresa_id, pedido)
        async with self.transacao(empresa_id) as conn:
            return await acrescentar(conn, empresa_id, pedido)

    async def _acrescentar_lote(
        self, empresa_id: str, pedidos: Sequence[NovaMensagem]
    ) -> list[MensagemGravada]:
        """One batch of one ticket's messages (``escrita_lote``) in one statement, under the one retry
        policy (a repeated call answers as written, so the retry never writes twice)."""

        async def escrever(conn: AsyncConnection) -> list[MensagemGravada]:
            gravacoes = await acrescentar_lote(conn, empresa_id, pedidos)
            await conn.close()  # back to the pool once answered (on a failure, _na_conexao decides)
            return gravacoes

        return await self._na_conexao(escrever)

    async def _acrescentar_uma(self, empresa_id: str, pedido: NovaMensagem) -> MensagemGravada:
        return (await self._acrescentar_lote(empresa_id, [pedido]))[0]

    async def buscar_login(self, email: str) -> tuple[UsuarioDados, str] | None:
        """Cross-tenant lookup for login. On PostgreSQL RLS hides every usuario from a transaction
        without a tenant, so this goes through ``buscar_usuario_login``, a SECURITY DEFINER function
        that returns exactly one active user by email and nothing else."""
        consulta = _LOGIN_POSTGRES if self.is_postgres else _LOGIN_SQLITE
        async with self.transacao(None, escrita=False) as conn:
            linha = (await conn.execute(consulta, {"email": email})).first()  # email is UNIQUE
        return None if linha is None else (usuario_dados(linha), linha.senha_hash)

    async def banco_vazio(self) -> bool:
        """No empresa and no usuario, in any tenant (the demo loader's guard)."""
        async with self.transacao(None, escrita=False) as conn:
            if self.is_postgres:
                return bool((await conn.execute(text("SELECT banco_vazio()"))).scalar_one())
            tem_empresa = (await conn.execute(select(Empresa.id).limit(1))).first() is not None
            tem_usuario = (await conn.execute(select(Usuario.id).limit(1))).first() is not None
            return not (tem_empresa or tem_usuario)

    async def aquecer(self, conexoes: int = CONEXOES_AQUECIDAS) -> None:
        """Opens ``conexoes`` of the pool's connections before the first request (PostgreSQL only).

        Why: a new asyncpg connection costs several round trips and some CPU (the TLS offer,
        authentication, SQLAlchemy's codec set-up), and the pool opens them lazily, so the first
        burst of writes opened them inside requests: 50-120 ms of delay for the first messages of
        ``compare-e2e.sh``, enough to set its p99. A database that does not answer is left to the
        readiness check; start-up goes on."""
        if not self.is_postgres:
            return
        try:
            async with contextlib.AsyncExitStack() as abertas:
                for _ in range(min(conexoes, self.engine.pool.size())):  # type: ignore[attr-defined]
                    await abertas.enter_async_context(self.engine.connect())
        except Exception as exc:
            log.warning("could not open the database connections ahead of time: %s", type(exc).__name__)

    async def ping(self, limite_s: float = 2.0) -> bool:
        """True when the database answers; raises ``StorageUnavailable`` otherwise (for /ready)."""
        try:
            async with asyncio.timeout(limite_s), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            raise StorageUnavailable(f"banco indisponível: {type(exc).__name__}") from exc
        return True

    async def problemas_do_papel(self) -> list[str]:
        """On PostgreSQL, why this connection's role could read past row-level security: it is a
        superuser, has BYPASSRLS, or owns a table. Empty when the role is fit for the application."""
        if not self.is_postgres:
            return []
        async with self.engine.connect() as conn:
            papel = (
                await conn.execute(
                    text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
                )
            ).one()
            donos = (
                (
                    await conn.execute(
                        text(
                            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                            "WHERE c.relkind = 'r' AND pg_get_userbyid(c.relowner) = current_user "
                            "AND n.nspname = current_schema()"
                        )
                    )
                )
                .scalars()
                .all()
            )
        problemas = []
        if papel.rolsuper:
            problemas.append(f"o papel {papel.rolname} é superusuário")
        if papel.rolbypassrls:
            problemas.append(f"o papel {papel.rolname} tem BYPASSRLS")
        if donos:
            problemas.append(f"o papel {papel.rolname} é dono de tabelas: {', '.join(sorted(donos))}")
        return problemas

    async def close(self) -> None:
        if self._lotes is not None:
            await self._lotes.fechar()  # the queued writes finish first
        if self._grupo is not None:
            await self._grupo.fechar()  # the queued writes finish first
        await self.engine.dispose()
