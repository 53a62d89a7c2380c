"""Pure ASGI middleware: a bound on request bodies, and the last line against tracebacks.

Pure ASGI rather than BaseHTTPMiddleware: no extra task per request and the body stays streamed.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atendimento.api.error_responses import resposta_erro
from atendimento.domain.codigos import Codigo

log = logging.getLogger(__name__)


class CorpoGrandeDemais(HTTPException):
    """Raised from ``receive`` when a body without (or with a lying) Content-Length grows too big.

    An HTTPException because FastAPI turns any other error raised while reading a body into a
    generic 400; this one it passes on, and ``errors`` answers it as 413 PAYLOAD_INVALIDO."""

    def __init__(self) -> None:
        super().__init__(413)


class LimiteCorpo:
    """Refuses bodies over ``max_bytes`` with 413 before they are read into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declarado = _content_length(scope)
        if declarado is not None and declarado > self.max_bytes:
            await self._recusar(scope, receive, send)
            return
        lidos = 0

        async def receive_limitado() -> Message:
            nonlocal lidos
            mensagem = await receive()
            if mensagem["type"] == "http.request":
                lidos += len(mensagem.get("body", b""))
                if lidos > self.max_bytes:
                    raise CorpoGrandeDemais
            return mensagem

        await self.app(scope, receive_limitado, send)

    async def _recusar(self, scope: Scope, receive: Receive, send: Send) -> None:
        resposta = resposta_erro(
            413, Codigo.PAYLOAD_INVALIDO, f"Corpo da requisição maior que {self.max_bytes} bytes"
        )
        await resposta(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for nome, valor in scope.get("headers", ()):
        if nome == b"content-length":
            try:
                return int(valor)
            except ValueError:
                return None
    return None


class ErrosInternos:
    """Any unhandled exception becomes a 500 ``ERRO_INTERNO`` with no detail; the log gets the detail.

    Starlette's own ``ServerErrorMiddleware`` would answer too, but then re-raises, so the server
    logs a second traceback and a test client sees an exception instead of the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        iniciada = False

        async def send_observado(mensagem: Message) -> None:
            nonlocal iniciada
            if mensagem["type"] == "http.response.start":
                iniciada = True
            await send(mensagem)

        try:
            await self.app(scope, receive, send_observado)
        except Exception as exc:
            log.error(
                "unhandled error on %s %s: %s",
                scope.get("method"),
                scope.get("path"),
                type(exc).__name__,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            if iniciada:
                raise
            resposta = resposta_erro(500, Codigo.ERRO_INTERNO, "Erro interno do servidor")
            await resposta(scope, receive, send)
