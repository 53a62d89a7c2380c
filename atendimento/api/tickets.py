"""Tickets: list, create, read, change, assign, change status. Internal roles only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from atendimento.api.dependencias import Contexto, Interno
from atendimento.api.respostas import Resposta, erros_documentados, ok
from atendimento.api.saidas import TicketSaida
from atendimento.api.schemas import (
    AtribuirEntrada,
    Id,
    StatusEntrada,
    StatusTicket,
    TicketAtualizar,
    TicketCriar,
)
from atendimento.domain import regras

router = APIRouter(prefix="/atendimento/tickets", tags=["tickets"])

TicketId = Annotated[str, Path(min_length=1, max_length=regras.MAX_ID, description="id do ticket")]
# Every route here: bad token, wrong role; the ones with an id also 404 (unknown or another tenant's).
_ERROS = (401, 403, 422)
_ERROS_ESCRITA = (400, 401, 403, 404, 409, 413, 422)


@router.get(
    "",
    summary="Tickets do tenant, com filtros",
    response_model=Resposta[list[TicketSaida]],
    responses=erros_documentados(*_ERROS),
)
async def listar(
    identidade: Interno,
    ctx: Contexto,
    status: Annotated[StatusTicket | None, Query()] = None,
    atendente_id: Annotated[Id | None, Query(alias="atendenteId")] = None,
    fila_id: Annotated[Id | None, Query(alias="filaId")] = None,
) -> JSONResponse:
    tickets = await ctx.servico.listar_tickets(
        identidade.empresa_id, status=status, atendente_id=atendente_id, fila_id=fila_id
    )
    return ok([t.para_evento() for t in tickets])


@router.post(
    "",
    status_code=201,
    summary="Cria um ticket",
    response_model=Resposta[TicketSaida],
    responses=erros_documentados(*_ERROS_ESCRITA),
)
async def criar(entrada: TicketCriar, identidade: Interno, ctx: Contexto) -> JSONResponse:
    ticket = await ctx.servico.criar_ticket(
        identidade.empresa_id,
        cliente_id=entrada.cliente_id,
        canal_id=entrada.canal_id,
        fila_id=entrada.fila_id,
        prioridade=entrada.prioridade,
        assunto=entrada.assunto,
        descricao=entrada.descricao,
        atendente_id=entrada.atendente_id,
    )
    return ok(ticket.para_evento(), 201)


@router.get(
    "/{ticket_id}",
    summary="Um ticket",
    response_model=Resposta[TicketSaida],
    responses=erros_documentados(401, 403, 404, 422),
)
async def obter(ticket_id: TicketId, identidade: Interno, ctx: Contexto) -> JSONResponse:
    ticket = await ctx.servico.obter_ticket(identidade.empresa_id, ticket_id)
    return ok(ticket.para_evento())


@router.patch(
    "/{ticket_id}",
    summary="Muda prioridade, assunto, descrição ou fila",
    response_model=Resposta[TicketSaida],
    responses=erros_documentados(*_ERROS_ESCRITA),
)
async def atualizar(
    ticket_id: TicketId, entrada: TicketAtualizar, identidade: Interno, ctx: Contexto
) -> JSONResponse:
    ticket = await ctx.servico.atualizar_ticket(identidade.empresa_id, ticket_id, **entrada.mudancas())
    return ok(ticket.para_evento())


@router.post(
    "/{ticket_id}/atribuir",
    summary="Atribui a um atendente",
    response_model=Resposta[TicketSaida],
    responses=erros_documentados(*_ERROS_ESCRITA),
)
async def atribuir(
    ticket_id: TicketId, entrada: AtribuirEntrada, identidade: Interno, ctx: Contexto
) -> JSONResponse:
    ticket = await ctx.servico.atribuir_ticket(identidade.empresa_id, ticket_id, entrada.atendente_id)
    return ok(ticket.para_evento())


@router.post(
    "/{ticket_id}/status",
    summary="Muda o status (transição inválida: 409)",
    response_model=Resposta[TicketSaida],
    responses=erros_documentados(*_ERROS_ESCRITA),
)
async def mudar_status(
    ticket_id: TicketId, entrada: StatusEntrada, identidade: Interno, ctx: Contexto
) -> JSONResponse:
    ticket = await ctx.servico.mudar_status(identidade.empresa_id, ticket_id, entrada.status)
    return ok(ticket.para_evento())
