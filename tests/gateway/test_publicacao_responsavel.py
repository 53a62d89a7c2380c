"""The assignee hears every message of its tickets without joining their rooms: ``mensagem:nova``
also goes to ``user:{atendenteId}``, once per socket, and the assignee does not show as viewing."""

from __future__ import annotations

from apoio_node import ClientesAtendimento

from .apoio_gateway import Produto


async def test_responsavel_ouve_sem_entrar_uma_vez_por_socket(
    produto: Produto, clientes: ClientesAtendimento
) -> None:
    ticket_id = produto.resumo.tickets[1]  # assigned to Ana
    for nome, email in (("ana", "ana@demo.local"), ("ana2", "ana@demo.local"), ("bruno", "bruno@demo.local")):
        assert (await clientes.conectar(nome, produto.token(email)))["type"] == "connect"

    # Nobody joined: Ana's two sockets hear it through her user room; Bruno (not the assignee) does not.
    marca = len(clientes.registros)
    criada = await produto.rest(
        "POST", f"/atendimento/tickets/{ticket_id}/mensagens", "gestor@demo.local", {"conteudo": "um"}
    )
    assert await clientes.esperar_evento("ana", "mensagem:nova", desde=marca) == criada
    assert await clientes.esperar_evento("ana2", "mensagem:nova", desde=marca) == criada

    # Bruno enters the room: the viewers are Bruno alone (Ana hears the ticket but is not viewing it).
    marca = len(clientes.registros)
    assert (await clientes.pedir("bruno", "ticket:entrar", {"ticketId": ticket_id}))["success"]
    visto = await clientes.esperar_evento("bruno", "ticket:visualizando", desde=marca)
    assert [u["usuarioNome"] for u in visto["usuarios"]] == ["Bruno Lima"]

    # Ana's first socket joins the room too: in both rooms, it still gets each message once.
    assert (await clientes.pedir("ana", "ticket:entrar", {"ticketId": ticket_id}))["success"]
    marca = len(clientes.registros)
    await produto.rest(
        "POST", f"/atendimento/tickets/{ticket_id}/mensagens", "bruno@demo.local", {"conteudo": "dois"}
    )
    for quem in ("ana", "ana2", "bruno"):
        await clientes.esperar_evento(quem, "mensagem:nova", desde=marca)
    for quem in ("ana", "ana2", "bruno"):  # a round trip each: a duplicate would have arrived by now
        await clientes.pedir(quem, "ticket:sair", {"ticketId": "outro"})
    for quem in ("ana", "ana2", "bruno"):
        conteudos = [r["args"][0]["conteudo"] for r in clientes.eventos(quem, "mensagem:nova")]
        assert conteudos == (["um", "dois"] if quem != "bruno" else ["dois"])


async def test_sem_responsavel_so_a_sala(produto: Produto, clientes: ClientesAtendimento) -> None:
    ticket_id = produto.resumo.tickets[0]  # no atendente
    assert (await clientes.conectar("ana", produto.token("ana@demo.local")))["type"] == "connect"
    marca = len(clientes.registros)
    await produto.rest(
        "POST", f"/atendimento/tickets/{ticket_id}/mensagens", "gestor@demo.local", {"conteudo": "x"}
    )
    await clientes.esperar_evento("ana", "mensagem:nao-atribuida", desde=marca)
    await clientes.pedir("ana", "ticket:sair", {"ticketId": "outro"})
    assert clientes.eventos("ana", "mensagem:nova") == []


async def test_atendente_desativado_e_desconectado(produto: Produto, clientes: ClientesAtendimento) -> None:
    """Provisioning deactivates Ana: each of her sockets is closed by the server at once; Bruno's stay."""
    for nome, email in (("ana", "ana@demo.local"), ("ana2", "ana@demo.local"), ("bruno", "bruno@demo.local")):
        assert (await clientes.conectar(nome, produto.token(email)))["type"] == "connect"
    marca = len(clientes.registros)
    await produto.rest(
        "PATCH",
        f"/atendimento/usuarios/{produto.id('ana@demo.local')}",
        "gestor@demo.local",
        {"ativo": False},
    )
    for nome in ("ana", "ana2"):
        saida = await clientes.esperar(
            lambda r, n=nome: r.get("client") == n and r["type"] == "disconnect", desde=marca, prazo=10
        )
        assert saida["reason"] == "io server disconnect"
    await clientes.pedir("bruno", "ticket:sair", {"ticketId": "outro"})
    assert [r for r in clientes.registros if r.get("client") == "bruno" and r["type"] == "disconnect"] == []
    # Her login is refused from now on.
    resposta = await produto.http.post("/auth/login", json={"email": "ana@demo.local", "senha": "demo-senha"})
    assert resposta.status_code == 401
