"""Tickets: list, read, open, update, assign, change status, and their history.

Every change takes its ``ator`` (who does it; ``SISTEMA`` for routing, the demo loader and the CLI),
is checked against ``permissoes`` before anything is written, and writes one history row in the
same transaction. The events carry the actor as ``atualizadoPor``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import Enum
from typing import Any

from atendimento.domain import idempotencia, permissoes, regras
from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import SISTEMA, Ator, HistoricoDados, TicketDados
from atendimento.domain.erros import (
    CursorInvalido,
    canal_nao_encontrado,
    cliente_nao_encontrado,
    fila_nao_encontrada,
)
from atendimento.domain.idempotencia import Idempotencia
from atendimento.domain.servicos.base import (
    Evento,
    ServicoBase,
    buscar_atendente,
    buscar_ticket,
    novo_ticket,
    registrar_historico,
)


class _Omitido(Enum):
    OMITIDO = "omitido"


# Default of the optional fields of ``atualizar_ticket``: "not given", unlike None ("clear it").
OMITIDO = _Omitido.OMITIDO


class CasosTickets(ServicoBase):
    """The ticket use cases; each publishes its events after the commit."""

    async def ticket_existe(self, empresa_id: str, ticket_id: str) -> bool:
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(ticket_id, "ticketId")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            return await repo.ticket_existe(ticket_id)

    async def listar_tickets(
        self,
        empresa_id: str,
        *,
        status: str | None = None,
        atendente_id: str | None = None,
        fila_id: str | None = None,
        atualizado_desde: datetime | None = None,
        apos: tuple[datetime, str] | None = None,
        limite: int | None = None,
    ) -> list[TicketDados]:
        """By (atualizado_em, id). ``atualizado_desde``: only those updated at or after it; ``apos``
        and ``limite`` page it (keyset: a ticket updated between two pages comes again, later)."""
        regras.validar_id(empresa_id, "empresaId")
        if status is not None:
            regras.validar_status(status)
        regras.validar_id_opcional(atendente_id, "atendenteId")
        regras.validar_id_opcional(fila_id, "filaId")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            return await repo.listar_tickets(
                status=status,
                atendente_id=atendente_id,
                fila_id=fila_id,
                atualizado_desde=atualizado_desde,
                apos=apos,
                limite=limite,
            )

    async def obter_ticket(self, empresa_id: str, ticket_id: str) -> TicketDados:
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(ticket_id, "ticketId")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            return await buscar_ticket(repo, ticket_id)

    async def criar_ticket(
        self,
        empresa_id: str,
        *,
        cliente_id: str,
        canal_id: str,
        fila_id: str,
        prioridade: str = "media",
        assunto: str | None = None,
        descricao: str | None = None,
        atendente_id: str | None = None,
        idempotente: Idempotencia | None = None,
        ator: Ator = SISTEMA,
    ) -> TicketDados:
        """``idempotente``: a retry with the same key answers the first ticket, writes nothing.
        Opening a ticket assigned to someone else is assigning it: ``permissoes.exigir_atribuir``."""
        permissoes.exigir_interno(ator)
        if atendente_id is not None:
            permissoes.exigir_atribuir(ator, None, atendente_id)
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(cliente_id, "clienteId")
        regras.validar_id(canal_id, "canalId")
        regras.validar_id(fila_id, "filaId")
        regras.validar_id_opcional(atendente_id, "atendenteId")
        prioridade = regras.validar_prioridade(prioridade)
        assunto = regras.validar_assunto(assunto)
        descricao = regras.validar_descricao(descricao)
        impressao = (
            idempotencia.impressao(
                "ticket",
                clienteId=cliente_id,
                canalId=canal_id,
                filaId=fila_id,
                prioridade=prioridade,
                assunto=assunto,
                descricao=descricao,
                atendenteId=atendente_id,
            )
            if idempotente is not None
            else ""
        )
        eventos: list[Evento] = []
        async with self._storage.unidade(empresa_id) as repo:
            if await repo.obter_cliente(cliente_id) is None:
                raise cliente_nao_encontrado()
            if await repo.obter_canal(canal_id) is None:
                raise canal_nao_encontrado()
            if await repo.obter_fila(fila_id) is None:
                raise fila_nao_encontrada()
            if atendente_id is not None:
                await buscar_atendente(repo, atendente_id)
            # After the checks (a refused request holds no key), before the write.
            anterior = await idempotencia.reservar(repo, idempotente, impressao)
            if anterior is not None:
                return TicketDados.de_evento(anterior)
            ticket = await novo_ticket(
                repo,
                cliente_id=cliente_id,
                canal_id=canal_id,
                fila_id=fila_id,
                prioridade=prioridade,
                assunto=assunto,
                descricao=descricao,
                atendente_id=atendente_id,
            )
            await registrar_historico(repo, ator, "criado", None, ticket)
            await idempotencia.concluir(repo, idempotente, ticket.para_evento())
            por = ator.usuario_id
            eventos.append(lambda: self._publicador.ticket_novo(ticket, por))
            if atendente_id is not None:
                eventos.append(lambda: self._publicador.ticket_atribuido(ticket, por))
        self._publicar(eventos)
        return await self._rotear_novo(ticket)

    async def atualizar_ticket(
        self,
        empresa_id: str,
        ticket_id: str,
        *,
        prioridade: str | _Omitido = OMITIDO,
        assunto: str | _Omitido | None = OMITIDO,
        descricao: str | _Omitido | None = OMITIDO,
        fila_id: str | _Omitido = OMITIDO,
        ator: Ator = SISTEMA,
    ) -> TicketDados:
        """Change only the given fields (None clears assunto/descricao). No actual change: no write,
        no event. Only who may change this ticket (``permissoes.exigir_alterar``)."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(ticket_id, "ticketId")
        mudancas: dict[str, Any] = {}
        if prioridade is not OMITIDO:
            mudancas["prioridade"] = regras.validar_prioridade(prioridade)
        if assunto is not OMITIDO:
            mudancas["assunto"] = regras.validar_assunto(assunto)
        if descricao is not OMITIDO:
            mudancas["descricao"] = regras.validar_descricao(descricao)
        if fila_id is not OMITIDO:
            mudancas["fila_id"] = regras.validar_id(fila_id, "filaId")
        eventos: list[Evento] = []
        async with self._storage.unidade(empresa_id) as repo:
            atual = await buscar_ticket(repo, ticket_id, bloquear=True)
            permissoes.exigir_alterar(ator, atual)
            mudancas = {k: v for k, v in mudancas.items() if getattr(atual, k) != v}
            if not mudancas:
                return atual
            regras.exigir_ticket_nao_fechado(atual.status)
            if "fila_id" in mudancas and await repo.obter_fila(mudancas["fila_id"]) is None:
                raise fila_nao_encontrada()
            ticket = replace(atual, **mudancas, atualizado_em=await repo.instante_de_atualizacao())
            await repo.salvar_ticket(ticket)
            await registrar_historico(repo, ator, "atualizado", atual, ticket)
            por = ator.usuario_id
            eventos.append(lambda: self._publicador.ticket_atualizado(ticket, por))
        self._publicar(eventos)
        if "fila_id" in mudancas and ticket.aberto:
            return await self._rotear_novo(ticket)  # moved: it may wait in the new fila
        return ticket

    async def atribuir_ticket(
        self, empresa_id: str, ticket_id: str, atendente_id: str, *, ator: Ator = SISTEMA
    ) -> TicketDados:
        """Assign to an atendente of the tenant. Assigning to the current atendente changes nothing.
        Only who may (``permissoes.exigir_atribuir``)."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(ticket_id, "ticketId")
        regras.validar_id(atendente_id, "atendenteId")
        eventos: list[Evento] = []
        async with self._storage.unidade(empresa_id) as repo:
            atual = await buscar_ticket(repo, ticket_id, bloquear=True)
            permissoes.exigir_atribuir(ator, atual.atendente_id, atendente_id)
            await buscar_atendente(repo, atendente_id)
            if atual.atendente_id == atendente_id:
                return atual
            regras.exigir_ticket_nao_fechado(atual.status)
            ticket = replace(
                atual, atendente_id=atendente_id, atualizado_em=await repo.instante_de_atualizacao()
            )
            await repo.salvar_ticket(ticket)
            await registrar_historico(repo, ator, "atribuido", atual, ticket)
            por = ator.usuario_id
            eventos.append(lambda: self._publicador.ticket_atribuido(ticket, por))
            eventos.append(lambda: self._publicador.ticket_atualizado(ticket, por))
        self._publicar(eventos)
        if atual.atendente_id is not None and atual.aberto:
            await self.rotear_atendente(empresa_id, atual.atendente_id)  # the previous one has room now
        return ticket

    async def mudar_status(
        self, empresa_id: str, ticket_id: str, status: str, *, ator: Ator = SISTEMA
    ) -> TicketDados:
        """Only who may change this ticket (``permissoes.exigir_alterar``); invalid transition: 409."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(ticket_id, "ticketId")
        status = regras.validar_status(status)
        eventos: list[Evento] = []
        async with self._storage.unidade(empresa_id) as repo:
            atual = await buscar_ticket(repo, ticket_id, bloquear=True)
            permissoes.exigir_alterar(ator, atual)
            regras.exigir_transicao(atual.status, status)
            ticket = replace(atual, status=status, atualizado_em=await repo.instante_de_atualizacao())
            await repo.salvar_ticket(ticket)
            # Channels out: the ticket.status event in this same transaction (the outbox).
            if await repo.saida.registrar_status_ticket(ticket, atual.status):
                eventos.append(self._avisar_saida)
            await registrar_historico(repo, ator, "status", atual, ticket)
            por = ator.usuario_id
            eventos.append(lambda: self._publicador.ticket_status(ticket, por))
            eventos.append(lambda: self._publicador.ticket_atualizado(ticket, por))
        self._publicar(eventos)
        if atual.aberto and not ticket.aberto and ticket.atendente_id is not None:
            await self.rotear_atendente(empresa_id, ticket.atendente_id)  # resolved or closed: room
        elif ticket.status == "aberto":
            return await self._rotear_novo(ticket)  # back to the queue
        return ticket

    async def listar_historico(
        self, empresa_id: str, ticket_id: str, *, apos: str | None = None, limite: int | None = None
    ) -> list[HistoricoDados]:
        """Oldest first; ``apos`` (an entry id of this ticket's history) and ``limite`` page it."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(ticket_id, "ticketId")
        if apos is not None and (not isinstance(apos, str) or len(apos) > regras.MAX_ID):
            raise CursorInvalido("Cursor inválido", Codigo.CURSOR_INVALIDO)
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            await buscar_ticket(repo, ticket_id)
            return await repo.listar_historico(ticket_id, apos=apos, limite=limite)
