"""A ticket's messages: list, and send as the caller. Internal roles only."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from atendimento.api import paginas
from atendimento.api.dependencias import Contexto, Interno, LimiteMensagem
from atendimento.api.idempotencia import ChaveIdempotencia, idempotencia
from atendimento.api.paginas import Cursor, Limite, Pagina, pagina
from atendimento.api.respostas import Resposta, erros_documentados, ok
from atendimento.api.saidas import MensagemSaida
from atendimento.api.schemas import MensagemEntrada
from atendimento.api.tickets import TicketId
from atendimento.domain import regras

router = APIRouter(prefix="/atendimento/tickets/{ticket_id}/mensagens", tags=["mensagens"])


@router.get(
    "",
    summary="Mensagens do ticket, na ordem em que foram gravadas, em páginas",
    response_model=Pagina[MensagemSaida],
    responses=erros_documentados(401, 403, 404, 422),
)
async def listar(
    ticket_id: TicketId,
    identidade: Interno,
    ctx: Contexto,
    limite: Limite = regras.LIMITE_PAGINA_PADRAO,
    cursor: Cursor = None,
) -> JSONResponse:
    # Messages are only ever appended, so the last id handed out is a stable position.
    filtros = {"ticketId": ticket_id}
    apos = None if cursor is None else paginas.decodificar(cursor, "mensagens", filtros, 1)[0]
    mensagens = await ctx.servico.listar_mensagens(
        identidade.empresa_id, ticket_id, apos=apos, limite=limite + 1
    )
    proximo = None
    if len(mensagens) > limite:
        mensagens = mensagens[:limite]
        proximo = paginas.codificar("mensagens", [mensagens[-1].id], filtros)
    return pagina([m.para_evento() for m in mensagens], proximo)


@router.post(
    "",
    status_code=201,
    summary="Envia uma mensagem em nome de quem chama",
    response_model=Resposta[MensagemSaida],
    responses=erros_documentados(400, 401, 403, 404, 409, 413, 422, 429),
)
async def enviar(
    ticket_id: TicketId,
    entrada: MensagemEntrada,
    identidade: Interno,
    ctx: Contexto,
    limite_rest: LimiteMensagem,
    chave: ChaveIdempotencia = None,
) -> JSONResponse:
    mensagem = await ctx.servico.enviar_mensagem(
        identidade.empresa_id,
        ticket_id,
        # The sender is always the token's user, never a field of the body.
        remetente_id=identidade.usuario_id,
        role=identidade.role,  # checked against the database by the write itself
        tipo=entrada.tipo,
        conteudo=entrada.conteudo,
        metadados=entrada.metadados,
        interna=entrada.interna,
        idempotente=idempotencia(identidade, chave),
    )
    return ok(mensagem.para_evento(), 201)
