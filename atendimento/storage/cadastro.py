"""Provisioning's statements (the ``Repositorio`` port's empresa, usuario, fila and canal writes), a
mixin of ``RepositorioSql``: same connection, same tenant, every statement filtered on it (and RLS
again on PostgreSQL).

Uniqueness (an e-mail across the product, a fila's name in its tenant) is decided by the database:
``INSERT … ON CONFLICT DO NOTHING`` answers whether the row went in, so two concurrent creations of
one e-mail give one user and one 409, never a 500.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from atendimento.domain.entidades import (
    STATUS_TICKET_ABERTOS,
    CanalDados,
    FilaDados,
    UsuarioCadastro,
    UsuarioDados,
    agora,
)
from atendimento.storage.retomada import depois_de, utc
from atendimento.storage.tabelas import (
    T_CANAIS,
    T_CONTADORES,
    T_EMPRESAS,
    T_FILAS,
    T_TICKETS,
    T_USUARIO_FILAS,
    T_USUARIOS,
    canal_dados,
    fila_dados,
    usuario_dados,
)


class CadastroSql:
    conn: AsyncConnection
    empresa_id: str
    _postgres: bool

    def _dialeto_insert(self, tabela: Any) -> Any:
        return (postgresql if self._postgres else sqlite).insert(tabela)

    async def inserir_empresa(self, nome: str) -> None:
        await self.conn.execute(insert(T_EMPRESAS).values(id=self.empresa_id, nome=nome, criado_em=agora()))
        await self.conn.execute(insert(T_CONTADORES).values(empresa_id=self.empresa_id, ultimo_numero=0))

    # --- usuarios ---------------------------------------------------------------------------------

    async def _filas_de(self, usuario_ids: list[str]) -> dict[str, list[str]]:
        if not usuario_ids:
            return {}
        linhas = await self.conn.execute(
            select(T_USUARIO_FILAS.c.usuario_id, T_USUARIO_FILAS.c.fila_id)
            .where(
                T_USUARIO_FILAS.c.empresa_id == self.empresa_id,
                T_USUARIO_FILAS.c.usuario_id.in_(usuario_ids),
            )
            .order_by(T_USUARIO_FILAS.c.usuario_id, T_USUARIO_FILAS.c.fila_id)
        )
        filas: dict[str, list[str]] = {}
        for linha in linhas:
            filas.setdefault(linha.usuario_id, []).append(linha.fila_id)
        return filas

    async def _cadastros(self, linhas: list[Row[Any]]) -> list[UsuarioCadastro]:
        filas = await self._filas_de([m.id for m in linhas])
        return [
            UsuarioCadastro(usuario_dados(m), bool(m.ativo), int(m.capacidade), tuple(filas.get(m.id, ())))
            for m in linhas
        ]

    def _consulta_cadastros(self) -> Any:
        colunas = [c for c in T_USUARIOS.c if c.name != "senha_hash"]  # never read the hash here
        return select(*colunas).where(T_USUARIOS.c.empresa_id == self.empresa_id)

    async def obter_cadastro(self, usuario_id: str) -> UsuarioCadastro | None:
        linhas = list(
            (await self.conn.execute(self._consulta_cadastros().where(T_USUARIOS.c.id == usuario_id))).all()
        )
        cadastros = await self._cadastros(linhas)
        return cadastros[0] if cadastros else None

    async def listar_cadastros(
        self, *, apos: tuple[str, str] | None = None, limite: int | None = None
    ) -> list[UsuarioCadastro]:
        consulta = self._consulta_cadastros()
        if apos is not None:
            consulta = consulta.where(depois_de(T_USUARIOS.c.nome, T_USUARIOS.c.id, *apos))
        consulta = consulta.order_by(T_USUARIOS.c.nome, T_USUARIOS.c.id)
        if limite is not None:
            consulta = consulta.limit(limite)
        return await self._cadastros(list((await self.conn.execute(consulta)).all()))

    async def inserir_usuario(self, usuario: UsuarioDados, senha_hash: str, capacidade: int) -> bool:
        if usuario.empresa_id != self.empresa_id:
            raise ValueError("usuário de outra empresa")
        inserir = (
            self._dialeto_insert(T_USUARIOS)
            .values(
                id=usuario.id,
                empresa_id=self.empresa_id,
                nome=usuario.nome,
                email=usuario.email,
                senha_hash=senha_hash,
                role=usuario.role,
                status_atendimento=usuario.status_atendimento,
                ativo=True,
                capacidade=capacidade,
                criado_em=agora(),
            )
            .on_conflict_do_nothing(index_elements=["email"])
            .returning(T_USUARIOS.c.id)
        )
        return (await self.conn.execute(inserir)).first() is not None

    async def atualizar_usuario(self, usuario_id: str, mudancas: dict[str, Any]) -> None:
        await self.conn.execute(
            update(T_USUARIOS)
            .where(T_USUARIOS.c.empresa_id == self.empresa_id, T_USUARIOS.c.id == usuario_id)
            .values(**mudancas)
        )

    async def definir_filas_usuario(self, usuario_id: str, fila_ids: tuple[str, ...]) -> None:
        await self.conn.execute(
            delete(T_USUARIO_FILAS).where(
                T_USUARIO_FILAS.c.empresa_id == self.empresa_id, T_USUARIO_FILAS.c.usuario_id == usuario_id
            )
        )
        if fila_ids:
            await self.conn.execute(
                insert(T_USUARIO_FILAS),
                [{"empresa_id": self.empresa_id, "usuario_id": usuario_id, "fila_id": f} for f in fila_ids],
            )

    # --- filas ------------------------------------------------------------------------------------

    async def filas_existentes(self, fila_ids: tuple[str, ...]) -> set[str]:
        linhas = await self.conn.execute(
            select(T_FILAS.c.id).where(T_FILAS.c.empresa_id == self.empresa_id, T_FILAS.c.id.in_(fila_ids))
        )
        return {linha.id for linha in linhas}

    async def listar_filas(
        self, *, apos: tuple[str, str] | None = None, limite: int | None = None
    ) -> list[FilaDados]:
        consulta = select(T_FILAS).where(T_FILAS.c.empresa_id == self.empresa_id)
        if apos is not None:
            consulta = consulta.where(depois_de(T_FILAS.c.nome, T_FILAS.c.id, *apos))
        consulta = consulta.order_by(T_FILAS.c.nome, T_FILAS.c.id)
        if limite is not None:
            consulta = consulta.limit(limite)
        return [fila_dados(m) for m in await self.conn.execute(consulta)]

    async def salvar_fila(self, fila: FilaDados, *, nova: bool) -> bool:
        # The name is unique in the tenant: asked first (the usual case answers without an error),
        # and a concurrent twin that slips past is caught from the constraint.
        repetida = await self.conn.execute(
            select(T_FILAS.c.id).where(
                T_FILAS.c.empresa_id == self.empresa_id, T_FILAS.c.nome == fila.nome, T_FILAS.c.id != fila.id
            )
        )
        if repetida.first() is not None:
            return False
        valores = {"nome": fila.nome, "distribuicao": fila.distribuicao}
        try:
            if nova:
                await self.conn.execute(
                    insert(T_FILAS).values(id=fila.id, empresa_id=self.empresa_id, **valores)
                )
            else:
                await self.conn.execute(
                    update(T_FILAS)
                    .where(T_FILAS.c.empresa_id == self.empresa_id, T_FILAS.c.id == fila.id)
                    .values(**valores)
                )
        except IntegrityError:
            return False
        return True

    async def espera_da_fila(self, fila_id: str) -> tuple[int, datetime | None]:
        linha = (
            await self.conn.execute(
                select(func.count(), func.min(T_TICKETS.c.criado_em)).where(
                    T_TICKETS.c.empresa_id == self.empresa_id,
                    T_TICKETS.c.fila_id == fila_id,
                    T_TICKETS.c.atendente_id.is_(None),
                    T_TICKETS.c.status.in_(sorted(STATUS_TICKET_ABERTOS)),
                )
            )
        ).one()
        return int(linha[0]), None if linha[1] is None else utc(linha[1])

    # --- canais -----------------------------------------------------------------------------------

    async def listar_canais(
        self, *, apos: tuple[str, str] | None = None, limite: int | None = None
    ) -> list[CanalDados]:
        consulta = select(T_CANAIS).where(T_CANAIS.c.empresa_id == self.empresa_id)
        if apos is not None:
            consulta = consulta.where(depois_de(T_CANAIS.c.nome, T_CANAIS.c.id, *apos))
        consulta = consulta.order_by(T_CANAIS.c.nome, T_CANAIS.c.id)
        if limite is not None:
            consulta = consulta.limit(limite)
        return [canal_dados(m) for m in await self.conn.execute(consulta)]

    async def salvar_canal(self, canal: CanalDados, *, novo: bool) -> None:
        valores = {
            "nome": canal.nome,
            "tipo": canal.tipo,
            "fila_padrao_id": canal.fila_padrao_id,
            "ativo": canal.ativo,
        }
        if novo:
            await self.conn.execute(
                insert(T_CANAIS).values(id=canal.id, empresa_id=self.empresa_id, **valores)
            )
            return
        await self.conn.execute(
            update(T_CANAIS)
            .where(T_CANAIS.c.empresa_id == self.empresa_id, T_CANAIS.c.id == canal.id)
            .values(**valores)
        )
