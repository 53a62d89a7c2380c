"""Provisioning the tenant's structure: the empresa itself (CLI), its filas and canais.

Who may: filas, the tenant's ``admin`` and ``gestor``; canais, the ``admin`` (a ``gestor`` reads
them). The caller's role comes in as ``ator_role``; the CLI passes ``admin``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from atendimento.domain import regras
from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import ROLE_ADMIN, CanalDados, FilaDados, novo_id
from atendimento.domain.erros import (
    Conflito,
    DadosInvalidos,
    NaoEncontrado,
    Proibido,
    canal_nao_encontrado,
    fila_nao_encontrada,
)
from atendimento.domain.portas import Repositorio
from atendimento.domain.servicos.base import ServicoBase

ROLES_FILAS = frozenset({"admin", "gestor"})
ROLES_LEITURA_CANAIS = frozenset({"admin", "gestor"})


def _exigir(ator_role: str, roles: frozenset[str], o_que: str) -> None:
    if ator_role not in roles:
        raise Proibido(f"Perfil sem acesso a {o_que}", Codigo.PROIBIDO)


def _sem_desconhecidas(mudancas: dict[str, Any], permitidas: set[str]) -> None:
    desconhecidas = set(mudancas) - permitidas
    if desconhecidas:
        campo = sorted(desconhecidas)[0]
        raise DadosInvalidos(f"Campo {campo} não pode ser alterado", Codigo.PAYLOAD_INVALIDO)


async def _fila_do_canal(repo: Repositorio, fila_id: str) -> None:
    if await repo.obter_fila(fila_id) is None:
        # Another tenant's fila answers as an unknown one: 404.
        raise NaoEncontrado(f"filaId: fila não encontrada {fila_id}", Codigo.FILA_NAO_ENCONTRADA)


class CasosEstrutura(ServicoBase):
    """Empresas, filas and canais."""

    async def criar_empresa(self, nome: object) -> str:
        """A new tenant (the CLI's ``empresa criar``): its id."""
        nome_ok = regras.validar_nome(nome)
        empresa_id = novo_id()
        async with self._storage.unidade(empresa_id) as repo:
            await repo.inserir_empresa(nome_ok)
        return empresa_id

    # --- filas ------------------------------------------------------------------------------------

    async def listar_filas(
        self,
        empresa_id: str,
        ator_role: str,
        *,
        apos: tuple[str, str] | None = None,
        limite: int | None = None,
    ) -> list[FilaDados]:
        regras.validar_id(empresa_id, "empresaId")
        _exigir(ator_role, ROLES_FILAS, "filas")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            return await repo.listar_filas(apos=apos, limite=limite)

    async def obter_fila(self, empresa_id: str, fila_id: str) -> FilaDados:
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(fila_id, "filaId")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            fila = await repo.obter_fila(fila_id)
        if fila is None:
            raise fila_nao_encontrada()
        return fila

    async def obter_fila_com_espera(
        self, empresa_id: str, fila_id: str
    ) -> tuple[FilaDados, int, datetime | None]:
        """The fila, how many of its open tickets have no atendente, and when the oldest was opened."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(fila_id, "filaId")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            fila = await repo.obter_fila(fila_id)
            if fila is None:
                raise fila_nao_encontrada()
            aguardando, desde = await repo.espera_da_fila(fila_id)
        return fila, aguardando, desde

    async def criar_fila(
        self, empresa_id: str, ator_role: str, *, nome: object, distribuicao: object = "manual"
    ) -> FilaDados:
        regras.validar_id(empresa_id, "empresaId")
        fila = FilaDados(
            id=novo_id(),
            empresa_id=empresa_id,
            nome=regras.validar_nome(nome),
            distribuicao=regras.validar_distribuicao(distribuicao),
        )
        _exigir(ator_role, ROLES_FILAS, "filas")
        async with self._storage.unidade(empresa_id) as repo:
            if not await repo.salvar_fila(fila, nova=True):
                raise Conflito("Já existe uma fila com esse nome", Codigo.FILA_JA_EXISTE)
        return fila

    async def atualizar_fila(
        self, empresa_id: str, ator_role: str, fila_id: str, mudancas: dict[str, Any]
    ) -> FilaDados:
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(fila_id, "filaId")
        _sem_desconhecidas(mudancas, {"nome", "distribuicao"})
        campos: dict[str, Any] = {}
        if "nome" in mudancas:
            campos["nome"] = regras.validar_nome(mudancas["nome"])
        if "distribuicao" in mudancas:
            campos["distribuicao"] = regras.validar_distribuicao(mudancas["distribuicao"])
        _exigir(ator_role, ROLES_FILAS, "filas")
        async with self._storage.unidade(empresa_id) as repo:
            atual = await repo.obter_fila(fila_id)
            if atual is None:
                raise fila_nao_encontrada()
            fila = replace(atual, **campos)
            if fila != atual and not await repo.salvar_fila(fila, nova=False):
                raise Conflito("Já existe uma fila com esse nome", Codigo.FILA_JA_EXISTE)
        if fila.distribuicao == "automatica" and atual.distribuicao != "automatica":
            await self._roteador.rotear_filas(empresa_id, [fila_id])  # its waiting tickets go now
        return fila

    # --- canais -----------------------------------------------------------------------------------

    async def listar_canais(
        self,
        empresa_id: str,
        ator_role: str,
        *,
        apos: tuple[str, str] | None = None,
        limite: int | None = None,
    ) -> list[CanalDados]:
        regras.validar_id(empresa_id, "empresaId")
        _exigir(ator_role, ROLES_LEITURA_CANAIS, "canais")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            return await repo.listar_canais(apos=apos, limite=limite)

    async def obter_canal(self, empresa_id: str, ator_role: str, canal_id: str) -> CanalDados:
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(canal_id, "canalId")
        _exigir(ator_role, ROLES_LEITURA_CANAIS, "canais")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            canal = await repo.obter_canal(canal_id)
        if canal is None:
            raise canal_nao_encontrado()
        return canal

    async def criar_canal(
        self, empresa_id: str, ator_role: str, *, nome: object, tipo: object, fila_id: object
    ) -> CanalDados:
        regras.validar_id(empresa_id, "empresaId")
        canal = CanalDados(
            id=novo_id(),
            empresa_id=empresa_id,
            nome=regras.validar_nome(nome),
            tipo=regras.validar_tipo_canal(tipo),
            fila_padrao_id=regras.validar_id(fila_id, "filaId"),
            ativo=True,
        )
        _exigir(ator_role, frozenset({ROLE_ADMIN}), "canais")
        async with self._storage.unidade(empresa_id) as repo:
            await _fila_do_canal(repo, canal.fila_padrao_id)
            await repo.salvar_canal(canal, novo=True)
        return canal

    async def atualizar_canal(
        self, empresa_id: str, ator_role: str, canal_id: str, mudancas: dict[str, Any]
    ) -> CanalDados:
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(canal_id, "canalId")
        _sem_desconhecidas(mudancas, {"nome", "tipo", "fila_id", "ativo"})
        campos: dict[str, Any] = {}
        if "nome" in mudancas:
            campos["nome"] = regras.validar_nome(mudancas["nome"])
        if "tipo" in mudancas:
            campos["tipo"] = regras.validar_tipo_canal(mudancas["tipo"])
        if "fila_id" in mudancas:
            campos["fila_padrao_id"] = regras.validar_id(mudancas["fila_id"], "filaId")
        if "ativo" in mudancas:
            campos["ativo"] = regras.validar_ativo(mudancas["ativo"])
        _exigir(ator_role, frozenset({ROLE_ADMIN}), "canais")
        async with self._storage.unidade(empresa_id) as repo:
            atual = await repo.obter_canal(canal_id)
            if atual is None:
                raise canal_nao_encontrado()
            canal = replace(atual, **campos)
            if canal != atual:
                if canal.fila_padrao_id != atual.fila_padrao_id:
                    await _fila_do_canal(repo, canal.fila_padrao_id)
                await repo.salvar_canal(canal, novo=False)
        return canal
