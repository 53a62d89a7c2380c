"""The repository's catch-up and retry parts (``RepositorioSql`` inherits them): keyset pages, the
tenant's update instants, idempotency keys. Kept apart so the repository module stays small."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from atendimento.domain.entidades import agora
from atendimento.storage.modelos import ChaveIdempotencia, ContadorTicket, Mensagem

T_CHAVES = cast(Table, ChaveIdempotencia.__table__)
T_CONTADORES = cast(Table, ContadorTicket.__table__)
T_MENSAGENS = cast(Table, Mensagem.__table__)

# The step between two update instants of one tenant: what is stored and shown is milliseconds.
_UM_MS = timedelta(milliseconds=1)


def utc(momento: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return momento.replace(tzinfo=UTC) if momento.tzinfo is None else momento.astimezone(UTC)


def depois_de(coluna: Any, desempate: Any, valor: Any, valor_desempate: str) -> Any:
    """Rows strictly after (valor, valor_desempate) in the order (coluna, desempate): a keyset page.
    Spelled with OR rather than a row comparison, which SQLite before 3.15 and some planners lack."""
    return or_(coluna > valor, and_(coluna == valor, desempate > valor_desempate))


class RetomadaSql:
    conn: AsyncConnection
    empresa_id: str
    _postgres: bool

    def _insert_ignorando_conflito(self, tabela: Any, valores: dict[str, Any], chaves: list[str]) -> Any:
        raise NotImplementedError

    async def _uma(self, consulta: Any, parametros: dict[str, Any] | None = None) -> Row[Any] | None:
        raise NotImplementedError

    async def instante_de_atualizacao(self) -> datetime:
        """The ``atualizado_em`` for a ticket written now: not before now, and later than every one
        given before in the tenant. The tenant's counter row stays locked until the transaction ends,
        so these instants are handed out in commit order."""
        agora_ = agora()
        if self._postgres:
            proximo = (
                update(T_CONTADORES)
                .where(T_CONTADORES.c.empresa_id == self.empresa_id)
                .values(
                    # GREATEST ignores NULL (no ticket written yet).
                    ultima_atualizacao=func.greatest(T_CONTADORES.c.ultima_atualizacao + _UM_MS, agora_)
                )
                .returning(T_CONTADORES.c.ultima_atualizacao)
            )
            instante = (await self.conn.execute(proximo)).scalar_one_or_none()
            if instante is None:
                await self._criar_contador()
                instante = (await self.conn.execute(proximo)).scalar_one()
            return utc(instante)
        # SQLite: the transaction already holds the database's write lock (BEGIN IMMEDIATE).
        ultima = (
            await self.conn.execute(
                select(T_CONTADORES.c.ultima_atualizacao).where(T_CONTADORES.c.empresa_id == self.empresa_id)
            )
        ).first()
        if ultima is None:
            await self._criar_contador()
        instante = agora_ if ultima is None or ultima[0] is None else max(agora_, utc(ultima[0]) + _UM_MS)
        await self.conn.execute(
            update(T_CONTADORES)
            .where(T_CONTADORES.c.empresa_id == self.empresa_id)
            .values(ultima_atualizacao=instante)
        )
        return instante

    async def _criar_contador(self) -> None:
        # A tenant created without its counter row: make it (once, whoever wins).
        await self.conn.execute(
            self._insert_ignorando_conflito(
                T_CONTADORES, {"empresa_id": self.empresa_id, "ultimo_numero": 0}, ["empresa_id"]
            )
        )

    async def ordem_da_mensagem(self, ticket_id: str, mensagem_id: str) -> int | None:
        """The message's position in its ticket; None when the ticket has no such message."""
        return cast(
            int | None,
            (
                await self.conn.execute(
                    select(T_MENSAGENS.c.ordem).where(
                        T_MENSAGENS.c.empresa_id == self.empresa_id,
                        T_MENSAGENS.c.ticket_id == ticket_id,
                        T_MENSAGENS.c.id == mensagem_id,
                    )
                )
            ).scalar_one_or_none(),
        )

    # --- idempotency keys ---------------------------------------------------------------------

    async def reservar_chave(
        self, usuario_id: str, chave: str, impressao: str, validade_desde: datetime
    ) -> tuple[str, dict[str, Any]] | None:
        """Take ``chave`` for this write, or find who has it: None when it is now ours (the caller
        writes, then ``concluir_chave``), else the first request's (impressao, resultado).

        On PostgreSQL a concurrent transaction holding the same key makes the INSERT wait for its end:
        committed, its row is read here (a replay); rolled back, the key is ours. Expired keys of the
        user (older than ``validade_desde``) are deleted first, so they neither block nor pile up."""
        donos = (T_CHAVES.c.empresa_id == self.empresa_id, T_CHAVES.c.usuario_id == usuario_id)
        await self.conn.execute(delete(T_CHAVES).where(*donos, T_CHAVES.c.criado_em < utc(validade_desde)))
        inserida = await self._uma(
            self._insert_ignorando_conflito(
                T_CHAVES,
                {
                    "empresa_id": self.empresa_id,
                    "usuario_id": usuario_id,
                    "chave": chave,
                    "impressao": impressao,
                    # Filled in by concluir_chave before the commit; never seen by anyone unfilled.
                    "resultado": {},
                    "criado_em": agora(),
                },
                ["empresa_id", "usuario_id", "chave"],
            ).returning(T_CHAVES.c.chave)
        )
        if inserida is not None:
            return None
        achada = (
            await self.conn.execute(
                select(T_CHAVES.c.impressao, T_CHAVES.c.resultado).where(*donos, T_CHAVES.c.chave == chave)
            )
        ).one()
        return achada.impressao, achada.resultado

    async def concluir_chave(self, usuario_id: str, chave: str, resultado: dict[str, Any]) -> None:
        await self.conn.execute(
            update(T_CHAVES)
            .where(
                T_CHAVES.c.empresa_id == self.empresa_id,
                T_CHAVES.c.usuario_id == usuario_id,
                T_CHAVES.c.chave == chave,
            )
            .values(resultado=resultado)
        )
