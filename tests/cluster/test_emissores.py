"""The CRM's other services publish with the emitters they already use: an unmodified
``@socket.io/redis-emitter`` 5.1 (node) and python-socketio's write-only managers, against two
instances of the product sharing a redis-server of the test's own, with the real socket.io-client.

Each room form reaches exactly its sockets, on both instances, once, with a recovery offset; ``except``;
socketsJoin/socketsLeave/disconnectSockets; the refusals (whole namespace, unknown event, a room of
another form, oversize, garbage on the channel, another namespace) are counted by both instances and
deliver nothing; and without ``ATENDIMENTO_EMISSORES`` nothing is delivered at all.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
from apoio_node import ClientesAtendimento, ClientesRecuperacao, garantir_node_modules
from apoio_rede import servir_uvicorn
from redis import exceptions as redis_excecoes
from redis.asyncio import Redis

from atendimento.app import Aplicacao, build_app
from atendimento.config import Settings

from .apoio_cluster import RedisProprio, ate
from .apoio_emissores import EmissorNode

pytestmark = pytest.mark.node

SEGREDO = "segredo-dos-testes-de-emissores-com-mais-de-32-bytes"
NS = "/atendimento"


@dataclass
class Montagem:
    a: Aplicacao
    b: Aplicacao
    na: ClientesAtendimento  # ana (atendente) and carla (Outra Empresa) on A
    nb: ClientesAtendimento  # bruno (atendente) and gestor on B
    emissor: EmissorNode
    resumo: Any
    redis_url: str
    chave: str
    canal: str

    def contagem(self, origem: str, resultado: str) -> tuple[int, int]:
        return tuple(  # type: ignore[return-value]
            app.emissores.contagem.get((origem, resultado), 0) for app in (self.a, self.b)
        )

    def recebidos(self, evento: str) -> dict[str, list[Any]]:
        """client → the args of each ``evento`` it received, on both instances."""
        todos: dict[str, list[Any]] = {}
        for nos in (self.na, self.nb):
            for r in nos.eventos(evento=evento):
                todos.setdefault(r["client"], []).append(r["args"])
        return todos

    async def barreira(self, marca: str, clientes: tuple[str, ...] = ("ana", "carla", "bruno")) -> None:
        """An accepted emit to every socket of both tenants' users, waited for on each instance: what was
        published before it has been handled (a subscriber gets messages in publish order)."""
        for sala in ("empresa:" + self.resumo.empresa_id, "empresa:" + self.resumo.outra_empresa_id):
            await self.emissor.emitir([sala], "notificacao", {"tipo": "barreira", "dados": marca})
        for cliente in clientes:
            nos = self.na if cliente in ("ana", "carla") else self.nb
            await nos.esperar(
                lambda r, c=cliente: (
                    r["type"] == "event" and r.get("client") == c and r["args"][0].get("dados") == marca
                )
            )


def _token(app: Aplicacao, resumo: Any, email: str, role: str, empresa: str | None = None) -> str:
    return app.tokens.emitir(resumo.id_de(email), empresa or resumo.empresa_id, role, email)


async def _montar(demo: Any, redis_url: str, tmp_path: Path, **ajustes: Any) -> AsyncIterator[Montagem]:
    garantir_node_modules()
    chave = f"teste-{uuid.uuid4().hex[:8]}.socket.io"
    canal = f"teste-{uuid.uuid4().hex[:8]}-socketio"
    pilha = contextlib.AsyncExitStack()
    try:
        apps, nos = [], []
        for _ in range(2):
            valores: dict[str, Any] = {
                "database_url": demo.banco.app_url,
                "data_dir": tmp_path,
                "jwt_secret": SEGREDO,
                "redis_url": redis_url,
                "presence_grace_seconds": 0.3,
                "emissores": ["node", "python"],
                "emissores_prefixo": chave,
                "emissores_canal_python": canal,
                "emissores_max_bytes": 4096,
            }
            valores.update(ajustes)
            app = build_app(Settings(**valores))
            await app.startup()
            pilha.push_async_callback(app.shutdown)
            url = await pilha.enter_async_context(servir_uvicorn(app.asgi))
            pilha.callback(app.server.shutdown)
            clientes = await ClientesAtendimento(url).iniciar()
            pilha.push_async_callback(clientes.fechar)
            apps.append(app)
            nos.append(clientes)
        emissor = await EmissorNode(redis_url, chave).iniciar()
        pilha.push_async_callback(emissor.fechar)
        r = demo.resumo
        a, b = apps
        assert (await nos[0].conectar("ana", _token(a, r, "ana@demo.local", "atendente")))[
            "type"
        ] == "connect"
        carla = _token(a, r, "carla@outra.local", "atendente", r.outra_empresa_id)
        assert (await nos[0].conectar("carla", carla))["type"] == "connect"
        assert (await nos[1].conectar("bruno", _token(b, r, "bruno@demo.local", "atendente")))[
            "type"
        ] == "connect"
        assert (await nos[1].conectar("gestor", _token(b, r, "gestor@demo.local", "gestor")))[
            "type"
        ] == "connect"
        yield Montagem(a, b, nos[0], nos[1], emissor, r, redis_url, chave, canal)
    finally:
        await pilha.aclose()


@pytest.fixture
async def montagem(demo_sqlite: Any, redis_proprio: RedisProprio, tmp_path: Path) -> AsyncIterator[Montagem]:
    async for m in _montar(demo_sqlite, redis_proprio.url, tmp_path):
        yield m


async def test_cada_forma_de_sala_chega_a_quem_deve_uma_vez_com_offset(montagem: Montagem) -> None:
    m, r = montagem, montagem.resumo
    ticket = r.tickets[0]
    assert (await m.na.pedir("ana", "ticket:entrar", {"ticketId": ticket}))["success"]
    casos = [
        (f"user:{r.id_de('ana@demo.local')}", {"ana"}),
        (f"user:{r.id_de('bruno@demo.local')}", {"bruno"}),
        (f"empresa:{r.empresa_id}", {"ana", "bruno", "gestor"}),
        (f"empresa:{r.empresa_id}:atendentes", {"ana", "bruno"}),
        (f"ticket:{ticket}", {"ana"}),
        (f"empresa:{r.outra_empresa_id}", {"carla"}),
    ]
    for i, (sala, _) in enumerate(casos):
        await m.emissor.emitir([sala], "ticket:atualizado", {"ticketId": ticket, "caso": i})
    await m.barreira("depois-das-salas")
    recebidos = m.recebidos("ticket:atualizado")
    for i, (sala, quem) in enumerate(casos):
        chegaram = {c for c, lista in recebidos.items() for args in lista if args[0]["caso"] == i}
        assert chegaram == quem, (sala, chegaram)
    for lista in recebidos.values():
        assert len({a[0]["caso"] for a in lista}) == len(lista)  # once each
        assert all(len(a) == 2 and isinstance(a[1], str) for a in lista)  # the recovery offset
    # The per-tenant metrics count them as our own emits.
    assert m.a.monitoramento is not None
    assert m.a.monitoramento.metricas.entregues[r.outra_empresa_id, "ticket:atualizado"] == 1
    assert m.contagem("node", "aceito")[0] >= len(casos)


async def test_except_e_varias_salas_so_de_uma_empresa_nomeada(montagem: Montagem) -> None:
    m, r = montagem, montagem.resumo
    bruno = f"user:{r.id_de('bruno@demo.local')}"
    await m.emissor.emitir([f"empresa:{r.empresa_id}"], "notificacao", {"tipo": "x"}, **{"except": [bruno]})
    # Several rooms naming one tenant: each socket once, even in both rooms (ana, bruno).
    salas = [f"empresa:{r.empresa_id}:atendentes", f"empresa:{r.empresa_id}"]
    await m.emissor.emitir(salas, "notificacao", {"tipo": "duas"})
    # Several rooms whose tenant only the sockets tell: refused on every instance alike, even when
    # both are of one tenant (another instance might see other sockets and answer otherwise).
    ana, gestor = f"user:{r.id_de('ana@demo.local')}", f"user:{r.id_de('gestor@demo.local')}"
    await m.emissor.emitir([ana, gestor], "notificacao", {"tipo": "usuarios"})
    await m.emissor.emitir([ana, f"empresa:{r.outra_empresa_id}"], "notificacao", {"tipo": "cruzada"})
    await m.emissor.emitir([*salas, f"empresa:{r.outra_empresa_id}"], "notificacao", {"tipo": "cruzada"})
    await m.barreira("except")
    tipos = {c: [a[0]["tipo"] for a in lista] for c, lista in m.recebidos("notificacao").items()}
    assert "x" in tipos["ana"] and "x" in tipos["gestor"] and "x" not in tipos["bruno"]
    for cliente in ("ana", "bruno", "gestor"):
        assert tipos[cliente].count("duas") == 1, (cliente, tipos[cliente])
    for cliente in ("ana", "bruno", "gestor", "carla"):
        assert not {"usuarios", "cruzada"} & set(tipos[cliente]), (cliente, tipos[cliente])
    await ate(lambda: m.contagem("node", "varias_salas") == (3, 3))


async def test_recusas_contadas_e_nada_entregue(montagem: Montagem) -> None:
    m, r = montagem, montagem.resumo
    ana = f"user:{r.id_de('ana@demo.local')}"
    await m.emissor.emitir([], "notificacao", {"tipo": "todos"})  # the whole namespace
    await m.emissor.emitir([ana], "evento:inventado", {"tipo": "inventado"})
    await m.emissor.emitir([ana], "sistema:estado", {"redis": "degradado"})  # ours, not theirs
    await m.emissor.emitir(["sala-qualquer"], "notificacao", {"tipo": "forma"})
    await m.emissor.emitir([ana], "notificacao", {"tipo": "grande", "dados": "x" * 5000})
    await m.emissor.enviar("emit", nsp="/", rooms=[ana], event="notificacao", args=[{"tipo": "raiz"}])
    redis = Redis.from_url(m.redis_url)
    try:
        await redis.publish(f"{m.chave}#{NS}#", b"\xc1\x00lixo")  # not msgpack
        await redis.publish(f"{m.chave}#{NS}#{ana}#", b"\x93\xa1x\x01\x02")  # msgpack, not the wire
        await redis.publish(f"{m.chave}-request#{NS}#", b"{nem json")
        await redis.publish(m.canal, b"\x00\x01")
    finally:
        await redis.aclose()
    await m.barreira("recusas")
    for cliente in ("ana", "bruno", "carla", "gestor"):
        tipos = [a[0].get("tipo") for a in m.recebidos("notificacao").get(cliente, [])]
        assert set(tipos) <= {"barreira"}, (cliente, tipos)
    assert m.na.eventos(evento="evento:inventado") == []
    for resultado, vezes in [("sem_sala", 1), ("evento", 2), ("sala", 1), ("grande", 1), ("malformada", 3)]:
        await ate(lambda res=resultado, n=vezes: m.contagem("node", res) == (n, n))
    await ate(lambda: m.contagem("python", "malformada") == (1, 1))


async def test_sockets_join_leave_e_disconnect(montagem: Montagem) -> None:
    m, r = montagem, montagem.resumo
    ana, bruno = f"user:{r.id_de('ana@demo.local')}", f"user:{r.id_de('bruno@demo.local')}"
    ticket = r.tickets[1]
    await m.emissor.enviar("join", rooms=[ana], target=[f"ticket:{ticket}"])
    await ate(lambda: m.contagem("node", "aceito")[0] >= 1)
    await m.emissor.emitir([f"ticket:{ticket}"], "ticket:status", {"ticketId": ticket, "status": "aberto"})
    assert (await m.na.esperar_evento("ana", "ticket:status"))["ticketId"] == ticket
    # Another tenant's ticket, an identity room, no room at all: refused, nobody joins.
    await m.emissor.enviar("join", rooms=[ana], target=[f"ticket:{r.outra_ticket_id}"])
    await m.emissor.enviar("join", rooms=[ana], target=[f"empresa:{r.outra_empresa_id}"])
    await m.emissor.enviar("join", rooms=[], target=[f"ticket:{ticket}"])
    await ate(lambda: m.contagem("node", "sala_alvo")[0] == 2 and m.contagem("node", "sem_sala")[0] == 1)
    assert not any(f"ticket:{r.outra_ticket_id}" in s.rooms for s in m.a.gateway.namespace.sockets.values())
    await m.emissor.enviar("leave", rooms=[ana], target=[f"ticket:{ticket}"])
    await ate(lambda: not any(f"ticket:{ticket}" in s.rooms for s in m.a.gateway.namespace.sockets.values()))
    await m.emissor.enviar("disconnect", rooms=[bruno], close=False)
    registro = await m.nb.esperar(lambda x: x["type"] == "disconnect" and x.get("client") == "bruno")
    assert registro["reason"] == "io server disconnect"
    await m.emissor.enviar("disconnect", rooms=[], close=True)  # every socket: refused
    await m.barreira("depois-do-disconnect", ("ana", "carla", "gestor"))
    assert m.nb.of("gestor", "disconnect") == [] and m.na.of("ana", "disconnect") == []


async def test_python_socketio_write_only(montagem: Montagem) -> None:
    m, r = montagem, montagem.resumo
    ana = f"user:{r.id_de('ana@demo.local')}"
    gestor = socketio.AsyncRedisManager(m.redis_url, channel=m.canal, write_only=True)
    await gestor.emit("notificacao", {"tipo": "async"}, namespace=NS, room=ana)
    await gestor.emit("notificacao", {"tipo": "todos"}, namespace=NS)  # refused: no room
    await gestor.emit("notificacao", {"tipo": "raiz"}, room=ana)  # namespace "/": refused
    await gestor.emit("mensagem:inventada", {"tipo": "x"}, namespace=NS, room=ana)
    sincrono = socketio.RedisManager(m.redis_url, channel=m.canal, write_only=True)
    sincrono.emit("notificacao", {"tipo": "sync"}, namespace=NS, room=f"empresa:{r.empresa_id}:atendentes")
    await m.barreira("python")
    tipos = {c: [a[0]["tipo"] for a in lista] for c, lista in m.recebidos("notificacao").items()}
    assert [t for t in tipos["ana"] if t != "barreira"] == ["async", "sync"]
    assert [t for t in tipos["bruno"] if t != "barreira"] == ["sync"]
    assert [t for t in tipos["gestor"] if t != "barreira"] == []
    for resultado in ("sem_sala", "namespace", "evento"):
        await ate(lambda res=resultado: m.contagem("python", res) == (1, 1))


async def test_desligado_por_omissao(demo_sqlite: Any, redis_proprio: RedisProprio, tmp_path: Path) -> None:
    async for m in _montar(demo_sqlite, redis_proprio.url, tmp_path, emissores=[]):
        assert m.a.emissores is None and m.b.emissores is None
        ana = f"user:{m.resumo.id_de('ana@demo.local')}"
        await m.emissor.emitir([ana], "notificacao", {"tipo": "desligado"})
        python = socketio.AsyncRedisManager(m.redis_url, channel=m.canal, write_only=True)
        await python.emit("notificacao", {"tipo": "desligado"}, namespace=NS, room=ana)
        # A REST-published event afterwards arrives; the emitters' never do.
        gestor = _token(m.b, m.resumo, "gestor@demo.local", "gestor")
        async with httpx.AsyncClient(base_url=m.na.base_url) as http:
            resposta = await http.post(
                "/notificacoes",
                json={"usuarioId": m.resumo.id_de("ana@demo.local"), "tipo": "rest"},
                headers={"Authorization": f"Bearer {gestor}"},
            )
            assert resposta.status_code == 202, resposta.text
        await m.na.esperar(lambda x: x["type"] == "event" and x["args"][0].get("tipo") == "rest")
        assert [a[0]["tipo"] for a in m.recebidos("notificacao")["ana"]] == ["rest"]


def acl_do_emissor(usuario: str, senha: str, chave: str, canal: str) -> list[str]:
    """docs/emitters.md's ACL: PUBLISH (and PING) on the emitters' channels of /atendimento, nothing else."""
    return [
        *("ACL", "SETUSER", usuario, "reset", "on", f">{senha}", "resetchannels"),
        *(f"&{chave}#/atendimento#*", f"&{chave}-request#/atendimento#", f"&{canal}"),
        *("-@all", "+publish", "+ping"),
    ]


async def test_acl_so_publish_nos_canais_dos_emissores(montagem: Montagem) -> None:
    m, r = montagem, montagem.resumo
    usuario, senha = f"emissor-teste-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    admin = Redis.from_url(m.redis_url)
    await admin.execute_command(*acl_do_emissor(usuario, senha, m.chave, m.canal))
    porta = m.redis_url.rsplit(":", 1)[1].split("/")[0]
    url = f"redis://{usuario}:{senha}@127.0.0.1:{porta}/0"
    emissor = await EmissorNode(url, m.chave).iniciar()
    restrito = Redis.from_url(url)
    try:
        ana = f"user:{r.id_de('ana@demo.local')}"
        await emissor.emitir([ana], "notificacao", {"tipo": "acl-node"})
        python = socketio.AsyncRedisManager(url, channel=m.canal, write_only=True)
        await python.emit("notificacao", {"tipo": "acl-python"}, namespace=NS, room=ana)
        await m.barreira("acl")
        tipos = [a[0]["tipo"] for a in m.recebidos("notificacao")["ana"]]
        assert "acl-node" in tipos and "acl-python" in tipos
        assert await restrito.publish(m.canal, b"{}") >= 0  # allowed (and refused by us as malformed)
        recusados = [
            ("GET", "x"),
            ("SET", "x", "1"),
            ("KEYS", "*"),
            ("PUBLISH", "outro-canal", "x"),
            ("PUBLISH", f"{m.chave}#/admin#", "x"),
            ("SUBSCRIBE", m.canal),
            ("CONFIG", "GET", "*"),
            ("ACL", "LIST"),
        ]
        for comando in recusados:
            with pytest.raises(redis_excecoes.NoPermissionError):
                await restrito.execute_command(*comando)
    finally:
        await emissor.fechar()
        await restrito.aclose()
        await admin.execute_command("ACL", "DELUSER", usuario)
        await admin.aclose()


async def test_emissao_enquanto_fora_volta_na_recuperacao(montagem: Montagem) -> None:
    """A socket that dropped is still its ticket's for the recovery window: an emitter's emit meanwhile
    is kept, and replayed in order when it comes back recovered (as our own emits are)."""
    m, r = montagem, montagem.resumo
    ticket = r.tickets[2]
    nos = await ClientesRecuperacao(m.na.base_url).iniciar()
    try:
        opcoes = {
            "auth": {"token": _token(m.a, r, "ana@demo.local", "atendente")},
            "transports": ["websocket"],
            "reconnectionDelay": 2000,
            "randomizationFactor": 0,
        }
        primeiro = await nos.conectar("ana2", opcoes=opcoes)
        assert primeiro["type"] == "connect"
        assert (await nos.pedir("ana2", "ticket:entrar", {"ticketId": ticket}))["success"]
        inicio = len(nos.registros)
        nos.drop("ana2")
        await ate(lambda: primeiro["id"] not in m.a.gateway.namespace.sockets)
        for i in range(3):
            await m.emissor.emitir([f"ticket:{ticket}"], "ticket:status", {"ticketId": ticket, "i": i})
        volta = await nos.esperar(
            lambda x: x.get("client") == "ana2" and x["type"] == "connect", desde=inicio, prazo=15
        )
        assert volta["recovered"] is True and volta["id"] == primeiro["id"]
        await ate(lambda: len(nos.eventos("ana2", "ticket:status")) == 3)
        assert [x["args"][0]["i"] for x in nos.eventos("ana2", "ticket:status")] == [0, 1, 2]
    finally:
        await nos.fechar()
