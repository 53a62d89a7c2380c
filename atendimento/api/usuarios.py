"""Provisioning the tenant's users: ``admin`` any user, ``gestor`` any but an ``admin`` (403)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from atendimento.api import paginas
from atendimento.api.dependencias import Contexto, Gestao
from atendimento.api.paginas import Cursor, Limite, Pagina, pagina
from atendimento.api.respostas import Resposta, erros_documentados, ok
from atendimento.api.saidas import UsuarioCadastroSaida, UsuarioCriadoSaida
from atendimento.api.schemas import UsuarioAtualizar, UsuarioCriar
from atendimento.domain import regras

router = APIRouter(prefix="/atendimento/usuarios", tags=["usuarios"])

UsuarioId = Annotated[str, Path(min_length=1, max_length=regras.MAX_ID, description="id do usuário")]


@router.get(
    "",
    summary="Usuários do tenant (ativos ou não), por nome, em páginas",
    response_model=Pagina[UsuarioCadastroSaida],
    responses=erros_documentados(401, 403, 422),
)
async def listar(
    identidade: Gestao, ctx: Contexto, limite: Limite = regras.LIMITE_PAGINA_PADRAO, cursor: Cursor = None
) -> JSONResponse:
    usuarios, proximo = await paginas.por_nome(
        "usuarios",
        cursor,
        limite,
        lambda apos, n: ctx.servico.listar_cadastros(
            identidade.empresa_id, identidade.role, apos=apos, limite=n
        ),
        lambda u: (u.usuario.nome, u.usuario.id),
    )
    return pagina([u.para_evento() for u in usuarios], proximo)


@router.post(
    "",
    status_code=201,
    summary="Cria um usuário (sem senha: uma é gerada e vem uma única vez em senhaGerada)",
    response_model=Resposta[UsuarioCriadoSaida],
    responses=erros_documentados(400, 401, 403, 404, 409, 413, 422),
)
async def criar(entrada: UsuarioCriar, identidade: Gestao, ctx: Contexto) -> JSONResponse:
    cadastro, gerada = await ctx.servico.criar_usuario(
        identidade.empresa_id,
        identidade.role,
        nome=entrada.nome,
        email=entrada.email,
        role=entrada.role,
        senha=entrada.senha,
        capacidade=entrada.capacidade,
        fila_ids=entrada.fila_ids,
        canal_ids=entrada.canal_ids,
    )
    dados = cadastro.para_evento()
    if gerada is not None:
        dados["senhaGerada"] = gerada
    return ok(dados, 201)


@router.get(
    "/{usuario_id}",
    summary="Um usuário do tenant",
    response_model=Resposta[UsuarioCadastroSaida],
    responses=erros_documentados(401, 403, 404, 422),
)
async def obter(usuario_id: UsuarioId, identidade: Gestao, ctx: Contexto) -> JSONResponse:
    cadastro = await ctx.servico.obter_cadastro(identidade.empresa_id, identidade.role, usuario_id)
    return ok(cadastro.para_evento())


@router.patch(
    "/{usuario_id}",
    summary="Muda nome, perfil, ativo, capacidade ou filas (desativar desconecta os sockets do usuário)",
    response_model=Resposta[UsuarioCadastroSaida],
    responses=erros_documentados(400, 401, 403, 404, 409, 413, 422),
)
async def atualizar(
    usuario_id: UsuarioId, entrada: UsuarioAtualizar, identidade: Gestao, ctx: Contexto
) -> JSONResponse:
    cadastro = await ctx.servico.atualizar_usuario(
        identidade.empresa_id, identidade.role, usuario_id, entrada.mudancas()
    )
    return ok(cadastro.para_evento())
