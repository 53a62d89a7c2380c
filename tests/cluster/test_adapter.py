"""The Redis adapter across two engine servers in one process, each with its own Redis link.

Each server is served by uvicorn on its own port; the clients are python-socketio's AsyncClient (the
reference client), so every delivery below crossed a real socket. Each test uses a namespace of its
own, so its channel carries nothing from any other test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
import redis.asyncio as aioredis

from atendimento.cluster.adapter import RedisAdapter
from atendimento.cluster.envelopes import channel
from atendimento.cluster.redis_link import RedisLink, build_redis_client
from atendimento.engine import EVERYONE, Namespace, Reason, Server, Socket, Target
from atendimento.engine.socketio import adapter as engine_adapter

from .apoio_cluster import Caixa, Clientes, ate, servir


@dataclass
class Instancia:
    server: Server
    ns: Namespace
    link: RedisLink
    url: str

    @property
    def adaptador(self) -> RedisAdapter:
        adaptador = self.ns.adapter
        assert isinstance(adaptador, RedisAdapter)
        return adaptador


@dataclass
class Dupla:
    a: Instancia
    b: Instancia
    namespace: str
    clientes: Clientes

    async def conectar(self, instancia: Instancia, *salas: str) -> tuple[str, Caixa]:
        cliente, caixa = await self.clientes.conectar(instancia.url, self.namespace, {"rooms": list(salas)})
        sid = cliente.get_sid(self.namespace)
        assert sid is not None
        return sid, caixa


async def _instancia(
    redis_url: str, namespace: str, nome: str, pilha: contextlib.AsyncExitStack
) -> Instancia:
    link = RedisLink(build_redis_client(redis_url))
    server = Server(adapter_factory=partial(RedisAdapter, link=link, instancia=nome), ping_interval_ms=2000)
    ns = server.of(namespace)

    @ns.on_connect
    def conectar(socket: Socket, auth: dict[str, Any] | None) -> None:
        for sala in (auth or {}).get("rooms", []):
            socket.join(sala)

    await link.start()
    assert await link.esperar_disponivel(5)
    url = await pilha.enter_async_context(servir(server.asgi()))
    return Instancia(server, ns, link, url)


@pytest.fixture
async def dupla(redis_url: str) -> AsyncIterator[Dupla]:
    namespace = f"/teste-{uuid.uuid4().hex[:10]}"
    clientes = Clientes()
    async with contextlib.AsyncExitStack() as pilha:
        a = await _instancia(redis_url, namespace, "instancia-a", pilha)
        b = await _instancia(redis_url, namespace, "instancia-b", pilha)
        try:
            yield Dupla(a, b, namespace, clientes)
        finally:
            await clientes.fechar()
            for instancia in (a, b):
                instancia.server.shutdown()
                await instancia.link.stop()


async def _quieto() -> None:
    """Long enough for a message that should not come to have come: one Redis round trip and a flush."""
    await asyncio.sleep(0.3)


async def test_emit_numa_sala_chega_as_duas_instancias_uma_vez(dupla: Dupla) -> None:
    _, a1 = await dupla.conectar(dupla.a, "sala:x")
    _, a2 = await dupla.conectar(dupla.a, "sala:y")
    _, b1 = await dupla.conectar(dupla.b, "sala:x")
    _, b2 = await dupla.conectar(dupla.b)
    dupla.a.ns.emit("novidade", {"n": 1}, "dois", to="sala:x")
    await ate(lambda: len(a1.de("novidade")) == 1 and len(b1.de("novidade")) == 1)
    await _quieto()
    assert a1.de("novidade") == b1.de("novidade") == [({"n": 1}, "dois")]
    assert a2.eventos == b2.eventos == []
    assert dupla.a.adaptador.recebidas == 0  # its own message came back from Redis and was skipped
    assert dupla.b.adaptador.recebidas == 1


async def test_varias_salas_um_socket_recebe_uma_vez(dupla: Dupla) -> None:
    _, a1 = await dupla.conectar(dupla.a, "r1", "r2")
    _, b1 = await dupla.conectar(dupla.b, "r1", "r2")
    _, b2 = await dupla.conectar(dupla.b, "r2")
    _, b3 = await dupla.conectar(dupla.b, "r3")
    dupla.b.ns.emit("evento", 7, to=["r1", "r2"])
    await ate(lambda: all(len(c.de("evento")) == 1 for c in (a1, b1, b2)))
    await _quieto()
    assert [len(c.de("evento")) for c in (a1, b1, b2, b3)] == [1, 1, 1, 0]


async def test_excecoes_de_salas_e_de_sids_valem_em_todas_as_instancias(dupla: Dupla) -> None:
    _, a1 = await dupla.conectar(dupla.a, "empresa:1", "user:ana")
    _, a2 = await dupla.conectar(dupla.a, "empresa:1")
    sid_b1, b1 = await dupla.conectar(dupla.b, "empresa:1")
    _, b2 = await dupla.conectar(dupla.b, "empresa:1", "user:ana")
    _, b3 = await dupla.conectar(dupla.b, "empresa:1")
    # Everyone in the tenant but ana's sockets (on both instances) and one socket of b, by its sid.
    dupla.a.ns.emit("aviso", "x", to="empresa:1", exclude="user:ana", exclude_sids=sid_b1)
    await ate(lambda: len(a2.de("aviso")) == 1 and len(b3.de("aviso")) == 1)
    await _quieto()
    assert [len(c.de("aviso")) for c in (a1, a2, b1, b2, b3)] == [0, 1, 0, 0, 1]


async def test_emit_para_todos_e_operador_fluente(dupla: Dupla) -> None:
    _, a1 = await dupla.conectar(dupla.a)
    _, b1 = await dupla.conectar(dupla.b, "fora")
    _, b2 = await dupla.conectar(dupla.b)
    dupla.b.ns.emit("geral")
    dupla.a.ns.to("fora").emit("so-fora", 1)
    dupla.a.ns.except_("fora").emit("menos-fora", 2)
    await ate(lambda: len(b2.de("menos-fora")) == 1 and len(b1.de("so-fora")) == 1)
    await _quieto()
    assert [len(c.de("geral")) for c in (a1, b1, b2)] == [1, 1, 1]
    assert [len(c.de("so-fora")) for c in (a1, b1, b2)] == [0, 1, 0]
    assert [len(c.de("menos-fora")) for c in (a1, b1, b2)] == [1, 0, 1]


async def test_emit_para_um_sid_local_nao_vai_ao_redis(dupla: Dupla) -> None:
    sid_a1, a1 = await dupla.conectar(dupla.a)
    await dupla.conectar(dupla.b)
    publicadas_antes = dupla.b.adaptador.recebidas
    dupla.a.ns.emit("so-para-voce", to=sid_a1)
    await ate(lambda: len(a1.de("so-para-voce")) == 1)
    await _quieto()
    assert dupla.b.adaptador.recebidas == publicadas_antes


async def test_pacote_codificado_uma_vez_por_instancia(dupla: Dupla, monkeypatch: pytest.MonkeyPatch) -> None:
    caixas = [(await dupla.conectar(inst, "todos"))[1] for inst in (dupla.a, dupla.b) for _ in range(3)]
    chamadas: list[str] = []
    original: Callable[..., Any] = engine_adapter.encode_event

    def contar(nsp: str, event: str, *resto: Any) -> Any:
        chamadas.append(event)
        return original(nsp, event, *resto)

    monkeypatch.setattr(engine_adapter, "encode_event", contar)
    dupla.a.ns.emit("uma-vez", {"grande": "x" * 1000}, to="todos")
    await ate(lambda: all(len(c.de("uma-vez")) == 1 for c in caixas))
    # Six recipients, two instances: two encodings, one on each.
    assert chamadas == ["uma-vez", "uma-vez"]


async def test_argumentos_binarios_atravessam_o_redis(dupla: Dupla) -> None:
    _, b1 = await dupla.conectar(dupla.b, "bin")
    dupla.a.ns.emit("arquivo", {"nome": "a.bin", "dados": b"\x00\x01\xff"}, b"cru", to="bin")
    await ate(lambda: len(b1.de("arquivo")) == 1)
    assert b1.de("arquivo") == [({"nome": "a.bin", "dados": b"\x00\x01\xff"}, b"cru")]


async def test_desconectar_sala_em_todas_as_instancias(dupla: Dupla) -> None:
    _, a1 = await dupla.conectar(dupla.a, "user:ana")
    _, b1 = await dupla.conectar(dupla.b, "user:ana")
    _, b2 = await dupla.conectar(dupla.b, "user:bruno")
    dupla.a.adaptador.disconnect_sockets(Target.room("user:ana"))
    await asyncio.wait_for(a1.desconectado.wait(), 5)
    await asyncio.wait_for(b1.desconectado.wait(), 5)
    await _quieto()
    assert not b2.desconectado.is_set()
    assert len(dupla.b.ns.sockets) == 1 and not dupla.a.ns.sockets


async def test_entrar_e_sair_de_salas_em_todas_as_instancias(dupla: Dupla) -> None:
    _, a1 = await dupla.conectar(dupla.a, "ticket:1")
    _, b1 = await dupla.conectar(dupla.b, "ticket:1")
    _, b2 = await dupla.conectar(dupla.b, "ticket:2")
    dupla.b.adaptador.sockets_join(frozenset({"arquivados"}), Target.room("ticket:1"))
    await ate(lambda: {"arquivados"} <= set(dupla.a.adaptador.rooms))
    dupla.a.ns.emit("arquivado", to="arquivados")
    await ate(lambda: len(a1.de("arquivado")) == 1 and len(b1.de("arquivado")) == 1)
    dupla.a.adaptador.sockets_leave(frozenset({"arquivados"}), EVERYONE)
    await ate(lambda: "arquivados" not in dupla.b.adaptador.rooms)
    dupla.a.ns.emit("arquivado", to="arquivados")
    await _quieto()
    assert [len(c.de("arquivado")) for c in (a1, b1, b2)] == [1, 1, 0]


async def test_disconnect_room_do_namespace_desconecta_o_usuario_na_outra_instancia(dupla: Dupla) -> None:
    """The engine's own API (no Redis in sight) reaches the user's socket on the other instance."""
    motivos: dict[str, str] = {}
    dupla.b.ns.on_disconnect(lambda socket, motivo: motivos.__setitem__(socket.sid, motivo))
    sid_b1, b1 = await dupla.conectar(dupla.b, "user:x")
    _, b2 = await dupla.conectar(dupla.b, "user:y")
    _, a1 = await dupla.conectar(dupla.a, "user:y")
    dupla.a.ns.disconnect_room("user:x", Reason.SERVER_SHUTTING_DOWN)
    await asyncio.wait_for(b1.desconectado.wait(), 5)
    await ate(lambda: sid_b1 in motivos)
    await _quieto()
    assert motivos == {sid_b1: Reason.SERVER_SHUTTING_DOWN}
    assert not b2.desconectado.is_set() and not a1.desconectado.is_set()
    assert len(dupla.a.ns.sockets) == len(dupla.b.ns.sockets) == 1


async def test_operador_fluente_entra_sai_e_desconecta_em_todas_as_instancias(dupla: Dupla) -> None:
    _, a1 = await dupla.conectar(dupla.a, "ticket:1")
    _, b1 = await dupla.conectar(dupla.b, "ticket:1", "gestor")
    _, b2 = await dupla.conectar(dupla.b, "ticket:1")
    dupla.a.ns.to("ticket:1").except_("gestor").sockets_join("arquivados")
    await ate(lambda: len(dupla.b.ns.sockets_in("arquivados")) == 1)
    assert len(dupla.a.ns.sockets_in("arquivados")) == 1
    dupla.b.ns.in_("arquivados").sockets_leave("arquivados")
    await ate(lambda: not dupla.a.ns.sockets_in("arquivados"))
    dupla.b.ns.to("ticket:1").except_("gestor").disconnect_sockets()
    await asyncio.wait_for(a1.desconectado.wait(), 5)
    await asyncio.wait_for(b2.desconectado.wait(), 5)
    await _quieto()
    assert not b1.desconectado.is_set()


async def test_pedidos_publicados_tem_o_formato_documentado(dupla: Dupla, redis_url: str) -> None:
    """disconnect/join/leave on the wire: the fields of docs/cluster.md, rooms sorted, from one Target."""
    ouvinte = aioredis.Redis.from_url(redis_url)
    pubsub = ouvinte.pubsub()
    try:
        await pubsub.ssubscribe(channel(dupla.namespace))  # sharded pub/sub, as the instances
        alvo = Target(frozenset({"r2", "r1"}), frozenset({"fora"}), frozenset({"sid-9"}))
        dupla.a.adaptador.sockets_join(frozenset({"j2", "j1"}), alvo)
        dupla.a.adaptador.sockets_leave(frozenset({"j1"}), alvo)
        dupla.a.adaptador.disconnect_sockets(alvo, Reason.SERVER_SHUTTING_DOWN)
        recebidas: list[dict[str, Any]] = []
        async with asyncio.timeout(5):
            while len(recebidas) < 3:
                envelope = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                if envelope is not None:
                    recebidas.append(json.loads(envelope["data"]))
    finally:
        await pubsub.aclose()
        await ouvinte.aclose()
    comum = {
        "v": 1,
        "instance": "instancia-a",
        "nsp": dupla.namespace,
        "rooms": ["r1", "r2"],
        "except_rooms": ["fora"],
        "except_sids": ["sid-9"],
    }
    assert recebidas == [
        comum | {"kind": "join", "target_rooms": ["j1", "j2"]},
        comum | {"kind": "leave", "target_rooms": ["j1"]},
        comum | {"kind": "disconnect", "reason": "server shutting down"},
    ]
