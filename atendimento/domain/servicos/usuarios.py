"""The database is the authority on who a token's user is: ``confirmar_usuario`` (every REST call,
every socket connection), creating users issued elsewhere (``provisionar``), and changing a user's
role, activity or channels (``alterar_usuario``), which every instance hears of at once."""

from __future__ import annotations

from dataclasses import replace

from atendimento.domain import regras
from atendimento.domain.entidades import UsuarioDados
from atendimento.domain.erros import (
    DadosInvalidos,
    UsuarioInvalido,
    canal_nao_encontrado,
    usuario_nao_encontrado,
)
from atendimento.domain.servicos.base import ServicoBase

# Stored in place of an argon2 hash for a user issued elsewhere: no password ever matches it.
SEM_SENHA = "!externo"
MAX_ROLE = 32


class CasosUsuarios(ServicoBase):
    """``confirmar_usuario``, ``alterar_usuario``."""

    async def confirmar_usuario(
        self, empresa_id: str, usuario_id: str, role: str, *, nome: str, email: str | None = None
    ) -> UsuarioDados:
        """The user of a verified token, as the database holds it: it must exist in the token's
        tenant, be active and have the role the token claims; ``UsuarioInvalido`` otherwise. With
        ``usuarios_externos="provisionar"`` a user the database does not hold is created from the
        token's claims first (its tenant must exist). A warm cache answers with no round trip."""
        registro = await self.registro_usuario(empresa_id, usuario_id)
        if registro is None and self._usuarios_externos == "provisionar":
            registro = await self._provisionar(empresa_id, usuario_id, role, nome, email)
        if registro is None or not registro.ativo or registro.role != role:
            raise UsuarioInvalido()
        return registro

    async def _provisionar(
        self, empresa_id: str, usuario_id: str, role: str, nome: str, email: str | None
    ) -> UsuarioDados | None:
        try:
            regras.validar_id(empresa_id, "empresaId")
            regras.validar_id(usuario_id, "sub")
            regras.validar_texto(role, "role", MAX_ROLE)
            nome = regras.validar_texto(nome, "nome", regras.MAX_NOME)
        except DadosInvalidos:
            return None
        # The email is unique across the product: one already taken (or none given) is replaced by
        # an address of the reserved .invalid domain, which names the user and reaches nobody.
        normalizado = regras.normalizar_email(email)
        substituto = f"{usuario_id}@{empresa_id}.externo.invalid".lower()
        novo = UsuarioDados(
            id=usuario_id,
            empresa_id=empresa_id,
            nome=nome,
            email=normalizado or substituto,
            role=role,
            status_atendimento=None,
        )
        async with self._storage.unidade(empresa_id) as repo:
            if not await repo.empresa_existe():
                return None
            inserido = await repo.inserir_usuario_externo(novo)
            if not inserido and normalizado is not None:
                inserido = await repo.inserir_usuario_externo(replace(novo, email=substituto))
            registro = await repo.obter_registro_usuario(usuario_id)
        # Created (or another instance created it meanwhile): every instance forgets its "no such user".
        self.esquecer_usuario(empresa_id, usuario_id)
        if inserido:
            self._publicar([lambda: self._publicador.usuario_alterado(empresa_id, usuario_id)])
        return registro

    async def alterar_usuario(
        self,
        empresa_id: str,
        usuario_id: str,
        *,
        role: str | None = None,
        ativo: bool | None = None,
        canal_ids: frozenset[str] | None = None,
    ) -> UsuarioDados:
        """Change a user's role, activity or channels (None: unchanged). After the commit, every
        instance drops the user from its cache and disconnects its sockets if it is now inactive or
        of another role (``PublicadorEventos.usuario_alterado``): older tokens stop working at once."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(usuario_id, "usuarioId")
        if role is not None:
            regras.validar_texto(role, "role", MAX_ROLE)
        async with self._storage.unidade(empresa_id) as repo:
            if await repo.obter_registro_usuario(usuario_id) is None:
                raise usuario_nao_encontrado()
            if role is not None or ativo is not None:
                await repo.alterar_usuario(usuario_id, role=role, ativo=ativo)
            if canal_ids is not None:
                for canal_id in canal_ids:
                    if await repo.obter_canal(regras.validar_id(canal_id, "canalIds")) is None:
                        raise canal_nao_encontrado()
                await repo.definir_canais_usuario(usuario_id, frozenset(canal_ids))
            registro = await repo.obter_registro_usuario(usuario_id)
        assert registro is not None
        self.esquecer_usuario(empresa_id, usuario_id)
        self._publicar([lambda: self._publicador.usuario_alterado(empresa_id, usuario_id)])
        return registro
