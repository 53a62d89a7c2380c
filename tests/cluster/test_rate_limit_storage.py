"""Rate-limit counters shared through Redis, and their fallback to memory while Redis is away."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from atendimento.api.error_responses import ErroApi
from atendimento.api.login_throttle import LimitadorLogin, PoliticaLogin
from atendimento.cluster.rate_limit_storage import ArmazenamentoResiliente, armazenamento_limites, url_limits
from atendimento.gateway.rate_limits import LimiteDigitando

from .apoio_cluster import RedisProprio, porta_livre


def test_url_limits() -> None:
    assert url_limits("redis://127.0.0.1:6379/0") == "async+redis://127.0.0.1:6379/0"
    assert url_limits("rediss://:senha@redis:6380/1") == "async+rediss://:senha@redis:6380/1"
    assert url_limits("unix:///run/redis.sock?db=0") == "async+redis+unix:///run/redis.sock?db=0"
    assert url_limits("redis+cluster://a:7000,b:7001") == "async+redis+cluster://a:7000,b:7001"
    with pytest.raises(ValueError):
        url_limits("memcached://x")


@pytest.fixture
async def duas_instancias(
    backplane: str,
) -> AsyncIterator[tuple[ArmazenamentoResiliente, ArmazenamentoResiliente]]:
    """Two instances' storages on one Redis, and on a Redis Cluster (``limits``' cluster storage)."""
    prefixo = f"teste-limites-{uuid.uuid4().hex[:10]}"
    a = armazenamento_limites(backplane, prefixo=prefixo)
    b = armazenamento_limites(backplane, prefixo=prefixo)
    yield a, b
    await a.reset()
    await a.fechar()
    await b.fechar()


async def test_orcamento_de_digitando_vale_para_o_cluster(
    duas_instancias: tuple[ArmazenamentoResiliente, ArmazenamentoResiliente],
) -> None:
    a, b = (LimiteDigitando(s) for s in duas_instancias)
    permitidos = [await a.consumir("e1", "ana", "t1") for _ in range(6)]
    permitidos += [await b.consumir("e1", "ana", "t1") for _ in range(4)]
    assert permitidos == [None] * 10
    espera = await b.consumir("e1", "ana", "t1")
    assert espera is not None and 0 < espera <= 60_000
    assert await a.consumir("e1", "ana", "t1") is not None
    assert await a.consumir("e2", "ana", "t1") is None  # another tenant: another budget
    assert all(s.falhas == 0 for s in duas_instancias)


async def test_throttle_de_login_vale_para_o_cluster(
    duas_instancias: tuple[ArmazenamentoResiliente, ArmazenamentoResiliente],
) -> None:
    politica = PoliticaLogin(falhas_livres=3)
    a, b = (LimitadorLogin(s, politica=politica) for s in duas_instancias)
    # One account guessed through both instances, from a new address each time: the count is one.
    for i, limitador in enumerate((a, b, a)):
        await limitador.falha(await limitador.reservar("Ana@demo.local", f"10.0.0.{i}"))
    with pytest.raises(ErroApi) as erro:
        await b.reservar("ana@demo.local", "10.0.0.9")
    assert (erro.value.status, erro.value.code) == (429, "LIMITE_EXCEDIDO")
    assert 1 <= int(erro.value.headers["Retry-After"]) <= 60


async def test_sem_redis_os_contadores_ficam_na_memoria() -> None:
    armazenamento = armazenamento_limites(f"redis://127.0.0.1:{porta_livre()}/0", timeout_s=0.2)
    limite = LimiteDigitando(armazenamento, por_minuto=2)
    resultados = [await limite.consumir("e1", "ana", "t1") for _ in range(3)]
    assert resultados[:2] == [None, None] and resultados[2] is not None
    assert armazenamento.falhas >= 1
    assert await armazenamento.check() is False
    await armazenamento.fechar()


async def test_redis_volta_e_os_contadores_voltam_a_ser_compartilhados(redis_proprio: RedisProprio) -> None:
    armazenamento = armazenamento_limites(redis_proprio.url, timeout_s=0.2)
    armazenamento._pausa_s = 0.05  # retry Redis quickly in the test
    limite = LimiteDigitando(armazenamento, por_minuto=100)
    assert await limite.consumir("e1", "ana", "t1") is None
    redis_proprio.matar()
    assert await limite.consumir("e1", "ana", "t1") is None
    assert armazenamento.falhas == 1
    redis_proprio.iniciar()
    await asyncio.sleep(0.1)
    assert await limite.consumir("e1", "ana", "t1") is None
    assert not armazenamento.em_memoria
    assert await armazenamento.check() is True
    await armazenamento.fechar()
