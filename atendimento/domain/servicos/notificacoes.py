"""Notifications to one user of a tenant or to all of it (published, never stored)."""

from __future__ import annotations

from atendimento.domain import regras
from atendimento.domain.erros import usuario_nao_encontrado
from atendimento.domain.servicos.base import ServicoBase


class CasosNotificacoes(ServicoBase):
    """``notificar``."""

    async def notificar(
        self,
        empresa_id: str,
        *,
        usuario_id: str | None = None,
        tipo: str,
        mensagem: str | None = None,
        dados: object | None = None,
    ) -> None:
        """To one user of the tenant, or (usuario_id None) to the whole tenant."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id_opcional(usuario_id, "usuarioId")
        tipo = regras.validar_texto(tipo, "tipo", regras.MAX_TIPO_NOTIFICACAO)
        mensagem = regras.validar_texto_opcional(mensagem, "mensagem", regras.MAX_MENSAGEM_NOTIFICACAO)
        dados = regras.validar_dados_notificacao(dados)
        if usuario_id is not None:
            async with self._storage.unidade(empresa_id, escrita=False) as repo:
                if await repo.obter_usuario(usuario_id) is None:
                    raise usuario_nao_encontrado()
        self._publicar([lambda: self._publicador.notificacao(empresa_id, usuario_id, tipo, mensagem, dados)])
