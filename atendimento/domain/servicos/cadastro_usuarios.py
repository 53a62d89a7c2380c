"""Provisioning the tenant's people: list, create, change (role, active, capacity, filas).

Who may: the tenant's ``admin`` any user; a ``gestor`` any user but an ``admin`` (it never creates,
promotes, changes or deactivates one: 403). The caller's role comes in as ``ator_role`` (the API
passes the token's, the CLI ``admin``: the operator of the installation).

Passwords: at least ``regras.MIN_SENHA`` characters, hashed with the injected hasher (argon2id), or
generated when none is given and handed back once; never stored or logged in clear.
"""

from __future__ import annotations

import secrets
from typing import Any

from atendimento.domain import regras
from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import (
    CAPACIDADE_PADRAO,
    ROLE_ADMIN,
    ROLE_ATENDENTE,
    UsuarioCadastro,
    UsuarioDados,
    novo_id,
)
from atendimento.domain.erros import (
    Conflito,
    DadosInvalidos,
    NaoEncontrado,
    Proibido,
    canal_nao_encontrado,
    usuario_nao_encontrado,
)
from atendimento.domain.portas import Repositorio
from atendimento.domain.servicos.base import Evento, ServicoBase

ROLES_QUE_PROVISIONAM = frozenset({"admin", "gestor"})
# Generated passwords: 16 characters of base64url (96 bits), shown once.
BYTES_SENHA_GERADA = 12


def _exigir_pode(ator_role: str, *roles_alvo: str | None) -> None:
    if ator_role not in ROLES_QUE_PROVISIONAM:
        raise Proibido("Somente admin e gestor gerenciam usuários", Codigo.PROIBIDO)
    if ator_role != ROLE_ADMIN and ROLE_ADMIN in roles_alvo:
        raise Proibido("Somente um admin cria, promove ou altera um admin", Codigo.PROIBIDO)


async def _filas_validas(repo: Repositorio, fila_ids: tuple[str, ...]) -> None:
    existentes = await repo.filas_existentes(fila_ids) if fila_ids else set()
    faltando = [f for f in fila_ids if f not in existentes]
    if faltando:
        # A well-formed id naming no fila of this tenant (another tenant's answers the same): 404.
        raise NaoEncontrado(f"filaIds: fila não encontrada {faltando[0]}", Codigo.FILA_NAO_ENCONTRADA)


async def _canais_validos(repo: Repositorio, canal_ids: tuple[str, ...]) -> None:
    for canal_id in canal_ids:
        if await repo.obter_canal(canal_id) is None:
            raise canal_nao_encontrado()


