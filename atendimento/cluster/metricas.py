"""Prometheus counters of the cluster layer, registered once per process on the default registry.

They are process-wide: tests that run two instances in one process read the plain counters on each
object (``RedisLink.nao_compartilhadas``, ``RedisAdapter.descartadas``…) instead.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

MENSAGENS_DESCARTADAS = Counter(
    "atendimento_cluster_mensagens_descartadas",
    "Messages from the Redis channel dropped on receipt (malformed, foreign, unknown version).",
    ["motivo"],
)
EMISSOES_NAO_COMPARTILHADAS = Counter(
    "atendimento_cluster_emissoes_nao_compartilhadas",
    "Emits delivered only to this instance's sockets because they could not be published to Redis.",
    ["motivo"],
)
RECONEXOES = Counter(
    "atendimento_cluster_reconexoes",
    "Times the Redis subscription was re-established after a failure.",
)
REDIS_DISPONIVEL = Gauge(
    "atendimento_cluster_redis_disponivel",
    "1 while this instance shares emits through Redis, 0 while it serves only its own sockets.",
)
PRESENCA_FALHAS = Counter(
    "atendimento_cluster_presenca_falhas",
    "Presence updates that could not reach Redis (re-synchronised when it comes back).",
)
BACKPLANE_RECEBIDAS = Counter(
    "atendimento_backplane_recebidas",
    "Messages this instance read from Redis (every channel it subscribes to, its own echoes included).",
)
BACKPLANE_DESCARTADAS = Counter(
    "atendimento_backplane_descartadas",
    "Messages read from Redis that reached no socket of this instance (its own echoes included).",
)
