"""Pages of the lists: ``?limite=`` and ``?cursor=`` in, ``{success, data, proximoCursor}`` out.

A cursor is opaque to clients: base64url of a small JSON naming the list it belongs to (``k``), the
position of the last item handed out (``p``, the keyset of that list's order) and the filters of the
query (``f``). It is not signed, and needs not be: the position only says where to resume *inside the
caller's tenant* (every query is scoped to the token's tenant, and RLS again on PostgreSQL), so a
forged cursor can at most skip to another place of the caller's own list. What is checked is that it
is well formed and was made for this list and these filters; anything else is a 422
``CURSOR_INVALIDO``, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from atendimento.domain import regras
from atendimento.domain.codigos import Codigo
from atendimento.domain.erros import CursorInvalido

T = TypeVar("T")

VERSAO = 1
# Far above any cursor we make (an id, a date, a few filters), far below what would cost to parse.
MAX_CURSOR = 1024
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")

Limite = Annotated[
    int,
    Query(
        ge=1,
        le=regras.LIMITE_PAGINA_MAX,
        description=(
            f"itens por página (padrão {regras.LIMITE_PAGINA_PADRAO}, no máximo {regras.LIMITE_PAGINA_MAX})"
        ),
    ),
]


def _vazio_e_ausente(valor: object) -> object:
    return None if valor == "" else valor


# Only the API's own ``proximoCursor`` is a cursor (any other string is 422 CURSOR_INVALIDO); an
# empty one (``?cursor=``, a client that fills in a null) is the first page, as no cursor at all.
Cursor = Annotated[
    str | None,
    BeforeValidator(_vazio_e_ausente),
    Query(description="o proximoCursor da página anterior (opaco); ausente ou vazio: a primeira página"),
]


class Pagina(BaseModel, Generic[T]):
    """The answer of a list route (documentation only; the routes send ``pagina(...)``)."""

    model_config = ConfigDict(populate_by_name=True)

    success: Literal[True] = True
    data: list[T]
    proximo_cursor: str | None = Field(alias="proximoCursor")


def pagina(data: list[Any], proximo_cursor: str | None) -> JSONResponse:
    return JSONResponse({"success": True, "data": data, "proximoCursor": proximo_cursor})


Item = TypeVar("Item")


async def por_nome(
    lista: str,
    cursor: str | None,
    limite: int,
    buscar: Callable[[tuple[str, str] | None, int], Awaitable[Sequence[Item]]],
    posicao: Callable[[Item], tuple[str, str]],
) -> tuple[Sequence[Item], str | None]:
    """One page of a tenant's list ordered by (nome, id): ``buscar(apos, n)`` reads up to ``n`` items
    after that pair; one more than the page is read to tell whether a next page exists, whose cursor
    holds the last item's pair."""
    apos = None
    if cursor is not None:
        nome, item_id = decodificar(cursor, lista, {}, 2)
        apos = (nome, item_id)
    itens = await buscar(apos, limite + 1)
    if len(itens) <= limite:
        return itens, None
    itens = itens[:limite]
    return itens, codificar(lista, list(posicao(itens[-1])), {})


def codificar(lista: str, posicao: list[str], filtros: dict[str, str]) -> str:
    texto = json.dumps({"v": VERSAO, "k": lista, "p": posicao, "f": filtros}, separators=(",", ":"))
    return base64.urlsafe_b64encode(texto.encode()).rstrip(b"=").decode("ascii")


def decodificar(cursor: str, lista: str, filtros: dict[str, str], tamanho: int) -> list[str]:
    """The position in ``cursor`` (``tamanho`` strings), or ``CursorInvalido`` with the reason."""
    if len(cursor) > MAX_CURSOR or not _BASE64URL.fullmatch(cursor):
        raise _invalido("não é um cursor desta API")
    try:
        conteudo = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise _invalido("não é um cursor desta API") from None
    if not isinstance(conteudo, dict) or set(conteudo) != {"v", "k", "p", "f"} or conteudo["v"] != VERSAO:
        raise _invalido("não é um cursor desta API")
    if conteudo["k"] != lista or conteudo["f"] != filtros:
        raise _invalido("é de outra lista ou de outros filtros; recomece sem cursor")
    posicao = conteudo["p"]
    if (
        not isinstance(posicao, list)
        or len(posicao) != tamanho
        # The longest part of a position is an atendente's name.
        or not all(isinstance(p, str) and 0 < len(p) <= regras.MAX_NOME for p in posicao)
    ):
        raise _invalido("posição malformada")
    return posicao


def _invalido(motivo: str) -> CursorInvalido:
    return CursorInvalido(f"Cursor inválido: {motivo}", Codigo.CURSOR_INVALIDO)