class CasosCadastroUsuarios(ServicoBase):
    """Provisioning of users; each change that matters to live sockets is published after the commit."""

    async def listar_cadastros(
        self,
        empresa_id: str,
        ator_role: str,
        *,
        apos: tuple[str, str] | None = None,
        limite: int | None = None,
    ) -> list[UsuarioCadastro]:
        regras.validar_id(empresa_id, "empresaId")
        _exigir_pode(ator_role)
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            return await repo.listar_cadastros(apos=apos, limite=limite)

    async def obter_cadastro(self, empresa_id: str, ator_role: str, usuario_id: str) -> UsuarioCadastro:
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(usuario_id, "usuarioId")
        _exigir_pode(ator_role)
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            cadastro = await repo.obter_cadastro(usuario_id)
        if cadastro is None:
            raise usuario_nao_encontrado()
        return cadastro

    async def criar_usuario(
        self,
        empresa_id: str,
        ator_role: str,
        *,
        nome: object,
        email: object,
        role: object,
        senha: object = None,
        capacidade: object = None,
        fila_ids: object = None,
        canal_ids: object = None,
    ) -> tuple[UsuarioCadastro, str | None]:
        """The new user and, when no ``senha`` was given, the generated one (shown this once)."""
        regras.validar_id(empresa_id, "empresaId")
        nome_ok = regras.validar_nome(nome)
        email_ok = regras.validar_email_cadastro(email)
        role_ok = regras.validar_role(role)
        _exigir_pode(ator_role, role_ok)
        gerada = secrets.token_urlsafe(BYTES_SENHA_GERADA) if senha is None else None
        senha_ok = regras.validar_senha_nova(senha if gerada is None else gerada)
        capacidade_ok = CAPACIDADE_PADRAO if capacidade is None else regras.validar_capacidade(capacidade)
        filas = () if fila_ids is None else regras.validar_ids(fila_ids, "filaIds")
        # The channels an integration may post for (interface of the integrations' binding).
        canais = () if canal_ids is None else regras.validar_ids(canal_ids, "canalIds")
        senha_hash = await self._senhas.hash_async(senha_ok)  # outside the transaction: argon2 is slow
        usuario = UsuarioDados(
            id=novo_id(),
            empresa_id=empresa_id,
            nome=nome_ok,
            email=email_ok,
            role=role_ok,
            status_atendimento="offline" if role_ok == ROLE_ATENDENTE else None,
        )
        async with self._storage.unidade(empresa_id) as repo:
            await _filas_validas(repo, filas)
            if not await repo.inserir_usuario(usuario, senha_hash, capacidade_ok):
                raise Conflito("E-mail já cadastrado", Codigo.EMAIL_EM_USO)
            if filas:
                await repo.definir_filas_usuario(usuario.id, filas)
            if canais:
                await _canais_validos(repo, canais)
                await repo.definir_canais_usuario(usuario.id, frozenset(canais))
        return UsuarioCadastro(usuario, True, capacidade_ok, filas), gerada

    async def atualizar_usuario(
        self,
        empresa_id: str,
        ator_role: str,
        usuario_id: str,
        mudancas: dict[str, Any],
    ) -> UsuarioCadastro:
        """``mudancas``: any of ``nome``, ``role``, ``ativo``, ``capacidade``, ``fila_ids``. A
        deactivation or a role change disconnects the user's sockets (``usuario_alterado``)."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(usuario_id, "usuarioId")
        desconhecidas = set(mudancas) - {"nome", "role", "ativo", "capacidade", "fila_ids", "canal_ids"}
        if desconhecidas:
            raise DadosInvalidos(
                f"Campo {sorted(desconhecidas)[0]} não pode ser alterado", Codigo.PAYLOAD_INVALIDO
            )
        colunas: dict[str, Any] = {}
        if "nome" in mudancas:
            colunas["nome"] = regras.validar_nome(mudancas["nome"])
        if "role" in mudancas:
            colunas["role"] = regras.validar_role(mudancas["role"])
        if "ativo" in mudancas:
            colunas["ativo"] = regras.validar_ativo(mudancas["ativo"])
        if "capacidade" in mudancas:
            colunas["capacidade"] = regras.validar_capacidade(mudancas["capacidade"])
        filas = regras.validar_ids(mudancas["fila_ids"], "filaIds") if "fila_ids" in mudancas else None
        canais = regras.validar_ids(mudancas["canal_ids"], "canalIds") if "canal_ids" in mudancas else None
        _exigir_pode(ator_role, colunas.get("role"))
        eventos: list[Evento] = []
        async with self._storage.unidade(empresa_id) as repo:
            atual = await repo.obter_cadastro(usuario_id)
            if atual is None:
                raise usuario_nao_encontrado()
            _exigir_pode(ator_role, atual.usuario.role)
            role = colunas.get("role", atual.usuario.role)
            if "role" in colunas and role != atual.usuario.role:
                # An atendente has an attendance status; other roles have none.
                colunas["status_atendimento"] = "offline" if role == ROLE_ATENDENTE else None
            colunas = {k: v for k, v in colunas.items() if _valor_atual(atual, k) != v}
            if filas is not None:
                await _filas_validas(repo, filas)
            if colunas:
                await repo.atualizar_usuario(usuario_id, colunas)
            if filas is not None and filas != atual.fila_ids:
                await repo.definir_filas_usuario(usuario_id, filas)
            novo = await repo.obter_cadastro(usuario_id)
            assert novo is not None  # read in this very transaction
            if canais is not None:
                await _canais_validos(repo, canais)
                await repo.definir_canais_usuario(usuario_id, frozenset(canais))
            if colunas or canais is not None:
                # Every instance drops its cached record; sockets of a user now inactive or of
                # another role are disconnected (the publisher's implementation decides).
                eventos.append(lambda: self._publicador.usuario_alterado(empresa_id, usuario_id))
        self.esquecer_usuario(empresa_id, usuario_id)
        self._publicar(eventos)
        if (
            novo.ativo
            and novo.usuario.role == ROLE_ATENDENTE
            and ({"capacidade", "ativo"} & set(colunas) or filas)
        ):
            await self.rotear_atendente(empresa_id, usuario_id)  # it may take more now
        return novo


def _valor_atual(cadastro: UsuarioCadastro, coluna: str) -> Any:
    if coluna in ("ativo", "capacidade"):
        return getattr(cadastro, coluna)
    return getattr(cadastro.usuario, coluna)
