"""The use cases of the product: the one place that changes tickets and messages.

Every public method but ``autenticar`` takes the caller's tenant first (from the verified token),
runs in exactly one transaction scoped to it, and publishes its events only after the commit: a
write that fails publishes nothing, and a subscriber never hears of a row it cannot read yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from enum import Enum
from typing import Any

from atendimento.domain import idempotencia, regras
from atendimento.domain.entidades import (
    ROLE_ATENDENTE,
    MensagemDados,
    TicketDados,
    UsuarioDados,
    agora,
    novo_id,
)
from atendimento.domain.erros import (
    CursorInvalido,
    DadosInvalidos,
    NaoEncontrado,
    Proibido,
    canal_nao_encontrado,
    cliente_nao_encontrado,
    fila_nao_encontrada,
    ticket_nao_encontrado,
    usuario_nao_encontrado,
)
from atendimento.domain.eventos import PublicadorEventos, PublicadorNulo
from atendimento.domain.idempotencia import Idempotencia
from atendimento.domain.portas import Armazenamento, Repositorio, VerificadorSenhas

log = logging.getLogger(__name__)

Evento = Callable[[], None]


class _Omitido(Enum):
    OMITIDO = "omitido"


# Default of the optional fields of ``atualizar_ticket``: "not given", unlike None ("clear it").
OMITIDO = _Omitido.OMITIDO


class ServicoAtendimento:
    def __init__(
        self,
        storage: Armazenamento,
        publicador: PublicadorEventos | None = None,
        *,
        senhas: VerificadorSenhas,
    ) -> None:
        self._storage = storage
        self._publicador: PublicadorEventos = publicador or PublicadorNulo()
        self._senhas = senhas

    @property
    def publicador(self) -> PublicadorEventos:
        return self._publicador

    @publicador.setter
    def publicador(self, publicador: PublicadorEventos) -> None:
        # The composition root builds the service before the gateway that implements the port.
        self._publicador = publicador

    def _publicar(self, eventos: list[Evento]) -> None:
        """Called after the commit. The write already happened, so a failing subscriber is logged
        and does not turn a committed change into an error for the caller."""
        for evento in eventos:
            try:
                evento()
            except Exception:
                log.exception("publicador falhou depois do commit")

    # --- identity -----------------------------------------------------------------------------

    async def autenticar(self, email: object, senha: object) -> UsuarioDados | None:
        """The user whose email and password match, in whichever tenant; None otherwise.

        Unknown email, wrong password and malformed input all cost one argon2 check, so the
        answer time does not tell which emails exist."""
        email_norm = regras.normalizar_email(email)
        if not isinstance(senha, str) or len(senha) > regras.MAX_SENHA or email_norm is None:
            await self._senhas.verificar_async(None, senha if isinstance(senha, str) else "")
            return None
        encontrado = await self._storage.buscar_login(email_norm)
        if encontrado is None:
            await self._senhas.verificar_async(None, senha)
            return None
        usuario, senha_hash = encontrado
        return usuario if await self._senhas.verificar_async(senha_hash, senha) else None

    async def obter_usuario(self, empresa_id: str, usuario_id: str) -> UsuarioDados | None:
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(usuario_id, "usuarioId")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            return await repo.obter_usuario(usuario_id)

    async def listar_atendentes(
        self, empresa_id: str, *, apos: tuple[str, str] | None = None, limite: int | None = None
    ) -> list[UsuarioDados]:
        """By (nome, id); ``apos`` and ``limite`` page it (keyset)."""
        regras.validar_id(empresa_id, "empresaId")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            return await repo.listar_usuarios(role=ROLE_ATENDENTE, apos=apos, limite=limite)

    async def definir_status_atendente(
        self, empresa_id: str, usuario_id: str, status: str
    ) -> tuple[UsuarioDados, bool]:
        """The user with the new status, and whether it changed (the same status again writes nothing)."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(usuario_id, "usuarioId")
        status = regras.validar_status_atendente(status)
        async with self._storage.unidade(empresa_id) as repo:
            usuario = await repo.obter_usuario(usuario_id)
            if usuario is None:
                raise usuario_nao_encontrado()
            if usuario.role != ROLE_ATENDENTE:
                raise Proibido("Somente atendentes têm status de atendimento", "PROIBIDO")
            if usuario.status_atendimento == status:
                return usuario, False
            await repo.definir_status_atendente(usuario_id, status)
        return replace(usuario, status_atendimento=status), True

    # --- tickets ------------------------------------------------------------------------------

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
            return await _ticket(repo, ticket_id)

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
    ) -> TicketDados:
        """``idempotente``: a retry with the same key answers the first ticket, writes nothing."""
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
                await _atendente(repo, atendente_id)
            # After the checks (a refused request holds no key), before the write.
            anterior = await idempotencia.reservar(repo, idempotente, impressao)
            if anterior is not None:
                return TicketDados.de_evento(anterior)
            ticket = await _novo_ticket(
                repo,
                cliente_id=cliente_id,
                canal_id=canal_id,
                fila_id=fila_id,
                prioridade=prioridade,
                assunto=assunto,
                descricao=descricao,
                atendente_id=atendente_id,
            )
            await idempotencia.concluir(repo, idempotente, ticket.para_evento())
            eventos.append(lambda: self._publicador.ticket_novo(ticket))
            if atendente_id is not None:
                eventos.append(lambda: self._publicador.ticket_atribuido(ticket))
        self._publicar(eventos)
        return ticket

    async def atualizar_ticket(
        self,
        empresa_id: str,
        ticket_id: str,
        *,
        prioridade: str | _Omitido = OMITIDO,
        assunto: str | _Omitido | None = OMITIDO,
        descricao: str | _Omitido | None = OMITIDO,
        fila_id: str | _Omitido = OMITIDO,
    ) -> TicketDados:
        """Change only the given fields (None clears assunto/descricao). No actual change: no write,
        no event."""
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
            atual = await _ticket(repo, ticket_id, bloquear=True)
            mudancas = {k: v for k, v in mudancas.items() if getattr(atual, k) != v}
            if not mudancas:
                return atual
            regras.exigir_ticket_nao_fechado(atual.status)
            if "fila_id" in mudancas and await repo.obter_fila(mudancas["fila_id"]) is None:
                raise fila_nao_encontrada()
            ticket = replace(atual, **mudancas, atualizado_em=await repo.instante_de_atualizacao())
            await repo.salvar_ticket(ticket)
            eventos.append(lambda: self._publicador.ticket_atualizado(ticket))
        self._publicar(eventos)
        return ticket

    async def atribuir_ticket(self, empresa_id: str, ticket_id: str, atendente_id: str) -> TicketDados:
        """Assign to an atendente of the tenant. Assigning to the current atendente changes nothing."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(ticket_id, "ticketId")
        regras.validar_id(atendente_id, "atendenteId")
        eventos: list[Evento] = []
        async with self._storage.unidade(empresa_id) as repo:
            atual = await _ticket(repo, ticket_id, bloquear=True)
            await _atendente(repo, atendente_id)
            if atual.atendente_id == atendente_id:
                return atual
            regras.exigir_ticket_nao_fechado(atual.status)
            ticket = replace(
                atual, atendente_id=atendente_id, atualizado_em=await repo.instante_de_atualizacao()
            )
            await repo.salvar_ticket(ticket)
            eventos.append(lambda: self._publicador.ticket_atribuido(ticket))
            eventos.append(lambda: self._publicador.ticket_atualizado(ticket))
        self._publicar(eventos)
        return ticket

    async def mudar_status(self, empresa_id: str, ticket_id: str, status: str) -> TicketDados:
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(ticket_id, "ticketId")
        status = regras.validar_status(status)
        eventos: list[Evento] = []
        async with self._storage.unidade(empresa_id) as repo:
            atual = await _ticket(repo, ticket_id, bloquear=True)
            regras.exigir_transicao(atual.status, status)
            ticket = replace(atual, status=status, atualizado_em=await repo.instante_de_atualizacao())
            await repo.salvar_ticket(ticket)
            eventos.append(lambda: self._publicador.ticket_status(ticket))
            eventos.append(lambda: self._publicador.ticket_atualizado(ticket))
        self._publicar(eventos)
        return ticket

    # --- mensagens ----------------------------------------------------------------------------

    async def listar_mensagens(
        self, empresa_id: str, ticket_id: str, *, apos: str | None = None, limite: int | None = None
    ) -> list[MensagemDados]:
        """In the order stored; ``apos`` (a message id of this ticket) and ``limite`` page it."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(ticket_id, "ticketId")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            await _ticket(repo, ticket_id)
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
        eventos: list[Evento] = []
        async with self._storage.unidade(empresa_id) as repo:
            # The sender is read before the ticket is locked, so the lock (which serialises every
            # write to this ticket) is held for the fewest round trips: the insert and the commit.
            remetente = await repo.obter_usuario(remetente_id)
            if remetente is None:
                # The refusals keep their order: no ticket, then a closed ticket, then no sender.
                ticket = await _ticket(repo, ticket_id)
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
                ticket = await _novo_ticket(
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
        return ticket, mensagem, criado

    # --- notificações -------------------------------------------------------------------------

    async def notificar(
        self,
        empresa_id: str,
        *,
        usuario_id: str | None = None,
        tipo: str,
        mensagem: str | None = None,
        dados: object | None = None,
    ) -> None:
        """To one user of the tenant, or (usuario_id None) to the whole tenant."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id_opcional(usuario_id, "usuarioId")
        tipo = regras.validar_texto(tipo, "tipo", regras.MAX_TIPO_NOTIFICACAO)
        mensagem = regras.validar_texto_opcional(mensagem, "mensagem", regras.MAX_MENSAGEM_NOTIFICACAO)
        dados = regras.validar_dados_notificacao(dados)
        if usuario_id is not None:
            async with self._storage.unidade(empresa_id, escrita=False) as repo:
                if await repo.obter_usuario(usuario_id) is None:
                    raise usuario_nao_encontrado()
        self._publicar([lambda: self._publicador.notificacao(empresa_id, usuario_id, tipo, mensagem, dados)])


async def _ticket(repo: Repositorio, ticket_id: str, *, bloquear: bool = False) -> TicketDados:
    ticket = await repo.obter_ticket(ticket_id, bloquear=bloquear)
    if ticket is None:
        raise ticket_nao_encontrado()
    return ticket


async def _atendente(repo: Repositorio, usuario_id: str) -> UsuarioDados:
    usuario = await repo.obter_usuario(usuario_id)
    if usuario is None:
        raise NaoEncontrado("Atendente não encontrado", "USUARIO_NAO_ENCONTRADO")
    if usuario.role != ROLE_ATENDENTE:
        raise DadosInvalidos("O usuário não é um atendente", "USUARIO_NAO_E_ATENDENTE")
    return usuario


async def _novo_ticket(
    repo: Repositorio,
    *,
    cliente_id: str,
    canal_id: str,
    fila_id: str,
    prioridade: str = "media",
    assunto: str | None = None,
    descricao: str | None = None,
    atendente_id: str | None = None,
) -> TicketDados:
    numero = str(await repo.proximo_numero_ticket())
    # After the number: both come from the tenant's counter row, which this transaction now holds.
    momento = await repo.instante_de_atualizacao()
    ticket = TicketDados(
        id=novo_id(),
        numero=numero,
        empresa_id=repo.empresa_id,
        cliente_id=cliente_id,
        canal_id=canal_id,
        fila_id=fila_id,
        atendente_id=atendente_id,
        status="aberto",
        prioridade=prioridade,
        assunto=assunto,
        descricao=descricao,
        criado_em=momento,
        atualizado_em=momento,
    )
    await repo.inserir_ticket(ticket)
    return ticket
