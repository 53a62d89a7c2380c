"""Handshake refusals with the contract's codes, header tokens, and the disconnect at token expiry."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from apoio_node import ClientesAtendimento
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from atendimento.gateway import salas

from .apoio_gateway import GRACE_TESTES, SEGREDO, Produto

pytestmark = pytest.mark.node  # the real socket.io-client, run by node


def _b64(dados: bytes) -> str:
    return base64.urlsafe_b64encode(dados).rstrip(b"=").decode()


def _claims(produto: Produto, email: str = "ana@demo.local", **extra: Any) -> dict[str, Any]:
    agora = int(time.time())
    claims = {
        "sub": produto.id(email),
        "empresaId": produto.empresa_de(email),
        "role": "atendente",
        "nome": produto.nome(email),
        "iat": agora,
        "exp": agora + 600,
    }
    claims.update(extra)
    return claims


def _alg_none(produto: Produto) -> str:
    cabecalho = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{cabecalho}.{_b64(json.dumps(_claims(produto)).encode())}."


def _adulterado(produto: Produto) -> str:
    cabecalho, _, assinatura = produto.token("vendas@demo.local").split(".")
    # Same signature, claims raised to admin: must not verify.
    claims = _b64(json.dumps(_claims(produto, "vendas@demo.local", role="admin")).encode())
    return f"{cabecalho}.{claims}.{assinatura}"


def _rs256(produto: Produto) -> str:
    chave = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = chave.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return jwt.encode(_claims(produto), pem, algorithm="RS256")


RECUSAS: list[tuple[str, Any]] = [
    ("sem auth", lambda p: {}),
    ("auth sem token", lambda p: {"auth": {}}),
    ("token vazio", lambda p: {"auth": {"token": ""}}),
    ("token expirado", lambda p: {"auth": {"token": p.token("ana@demo.local", ttl=-3600)}}),
    ("assinatura adulterada", lambda p: {"auth": {"token": _adulterado(p)}}),
    ("alg none", lambda p: {"auth": {"token": _alg_none(p)}}),
    ("HS512", lambda p: {"auth": {"token": jwt.encode(_claims(p), SEGREDO, algorithm="HS512")}}),
    ("RS256 não configurado", lambda p: {"auth": {"token": _rs256(p)}}),
    ("outro segredo", lambda p: {"auth": {"token": jwt.encode(_claims(p), "y" * 48, algorithm="HS256")}}),
    ("sem exp", lambda p: {"auth": {"token": jwt.encode(_claims(p, exp=None), SEGREDO, algorithm="HS256")}}),
    ("token não texto", lambda p: {"auth": {"token": 12345}}),
    ("lixo", lambda p: {"auth": {"token": "não.é.jwt"}}),
    ("cabeçalho não bearer", lambda p: {"extraHeaders": {"authorization": "Basic YW5hOmRlbW8="}}),
    ("token na query", lambda p: {"query": {"token": p.token("ana@demo.local")}}),
    (
        "token na query e auth.token válido",
        lambda p: {
            "auth": {"token": p.token("ana@demo.local")},
            "query": {"token": p.token("ana@demo.local")},
        },
    ),
    (
        "jwt na query com outro nome",
        lambda p: {"auth": {"token": p.token("ana@demo.local")}, "query": {"x": p.token("ana@demo.local")}},
    ),
]
CODIGOS = {
    "sem auth": "TOKEN_AUSENTE",
    "auth sem token": "TOKEN_AUSENTE",
    "token vazio": "TOKEN_AUSENTE",
    "token expirado": "TOKEN_EXPIRADO",
}


# The HS512 case signs with our (HS256-sized) secret on purpose; PyJWT warns about its length.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_handshakes_recusados(produto: Produto, clientes: ClientesAtendimento) -> None:
    for i, (caso, opcoes) in enumerate(RECUSAS):
        for transportes in (["websocket"], ["polling"]):
            resposta = await clientes.conectar(
                f"c{i}-{transportes[0]}", opcoes={**opcoes(produto), "transports": transportes}
            )
            assert resposta["type"] == "connect_error", caso
            assert resposta["message"] == "Unauthorized", caso
            assert resposta["data"] == {"code": CODIGOS.get(caso, "TOKEN_INVALIDO")}, (caso, transportes)
    # No socket was accepted, joined a room, or counted as present.
    assert produto.gateway.namespace.sockets == {}
    assert produto.sids_em(salas.empresa(produto.resumo.empresa_id)) == set()
    assert await produto.gateway.presenca.online(produto.resumo.empresa_id) == set()
    assert len(produto.gateway.expiracoes) == 0


@pytest.mark.parametrize("transportes", [["websocket"], ["polling"], ["polling", "websocket"]])
async def test_token_no_cabecalho_authorization(
    produto: Produto, clientes: ClientesAtendimento, transportes: list[str]
) -> None:
    opcoes = {
        "extraHeaders": {"authorization": f"Bearer {produto.token('ana@demo.local')}"},
        "transports": transportes,
    }
    assert (await clientes.conectar("ana", opcoes=opcoes))["type"] == "connect"
    ticket_id = produto.resumo.tickets[1]
    assert (await clientes.pedir("ana", "ticket:entrar", {"ticketId": ticket_id}))["success"]


async def test_auth_token_prevalece_sobre_o_cabecalho(
    produto: Produto, clientes: ClientesAtendimento
) -> None:
    opcoes = {
        "auth": {"token": produto.token("ana@demo.local")},
        "extraHeaders": {"authorization": f"Bearer {produto.token('vendas@demo.local')}"},
    }
    assert (await clientes.conectar("ana", opcoes=opcoes))["type"] == "connect"
    assert produto.sids_em(salas.atendentes(produto.resumo.empresa_id)) != set()


async def test_expiracao_do_token_desconecta_pelo_servidor(subir: Any, node_instalado: None) -> None:
    produto: Produto = await subir(jwt_leeway_seconds=1)
    clientes = await ClientesAtendimento(produto.url).iniciar()
    try:
        assert (await clientes.conectar("bruno", produto.token("bruno@demo.local")))["type"] == "connect"
        emitido = time.time()
        token = produto.token("ana@demo.local", ttl=2)
        exp = jwt.decode(token, options={"verify_signature": False})["exp"]
        assert (await clientes.conectar("ana", token))["type"] == "connect"
        marca = len(clientes.registros)

        saida = await clientes.esperar(
            lambda r: r.get("client") == "ana" and r["type"] == "disconnect", desde=marca, prazo=10
        )
        fim = time.time()
        assert saida["reason"] == "io server disconnect"
        # At exp + leeway (1 s), not before; the timer may fire a little late, never early.
        assert fim >= exp + 1 - 0.05, (fim, exp)
        assert fim - emitido < 2 + 1 + 3  # generous: CI machines stall
        # Nothing else was cut, and the sweeper keeps only Bruno's deadline.
        assert [
            r for r in clientes.registros if r.get("client") == "bruno" and r["type"] == "disconnect"
        ] == []
        assert len(produto.gateway.expiracoes) == 1
        # For colleagues it is an ordinary departure: atendente:offline after the grace period.
        offline = await clientes.esperar_evento(
            "bruno", "atendente:offline", desde=marca, prazo=GRACE_TESTES + 3
        )
        assert offline["atendenteId"] == produto.id("ana@demo.local")
    finally:
        await clientes.fechar()
