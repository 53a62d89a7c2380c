"""Client → server events of /atendimento: ticket:entrar, ticket:sair, mensagem:digitando,
atendente:status, ticket:lido, and the answer to any other event name.

Each handler reads its payload first (``payloads``), then checks the caller's rights from the
handshake identity, then acts. It answers through the optional ack: handlers return
``sucesso(...)`` or raise ``FalhaEvento``; ``_respondendo`` turns failures, bad payloads and
unexpected errors into ``{success: false, error, code}`` so nothing leaks and nothing half-happens.

Fairness (issue 10), also in ``_respondendo``, so any event wrapped by it has it without writing a
line (``EventosCliente.registrar`` sets it up for the namespace; an event registered elsewhere with
``_respondendo`` gets it too):

- a rate limit per event (``LimitesEventos``: the event's own or the default), checked before the
  payload is even read, so a refused event costs no database access and changes nothing:
  ``LIMITE_EXCEDIDO`` with ``retryAfterMs``;
- at most a few events of one tenant in their handlers at once (``VagasPorEmpresa``);
- past the engine's per-socket bound (engine/socketio/inbox.py), the overflow hook answers ``LIMITE_EXCEDIDO``
  without running anything.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from atendimento.domain.codigos import Codigo
from atendimento.domain.erros import ErroDominio
from atendimento.engine import Namespace, Socket
from atendimento.gateway import payloads, salas, sessao
from atendimento.gateway.publicacao import Publicador
from atendimento.gateway.rate_limits import DESCONHECIDO, LimiteDigitando, LimitesEventos
from atendimento.gateway.respostas import FalhaEvento, falha, sucesso
from atendimento.gateway.vagas import VagasPorEmpresa
from atendimento.gateway.visualizando import Visualizando
from atendimento.identity.tokens import Identidade

log = logging.getLogger(__name__)

Ack = dict[str, Any]
Tratador = Callable[[Socket, object], Awaitable[Ack]]

# What the engine's overflow refusal tells the client to wait: its queue drains at handler speed.
ESPERA_FILA_MS = 1000


@dataclass(frozen=True, slots=True)
class Politica:
    """The limits every wrapped event of a namespace goes through."""

    limites: LimitesEventos
    vagas: VagasPorEmpresa


# Namespace → its policy; read by every ``_respondendo`` wrapper through ``socket.nsp``.
_POLITICAS: WeakKeyDictionary[Namespace, Politica] = WeakKeyDictionary()


class ServicoDoGateway(Protocol):
    """The part of the domain's ServicoAtendimento the client events use."""

    async def ticket_existe(self, empresa_id: str, ticket_id: str) -> bool: ...
    async def definir_status_atendente(
        self, empresa_id: str, usuario_id: str, status: str
    ) -> tuple[object, bool]: ...
    async def marcar_lida(
        self, empresa_id: str, leitor_id: str, ticket_id: str, ate: str
    ) -> tuple[str, int]: ...
    async def rotear_atendentes(self, empresa_id: str, usuario_ids: Collection[str]) -> object: ...


def _identidade(socket: Socket) -> Identidade:
    quem = sessao.identidade(socket)
    if quem is None:
        # The engine never dispatches events to a socket whose connect was refused; be safe anyway.
        raise FalhaEvento(Codigo.PROIBIDO)
    return quem


def _respondendo(evento: str, tratador: Tratador) -> Callable[..., Awaitable[Ack]]:
    async def responder(socket: Socket, *args: object) -> Ack:
        quem = sessao.identidade(socket)
        politica = _POLITICAS.get(socket.nsp)
        try:
            if politica is None or quem is None:
                return await _tratar(tratador, socket, args)
            espera_ms = await politica.limites.consumir(evento, quem.empresa_id, quem.usuario_id)
            if espera_ms is not None:
                return falha(Codigo.LIMITE_EXCEDIDO, retryAfterMs=espera_ms)
            async with politica.vagas.de(quem.empresa_id):
                return await _tratar(tratador, socket, args)
        except payloads.PayloadInvalido as exc:
            return falha(Codigo.PAYLOAD_INVALIDO, str(exc))
        except FalhaEvento as exc:
            return falha(exc.codigo, exc.error, **exc.extras)
        except ErroDominio as exc:
            # The domain's codes and messages are written for clients (domain/erros.py).
            return falha(exc.code, exc.message)
        except Exception:
            log.exception("%s failed (sid %s)", evento, socket.sid)
            return falha(Codigo.ERRO_INTERNO)

    responder.__name__ = f"responder_{evento.replace(':', '_').replace('-', '_')}"
    return responder


async def _tratar(tratador: Tratador, socket: Socket, args: tuple[object, ...]) -> Ack:
    # One payload argument; none or several is a malformed event.
    if len(args) != 1:
        raise payloads.PayloadInvalido("o evento leva exatamente um payload")
    return await tratador(socket, args[0])


class ObservadorEventos(Protocol):
    """Told of every client event's answer (per-tenant metrics count outcomes from the ack's code)."""

    def evento_cliente(self, socket: Socket, evento: str, ack: object) -> None: ...


def _observado(
    evento: str, responder: Callable[..., Awaitable[Ack]], observador: ObservadorEventos
) -> Callable[..., Awaitable[Ack]]:
    """``responder`` (a ``_respondendo`` wrapper), telling ``observador`` the ack it returns."""

    async def observar(socket: Socket, *args: object) -> Ack:
        ack = await responder(socket, *args)
        observador.evento_cliente(socket, evento, ack)
        return ack

    observar.__name__ = responder.__name__
    return observar


