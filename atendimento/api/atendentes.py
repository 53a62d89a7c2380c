"""The tenant's atendentes, with presence (live sockets) and their chosen status."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from atendimento.api import paginas
from atendimento.api.dependencias import Contexto, Interno
from atendimento.api.paginas import Cursor, Limite, Pagina, pagina
from atendimento.api.portas import ConsultaPresenca
from atendimento.api.respostas import erros_documentados
from atendimento.api.saidas import AtendenteSaida
from atendimento.domain import regras

log = logging.getLogger(__name__)

router = APIRouter(prefix="/atendimento/atendentes", tags=["atendentes"])


async def _online(presenca: ConsultaPresenca, empresa_id: str) -> set[str] | None:
    """Presence, or None when it cannot be asked: the list still answers, marking it unknown,
    rather than failing the whole page because the backplane hiccupped."""
    try:
        return await presenca.online(empresa_id)
    except Exception as exc:
        # Type only, like the rest of the product's logs: tracebacks are for debug level.
        log.warning(
            "presence lookup failed for tenant %s: %s",
            empresa_id,
            type(exc).__name__,
            exc_info=log.isEnabledFor(logging.DEBUG),
        )
        return None


@router.get(
    "",
    summary="Atendentes do tenant com presença e status, por nome, em páginas",
    response_model=Pagina[AtendenteSaida],
    responses=erros_documentados(401, 403, 422),
)
async def listar(
    identidade: Interno, ctx: Contexto, limite: Limite = regras.LIMITE_PAGINA_PADRAO, cursor: Cursor = None
) -> JSONResponse:
    apos = None
    if cursor is not None:
        nome, usuario_id = paginas.decodificar(cursor, "atendentes", {}, 2)
        apos = (nome, usuario_id)
    atendentes = await ctx.servico.listar_atendentes(identidade.empresa_id, apos=apos, limite=limite + 1)
    proximo = None
    if len(atendentes) > limite:
        atendentes = atendentes[:limite]
        proximo = paginas.codificar("atendentes", [atendentes[-1].nome, atendentes[-1].id], {})
    online = await _online(ctx.presenca, identidade.empresa_id)
    dados = [{**a.para_evento(), "online": None if online is None else a.id in online} for a in atendentes]
    return pagina(dados, proximo)
