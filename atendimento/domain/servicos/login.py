"""Login: the user whose email and password match, in whichever tenant."""

from __future__ import annotations

from atendimento.domain import regras
from atendimento.domain.entidades import UsuarioDados
from atendimento.domain.servicos.base import ServicoBase


class CasosLogin(ServicoBase):
    """``autenticar``: the one use case not scoped to a tenant (the token does not exist yet)."""

    async def autenticar(self, email: object, senha: object) -> UsuarioDados | None:
        """The user whose email and password match, in whichever tenant; None otherwise.

        Unknown email, wrong password and malformed input all cost one argon2 check, so the
        answer time does not tell which emails exist."""
        email_norm = regras.normalizar_email(email)
        if not isinstance(senha, str) or len(senha) > regras.MAX_SENHA or email_norm is None:
            await self._senhas.verificar_async(None, senha if isinstance(senha, str) else "")
            return None
        encontrado = await self._storage.buscar_login(email_norm)
        if encontrado is None:
            await self._senhas.verificar_async(None, senha)
            return None
        usuario, senha_hash = encontrado
        return usuario if await self._senhas.verificar_async(senha_hash, senha) else None
