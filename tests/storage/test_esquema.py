"""Constraints the schema enforces by itself, whatever the code does (both databases)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from atendimento.storage import Storage

if TYPE_CHECKING:
    from conftest import BancoDemo

INSERIR_TICKET = (
    "INSERT INTO tickets (id, empresa_id, numero, cliente_id, canal_id, fila_id, atendente_id, status, "
    "prioridade, total_mensagens, criado_em, atualizado_em) VALUES "
    "(:id, :e, :n, :cliente, :canal, :fila, :atendente, :status, 'media', 0, :agora, :agora)"
)


async def _inserir_ticket_como_dono(demo: BancoDemo, **mudancas: object) -> None:
    """As the owner (superuser on PostgreSQL, so RLS is out of the way): only the schema decides."""
    r = demo.resumo
    valores: dict[str, object] = {
        "id": "t-esquema",
        "e": r.empresa_id,
        "n": 900,
        "cliente": r.clientes["Maria Oliveira"],
        "canal": r.canais["whatsapp"],
        "fila": r.filas["Suporte"],
        "atendente": None,
        "status": "aberto",
        "agora": "2026-11-29 17:08:20",
    }
    valores.update(mudancas)
    admin = Storage(demo.banco.admin_url)
    try:
        async with admin.transacao(r.empresa_id) as conn:
            if demo.is_postgres:
                valores["agora"] = await conn.scalar(text("SELECT now()"))
            await conn.execute(text(INSERIR_TICKET), valores)
    finally:
        await admin.close()


async def test_referencias_de_outro_tenant_sao_recusadas_pela_fk_composta(banco_demo: BancoDemo) -> None:
    r = banco_demo.resumo
    await _inserir_ticket_como_dono(banco_demo)  # the baseline row is fine
    for mudanca in (
        {"cliente": r.outra_cliente_id},
        {"canal": r.outra_canal_id},
        {"fila": r.outra_fila_id},
        {"atendente": r.id_de("carla@outra.local")},
    ):
        with pytest.raises(IntegrityError):
            await _inserir_ticket_como_dono(banco_demo, id="t-outro", n=901, **mudanca)


async def test_numero_unico_por_tenant_e_status_valido(banco_demo: BancoDemo) -> None:
    with pytest.raises(IntegrityError):
        await _inserir_ticket_como_dono(banco_demo, n=1)  # numero 1 exists in Empresa Demo
    with pytest.raises(IntegrityError):
        await _inserir_ticket_como_dono(banco_demo, status="perdido")
