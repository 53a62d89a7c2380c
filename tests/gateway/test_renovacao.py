"""auth:renovar and auth:expirando, with real clients (python-socketio's AsyncClient and the node
socket.io-client) on the real product, with short-lived tokens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
import socketio
from apoio_node import ClientesAtendimento

from atendimento.domain.entidades import iso_utc
from atendimento.gateway.conexao import expirar
from atendimento.gateway.expiracao import AgendaExpiracao
from atendimento.gateway.renovacao import Renovacao
from atendimento.identity.tokens import Identidade, ServicoTokens

from .apoio_gateway import SEGREDO, Produto

NS = "/atendimento"
ANA = "ana@demo.local"


class Cliente:
    """python-socketio's AsyncClient on /atendimento, recording events and its disconnect."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.eventos: list[tuple[float, str, Any]] = []
        self.saiu = asyncio.Event()
        self._chegou = asyncio.Event()

        @self.sio.on("*", namespace=NS)
        async def qualquer(evento: str, dados: Any) -> None:
            self.eventos.append((time.time(), evento, dados))
            self._chegou.set()

        @self.sio.on("disconnect", namespace=NS)
        async def saida(*_: Any) -> None:
            self.saiu.set()

    async def conectar(self, produto: Produto, token: str) -> str:
        await self.sio.connect(
            produto.url, namespaces=[NS], auth={"token": token}, transports=["websocket"], wait_timeout=5
        )
        sid = self.sio.get_sid(NS)
        assert sid is not None
        return sid

    async def renovar(self, payload: Any) -> Any:
        return await self.sio.call("auth:renovar", payload, namespace=NS, timeout=5)

    async def esperar_avisos(self, n: int, prazo: float) -> list[tuple[float, Any]]:
        async def esperar() -> None:
            while len(self.avisos()) < n:
                self._chegou.clear()
                await self._chegou.wait()

        await asyncio.wait_for(esperar(), prazo)
        return self.avisos()

    def avisos(self) -> list[tuple[float, Any]]:
        return [(quando, dados) for quando, evento, dados in self.eventos if evento == "auth:expirando"]


@pytest.fixture
async def cliente() -> AsyncIterator[Cliente]:
    novo = Cliente()
    yield novo
    if novo.sio.connected:
        await novo.sio.disconnect()


def _exp(token: str) -> int:
    return int(jwt.decode(token, options={"verify_signature": False})["exp"])


def _iso(exp: float) -> str:
    return iso_utc(datetime.fromtimestamp(exp, UTC))


async def test_renovacao_aceita_a_conexao_dura_ate_o_novo_exp(subir: Any, node_instalado: None) -> None:
    produto: Produto = await subir(jwt_leeway_seconds=0)
    clientes = await ClientesAtendimento(produto.url).iniciar()
    try:
        curto = produto.token(ANA, ttl=4)
        assert (await clientes.conectar("ana", curto))["type"] == "connect"
        longo = produto.token(ANA, ttl=3600)
        ack = await clientes.pedir("ana", "auth:renovar", {"token": longo})
        assert ack == {"success": True, "expiraEm": _iso(_exp(longo))}
        # Well past the first token's exp (+ leeway 0): still connected, and still served.
        await asyncio.sleep(max(0.0, _exp(curto) - time.time()) + 1.5)
        assert [r for r in clientes.registros if r.get("client") == "ana" and r["type"] == "disconnect"] == []
        ticket_id = produto.resumo.tickets[1]
        assert (await clientes.pedir("ana", "ticket:entrar", {"ticketId": ticket_id}))["success"]
        assert len(produto.gateway.expiracoes) == 1
    finally:
        await clientes.fechar()


