"""Events leave only after the commit: a write the database refuses publishes nothing.

The failures are real ones from the database (a broken counter, a trigger), not mocks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from apoio_eventos import PublicadorGravador
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from atendimento.domain.entidades import MensagemDados, TicketDados
from atendimento.storage import Storage

if TYPE_CHECKING:
    from conftest import BancoDemo


async def _como_dono(demo: BancoDemo, empresa_id: str, *sqls: str) -> None:
    """Break or rig something as the owner (the admin URL), outside the application's role."""
    admin = Storage(demo.banco.admin_url)
    try:
        async with admin.transacao(empresa_id) as conn:
            for sql in sqls:
                await conn.execute(text(sql))
    finally:
        await admin.close()


async def test_criacao_que_falha_no_banco_nao_publica(banco_demo: BancoDemo) -> None:
    s, r, pub = banco_demo.servico(), banco_demo.resumo, banco_demo.publicador
    # Rewind the counter: the next ticket gets numero 1 again, and UNIQUE (empresa_id, numero) refuses.
    await _como_dono(
        banco_demo,
        r.empresa_id,
        f"UPDATE contadores_ticket SET ultimo_numero = 0 WHERE empresa_id = '{r.empresa_id}'",
    )
    with pytest.raises(IntegrityError):
        await s.criar_ticket(
            r.empresa_id,
            cliente_id=r.clientes["Pedro Santos"],
            canal_id=r.canais["webchat"],
            fila_id=r.filas["Suporte"],
            atendente_id=r.id_de("ana@demo.local"),
        )
    assert pub.eventos == []
    assert len(await s.listar_tickets(r.empresa_id)) == 4


async def test_mensagem_de_canal_que_falha_nao_publica_nem_o_ticket_novo(banco_demo: BancoDemo) -> None:
    s, r, pub = banco_demo.servico(), banco_demo.resumo, banco_demo.publicador
    # A trigger refuses one message content; the ticket and customer made before it roll back too.
    if banco_demo.is_postgres:
        sqls = (
            "CREATE FUNCTION recusar() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN IF NEW.conteudo = 'falhar' THEN RAISE EXCEPTION 'recusada'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER recusar BEFORE INSERT ON mensagens FOR EACH ROW EXECUTE FUNCTION recusar()",
        )
    else:
        sqls = (
            "CREATE TRIGGER recusar BEFORE INSERT ON mensagens WHEN NEW.conteudo = 'falhar' "
            "BEGIN SELECT RAISE(ABORT, 'recusada'); END",
        )
    await _como_dono(banco_demo, r.empresa_id, *sqls)
    with pytest.raises(DBAPIError, match="recusada"):
        await s.receber_mensagem_canal(r.empresa_id, r.canais["webchat"], contato="novo:1", conteudo="falhar")
    assert pub.eventos == []
    assert len(await s.listar_tickets(r.empresa_id)) == 4
    # The same call with an accepted message works and publishes both events.
    ticket, _, criado = await s.receber_mensagem_canal(
        r.empresa_id, r.canais["webchat"], contato="novo:1", conteudo="ok"
    )
    assert criado and ticket.numero == "5"  # the failed attempt left no gap either
    assert pub.nomes() == ["ticket_novo", "mensagem_nova"]


class PublicadorQueConfereCommit(PublicadorGravador):
    """Records each event with whether the service still held a database connection at that moment."""

    def __init__(self, storage: Storage) -> None:
        super().__init__()
        self.storage = storage
        self.conexoes_abertas: list[int] = []

    def _gravar(self, nome: str, *args: object) -> None:
        abertas: int = self.storage.engine.pool.checkedout()  # type: ignore[attr-defined]
        # SQLite's group commit keeps its writer connection checked out between batches; it counts
        # only while a batch's transaction is open on it.
        escritor = self.storage._grupo._escritor if self.storage._grupo is not None else None
        if escritor is not None:
            sqlite = escritor.sync_connection.connection.driver_connection.sqlite3  # type: ignore[union-attr]
            abertas -= 0 if sqlite.in_transaction else 1
        self.conexoes_abertas.append(abertas)
        super()._gravar(nome, *args)


async def test_eventos_saem_depois_que_a_transacao_terminou(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    pub = PublicadorQueConfereCommit(banco_demo.storage)
    s = banco_demo.servico(pub)
    ticket = await s.criar_ticket(
        r.empresa_id,
        cliente_id=r.clientes["Pedro Santos"],
        canal_id=r.canais["webchat"],
        fila_id=r.filas["Suporte"],
        atendente_id=r.id_de("bruno@demo.local"),
    )
    await s.mudar_status(r.empresa_id, ticket.id, "em_atendimento")
    await s.enviar_mensagem(
        r.empresa_id, ticket.id, remetente_id=r.id_de("bruno@demo.local"), role="atendente", conteudo="oi"
    )
    await s.notificar(r.empresa_id, usuario_id=r.id_de("ana@demo.local"), tipo="x")
    assert pub.nomes() == [
        "ticket_novo",
        "ticket_atribuido",
        "ticket_status",
        "ticket_atualizado",
        "mensagem_nova",
        "notificacao",
    ]
    assert pub.conexoes_abertas == [0] * 6  # the connection was back in the pool: committed


class PublicadorQueFalha(PublicadorGravador):
    def _gravar(self, nome: str, *args: object) -> None:
        super()._gravar(nome, *args)
        raise RuntimeError("assinante quebrado")


async def test_assinante_que_falha_nao_desfaz_a_escrita(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    pub = PublicadorQueFalha()
    s = banco_demo.servico(pub)
    ticket = await s.mudar_status(r.empresa_id, r.tickets[0], "em_atendimento")
    assert ticket.status == "em_atendimento"
    assert pub.nomes() == ["ticket_status", "ticket_atualizado"]  # one failure does not stop the next
    assert (await s.obter_ticket(r.empresa_id, r.tickets[0])).status == "em_atendimento"
    assert isinstance(pub.eventos[0].args[0], TicketDados) and not isinstance(
        pub.eventos[0].args[0], MensagemDados
    )
