"""Messages on a ticket: listing them, an agent writing, a customer's message from a channel."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from atendimento.domain import idempotencia, regras
from atendimento.domain.entidades import (
    MensagemDados,
    TicketDados,
    agora,
    novo_id,
)
from atendimento.domain.erros import (
    CursorInvalido,
    canal_nao_encontrado,
    ticket_nao_encontrado,
    usuario_nao_encontrado,
)
from atendimento.domain.idempotencia import Idempotencia
from atendimento.domain.servicos.base import Evento, ServicoBase, buscar_ticket, novo_ticket


class CasosMensagens(ServicoBase):
    """The message use cases; each publishes its events after the commit."""

    async def listar_mensagens(
        self, empresa_id: str, ticket_id: str, *, apos: str | None = None, limite: int | None = None
    ) -> list[MensagemDados]:
        """In the order stored; ``apos`` (a message id of this ticket) and ``limite`` page it."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(ticket_id, "ticketId")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            await buscar_ticket(repo, ticket_id)
            ordem = None
            if apos is not None:
                ordem = await repo.ordem_da_mensagem(ticket_id, apos)
                if ordem is None:
                    raise CursorInvalido("Cursor inválido: não é uma posição deste ticket", "CURSOR_INVALIDO")
            return await repo.listar_mensagens(ticket_id, apos_ordem=ordem, limite=limite)

    async def enviar_mensagem(
        self,
        empresa_id: str,
        ticket_id: str,
        *,
        remetente_id: str,
        tipo: str = "texto",
        conteudo: str,
        metadados: dict[str, Any] | None = None,
        idempotente: Idempotencia | None = None,
    ) -> MensagemDados:
        """A user of the tenant writes on a ticket (not on a closed one). ``idempotente``: a retry
        with the same key answers the first message and writes and publishes nothing."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(ticket_id, "ticketId")
        regras.validar_id(remetente_id, "remetenteId")
        tipo = regras.validar_tipo_mensagem(tipo)
        conteudo = regras.validar_conteudo(conteudo)
        metadados = regras.validar_metadados(metadados)
        # Only with a key: hashing the content costs nothing to a write that has none (the hot path).
        impressao = (
            idempotencia.impressao(
                "mensagem", ticketId=ticket_id, tipo=tipo, conteudo=conteudo, metadados=metadados
            )
            if idempotente is not None
            else ""
        )
        if idempotente is None:
            return await self._enviar_em_um_passo(
                empresa_id, ticket_id, remetente_id, tipo=tipo, conteudo=conteudo, metadados=metadados
            )
        eventos: list[Evento] = []
        async with self._storage.unidade(empresa_id) as repo:
            # The sender is read before the ticket is locked, so the lock (which serialises every
            # write to this ticket) is held for the fewest round trips: the insert and the commit.
            remetente = await repo.obter_usuario(remetente_id)
            if remetente is None:
                # The refusals keep their order: no ticket, then a closed ticket, then no sender.
                ticket = await buscar_ticket(repo, ticket_id)
                regras.exigir_ticket_nao_fechado(ticket.status)
                raise usuario_nao_encontrado()
            # Before the ticket's lock: a concurrent retry waits here for the first to finish.
            anterior = await idempotencia.reservar(repo, idempotente, impressao)
            if anterior is not None:
                return MensagemDados.de_evento(anterior)
            mensagem = MensagemDados(
                id=novo_id(),
                ticket_id=ticket_id,
                ticket_numero="",  # known once the ticket is read, below
                remetente_id=remetente.id,
                atendente_id=remetente.id if remetente.interno else None,
                tipo=tipo,
                conteudo=conteudo,
                metadados=metadados,
                criado_em=agora(),
            )
            # Lock, count and insert at once; the checks come after, and raising here rolls the
            # insert back with the rest of the transaction (nothing is published).
            achado = await repo.inserir_mensagem_no_ticket(mensagem)
            if achado is None:
                raise ticket_nao_encontrado()
            regras.exigir_ticket_nao_fechado(achado.status)
            ticket = achado
            mensagem = replace(mensagem, ticket_numero=ticket.numero)
            await idempotencia.concluir(repo, idempotente, mensagem.para_evento())
            eventos.append(lambda: self._publicador.mensagem_nova(mensagem, ticket))
        self._publicar(eventos)
        return mensagem

    async def _enviar_em_um_passo(
        self,
        empresa_id: str,
        ticket_id: str,
        remetente_id: str,
        *,
        tipo: str,
        conteudo: str,
        metadados: dict[str, Any] | None,
    ) -> MensagemDados:
        """The write without an Idempotency-Key (nearly every one): storage's one-step write (one
        round trip on PostgreSQL), then the same refusals, in the same order, as the path above."""
        rascunho = MensagemDados(
            id=novo_id(),
            ticket_id=ticket_id,
            ticket_numero="",  # known from the ticket that comes back
            remetente_id=remetente_id,
            atendente_id=None,  # the sender's role decides it, in storage and below alike
            tipo=tipo,
            conteudo=conteudo,
            metadados=metadados,
            criado_em=agora(),
        )
        gravacao = await self._storage.gravar_mensagem(empresa_id, rascunho)
        ticket, remetente = gravacao.ticket, gravacao.remetente
        if ticket is None:
            raise ticket_nao_encontrado()
        regras.exigir_ticket_nao_fechado(ticket.status)
        if remetente is None:
            raise usuario_nao_encontrado()
        if not gravacao.gravada:  # the port writes whenever both exist and the ticket is not final
            raise RuntimeError("gravar_mensagem did not write a message it had no reason to refuse")
        mensagem = replace(
            rascunho,
            ticket_numero=ticket.numero,
            atendente_id=remetente.id if remetente.interno else None,
        )
        self._publicar([lambda: self._publicador.mensagem_nova(mensagem, ticket)])
        return mensagem

    async def receber_mensagem_canal(
        self,
        empresa_id: str,
        canal_id: str,
        *,
        contato: str,
        nome_cliente: str | None = None,
        tipo: str = "texto",
        conteudo: str,
        metadados: dict[str, Any] | None = None,
    ) -> tuple[TicketDados, MensagemDados, bool]:
        """A customer's message from a channel integration: (ticket, message, ticket was created).

        The customer is found or created by ``contato``; the message goes to their open ticket on
        that channel (status not resolvido/fechado), or a new ticket in the channel's default fila."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(canal_id, "canalId")
        contato = regras.validar_texto(contato, "contato", regras.MAX_CONTATO).strip()
        nome = regras.validar_texto_opcional(nome_cliente, "nomeCliente", regras.MAX_NOME)
        tipo = regras.validar_tipo_mensagem(tipo)
        conteudo = regras.validar_conteudo(conteudo)
        metadados = regras.validar_metadados(metadados)
        eventos: list[Evento] = []
        async with self._storage.unidade(empresa_id) as repo:
            canal = await repo.obter_canal(canal_id)
            if canal is None or not canal.ativo:
                raise canal_nao_encontrado()
            cliente = await repo.obter_ou_criar_cliente(contato, (nome or "").strip() or contato)
            ticket = await repo.ticket_aberto_do_cliente(cliente.id, canal.id)
            criado = ticket is None
            if ticket is None:
                ticket = await novo_ticket(
                    repo, cliente_id=cliente.id, canal_id=canal.id, fila_id=canal.fila_padrao_id
                )
                novo = ticket
                eventos.append(lambda: self._publicador.ticket_novo(novo))
            mensagem = MensagemDados(
                id=novo_id(),
                ticket_id=ticket.id,
                ticket_numero=ticket.numero,
                remetente_id=cliente.id,
                atendente_id=None,
                tipo=tipo,
                conteudo=conteudo,
                metadados=metadados,
                criado_em=agora(),
            )
            # Lock, count and insert at once (one statement on PostgreSQL); the ticket was read or
            # made in this transaction, so it is there.
            if await repo.inserir_mensagem_no_ticket(mensagem) is None:
                raise ticket_nao_encontrado()
            retomado = regras.status_ao_responder_cliente(ticket)
            if retomado is not None:
                # The team was waiting for this answer: the ticket is theirs to act on again.
                ticket = replace(ticket, status=retomado, atualizado_em=await repo.instante_de_atualizacao())
                await repo.salvar_ticket(ticket)
            do_ticket = ticket
            eventos.append(lambda: self._publicador.mensagem_nova(mensagem, do_ticket))
            if retomado is not None:
                eventos.append(lambda: self._publicador.ticket_status(do_ticket))
                eventos.append(lambda: self._publicador.ticket_atualizado(do_ticket))
        self._publicar(eventos)
        if criado or retomado == "aberto":
            ticket = await self._rotear_novo(ticket)
        return ticket, mensagem, criado
