"""``GET /health`` (the process answers) and ``GET /ready`` (its dependencies answer too)."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from atendimento.api.dependencias import Contexto
from atendimento.api.error_responses import resposta_erro
from atendimento.api.portas import VerificacaoProntidao
from atendimento.api.respostas import Resposta, erros_documentados, ok
from atendimento.api.saidas import ProntidaoSaida, SaudeSaida
from atendimento.domain.codigos import Codigo

log = logging.getLogger(__name__)

router = APIRouter(tags=["saude"])

# A probe that hangs is a failed probe; orchestrators time out around a few seconds.
TIMEOUT_VERIFICACAO_S = 2.0


@router.get("/health", summary="Liveness", response_model=Resposta[SaudeSaida])
async def health() -> JSONResponse:
    return ok({"status": "ok"})


async def _verificar(indice: int, verificacao: VerificacaoProntidao) -> tuple[str, bool]:
    nome_padrao = getattr(verificacao, "__name__", f"verificacao{indice}")
    try:
        nome, pronto, detalhe = await asyncio.wait_for(verificacao(), TIMEOUT_VERIFICACAO_S)
    except TimeoutError:
        log.warning("readiness check %s timed out", nome_padrao)
        return nome_padrao, False
    except Exception as exc:
        log.warning("readiness check %s failed: %s", nome_padrao, type(exc).__name__)
        return nome_padrao, False
    if not pronto:
        log.warning("readiness check %s not ready: %s", nome, detalhe)
    return nome, bool(pronto)


@router.get(
    "/ready",
    summary="Readiness: banco e demais dependências respondem",
    response_model=Resposta[ProntidaoSaida],
    responses=erros_documentados(503),
)
async def ready(ctx: Contexto) -> JSONResponse:
    """503 when a dependency the instance cannot serve without fails (the database); 200 with
    ``degradado`` when only one it can do without is away (Redis: its own sockets keep working, so a
    load balancer must not take every instance out at once)."""
    todas = (*ctx.prontidao, *ctx.degradacao)
    resultados = await asyncio.gather(*(_verificar(i, v) for i, v in enumerate(todas)))
    criticos = resultados[: len(ctx.prontidao)]
    falhas = [nome for nome, pronto in criticos if not pronto]
    if falhas:
        return resposta_erro(503, Codigo.NAO_PRONTO, f"Dependências indisponíveis: {', '.join(falhas)}")
    status = "pronto" if all(pronto for _, pronto in resultados) else "degradado"
    return ok({"status": status, "verificacoes": dict(resultados)})
