"""Channels out over REST: a channel's webhook endpoint and its deliveries (``admin``/``gestor``),
and the status of a message back from the channel's integration (``integracao``). docs/channels.md."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import JsonValue, StringConstraints, WithJsonSchema

from atendimento.api import paginas
from atendimento.api.canais import CanalId
from atendimento.api.dependencias import Contexto, Gestao, Integracao, ator
from atendimento.api.paginas import Cursor, Limite, pagina
from atendimento.api.respostas import erros_documentados, ok
from atendimento.api.schemas import Entrada
from atendimento.domain import regras
from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import de_iso
from atendimento.domain.erros import DadosInvalidos
from atendimento.domain.saida import MAX_URL, PADRAO_URL, WebhookDados

router = APIRouter(prefix="/atendimento/canais", tags=["canais: saída"])

EntregaId = Annotated[
    str, Path(min_length=1, max_length=regras.MAX_ID, description="id da entrega (webhook-id)")
]
MensagemId = Annotated[str, Path(min_length=1, max_length=regras.MAX_ID, description="id da mensagem")]


class WebhookEntrada(Entrada):
    # https only in the schema: http is for the hosts the configuration allows (a test receiver).
    url: Annotated[
        str,
        StringConstraints(min_length=1, max_length=MAX_URL),
        WithJsonSchema(
            {"type": "string", "maxLength": MAX_URL, "pattern": PADRAO_URL.replace("{esquema}", "https")}
        ),
    ]


class StatusMensagemEntrada(Entrada):
    status: Literal["enviada", "entregue", "lida", "falhou"]
    externo_id: str | None = None
    erro: dict[str, JsonValue] | None = None
    em: str | None = None


def _com_segredo(webhook: WebhookDados) -> dict[str, Any]:
    return {**webhook.para_resposta(), "segredo": webhook.segredo}


@router.put(
    "/{canal_id}/webhook",
    summary="Define o webhook de saída do canal; responde o segredo (só aqui e na rotação)",
    responses=erros_documentados(400, 401, 403, 404, 413, 422),
)
async def definir(
    canal_id: CanalId, entrada: WebhookEntrada, identidade: Gestao, ctx: Contexto
) -> JSONResponse:
    webhook = await ctx.servico.definir_webhook(identidade.empresa_id, canal_id, entrada.url)
    return ok(_com_segredo(webhook))


@router.get(
    "/{canal_id}/webhook",
    summary="O webhook do canal, sem o segredo",
    responses=erros_documentados(401, 403, 404),
)
async def obter(canal_id: CanalId, identidade: Gestao, ctx: Contexto) -> JSONResponse:
    return ok((await ctx.servico.obter_webhook(identidade.empresa_id, canal_id)).para_resposta())


@router.delete(
    "/{canal_id}/webhook", summary="Remove o webhook do canal", responses=erros_documentados(401, 403, 404)
)
async def remover(canal_id: CanalId, identidade: Gestao, ctx: Contexto) -> JSONResponse:
    await ctx.servico.remover_webhook(identidade.empresa_id, canal_id)
    return ok({"canalId": canal_id})


@router.post(
    "/{canal_id}/webhook/segredo",
    summary="Novo segredo; o anterior ainda assina por 24 h",
    responses=erros_documentados(401, 403, 404),
)
async def rotacionar(canal_id: CanalId, identidade: Gestao, ctx: Contexto) -> JSONResponse:
    return ok(_com_segredo(await ctx.servico.rotacionar_segredo(identidade.empresa_id, canal_id)))


@router.post(
    "/{canal_id}/webhook/reativar",
    summary="Reativa um webhook desativado; as entregas retomam",
    responses=erros_documentados(401, 403, 404),
)
async def reativar(canal_id: CanalId, identidade: Gestao, ctx: Contexto) -> JSONResponse:
    return ok((await ctx.servico.reativar_webhook(identidade.empresa_id, canal_id)).para_resposta())


@router.get(
    "/{canal_id}/entregas",
    summary="Entregas do canal, da mais nova à mais antiga, com as tentativas",
    responses=erros_documentados(401, 403, 404, 422),
)
async def listar_entregas(
    canal_id: CanalId,
    identidade: Gestao,
    ctx: Contexto,
    estado: Annotated[Literal["pendente", "entregue", "falhou"] | None, Query()] = None,
    limite: Limite = regras.LIMITE_PAGINA_PADRAO,
    cursor: Cursor = None,
) -> JSONResponse:
    filtros = {"canalId": canal_id, "estado": estado or ""}
    antes = None
    if cursor is not None:
        posicao = paginas.decodificar(cursor, "entregas", filtros, 1)[0]
        if not posicao.isdigit():
            raise DadosInvalidos("Cursor inválido: posição malformada", Codigo.CURSOR_INVALIDO)
        antes = int(posicao)
    entregas = await ctx.servico.listar_entregas(
        identidade.empresa_id, canal_id, estado=estado, antes=antes, limite=limite + 1
    )
    proximo = None
    if len(entregas) > limite:
        entregas = entregas[:limite]
        proximo = paginas.codificar("entregas", [str(entregas[-1].seq)], filtros)
    return pagina([e.para_resposta() for e in entregas], proximo)


@router.post(
    "/{canal_id}/entregas/{entrega_id}/reenviar",
    status_code=202,
    summary="Envia a entrega de novo, com o mesmo webhook-id",
    responses=erros_documentados(401, 403, 404),
)
async def reenviar(
    canal_id: CanalId, entrega_id: EntregaId, identidade: Gestao, ctx: Contexto
) -> JSONResponse:
    entrega = await ctx.servico.reenviar_entrega(identidade.empresa_id, canal_id, entrega_id)
    return ok(entrega.para_resposta(), 202)


@router.post(
    "/{canal_id}/mensagens/{mensagem_id}/status",
    summary="A integração informa o que houve com uma mensagem (só avança)",
    responses=erros_documentados(400, 401, 403, 404, 409, 413, 422),
)
async def status_mensagem(
    canal_id: CanalId,
    mensagem_id: MensagemId,
    entrada: StatusMensagemEntrada,
    identidade: Integracao,
    ctx: Contexto,
) -> JSONResponse:
    em = None
    if entrada.em is not None:
        try:
            em = de_iso(entrada.em)
        except ValueError:
            raise DadosInvalidos("em: data ISO 8601", Codigo.PAYLOAD_INVALIDO) from None
    status = await ctx.servico.registrar_status_mensagem(
        identidade.empresa_id,
        canal_id,
        mensagem_id,
        status=entrada.status,
        externo_id=entrada.externo_id,
        erro=entrada.erro,
        em=em,
        ator=ator(identidade),
    )
    return ok(status.para_evento())
