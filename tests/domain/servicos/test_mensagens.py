"""Messages: sent by agents, refused, received from a channel (a customer's, which may take a ticket
out of waiting, and never reopens one closed at the same time).

On real databases (SQLite and PostgreSQL, each test on both), demo data loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from atendimento.domain.entidades import agora
from atendimento.domain.erros import DadosInvalidos, NaoEncontrado, TransicaoInvalida, UsuarioInvalido
from atendimento.domain.idempotencia import ConflitoIdempotencia, Idempotencia

if TYPE_CHECKING:
    from conftest import BancoDemo


ATENDENTE = "atendente"


async def test_enviar_e_listar_mensagens(banco_demo: BancoDemo) -> None:
    s, r, pub = banco_demo.servico(), banco_demo.resumo, banco_demo.publicador
    ana = r.id_de("ana@demo.local")
    antes = await s.listar_mensagens(r.empresa_id, r.tickets[1])
    assert [m.atendente_id for m in antes] == [None, ana]  # the customer's question, ana's answer
    enviadas = [
        await s.enviar_mensagem(
            r.empresa_id,
            r.tickets[1],
            remetente_id=ana,
            role=ATENDENTE,
            conteudo=f"msg {i}",
            metadados={"i": i},
        )
        for i in range(5)
    ]
    assert enviadas[0].ticket_numero == "2" and enviadas[0].atendente_id == ana
    assert enviadas[0].remetente_id == ana and enviadas[0].tipo == "texto"
    assert not enviadas[0].interna and "interna" not in enviadas[0].para_evento()  # the seed's shape
    assert pub.nomes() == ["mensagem_nova"] * 5
    mensagem, ticket = pub.eventos[0].args
    assert mensagem == enviadas[0] and ticket.id == r.tickets[1]  # type: ignore[attr-defined]
    depois = await s.listar_mensagens(r.empresa_id, r.tickets[1])
    assert depois == antes + enviadas  # stored in order, read back identical

    vendas = await s.enviar_mensagem(
        r.empresa_id,
        r.tickets[1],
        remetente_id=r.id_de("vendas@demo.local"),
        role="vendedor",
        tipo="imagem",
        conteudo="url",
    )
    assert vendas.atendente_id is None  # not an internal user


async def test_nota_interna(banco_demo: BancoDemo) -> None:
    s, r, pub = banco_demo.servico(), banco_demo.resumo, banco_demo.publicador
    ana = r.id_de("ana@demo.local")
    nota = await s.enviar_mensagem(
        r.empresa_id, r.tickets[1], remetente_id=ana, role=ATENDENTE, conteudo="só a equipe", interna=True
    )
    assert nota.interna and nota.para_evento()["interna"] is True
    assert pub.eventos[0].args[0] == nota  # mensagem:nova carries the flag  # type: ignore[attr-defined]
    assert (await s.listar_mensagens(r.empresa_id, r.tickets[1]))[-1] == nota


async def test_enviar_mensagem_recusas(banco_demo: BancoDemo) -> None:
    s, r, pub = banco_demo.servico(), banco_demo.resumo, banco_demo.publicador
    ana = r.id_de("ana@demo.local")
    with pytest.raises(NaoEncontrado) as erro:
        await s.enviar_mensagem(
            r.empresa_id, r.outra_ticket_id, remetente_id=ana, role=ATENDENTE, conteudo="oi"
        )
    assert erro.value.code == "TICKET_NAO_ENCONTRADO"
    for kwargs in (
        {"conteudo": ""},
        {"conteudo": "x" * 10_001},
        {"conteudo": "x", "tipo": "gif"},
        {"conteudo": "x", "metadados": {"k": "x" * 17_000}},
    ):
        with pytest.raises(DadosInvalidos):
            await s.enviar_mensagem(r.empresa_id, r.tickets[1], remetente_id=ana, role=ATENDENTE, **kwargs)  # type: ignore[arg-type]
    await s.mudar_status(r.empresa_id, r.tickets[1], "fechado")
    pub.limpar()
    with pytest.raises(TransicaoInvalida):
        await s.enviar_mensagem(r.empresa_id, r.tickets[1], remetente_id=ana, role=ATENDENTE, conteudo="oi")
    assert pub.eventos == []
    with pytest.raises(NaoEncontrado):
        await s.listar_mensagens(r.empresa_id, r.outra_ticket_id)


async def _desativar(banco: BancoDemo, empresa_id: str, usuario_id: str) -> None:
    async with banco.storage.transacao(empresa_id) as conn:
        await conn.execute(text("UPDATE usuarios SET ativo = false WHERE id = :u"), {"u": usuario_id})


async def test_remetente_invalido_nada_e_gravado(banco_demo: BancoDemo) -> None:
    """The database is the authority: a sender absent from the tenant, inactive, or with another role
    than the token claims is refused (401 USUARIO_INVALIDO) before anything else, and nothing moves."""
    s, r, pub = banco_demo.servico(), banco_demo.resumo, banco_demo.publicador
    ana, bruno = r.id_de("ana@demo.local"), r.id_de("bruno@demo.local")
    antes = await s.listar_mensagens(r.empresa_id, r.tickets[1])
    await _desativar(banco_demo, r.empresa_id, bruno)
    for remetente, role, ticket in (
        (r.id_de("carla@outra.local"), ATENDENTE, r.tickets[1]),  # another tenant's user
        ("nao-existe", ATENDENTE, r.tickets[1]),
        (bruno, ATENDENTE, r.tickets[1]),  # inactive
        (ana, "admin", r.tickets[1]),  # the token claims a role the database does not give her
        (ana, "gestor", r.outra_ticket_id),  # two refusals at once: the sender's is reported
        (r.clientes["Maria Oliveira"], ATENDENTE, r.tickets[1]),  # a cliente is no user
    ):
        with pytest.raises(UsuarioInvalido) as erro:
            await s.enviar_mensagem(r.empresa_id, ticket, remetente_id=remetente, role=role, conteudo="x")
        assert (erro.value.code, erro.value.http_status) == ("USUARIO_INVALIDO", 401)
    with pytest.raises(UsuarioInvalido):  # and with a key: no key is taken either
        await s.enviar_mensagem(
            r.empresa_id,
            r.tickets[1],
            remetente_id=bruno,
            role=ATENDENTE,
            conteudo="x",
            idempotente=Idempotencia(bruno, "k"),
        )
    assert pub.eventos == []
    assert await s.listar_mensagens(r.empresa_id, r.tickets[1]) == antes
    async with banco_demo.storage.transacao(r.empresa_id, escrita=False) as conn:
        assert await conn.scalar(text("SELECT count(*) FROM chaves_idempotencia")) == 0


async def test_mensagem_recusada_nao_grava_nada(banco_demo: BancoDemo) -> None:
    """A refused write leaves no message, no counter step and no key behind."""
    s, r = banco_demo.servico(), banco_demo.resumo
    ana = r.id_de("ana@demo.local")
    antes = await s.listar_mensagens(r.empresa_id, r.tickets[1])
    await s.mudar_status(r.empresa_id, r.tickets[1], "fechado")
    with pytest.raises(TransicaoInvalida):
        await s.enviar_mensagem(r.empresa_id, r.tickets[1], remetente_id=ana, role=ATENDENTE, conteudo="oi")
    with pytest.raises(TransicaoInvalida):  # with a key: the key is released with the refusal
        await s.enviar_mensagem(
            r.empresa_id,
            r.tickets[1],
            remetente_id=ana,
            role=ATENDENTE,
            conteudo="oi",
            idempotente=Idempotencia(ana, "k"),
        )
    with pytest.raises(NaoEncontrado):
        await s.enviar_mensagem(
            r.empresa_id,
            r.outra_ticket_id,
            remetente_id=ana,
            role=ATENDENTE,
            conteudo="oi",
            idempotente=Idempotencia(ana, "k2"),
        )
    assert await s.listar_mensagens(r.empresa_id, r.tickets[1]) == antes
    async with banco_demo.storage.transacao(r.empresa_id, escrita=False) as conn:
        total = await conn.scalar(
            text("SELECT total_mensagens FROM tickets WHERE id = :t"), {"t": r.tickets[1]}
        )
        assert await conn.scalar(text("SELECT count(*) FROM chaves_idempotencia")) == 0
    assert total == len(antes)
    # The key is free again: the same key for another request now writes.
    outra = await s.enviar_mensagem(
        r.empresa_id,
        r.tickets[2],
        remetente_id=ana,
        role=ATENDENTE,
        conteudo="outra",
        idempotente=Idempotencia(ana, "k"),
    )
    assert outra.ticket_id == r.tickets[2]


async def test_chave_repetida_responde_a_primeira_sem_publicar(banco_demo: BancoDemo) -> None:
    s, r, pub = banco_demo.servico(), banco_demo.resumo, banco_demo.publicador
    ana = r.id_de("ana@demo.local")
    chave = Idempotencia(ana, "k")
    primeira = await s.enviar_mensagem(
        r.empresa_id,
        r.tickets[1],
        remetente_id=ana,
        role=ATENDENTE,
        conteudo="uma",
        interna=True,
        idempotente=chave,
    )
    segunda = await s.enviar_mensagem(
        r.empresa_id,
        r.tickets[1],
        remetente_id=ana,
        role=ATENDENTE,
        conteudo="uma",
        interna=True,
        idempotente=chave,
    )
    assert segunda == primeira and primeira.interna
    assert pub.nomes() == ["mensagem_nova"]
    with pytest.raises(ConflitoIdempotencia):  # the same key for another request
        await s.enviar_mensagem(
            r.empresa_id, r.tickets[1], remetente_id=ana, role=ATENDENTE, conteudo="uma", idempotente=chave
        )
    assert [m.id for m in await s.listar_mensagens(r.empresa_id, r.tickets[1])].count(primeira.id) == 1


async def test_receber_mensagem_canal(banco_demo: BancoDemo) -> None:
    s, r, pub = banco_demo.servico(), banco_demo.resumo, banco_demo.publicador
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
    s, r = banco_demo.servico(), banco_demo.resumo
    t1, _, _ = await s.receber_mensagem_canal(r.empresa_id, r.canais["webchat"], contato="c:1", conteudo="a")
    t2, _, _ = await s.receber_mensagem_canal(
        r.outra_empresa_id, r.outra_canal_id, contato="c:1", conteudo="b"
    )
    assert t1.cliente_id != t2.cliente_id and t1.empresa_id != t2.empresa_id


@pytest.mark.parametrize("atribuido", [True, False])
async def test_resposta_do_cliente_tira_o_ticket_da_espera(banco_demo: BancoDemo, atribuido: bool) -> None:
    s, r, pub = banco_demo.servico(), banco_demo.resumo, banco_demo.publicador
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

    s, r = demo_pg.servico(), demo_pg.resumo
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


async def test_so_a_resposta_de_uma_pessoa_vai_para_a_saida(banco_demo: BancoDemo) -> None:
    """Through the use cases: an agent's reply on a channel with an endpoint queues one outbox row;
    the customer's message (channel ingestion) and an internal note queue none."""
    s, r = banco_demo.servico(), banco_demo.resumo
    ana = r.id_de("ana@demo.local")
    async with banco_demo.storage.transacao(r.empresa_id) as conn:
        await conn.execute(
            text(
                "INSERT INTO canal_webhooks (canal_id, empresa_id, url, segredo, ativo, criado_em, "
                "atualizado_em) VALUES (:c, :e, 'https://x.example/', 'whsec_x', true, :t, :t)"
            ),
            {"c": r.canais["whatsapp"], "e": r.empresa_id, "t": agora()},
        )
    ticket, _, _ = await s.receber_mensagem_canal(
        r.empresa_id, r.canais["whatsapp"], contato="+5511990000001", conteudo="Alguma novidade?"
    )
    await s.enviar_mensagem(
        r.empresa_id, ticket.id, remetente_id=ana, role=ATENDENTE, conteudo="n", interna=True
    )
    resposta = await s.enviar_mensagem(
        r.empresa_id, ticket.id, remetente_id=ana, role=ATENDENTE, conteudo="Já vai"
    )
    async with banco_demo.storage.transacao(r.empresa_id, escrita=False) as conn:
        linhas = (await conn.execute(text("SELECT mensagem_id, tipo FROM saida_eventos"))).all()
    assert [tuple(linha) for linha in linhas] == [(resposta.id, "mensagem.criada")]
