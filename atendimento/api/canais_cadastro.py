"""Provisioning the tenant's canais: the ``admin`` creates and changes them, a ``gestor`` reads.

The same prefix as ``canais.py`` (a channel integration delivering messages), another job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from atendimento.api import paginas
from atendimento.api.dependencias import Admin, Contexto, Gestao
from atendimento.api.paginas import Cursor, Limite, Pagina, pagina
from atendimento.api.respostas import Resposta, erros_documentados, ok
from atendimento.api.saidas import CanalSaida
from atendimento.api.schemas import CanalAtualizar, CanalCriar
from atendimento.domain import regras

router = APIRouter(prefix="/atendimento/canais", tags=["canais"])

CanalId = Annotated[str, Path(min_length=1, max_length=regras.MAX_ID, description="id do canal")]


@router.get(
    "",
    summary="Canais do tenant, por nome, em páginas",
    response_model=Pagina[CanalSaida],
    responses=erros_documentados(401, 403, 422),
)
async def listar(
    identidade: Gestao, ctx: Contexto, limite: Limite = regras.LIMITE_PAGINA_PADRAO, cursor: Cursor = None
) -> JSONResponse:
    canais, proximo = await paginas.por_nome(
        "canais",
        cursor,
        limite,
        lambda apos, n: ctx.servico.listar_canais(
            identidade.empresa_id, identidade.role, apos=apos, limite=n
        ),
        lambda c: (c.nome, c.id),
    )
    return pagina([c.para_evento() for c in canais], proximo)


@router.post(
    "",
    status_code=201,
    summary="Cria um canal; filaId: a fila dos tickets novos dele",
    response_model=Resposta[CanalSaida],
    responses=erros_documentados(400, 401, 403, 404, 413, 422),
)
async def criar(entrada: CanalCriar, identidade: Admin, ctx: Contexto) -> JSONResponse:
    canal = await ctx.servico.criar_canal(
        identidade.empresa_id, identidade.role, nome=entrada.nome, tipo=entrada.tipo, fila_id=entrada.fila_id
    )
    return ok(canal.para_evento(), 201)


@router.get(
    "/{canal_id}",
    summary="Um canal",
    response_model=Resposta[CanalSaida],
    responses=erros_documentados(401, 403, 404, 422),
)
async def obter(canal_id: CanalId, identidade: Gestao, ctx: Contexto) -> JSONResponse:
    canal = await ctx.servico.obter_canal(identidade.empresa_id, identidade.role, canal_id)
    return ok(canal.para_evento())


@router.patch(
    "/{canal_id}",
    summary="Muda nome, tipo, fila dos tickets novos ou ativo",
    response_model=Resposta[CanalSaida],
    responses=erros_documentados(400, 401, 403, 404, 413, 422),
)
async def atualizar(
    canal_id: CanalId, entrada: CanalAtualizar, identidade: Admin, ctx: Contexto
) -> JSONResponse:
    canal = await ctx.servico.atualizar_canal(
        identidade.empresa_id, identidade.role, canal_id, entrada.mudancas()
    )
    return ok(canal.para_evento())
