"""``ticket:lido {ticketId, ate}``: read state from the socket, told to the reader's other sockets."""

from __future__ import annotations

from apoio_node import ClientesAtendimento

from .apoio_gateway import Produto


async def test_lido_pelo_socket_chega_aos_outros_dispositivos(
    produto: Produto, clientes: ClientesAtendimento
) -> None:
    ticket_id = produto.resumo.tickets[0]
    for nome, email in (("ana", "ana@demo.local"), ("ana2", "ana@demo.local"), ("bruno", "bruno@demo.local")):
        assert (await clientes.conectar(nome, produto.token(email)))["type"] == "connect"
    mensagens = await produto.rest("GET", f"/atendimento/tickets/{ticket_id}/mensagens", "ana@demo.local")
    ate = mensagens[-1]["id"]

    marca = len(clientes.registros)
    ack = await clientes.pedir("ana", "ticket:lido", {"ticketId": ticket_id, "ate": ate})
    assert ack == {"success": True, "ticketId": ticket_id, "ate": ate, "naoLidas": 0}
    aviso = await clientes.esperar_evento("ana2", "ticket:lido", desde=marca)
    assert aviso == {"ticketId": ticket_id, "ate": ate, "naoLidas": 0}
    await clientes.pedir("bruno", "ticket:sair", {"ticketId": "outro"})
    assert clientes.eventos("bruno", "ticket:lido") == []  # someone else's read state
    lista = await produto.rest("GET", "/atendimento/tickets", "ana@demo.local")
    assert {t["id"]: t["naoLidas"] for t in lista}[ticket_id] == 0

    # Refusals: a malformed payload, an unknown message, another tenant's ticket; nothing changes.
    assert (await clientes.pedir("ana", "ticket:lido", {"ticketId": ticket_id}))["code"] == "PAYLOAD_INVALIDO"
    desconhecida = await clientes.pedir("ana", "ticket:lido", {"ticketId": ticket_id, "ate": "x"})
    assert desconhecida["code"] == "MENSAGEM_NAO_ENCONTRADA"
    alheio = await clientes.pedir(
        "ana", "ticket:lido", {"ticketId": produto.resumo.outra_ticket_id, "ate": ate}
    )
    assert alheio["code"] == "TICKET_NAO_ENCONTRADO"
