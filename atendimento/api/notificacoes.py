"""``POST /notificacoes``: a gestor or admin notifies one user or the whole tenant."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from atendimento.api.dependencias import Contexto, Gestao, LimiteNotificacao
from atendimento.api.respostas import Resposta, erros_documentados, ok
from atendimento.api.saidas import NotificacaoSaida
from atendimento.api.schemas import NotificacaoEntrada

router = APIRouter(tags=["notificacoes"])


@router.post(
    "/notificacoes",
    status_code=202,
    summary="Notifica um usuário (usuarioId) ou todo o tenant (sem usuarioId)",
    response_model=Resposta[NotificacaoSaida],
    responses=erros_documentados(400, 401, 403, 404, 413, 422, 429),
)
async def notificar(
    entrada: NotificacaoEntrada, identidade: Gestao, ctx: Contexto, limite_rest: LimiteNotificacao
) -> JSONResponse:
    await ctx.servico.notificar(
        identidade.empresa_id,
        usuario_id=entrada.usuario_id,
        tipo=entrada.tipo,
        mensagem=entrada.mensagem,
        dados=entrada.dados,
    )
    # 202: handed to the realtime side; whether anyone is connected to receive it is not known here.
    return ok({"usuarioId": entrada.usuario_id, "tipo": entrada.tipo}, 202)
