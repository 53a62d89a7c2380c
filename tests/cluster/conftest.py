"""Fixtures of the cluster tests: the real Redis (never mocked), and Redis servers of their own.

When Redis does not answer on 127.0.0.1:6379 the tests fail, they never skip: the cluster layer has
nothing to test without it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis

from .apoio_cluster import REDIS_URL, RedisProprio
from .apoio_redis_cluster import RedisClusterProprio


@pytest.fixture(scope="session")
def redis_url() -> str:
    cliente = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        cliente.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis does not answer at {REDIS_URL} ({exc}); start it (see .ci/run)")
    finally:
        cliente.close()
    return REDIS_URL


@pytest.fixture
def prefixo() -> str:
    """A key prefix of the test's own, so tests never see each other's keys."""
    return f"teste:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def redis_proprio() -> Iterator[RedisProprio]:
    """A redis-server of the test's own on a free port, which the test may kill and restart."""
    servidor = RedisProprio()
    servidor.iniciar()
    try:
        yield servidor
    finally:
        servidor.encerrar()


@pytest.fixture
async def limpar_prefixo(redis_url: str, prefixo: str) -> AsyncIterator[str]:
    yield prefixo
    cliente = redis.asyncio.Redis.from_url(redis_url)
    try:
        chaves = [c async for c in cliente.scan_iter(match=f"{prefixo}*")]
        if chaves:
            await cliente.delete(*chaves)
    finally:
        await cliente.aclose()


@pytest.fixture(scope="module")
def redis_cluster() -> Iterator[RedisClusterProprio]:
    """A real 6-node Redis Cluster (3 primaries, 3 replicas) of the module's own; a test that kills a
    node takes ``redis_cluster_proprio`` instead."""
    cluster = RedisClusterProprio()
    try:
        cluster.iniciar()
        yield cluster
    finally:
        cluster.encerrar()


@pytest.fixture
def redis_cluster_proprio() -> Iterator[RedisClusterProprio]:
    cluster = RedisClusterProprio()
    try:
        cluster.iniciar()
        yield cluster
    finally:
        cluster.encerrar()


@pytest.fixture(params=["redis", "cluster"])
def backplane(request: pytest.FixtureRequest) -> str:
    """The same test on one Redis 7 (a redis-server of its own) and on a Redis Cluster: one code path."""
    if request.param == "redis":
        servidor: RedisProprio = request.getfixturevalue("redis_proprio")
        return servidor.url
    cluster: RedisClusterProprio = request.getfixturevalue("redis_cluster")
    return cluster.url
