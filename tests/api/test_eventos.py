"""Events reach the publisher only after the write is committed, and a refused request publishes
nothing. The publisher here looks at the database through a separate connection at the moment
each event is published: the row must already be there, in its new state."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from apoio_eventos import PublicadorGravador

from atendimento.domain.entidades import ATOR_SISTEMA, MensagemDados, TicketDados

from .apoio import Ambiente


@dataclass
class PublicadorQueConfere(PublicadorGravador):
    arquivo: str = ""
    vistos: list[tuple[str, Any]] = field(default_factory=list)

    def _consultar(self, sql: str, *args: object) -> Any:
        # A second connection sees committed data only (SQLite WAL readers never see a pending write).
        with closing(sqlite3.connect(self.arquivo)) as conexao:
            linha = conexao.execute(sql, args).fetchone()
        return None if linha is None else linha[0]

    def _ticket(self, nome: str, ticket: TicketDados) -> None:
        status = self._consultar("SELECT status FROM tickets WHERE id = ?", ticket.id)
        self.vistos.append((nome, status == ticket.status))

    def ticket_novo(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None:
        self._ticket("ticket_novo", ticket)
        super().ticket_novo(ticket, atualizado_por)

    def ticket_status(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None:
        self._ticket("ticket_status", ticket)
        super().ticket_status(ticket, atualizado_por)

    def ticket_atribuido(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None:
        atendente = self._consultar("SELECT atendente_id FROM tickets WHERE id = ?", ticket.id)
        self.vistos.append(("ticket_atribuido", atendente == ticket.atendente_id))
        super().ticket_atribuido(ticket, atualizado_por)

    def mensagem_nova(self, mensagem: MensagemDados, ticket: TicketDados) -> None:
        existe = self._consultar("SELECT count(*) FROM mensagens WHERE id = ?", mensagem.id)
        self.vistos.append(("mensagem_nova", existe == 1))
        super().mensagem_nova(mensagem, ticket)


async def test_eventos_depois_do_commit(demo_sqlite: Any, amb_fabrica: Any) -> None:
    arquivo = demo_sqlite.banco.app_url.removeprefix("sqlite:///")
    publicador = PublicadorQueConfere(arquivo=arquivo)
    amb: Ambiente = await amb_fabrica(servico=demo_sqlite.servico(publicador))
    gestor = amb.auth("gestor@demo.local")
    resumo = amb.demo

    criado = await amb.cliente.post(
        "/atendimento/tickets",
        json={
            "clienteId": resumo.clientes["Pedro Santos"],
            "canalId": resumo.canais["webchat"],
            "filaId": resumo.filas["Suporte"],
            "atendenteId": amb.id("ana@demo.local"),
        },
        headers=gestor,
    )
    ticket_id = criado.json()["data"]["id"]
    url = f"/atendimento/tickets/{ticket_id}"
    assert (
        await amb.cliente.post(f"{url}/status", json={"status": "em_atendimento"}, headers=gestor)
    ).is_success
    assert (await amb.cliente.post(f"{url}/mensagens", json={"conteudo": "Olá"}, headers=gestor)).is_success
    canal = await amb.cliente.post(
        f"/atendimento/canais/{resumo.canais['whatsapp']}/mensagens",
        json={"contato": "+5511988887777", "conteudo": "Oi"},
        headers=amb.auth("integracao@demo.local"),
    )
    assert canal.status_code == 201

    assert [nome for nome, _ in publicador.vistos] == [
        "ticket_novo",
        "ticket_atribuido",
        "ticket_status",
        "mensagem_nova",
        "ticket_novo",
        "mensagem_nova",
    ]
    assert all(visivel for _, visivel in publicador.vistos), publicador.vistos


async def test_falhas_nao_publicam(amb: Ambiente) -> None:
    """A sample of refusals at each layer: token, role, body, domain rule, tenant."""
    t1 = amb.demo.tickets[0]
    ana, vendas, carla = (
        amb.auth("ana@demo.local"),
        amb.auth("vendas@demo.local"),
        amb.auth("carla@outra.local"),
    )
    tentativas = [
        ("POST", f"/atendimento/tickets/{t1}/mensagens", {"conteudo": "x"}, {}),
        ("POST", f"/atendimento/tickets/{t1}/mensagens", {"conteudo": "x"}, vendas),
        ("POST", f"/atendimento/tickets/{t1}/mensagens", {"conteudo": ""}, ana),
        ("POST", f"/atendimento/tickets/{t1}/status", {"status": "aberto"}, ana),
        ("POST", f"/atendimento/tickets/{t1}/status", {"status": "resolvido"}, carla),
        ("POST", "/notificacoes", {"tipo": "x"}, ana),
        (
            "POST",
            f"/atendimento/canais/{amb.demo.canais['email']}/mensagens",
            {"contato": "a", "conteudo": "b"},
            ana,
        ),
    ]
    for metodo, url, corpo, headers in tentativas:
        resposta = await amb.cliente.request(metodo, url, json=corpo, headers=headers)
        assert resposta.status_code >= 400, (url, resposta.text)
    assert amb.publicador.eventos == []
