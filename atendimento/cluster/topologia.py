"""Which Redis node a channel lives on: one Redis, or a Redis Cluster, behind one small interface.

``ATENDIMENTO_REDIS_URL`` names one Redis (``redis://``, ``rediss://``, ``unix://``) or a Redis
Cluster (``redis+cluster://host:port[,host:port…]`` seed nodes; ``rediss+cluster://`` for TLS). The
rest of the cluster layer runs the same code on both: sharded pub/sub (``SPUBLISH``/``SSUBSCRIBE``)
on channels whose hash slot decides their node, and Lua scripts whose keys share a ``{tag}``. On one
Redis every channel is on the one node; on a cluster ``no_de`` asks the client's slot map.

Why redis-py (pinned in requirements.in, 8.1.0) rather than coredis: redis-py is what the project
already runs, and its async ``RedisCluster`` routes commands, pipelines and scripts by slot and
refreshes its slot map on MOVED and connection errors (measured here: SPUBLISH in a cluster pipeline,
EVALSHA by declared keys, PUBSUB SHARDNUMSUB per node, all on a 6-node cluster in the tests). Its async
pub/sub on a cluster is recent: redis/redis-py#2219 (async RedisCluster pub/sub) closed only in
2026-04 with PR #3736, and #4038 (2026-04) fixed re-``SSUBSCRIBE`` after a reconnect failing with
``CROSSSLOT`` while the application kept believing it was subscribed; its ``ClusterPubSub`` also polls
nodes round-robin with a timeout each (latency) and moves channels only on slot-map refresh events.
Other clients hit the same walls (redis/node-redis#3098: resubscribe after a shard failover;
redis/go-redis#3806: re-subscribed to a random node after a reconnect). So we use the cluster client
for commands only, and keep the subscriptions ourselves (assinaturas.py): one plain pub/sub
connection per primary, one ``SSUBSCRIBE`` per slot, and our own loop that re-reads the slot map and
moves channels when a node's connection fails or Redis ``SUNSUBSCRIBE``s us (a slot moved). coredis
has had sharded pub/sub longer, but would mean a second client library for the presence scripts, the
limits storage (``limits`` runs on redis-py here) and the tests, for a part we own anyway.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.crc import key_slot
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError

log = logging.getLogger(__name__)

ESQUEMAS_CLUSTER = ("redis+cluster://", "rediss+cluster://")
UNICO = "unico"  # the one node of a single Redis

Cliente = Redis | RedisCluster

# What a Redis call may raise: redis-py's errors, the cluster client's own (``RedisClusterException``
# is not a ``RedisError``: no node reachable, a slot not covered during a failover), the socket's.
ERROS_REDIS: tuple[type[BaseException], ...] = (RedisError, RedisClusterException, OSError)


def e_cluster(url: str) -> bool:
    return url.startswith(ESQUEMAS_CLUSTER)


def nos_semente(url: str) -> tuple[list[tuple[str, int]], dict[str, Any]]:
    """``redis+cluster://[user:pass@]h:p,h:p`` → seed nodes and the connection options they share."""
    partes = urlsplit(url.replace("+cluster", "", 1))
    autoridade = partes.netloc.rsplit("@", 1)
    opcoes: dict[str, Any] = {}
    if len(autoridade) == 2:
        usuario, _, senha = autoridade[0].partition(":")
        if usuario:
            opcoes["username"] = unquote(usuario)
        if senha:
            opcoes["password"] = unquote(senha)
    if partes.scheme == "rediss":
        opcoes["ssl"] = True
    nos: list[tuple[str, int]] = []
    for no in autoridade[-1].split(","):
        host, _, porta = no.strip().rpartition(":")
        if not host or not porta.isdigit():
            raise ValueError(f"a Redis Cluster seed node must be host:port, not {no!r}")
        nos.append((host.strip("[]"), int(porta)))
    return nos, opcoes


def build_redis_client(url: str, *, timeout_s: float = 2.0) -> Cliente:
    """The command client for ``url`` (one Redis or a cluster), bounded timeouts, no automatic
    retries: a PUBLISH or a presence script re-sent after a connection error may already have run."""
    comuns: dict[str, Any] = {
        "socket_connect_timeout": timeout_s,
        "socket_timeout": timeout_s,
        "retry": Retry(NoBackoff(), 0),
    }
    if e_cluster(url):
        nos, opcoes = nos_semente(url)
        return RedisCluster(
            startup_nodes=[ClusterNode(h, p) for h, p in nos],
            # A command that meets a failover fails (no retry, as above) and our loops redo it; our
            # subscription loop re-reads the slot map itself (Topologia.atualizar).
            **opcoes,
            **comuns,
        )
    # A PING on an idle pub/sub connection, so a half-open link is noticed, not waited on forever.
    return Redis.from_url(url, health_check_interval=5, **comuns)


class Topologia:
    """Where each channel is subscribed, and a pub/sub client per node."""

    def __init__(self, cliente: Cliente) -> None:
        self.cliente = cliente
        self.cluster = isinstance(cliente, RedisCluster)
        self._clientes: dict[str, Redis] = {}
        self._iniciado = False

    @staticmethod
    def slot(canal: str) -> int:
        return key_slot(canal.encode())

    async def atualizar(self) -> None:
        """(Re-)read the slot map (at start, after a failover or a slot migration); nothing on one
        Redis."""
        if isinstance(self.cliente, RedisCluster):
            if self._iniciado:
                await self.cliente.nodes_manager.initialize()
            else:
                await self.cliente.initialize()
                self._iniciado = True

    def no_de(self, canal: str) -> str:
        """The node (``host:port``) whose primary owns ``canal``'s slot; ``UNICO`` on one Redis."""
        if isinstance(self.cliente, RedisCluster):
            no = self.cliente.get_node_from_key(canal)
            if no is None:
                raise LookupError(f"no node owns the slot of {canal}")
            return str(no.name)
        return UNICO

    def nos(self) -> list[str]:
        if isinstance(self.cliente, RedisCluster):
            return [str(n.name) for n in self.cliente.get_primaries()]
        return [UNICO]

    def cliente_de(self, no: str) -> Redis:
        """A plain client for one node (pub/sub connections, ``PUBSUB SHARDNUMSUB``)."""
        if isinstance(self.cliente, Redis):
            return self.cliente
        cliente = self._clientes.get(no)
        if cliente is None:
            host, _, porta = no.rpartition(":")
            if not porta.isdigit():  # "?": no slot map yet
                raise RedisConnectionError("no Redis Cluster node known yet (slot map unread)")
            opcoes: dict[str, Any] = {
                k: v
                for k, v in self.cliente.get_connection_kwargs().items()
                if k in ("username", "password", "socket_connect_timeout", "socket_timeout")
            }
            cliente = self._clientes[no] = Redis(
                host=host, port=int(porta), health_check_interval=5, retry=Retry(NoBackoff(), 0), **opcoes
            )
        return cliente

    async def fechar(self) -> None:
        for cliente in self._clientes.values():
            await cliente.aclose()
        self._clientes.clear()
        await self.cliente.aclose()
