"""The composition root: settings in, one ASGI app out (Socket.IO engine + gateway + REST API).

Nothing else in the package builds these parts or knows how they fit; each layer takes what it needs
as arguments, which is what lets the tests build the same app on a temporary database.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from atendimento.api import LimitadorLogin, VerificacaoProntidao, create_api
from atendimento.config import Settings
from atendimento.domain.servicos import ServicoAtendimento
from atendimento.engine import Server
from atendimento.gateway.namespace import Gateway, montar_gateway
from atendimento.identity.tokens import ServicoTokens
from atendimento.metricas import app_metricas
from atendimento.storage.banco import Storage

log = logging.getLogger(__name__)


@dataclass
class Aplicacao:
    """The assembled product; ``asgi`` is what uvicorn serves."""

    settings: Settings
    storage: Storage
    servico: ServicoAtendimento
    tokens: ServicoTokens
    server: Server
    gateway: Gateway
    api: FastAPI
    _on_startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _on_shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def servir_como_worker(self, indice: int, total: int, pasta: Path) -> None:
        """One of ``total`` processes on one port (``serve --workers``): this process's sessions carry
        its prefix, and polling requests for another's are passed to it (``cli/encaminhamento.py``)."""
        from atendimento.cli.encaminhamento import encaminhador, prefixo

        self.server.engine.sid_prefix = prefixo(indice)
        self.server.engine.foreign = encaminhador(pasta, indice, total)

    async def startup(self) -> None:
        for step in self._on_startup:
            await step()

    async def shutdown(self) -> None:
        # Sockets first (their disconnect handlers still need the database), then what they used.
        self.server.shutdown()
        for step in reversed(self._on_shutdown):
            try:
                await step()
            except Exception as exc:  # one failing step must not keep the others from closing
                log.warning("shutdown step failed: %s", type(exc).__name__)

    @property
    def asgi(self) -> ASGIApp:
        engine_and_api = self.server.asgi(self.api)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            else:
                await engine_and_api(scope, receive, send)

        return app

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _engine_server(settings: Settings) -> Server:
    return Server(
        path=settings.socketio_path,
        cors_origins=settings.cors_origins,
        ping_interval_ms=settings.ping_interval_ms,
        ping_timeout_ms=settings.ping_timeout_ms,
        max_payload_bytes=settings.max_payload_bytes,
    )


def criar_aplicacao(settings: Settings, *, storage: Storage | None = None) -> Aplicacao:
    """Build every part from ``settings``. Nothing connects yet: that happens at ASGI start-up."""
    storage = storage or Storage.from_settings(settings)
    tokens = ServicoTokens.from_settings(settings)
    servico = ServicoAtendimento(storage)
    server = _engine_server(settings)

    on_startup: list[Callable[[], Awaitable[None]]] = []
    on_shutdown: list[Callable[[], Awaitable[None]]] = [storage.close]
    limiter_storage = None
    presenca = None
    readiness = [_database_check(storage)]
    degradation: list[VerificacaoProntidao] = []

    if settings.redis_url:
        from atendimento.cluster.montagem import montar_cluster

        cluster = montar_cluster(server, settings)
        limiter_storage = cluster.limiter_storage
        presenca = cluster.presenca
        degradation.append(cluster.verificacao_prontidao)
        on_startup.append(cluster.start)
        on_shutdown.append(cluster.stop)

    gateway = montar_gateway(
        server,
        servico=servico,
        tokens=tokens,
        settings=settings,
        limiter_storage=limiter_storage,
        presenca=presenca,
    )
    # The service exists before the gateway that implements its publisher port.
    servico.publicador = gateway.publicador
    on_shutdown.append(gateway.fechar)

    api = create_api(
        servico=servico,
        tokens=tokens,
        presenca=gateway.presenca,
        readiness=readiness,
        degradacao=degradation,
        settings=settings,
        limitador_login=None if limiter_storage is None else LimitadorLogin(limiter_storage),
    )
    api.mount("/metrics", app_metricas(server))
    return Aplicacao(
        settings=settings,
        storage=storage,
        servico=servico,
        tokens=tokens,
        server=server,
        gateway=gateway,
        api=api,
        _on_startup=on_startup,
        _on_shutdown=on_shutdown,
    )


def _database_check(storage: Storage) -> VerificacaoProntidao:
    async def database() -> tuple[str, bool, str | None]:
        await storage.ping()  # raises StorageIndisponivel when the database does not answer
        return "database", True, None

    return database
