"""A socket's lifecycle on /atendimento: handshake, rooms, token expiry, presence, departure.

On connect, in this order: authenticate (the token, then the database: the user must exist in the
token's tenant, be active and have the token's role, else ``USUARIO_INVALIDO``; a refusal raises
before anything else happens; for a socket
the engine restored from a saved session, the same checks run and the identity must also be the
session's, or the restore is undone), keep the
identity on the socket, join the contract's rooms, count the socket in presence (atendentes only), and
schedule the disconnect at the token's ``exp`` plus the configured leeway. On disconnect the schedule
is dropped and presence is told.

In-band renewal fits here later: verify the new token for the same user and tenant, replace the
stored identity, and call ``AgendaExpiracao.agendar`` again with the new deadline (it replaces).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from atendimento.domain.entidades import UsuarioDados
from atendimento.domain.erros import UsuarioInvalido
from atendimento.engine import ConnectionRefused, Reason, Socket
from atendimento.gateway import salas, sessao
from atendimento.gateway.autenticacao import UNAUTHORIZED, autenticar
from atendimento.gateway.expiracao import AgendaExpiracao
from atendimento.gateway.presenca import Atendente, RegistroPresenca
from atendimento.gateway.presenca_lote import PresencaLote, pediu_lote
from atendimento.identity.tokens import Identidade, ServicoTokens

log = logging.getLogger(__name__)

TOKEN_EXPIRADO = Reason.SERVER_DISCONNECT


class ConfirmaUsuario(Protocol):
    async def confirmar_usuario(
        self, empresa_id: str, usuario_id: str, role: str, *, nome: str, email: str | None = None
    ) -> UsuarioDados: ...


def _mesma_pessoa(antes: Identidade | None, agora: Identidade) -> bool:
    return antes is not None and (antes.usuario_id, antes.empresa_id, antes.role) == (
        agora.usuario_id,
        agora.empresa_id,
        agora.role,
    )


def _atendente(quem: Identidade) -> Atendente:
    return Atendente(empresa_id=quem.empresa_id, usuario_id=quem.usuario_id, nome=quem.nome)


class Conexoes:
    def __init__(
        self,
        tokens: ServicoTokens,
        leeway_seconds: float,
        presenca: RegistroPresenca,
        expiracoes: AgendaExpiracao[Socket],
        usuarios: ConfirmaUsuario | None = None,
        mudancas: Callable[[str, str], int] | None = None,
        lote: PresencaLote | None = None,
    ) -> None:
        self._lote = lote
        self._tokens = tokens
        self._usuarios = usuarios
        # How many times a user's record changed (revisao_usuarios): a change during the handshake
        # is re-checked here, since the revision only sees sockets already accepted.
        self._mudancas = mudancas
        self._leeway = leeway_seconds
        self._presenca = presenca
        self._expiracoes = expiracoes

    async def conectar(self, socket: Socket, auth: object) -> None:
        handshake = socket.handshake
        quem = autenticar(self._tokens, auth, handshake.headers, handshake.query)
        marca = self._marca(quem)
        await self._confirmar(socket, quem)
        if socket.recovered and not _mesma_pessoa(sessao.identidade(socket), quem):
            # A restored session (connection state recovery) is only for whoever it was saved for:
            # same user, tenant and role, or it restores nothing (rooms, missed events) at all.
            log.info("recovery refused: the token is not the session's user, tenant or role")
            socket.refuse_recovery()
        sessao.guardar(socket, quem)
        for sala in salas.salas_de_conexao(quem):
            socket.join(sala)
        if salas.e_atendente(quem.role):
            try:
                await self._presenca.conectou(_atendente(quem), socket.sid)
            except Exception:
                # Presence is a courtesy to colleagues; its failure must not lock the agent out.
                log.exception("presence: counting sid %s failed", socket.sid)
            if self._lote is not None and pediu_lote(auth):
                await self._lote.entrou(socket, quem.empresa_id)
        while (agora := self._marca(quem)) != marca:
            # The user changed while this handshake ran: ask the database again (its cached record
            # was dropped), and refuse (undoing the presence count) if it no longer holds.
            marca = agora
            try:
                await self._confirmar(socket, quem)
            except ConnectionRefused:
                await self.desconectar(socket, "usuario alterado")
                raise
        # Last, with no await after it: the engine accepts the socket right when this returns, so the
        # timer can't fire for a socket that is not connected yet (its disconnect would be a no-op).
        # If the connection dropped while this handler awaited, the engine calls on_disconnect
        # (desconectar) as soon as this returns, which undoes the presence count and the timer.
        self._expiracoes.agendar(socket.sid, quem.exp + self._leeway, socket)

    def _marca(self, quem: Identidade) -> int:
        return 0 if self._mudancas is None else self._mudancas(quem.empresa_id, quem.usuario_id)

    async def _confirmar(self, socket: Socket, quem: Identidade) -> None:
        """The database, not the token, says who this is (a warm cache: no round trip)."""
        if self._usuarios is None:
            return
        try:
            await self._usuarios.confirmar_usuario(
                quem.empresa_id, quem.usuario_id, quem.role, nome=quem.nome, email=quem.email
            )
        except UsuarioInvalido as exc:
            log.info("handshake refused: %s (sid %s)", exc.code, socket.sid)
            raise ConnectionRefused(UNAUTHORIZED, {"code": exc.code}) from None

    async def desconectar(self, socket: Socket, reason: str) -> None:
        self._expiracoes.cancelar(socket.sid)
        quem = sessao.identidade(socket)
        if quem is None or not salas.e_atendente(quem.role):
            return
        try:
            await self._presenca.desconectou(_atendente(quem), socket.sid)
        except Exception:
            log.exception("presence: uncounting sid %s failed", socket.sid)


def expirar(socket: Socket) -> None:
    """The expiry agenda's action: the token's ``exp`` (+ leeway) has passed."""
    log.info("token expired: disconnecting sid %s", socket.sid)
    socket.disconnect(reason=TOKEN_EXPIRADO)
