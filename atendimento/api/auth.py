"""``POST /auth/login``, ``POST /auth/renovar`` and ``GET /auth/me``."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from atendimento.api.dependencias import Autenticado, Contexto
from atendimento.api.error_responses import ErroApi
from atendimento.api.respostas import Resposta, erros_documentados, ok
from atendimento.api.saidas import LoginSaida, UsuarioSaida
from atendimento.api.schemas import LoginEntrada
from atendimento.domain.codigos import Codigo
from atendimento.identity.tokens import SessaoExpirada

log = logging.getLogger(__name__)

router = APIRouter(prefix="/auth", tags=["auth"])


def _ip(request: Request) -> str | None:
    # The ASGI scope's client: the TCP peer, or the X-Forwarded-For client only when the peer is one
    # of the proxies in ATENDIMENTO_FORWARDED_ALLOW_IPS (uvicorn decides, see cli/serve.py). Never
    # read the forwarded headers here: that would trust them from anyone.
    return request.client.host if request.client else None


@router.post(
    "/login",
    summary="Troca e-mail e senha por um JWT",
    response_model=Resposta[LoginSaida],
    responses=erros_documentados(400, 401, 413, 422, 429, 503),
)
async def login(entrada: LoginEntrada, request: Request, ctx: Contexto) -> JSONResponse:
    if not ctx.tokens.pode_emitir:
        raise ErroApi(
            503, Codigo.LOGIN_INDISPONIVEL, "Login local desativado: os tokens vêm do emissor externo"
        )
    ip = _ip(request)
    limitador = ctx.limitador_login
    reserva = await limitador.reservar(entrada.email, ip)
    try:
        usuario = await ctx.servico.autenticar(entrada.email, entrada.senha)
    except Exception:
        await limitador.liberar(reserva)  # not a failed guess: the password was never checked
        raise
    if usuario is None:
        await limitador.falha(reserva)
        # One answer for an unknown email and a wrong password: it must not reveal which emails exist.
        log.info("login refused from %s", ip)
        raise ErroApi(401, Codigo.CREDENCIAIS_INVALIDAS, "E-mail ou senha inválidos")
    await limitador.sucesso(reserva)
    token = ctx.tokens.emitir(usuario.id, usuario.empresa_id, usuario.role, usuario.nome)
    return ok(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ctx.tokens.ttl_seconds,
            "user": usuario.para_evento(),
        }
    )


@router.post(
    "/renovar",
    summary="Troca o token atual (válido) por um novo, dentro da idade máxima da sessão",
    response_model=Resposta[LoginSaida],
    responses=erros_documentados(401, 503),
)
async def renovar(identidade: Autenticado, ctx: Contexto) -> JSONResponse:
    """A console renews before ``exp`` (on ``auth:expirando``) and hands the new token to its socket
    with ``auth:renovar``. Role and name come from the database now, so a change there takes effect."""
    if not ctx.tokens.pode_emitir:
        raise ErroApi(
            503, Codigo.LOGIN_INDISPONIVEL, "Renovação local desativada: os tokens vêm do emissor externo"
        )
    usuario = await ctx.servico.obter_usuario(identidade.empresa_id, identidade.usuario_id)
    if usuario is None:
        # A CRM-issued token for a user this database does not hold: the CRM renews its own tokens.
        raise ErroApi(401, Codigo.USUARIO_NAO_ENCONTRADO, "Usuário do token não encontrado")
    try:
        token, ttl = ctx.tokens.renovar(identidade, usuario.role, usuario.nome)
    except SessaoExpirada:
        raise ErroApi(
            401, Codigo.SESSAO_EXPIRADA, "Sessão expirada: entre de novo", {"WWW-Authenticate": "Bearer"}
        ) from None
    return ok(
        {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "user": usuario.para_evento()}
    )


@router.get(
    "/me",
    summary="O usuário do token",
    response_model=Resposta[UsuarioSaida],
    responses=erros_documentados(401),
)
async def me(identidade: Autenticado, ctx: Contexto) -> JSONResponse:
    usuario = await ctx.servico.obter_usuario(identidade.empresa_id, identidade.usuario_id)
    if usuario is not None:
        return ok(usuario.para_evento())
    # A valid token from the CRM may name a user this database does not hold: answer from the token.
    return ok(
        {
            "id": identidade.usuario_id,
            "empresaId": identidade.empresa_id,
            "nome": identidade.nome,
            "email": None,
            "role": identidade.role,
            "statusAtendimento": None,
        }
    )
