"""A channel integration (role ``integracao``) delivers a customer's message."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from atendimento.api.dependencias import Contexto, Integracao, LimiteCanal, ator
from atendimento.api.respostas import Resposta, erros_documentados, ok
from atendimento.api.saidas import MensagemCanalSaida
from atendimento.api.schemas import MensagemCanalEntrada
from atendimento.domain import regras

router = APIRouter(prefix="/atendimento/canais", tags=["canais"])

CanalId = Annotated[str, Path(min_length=1, max_length=regras.MAX_ID, description="id do canal")]


@router.post(
    "/{canal_id}/mensagens",
    status_code=201,
    summary="Mensagem de um cliente: entra no ticket aberto dele neste canal ou abre um",
    response_model=Resposta[MensagemCanalSaida],
    responses=erros_documentados(400, 401, 403, 404, 413, 422, 429),
)
async def receber(
    canal_id: CanalId,
    entrada: MensagemCanalEntrada,
    identidade: Integracao,
    ctx: Contexto,
    limite_rest: LimiteCanal,
) -> JSONResponse:
    """Only for a channel the integration is bound to (``canalIds``); another channel: 403."""
    ticket, mensagem, criado = await ctx.servico.receber_mensagem_canal(
        identidade.empresa_id,
        canal_id,
        contato=entrada.contato,
        nome_cliente=entrada.nome_cliente,
        tipo=entrada.tipo,
        conteudo=entrada.conteudo,
        metadados=entrada.metadados,
        ator=ator(identidade),
    )
    return ok(
        {"ticket": ticket.para_evento(), "mensagem": mensagem.para_evento(), "ticketCriado": criado}, 201
    )
