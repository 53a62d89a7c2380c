"""``build_cluster``: what the composition root calls when ``settings.redis_url`` is set.

Call it right after building the engine ``Server`` and before ``build_gateway``, so that every
namespace gets the Redis adapter; then pass ``limiter_storage`` and ``presenca`` to the gateway (and
the storage to the login throttle), add ``verificacao_prontidao`` to /ready, and run ``start`` at
ASGI start-up and ``stop`` at shutdown (docs/cluster.md, "Wiring").

Nothing connects in ``build_cluster``; ``start`` does, and a Redis that is down at start-up does not
stop the instance: it serves its own sockets, reports not ready, and joins the cluster when Redis
answers.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from functools import partial

from atendimento.cluster.adapter import RedisAdapter
from atendimento.cluster.particao import EmpresaDaSala
from atendimento.cluster.presenca import BATIMENTO_S, PREFIXO_PRESENCA, PresencaCluster
from atendimento.cluster.rate_limit_storage import ArmazenamentoResiliente, armazenamento_limites
from atendimento.cluster.recuperacao import RecuperacaoRedis
from atendimento.cluster.redis_link import RedisLink
from atendimento.cluster.topologia import build_redis_client
from atendimento.cluster.usuarios import DifusaoUsuariosRedis
from atendimento.cluster.visualizando import PREFIXO_VISUALIZANDO, RegistroCluster
from atendimento.config import Settings
from atendimento.engine import Server
from atendimento.engine.socketio.recovery import MemoryRecoveryStore

log = logging.getLogger(__name__)

# How long start() waits for the first subscription, so that the instance shares its first emits.
ESPERA_INICIAL_S = 3.0


def novo_id_instancia() -> str:
    """Readable in logs and Redis keys (host, pid), unique across restarts (random suffix)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@dataclass
class Cluster:
    """The Redis parts of one instance, and their lifecycle."""

    instancia: str
    server: Server
    link: RedisLink
    presenca: PresencaCluster
    limiter_storage: ArmazenamentoResiliente
    visualizando: RegistroCluster
    usuarios: DifusaoUsuariosRedis
    recuperacao: RecuperacaoRedis | None = None
    espera_inicial_s: float = ESPERA_INICIAL_S

    async def start(self) -> None:
        await self.link.start()
        await self.presenca.start()
        if not await self.link.esperar_disponivel(self.espera_inicial_s):
            log.warning("cluster: Redis does not answer yet; serving local sockets until it does")
        else:
            log.info("cluster: instance %s sharing through Redis", self.instancia)

    async def stop(self) -> None:
        # Presence first: its goodbye is written through the link that is about to close.
        await self.presenca.fechar()
        if self.recuperacao is not None:
            await self.recuperacao.fechar()
        await self.link.stop()
        await self.limiter_storage.fechar()

    @property
    def disponivel(self) -> bool:
        return self.link.disponivel

    def adaptador(self, namespace: str) -> RedisAdapter:
        adaptador = self.server.of(namespace).adapter
        assert isinstance(adaptador, RedisAdapter)
        return adaptador

    def health(self) -> dict[str, object]:
        """``redis: ok | degraded`` and the counters, for /ready details and operators."""
        estado = self.link.estado()
        adaptadores = [n.adapter for n in self.server.namespaces.values()]
        estado["instancia"] = self.instancia
        estado["mensagensDescartadas"] = sum(
            a.descartadas for a in adaptadores if isinstance(a, RedisAdapter)
        )
        estado["presencaFalhas"] = self.presenca.falhas
        return estado

    async def verificacao_prontidao(self) -> tuple[str, bool, str | None]:
        """The API's readiness check: not ready while emits can't be shared (the detail is logged)."""
        if self.link.disponivel:
            return "redis", True, None
        return "redis", False, f"degraded: {self.link.estado().get('erro')}"


def build_cluster(
    server: Server,
    settings: Settings,
    *,
    instancia: str | None = None,
    batimento_s: float = BATIMENTO_S,
    prefixo_presenca: str = PREFIXO_PRESENCA,
    prefixo_visualizando: str = PREFIXO_VISUALIZANDO,
    empresa_da_sala: EmpresaDaSala | None = None,
) -> Cluster:
    """Wire Redis into ``server`` (adapter of every namespace) and build presence and the limit storage.

    ``empresa_da_sala`` (room → tenant, the gateway's naming) partitions fan-out by tenant
    (particao.py); without it every emit goes on the namespace's instance-wide channel.
    ``batimento_s`` and the prefixes are for tests; production keeps the documented defaults.
    """
    if not settings.redis_url:
        raise ValueError("build_cluster needs settings.redis_url")
    instancia = instancia or novo_id_instancia()
    link = RedisLink(build_redis_client(settings.redis_url))
    recuperacao = None
    if isinstance(server.recovery, MemoryRecoveryStore):
        # Sessions saved here can then be recovered by a reconnect that lands on another instance.
        recuperacao = RecuperacaoRedis(
            server.recovery, link, instancia, prazo_s=settings.recovery_handover_timeout_seconds
        )
        server.recovery = recuperacao
    # Every namespace, present (``/`` always is) and future; none has sockets yet.
    server.set_adapter_factory(
        partial(RedisAdapter, link=link, instancia=instancia, empresa_da_sala=empresa_da_sala)
    )
    presenca = PresencaCluster(
        link,
        instancia,
        grace_seconds=settings.presence_grace_seconds,
        batimento_s=batimento_s,
        prefixo=prefixo_presenca,
    )
    visualizando = RegistroCluster(
        link.cliente,
        instancia,
        vivas=lambda: presenca.vivas,
        idade_maxima_s=2 * batimento_s,
        prefixo=prefixo_visualizando,
    )
    # Redis back (after a failover, say): write this instance's viewers again, in case it lost them.
    link.ao_mudar_disponibilidade(visualizando.disponibilidade)
    return Cluster(
        instancia=instancia,
        server=server,
        link=link,
        presenca=presenca,
        limiter_storage=armazenamento_limites(settings.redis_url),
        recuperacao=recuperacao,
        usuarios=DifusaoUsuariosRedis(link, instancia),
        visualizando=visualizando,
    )
