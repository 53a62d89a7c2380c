"""The composition root: settings in, one ASGI app out (Socket.IO engine + gateway + REST API).

Nothing else in the package builds these parts or knows how they fit; each layer takes what it needs
as arguments, which is what lets the tests build the same app on a temporary database.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from atendimento.api import LimitadorLogin, PoliticaLogin, VerificacaoProntidao, build_api
from atendimento.config import Settings
from atendimento.console import build_console
from atendimento.domain.eventos import PublicadorEventos
from atendimento.domain.portas import VerificadorSenhas
from atendimento.domain.saida import ConfigSaida
from atendimento.domain.servicos import ServicoAtendimento
from atendimento.engine import Server, Socket
from atendimento.engine.engineio.cors import Cors
from atendimento.engine.socketio.recovery import MemoryRecoveryStore, RecoveryConfig
from atendimento.gateway import salas, sessao
from atendimento.gateway.namespace import NAMESPACE, Gateway, build_gateway
from atendimento.gateway.portas import RegistroPresenca
from atendimento.gateway.presenca import PresencaLocal
from atendimento.gateway.publicacao import Publicador
from atendimento.gateway.rate_limits import limites_rest
from atendimento.identity.passwords import senhas_padrao
from atendimento.identity.tokens import ServicoTokens
from atendimento.metricas import build_metrics_app
from atendimento.monitoring.wiring import Monitoramento, build_monitoring
from atendimento.storage.banco import Storage
from atendimento.webhooks.relay import Relay
from atendimento.webhooks.wiring import build_relay
from atendimento.worker_forwarding import Worker

if TYPE_CHECKING:
    from atendimento.cluster.wiring import Cluster

log = logging.getLogger(__name__)

# How long a draining instance keeps the sessions it closed, after its last close, for the other
# instances to take them over (a client reconnects ~0.5-1.5 s after the close, ~1-3 s more if its
# first try found a draining instance); a client that never comes back must not hold the deploy.
ESPERA_REPASSE_S = 5.0


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
    monitoramento: Monitoramento | None = None
    cluster: Cluster | None = None  # with a Redis URL: the instance's backplane (cluster/wiring.py)
    emissores: Any = None  # cluster.emissores.Emissores with ATENDIMENTO_EMISSORES and Redis
    relay: Relay | None = None
    _on_startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _on_shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def drenar(self) -> None:
        """SIGTERM: not ready, no new sessions, sockets closed over ``drain_seconds`` and their
        sessions handed over (docs/cluster.md, "Draining"). Without Redis no other instance can take
        a session over, so the sockets are closed at once and nothing is waited for."""
        cluster = bool(self.settings.redis_url)
        await self.server.drain(
            self.settings.drain_seconds if cluster else 0.0, ESPERA_REPASSE_S if cluster else 0.0
        )

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


def recuperacao(settings: Settings) -> RecoveryConfig | None:
    """The engine's connection state recovery settings; None (off) for a window of 0."""
    if not settings.recovery_window_seconds:
        return None
    return RecoveryConfig(
        window_seconds=settings.recovery_window_seconds,
        max_session_packets=settings.recovery_max_session_packets,
        max_session_bytes=settings.recovery_max_session_bytes,
        max_total_bytes=settings.recovery_max_total_bytes,
    )


def build_server(settings: Settings, worker: Worker | None = None, cors: Cors | None = None) -> Server:
    """``worker``: one of several processes on one port (``serve --workers``): its sessions carry its
    prefix, and polling requests for another's are passed to that one (``worker_forwarding.py``).
    ``cors``: the policy the REST API applies too (``build_app`` builds one for both)."""
    return Server(
        path=settings.socketio_path,
        cors_origins=settings.cors_origins,
        cors=cors,
        body_timeout_ms=int(settings.body_timeout_seconds * 1000),
        ping_interval_ms=settings.ping_interval_ms,
        ping_timeout_ms=settings.ping_timeout_ms,
        max_payload_bytes=settings.max_payload_bytes,
        max_pending_events=settings.event_queue_per_socket,
        max_refused_events=settings.event_overflow_disconnect,
        connect_timeout_ms=settings.connect_timeout_ms,
        max_polling_packets=settings.max_polling_packets,
        max_sessions_per_address=settings.max_sessions_per_address or None,
        handshakes_per_second=settings.handshakes_per_second or None,
        refusal_log_lines=settings.refusal_log_lines,
        refusal_log_interval_s=settings.refusal_log_interval_seconds,
        recovery=recuperacao(settings),
        sid_prefix=worker.sid_prefix if worker else "",
        foreign_session=worker.encaminhador() if worker else None,
    )


