"""Tickets: list, create, read, change, assign, change status. Internal roles only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from atendimento.api import paginas
from atendimento.api.dependencias import Contexto, Interno, LimiteTicket, ator
from atendimento.api.error_responses import ErroApi
from atendimento.api.idempotencia import ChaveIdempotencia, idempotencia
from atendimento.api.paginas import Cursor, Limite, Pagina, pagina
from atendimento.api.respostas import Resposta, erros_documentados, ok
from atendimento.api.saidas import HistoricoSaida, LidaSaida, TicketDetalheSaida
from atendimento.api.schemas import (
    AtribuirEntrada,
    Id,
    LidaEntrada,
    StatusEntrada,
    StatusTicket,
    TicketAtualizar,
    TicketCriar,
)
from atendimento.domain import regras
from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import TicketDados, de_iso, iso_utc
from atendimento.domain.erros import CursorInvalido
from atendimento.identity.tokens import Identidade

router = APIRouter(prefix="/atendimento/tickets", tags=["tickets"])

TicketId = Annotated[str, Path(min_length=1, max_length=regras.MAX_ID, description="id do ticket")]
# Every route here: bad token, wrong role; the ones with an id also 404 (unknown or another tenant's).
_ERROS = (401, 403, 422)
_ERROS_ESCRITA = (400, 401, 403, 404, 409, 413, 422, 429)


# Longer than any ISO 8601 instant; a longer value is refused before it is parsed.
_MAX_INSTANTE = 40


def _instante(valor: str | None) -> datetime | None:
    if valor is None:
        return None
    try:
        if len(valor) > _MAX_INSTANTE:
            raise ValueError
        return de_iso(valor)
    except ValueError:
        raise ErroApi(
            422,
            Codigo.PAYLOAD_INVALIDO,
            "atualizadoDesde: use uma data ISO 8601, ex. 2026-11-29T17:08:20.123Z",
        ) from None


@router.get(
    "",
    summary="Tickets do tenant por atualizadoEm e id, com filtros, em páginas",
    response_model=Pagina[TicketDetalheSaida],
    responses=erros_documentados(*_ERROS),
)
async def listar(
    identidade: Interno,
    ctx: Contexto,
    status: Annotated[StatusTicket | None, Query()] = None,
    atendente_id: Annotated[Id | None, Query(alias="atendenteId")] = None,
    fila_id: Annotated[Id | None, Query(alias="filaId")] = None,
    atualizado_desde: Annotated[
        str | None,
        Query(
            alias="atualizadoDesde",
            description="só os tickets com atualizadoEm nesse instante ou depois (ISO 8601)",
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
    limite: Limite = regras.LIMITE_PAGINA_PADRAO,
    cursor: Cursor = None,
) -> JSONResponse:
    desde = _instante(atualizado_desde)
    # The cursor is bound to the query it came from: other filters → 422, not a silently odd page.
    filtros = {
        k: v
        for k, v in (
            ("status", status),
            ("atendenteId", atendente_id),
            ("filaId", fila_id),
            ("atualizadoDesde", None if desde is None else desde.isoformat()),
        )
        if v is not None
    }
    apos = None
    if cursor is not None:
        instante, ticket_id = paginas.decodificar(cursor, "tickets", filtros, 2)
        apos = (_posicao(instante), ticket_id)
    tickets = await ctx.servico.listar_tickets_detalhados(
        identidade.empresa_id,
        identidade.usuario_id,
        status=status,
        atendente_id=atendente_id,
        fila_id=fila_id,
        atualizado_desde=desde,
        apos=apos,
        limite=limite + 1,  # one more than asked: whether there is a next page
    )
    proximo = None
    if len(tickets) > limite:
        tickets = tickets[:limite]
        ultimo = tickets[-1].ticket
        proximo = paginas.codificar("tickets", [iso_utc(ultimo.atualizado_em), ultimo.id], filtros)
    return pagina([t.para_evento() for t in tickets], proximo)


async def _detalhado(
    ctx: Contexto, identidade: Identidade, ticket: TicketDados, status: int = 200
) -> JSONResponse:
    """A ticket just written, answered with its cliente, canal and the caller's unread count."""
    return ok(
        (await ctx.servico.detalhar(identidade.empresa_id, identidade.usuario_id, ticket)).para_evento(),
        status,
    )


def _posicao(instante: str) -> datetime:
    try:
        return de_iso(instante)
    except ValueError:
        raise CursorInvalido("Cursor inválido: posição malformada", Codigo.CURSOR_INVALIDO) from None


