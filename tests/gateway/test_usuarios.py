"""The database is the authority on sockets too: CONNECT of an absent, demoted or deactivated user is
a CONNECT_ERROR with ``USUARIO_INVALIDO``; a role change or deactivation disconnects the user's open
sockets within seconds (here, one instance; across instances: tests/cluster/test_usuarios.py); a
deactivated user's ``auth:renovar`` is refused. Real socket.io-client (node)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from apoio_node import ClientesAtendimento

from atendimento.gateway.presenca import Atendente, PresencaLocal

from .apoio_gateway import GRACE_TESTES, Produto

ANA, BRUNO, GESTOR = "ana@demo.local", "bruno@demo.local", "gestor@demo.local"


async def test_connect_de_usuario_invalido(produto: Produto, clientes: ClientesAtendimento) -> None:
    r = produto.resumo
    assert produto.servico is not None
    await produto.servico.alterar_usuario(r.empresa_id, produto.id(BRUNO), ativo=False)
    tokens = {
        "ausente": produto.token_de("nao-existe", r.empresa_id, "admin", "Fantasma"),
        "papel": produto.token_de(produto.id("vendas@demo.local"), r.empresa_id, "atendente", "Vendas"),
        "desativado": produto.token(BRUNO),
    }
    for nome, token in tokens.items():
        recusa = await clientes.conectar(nome, token)
        assert recusa["type"] == "connect_error", nome
        assert recusa["message"] == "Unauthorized" and recusa["data"] == {"code": "USUARIO_INVALIDO"}, nome
    # No room got any of them.
    assert produto.sids_em(f"empresa:{r.empresa_id}") == set()


async def test_desativar_e_rebaixar_desconectam(produto: Produto, clientes: ClientesAtendimento) -> None:
    r = produto.resumo
    servico = produto.servico
    assert servico is not None
    for nome, email in (("ana", ANA), ("ana2", ANA), ("gestor", GESTOR), ("bruno", BRUNO)):
        assert (await clientes.conectar(nome, produto.token(email)))["type"] == "connect", nome
    marca = len(clientes.registros)
    await servico.alterar_usuario(r.empresa_id, produto.id(ANA), ativo=False)
    await servico.alterar_usuario(r.empresa_id, produto.id(GESTOR), role="supervisor")
    for nome in ("ana", "ana2", "gestor"):
        saida = await clientes.esperar(
            lambda reg, n=nome: reg.get("client") == n and reg["type"] == "disconnect", desde=marca, prazo=5
        )
        assert saida["reason"] == "io server disconnect", nome
    # Bruno, unchanged, stays; a change of what does not matter to sockets (channels) cuts nobody.
    await servico.alterar_usuario(r.empresa_id, produto.id(BRUNO), canal_ids=frozenset())
    assert (await clientes.pedir("bruno", "ticket:entrar", {"ticketId": r.tickets[0]}))["success"] is True
    assert [x for x in clientes.registros if x.get("client") == "bruno" and x["type"] == "disconnect"] == []
    # Reconnecting with the old tokens: refused.
    for nome, email in (("ana3", ANA), ("gestor2", GESTOR)):
        recusa = await clientes.conectar(nome, produto.token(email))
        assert recusa["type"] == "connect_error" and recusa["data"] == {"code": "USUARIO_INVALIDO"}


async def test_renovar_de_desativado_recusado(produto: Produto, clientes: ClientesAtendimento) -> None:
    r = produto.resumo
    servico = produto.servico
    assert servico is not None
    assert (await clientes.conectar("bruno", produto.token(BRUNO)))["type"] == "connect"
    novo = produto.token(BRUNO)
    # The row alone changes (as a database administrator would), with no announcement, so the socket
    # is still open; the renewal asks the database (the cache is dropped as its TTL would) and refuses.
    async with servico._storage.unidade(r.empresa_id) as repo:
        await repo.alterar_usuario(produto.id(BRUNO), ativo=False)
    servico.esquecer_usuario(r.empresa_id, produto.id(BRUNO))
    ack: Any = await clientes.pedir("bruno", "auth:renovar", {"token": novo})
    assert ack["success"] is False and ack["code"] == "USUARIO_INVALIDO"


async def test_ticket_atualizado_diz_quem_mudou(produto: Produto, clientes: ClientesAtendimento) -> None:
    r = produto.resumo
    assert (await clientes.conectar("bruno", produto.token(BRUNO)))["type"] == "connect"
    marca = len(clientes.registros)
    await produto.rest("PATCH", f"/atendimento/tickets/{r.tickets[0]}", GESTOR, {"prioridade": "urgente"})
    evento = await clientes.esperar_evento("bruno", "ticket:atualizado", desde=marca)
    assert evento["ticketId"] == r.tickets[0] and evento["atualizadoPor"] == produto.id(GESTOR)


class _PresencaQueDesativa(PresencaLocal):
    """Deactivates the user while its handshake is counting it online: the change lands while the
    socket is not accepted yet, where the revision of its sockets cannot see it."""

    def __init__(self) -> None:
        super().__init__(GRACE_TESTES)
        self.durante: Callable[[], Awaitable[None]] | None = None

    async def conectou(self, atendente: Atendente, sid: str) -> None:
        await super().conectou(atendente, sid)
        if self.durante is not None:
            durante, self.durante = self.durante, None
            await durante()


async def test_mudanca_durante_o_handshake(subir: Any, node_instalado: None) -> None:
    presenca = _PresencaQueDesativa()
    produto: Produto = await subir(presenca=presenca)
    servico = produto.servico
    assert servico is not None
    r = produto.resumo

    async def desativar() -> None:
        await servico.alterar_usuario(r.empresa_id, produto.id(ANA), ativo=False)

    presenca.durante = desativar
    clientes = await ClientesAtendimento(produto.url).iniciar()
    try:
        recusa = await clientes.conectar("ana", produto.token(ANA))
        assert recusa["type"] == "connect_error" and recusa["data"] == {"code": "USUARIO_INVALIDO"}
        assert produto.sids_em(f"empresa:{r.empresa_id}") == set()
    finally:
        await clientes.fechar()