def build_app(
    settings: Settings,
    *,
    storage: Storage | None = None,
    senhas: VerificadorSenhas | None = None,
    tokens: ServicoTokens | None = None,
    servico: ServicoAtendimento | None = None,
    publicador: PublicadorEventos | None = None,
    presenca: RegistroPresenca | None = None,
    readiness: Sequence[VerificacaoProntidao] | None = None,
    degradacao: Sequence[VerificacaoProntidao] = (),
    limitador_login: LimitadorLogin | None = None,
    worker: Worker | None = None,
) -> Aplicacao:
    """Build every part from ``settings``. Nothing connects yet: that happens at ASGI start-up.

    The keyword arguments replace one part each (None: built from ``settings``), so the tests build
    this same app on their own database and swap only what they observe or break:
    ``storage`` (a copy of the demo database; closed at shutdown like one built here), ``senhas``
    (cheap argon2 parameters), ``tokens``, ``servico`` (the use cases; built on ``storage``
    otherwise), ``publicador`` (where the domain's events go instead of the gateway: a recorder),
    ``presenca`` (the presence registry, as the cluster's replaces the in-process one),
    ``readiness`` (instead of the database check), ``degradacao`` (more checks that only degrade),
    ``limitador_login``.
    """
    storage = storage or Storage.from_settings(settings)
    tokens = tokens or ServicoTokens.from_settings(settings)
    # One cross-origin policy, for the Socket.IO transport and the REST API alike.
    cors = Cors(settings.cors_origins)
    server = build_server(settings, worker, cors)

    on_startup: list[Callable[[], Awaitable[None]]] = [storage.aquecer]
    on_shutdown: list[Callable[[], Awaitable[None]]] = [storage.close]
    limiter_storage = None
    visualizando = None
    readiness = [_database_check(storage)] if readiness is None else list(readiness)
    readiness.append(_drain_check(server))
    degradation: list[VerificacaoProntidao] = list(degradacao)
    cluster = None

    if settings.redis_url:
        from atendimento.cluster.wiring import build_cluster

        cluster = build_cluster(server, settings, empresa_da_sala=salas.empresa_da_sala)
        limiter_storage = cluster.limiter_storage
        presenca = presenca or cluster.presenca
        visualizando = cluster.visualizando
        degradation.append(cluster.verificacao_prontidao)
        on_startup.append(cluster.start)
        on_shutdown.append(cluster.stop)

    # The gateway's publisher needs only its namespace, so it exists before the service that
    # publishes through it, and the service before the gateway whose handlers call it.
    publicador_gateway = Publicador(
        server.of(NAMESPACE), usuarios=None if cluster is None else cluster.usuarios
    )
    # Presence exists before the service too: automatic routing gives tickets to who is connected.
    presenca = presenca or PresencaLocal(settings.presence_grace_seconds)
    servico = servico or ServicoAtendimento(
        storage,
        publicador or publicador_gateway,
        senhas=senhas or senhas_padrao(),
        usuarios_externos=settings.usuarios_externos,
        cache_usuarios_s=settings.usuarios_cache_seconds,
        saida=ConfigSaida(hosts_http=frozenset(settings.webhook_http_hosts)),
        presenca=presenca,
    )
    # Channels out: the relay delivers the outbox to the channels' webhooks (atendimento/webhooks).
    relay = None
    if settings.webhook_relay:
        relay = build_relay(settings, storage, servico)
        on_startup.append(relay.start)
        on_shutdown.append(relay.stop)

    monitoramento = build_monitoring(
        server,
        settings,
        namespace=NAMESPACE,
        descrever=_descrever_socket,
        empresa_de=_empresa_do_socket,
        server_id=None if cluster is None else cluster.instancia,
        redis_ok=None if cluster is None else (lambda: cluster.link.disponivel),
    )
    if cluster is not None and monitoramento.admin is not None:
        # The Admin UI's first list of sockets holds every instance's (a request over Redis).
        from atendimento.cluster.consulta import ConsultaSockets

        consulta = ConsultaSockets(cluster.link, cluster.instancia, monitoramento.admin.sockets_locais)
        monitoramento.admin.listar_remotos = consulta.listar
    store = server.recovery
    if isinstance(store, MemoryRecoveryStore):
        monitoramento.metricas.buffer_recuperacao = lambda: store.used_bytes
    on_startup.append(monitoramento.start)
    on_shutdown.append(monitoramento.stop)

    gateway = build_gateway(
        publicador_gateway,
        servico=servico,
        tokens=tokens,
        settings=settings,
        limiter_storage=limiter_storage,
        presenca=presenca,
        observador=monitoramento.metricas,
        visualizando=visualizando,
    )
    on_shutdown.append(gateway.fechar)
    if cluster is not None:
        # Every socket hears when this instance's backplane degrades and when it is back.
        cluster.link.ao_mudar_disponibilidade(publicador_gateway.sistema_estado)
    emissores = None
    if cluster is not None and settings.emissores:
        emissores = _ligar_emissores(server, cluster.link, gateway, servico, settings)
        on_shutdown.append(emissores.parar)

    api = build_api(
        servico=servico,
        tokens=tokens,
        presenca=gateway.presenca,
        readiness=readiness,
        degradacao=degradation,
        settings=settings,
        cors=cors,
        limitador_login=limitador_login
        or LimitadorLogin(limiter_storage, politica=PoliticaLogin.from_settings(settings)),
        limites=limites_rest(
            limiter_storage,
            por_usuario=settings.rest_rate_limits,
            por_empresa=settings.rest_rate_limits_tenant,
        ),
    )
    coletores = [monitoramento.metricas] if relay is None else [monitoramento.metricas, relay.metricas]
    metricas = build_metrics_app(server, NAMESPACE, settings.resolve_metrics_token(), *coletores)
    # A route (an ASGI app as its endpoint), not a mount: /metrics itself, no redirect to /metrics/.
    api.router.add_route("/metrics", metricas, methods=["GET"], include_in_schema=False)  # type: ignore[arg-type]
    monitoramento.instalar_na_api(api)
    build_console(api)
    return Aplicacao(
        settings=settings,
        storage=storage,
        servico=servico,
        tokens=tokens,
        server=server,
        gateway=gateway,
        api=api,
        monitoramento=monitoramento,
        cluster=cluster,
        emissores=emissores,
        relay=relay,
        _on_startup=on_startup,
        _on_shutdown=on_shutdown,
    )


