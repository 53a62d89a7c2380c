"""Every error answer is ``{"success": false, "error": str, "code": str}`` with the fitting status.

One mapping (``resposta_de_erro``) covers the API's own refusals (ErroApi), the domain's errors
(ErroDominio), token errors, request validation, and Starlette's HTTP errors (unknown route, wrong
method). Anything else is turned into a 500 by ``middleware.ErrosInternos``, so a traceback never
reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from atendimento.domain.codigos import Codigo
from atendimento.domain.erros import ErroDominio
from atendimento.identity.tokens import TokenErro

log = logging.getLogger(__name__)

# Starlette raises these on its own (routing, methods); each gets the product's code.
_CODIGOS_HTTP: dict[int, tuple[Codigo, str]] = {
    # FastAPI's only own 400: a body it could not read or parse.
    400: (Codigo.PAYLOAD_INVALIDO, "Corpo da requisição inválido"),
    401: (Codigo.NAO_AUTENTICADO, "Não autenticado"),
    403: (Codigo.PROIBIDO, "Acesso negado"),
    404: (Codigo.ROTA_NAO_ENCONTRADA, "Rota não encontrada"),
    405: (Codigo.METODO_NAO_PERMITIDO, "Método não permitido"),
    408: (Codigo.TEMPO_ESGOTADO, "O corpo da requisição não chegou a tempo"),
    413: (Codigo.PAYLOAD_INVALIDO, "Corpo da requisição grande demais"),
    415: (Codigo.PAYLOAD_INVALIDO, "Tipo de conteúdo não suportado"),
}
# How many validation problems a reason names; the rest are summarised as a count.
_MAX_MOTIVOS = 3


class ErroApi(Exception):
    """A refusal decided by the API layer itself (authorization, throttling, availability)."""

    def __init__(
        self, status: int, code: Codigo, error: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(error)
        self.status = status
        self.code = code
        self.error = error
        self.headers = dict(headers or {})


def resposta_erro(
    status: int, code: Codigo, error: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"success": False, "error": error, "code": code}, status_code=status, headers=dict(headers or {})
    )


def proibido(error: str = "Acesso negado para este perfil") -> ErroApi:
    return ErroApi(403, Codigo.PROIBIDO, error)


def resposta_de_erro(exc: Exception) -> JSONResponse | None:
    """The one mapping from an exception to its answer (None: not ours to answer, a 500 follows).

    FastAPI's handlers (``registrar_handlers``) and the short path (``atalhos.py``), which answers
    outside those handlers, both call this, so a refusal reads the same whichever path took it."""
    if isinstance(exc, ErroApi):
        return resposta_erro(exc.status, exc.code, exc.error, exc.headers)
    if isinstance(exc, ErroDominio):
        return resposta_erro(exc.http_status, exc.code, exc.message)
    if isinstance(exc, TokenErro):
        if exc.motivo:
            log.info("token refused: %s (%s)", exc.code, exc.motivo)
        # RFC 6750: a 401 for a bearer-protected resource names the scheme.
        return resposta_erro(401, exc.code, str(exc), {"WWW-Authenticate": "Bearer"})
    if isinstance(exc, RequestValidationError):
        erros = list(exc.errors())
        # Text that is not JSON at all is a malformed request (400); JSON of the wrong shape is 422.
        status = 400 if any(e.get("type") == "json_invalid" for e in erros) else 422
        return resposta_erro(status, Codigo.PAYLOAD_INVALIDO, motivo_validacao(erros))
    if isinstance(exc, StarletteHTTPException):
        code, error = _CODIGOS_HTTP.get(exc.status_code, (Codigo.ERRO_HTTP, "Erro na requisição"))
        return resposta_erro(exc.status_code, code, error, exc.headers)
    return None


def motivo_validacao(erros: Sequence[Mapping[str, Any]]) -> str:
    """A short reason naming the fields, never echoing their values (they may be huge or secret)."""
    partes = []
    for erro in erros[:_MAX_MOTIVOS]:
        if erro.get("type") == "json_invalid":
            detalhe = (erro.get("ctx") or {}).get("error", "")
            return f"JSON malformado: {detalhe}".rstrip(": ")
        # "body" / "query" / "path" only say where FastAPI looked; the field path is what helps.
        local = [str(p) for p in erro.get("loc", ()) if p not in ("body", "query", "path", "header")]
        campo = ".".join(local)
        mensagem = str(erro.get("msg", "inválido"))
        partes.append(f"{campo}: {mensagem}" if campo else mensagem)
    if len(erros) > _MAX_MOTIVOS:
        partes.append(f"e mais {len(erros) - _MAX_MOTIVOS} erro(s)")
    return "Payload inválido: " + "; ".join(partes)


def registrar_handlers(app: FastAPI, metodos: Callable[[str], Iterable[str]]) -> None:
    """``metodos`` answers which methods the API serves at a path: a 405's ``Allow`` names them all
    (RFC 9110), where Starlette names only those of the first route matching the path."""

    # ``async def`` on purpose: Starlette runs a plain ``def`` handler in the thread pool, a thread
    # hop for every 401/403/404/422 answered.
    async def handler(request: Request, exc: Exception) -> Response:
        if isinstance(exc, StarletteHTTPException) and exc.status_code == 405:
            permitidos = ", ".join(sorted(metodos(request.scope["path"])))
            exc = StarletteHTTPException(405, headers={**(exc.headers or {}), "Allow": permitidos})
        resposta = resposta_de_erro(exc)
        if resposta is None:  # registered only for the types above
            raise exc
        return resposta

    for tipo in (ErroApi, ErroDominio, TokenErro, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(tipo, handler)
