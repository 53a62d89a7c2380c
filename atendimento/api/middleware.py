"""Request bodies read within bounds of size and time, and the last line against tracebacks.

Pure ASGI rather than BaseHTTPMiddleware: no extra task per request.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atendimento.api.error_responses import resposta_erro
from atendimento.domain.codigos import Codigo

log = logging.getLogger(__name__)


class CorpoGrandeDemais(HTTPException):
    """A body over the bound (declared, or counted as it arrives): 413 PAYLOAD_INVALIDO.

    An HTTPException so that the one error mapping (error_responses.py) answers it, wherever it is
    raised."""

    def __init__(self) -> None:
        super().__init__(413)


class CorpoAtrasado(HTTPException):
    """The body did not arrive within the body timeout: 408, and the connection is closed (what is
    still on its way can no longer be told apart from a next request)."""

    def __init__(self) -> None:
        super().__init__(408, headers={"Connection": "close"})


async def ler_corpo(scope: Scope, receive: Receive, max_bytes: int, prazo: float) -> bytes | None:
    """The whole request body, read before the request is admitted; None if the client went away.

    ``prazo`` is the loop time by which the last byte must have arrived (``CorpoAtrasado`` after it);
    more than ``max_bytes``, declared or sent, is ``CorpoGrandeDemais`` before it is buffered. Reading
    it here, bounded in size and time, is what keeps a slow or half-sent body from holding anything
    but its connection: the request counts as in progress only once it is complete."""
    declarado = _content_length(scope)
    if declarado is not None and declarado > max_bytes:
        raise CorpoGrandeDemais
    partes: list[bytes] = []
    lidos = 0
    while True:
        try:
            async with asyncio.timeout_at(prazo):
                mensagem = await receive()
        except TimeoutError:
            raise CorpoAtrasado from None
        if mensagem["type"] != "http.request":
            return None
        parte = mensagem.get("body", b"")
        lidos += len(parte)
        if lidos > max_bytes:
            raise CorpoGrandeDemais
        partes.append(parte)
        if not mensagem.get("more_body", False):
            return partes[0] if len(partes) == 1 else b"".join(partes)


def repetir(corpo: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the body already read, then the client's own messages."""
    entregue = False

    async def receive_repetido() -> Message:
        nonlocal entregue
        if not entregue:
            entregue = True
            return {"type": "http.request", "body": corpo, "more_body": False}
        return await receive()

    return receive_repetido


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
