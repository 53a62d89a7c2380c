"""The repository's user records for authorisation (``RepositorioSql`` inherits them): the record
with ``ativo`` and the channels of an integration, users issued elsewhere, role and activity changes,
the channel bindings. Kept apart so the repository module stays small."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from atendimento.domain.entidades import UsuarioDados, agora
from atendimento.storage.modelos import Empresa, UsuarioCanal
from atendimento.storage.tabelas import T_USUARIOS, usuario_dados

T_EMPRESAS = cast(Table, Empresa.__table__)
T_USUARIOS_CANAIS = cast(Table, UsuarioCanal.__table__)

_COLUNAS = tuple(
    T_USUARIOS.c[n] for n in ("id", "empresa_id", "nome", "email", "role", "status_atendimento", "ativo")
)
# Users per statement (bound parameters: SQLite's limit is 32,766 since 3.32, 999 before).
_POR_CONSULTA = 500
_OBTER = select(*_COLUNAS).where(
    T_USUARIOS.c.empresa_id == bindparam("empresa_id"),
    T_USUARIOS.c.id.in_(bindparam("usuario_ids", expanding=True)),
)
_CANAIS = select(T_USUARIOS_CANAIS.c.usuario_id, T_USUARIOS_CANAIS.c.canal_id).where(
    T_USUARIOS_CANAIS.c.empresa_id == bindparam("empresa_id"),
    T_USUARIOS_CANAIS.c.usuario_id.in_(bindparam("usuario_ids", expanding=True)),
)
_EMPRESA = select(T_EMPRESAS.c.id).where(T_EMPRESAS.c.id == bindparam("empresa_id"))


class RegistroUsuariosSql:
    conn: AsyncConnection
    empresa_id: str
    _postgres: bool

    async def obter_registro_usuario(self, usuario_id: str) -> UsuarioDados | None:
        return (await self.obter_registros_usuarios((usuario_id,))).get(usuario_id)

    async def obter_registros_usuarios(self, usuario_ids: Collection[str]) -> dict[str, UsuarioDados]:
        """The records of those of ``usuario_ids`` the tenant holds: one statement per
        ``_POR_CONSULTA`` users, and one more for the channels when an integration is among them."""
        ids = sorted(set(usuario_ids))
        linhas: list[Row[Any]] = []
        for inicio in range(0, len(ids), _POR_CONSULTA):
            parte = {"empresa_id": self.empresa_id, "usuario_ids": ids[inicio : inicio + _POR_CONSULTA]}
            linhas.extend(await self.conn.execute(_OBTER, parte))
        canais: dict[str, set[str]] = {}
        integracoes = [m.id for m in linhas if m.role == "integracao"]
        if integracoes:  # only an integration is bound to channels: read them for integrations alone
            chave = {"empresa_id": self.empresa_id, "usuario_ids": integracoes}
            for usuario_id, canal_id in await self.conn.execute(_CANAIS, chave):
                canais.setdefault(usuario_id, set()).add(canal_id)
        return {
            m.id: replace(usuario_dados(m), ativo=bool(m.ativo), canal_ids=frozenset(canais.get(m.id, ())))
            for m in linhas
        }

    async def empresa_existe(self) -> bool:
        return (await self.conn.execute(_EMPRESA, {"empresa_id": self.empresa_id})).first() is not None

    async def inserir_usuario_externo(self, usuario: UsuarioDados) -> bool:
        dialeto = postgresql if self._postgres else sqlite
        # No conflict target: the id (global) and the email (global) are both unique.
        comando = (
            dialeto.insert(T_USUARIOS)
            .values(
                id=usuario.id,
                empresa_id=self.empresa_id,
                nome=usuario.nome,
                email=usuario.email,
                senha_hash="!externo",  # not an argon2 hash: no password matches it
                role=usuario.role,
                status_atendimento=None,
                ativo=True,
                criado_em=agora(),
            )
            .on_conflict_do_nothing()
        )
        return bool((await self.conn.execute(comando)).rowcount)

    async def alterar_usuario(
        self, usuario_id: str, *, role: str | None = None, ativo: bool | None = None
    ) -> None:
        valores: dict[str, Any] = {}
        if role is not None:
            valores["role"] = role
        if ativo is not None:
            valores["ativo"] = ativo
        if valores:
            await self.conn.execute(
                update(T_USUARIOS)
                .where(T_USUARIOS.c.empresa_id == self.empresa_id, T_USUARIOS.c.id == usuario_id)
                .values(**valores)
            )

    async def definir_canais_usuario(self, usuario_id: str, canal_ids: frozenset[str]) -> None:
        await self.conn.execute(
            delete(T_USUARIOS_CANAIS).where(
                T_USUARIOS_CANAIS.c.empresa_id == self.empresa_id,
                T_USUARIOS_CANAIS.c.usuario_id == usuario_id,
            )
        )
        if canal_ids:
            await self.conn.execute(
                insert(T_USUARIOS_CANAIS),
                [
                    {"empresa_id": self.empresa_id, "usuario_id": usuario_id, "canal_id": c}
                    for c in sorted(canal_ids)
                ],
            )
