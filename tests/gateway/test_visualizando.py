"""``ticket:visualizando``: who has a ticket open, with the real socket.io-client (one instance; the
cluster tests cover two instances over Redis)."""

from __future__ import annotations

from apoio_node import ClientesAtendimento

from .apoio_gateway import Produto

EVENTO = "ticket:visualizando"


def _nomes(payload: dict[str, object]) -> list[str]:
    return [u["usuarioNome"] for u in payload["usuarios"]]  # type: ignore[attr-defined,index]


async def test_entrar_sair_segunda_aba_e_desconexao(produto: Produto, clientes: ClientesAtendimento) -> None:
    ticket = produto.resumo.tickets[0]
    for nome, email in (("ana", "ana@demo.local"), ("ana2", "ana@demo.local"), ("bruno", "bruno@demo.local")):
        assert (await clientes.conectar(nome, produto.token(email)))["type"] == "connect"

    marca = len(clientes.registros)
    assert (await clientes.pedir("ana", "ticket:entrar", {"ticketId": ticket}))["success"]
    primeiro = await clientes.esperar_evento("ana", EVENTO, desde=marca)
    assert primeiro == {
        "ticketId": ticket,
        "usuarios": [{"usuarioId": produto.id("ana@demo.local"), "usuarioNome": "Ana Souza"}],
    }

    # Bruno enters: both hear the new set (by name).
    marca = len(clientes.registros)
    await clientes.pedir("bruno", "ticket:entrar", {"ticketId": ticket})
    assert _nomes(await clientes.esperar_evento("ana", EVENTO, desde=marca)) == ["Ana Souza", "Bruno Lima"]
    assert _nomes(await clientes.esperar_evento("bruno", EVENTO, desde=marca)) == ["Ana Souza", "Bruno Lima"]

    # Ana's second tab: the set does not change, so the room hears nothing; the new tab is told.
    marca = len(clientes.registros)
    await clientes.pedir("ana2", "ticket:entrar", {"ticketId": ticket})
    assert _nomes(await clientes.esperar_evento("ana2", EVENTO, desde=marca)) == ["Ana Souza", "Bruno Lima"]
    # Ana's first tab leaves: she still has the ticket open in the other one; nothing either.
    await clientes.pedir("ana", "ticket:sair", {"ticketId": ticket})
    await clientes.pedir("ana", "ticket:sair", {"ticketId": ticket})  # a repeated leave changes nothing
    # Her last socket in the room goes away: Bruno is told at once (no grace period here).
    await clientes.desconectar("ana2")
    depois = await clientes.esperar_evento("bruno", EVENTO, desde=marca)
    assert _nomes(depois) == ["Bruno Lima"]
    assert (
        len([r for r in clientes.registros[marca:] if r.get("event") == EVENTO and r["client"] == "bruno"])
        == 1
    )
    # Ana (left with ticket:sair) hears no more of this ticket's room.
    assert [r for r in clientes.registros[marca:] if r.get("event") == EVENTO and r["client"] == "ana"] == []

    # Bruno leaves with ticket:sair: nobody is left to tell; the registry forgets the ticket.
    await clientes.pedir("bruno", "ticket:sair", {"ticketId": ticket})
    assert produto.gateway.visualizando.registro.todos() == []  # type: ignore[attr-defined]


async def test_quem_nao_entrou_nao_conta_nem_ouve(produto: Produto, clientes: ClientesAtendimento) -> None:
    ticket = produto.resumo.tickets[0]
    await clientes.conectar("carla", produto.token("carla@outra.local"))
    await clientes.conectar("vendas", produto.token("vendas@demo.local"))
    await clientes.conectar("ana", produto.token("ana@demo.local"))
    # Another tenant's atendente and a non-internal role are refused: they are not counted.
    assert (await clientes.pedir("carla", "ticket:entrar", {"ticketId": ticket}))["success"] is False
    assert (await clientes.pedir("vendas", "ticket:entrar", {"ticketId": ticket}))["success"] is False
    marca = len(clientes.registros)
    await clientes.pedir("ana", "ticket:entrar", {"ticketId": ticket})
    assert _nomes(await clientes.esperar_evento("ana", EVENTO, desde=marca)) == ["Ana Souza"]
    await clientes.pedir("carla", "ticket:sair", {"ticketId": ticket})  # leaving a room never joined
    await clientes.pedir("ana", "ticket:sair", {"ticketId": "barreira"})
    assert clientes.eventos("carla", EVENTO) == [] and clientes.eventos("vendas", EVENTO) == []
    assert len(clientes.eventos("ana", EVENTO)) == 1