def _ligar_emissores(
    server: Server, link: Any, gateway: Gateway, servico: ServicoAtendimento, settings: Settings
) -> Any:
    """The CRM's other services publishing through Redis (docs/emitters.md): the cluster reads their
    wire, the gateway applies the contract's rules to this instance's sockets."""
    from atendimento.cluster.emissores import Emissores
    from atendimento.gateway.emissores import ReceptorGateway
    from atendimento.gateway.emissores_indice import IndiceEmpresas

    indice = IndiceEmpresas(NAMESPACE, settings.recovery_window_seconds)
    server.add_monitor(indice)
    emissores = Emissores(
        link,
        ReceptorGateway(gateway.namespace, indice, servico),
        nsp=NAMESPACE,
        ativos=frozenset(settings.emissores),
        prefixo=settings.emissores_prefixo,
        canal_python=settings.emissores_canal_python,
        max_bytes=settings.emissores_max_bytes,
    )
    emissores.assinar()
    return emissores


def _empresa_do_socket(socket: Socket) -> str | None:
    quem = sessao.identidade(socket)
    return None if quem is None else quem.empresa_id


def _descrever_socket(socket: Socket) -> dict[str, Any]:
    """What the Admin UI shows of a socket: who, of which tenant, in which role; never its token."""
    quem = sessao.identidade(socket)
    if quem is None:
        return {}
    return {"usuarioId": quem.usuario_id, "nome": quem.nome, "empresaId": quem.empresa_id, "role": quem.role}


def _drain_check(server: Server) -> VerificacaoProntidao:
    """Not ready while draining: the balancer stops sending new connections here."""

    async def drenagem() -> tuple[str, bool, str | None]:
        return "drenagem", not server.draining, "draining before stop" if server.draining else None

    return drenagem


def _database_check(storage: Storage) -> VerificacaoProntidao:
    async def database() -> tuple[str, bool, str | None]:
        await storage.ping()  # raises StorageUnavailable when the database does not answer
        return "database", True, None

    return database
