"""Server → client events: one method per event of the contract, and their routing table.

This is the only place that decides who receives what. Every room comes from ``salas`` and from the
tenant (or id) of the entity being published, never from anything a client sent:

| event                    | room                                           |
| ------------------------ | ---------------------------------------------- |
| mensagem:nova            | ticket:{ticketId} + user:{atendenteId} (once per socket) |
| mensagem:nao-atribuida   | empresa:{e}:atendentes (ticket has no atendente) |
| mensagem:digitando       | ticket:{ticketId}, except the sending socket   |
| ticket:visualizando      | ticket:{ticketId} (a second tab: that socket)  |
| ticket:novo              | empresa:{e}:internos                           |
| ticket:atualizado        | empresa:{e}:internos                           |
| ticket:status            | ticket:{ticketId}                              |
| ticket:atribuido         | user:{atendenteId} (of the ticket's tenant)    |
| ticket:lido              | user:{usuarioId}: the reader's own sockets     |
| atendente:online/offline | empresa:{e}:atendentes, except presenca-lote   |
| atendente:status         | empresa:{e}:atendentes, except presenca-lote   |
| atendente:presenca       | empresa:{e}:presenca-lote, batched per instance (presenca_lote.py) |
| notificacao              | user:{usuarioId} of {e}, or empresa:{e} for a broadcast |
| sistema:estado           | every socket of this instance (its Redis link) |

``Publicador`` implements the domain's ``PublicadorEventos`` and the presence registry's
``OuvintePresenca``. The domain calls it after a commit, so a failure to emit is logged, never raised:
the write has happened and must not look failed to the caller.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from atendimento.domain.entidades import ATOR_SISTEMA, MensagemDados, TicketDados, agora, iso_utc
from atendimento.domain.saida import StatusMensagem
from atendimento.engine import EVERYONE, EventPacket, Namespace, Socket
from atendimento.gateway import salas
from atendimento.gateway.portas import DifusaoLocal, DifusaoUsuarios
from atendimento.gateway.presenca import Atendente
from atendimento.identity.tokens import Identidade

log = logging.getLogger(__name__)


class Publicador:
    def __init__(self, namespace: Namespace, usuarios: DifusaoUsuarios | None = None) -> None:
        self._ns = namespace
        # Where ``usuario_alterado`` goes: this instance's listeners, or every instance's (cluster).
        self.usuarios: DifusaoUsuarios = usuarios if usuarios is not None else DifusaoLocal()

    @property
    def namespace(self) -> Namespace:
        """Where it publishes; the gateway registers its handlers on the same one."""
        return self._ns

    def _emitir(
        self, evento: str, payload: dict[str, Any], sala: str | list[str], exceto: str | None = None
    ) -> None:
        try:
            self._ns.emit(evento, payload, to=sala, exclude=exceto)
        except Exception:
            log.exception("publishing %s failed", evento)

    # --- messages -------------------------------------------------------------------------------

    def mensagem_nova(self, mensagem: MensagemDados, ticket: TicketDados) -> None:
        if mensagem.ticket_id != ticket.id:
            # A caller bug; routing by either id could send the message to the wrong audience.
            log.error("mensagem %s does not belong to ticket %s; not published", mensagem.id, ticket.id)
            return
        dados = mensagem.para_evento()
        # The assignee hears every message of its tickets without joining their rooms (and so without
        # showing in ``ticket:visualizando``). One broadcast to both rooms: a socket in both (the
        # assignee with the ticket open) gets it once, as the adapter de-duplicates per socket.
        destino = [salas.ticket(ticket.empresa_id, ticket.id)]
        if ticket.atendente_id is not None:
            destino.append(salas.usuario(ticket.empresa_id, ticket.atendente_id))
        self._emitir("mensagem:nova", dados, destino)
        if ticket.atendente_id is None:
            self.mensagem_nao_atribuida(dados, ticket)

    def mensagem_status(self, status: StatusMensagem) -> None:
        """Channels out: what the integration reported, to the ticket's room and its assignee."""
        salas_destino = [salas.ticket(status.empresa_id, status.ticket_id)]
        if status.atendente_id is not None:
            salas_destino.append(salas.usuario(status.empresa_id, status.atendente_id))
        try:
            self._ns.emit("mensagem:status", status.para_evento(), to=salas_destino)
        except Exception:
            log.exception("publishing mensagem:status failed")

    def mensagem_nao_atribuida(self, mensagem: dict[str, Any], ticket: TicketDados) -> None:
        payload = {"mensagem": mensagem, "ticket": ticket.para_evento()}
        self._emitir("mensagem:nao-atribuida", payload, salas.atendentes(ticket.empresa_id))

    def mensagem_digitando(self, socket: Socket, ticket_id: str, quem: Identidade) -> None:
        """Relayed from a client: the room's other sockets, not the one that typed."""
        payload = {"ticketId": ticket_id, "usuarioId": quem.usuario_id, "usuarioNome": quem.nome}
        socket.to(salas.ticket(quem.empresa_id, ticket_id)).emit("mensagem:digitando", payload)

    # --- tickets --------------------------------------------------------------------------------

    # Each ticket event names who made the change (``atualizadoPor``: a user id, or ``sistema``).

    def ticket_novo(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None:
        payload = {**ticket.para_evento(), "atualizadoPor": atualizado_por}
        self._emitir("ticket:novo", payload, salas.internos(ticket.empresa_id))

    def ticket_atualizado(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None:
        payload = {"ticketId": ticket.id, **ticket.para_evento(), "atualizadoPor": atualizado_por}
        self._emitir("ticket:atualizado", payload, salas.internos(ticket.empresa_id))

    def ticket_status(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None:
        payload = {
            "ticketId": ticket.id,
            "status": ticket.status,
            **ticket.para_evento(),
            "atualizadoPor": atualizado_por,
        }
        self._emitir("ticket:status", payload, salas.ticket(ticket.empresa_id, ticket.id))

    def ticket_atribuido(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None:
        if ticket.atendente_id is None:
            log.error("ticket_atribuido for ticket %s with no atendente; not published", ticket.id)
            return
        payload = {
            "ticketId": ticket.id,
            "atendenteId": ticket.atendente_id,
            **ticket.para_evento(),
            "atualizadoPor": atualizado_por,
        }
        self._emitir("ticket:atribuido", payload, salas.usuario(ticket.empresa_id, ticket.atendente_id))

    def ticket_visualizando(
        self, empresa_id: str, ticket_id: str, usuarios: list[tuple[str, str]], so_para: Socket | None = None
    ) -> None:
        """Who has the ticket open, ``[(usuarioId, usuarioNome)]``: to its room when the set changed,
        or ``so_para`` alone (a second tab of a user already there, which must learn the set)."""
        payload = {
            "ticketId": ticket_id,
            "usuarios": [{"usuarioId": u, "usuarioNome": n} for u, n in usuarios],
        }
        if so_para is not None:
            so_para.emit("ticket:visualizando", payload)
        else:
            self._emitir("ticket:visualizando", payload, salas.ticket(empresa_id, ticket_id))

    # --- atendentes -----------------------------------------------------------------------------

    def atendente_online(self, atendente: Atendente, momento: datetime) -> None:
        self._emitir(
            "atendente:online",
            _presenca(atendente, momento),
            salas.atendentes(atendente.empresa_id),
            salas.presenca_lote(atendente.empresa_id),  # batch clients hear it in their next batch
        )

    def atendente_offline(self, atendente: Atendente, momento: datetime) -> None:
        self._emitir(
            "atendente:offline",
            _presenca(atendente, momento),
            salas.atendentes(atendente.empresa_id),
            salas.presenca_lote(atendente.empresa_id),  # batch clients hear it in their next batch
        )

    def atendente_status(self, quem: Identidade, status: str) -> None:
        payload = {
            "atendenteId": quem.usuario_id,
            "atendenteNome": quem.nome,
            "status": status,
            "timestamp": iso_utc(agora()),
        }
        self._emitir(
            "atendente:status",
            payload,
            salas.atendentes(quem.empresa_id),
            salas.presenca_lote(quem.empresa_id),
        )

    # --- the backplane ------------------------------------------------------------------------

    def sistema_estado(self, redis_ok: bool) -> None:
        """``sistema:estado`` to every socket of this instance when its Redis link changes state.

        Local only: each instance tells its own sockets about its own link (a degraded link could not
        carry it anyway, and a recovered one would otherwise send it twice).
        """
        payload = {"redis": "ok" if redis_ok else "degradado"}
        try:
            self._ns.adapter.broadcast_local(
                EventPacket(self._ns.name, "sistema:estado", (payload,)), EVERYONE
            )
        except Exception:
            log.exception("publishing sistema:estado failed")

    # --- notifications --------------------------------------------------------------------------

    def notificacao(
        self,
        empresa_id: str,
        usuario_id: str | None,
        tipo: str,
        mensagem: str | None,
        dados: object | None,
    ) -> None:
        # usuario_id was checked against empresa_id by the API (the user exists in that tenant).
        sala = salas.usuario(empresa_id, usuario_id) if usuario_id is not None else salas.empresa(empresa_id)
        payload = {"tipo": tipo, "mensagem": mensagem, "dados": dados, "timestamp": iso_utc(agora())}
        self._emitir("notificacao", payload, sala)

    def ticket_lido(self, empresa_id: str, usuario_id: str, ticket_id: str, ate: str, nao_lidas: int) -> None:
        """The reader's own sockets (its other devices and tabs) learn the new read position."""
        payload = {"ticketId": ticket_id, "ate": ate, "naoLidas": nao_lidas}
        self._emitir("ticket:lido", payload, salas.usuario(empresa_id, usuario_id))

    # --- users ----------------------------------------------------------------------------------

    def usuario_alterado(self, empresa_id: str, usuario_id: str) -> None:
        """To every instance (gateway/revisao_usuarios.py acts on it): drop the cached record,
        disconnect the user's sockets that no longer match it."""
        try:
            self.usuarios.anunciar(empresa_id, usuario_id)
        except Exception:
            log.exception("announcing usuario_alterado failed")


def _presenca(atendente: Atendente, momento: datetime) -> dict[str, Any]:
    return {
        "atendenteId": atendente.usuario_id,
        "atendenteNome": atendente.nome,
        "timestamp": iso_utc(momento),
    }
