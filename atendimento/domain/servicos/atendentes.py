"""The tenant's atendentes: reading users, listing atendentes, their attendance status."""

from __future__ import annotations

from dataclasses import replace

from atendimento.domain import regras
from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import ROLE_ATENDENTE, UsuarioDados
from atendimento.domain.erros import Proibido, usuario_nao_encontrado
from atendimento.domain.servicos.base import ServicoBase


class CasosAtendentes(ServicoBase):
    """Users and atendentes of one tenant."""

    async def obter_usuario(self, empresa_id: str, usuario_id: str) -> UsuarioDados | None:
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(usuario_id, "usuarioId")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            return await repo.obter_usuario(usuario_id)

    async def listar_atendentes(
        self, empresa_id: str, *, apos: tuple[str, str] | None = None, limite: int | None = None
    ) -> list[UsuarioDados]:
        """By (nome, id); ``apos`` and ``limite`` page it (keyset)."""
        regras.validar_id(empresa_id, "empresaId")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            return await repo.listar_usuarios(role=ROLE_ATENDENTE, apos=apos, limite=limite)

    async def definir_status_atendente(
        self, empresa_id: str, usuario_id: str, status: str
    ) -> tuple[UsuarioDados, bool]:
        """The user with the new status, and whether it changed (the same status again writes nothing)."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(usuario_id, "usuarioId")
        status = regras.validar_status_atendente(status)
        async with self._storage.unidade(empresa_id) as repo:
            usuario = await repo.obter_usuario(usuario_id)
            if usuario is None:
                raise usuario_nao_encontrado()
            if usuario.role != ROLE_ATENDENTE:
                raise Proibido("Somente atendentes têm status de atendimento", Codigo.PROIBIDO)
            if usuario.status_atendimento == status:
                return usuario, False
            await repo.definir_status_atendente(usuario_id, status)
        if status == "online":
            await self.rotear_atendente(empresa_id, usuario_id)  # available again: its filas' waiting
        return replace(usuario, status_atendimento=status), True
