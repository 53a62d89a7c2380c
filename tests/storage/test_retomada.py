"""The tenant's update instants: what makes a cursor on (atualizado_em, id) safe under concurrent
writes. They grow strictly, in commit order (a second writer waits for the first to end), and never
go back even when the wall clock does (both databases)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import update

from atendimento.domain.entidades import agora
from atendimento.storage import Storage
from atendimento.storage.retomada import T_CONTADORES

if TYPE_CHECKING:
    from conftest import BancoDemo


async def _instante(storage: Storage, empresa_id: str) -> datetime:
    async with storage.unidade(empresa_id) as repo:
        return await repo.instante_de_atualizacao()


async def test_crescem_na_ordem_dos_commits(banco_demo: BancoDemo) -> None:
    storage, empresa = banco_demo.storage, banco_demo.resumo.empresa_id
    async with storage.unidade(empresa) as repo:
        primeiro = await repo.instante_de_atualizacao()
        segundo = asyncio.create_task(_instante(storage, empresa))
        await asyncio.sleep(0.3)
        # The second writer of the tenant waits until this transaction ends: so a reader can never
        # see the later instant committed while the earlier one is still to come.
        assert not segundo.done()
    assert await segundo > primeiro
    if not banco_demo.is_postgres:
        return  # SQLite has one write lock for the whole database
    # PostgreSQL: the other tenant is not held up by this one (a lock per tenant's counter row).
    async with storage.unidade(empresa) as repo:
        await repo.instante_de_atualizacao()
        await asyncio.wait_for(_instante(storage, banco_demo.resumo.outra_empresa_id), 5)


async def test_estritamente_crescentes_mesmo_no_mesmo_milissegundo(banco_demo: BancoDemo) -> None:
    storage, empresa = banco_demo.storage, banco_demo.resumo.empresa_id
    vistos = [await _instante(storage, empresa) for _ in range(30)]
    assert all(a < b for a, b in itertools.pairwise(vistos))
    assert all(v.microsecond % 1000 == 0 for v in vistos)  # milliseconds, as shown on the wire


async def test_nunca_voltam_quando_o_relogio_volta(banco_demo: BancoDemo) -> None:
    storage, empresa = banco_demo.storage, banco_demo.resumo.empresa_id
    futuro = agora() + timedelta(hours=1)  # as if another instance's clock ran an hour ahead
    async with storage.unidade(empresa) as repo:
        await repo.conn.execute(
            update(T_CONTADORES).where(T_CONTADORES.c.empresa_id == empresa).values(ultima_atualizacao=futuro)
        )
    assert await _instante(storage, empresa) == futuro + timedelta(milliseconds=1)