async def test_recusas_cada_motivo_e_limite(produto: Produto, cliente: Cliente) -> None:
    token = produto.token(ANA, ttl=3600)
    sid = await cliente.conectar(produto, token)
    prazo = produto.gateway.expiracoes.prazo(sid)
    assert prazo is not None
    r = produto.resumo
    outra_chave = jwt.encode(
        {
            "sub": produto.id(ANA),
            "empresaId": r.empresa_id,
            "role": "atendente",
            "nome": "Ana",
            "exp": int(time.time()) + 7200,
        },
        "outra-chave-secreta-com-mais-de-32-bytes-!!",
        algorithm="HS256",
    )
    # Bad payloads are refused before they cost anything of the budget.
    for payload in ("texto", {}, {"token": 7}, {"token": ""}):
        assert (await cliente.renovar(payload))["code"] == "PAYLOAD_INVALIDO"
    casos = [
        ("outro usuário", produto.token("bruno@demo.local", ttl=7200), "PROIBIDO"),
        (
            "outro tenant",
            produto.token_de(produto.id(ANA), r.outra_empresa_id, "atendente", "Ana"),
            "PROIBIDO",
        ),
        ("expirado", produto.token(ANA, ttl=-3600), "TOKEN_EXPIRADO"),
        ("malformado", "isto.nao.e-um-jwt", "TOKEN_INVALIDO"),
        ("outra chave", outra_chave, "TOKEN_INVALIDO"),
    ]
    for caso, novo, codigo in casos:
        ack = await cliente.renovar({"token": novo})
        assert ack["success"] is False, caso
        assert ack["code"] == codigo, caso
        assert isinstance(ack["error"], str) and ack["error"]
        # The old expiry stands.
        assert produto.gateway.expiracoes.prazo(sid) == prazo, caso
    # Five per minute per socket: the sixth, even with a good token, waits.
    ack = await cliente.renovar({"token": produto.token(ANA, ttl=7200)})
    assert ack["success"] is False and ack["code"] == "LIMITE_EXCEDIDO"
    assert 0 < ack["retryAfterMs"] <= 60_000
    assert produto.gateway.expiracoes.prazo(sid) == prazo
    # Another socket has its own budget.
    outro = Cliente()
    try:
        outro_sid = await outro.conectar(produto, produto.token(ANA, ttl=3600))
        novo = produto.token(ANA, ttl=7200)
        assert (await outro.renovar({"token": novo}))["success"] is True
        assert produto.gateway.expiracoes.prazo(outro_sid) == _exp(novo) + produto.settings.jwt_leeway_seconds
    finally:
        await outro.sio.disconnect()


async def test_sem_renovar_ou_com_renovacao_recusada_a_expiracao_desconecta(
    subir: Any, cliente: Cliente
) -> None:
    produto: Produto = await subir(jwt_leeway_seconds=0)
    token = produto.token(ANA, ttl=2)
    await cliente.conectar(produto, token)
    ack = await cliente.renovar({"token": produto.token("bruno@demo.local", ttl=3600)})
    assert ack["code"] == "PROIBIDO"
    await asyncio.wait_for(cliente.saiu.wait(), 10)
    assert time.time() >= _exp(token) - 0.05
    assert len(produto.gateway.expiracoes) == 0


async def test_auth_expirando_na_metade_e_rearmado_apos_renovar(subir: Any, cliente: Cliente) -> None:
    produto: Produto = await subir(jwt_leeway_seconds=0)
    colega = Cliente()
    await colega.conectar(produto, produto.token("bruno@demo.local", ttl=3600))
    token = produto.token(ANA, ttl=4)
    inicio = time.time()
    await cliente.conectar(produto, token)
    exp = _exp(token)
    [(quando, aviso)] = await cliente.esperar_avisos(1, exp - time.time() + 1)
    # Halfway through what was left at connect (under 2 minutes), and before the exp.
    metade = inicio + (exp - inicio) / 2
    assert metade - 0.3 <= quando < exp, (quando, metade, exp)
    assert aviso["expiraEm"] == _iso(exp)
    assert aviso["segundosRestantes"] == round(exp - quando)
    # Renewed: armed again for the new token, once.
    novo = produto.token(ANA, ttl=4)
    assert (await cliente.renovar({"token": novo}))["success"] is True
    renovado = time.time()
    quando2, aviso2 = (await cliente.esperar_avisos(2, _exp(novo) - time.time() + 1))[1]
    assert aviso2["expiraEm"] == _iso(_exp(novo))
    assert renovado + (_exp(novo) - renovado) / 2 - 0.3 <= quando2 < _exp(novo)
    # Sent to that socket only: a colleague connected all along heard nothing of it.
    assert colega.avisos() == []
    await colega.sio.disconnect()


class _SocketFalso:
    def __init__(self) -> None:
        self.sid = "s1"
        self.emitidos: list[tuple[str, Any]] = []

    def emit(self, evento: str, *args: Any) -> None:
        self.emitidos.append((evento, args))


@pytest.mark.parametrize(
    ("restante", "antecedencia"),
    [(3600, 60.0), (121, 60.0), (120, 60.0), (100, 50.0), (10, 5.0)],
)
async def test_momento_do_aviso(restante: int, antecedencia: float) -> None:
    """60 s before exp at most; with less than two minutes left, halfway through."""
    agora = 1_000_000.0
    tokens = ServicoTokens(["HS256"], SEGREDO, None, 5, 3600)
    renovacao = Renovacao(tokens, 5, AgendaExpiracao(expirar), relogio=lambda: agora)
    try:
        quem = Identidade("u", "e", "atendente", "Ana", exp=int(agora) + restante)
        renovacao._armar_aviso(_SocketFalso(), quem)  # type: ignore[arg-type]
        assert renovacao._avisos.prazo("s1") == pytest.approx(quem.exp - antecedencia)
    finally:
        renovacao.fechar()
