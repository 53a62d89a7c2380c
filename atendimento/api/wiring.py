"""``build_api``: builds the REST application from its collaborators, with no module globals."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

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
from atendimento.api.dependencias import ContextoApi
from atendimento.api.docs import instalar_docs
from atendimento.api.error_responses import registrar_handlers
from atendimento.api.login_throttle import LimitadorLogin, PoliticaLogin
from atendimento.api.middleware import ErrosInternos, LimiteCorpo
from atendimento.api.portas import ConsultaPresenca, LimitesRest, VerificacaoProntidao
from atendimento.api.sobrecarga import LimiteEmCurso
from atendimento.config import Settings
from atendimento.domain.servicos import ServicoAtendimento
from atendimento.identity.tokens import ServicoTokens

# REST bodies are small (the largest legitimate one is a message: 10 000 characters of text plus
# 16 KiB of metadata); the bound stops a client from making the server buffer megabytes.
MAX_CORPO_BYTES = 64 * 1024


def build_api(
    *,
    servico: ServicoAtendimento,
    tokens: ServicoTokens,
    presenca: ConsultaPresenca,
    readiness: Sequence[VerificacaoProntidao] = (),
    degradacao: Sequence[VerificacaoProntidao] = (),
    settings: Settings,
    limitador_login: LimitadorLogin | None = None,
    max_body_bytes: int = MAX_CORPO_BYTES,
    limites: LimitesRest | None = None,
) -> FastAPI:
    """The REST API of the contract, OpenAPI at /docs.

    ``limitador_login``: login throttling; pass one over a shared ``limits`` storage (Redis) when
    several instances run, otherwise each keeps its own in memory.
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
    registrar_handlers(app)
    instalar_docs(app)
    modulos = (
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
    for modulo in modulos:
        app.include_router(modulo.router)

    # Added innermost first: CORS outermost (so even a 413, 500 or 503 carries its headers), then the
    # in-flight bound, then the body bound, then the 500 safety net right around the routes.
    # The hot routes' short way in (atalhos.py): innermost, so every bound and net above applies.
    app.add_middleware(Atalhos, contexto=app.state.contexto)
    app.add_middleware(ErrosInternos)
    app.add_middleware(LimiteCorpo, max_bytes=max_body_bytes)
    # Inside CORS, so that a browser can read the 503's Retry-After; before everything else.
    app.add_middleware(LimiteEmCurso, maximo=settings.max_requests_in_flight)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Retry-After"],
            # Bearer tokens travel in a header, never in cookies: no credentials mode needed.
            allow_credentials=False,
            max_age=600,
        )
    return app
