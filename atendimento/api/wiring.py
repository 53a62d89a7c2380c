"""``build_api``: builds the REST application from its collaborators, with no module globals."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute

from atendimento.api import (
    atendentes,
    auth,
    canais,
    canais_cadastro,
    canais_saida,
    filas,
    mensagens,
    notificacoes,
    saude,
    tickets,
    usuarios,
)
from atendimento.api.atalhos import Atalhos
from atendimento.api.dependencias import ContextoApi, bearer
from atendimento.api.docs import instalar_docs
from atendimento.api.error_responses import registrar_handlers
from atendimento.api.login_throttle import LimitadorLogin, PoliticaLogin
from atendimento.api.middleware import ErrosInternos
from atendimento.api.portas import ConsultaPresenca, LimitesRest, VerificacaoProntidao
from atendimento.api.rotas import TabelaRotas
from atendimento.api.sobrecarga import LimiteEmCurso
from atendimento.config import Settings
from atendimento.domain.servicos import ServicoAtendimento
from atendimento.engine.engineio.cors import Cors, CorsAsgi
from atendimento.identity.tokens import ServicoTokens

# REST bodies are small (the largest legitimate one is a message: 10 000 characters of text plus
# 16 KiB of metadata); the bound stops a client from making the server buffer megabytes.
MAX_CORPO_BYTES = 64 * 1024


_MODULOS_DE_ROTAS = (
    auth,
    tickets,
    mensagens,
    canais,
    canais_saida,
    canais_cadastro,
    atendentes,
    usuarios,
    filas,
    notificacoes,
    saude,
)


@functools.cache
def _rotas_do_contrato() -> tuple[BaseRoute, ...]:
    """The contract's routes, built once per process and shared by every app ``build_api`` makes.

    Including a router makes FastAPI analyse each endpoint's signature and build its validators
    (pydantic TypeAdapters): about a quarter of a second for these routes, paid again by every app
    built (one in production, one per test). The routes hold no state of an app (handlers reach
    their collaborators through ``request.app.state``), so they can be shared. They are included
    into a bare router, so FastAPI's ``dependency_overrides`` do not reach them: nothing here uses
    them (the collaborators are passed to ``build_app`` instead)."""
    molde = APIRouter()
    for modulo in _MODULOS_DE_ROTAS:
        molde.include_router(modulo.router)
    return tuple(molde.routes)


def build_api(
    *,
    servico: ServicoAtendimento,
    tokens: ServicoTokens,
    presenca: ConsultaPresenca,
    readiness: Sequence[VerificacaoProntidao] = (),
    degradacao: Sequence[VerificacaoProntidao] = (),
    settings: Settings,
    limitador_login: LimitadorLogin | None = None,
    cors: Cors | None = None,
    max_body_bytes: int = MAX_CORPO_BYTES,
    limites: LimitesRest | None = None,
) -> FastAPI:
    """The REST API of the contract, OpenAPI at /docs.

    ``limitador_login``: login throttling; pass one over a shared ``limits`` storage (Redis) when
    several instances run, otherwise each keeps its own in memory. ``cors``: the cross-origin policy
    shared with the Socket.IO transport (None: one from ``settings``).
    """
    app = FastAPI(
        title="atendimento",
        summary="API REST do módulo de atendimento (omnichannel)",
        version="0.1.0",
        docs_url=None,  # served by docs.py from a pinned package, not from a CDN
        redoc_url=None,
        openapi_url="/openapi.json",
        # No OpenTelemetry here (Prometheus is at /metrics): FastAPI's native telemetry otherwise asks
        # the OTel globals (os.environ reads) on every request whether a provider was configured.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.contexto = ContextoApi(
        servico=servico,
        tokens=tokens,
        presenca=presenca,
        prontidao=tuple(readiness),
        degradacao=tuple(degradacao),
        limitador_login=limitador_login or LimitadorLogin(politica=PoliticaLogin.from_settings(settings)),
        limites=limites,
    )
    # Compiled on first use, once every route below is in.
    tabela = TabelaRotas(app)
    registrar_handlers(app, tabela.metodos)
    instalar_docs(app)
    app.router.routes.extend(_rotas_do_contrato())

    # Added innermost first: CORS outermost (so even a 413, 500 or 503 carries its headers), then
    # admission (who calls, the body read within bounds, the in-flight bounds: sobrecarga.py), then
    # the 500 safety net right around the routes, then the short way into them (atalhos.py), built
    # from the route table when the stack is built, i.e. once every route is in.
    app.add_middleware(Atalhos, tabela=tabela)
    app.add_middleware(ErrosInternos)
    app.add_middleware(
        LimiteEmCurso,
        maximo=settings.max_requests_in_flight,
        tokens=tokens,
        bearer=bearer,
        tabela=tabela,
        anonimos=settings.anonymous_requests_in_flight,
        anonimos_por_endereco=settings.anonymous_requests_per_address,
        max_corpo_bytes=max_body_bytes,
        corpo_timeout_s=settings.body_timeout_seconds,
    )
    # The policy the Socket.IO transport applies too (engine/engineio/cors.py), outermost.
    app.add_middleware(CorsAsgi, policy=cors or Cors(settings.cors_origins))
    return app
