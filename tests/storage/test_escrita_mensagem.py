"""``acrescentar_mensagem``: the one message write (migration 0005's function on PostgreSQL, statements
of the group commit's transaction on SQLite) answers and writes the same on both databases, in a
transaction of its own (``Storage``) and inside one (``RepositorioSql``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from atendimento.domain.entidades import MensagemDados, agora, novo_id
from atendimento.domain.portas import ChaveMensagem, MensagemGravada, NovaMensagem
from atendimento.storage.modelos import Ticket
from atendimento.storage.tabelas import T_SAIDA_EVENTOS

if TYPE_CHECKING:
    from conftest import BancoDemo


def _pedido(ticket_id: str, remetente_id: str, role: str | None = "atendente", **extra: Any) -> NovaMensagem:
    valores: dict[str, Any] = {
        "id": novo_id(),
        "ticket_id": ticket_id,
        "remetente_id": remetente_id,
        "role": role,
        "tipo": "texto",
        "conteudo": "oi",
        "metadados": None,
        "criado_em": agora(),
    }
    valores.update(extra)
    return NovaMensagem(**valores)


def _chave(nome: str = "k", impressao: str = "mensagem:1") -> ChaveMensagem:
    return ChaveMensagem(chave=nome, impressao=impressao, validade_desde=agora() - timedelta(hours=24))


async def _mensagens(banco: BancoDemo, empresa_id: str, ticket_id: str) -> list[MensagemDados]:
    async with banco.storage.unidade(empresa_id, escrita=False) as repo:
        return await repo.listar_mensagens(ticket_id)


async def _escrever(banco: BancoDemo, empresa_id: str, pedido: NovaMensagem) -> MensagemGravada:
    return await banco.storage.acrescentar_mensagem(empresa_id, pedido)


async def _contar(banco: BancoDemo, empresa_id: str, sql: str) -> int:
    async with banco.storage.transacao(empresa_id, escrita=False) as conn:
        return int(await conn.scalar(text(sql)) or 0)


async def test_grava_com_o_proximo_numero_e_o_atendente(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    ticket_id, ana = r.tickets[0], r.id_de("ana@demo.local")
    antes = await _mensagens(banco_demo, r.empresa_id, ticket_id)
    pedido = _pedido(ticket_id, ana, metadados={"a": [1, "dois"]})
    gravacao = await _escrever(banco_demo, r.empresa_id, pedido)
    assert gravacao.gravada and gravacao.autorizado and gravacao.impressao_anterior is None
    assert gravacao.ticket is not None and gravacao.ticket.id == ticket_id and gravacao.ticket.numero == "1"
    depois = await _mensagens(banco_demo, r.empresa_id, ticket_id)
    assert len(depois) == len(antes) + 1
    assert depois[-1] == gravacao.mensagem  # what comes back is what is stored
    gravada = depois[-1]
    assert (gravada.id, gravada.conteudo, gravada.atendente_id, gravada.interna) == (
        pedido.id,
        "oi",
        ana,
        False,
    )
    assert gravada.metadados == {"a": [1, "dois"]} and gravada.ticket_numero == "1"
    assert gravada.criado_em == pedido.criado_em


async def test_nota_interna_e_guardada(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    gravacao = await _escrever(
        banco_demo, r.empresa_id, _pedido(r.tickets[0], r.id_de("ana@demo.local"), interna=True)
    )
    assert gravacao.mensagem is not None and gravacao.mensagem.interna
    assert (await _mensagens(banco_demo, r.empresa_id, r.tickets[0]))[-1].interna


async def test_remetente_nao_interno_nao_vira_atendente(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    vendas = r.id_de("vendas@demo.local")  # role vendedor: not one of ROLES_INTERNOS
    gravacao = await _escrever(banco_demo, r.empresa_id, _pedido(r.tickets[0], vendas, role="vendedor"))
    assert gravacao.gravada
    assert (await _mensagens(banco_demo, r.empresa_id, r.tickets[0]))[-1].atendente_id is None


async def test_remetente_invalido_nada_e_gravado(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    ana = r.id_de("ana@demo.local")
    antes = await _mensagens(banco_demo, r.empresa_id, r.tickets[0])
    async with banco_demo.storage.transacao(r.empresa_id) as conn:
        await conn.execute(
            text("UPDATE usuarios SET ativo = false WHERE id = :u"), {"u": r.id_de("bruno@demo.local")}
        )
    for remetente, role in (
        ("nao-existe", "atendente"),
        (r.id_de("carla@outra.local"), "atendente"),  # another tenant's user through this tenant
        (r.id_de("bruno@demo.local"), "atendente"),  # inactive
        (ana, "admin"),  # another role than the database's
    ):
        gravacao = await _escrever(
            banco_demo, r.empresa_id, _pedido(r.tickets[0], remetente, role, chave=_chave())
        )
        assert not gravacao.autorizado and not gravacao.gravada and gravacao.mensagem is None
    assert await _mensagens(banco_demo, r.empresa_id, r.tickets[0]) == antes
    assert await _contar(banco_demo, r.empresa_id, "SELECT count(*) FROM chaves_idempotencia") == 0


async def test_ticket_desconhecido_ou_de_outra_empresa(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    ana = r.id_de("ana@demo.local")
    da_outra = await _mensagens(banco_demo, r.outra_empresa_id, r.outra_ticket_id)
    for ticket_id in ("nao-existe", r.outra_ticket_id):
        gravacao = await _escrever(banco_demo, r.empresa_id, _pedido(ticket_id, ana))
        assert gravacao.autorizado and not gravacao.gravada and gravacao.ticket is None
    assert await _mensagens(banco_demo, r.outra_empresa_id, r.outra_ticket_id) == da_outra


async def test_ticket_fechado_nao_recebe_mensagem(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    ticket_id = r.tickets[0]
    async with banco_demo.storage.transacao(r.empresa_id) as conn:
        await conn.execute(
            update(Ticket)
            .where(Ticket.empresa_id == r.empresa_id, Ticket.id == ticket_id)
            .values(status="fechado")
        )
    antes = await _mensagens(banco_demo, r.empresa_id, ticket_id)
    for chave in (None, _chave()):
        pedido = _pedido(ticket_id, r.id_de("ana@demo.local"), chave=chave)
        gravacao = await _escrever(banco_demo, r.empresa_id, pedido)
        assert not gravacao.gravada
        assert gravacao.ticket is not None and gravacao.ticket.status == "fechado"
    assert await _mensagens(banco_demo, r.empresa_id, ticket_id) == antes
    assert await _contar(banco_demo, r.empresa_id, "SELECT count(*) FROM chaves_idempotencia") == 0


async def test_a_mesma_chamada_de_novo_nao_grava_outra_vez(banco_demo: BancoDemo) -> None:
    """What makes the retry after a lost connection safe: the same message id answers as written."""
    r = banco_demo.resumo
    ticket_id = r.tickets[0]
    antes = len(await _mensagens(banco_demo, r.empresa_id, ticket_id))
    for chave in (None, _chave()):
        pedido = _pedido(ticket_id, r.id_de("ana@demo.local"), chave=chave)
        primeira = await _escrever(banco_demo, r.empresa_id, pedido)
        segunda = await _escrever(banco_demo, r.empresa_id, pedido)
        assert primeira.gravada and segunda.gravada and segunda.impressao_anterior is None
        assert segunda.ticket is not None and primeira.ticket is not None
        assert segunda.ticket.id == primeira.ticket.id and segunda.mensagem == primeira.mensagem
    assert len(await _mensagens(banco_demo, r.empresa_id, ticket_id)) == antes + 2


async def test_chave_tomada_responde_a_primeira_mensagem(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    ana = r.id_de("ana@demo.local")
    primeira = await _escrever(banco_demo, r.empresa_id, _pedido(r.tickets[0], ana, chave=_chave()))
    repetida = await _escrever(banco_demo, r.empresa_id, _pedido(r.tickets[0], ana, chave=_chave()))
    assert not repetida.gravada and repetida.impressao_anterior == "mensagem:1"
    assert repetida.mensagem == primeira.mensagem
    outra = await _escrever(
        banco_demo, r.empresa_id, _pedido(r.tickets[1], ana, chave=_chave(impressao="outra"))
    )
    assert not outra.gravada and outra.impressao_anterior == "mensagem:1"  # the domain answers 409
    # Another user's identical key is another key; an expired key counts as absent (and goes).
    bruno = await _escrever(
        banco_demo, r.empresa_id, _pedido(r.tickets[0], r.id_de("bruno@demo.local"), chave=_chave())
    )
    assert bruno.gravada
    vencida = ChaveMensagem(chave="k", impressao="nova", validade_desde=agora() + timedelta(seconds=1))
    assert (await _escrever(banco_demo, r.empresa_id, _pedido(r.tickets[0], ana, chave=vencida))).gravada


async def test_chave_antiga_com_a_resposta_inteira_e_respondida(banco_demo: BancoDemo) -> None:
    """Keys written before the one write kept the whole answer (``para_evento``): its ``id`` still
    finds the message."""
    r = banco_demo.resumo
    ana = r.id_de("ana@demo.local")
    primeira = await _escrever(banco_demo, r.empresa_id, _pedido(r.tickets[0], ana))
    assert primeira.mensagem is not None
    async with banco_demo.storage.unidade(r.empresa_id) as repo:
        assert await repo.reservar_chave(ana, "antiga", "mensagem:1", agora() - timedelta(hours=1)) is None
        await repo.concluir_chave(ana, "antiga", primeira.mensagem.para_evento())
    repetida = await _escrever(banco_demo, r.empresa_id, _pedido(r.tickets[0], ana, chave=_chave("antiga")))
    assert repetida.impressao_anterior == "mensagem:1" and repetida.mensagem == primeira.mensagem


async def test_escritas_simultaneas_numeram_sem_buracos(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    ticket_id, ana = r.tickets[1], r.id_de("ana@demo.local")
    antes = len(await _mensagens(banco_demo, r.empresa_id, ticket_id))
    gravacoes = await asyncio.gather(
        *(_escrever(banco_demo, r.empresa_id, _pedido(ticket_id, ana, conteudo=f"m{i}")) for i in range(15))
    )
    assert all(g.gravada for g in gravacoes)
    mensagens = await _mensagens(banco_demo, r.empresa_id, ticket_id)
    assert len(mensagens) == antes + 15
    assert {m.conteudo for m in mensagens[antes:]} == {f"m{i}" for i in range(15)}


async def test_dentro_de_uma_transacao_e_desfeita_com_ela(banco_demo: BancoDemo) -> None:
    """The same operation inside a transaction (a customer's message): no role, no user check, no
    atendente; and undone with the transaction it is part of."""
    r = banco_demo.resumo
    maria = r.clientes["Maria Oliveira"]
    antes = await _mensagens(banco_demo, r.empresa_id, r.tickets[0])
    with pytest.raises(RuntimeError):
        async with banco_demo.storage.unidade(r.empresa_id) as repo:
            gravacao = await repo.acrescentar_mensagem(_pedido(r.tickets[0], maria, role=None))
            assert gravacao.gravada and gravacao.mensagem is not None
            assert gravacao.mensagem.atendente_id is None
            raise RuntimeError("desfaz")
    assert await _mensagens(banco_demo, r.empresa_id, r.tickets[0]) == antes
    async with banco_demo.storage.unidade(r.empresa_id) as repo:
        gravacao = await repo.acrescentar_mensagem(_pedido(r.tickets[0], maria, role=None))
    assert (await _mensagens(banco_demo, r.empresa_id, r.tickets[0]))[-1] == gravacao.mensagem


async def _com_webhook(banco: BancoDemo, empresa_id: str, canal_id: str, *, ativo: bool = True) -> None:
    async with banco.storage.transacao(empresa_id) as conn:
        await conn.execute(
            text(
                "INSERT INTO canal_webhooks (canal_id, empresa_id, url, segredo, ativo, criado_em, "
                "atualizado_em) VALUES (:c, :e, 'https://integracao.example/webhook', 'whsec_x', :a, :t, :t)"
            ),
            {"c": canal_id, "e": empresa_id, "a": ativo, "t": agora()},
        )


async def _saida(banco: BancoDemo, empresa_id: str) -> list[Any]:
    async with banco.storage.transacao(empresa_id, escrita=False) as conn:
        return list((await conn.execute(select(T_SAIDA_EVENTOS).order_by(T_SAIDA_EVENTOS.c.seq))).all())


async def test_saida_so_para_pessoa_sem_nota_com_endpoint(banco_demo: BancoDemo) -> None:
    """The outbox row: written with the message iff the author is a person of the tenant, the message
    is not an internal note and the ticket's channel has an endpoint (active or not)."""
    r = banco_demo.resumo
    ana, maria = r.id_de("ana@demo.local"), r.clientes["Maria Oliveira"]
    whatsapp, email = r.tickets[0], r.tickets[1]  # on the WhatsApp and e-mail channels
    await _com_webhook(banco_demo, r.empresa_id, r.canais["whatsapp"])
    await _com_webhook(banco_demo, r.empresa_id, r.canais["email"], ativo=False)
    sem_endpoint = await _escrever(banco_demo, r.empresa_id, _pedido(r.tickets[2], ana))  # webchat
    nota = await _escrever(banco_demo, r.empresa_id, _pedido(whatsapp, ana, interna=True))
    vendas = await _escrever(
        banco_demo, r.empresa_id, _pedido(whatsapp, r.id_de("vendas@demo.local"), role="vendedor")
    )
    async with banco_demo.storage.unidade(r.empresa_id) as repo:  # a customer's message
        await repo.acrescentar_mensagem(_pedido(whatsapp, maria, role=None))
    assert (
        all(g.gravada for g in (sem_endpoint, nota, vendas)) and await _saida(banco_demo, r.empresa_id) == []
    )

    resposta = await _escrever(banco_demo, r.empresa_id, _pedido(whatsapp, ana))
    desativado = await _escrever(banco_demo, r.empresa_id, _pedido(email, ana, chave=_chave()))
    await _escrever(banco_demo, r.empresa_id, _pedido(email, ana, chave=_chave()))  # a replay: no second row
    eventos = await _saida(banco_demo, r.empresa_id)
    assert [(e.mensagem_id, e.ticket_id, e.canal_id, e.tipo, e.dados) for e in eventos] == [
        (resposta.mensagem and resposta.mensagem.id, whatsapp, r.canais["whatsapp"], "mensagem.criada", None),
        (desativado.mensagem and desativado.mensagem.id, email, r.canais["email"], "mensagem.criada", None),
    ]
    assert all(e.id.startswith("msg_") and len(e.id) == 36 and int(e.id[4:], 16) >= 0 for e in eventos)
    assert eventos[0].seq < eventos[1].seq and eventos[0].empresa_id == r.empresa_id
    assert resposta.mensagem is not None and eventos[0].criado_em.replace(tzinfo=None) == (
        resposta.mensagem.criado_em.replace(tzinfo=None)
    )


async def test_saida_e_desfeita_com_a_mensagem(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    await _com_webhook(banco_demo, r.empresa_id, r.canais["whatsapp"])
    with pytest.raises(RuntimeError):
        async with banco_demo.storage.unidade(r.empresa_id) as repo:
            gravacao = await repo.acrescentar_mensagem(_pedido(r.tickets[0], r.id_de("ana@demo.local")))
            assert gravacao.gravada and len(await _saida_na(repo.conn)) == 1
            raise RuntimeError("desfaz")
    assert await _saida(banco_demo, r.empresa_id) == []


async def _saida_na(conn: Any) -> list[Any]:
    return list((await conn.execute(select(T_SAIDA_EVENTOS))).all())


@pytest.mark.postgres
async def test_postgres_backend_encerrado_no_meio_da_escrita_grava_uma_vez(demo_pg: BancoDemo) -> None:
    """The server ends the backend while the write waits inside the function (for the ticket's lock,
    held here by another transaction): the one retry policy sends the call once more on a new
    connection, and the message is written once."""
    import asyncpg

    r = demo_pg.resumo
    ticket_id = r.tickets[0]
    antes = len(await _mensagens(demo_pg, r.empresa_id, ticket_id))
    admin = await asyncpg.connect(demo_pg.banco.admin_url)
    trava = await asyncpg.connect(demo_pg.banco.admin_url)
    try:
        transacao = trava.transaction()
        await transacao.start()
        await trava.execute("UPDATE tickets SET prioridade = prioridade WHERE id = $1", ticket_id)
        escrita = asyncio.create_task(
            _escrever(demo_pg, r.empresa_id, _pedido(ticket_id, r.id_de("ana@demo.local")))
        )

        async def esperando(exceto: frozenset[int] = frozenset()) -> int:
            # The terminated backend may linger in pg_stat_activity for a moment: another pid is the retry.
            while True:
                linhas = await admin.fetch(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE '%acrescentar_mensagem%' AND datname = current_database()"
                )
                pids = [p["pid"] for p in linhas if p["pid"] not in exceto]
                if pids:
                    return int(pids[0])
                await asyncio.sleep(0.05)

        primeiro = await asyncio.wait_for(esperando(), 20)
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", primeiro)
        await asyncio.wait_for(esperando(frozenset({primeiro})), 20)  # the retry, on another backend
        assert not escrita.done()
        await transacao.commit()
        gravacao = await asyncio.wait_for(escrita, 20)
    finally:
        await trava.close()
        await admin.close()
    assert gravacao.gravada
    assert len(await _mensagens(demo_pg, r.empresa_id, ticket_id)) == antes + 1


async def test_mesma_chave_ao_mesmo_tempo_grava_uma_vez(banco_demo: BancoDemo) -> None:
    """Concurrent requests with one key: one writes, the others wait for it (PostgreSQL: on the key's
    primary key; SQLite: the one writer) and answer its message."""
    r = banco_demo.resumo
    ana = r.id_de("ana@demo.local")
    antes = len(await _mensagens(banco_demo, r.empresa_id, r.tickets[1]))
    gravacoes = await asyncio.gather(
        *(_escrever(banco_demo, r.empresa_id, _pedido(r.tickets[1], ana, chave=_chave())) for _ in range(6))
    )
    escritas = [g for g in gravacoes if g.gravada]
    assert len(escritas) == 1
    assert all(g.mensagem == escritas[0].mensagem for g in gravacoes)
    assert all(g.impressao_anterior == "mensagem:1" for g in gravacoes if not g.gravada)
    assert len(await _mensagens(banco_demo, r.empresa_id, r.tickets[1])) == antes + 1


def _espiar_lotes(banco: BancoDemo) -> list[int]:
    """The sizes of the batches the storage sends (PostgreSQL), the real write still done."""
    tamanhos: list[int] = []
    lotes = banco.storage._lotes
    assert lotes is not None
    escrever = lotes._lote

    async def espiado(empresa_id: str, pedidos: Any) -> list[MensagemGravada]:
        tamanhos.append(len(pedidos))
        return await escrever(empresa_id, pedidos)

    lotes._lote = espiado
    return tamanhos


@pytest.mark.postgres
async def test_postgres_escritas_de_um_ticket_em_lotes_na_ordem_de_chegada(demo_pg: BancoDemo) -> None:
    """One ticket's writes that arrive while its batch is in the database go together in the next
    one, numbered in the order they arrived, each answered with its own message; another ticket's
    write does not wait for them."""
    r = demo_pg.resumo
    ticket_id, ana = r.tickets[1], r.id_de("ana@demo.local")
    tamanhos = _espiar_lotes(demo_pg)
    antes = len(await _mensagens(demo_pg, r.empresa_id, ticket_id))
    pedidos = [_pedido(ticket_id, ana, conteudo=f"m{i}") for i in range(20)]
    outro = _pedido(r.tickets[0], ana, conteudo="outro")
    gravacoes = await asyncio.gather(*(_escrever(demo_pg, r.empresa_id, p) for p in [*pedidos, outro]))
    assert tamanhos[0] == 1 and max(tamanhos) > 1 and sum(tamanhos) == 21  # the first went alone
    assert all(g.gravada and g.mensagem is not None for g in gravacoes)
    deste = [g.mensagem for g in gravacoes[:20] if g.mensagem is not None]
    assert [m.conteudo for m in deste] == [f"m{i}" for i in range(20)]
    assert [m.id for m in deste] == [p.id for p in pedidos]
    assert gravacoes[20].mensagem is not None and gravacoes[20].mensagem.ticket_id == r.tickets[0]
    guardadas = await _mensagens(demo_pg, r.empresa_id, ticket_id)
    assert [m.id for m in guardadas[antes:]] == [p.id for p in pedidos]


@pytest.mark.postgres
async def test_postgres_lote_com_uma_escrita_recusada_responde_cada_uma(demo_pg: BancoDemo) -> None:
    """A batch the database refuses as a whole (one write breaks a constraint) is written again one
    message at a time: the bad one fails alone, the others are written and answered; keys and
    replays inside a batch answer as they would one after the other."""
    r = demo_pg.resumo
    ticket_id, ana = r.tickets[1], r.id_de("ana@demo.local")
    tamanhos = _espiar_lotes(demo_pg)
    antes = len(await _mensagens(demo_pg, r.empresa_id, ticket_id))
    primeira = _pedido(ticket_id, ana, conteudo="primeira")
    ruim = _pedido(ticket_id, ana, tipo="gif")  # past the domain's check: the table's CHECK refuses it
    boas = [_pedido(ticket_id, ana, conteudo=f"b{i}") for i in range(3)]
    com_chave = [_pedido(ticket_id, ana, conteudo="k", chave=_chave("lote")) for _ in range(2)]
    resultados = await asyncio.gather(
        *(_escrever(demo_pg, r.empresa_id, p) for p in [primeira, *boas[:1], ruim, *boas[1:], *com_chave]),
        return_exceptions=True,
    )
    assert max(tamanhos) > 1
    assert isinstance(resultados[2], DBAPIError)
    escritas = [g for g in resultados if isinstance(g, MensagemGravada)]
    assert len(escritas) == 6 and all(g.mensagem is not None for g in escritas)
    assert [g.gravada for g in escritas] == [True, True, True, True, True, False]
    assert escritas[5].impressao_anterior == "mensagem:1" and escritas[5].mensagem == escritas[4].mensagem
    guardadas = await _mensagens(demo_pg, r.empresa_id, ticket_id)
    assert [m.conteudo for m in guardadas[antes:]] == ["primeira", "b0", "b1", "b2", "k"]


@pytest.mark.postgres
async def test_postgres_escrita_cancelada_na_fila_nao_e_gravada(demo_pg: BancoDemo) -> None:
    """Writes queued behind the ticket's batch (held here by another transaction's lock on the
    ticket) and cancelled before their batch is sent are left out; those queued after them, more than
    one batch's worth later, are still written, in order."""
    import asyncpg

    from atendimento.storage.escrita_lote import MAXIMO_POR_LOTE

    r = demo_pg.resumo
    ticket_id, ana = r.tickets[0], r.id_de("ana@demo.local")
    antes = len(await _mensagens(demo_pg, r.empresa_id, ticket_id))
    trava = await asyncpg.connect(demo_pg.banco.admin_url)
    try:
        transacao = trava.transaction()
        await transacao.start()
        await trava.execute("UPDATE tickets SET prioridade = prioridade WHERE id = $1", ticket_id)
        primeira = asyncio.create_task(
            _escrever(demo_pg, r.empresa_id, _pedido(ticket_id, ana, conteudo="0"))
        )
        await asyncio.sleep(0.2)  # in the database, waiting for the lock
        canceladas = [
            asyncio.create_task(_escrever(demo_pg, r.empresa_id, _pedido(ticket_id, ana, conteudo=f"c{i}")))
            for i in range(MAXIMO_POR_LOTE)
        ]
        depois = [_pedido(ticket_id, ana, conteudo=f"d{i}") for i in range(3)]
        seguintes = [asyncio.create_task(_escrever(demo_pg, r.empresa_id, p)) for p in depois]
        await asyncio.sleep(0)
        for tarefa in canceladas:
            tarefa.cancel()
        await transacao.commit()
        assert (await asyncio.wait_for(primeira, 20)).gravada
        gravacoes = await asyncio.wait_for(asyncio.gather(*seguintes), 20)
    finally:
        await trava.close()
    assert all(t.cancelled() for t in canceladas)
    assert [g.mensagem.id for g in gravacoes if g.mensagem is not None] == [p.id for p in depois]
    guardadas = await _mensagens(demo_pg, r.empresa_id, ticket_id)
    assert [m.conteudo for m in guardadas[antes:]] == ["0", "d0", "d1", "d2"]
