"""FastAPI dependencies: the request's context, the caller's Identidade, and role checks.

Nothing here is global: ``build_api`` puts one ``ContextoApi`` on ``app.state`` and every
dependency reads it from the request, so two apps in one process (tests) never share state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from atendimento.api.error_responses import ErroApi, proibido
from atendimento.api.login_throttle import LimitadorLogin
from atendimento.api.portas import ConsultaPresenca, LimitesRest, VerificacaoProntidao
from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import Ator
from atendimento.domain.servicos import ServicoAtendimento
from atendimento.identity.tokens import Identidade, ServicoTokens

ROLES_GESTAO = frozenset({"gestor", "admin"})
ROLE_INTEGRACAO = "integracao"


@dataclass(frozen=True, slots=True)
class ContextoApi:
    servico: ServicoAtendimento
    tokens: ServicoTokens
    presenca: ConsultaPresenca
    prontidao: tuple[VerificacaoProntidao, ...]
    # Dependencies without which this instance still serves (Redis: local sockets keep working).
    degradacao: tuple[VerificacaoProntidao, ...]
    limitador_login: LimitadorLogin
    # The expensive writes' rate limits (None: not limited, as in tests that build the API alone).
    limites: LimitesRest | None = None


async def contexto(request: Request) -> ContextoApi:
    # ``async def`` although it awaits nothing: FastAPI runs a plain ``def`` dependency in the
    # thread pool, i.e. a thread hop and two GIL hand-offs on every request (issue 5's profile).
    ctx: ContextoApi = request.app.state.contexto
    return ctx


Contexto = Annotated[ContextoApi, Depends(contexto)]

# auto_error=False: a missing or non-Bearer header must answer the contract's TOKEN_AUSENTE, not
# FastAPI's own 403. The scheme is still declared, so /docs offers its "Authorize" button.
_bearer = HTTPBearer(auto_error=False, description="JWT do /auth/login ou do CRM")


async def identidade_atual(
    request: Request,
    ctx: Contexto,
    credenciais: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Identidade:
    """The verified caller. Only the Authorization header counts: a token in the query string is
    ignored (proxies log URLs), so such a request is TOKEN_AUSENTE."""
    token = credenciais.credentials if credenciais else None
    # TokenErro propagates to error_responses.py, which answers 401 with its code.
    identidade = ctx.tokens.verificar(token)
    request.state.empresa_id = identidade.empresa_id  # per-tenant REST write counts (monitoring)
    await confirmar_usuario(ctx, identidade)
    return identidade


async def confirmar_usuario(ctx: ContextoApi, identidade: Identidade) -> None:
    """The database, not the token, says who the caller is: the user must exist in the token's
    tenant, be active and have the token's role (``UsuarioInvalido``: 401 ``USUARIO_INVALIDO``).
    Answered from the instance's cache of users when warm: no database round trip."""
    await ctx.servico.confirmar_usuario(
        identidade.empresa_id,
        identidade.usuario_id,
        identidade.role,
        nome=identidade.nome,
        email=identidade.email,
    )


Autenticado = Annotated[Identidade, Depends(identidade_atual)]


def ator(identidade: Identidade) -> Ator:
    """The actor of a change: the caller, with the role the database confirmed for it."""
    return Ator(identidade.usuario_id, identidade.role)


async def exigir_interno(identidade: Autenticado) -> Identidade:
    if not identidade.interno:
        raise proibido()
    return identidade


Interno = Annotated[Identidade, Depends(exigir_interno)]


def exigir_roles(roles: frozenset[str]) -> Callable[[Identidade], Awaitable[Identidade]]:
    async def verificar(identidade: Autenticado) -> Identidade:
        if identidade.role not in roles:
            raise proibido()
        return identidade

    return verificar


Gestao = Annotated[Identidade, Depends(exigir_roles(ROLES_GESTAO))]
Admin = Annotated[Identidade, Depends(exigir_roles(frozenset({"admin"})))]
Integracao = Annotated[Identidade, Depends(exigir_roles(frozenset({ROLE_INTEGRACAO})))]


# --- rate limits of the expensive writes -----------------------------------------------------------


def limite(evento: str) -> Callable[..., Awaitable[None]]:
    """A dependency that spends one ``evento`` of the caller's budgets (per user, per tenant):
    past either, 429 ``LIMITE_EXCEDIDO`` with ``Retry-After`` before anything is written. Marked
    ``guarda_atalho`` so the REST short path (atalhos.py) runs it too, as FastAPI does."""

    async def limitar(identidade: Autenticado, ctx: Contexto) -> None:
        if ctx.limites is None:
            return
        espera_ms = await ctx.limites.consumir(evento, identidade.empresa_id, identidade.usuario_id)
        if espera_ms is not None:
            segundos = max(1, -(-espera_ms // 1000))
            raise ErroApi(
                429,
                Codigo.LIMITE_EXCEDIDO,
                f"Limite de {evento} excedido: tente de novo em {segundos} s",
                {"Retry-After": str(segundos)},
            )

    limitar.guarda_atalho = True  # type: ignore[attr-defined]  # read by atalhos.Atalho.de
    limitar.__name__ = f"limite_{evento.replace(':', '_')}"
    return limitar


LimiteMensagem = Annotated[None, Depends(limite("mensagem:enviar"))]
LimiteTicket = Annotated[None, Depends(limite("ticket:criar"))]
LimiteCanal = Annotated[None, Depends(limite("mensagem:canal"))]
LimiteNotificacao = Annotated[None, Depends(limite("notificacao"))]
