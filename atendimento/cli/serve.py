"""``atendimento serve``: the gateway and the API on one port, under uvicorn.

uvicorn runs with the engine's own WebSocket protocol class (``EngineWebSocketProtocol``), which keeps
ASGI for the handshake and the receive side but lets broadcasts write pre-built frames straight to
each socket (docs/architecture.md, "The hot path").
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
from pathlib import Path
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

from atendimento.app import Aplicacao, build_app
from atendimento.cli import workers
from atendimento.cli.main import CommandError, settings_from_args
from atendimento.cli.memoria import preparar_gc
from atendimento.cli.preflight import redact, run_async
from atendimento.cli.tls import verificar_certificado
from atendimento.config import Settings
from atendimento.engine.engineio.uvicorn_ws import EngineWebSocketProtocol
from atendimento.logs import configure_logging
from atendimento.storage.banco import Storage
from atendimento.storage.migracoes import alembic_config, revisao_atual, upgrade
from atendimento.worker_forwarding import Worker


async def _prepare(settings: Settings) -> None:
    """Migrate the embedded database; on PostgreSQL check that the schema is at head and that the
    application's role cannot read past row-level security (superuser, BYPASSRLS, table owner)."""
    if not settings.is_postgres:
        await upgrade(settings)
    storage = Storage.from_settings(settings)
    try:
        await storage.ping()
        if settings.is_postgres:
            if await revisao_atual(settings.effective_database_url) != _head_revision():
                raise CommandError("the database schema is not at head: run `atendimento db upgrade` first")
            problems = await storage.problemas_do_papel()
            if problems:
                raise CommandError(
                    "the application's database role would bypass row-level security ("
                    + "; ".join(problems)
                    + "): set ATENDIMENTO_DATABASE_URL to the application role (atendimento_app) and "
                    "ATENDIMENTO_DATABASE_ADMIN_URL to the owner"
                )
    finally:
        await storage.close()


def _head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def _check_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        await asyncio.wait_for(client.ping(), 3)
    finally:
        await client.aclose()


class _Server(uvicorn.Server):
    """uvicorn, told to drain on SIGTERM and to close the engine's sessions before it waits for
    connections to finish.

    SIGTERM (what a process manager or Kubernetes sends) first drains (``Aplicacao.drenar``: not
    ready, new handshakes 503, sockets closed over ``drain_seconds`` and handed over), then stops as
    uvicorn does, and the process exits 0 by itself. SIGINT (Ctrl-C), or a second SIGTERM, stops at
    once. A pending long-polling GET is an HTTP request that only ends when the session has something
    to say; without ``shutdown`` below, every open browser tab would hold the stop for pingInterval.
    """

    def __init__(self, config: uvicorn.Config, aplicacao: Aplicacao) -> None:
        super().__init__(config)
        self._aplicacao = aplicacao
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drenagem: asyncio.Task[None] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if (
            sig == signal.SIGTERM
            and self._loop is not None
            and self._drenagem is None
            and not self.should_exit
        ):
            # A signal handler runs between two bytecodes of the loop's thread: only schedule here.
            self._loop.call_soon_threadsafe(self._drenar)
            return
        super().handle_exit(sig, frame)

    def _drenar(self) -> None:
        if self._drenagem is None:
            self._drenagem = asyncio.get_running_loop().create_task(self._drenar_e_parar())

    async def _drenar_e_parar(self) -> None:
        try:
            await self._aplicacao.drenar()
        finally:
            self.should_exit = True

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._aplicacao.server.shutdown()
        await super().shutdown(sockets)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    configure_logging(settings.log_level, settings.log_json)
    if settings.workers > 1 and not (settings.redis_url and settings.is_postgres):
        # One line, before anything starts (cli/workers.py says why both).
        raise CommandError("--workers above 1 needs --redis-url and a PostgreSQL database")
    verificar_certificado(settings)
    run_async(_prepare(settings), what="preparing the database", url=settings.effective_database_url)
    if settings.redis_url:
        try:
            asyncio.run(_check_redis(settings.redis_url))
        except Exception as exc:
            reason = type(exc).__name__
            raise CommandError(f"Redis at {redact(settings.redis_url)} does not answer ({reason})") from None
    esquema = "https" if settings.ssl_certfile else "http"
    where = f"{esquema}://{settings.host}:{settings.port}"
    print(f"atendimento: listening on {where} (Socket.IO {settings.socketio_path}, namespace /atendimento)")
    print(f"atendimento: REST API docs at {where}/docs; health at {where}/health, readiness at {where}/ready")
    print(f"atendimento: database {redact(settings.effective_database_url)}")
    if settings.redis_url:
        print(f"atendimento: fan-out, presence and limits shared through {redact(settings.redis_url)}")
    if settings.forwarded_allow_ips:
        print(f"atendimento: X-Forwarded-For trusted from {', '.join(settings.forwarded_allow_ips)}")
    print("atendimento: load the demo data with `.venv/bin/atendimento demo` (every password: demo-senha)")
    if settings.workers > 1:
        # Each worker builds its own application after the fork (its own Redis instance id).
        return workers.executar(lambda *worker: _servidor(settings, worker), settings.workers)
    server = _servidor(settings, None)
    server.run()
    return 0 if server.started else 1


def _servidor(settings: Settings, worker: tuple[int, int, Path] | None) -> _Server:
    """The application under uvicorn, not started; ``worker``: (index, count, sockets folder)."""
    tls = settings.ssl_certfile is not None
    aplicacao = build_app(settings, worker=Worker(*worker, tls=tls) if worker is not None else None)
    server = _Server(uvicorn_config(settings, aplicacao.asgi), aplicacao)
    preparar_gc()  # last, so that what start-up built is frozen (memoria's docstring)
    return server


def uvicorn_config(settings: Settings, app: ASGIApp) -> uvicorn.Config:
    """How ``serve`` runs uvicorn (tests serve through the same configuration)."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ws=EngineWebSocketProtocol,
        ws_per_message_deflate=False,
        ws_ping_interval=None,  # the engine's heartbeat (Engine.IO ping/pong) is the one that counts
        ws_max_size=settings.max_payload_bytes,
        http="httptools",
        loop="uvloop",
        lifespan="on",
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=10,
        # The only place X-Forwarded-For is read: uvicorn rewrites the ASGI scope's client for
        # requests from these proxies, and the API (request.client) and the engine
        # (handshake.address) both read that scope. No proxy configured: no header believed.
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or [],
        # TLS is the transport's: uvicorn wraps the listening socket, so REST, long-polling and the
        # WebSocket (whatever protocol class serves it) are all https/wss on the one port.
        ssl_certfile=settings.ssl_certfile,
        ssl_keyfile=settings.ssl_keyfile,
    )
