"""ServicoAtendimento on real databases (SQLite and PostgreSQL, each test on both), demo data loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from atendimento.domain.erros import DadosInvalidos, NaoEncontrado, Proibido, TransicaoInvalida
from atendimento.domain.servicos import ServicoAtendimento

if TYPE_CHECKING:
    from conftest import BancoDemo


def _srv(demo: BancoDemo) -> ServicoAtendimento:
    return demo.servico()


# --- identity ---------------------------------------------------------------------------------


async def test_autenticar(banco_demo: BancoDemo) -> None:
    s, r = _srv(banco_demo), banco_demo.resumo
    ana = await s.autenticar(" ANA@demo.local", "demo-senha")
    assert ana is not None and ana.id == r.id_de("ana@demo.local") and ana.empresa_id == r.empresa_id
    assert ana.role == "atendente" and ana.nome
    carla = await s.autenticar("carla@outra.local", "demo-senha")
    assert carla is not None and carla.empresa_id == r.outra_empresa_id
    assert await s.autenticar("ana@demo.local", "senha-errada") is None
    assert await s.autenticar("ninguem@demo.local", "demo-senha") is None
    for email, senha in [(None, "x"), ("ana@demo.local", None), ("", ""), ("ana@demo.local", "x" * 5000)]:
        assert await s.autenticar(email, senha) is None


async def test_usuarios_e_atendentes_por_empresa(banco_demo: BancoDemo) -> None:
    s, r = _srv(banco_demo), banco_demo.resumo
    gestor = await s.obter_usuario(r.empresa_id, r.id_de("gestor@demo.local"))
    assert gestor is not None and gestor.role == "gestor"
    assert await s.obter_usuario(r.empresa_id, r.id_de("carla@outra.local")) is None
    atendentes = await s.listar_atendentes(r.empresa_id)
    assert sorted(a.email for a in atendentes) == ["ana@demo.local", "bruno@demo.local"]
    assert [a.email for a in await s.listar_atendentes(r.outra_empresa_id)] == ["carla@outra.local"]


async def test_definir_status_atendente(banco_demo: BancoDemo) -> None:
    s, r = _srv(banco_demo), banco_demo.resumo
    ana = r.id_de("ana@demo.local")
    atualizado, mudou = await s.definir_status_atendente(r.empresa_id, ana, "ocupado")
    assert atualizado.status_atendimento == "ocupado" and mudou
    relido = await s.obter_usuario(r.empresa_id, ana)
    assert relido is not None and relido.status_atendimento == "ocupado"
    mesmo, mudou = await s.definir_status_atendente(r.empresa_id, ana, "ocupado")
    assert mesmo.status_atendimento == "ocupado" and not mudou  # the same status again: nothing new
    with pytest.raises(DadosInvalidos):
        await s.definir_status_atendente(r.empresa_id, ana, "dormindo")
    with pytest.raises(Proibido):
        await s.definir_status_atendente(r.empresa_id, r.id_de("gestor@demo.local"), "online")
    with pytest.raises(NaoEncontrado) as erro:
        await s.definir_status_atendente(r.empresa_id, r.id_de("carla@outra.local"), "online")
    assert erro.value.code == "USUARIO_NAO_ENCONTRADO"


# --- tickets ----------------------------------------------------------------------------------


async def test_ticket_existe_so_no_proprio_tenant(banco_demo: BancoDemo) -> None:
    s, r = _srv(banco_demo), banco_demo.resumo
    assert await s.ticket_existe(r.empresa_id, r.tickets[0])
    assert not await s.ticket_existe(r.empresa_id, r.outra_ticket_id)
    assert not await s.ticket_existe(r.empresa_id, "nao-existe")
    assert await s.ticket_existe(r.outra_empresa_id, r.outra_ticket_id)
    with pytest.raises(DadosInvalidos):
        await s.ticket_existe(r.empresa_id, "x" * 65)


async def test_listar_tickets_com_filtros(banco_demo: BancoDemo) -> None:
    s, r = _srv(banco_demo), banco_demo.resumo
    todos = await s.listar_tickets(r.empresa_id)
    assert [t.id for t in todos] == r.tickets
    assert [t.numero for t in todos] == ["1", "2", "3", "4"]
    assert all(t.empresa_id == r.empresa_id for t in todos)
    assert [t.id for t in await s.listar_tickets(r.empresa_id, status="aberto")] == [r.tickets[0]]
    ana = r.id_de("ana@demo.local")
    assert {t.id for t in await s.listar_tickets(r.empresa_id, atendente_id=ana)} == {
        r.tickets[1],
        r.tickets[3],
    }
    suporte = await s.listar_tickets(r.empresa_id, fila_id=r.filas["Suporte"])
    assert {t.id for t in suporte} == {r.tickets[0], r.tickets[2]}
    assert await s.listar_tickets(r.empresa_id, fila_id=r.outra_fila_id) == []
    with pytest.raises(DadosInvalidos):
        await s.listar_tickets(r.empresa_id, status="novo")


async def test_obter_ticket_de_outro_tenant_e_nao_encontrado(banco_demo: BancoDemo) -> None:
    s, r = _srv(banco_demo), banco_demo.resumo
    ticket = await s.obter_ticket(r.empresa_id, r.tickets[1])
    assert ticket.numero == "2" and ticket.status == "em_atendimento"
    assert ticket.criado_em.tzinfo is not None
    erros = []
    for ticket_id in (r.outra_ticket_id, "nao-existe"):
        with pytest.raises(NaoEncontrado) as erro:
            await s.obter_ticket(r.empresa_id, ticket_id)
        erros.append((erro.value.code, erro.value.message))
    assert erros[0] == erros[1] == ("TICKET_NAO_ENCONTRADO", "Ticket não encontrado")


async def test_criar_ticket_publica_novo_e_atribuido(banco_demo: BancoDemo) -> None:
    s, r, pub = _srv(banco_demo), banco_demo.resumo, banco_demo.publicador
    ticket = await s.criar_ticket(
        r.empresa_id,
        cliente_id=r.clientes["Pedro Santos"],
        canal_id=r.canais["webchat"],
        fila_id=r.filas["Suporte"],
        assunto="Novo",
    )
    assert ticket.numero == "5" and ticket.status == "aberto" and ticket.prioridade == "media"
    assert ticket.criado_em == ticket.atualizado_em
    assert pub.nomes() == ["ticket_novo"] and pub.eventos[0].args == (ticket,)
    assert await s.obter_ticket(r.empresa_id, ticket.id) == ticket

    pub.limpar()
    bruno = r.id_de("bruno@demo.local")
    atribuido = await s.criar_ticket(
        r.empresa_id,
        cliente_id=r.clientes["Pedro Santos"],
        canal_id=r.canais["webchat"],
        fila_id=r.filas["Suporte"],
        prioridade="urgente",
        atendente_id=bruno,
    )
    assert atribuido.numero == "6" and atribuido.atendente_id == bruno
    assert pub.nomes() == ["ticket_novo", "ticket_atribuido"]
    # Each tenant counts on its own.
    outro = await s.criar_ticket(
        r.outra_empresa_id, cliente_id=r.outra_cliente_id, canal_id=r.outra_canal_id, fila_id=r.outra_fila_id
    )
    assert outro.numero == "2"


async def test_criar_ticket_recusa_referencias_de_outro_tenant(banco_demo: BancoDemo) -> None:
    s, r, pub = _srv(banco_demo), banco_demo.resumo, banco_demo.publicador
    base = {
        "cliente_id": r.clientes["Maria Oliveira"],
        "canal_id": r.canais["whatsapp"],
        "fila_id": r.filas["Suporte"],
    }
    casos = [
        ({"cliente_id": r.outra_cliente_id}, NaoEncontrado, "CLIENTE_NAO_ENCONTRADO"),
        ({"canal_id": r.outra_canal_id}, NaoEncontrado, "CANAL_NAO_ENCONTRADO"),
        ({"fila_id": r.outra_fila_id}, NaoEncontrado, "FILA_NAO_ENCONTRADA"),
        ({"atendente_id": r.id_de("carla@outra.local")}, NaoEncontrado, "USUARIO_NAO_ENCONTRADO"),
        ({"atendente_id": r.id_de("gestor@demo.local")}, DadosInvalidos, "USUARIO_NAO_E_ATENDENTE"),
        ({"prioridade": "altissima"}, DadosInvalidos, "PAYLOAD_INVALIDO"),
        ({"assunto": "x" * 201}, DadosInvalidos, "PAYLOAD_INVALIDO"),
    ]
    for mudanca, tipo, code in casos:
        with pytest.raises(tipo) as erro:
            await s.criar_ticket(r.empresa_id, **{**base, **mudanca})  # type: ignore[arg-type]
        assert erro.value.code == code
    assert pub.eventos == []
    assert len(await s.listar_tickets(r.empresa_id)) == 4


async def test_atualizar_ticket_so_os_campos_dados(banco_demo: BancoDemo) -> None:
    s, r, pub = _srv(banco_demo), banco_demo.resumo, banco_demo.publicador
    antes = await s.obter_ticket(r.empresa_id, r.tickets[0])
    depois = await s.atualizar_ticket(
        r.empresa_id, antes.id, prioridade="baixa", fila_id=r.filas["Financeiro"]
    )
    assert (depois.prioridade, depois.fila_id) == ("baixa", r.filas["Financeiro"])
    assert (depois.assunto, depois.descricao, depois.status) == (antes.assunto, antes.descricao, antes.status)
    assert depois.atualizado_em >= antes.atualizado_em and depois.criado_em == antes.criado_em
    assert pub.nomes() == ["ticket_atualizado"] and pub.eventos[0].args == (depois,)
    assert await s.obter_ticket(r.empresa_id, antes.id) == depois

    pub.limpar()
    limpo = await s.atualizar_ticket(r.empresa_id, antes.id, assunto=None)
    assert limpo.assunto is None and pub.nomes() == ["ticket_atualizado"]

    pub.limpar()
    igual = await s.atualizar_ticket(r.empresa_id, antes.id, prioridade="baixa")
    assert igual == limpo and pub.eventos == []  # nothing changed: no write, no event

    with pytest.raises(NaoEncontrado):
        await s.atualizar_ticket(r.empresa_id, antes.id, fila_id=r.outra_fila_id)
    with pytest.raises(NaoEncontrado):
        await s.atualizar_ticket(r.outra_empresa_id, antes.id, prioridade="alta")
    await s.mudar_status(r.empresa_id, antes.id, "fechado")
    with pytest.raises(TransicaoInvalida) as erro:
        await s.atualizar_ticket(r.empresa_id, antes.id, prioridade="alta")
    assert erro.value.code == "TICKET_FECHADO"


async def test_atribuir_ticket(banco_demo: BancoDemo) -> None:
    s, r, pub = _srv(banco_demo), banco_demo.resumo, banco_demo.publicador
    bruno = r.id_de("bruno@demo.local")
    ticket = await s.atribuir_ticket(r.empresa_id, r.tickets[0], bruno)
    assert ticket.atendente_id == bruno
    assert pub.nomes() == ["ticket_atribuido", "ticket_atualizado"]
    assert all(e.args == (ticket,) for e in pub.eventos)
    pub.limpar()
    assert await s.atribuir_ticket(r.empresa_id, r.tickets[0], bruno) == ticket
    assert pub.eventos == []
    with pytest.raises(DadosInvalidos):
        await s.atribuir_ticket(r.empresa_id, r.tickets[0], r.id_de("vendas@demo.local"))
    with pytest.raises(NaoEncontrado):
        await s.atribuir_ticket(r.empresa_id, r.tickets[0], r.id_de("carla@outra.local"))
    with pytest.raises(NaoEncontrado):
        await s.atribuir_ticket(r.outra_empresa_id, r.tickets[0], r.id_de("carla@outra.local"))


async def test_mudar_status(banco_demo: BancoDemo) -> None:
    s, r, pub = _srv(banco_demo), banco_demo.resumo, banco_demo.publicador
    ticket = await s.mudar_status(r.empresa_id, r.tickets[0], "em_atendimento")
    assert ticket.status == "em_atendimento"
    assert pub.nomes() == ["ticket_status", "ticket_atualizado"]
    pub.limpar()
    with pytest.raises(TransicaoInvalida) as erro:
        await s.mudar_status(r.empresa_id, r.tickets[0], "em_atendimento")
    assert erro.value.http_status == 409
    await s.mudar_status(r.empresa_id, r.tickets[0], "fechado")
    pub.limpar()
    with pytest.raises(TransicaoInvalida):
        await s.mudar_status(r.empresa_id, r.tickets[0], "aberto")
    with pytest.raises(DadosInvalidos):
        await s.mudar_status(r.empresa_id, r.tickets[1], "reaberto")
    assert pub.eventos == []
    assert (await s.obter_ticket(r.empresa_id, r.tickets[0])).status == "fechado"


# --- mensagens --------------------------------------------------------------------------------


async def test_enviar_e_listar_mensagens(banco_demo: BancoDemo) -> None:
    s, r, pub = _srv(banco_demo), banco_demo.resumo, banco_demo.publicador
    ana = r.id_de("ana@demo.local")
    antes = await s.listar_mensagens(r.empresa_id, r.tickets[1])
    assert [m.atendente_id for m in antes] == [None, ana]  # the customer's question, ana's answer
    enviadas = [
        await s.enviar_mensagem(
            r.empresa_id, r.tickets[1], remetente_id=ana, conteudo=f"msg {i}", metadados={"i": i}
        )
        for i in range(5)
    ]
    assert enviadas[0].ticket_numero == "2" and enviadas[0].atendente_id == ana
    assert enviadas[0].remetente_id == ana and enviadas[0].tipo == "texto"
    assert pub.nomes() == ["mensagem_nova"] * 5
    mensagem, ticket = pub.eventos[0].args
    assert mensagem == enviadas[0] and ticket.id == r.tickets[1]  # type: ignore[attr-defined]
    depois = await s.listar_mensagens(r.empresa_id, r.tickets[1])
    assert depois == antes + enviadas  # stored in order, read back identical

    vendas = await s.enviar_mensagem(
        r.empresa_id, r.tickets[1], remetente_id=r.id_de("vendas@demo.local"), tipo="imagem", conteudo="url"
    )
    assert vendas.atendente_id is None  # not an internal user


async def test_enviar_mensagem_recusas(banco_demo: BancoDemo) -> None:
    s, r, pub = _srv(banco_demo), banco_demo.resumo, banco_demo.publicador
    ana = r.id_de("ana@demo.local")
    with pytest.raises(NaoEncontrado):
        await s.enviar_mensagem(r.empresa_id, r.outra_ticket_id, remetente_id=ana, conteudo="oi")
    with pytest.raises(NaoEncontrado) as erro:
        await s.enviar_mensagem(
            r.empresa_id, r.tickets[1], remetente_id=r.id_de("carla@outra.local"), conteudo="x"
        )
    assert erro.value.code == "USUARIO_NAO_ENCONTRADO"
    for kwargs in (
        {"conteudo": ""},
        {"conteudo": "x" * 10_001},
        {"conteudo": "x", "tipo": "gif"},
        {"conteudo": "x", "metadados": {"k": "x" * 17_000}},
    ):
        with pytest.raises(DadosInvalidos):
            await s.enviar_mensagem(r.empresa_id, r.tickets[1], remetente_id=ana, **kwargs)  # type: ignore[arg-type]
    await s.mudar_status(r.empresa_id, r.tickets[1], "fechado")
    pub.limpar()
    with pytest.raises(TransicaoInvalida):
        await s.enviar_mensagem(r.empresa_id, r.tickets[1], remetente_id=ana, conteudo="oi")
    assert pub.eventos == []
    with pytest.raises(NaoEncontrado):
        await s.listar_mensagens(r.empresa_id, r.outra_ticket_id)


async def test_mensagem_recusada_nao_grava_nada(banco_demo: BancoDemo) -> None:
    """The write locks, counts and inserts before the checks; a refusal must undo all of it."""
    s, r = _srv(banco_demo), banco_demo.resumo
    ana = r.id_de("ana@demo.local")
    antes = await s.listar_mensagens(r.empresa_id, r.tickets[1])
    with pytest.raises(NaoEncontrado) as erro:
        await s.enviar_mensagem(
            r.empresa_id, r.tickets[1], remetente_id=r.id_de("carla@outra.local"), conteudo="x"
        )
    assert erro.value.code == "USUARIO_NAO_ENCONTRADO"
    # Two refusals at once: the ticket's is the one reported, as before.
    with pytest.raises(NaoEncontrado) as erro:
        await s.enviar_mensagem(
            r.empresa_id, r.outra_ticket_id, remetente_id=r.id_de("carla@outra.local"), conteudo="x"
        )
    assert erro.value.code == "TICKET_NAO_ENCONTRADO"
    assert await s.listar_mensagens(r.empresa_id, r.tickets[1]) == antes
    await s.mudar_status(r.empresa_id, r.tickets[1], "fechado")
    with pytest.raises(TransicaoInvalida):
        await s.enviar_mensagem(r.empresa_id, r.tickets[1], remetente_id=ana, conteudo="oi")
    with pytest.raises(TransicaoInvalida):  # closed ticket and unknown sender: the ticket's refusal
        await s.enviar_mensagem(
            r.empresa_id, r.tickets[1], remetente_id=r.id_de("carla@outra.local"), conteudo="x"
        )
    assert await s.listar_mensagens(r.empresa_id, r.tickets[1]) == antes
    # The ticket's message counter was rolled back too.
    async with banco_demo.storage.transacao(r.empresa_id, escrita=False) as conn:
        total = await conn.scalar(
            text("SELECT total_mensagens FROM tickets WHERE id = :t"), {"t": r.tickets[1]}
        )
    assert total == len(antes)


async def test_receber_mensagem_canal(banco_demo: BancoDemo) -> None:
    s, r, pub = _srv(banco_demo), banco_demo.resumo, banco_demo.publicador
    # Maria has an open ticket on WhatsApp (#1): appended there.
    ticket, mensagem, criado = await s.receber_mensagem_canal(
        r.empresa_id, r.canais["whatsapp"], contato="+5511990000001", conteudo="Alguma novidade?"
    )
    assert not criado and ticket.id == r.tickets[0]
    assert mensagem.remetente_id == r.clientes["Maria Oliveira"] and mensagem.atendente_id is None
    assert pub.nomes() == ["mensagem_nova"] and pub.eventos[0].args == (mensagem, ticket)

    # Maria's e-mail ticket (#4) is resolvido: a new ticket in the canal's default fila.
    pub.limpar()
    novo, _, criado = await s.receber_mensagem_canal(
        r.empresa_id, r.canais["email"], contato="+5511990000001", conteudo="Outra dúvida"
    )
    assert criado and novo.numero == "5" and novo.fila_id == r.filas["Financeiro"]
    assert novo.cliente_id == r.clientes["Maria Oliveira"] and novo.status == "aberto"
    assert pub.nomes() == ["ticket_novo", "mensagem_nova"]

    # An unknown contato: a new cliente and ticket; the second message joins that ticket.
    primeiro, _, criado1 = await s.receber_mensagem_canal(
        r.empresa_id, r.canais["webchat"], contato="webchat:novo", nome_cliente="Novo Cliente", conteudo="oi"
    )
    segundo, _, criado2 = await s.receber_mensagem_canal(
        r.empresa_id, r.canais["webchat"], contato="webchat:novo", conteudo="alguém?"
    )
    assert criado1 and not criado2 and primeiro.id == segundo.id
    assert len(await s.listar_mensagens(r.empresa_id, primeiro.id)) == 2

    with pytest.raises(NaoEncontrado) as erro:
        await s.receber_mensagem_canal(r.empresa_id, r.outra_canal_id, contato="x", conteudo="oi")
    assert erro.value.code == "CANAL_NAO_ENCONTRADO"
    with pytest.raises(DadosInvalidos):
        await s.receber_mensagem_canal(r.empresa_id, r.canais["webchat"], contato="", conteudo="oi")


async def test_mesmo_contato_em_tenants_diferentes_sao_clientes_diferentes(banco_demo: BancoDemo) -> None:
    s, r = _srv(banco_demo), banco_demo.resumo
    t1, _, _ = await s.receber_mensagem_canal(r.empresa_id, r.canais["webchat"], contato="c:1", conteudo="a")
    t2, _, _ = await s.receber_mensagem_canal(
        r.outra_empresa_id, r.outra_canal_id, contato="c:1", conteudo="b"
    )
    assert t1.cliente_id != t2.cliente_id and t1.empresa_id != t2.empresa_id


# --- notificações -----------------------------------------------------------------------------


async def test_notificar(banco_demo: BancoDemo) -> None:
    s, r, pub = _srv(banco_demo), banco_demo.resumo, banco_demo.publicador
    ana = r.id_de("ana@demo.local")
    await s.notificar(r.empresa_id, usuario_id=ana, tipo="aviso", mensagem="Olá", dados={"a": 1})
    await s.notificar(r.empresa_id, tipo="geral")
    assert [e.args for e in pub.eventos] == [
        (r.empresa_id, ana, "aviso", "Olá", {"a": 1}),
        (r.empresa_id, None, "geral", None, None),
    ]
    pub.limpar()
    with pytest.raises(NaoEncontrado):
        await s.notificar(r.empresa_id, usuario_id=r.id_de("carla@outra.local"), tipo="aviso")
    with pytest.raises(DadosInvalidos):
        await s.notificar(r.empresa_id, tipo="")
    assert pub.eventos == []


@pytest.mark.parametrize("atribuido", [True, False])
async def test_resposta_do_cliente_tira_o_ticket_da_espera(banco_demo: BancoDemo, atribuido: bool) -> None:
    s, r, pub = _srv(banco_demo), banco_demo.resumo, banco_demo.publicador
    contato = f"webchat:espera-{atribuido}"
    ticket, _, _ = await s.receber_mensagem_canal(
        r.empresa_id, r.canais["webchat"], contato=contato, conteudo="oi"
    )
    if atribuido:
        ana = next(u.id for u in await s.listar_atendentes(r.empresa_id) if u.email == "ana@demo.local")
        await s.atribuir_ticket(r.empresa_id, ticket.id, ana)
    await s.mudar_status(r.empresa_id, ticket.id, "aguardando_cliente")
    pub.limpar()

    depois, mensagem, criado = await s.receber_mensagem_canal(
        r.empresa_id, r.canais["webchat"], contato=contato, conteudo="voltei"
    )
    assert not criado and depois.id == ticket.id
    assert depois.status == ("em_atendimento" if atribuido else "aberto")
    assert pub.nomes() == ["mensagem_nova", "ticket_status", "ticket_atualizado"]
    assert pub.eventos[0].args == (mensagem, depois)
    assert (await s.obter_ticket(r.empresa_id, ticket.id)).status == depois.status

    # A ticket that is not waiting keeps its status.
    pub.limpar()
    await s.receber_mensagem_canal(r.empresa_id, r.canais["webchat"], contato=contato, conteudo="mais")
    assert pub.nomes() == ["mensagem_nova"]


@pytest.mark.postgres
async def test_mensagem_do_cliente_nao_reabre_ticket_fechado_ao_mesmo_tempo(demo_pg: BancoDemo) -> None:
    """A close that commits while the customer's message is on its way wins: the message does not
    write back a stale copy of the ticket (which would reopen it); it opens a new ticket instead."""
    import asyncio

    import asyncpg

    s, r = _srv(demo_pg), demo_pg.resumo
    webchat, contato = r.canais["webchat"], "webchat:corrida"
    ticket, _, _ = await s.receber_mensagem_canal(r.empresa_id, webchat, contato=contato, conteudo="oi")
    await s.mudar_status(r.empresa_id, ticket.id, "aguardando_cliente")

    outra = await asyncpg.connect(demo_pg.banco.app_url)
    try:
        transacao = outra.transaction()
        await transacao.start()
        await outra.execute("SELECT set_current_tenant($1)", r.empresa_id)
        await outra.execute("UPDATE tickets SET status = 'fechado' WHERE id = $1", ticket.id)
        # The customer writes while the close is not yet committed: the message must wait for it.
        chegada = asyncio.create_task(
            s.receber_mensagem_canal(r.empresa_id, webchat, contato=contato, conteudo="voltei")
        )
        await asyncio.sleep(0.3)
        assert not chegada.done()
        await transacao.commit()
        novo, mensagem, criado = await asyncio.wait_for(chegada, 10)
    finally:
        await outra.close()

    assert (await s.obter_ticket(r.empresa_id, ticket.id)).status == "fechado"
    assert criado and novo.id != ticket.id and mensagem.ticket_id == novo.id
