"""Admission of REST requests: who is asking, the body read within bounds, then a bound on the
requests one instance works on at once; past it, 503 at once.

Why a bound (issue 13): an open-loop client (a front end, an integration) does not slow down when the
server does. Past one core's capacity every request was accepted and queued behind the others, and
the growing queue made each request dearer still. With a bound, a request over it is answered
``503`` with ``Retry-After`` before any routing, token or database work.

Why the rest (trust nobody): one bound shared by everyone let 64 connections that send half a login
body and hold stop every tenant. So, in this order, for each request:

1. The bearer token is verified (``ServicoTokens``' cache: microseconds), the way the API's
   dependencies read it. A route that needs a caller (its dependencies establish one, ``rotas.py``)
   and has no valid token is answered 401 here, before a byte of its body is read.
2. A request without a valid token (login, the console's files, the docs) takes a slot of its own
   small share, ``anonimos`` per instance and ``anonimos_por_endereco`` per client address (IPv6 by
   /64), from the moment it arrives: no number of them reaches the slots of callers with a token.
3. The body is read whole, bounded in size (413) and in time (``corpo_timeout_s`` from arrival:
   408, and the connection closed).
4. Only then does a request with a valid token take one of the ``maximo`` slots: a half-sent body
   never holds one, whoever sends it.

Pure ASGI (no task per request). Only the REST application passes here: the engine's traffic
(long-polling GETs that stay open, WebSocket) is routed before it, so open sessions do not count.
uvicorn's own ``limit_concurrency`` counts connections and WebSockets too, hence this instead.
Probes (``/health``, ``/ready``) and ``/metrics`` are never refused.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from fastapi.security import HTTPBearer
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from atendimento.addresses import chave_endereco
from atendimento.api.error_responses import resposta_de_erro, resposta_erro
from atendimento.api.middleware import ler_corpo, repetir
from atendimento.api.rotas import TabelaRotas
from atendimento.domain.codigos import Codigo
from atendimento.identity.tokens import ServicoTokens, TokenErro

log = logging.getLogger(__name__)

ISENTOS = ("/health", "/ready", "/metrics")


class LimiteEmCurso:
    """At most ``maximo`` requests with a valid token and ``anonimos`` without one in progress."""

    def __init__(
        self,
        app: ASGIApp,
        maximo: int,
        *,
        tokens: ServicoTokens | None = None,
        bearer: HTTPBearer | None = None,
        tabela: TabelaRotas | None = None,
        anonimos: int | None = None,
        anonimos_por_endereco: int | None = None,
        max_corpo_bytes: int = 64 * 1024,
        corpo_timeout_s: float = 10.0,
        retry_after_s: int = 1,
    ) -> None:
        self.app = app
        self.maximo = maximo
        self.tokens = tokens
        self.bearer = bearer
        self.tabela = tabela
        # Without a token service (tests of the bound alone) every request counts as one with a token.
        self.anonimos = maximo if anonimos is None else anonimos
        self.anonimos_por_endereco = self.anonimos if anonimos_por_endereco is None else anonimos_por_endereco
        self.max_corpo_bytes = max_corpo_bytes
        self.corpo_timeout_s = corpo_timeout_s
        self.retry_after_s = retry_after_s
        self.em_curso = 0
        self.anonimos_em_curso = 0
        self.por_endereco: Counter[str] = Counter()
        self.recusadas = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ISENTOS):
            await self.app(scope, receive, send)
            return
        prazo = asyncio.get_running_loop().time() + self.corpo_timeout_s
        recusa = await self._identificar(scope)
        if recusa is None:
            await self._ler_e_seguir(scope, receive, send, prazo, contar=True)
            return
        if self.tabela is not None:
            achada = self.tabela.encontrar(scope)
            if achada is not None and achada.rota.autentica:
                resposta = resposta_de_erro(recusa)
                assert resposta is not None
                await resposta(scope, receive, send)
                return
        cliente = scope.get("client")
        endereco = chave_endereco(cliente[0] if cliente else None)
        if (
            self.anonimos_em_curso >= self.anonimos
            or self.por_endereco[endereco] >= self.anonimos_por_endereco
        ):
            await self._recusar(scope, receive, send, "anonymous")
            return
        self.anonimos_em_curso += 1
        self.por_endereco[endereco] += 1
        try:
            await self._ler_e_seguir(scope, receive, send, prazo, contar=False)
        finally:
            self.anonimos_em_curso -= 1
            self.por_endereco[endereco] -= 1
            if not self.por_endereco[endereco]:
                del self.por_endereco[endereco]

    async def _identificar(self, scope: Scope) -> TokenErro | None:
        """None when the request carries a valid bearer token, else why not."""
        if self.tokens is None or self.bearer is None:
            return None
        credenciais = await self.bearer(Request(scope))
        try:
            self.tokens.verificar(credenciais.credentials if credenciais else None)
        except TokenErro as exc:
            return exc
        return None

    async def _ler_e_seguir(
        self, scope: Scope, receive: Receive, send: Send, prazo: float, contar: bool
    ) -> None:
        try:
            corpo = await ler_corpo(scope, receive, self.max_corpo_bytes, prazo)
        except Exception as exc:
            resposta = resposta_de_erro(exc)
            if resposta is None:
                raise
            await resposta(scope, receive, send)
            return
        if corpo is None:
            return  # the client went away before its body arrived
        if not contar:
            await self.app(scope, repetir(corpo, receive), send)
            return
        if self.em_curso >= self.maximo:
            await self._recusar(scope, receive, send, "in progress")
            return
        self.em_curso += 1
        try:
            await self.app(scope, repetir(corpo, receive), send)
        finally:
            self.em_curso -= 1

    async def _recusar(self, scope: Scope, receive: Receive, send: Send, qual: str) -> None:
        self.recusadas += 1
        if self.recusadas & (self.recusadas - 1) == 0:  # 1st, 2nd, 4th, 8th…: a trace, not a flood
            log.warning(
                "overloaded (%s): %d with a token and %d without in progress, %d refused so far",
                qual,
                self.em_curso,
                self.anonimos_em_curso,
                self.recusadas,
            )
        # A new response each time: CORS adds its headers to the list of the one it sends.
        resposta = resposta_erro(
            503,
            Codigo.SOBRECARGA,
            "Servidor sobrecarregado; tente novamente em instantes",
            {"Retry-After": str(self.retry_after_s)},
        )
        await resposta(scope, receive, send)
