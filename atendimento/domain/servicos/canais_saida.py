"""Channels out: a channel's webhook endpoint, its deliveries, and message status back from the
integration (docs/channels.md). The relay that delivers lives in ``atendimento/webhooks``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from atendimento.domain import permissoes, regras, saida
from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import SISTEMA, Ator, MensagemDados, TicketDados, agora
from atendimento.domain.erros import ConflitoExterno, DadosInvalidos, Proibido, canal_nao_encontrado
from atendimento.domain.portas import Repositorio
from atendimento.domain.saida import (
    EntregaDados,
    StatusMensagem,
    WebhookDados,
    entrega_nao_encontrada,
    mensagem_nao_encontrada,
    webhook_nao_encontrado,
)
from atendimento.domain.servicos.base import Evento, ServicoBase

ROLES_AVISADOS = ("admin", "gestor")


async def _canal(repo: Repositorio, canal_id: str) -> None:
    if await repo.obter_canal(canal_id) is None:
        raise canal_nao_encontrado()


async def _webhook(repo: Repositorio, canal_id: str) -> WebhookDados:
    await _canal(repo, canal_id)
    webhook = await repo.saida.obter_webhook(canal_id)
    if webhook is None:
        raise webhook_nao_encontrado()
    return webhook


def _erro(erro: object) -> dict[str, str] | None:
    if erro is None:
        return None
    if not isinstance(erro, dict) or set(erro) - {"codigo", "descricao"}:
        raise DadosInvalidos("erro: {codigo, descricao}", Codigo.PAYLOAD_INVALIDO)
    codigo = regras.validar_texto(erro.get("codigo"), "erro.codigo", saida.MAX_ERRO_CODIGO)
    descricao = regras.validar_texto(
        erro.get("descricao", ""), "erro.descricao", saida.MAX_ERRO_DESCRICAO, obrigatorio=False
    )
    return {"codigo": codigo, "descricao": descricao}


class CasosSaida(ServicoBase):
    """The endpoint (set, read, remove, rotate, re-enable), the deliveries, the status back."""

    async def definir_webhook(self, empresa_id: str, canal_id: str, url: str) -> WebhookDados:
        """Set the channel's endpoint (enabled). A new endpoint gets a new secret; a changed one keeps
        its secret. The answer carries the secret: the only place besides a rotation."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(canal_id, "canalId")
        url = saida.validar_url(url, self.saida.hosts_http)
        momento = agora()
        async with self._storage.unidade(empresa_id) as repo:
            await _canal(repo, canal_id)
            atual = await repo.saida.obter_webhook(canal_id)
            if atual is None:
                webhook = WebhookDados(
                    canal_id,
                    empresa_id,
                    url,
                    saida.gerar_segredo(),
                    None,
                    None,
                    True,
                    None,
                    None,
                    momento,
                    momento,
                )
            else:
                webhook = replace(
                    atual,
                    url=url,
                    ativo=True,
                    desativado_em=None,
                    desativado_motivo=None,
                    atualizado_em=momento,
                )
            await repo.saida.salvar_webhook(webhook)
        self._publicar([self._avisar_saida])  # a re-enabled endpoint resumes at once
        return webhook

    async def obter_webhook(self, empresa_id: str, canal_id: str) -> WebhookDados:
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(canal_id, "canalId")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            return await _webhook(repo, canal_id)

    async def remover_webhook(self, empresa_id: str, canal_id: str) -> None:
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(canal_id, "canalId")
        async with self._storage.unidade(empresa_id) as repo:
            await _canal(repo, canal_id)
            if not await repo.saida.remover_webhook(canal_id):
                raise webhook_nao_encontrado()

    async def rotacionar_segredo(self, empresa_id: str, canal_id: str) -> WebhookDados:
        """A new secret; the current one keeps signing beside it for 24 h."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(canal_id, "canalId")
        momento = agora()
        async with self._storage.unidade(empresa_id) as repo:
            atual = await _webhook(repo, canal_id)
            webhook = replace(
                atual,
                segredo=saida.gerar_segredo(),
                segredo_anterior=atual.segredo,
                segredo_anterior_ate=momento + timedelta(seconds=saida.ROTACAO_SEGUNDOS),
                atualizado_em=momento,
            )
            await repo.saida.salvar_webhook(webhook)
        return webhook

    async def reativar_webhook(self, empresa_id: str, canal_id: str) -> WebhookDados:
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(canal_id, "canalId")
        async with self._storage.unidade(empresa_id) as repo:
            atual = await _webhook(repo, canal_id)
            webhook = replace(
                atual, ativo=True, desativado_em=None, desativado_motivo=None, atualizado_em=agora()
            )
            await repo.saida.salvar_webhook(webhook)
        self._publicar([self._avisar_saida])
        return webhook

    async def listar_entregas(
        self, empresa_id: str, canal_id: str, *, estado: str | None, antes: int | None, limite: int
    ) -> list[EntregaDados]:
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(canal_id, "canalId")
        if estado is not None and estado not in saida.ESTADOS_ENTREGA:
            raise DadosInvalidos("estado: pendente, entregue ou falhou", Codigo.PAYLOAD_INVALIDO)
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            await _canal(repo, canal_id)
            return await repo.saida.listar_entregas(canal_id, estado=estado, antes_seq=antes, limite=limite)

    async def reenviar_entrega(self, empresa_id: str, canal_id: str, entrega_id: str) -> EntregaDados:
        """Send it again with the same ``webhook-id``; a message it had marked ``falhou`` is
        ``pendente`` again."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(canal_id, "canalId")
        regras.validar_id(entrega_id, "entregaId")
        eventos: list[Evento] = []
        async with self._storage.unidade(empresa_id) as repo:
            await _canal(repo, canal_id)
            entrega = await repo.saida.obter_entrega(canal_id, entrega_id)
            if entrega is None:
                raise entrega_nao_encontrada()
            await repo.saida.reenviar_entrega(entrega.seq)
            if entrega.mensagem_id is not None:
                achada = await repo.saida.mensagem_do_canal(canal_id, entrega.mensagem_id, bloquear=True)
                if achada is not None and achada[0].status == "falhou":
                    novo = await _mudar_status(repo, empresa_id, canal_id, *achada, "pendente", None)
                    eventos.append(lambda: self._publicador.mensagem_status(novo))
            eventos.append(self._avisar_saida)
            entrega = replace(entrega, estado="pendente", proxima_em=None)
        self._publicar(eventos)
        return entrega

    async def registrar_status_mensagem(
        self,
        empresa_id: str,
        canal_id: str,
        mensagem_id: str,
        *,
        status: str,
        externo_id: str | None = None,
        erro: object = None,
        em: datetime | None = None,
        ator: Ator = SISTEMA,
    ) -> StatusMensagem:
        """The integration reports what happened to a message. Forward only: a late or repeated
        report changes nothing and answers the current state. ``externo_id`` is kept once per
        message and is unique per channel (409 otherwise)."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(canal_id, "canalId")
        regras.validar_id(mensagem_id, "mensagemId")
        if status not in saida.STATUS_MENSAGEM:
            raise DadosInvalidos("status: enviada, entregue, lida ou falhou", Codigo.PAYLOAD_INVALIDO)
        if externo_id is not None:
            externo_id = regras.validar_texto(externo_id, "externoId", saida.MAX_EXTERNO_ID)
        detalhe = _erro(erro)
        integracao = None if ator.sistema else await self.registro_usuario(empresa_id, ator.usuario_id)
        eventos: list[Evento] = []
        async with self._storage.unidade(empresa_id) as repo:
            await _canal(repo, canal_id)
            if not ator.sistema:
                # As for a customer's message: only on a channel the integration is bound to (403).
                if integracao is None:
                    raise Proibido("Integração desconhecida", Codigo.PROIBIDO)
                permissoes.exigir_canal_da_integracao(integracao, canal_id)
            achada = await repo.saida.mensagem_do_canal(canal_id, mensagem_id, bloquear=True)
            if achada is None:
                raise mensagem_nao_encontrada()
            mensagem, ticket = achada
            if externo_id is not None and externo_id != mensagem.externo_id:
                if mensagem.externo_id is not None:
                    raise ConflitoExterno("Esta mensagem já tem outro externoId", Codigo.EXTERNO_ID_CONFLITO)
                if await repo.saida.dono_do_externo(canal_id, externo_id) is not None:
                    raise ConflitoExterno("externoId já usado neste canal", Codigo.EXTERNO_ID_CONFLITO)
            novo_externo = externo_id if mensagem.externo_id is None else None
            avanca = saida.status_avanca(mensagem.status, status)
            if not avanca and novo_externo is None:
                return StatusMensagem(
                    empresa_id,
                    mensagem.id,
                    ticket.id,
                    ticket.atendente_id,
                    mensagem.status_efetivo or "pendente",
                    mensagem.status_em or mensagem.criado_em,
                    mensagem.status_erro,
                    mensagem.externo_id,
                )
            momento = em or agora()
            novo_status = status if avanca else (mensagem.status or "pendente")
            novo_erro = detalhe if avanca and status == "falhou" else mensagem.status_erro
            await repo.saida.gravar_status_mensagem(
                canal_id,
                mensagem,
                status=novo_status,
                em=momento if avanca else (mensagem.status_em or momento),
                erro=novo_erro,
                externo_id=novo_externo,
            )
            resultado = StatusMensagem(
                empresa_id,
                mensagem.id,
                ticket.id,
                ticket.atendente_id,
                novo_status,
                momento if avanca else (mensagem.status_em or momento),
                novo_erro,
                externo_id or mensagem.externo_id,
            )
            if avanca:
                eventos.append(lambda: self._publicador.mensagem_status(resultado))
        self._publicar(eventos)
        return resultado

    async def marcar_entrega_falhou(
        self, empresa_id: str, canal_id: str, mensagem_id: str, entrega_id: str, motivo: str
    ) -> None:
        """The relay gave a message's delivery up: the message is ``falhou`` (unless the integration
        already reported it further), and the agents hear it with the delivery to re-send."""
        erro = {"codigo": "ENTREGA_FALHOU", "descricao": motivo[: saida.MAX_ERRO_DESCRICAO]}
        eventos: list[Evento] = []
        async with self._storage.unidade(empresa_id) as repo:
            achada = await repo.saida.mensagem_do_canal(canal_id, mensagem_id, bloquear=True)
            if achada is None or not saida.status_avanca(achada[0].status, "falhou"):
                return
            novo = await _mudar_status(repo, empresa_id, canal_id, *achada, "falhou", erro, entrega_id)
            eventos.append(lambda: self._publicador.mensagem_status(novo))
        self._publicar(eventos)

    async def avisar_webhook_desativado(self, empresa_id: str, canal_id: str, motivo: str) -> None:
        """The tenant's admin and gestor users hear that an endpoint was disabled."""
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            usuarios = [u for role in ROLES_AVISADOS for u in await repo.listar_usuarios(role=role)]
        dados = {"canalId": canal_id, "motivo": motivo}
        texto = "O webhook do canal foi desativado: " + motivo

        def aviso(usuario_id: str) -> Evento:
            return lambda: self._publicador.notificacao(
                empresa_id, usuario_id, "webhook:desativado", texto, dados
            )

        self._publicar([aviso(u.id) for u in usuarios])


async def _mudar_status(
    repo: Repositorio,
    empresa_id: str,
    canal_id: str,
    mensagem: MensagemDados,
    ticket: TicketDados,
    status: str,
    erro: dict[str, str] | None,
    entrega_id: str | None = None,
) -> StatusMensagem:
    """A change of a message's status on the relay's side (re-sent, given up): written now, and
    what ``mensagem:status`` carries. The integration's own reports go through
    ``registrar_status_mensagem``, which also weighs ``externoId`` and the order of states."""
    momento = agora()
    await repo.saida.gravar_status_mensagem(
        canal_id, mensagem, status=status, em=momento, erro=erro, externo_id=None
    )
    return StatusMensagem(
        empresa_id,
        mensagem.id,
        ticket.id,
        ticket.atendente_id,
        status,
        momento,
        erro,
        mensagem.externo_id,
        entrega_id,
    )
