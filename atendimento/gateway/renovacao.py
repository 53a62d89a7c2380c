"""Renewing the token on the same connection: ``auth:renovar`` (client → server) and
``auth:expirando`` (server → that socket).

``auth:renovar {token}``: the new token goes through the very check of the handshake
(``ServicoTokens.verificar``) and must name the same user, tenant and role as the connection (a role
change would leave the socket in rooms of its old role: that client reconnects instead). Accepted,
the socket's identity is replaced and its disconnect moves to the new ``exp`` (+ leeway) in the one
expiry agenda; refused, nothing changes. A few renewals per minute per socket, so the event cannot be
used to grind through tokens.

``auth:expirando {expiraEm, segundosRestantes}`` is sent once per token: 60 s before its ``exp``, or,
for a token with less than two minutes left when the socket connected (or renewed), halfway through
what was left. A renewal arms it again for the new token. Its timers live in their own agenda (one
timer for all sockets, like the expiry's).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, MovingWindowSupport, Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter

from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import iso_utc
from atendimento.domain.erros import UsuarioInvalido
from atendimento.engine import Socket
from atendimento.gateway import payloads, sessao
from atendimento.gateway.conexao import ConfirmaUsuario
from atendimento.gateway.expiracao import AgendaExpiracao
from atendimento.gateway.respostas import FalhaEvento, falha, sucesso
from atendimento.identity.tokens import MAX_TOKEN_CHARS, Identidade, ServicoTokens, TokenErro

log = logging.getLogger(__name__)

RENOVACOES_POR_MINUTO = 5
AVISO_MAXIMO_S = 60.0
EVENTO_AVISO = "auth:expirando"

Conectar = Callable[[Socket, Any], Awaitable[None]]
Desconectar = Callable[[Socket, str], Awaitable[None]]


def _instante(epoch: float) -> str:
    return iso_utc(datetime.fromtimestamp(epoch, UTC))


class Renovacao:
    def __init__(
        self,
        tokens: ServicoTokens,
        leeway_seconds: float,
        expiracoes: AgendaExpiracao[Socket],
        storage: Storage | None = None,
        *,
        usuarios: ConfirmaUsuario | None = None,
        por_minuto: int = RENOVACOES_POR_MINUTO,
        relogio: Callable[[], float] = time.time,
    ) -> None:
        self._tokens = tokens
        self._usuarios = usuarios
        self._leeway = leeway_seconds
        self._expiracoes = expiracoes
        self._avisos: AgendaExpiracao[Socket] = AgendaExpiracao(self._avisar, relogio=relogio)
        self._relogio = relogio
        armazenamento = storage if storage is not None else MemoryStorage()
        self._item: RateLimitItem = RateLimitItemPerMinute(por_minuto, namespace="renovar")
        self._limiter: RateLimiter = (
            MovingWindowRateLimiter(armazenamento)
            if isinstance(armazenamento, MovingWindowSupport)
            else FixedWindowRateLimiter(armazenamento)
        )

    # --- around the connection's own handlers (gateway/conexao.py) ----------------------------

    def ao_conectar(self, conectar: Conectar) -> Conectar:
        """``conectar``, then the warning of the token it accepted (a refusal raises first)."""

        async def conectar_e_avisar(socket: Socket, auth: Any) -> None:
            await conectar(socket, auth)
            quem = sessao.identidade(socket)
            if quem is not None:
                self._armar_aviso(socket, quem)

        return conectar_e_avisar

    def ao_desconectar(self, desconectar: Desconectar) -> Desconectar:
        async def desconectar_e_esquecer(socket: Socket, reason: str) -> None:
            self._avisos.cancelar(socket.sid)
            await desconectar(socket, reason)

        return desconectar_e_esquecer

    def fechar(self) -> None:
        self._avisos.fechar()

    # --- auth:renovar -------------------------------------------------------------------------

    async def renovar(self, socket: Socket, payload: object) -> dict[str, Any]:
        token = payloads.objeto(payload).get("token")
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise payloads.PayloadInvalido("token: uma string com o novo token")
        quem = sessao.identidade(socket)
        if quem is None:
            raise FalhaEvento(Codigo.PROIBIDO)
        # Before any verification: a refused token costs its budget too.
        espera_ms = await self._consumir(socket.sid)
        if espera_ms is not None:
            raise FalhaEvento(Codigo.LIMITE_EXCEDIDO, retryAfterMs=espera_ms)
        try:
            nova = self._tokens.verificar(token)
        except TokenErro as exc:
            log.info("auth:renovar refused for sid %s: %s (%s)", socket.sid, exc.code, exc.motivo)
            codigo = Codigo.TOKEN_EXPIRADO if exc.code == Codigo.TOKEN_EXPIRADO else Codigo.TOKEN_INVALIDO
            return falha(codigo, str(exc))
        if (nova.usuario_id, nova.empresa_id, nova.role) != (quem.usuario_id, quem.empresa_id, quem.role):
            log.info("auth:renovar refused for sid %s: another user, tenant or role", socket.sid)
            return falha(Codigo.PROIBIDO, "O token é de outro usuário, empresa ou perfil")
        if self._usuarios is not None:
            try:  # a deactivated or changed user renews nothing (the database decides)
                await self._usuarios.confirmar_usuario(
                    nova.empresa_id, nova.usuario_id, nova.role, nome=nova.nome, email=nova.email
                )
            except UsuarioInvalido as exc:
                log.info("auth:renovar refused for sid %s: %s", socket.sid, exc.code)
                return falha(exc.code, exc.message)
        if self._expiracoes.prazo(socket.sid) is None:
            # Expired or gone while this ran: nothing to move (and nobody to answer).
            return falha(Codigo.PROIBIDO, "A conexão já terminou")
        sessao.guardar(socket, nova)
        self._expiracoes.agendar(socket.sid, nova.exp + self._leeway, socket)
        self._armar_aviso(socket, nova)
        return sucesso(expiraEm=_instante(nova.exp))

    async def _consumir(self, sid: str) -> int | None:
        if await self._limiter.hit(self._item, sid):
            return None
        stats = await self._limiter.get_window_stats(self._item, sid)
        return max(1, math.ceil((stats.reset_time - time.time()) * 1000))

    # --- auth:expirando -----------------------------------------------------------------------

    def _armar_aviso(self, socket: Socket, quem: Identidade) -> None:
        agora = self._relogio()
        restante = quem.exp - agora
        if restante <= 0:
            self._avisos.cancelar(socket.sid)
            return
        quando = max(quem.exp - AVISO_MAXIMO_S, agora + restante / 2)
        self._avisos.agendar(socket.sid, quando, socket)

    def _avisar(self, socket: Socket) -> None:
        # The token the warning was armed for: a renewal arms it again, replacing this entry.
        quem = sessao.identidade(socket)
        if quem is None:
            return
        restantes = max(0, round(quem.exp - self._relogio()))
        socket.emit(EVENTO_AVISO, {"expiraEm": _instante(quem.exp), "segundosRestantes": restantes})
