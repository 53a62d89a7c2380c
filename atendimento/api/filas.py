"""Provisioning the tenant's filas (``admin``, ``gestor``), and how long their tickets wait."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from atendimento.api import paginas
from atendimento.api.dependencias import Contexto, Gestao, Interno
from atendimento.api.paginas import Cursor, Limite, Pagina, pagina
from atendimento.api.respostas import Resposta, erros_documentados, ok
from atendimento.api.saidas import FilaEsperaSaida, FilaSaida
from atendimento.api.schemas import FilaAtualizar, FilaCriar
from atendimento.domain import regras
from atendimento.domain.entidades import agora, iso_utc

router = APIRouter(prefix="/atendimento/filas", tags=["filas"])

FilaId = Annotated[str, Path(min_length=1, max_length=regras.MAX_ID, description="id da fila")]


@router.get(
    "",
    summary="Filas do tenant, por nome, em páginas",
    response_model=Pagina[FilaSaida],
    responses=erros_documentados(401, 403, 422),
)
async def listar(
    identidade: Gestao, ctx: Contexto, limite: Limite = regras.LIMITE_PAGINA_PADRAO, cursor: Cursor = None
) -> JSONResponse:
    filas, proximo = await paginas.por_nome(
        "filas",
        cursor,
        limite,
        lambda apos, n: ctx.servico.listar_filas(identidade.empresa_id, identidade.role, apos=apos, limite=n),
        lambda f: (f.nome, f.id),
    )
    return pagina([f.para_evento() for f in filas], proximo)


@router.post(
    "",
    status_code=201,
    summary="Cria uma fila (distribuicao: manual ou automatica)",
    response_model=Resposta[FilaSaida],
    responses=erros_documentados(400, 401, 403, 409, 413, 422),
)
async def criar(entrada: FilaCriar, identidade: Gestao, ctx: Contexto) -> JSONResponse:
    fila = await ctx.servico.criar_fila(
        identidade.empresa_id, identidade.role, nome=entrada.nome, distribuicao=entrada.distribuicao
    )
    return ok(fila.para_evento(), 201)


@router.get(
    "/{fila_id}",
    summary="Uma fila, com quantos tickets esperam atendente e desde quando o mais antigo espera",
    response_model=Resposta[FilaEsperaSaida],
    responses=erros_documentados(401, 403, 404, 422),
)
async def obter(fila_id: FilaId, identidade: Interno, ctx: Contexto) -> JSONResponse:
    fila, aguardando, desde = await ctx.servico.obter_fila_com_espera(identidade.empresa_id, fila_id)
    espera = None if desde is None else max(0.0, (agora() - desde).total_seconds())
    return ok(
        {
            **fila.para_evento(),
            "aguardando": aguardando,
            "aguardandoDesde": None if desde is None else iso_utc(desde),
            "esperaMaisLongaSegundos": espera,
        }
    )


@router.patch(
    "/{fila_id}",
    summary="Muda nome ou distribuição",
    response_model=Resposta[FilaSaida],
    responses=erros_documentados(400, 401, 403, 404, 409, 413, 422),
)
async def atualizar(
    fila_id: FilaId, entrada: FilaAtualizar, identidade: Gestao, ctx: Contexto
) -> JSONResponse:
    fila = await ctx.servico.atualizar_fila(
        identidade.empresa_id, identidade.role, fila_id, entrada.mudancas()
    )
    return ok(fila.para_evento())
