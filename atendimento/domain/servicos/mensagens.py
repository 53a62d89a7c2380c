"""Messages on a ticket: listing them, an agent writing, a customer's message from a channel."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from atendimento.domain import idempotencia, permissoes, regras
from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import (
    SISTEMA,
    Ator,
    MensagemDados,
    TicketDados,
    agora,
    novo_id,
)
from atendimento.domain.erros import (
    CursorInvalido,
    Proibido,
    UsuarioInvalido,
    canal_nao_encontrado,
    ticket_nao_encontrado,
)
from atendimento.domain.idempotencia import Idempotencia
from atendimento.domain.portas import ChaveMensagem, MensagemGravada, NovaMensagem
from atendimento.domain.servicos.base import (
    Evento,
    ServicoBase,
    buscar_ticket,
    novo_ticket,
    registrar_historico,
)


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
                    raise CursorInvalido(
                        "Cursor inválido: não é uma posição deste ticket", Codigo.CURSOR_INVALIDO
                    )
            return await repo.listar_mensagens(ticket_id, apos_ordem=ordem, limite=limite)

    async def enviar_mensagem(
        self,
        empresa_id: str,
        ticket_id: str,
        *,
        remetente_id: str,
        role: str,
        tipo: str = "texto",
        conteudo: str,
        metadados: dict[str, Any] | None = None,
        interna: bool = False,
        idempotente: Idempotencia | None = None,
    ) -> MensagemDados:
        """A user of the tenant writes on a ticket (not on a closed one). ``role``: the one the
        caller's token claims; the sender must be an active user of the tenant with that role
        (``UsuarioInvalido`` otherwise: the database is the authority). ``interna``: an internal
        note, never sent out through the channel. ``idempotente``: a retry with the same key answers
        the first message and writes and publishes nothing."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(ticket_id, "ticketId")
        regras.validar_id(remetente_id, "remetenteId")
        tipo = regras.validar_tipo_mensagem(tipo)
        conteudo = regras.validar_conteudo(conteudo)
        metadados = regras.validar_metadados(metadados)
        chave = None
        if idempotente is not None:
            # The key is the sender's: the token's user, who is also the message's sender.
            argumentos: dict[str, Any] = {"ticketId": ticket_id, "tipo": tipo, "conteudo": conteudo}
            if interna:  # only when set: keys taken before notes existed keep their fingerprint
                argumentos["interna"] = True
            chave = ChaveMensagem(
                chave=idempotente.chave,
                impressao=idempotencia.impressao("mensagem", **argumentos, metadados=metadados),
                validade_desde=agora() - idempotencia.VALIDADE,
            )
        pedido = NovaMensagem(
            id=novo_id(),
            ticket_id=ticket_id,
            remetente_id=remetente_id,
            role=role,
            tipo=tipo,
            conteudo=conteudo,
            metadados=metadados,
            criado_em=agora(),
            interna=interna,
            chave=chave,
        )
        gravacao = await self._storage.acrescentar_mensagem(empresa_id, pedido)
        mensagem, ticket = _aceita(gravacao, chave)
        if gravacao.gravada:  # not a replay: published once, by the request that wrote it
            eventos: list[Evento] = [lambda: self._publicador.mensagem_nova(mensagem, ticket)]
            if mensagem.status_efetivo is not None:  # a person's message, not a note: channels out
                eventos.append(self._avisar_saida)
            self._publicar(eventos)
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
        ator: Ator = SISTEMA,
    ) -> tuple[TicketDados, MensagemDados, bool]:
        """A customer's message from a channel integration: (ticket, message, ticket was created).

        The customer is found or created by ``contato``; the message goes to their open ticket on
        that channel (status not resolvido/fechado), or a new ticket in the channel's default fila.
        ``ator``: the integration's user, which must be bound to the channel (403 otherwise); it is
        the actor of the ticket it opens or reopens."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(canal_id, "canalId")
        contato = regras.validar_texto(contato, "contato", regras.MAX_CONTATO).strip()
        nome = regras.validar_texto_opcional(nome_cliente, "nomeCliente", regras.MAX_NOME)
        tipo = regras.validar_tipo_mensagem(tipo)
        conteudo = regras.validar_conteudo(conteudo)
        metadados = regras.validar_metadados(metadados)
        integracao = None if ator.sistema else await self.registro_usuario(empresa_id, ator.usuario_id)
        por = ator.usuario_id
        eventos: list[Evento] = []
        async with self._storage.unidade(empresa_id) as repo:
            canal = await repo.obter_canal(canal_id)
            if canal is None or not canal.ativo:
                raise canal_nao_encontrado()
            if not ator.sistema:
                # Unknown (or another tenant's) channel: 404 above; one of the tenant's the
                # integration is not bound to: 403.
                if integracao is None:
                    raise Proibido("Integração desconhecida", Codigo.PROIBIDO)
                permissoes.exigir_canal_da_integracao(integracao, canal_id)
            cliente = await repo.obter_ou_criar_cliente(contato, (nome or "").strip() or contato)
            ticket = await repo.ticket_aberto_do_cliente(cliente.id, canal.id)
            criado = ticket is None
            if ticket is None:
                ticket = await novo_ticket(
                    repo, cliente_id=cliente.id, canal_id=canal.id, fila_id=canal.fila_padrao_id
                )
                novo = ticket
                await registrar_historico(repo, ator, "criado", None, novo)
                eventos.append(lambda: self._publicador.ticket_novo(novo, por))
            # A customer's message (no role: the sender is the cliente, found above): never an
            # internal note, never queued to go back out through the channel it came from.
            pedido = NovaMensagem(
                id=novo_id(),
                ticket_id=ticket.id,
                remetente_id=cliente.id,
                role=None,
                tipo=tipo,
                conteudo=conteudo,
                metadados=metadados,
                criado_em=agora(),
            )
            mensagem, ticket = _aceita(await repo.acrescentar_mensagem(pedido), None)
            retomado = regras.status_ao_responder_cliente(ticket)
            if retomado is not None:
                # The team was waiting for this answer: the ticket is theirs to act on again.
                antes = ticket
                ticket = replace(ticket, status=retomado, atualizado_em=await repo.instante_de_atualizacao())
                await repo.salvar_ticket(ticket)
                await registrar_historico(repo, ator, "status", antes, ticket)
                # Channels out: the ticket.status event in this same transaction (the outbox).
                if await repo.saida.registrar_status_ticket(ticket, antes.status):
                    eventos.append(self._avisar_saida)
            do_ticket = ticket
            eventos.append(lambda: self._publicador.mensagem_nova(mensagem, do_ticket))
            if retomado is not None:
                eventos.append(lambda: self._publicador.ticket_status(do_ticket, por))
                eventos.append(lambda: self._publicador.ticket_atualizado(do_ticket, por))
        self._publicar(eventos)
        if criado or retomado == "aberto":
            ticket = await self._rotear_novo(ticket)
        return ticket, mensagem, criado


def _aceita(gravacao: MensagemGravada, chave: ChaveMensagem | None) -> tuple[MensagemDados, TicketDados]:
    """The message write's answer as the message (written now, or the key's first one) and its
    ticket, or the refusal. The one place that orders them: an invalid sender first (nothing else
    was looked at), then a key already taken (its first answer, or a conflict), then no ticket,
    then a closed one."""
    if not gravacao.autorizado:
        raise UsuarioInvalido()
    ticket, mensagem = gravacao.ticket, gravacao.mensagem
    if gravacao.impressao_anterior is not None:
        assert chave is not None
        if gravacao.impressao_anterior != chave.impressao:
            raise idempotencia.conflito()
    else:
        if ticket is None:
            raise ticket_nao_encontrado()
        regras.exigir_ticket_nao_fechado(ticket.status)
    if mensagem is None or ticket is None:
        # Written, or replayed: both come back with their ticket. Anything else is a broken port.
        raise RuntimeError("acrescentar_mensagem answered neither a message nor a refusal")
    return mensagem, ticket