class EventosCliente:
    def __init__(
        self,
        servico: ServicoDoGateway,
        publicador: Publicador,
        limite: LimiteDigitando,
        observador: ObservadorEventos | None = None,
        visualizando: Visualizando | None = None,
        limites: LimitesEventos | None = None,
        vagas: VagasPorEmpresa | None = None,
    ) -> None:
        self._servico = servico
        self._publicador = publicador
        self._limite = limite
        self._observador = observador
        self._visualizando = visualizando
        self._politica = Politica(limites or LimitesEventos(), vagas or VagasPorEmpresa())
        self._registrados: frozenset[str] = frozenset()

    def registrar(self, ns: Namespace, outros: Mapping[str, Tratador] | None = None) -> None:
        """``outros``: events handled elsewhere (auth:renovar), answered through the same wrapper."""
        tratadores: dict[str, Tratador] = {
            "ticket:entrar": self.ticket_entrar,
            "ticket:sair": self.ticket_sair,
            "mensagem:digitando": self.mensagem_digitando,
            "atendente:status": self.atendente_status,
            "ticket:lido": self.ticket_lido,
            **(outros or {}),
        }
        _POLITICAS[ns] = self._politica
        self._registrados = frozenset(tratadores)  # labels for refusals by the engine's bound
        for evento, tratador in tratadores.items():
            responder = _respondendo(evento, tratador)
            if self._observador is not None:
                responder = _observado(evento, responder, self._observador)
            ns.on(evento)(responder)
        ns.on_unknown_event(self.evento_desconhecido)
        ns.on_overflow(self.fila_cheia)

    async def ticket_entrar(self, socket: Socket, payload: object) -> Ack:
        ticket_id = payloads.ticket_id(payload)
        quem = _identidade(socket)
        if not salas.e_interno(quem.role):
            raise FalhaEvento(Codigo.PROIBIDO)
        # The only tenant-scoped lookup: an unknown id and another tenant's id answer the same.
        if not await self._servico.ticket_existe(quem.empresa_id, ticket_id):
            raise FalhaEvento(Codigo.TICKET_NAO_ENCONTRADO)
        socket.join(salas.ticket(quem.empresa_id, ticket_id))
        if self._visualizando is not None:
            await self._visualizando.entrou(socket, ticket_id, quem)
        return sucesso(ticketId=ticket_id)

    async def ticket_sair(self, socket: Socket, payload: object) -> Ack:
        ticket_id = payloads.ticket_id(payload)
        quem = _identidade(socket)
        socket.leave(salas.ticket(quem.empresa_id, ticket_id))  # leaving a room one is not in is a no-op
        if self._visualizando is not None:
            await self._visualizando.saiu(socket, ticket_id)
        return sucesso(ticketId=ticket_id)

    async def mensagem_digitando(self, socket: Socket, payload: object) -> Ack:
        ticket_id = payloads.ticket_id(payload)
        quem = _identidade(socket)
        # Room membership is the permission: it was granted by ticket:entrar for this tenant.
        if salas.ticket(quem.empresa_id, ticket_id) not in socket.rooms:
            raise FalhaEvento(Codigo.FORA_DO_TICKET)
        espera_ms = await self._limite.consumir(quem.empresa_id, quem.usuario_id, ticket_id)
        if espera_ms is not None:
            raise FalhaEvento(Codigo.LIMITE_EXCEDIDO, retryAfterMs=espera_ms)
        self._publicador.mensagem_digitando(socket, ticket_id, quem)
        return sucesso(ticketId=ticket_id)

    async def atendente_status(self, socket: Socket, payload: object) -> Ack:
        status = payloads.status_atendente(payload)
        quem = _identidade(socket)
        if not salas.e_atendente(quem.role):
            raise FalhaEvento(Codigo.PROIBIDO)
        _, mudou = await self._servico.definir_status_atendente(quem.empresa_id, quem.usuario_id, status)
        if mudou:  # the same status again is not news: no write was made, nobody is told
            self._publicador.atendente_status(quem, status)
        return sucesso(status=status)

    async def ticket_lido(self, socket: Socket, payload: object) -> Ack:
        """Read state, as ``POST /atendimento/tickets/{id}/lida``: per user, on every device."""
        ticket_id, ate = payloads.leitura(payload)
        quem = _identidade(socket)
        if not salas.e_interno(quem.role):
            raise FalhaEvento(Codigo.PROIBIDO)
        # Domain errors (unknown ticket or message, another tenant's alike) become the failure ack.
        marcada, nao_lidas = await self._servico.marcar_lida(quem.empresa_id, quem.usuario_id, ticket_id, ate)
        return sucesso(ticketId=ticket_id, ate=marcada, naoLidas=nao_lidas)

    async def evento_desconhecido(self, socket: Socket, evento: str, *args: object) -> Ack:
        ack = falha(Codigo.EVENTO_DESCONHECIDO)
        quem = sessao.identidade(socket)
        if quem is not None:
            limites = self._politica.limites
            espera_ms = await limites.consumir(DESCONHECIDO, quem.empresa_id, quem.usuario_id)
            if espera_ms is not None:
                ack = falha(Codigo.LIMITE_EXCEDIDO, retryAfterMs=espera_ms)
        if self._observador is not None:
            # The name is the client's: counted under one fixed label, never its own.
            self._observador.evento_cliente(socket, "desconhecido", ack)
        return ack

    def fila_cheia(self, socket: Socket, evento: str) -> Ack:
        """The engine's per-socket bound was reached: refused without running anything."""
        ack = falha(Codigo.LIMITE_EXCEDIDO, retryAfterMs=ESPERA_FILA_MS)
        if self._observador is not None:
            rotulo = evento if evento in self._registrados else "desconhecido"
            self._observador.evento_cliente(socket, rotulo, ack)
        return ack
