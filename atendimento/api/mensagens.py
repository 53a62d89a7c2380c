"""A ticket's messages: list, and send as the caller. Internal roles only."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from atendimento.api.dependencias import Contexto, Interno
from atendimento.api.respostas import Resposta, erros_documentados, ok
from atendimento.api.saidas import MensagemSaida
from atendimento.api.schemas import MensagemEntrada
from atendimento.api.tickets import TicketId

router = APIRouter(prefix="/atendimento/tickets/{ticket_id}/mensagens", tags=["mensagens"])


@router.get(
    "",
    summary="Mensagens do ticket, da mais antiga à mais nova",
    response_model=Resposta[list[MensagemSaida]],
    responses=erros_documentados(401, 403, 404, 422),
)
async def listar(ticket_id: TicketId, identidade: Interno, ctx: Contexto) -> JSONResponse:
    mensagens = await ctx.servico.listar_mensagens(identidade.empresa_id, ticket_id)
    return ok([m.para_evento() for m in mensagens])


@router.post(
    "",
    status_code=201,
    summary="Envia uma mensagem em nome de quem chama",
    response_model=Resposta[MensagemSaida],
    responses=erros_documentados(400, 401, 403, 404, 409, 413, 422),
)
async def enviar(
    ticket_id: TicketId, entrada: MensagemEntrada, identidade: Interno, ctx: Contexto
) -> JSONResponse:
    mensagem = await ctx.servico.enviar_mensagem(
        identidade.empresa_id,
        ticket_id,
        # The sender is always the token's user, never a field of the body.
        remetente_id=identidade.usuario_id,
        tipo=entrada.tipo,
        conteudo=entrada.conteudo,
        metadados=entrada.metadados,
    )
    return ok(mensagem.para_evento(), 201)