@router.post(
    "",
    status_code=201,
    summary="Cria um ticket",
    response_model=Resposta[TicketDetalheSaida],
    responses=erros_documentados(*_ERROS_ESCRITA),
)
async def criar(
    entrada: TicketCriar,
    identidade: Interno,
    ctx: Contexto,
    limite_rest: LimiteTicket,
    chave: ChaveIdempotencia = None,
) -> JSONResponse:
    ticket = await ctx.servico.criar_ticket(
        identidade.empresa_id,
        cliente_id=entrada.cliente_id,
        canal_id=entrada.canal_id,
        fila_id=entrada.fila_id,
        prioridade=entrada.prioridade,
        assunto=entrada.assunto,
        descricao=entrada.descricao,
        atendente_id=entrada.atendente_id,
        idempotente=idempotencia(identidade, chave),
        ator=ator(identidade),
    )
    return await _detalhado(ctx, identidade, ticket, 201)


@router.get(
    "/{ticket_id}",
    summary="Um ticket",
    response_model=Resposta[TicketDetalheSaida],
    responses=erros_documentados(401, 403, 404, 422),
)
async def obter(ticket_id: TicketId, identidade: Interno, ctx: Contexto) -> JSONResponse:
    detalhe = await ctx.servico.obter_ticket_detalhado(
        identidade.empresa_id, identidade.usuario_id, ticket_id
    )
    return ok(detalhe.para_evento())


@router.patch(
    "/{ticket_id}",
    summary="Muda prioridade, assunto, descrição ou fila",
    response_model=Resposta[TicketDetalheSaida],
    responses=erros_documentados(*_ERROS_ESCRITA),
)
async def atualizar(
    ticket_id: TicketId, entrada: TicketAtualizar, identidade: Interno, ctx: Contexto
) -> JSONResponse:
    ticket = await ctx.servico.atualizar_ticket(
        identidade.empresa_id, ticket_id, **entrada.mudancas(), ator=ator(identidade)
    )
    return await _detalhado(ctx, identidade, ticket)


@router.post(
    "/{ticket_id}/atribuir",
    summary="Atribui a um atendente",
    response_model=Resposta[TicketDetalheSaida],
    responses=erros_documentados(*_ERROS_ESCRITA),
)
async def atribuir(
    ticket_id: TicketId, entrada: AtribuirEntrada, identidade: Interno, ctx: Contexto
) -> JSONResponse:
    ticket = await ctx.servico.atribuir_ticket(
        identidade.empresa_id, ticket_id, entrada.atendente_id, ator=ator(identidade)
    )
    return await _detalhado(ctx, identidade, ticket)


@router.post(
    "/{ticket_id}/status",
    summary="Muda o status (transição inválida: 409)",
    response_model=Resposta[TicketDetalheSaida],
    responses=erros_documentados(*_ERROS_ESCRITA),
)
async def mudar_status(
    ticket_id: TicketId, entrada: StatusEntrada, identidade: Interno, ctx: Contexto
) -> JSONResponse:
    ticket = await ctx.servico.mudar_status(
        identidade.empresa_id, ticket_id, entrada.status, ator=ator(identidade)
    )
    return await _detalhado(ctx, identidade, ticket)


@router.get(
    "/{ticket_id}/historico",
    summary="Quem mudou o ticket, o quê e quando, do mais antigo ao mais novo, em páginas",
    response_model=Pagina[HistoricoSaida],
    responses=erros_documentados(401, 403, 404, 422),
)
async def historico(
    ticket_id: TicketId,
    identidade: Interno,
    ctx: Contexto,
    limite: Limite = regras.LIMITE_PAGINA_PADRAO,
    cursor: Cursor = None,
) -> JSONResponse:
    filtros = {"ticketId": ticket_id}
    apos = None if cursor is None else paginas.decodificar(cursor, "historico", filtros, 1)[0]
    entradas = await ctx.servico.listar_historico(
        identidade.empresa_id, ticket_id, apos=apos, limite=limite + 1
    )
    proximo = None
    if len(entradas) > limite:
        entradas = entradas[:limite]
        proximo = paginas.codificar("historico", [entradas[-1].id], filtros)
    return pagina([h.para_evento() for h in entradas], proximo)


@router.post(
    "/{ticket_id}/lida",
    summary="Marca o ticket como lido pelo usuário até uma mensagem (em todos os dispositivos dele)",
    response_model=Resposta[LidaSaida],
    responses=erros_documentados(400, 401, 403, 404, 413, 422),
)
async def marcar_lida(
    ticket_id: TicketId, entrada: LidaEntrada, identidade: Interno, ctx: Contexto
) -> JSONResponse:
    ate, nao_lidas = await ctx.servico.marcar_lida(
        identidade.empresa_id, identidade.usuario_id, ticket_id, entrada.ate
    )
    return ok({"ticketId": ticket_id, "ate": ate, "naoLidas": nao_lidas})
