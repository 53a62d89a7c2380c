"""The message format between instances: what we send matches the model, and what we receive is checked.

A malformed or foreign message on the channel is dropped and counted (plain counter and Prometheus),
never crashes the instance and never reaches a client; the instance goes on delivering.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from atendimento.cluster.adapter import RedisAdapter
from atendimento.cluster.envelopes import (
    TAMANHO_MAXIMO,
    Broadcast,
    Desconectar,
    InvalidEnvelope,
    argumentos,
    channel,
    codificar,
    codificar_broadcast,
    decodificar,
)
from atendimento.cluster.redis_link import RedisLink, build_redis_client
from atendimento.engine import Server, Socket

from .apoio_cluster import Clientes, ate, servir

NS = "/atendimento"


def _valida(**extra: Any) -> dict[str, Any]:
    corpo: dict[str, Any] = {
        "v": 1,
        "instance": "outra",
        "nsp": NS,
        "kind": "broadcast",
        "event": "ticket:novo",
        "args": [{"id": "t1"}],
        "rooms": ["empresa:e1:internos"],
    }
    corpo.update(extra)
    return corpo


def test_o_que_enviamos_e_o_que_o_modelo_le() -> None:
    dados = codificar_broadcast("i1", NS, "ticket:novo", ({"id": "t1"},), {"b", "a"}, {"c"}, {"sid1"})
    envelope = decodificar(dados, NS)
    assert isinstance(envelope, Broadcast)
    assert envelope == Broadcast(
        instance="i1",
        nsp=NS,
        event="ticket:novo",
        args=[{"id": "t1"}],
        rooms=["a", "b"],
        except_rooms=["c"],
        except_sids=["sid1"],
    )
    pedido = Desconectar(instance="i1", nsp=NS, rooms=["user:u1"])
    assert decodificar(codificar(pedido), NS) == pedido


def test_binarios_ida_e_volta() -> None:
    dados = codificar_broadcast("i1", NS, "arquivo", ({"a": b"\x00\xff", "b": [b"x"]}, "texto"))
    envelope = decodificar(dados, NS)
    assert isinstance(envelope, Broadcast)
    assert argumentos(envelope) == ({"a": b"\x00\xff", "b": [b"x"]}, "texto")


def test_argumento_que_nao_e_json_nem_bytes() -> None:
    with pytest.raises(ValueError):
        codificar_broadcast("i1", NS, "e", (object(),))
    with pytest.raises(ValueError):
        codificar_broadcast("i1", NS, "e", (float("nan"),))


@pytest.mark.parametrize(
    ("dados", "motivo"),
    [
        (b"\x92\xa3abc", "json"),  # msgpack, e.g. another adapter's format
        (b"nao e json", "json"),
        (b"\xff\xfe", "json"),
        (b"[1, 2]", "json"),
        (json.dumps(_valida(v=2)).encode(), "versao"),
        (json.dumps(_valida(v="1")).encode(), "formato"),
        (json.dumps(_valida(v=True)).encode(), "formato"),
        (json.dumps({k: v for k, v in _valida().items() if k != "v"}).encode(), "formato"),
        (json.dumps(_valida(kind="fetch_sockets")).encode(), "formato"),
        (json.dumps(_valida(event=7)).encode(), "formato"),
        (json.dumps(_valida(event="")).encode(), "formato"),
        (json.dumps(_valida(args="nao-lista")).encode(), "formato"),
        (json.dumps(_valida(rooms="empresa:e1")).encode(), "formato"),
        (json.dumps(_valida(rooms=[1])).encode(), "formato"),
        (json.dumps(_valida(instance="")).encode(), "formato"),
        (json.dumps(_valida(event="connect")).encode(), "formato"),  # reserved: never to a client
        (json.dumps(_valida(event="disconnect")).encode(), "formato"),
        (json.dumps(_valida(nsp="/outro")).encode(), "namespace"),
        (json.dumps(_valida(kind="join", target_rooms=[])).encode(), "formato"),
        (b" " * (TAMANHO_MAXIMO + 1), "tamanho"),
    ],
)
def test_mensagens_recusadas(dados: bytes, motivo: str) -> None:
    with pytest.raises(InvalidEnvelope) as erro:
        decodificar(dados, NS)
    assert erro.value.motivo == motivo


def test_anexo_invalido() -> None:
    envelope = decodificar(
        json.dumps(_valida(args=[{"_placeholder": True, "num": 3}], attachments=["AA=="])).encode(), NS
    )
    assert isinstance(envelope, Broadcast)
    with pytest.raises(InvalidEnvelope):
        argumentos(envelope)
    envelope = decodificar(json.dumps(_valida(attachments=["!!nao-base64"])).encode(), NS)
    assert isinstance(envelope, Broadcast)
    with pytest.raises(InvalidEnvelope):
        argumentos(envelope)


def test_campos_a_mais_sao_ignorados() -> None:
    """An additive field from a newer instance (same ``v``) does not make the message foreign."""
    envelope = decodificar(json.dumps(_valida(prioridade="alta")).encode(), NS)
    assert isinstance(envelope, Broadcast)


# --- on the real channel ---------------------------------------------------------------------------


def _prometheus(motivo: str) -> float:
    return (
        REGISTRY.get_sample_value("atendimento_cluster_mensagens_descartadas_total", {"motivo": motivo}) or 0
    )


@pytest.fixture
async def instancia(redis_url: str) -> AsyncIterator[tuple[Server, str, Redis, str]]:
    """One engine server with the Redis adapter on a namespace of its own, and a raw Redis client."""
    namespace = f"/teste-{uuid.uuid4().hex[:10]}"
    link = RedisLink(build_redis_client(redis_url))
    server = Server(adapter_factory=partial(RedisAdapter, link=link, instancia="instancia-a"))
    ns = server.of(namespace)

    @ns.on_connect
    def conectar(socket: Socket, auth: dict[str, Any] | None) -> None:
        socket.join("empresa:e1:internos")

    await link.start()
    assert await link.esperar_disponivel(5)
    cru = Redis.from_url(redis_url)
    async with contextlib.AsyncExitStack() as pilha:
        url = await pilha.enter_async_context(servir(server.asgi()))
        try:
            yield server, namespace, cru, url
        finally:
            server.shutdown()
            await link.stop()
            await cru.aclose()


async def test_mensagens_estranhas_no_canal_sao_contadas_e_nao_chegam_a_ninguem(
    instancia: tuple[Server, str, Redis, str],
) -> None:
    server, namespace, cru, url = instancia
    adaptador = server.of(namespace).adapter
    assert isinstance(adaptador, RedisAdapter)
    clientes = Clientes()
    try:
        _, caixa = await clientes.conectar(url, namespace)
        antes = {m: _prometheus(m) for m in ("json", "versao", "formato", "namespace")}
        valida = _valida(nsp=namespace)
        estranhas = [
            b"\x92\xa3abc",
            b"{",
            json.dumps(dict(valida, v=99)).encode(),
            json.dumps(dict(valida, event="connect")).encode(),
            json.dumps(dict(valida, rooms={"a": 1})).encode(),
            json.dumps(dict(valida, nsp="/atendimento")).encode(),
            json.dumps(dict(valida, args=[{"_placeholder": True, "num": 0}], attachments=["%%%"])).encode(),
        ]
        for dados in estranhas:
            await cru.spublish(channel(namespace), dados)
        # And a good one after them: the instance is still delivering.
        await cru.spublish(channel(namespace), json.dumps(dict(valida, event="depois")).encode())
        await ate(lambda: len(caixa.eventos) == 1)
        assert caixa.eventos == [("depois", ({"id": "t1"},))]
        assert adaptador.descartadas == len(estranhas)
        assert dict(adaptador.descartadas_por_motivo) == {
            "json": 2,
            "versao": 1,
            "formato": 3,
            "namespace": 1,
        }
        assert _prometheus("json") - antes["json"] == 2
        assert _prometheus("formato") - antes["formato"] == 3
        assert _prometheus("versao") - antes["versao"] == 1
        assert _prometheus("namespace") - antes["namespace"] == 1
        assert adaptador.link.disponivel
    finally:
        await clientes.fechar()


async def test_mensagem_com_o_proprio_id_e_ignorada(instancia: tuple[Server, str, Redis, str]) -> None:
    _, namespace, cru, url = instancia
    clientes = Clientes()
    try:
        _, caixa = await clientes.conectar(url, namespace)
        await cru.spublish(channel(namespace), json.dumps(_valida(nsp=namespace, instance="instancia-a")))
        await cru.spublish(channel(namespace), json.dumps(_valida(nsp=namespace, event="de-outra")))
        await ate(lambda: len(caixa.eventos) == 1)
        assert [e for e, _ in caixa.eventos] == ["de-outra"]
    finally:
        await clientes.fechar()
