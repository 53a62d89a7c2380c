"""Success answers ``{"success": true, "data": ...}`` and the error shapes declared for OpenAPI."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel

T = TypeVar("T")


class Resposta(BaseModel, Generic[T]):
    success: Literal[True] = True
    data: T


class RespostaErro(BaseModel):
    success: Literal[False] = False
    error: str
    code: str


def ok(data: Any, status: int = 200) -> JSONResponse:
    """The answer, built from the entities' ``para_evento()`` dicts: the same JSON as the events.

    Returned as a ready JSONResponse, so the declared response models only document it (a test
    checks that they agree with what is sent)."""
    return JSONResponse({"success": True, "data": data}, status_code=status)


def erros_documentados(*status: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` argument of a route: its error statuses, all with the error shape."""
    descricoes = {
        400: "JSON malformado",
        401: "token ausente, inválido ou expirado; usuário inexistente, inativo ou de outro perfil",
        403: "perfil sem acesso a esta rota ou a este ticket",
        404: "não encontrado no tenant do token",
        409: "o estado do ticket não permite",
        413: "corpo grande demais",
        422: "payload inválido (PAYLOAD_INVALIDO)",
        429: "limite excedido (LIMITE_EXCEDIDO, com Retry-After)",
        503: "indisponível",
    }
    return {s: {"model": RespostaErro, "description": descricoes.get(s, "erro")} for s in status}
