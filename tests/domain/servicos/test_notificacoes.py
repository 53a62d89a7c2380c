"""Notifications to a user or to a whole tenant.

On real databases (SQLite and PostgreSQL, each test on both), demo data loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from atendimento.domain.erros import DadosInvalidos, NaoEncontrado

if TYPE_CHECKING:
    from conftest import BancoDemo


async def test_notificar(banco_demo: BancoDemo) -> None:
    s, r, pub = banco_demo.servico(), banco_demo.resumo, banco_demo.publicador
    ana = r.id_de("ana@demo.local")
    await s.notificar(r.empresa_id, usuario_id=ana, tipo="aviso", mensagem="Olá", dados={"a": 1})
    await s.notificar(r.empresa_id, tipo="geral")
    assert [e.args for e in pub.eventos] == [
        (r.empresa_id, ana, "aviso", "Olá", {"a": 1}),
        (r.empresa_id, None, "geral", None, None),
    ]
    pub.limpar()
    with pytest.raises(NaoEncontrado):
        await s.notificar(r.empresa_id, usuario_id=r.id_de("carla@outra.local"), tipo="aviso")
    with pytest.raises(DadosInvalidos):
        await s.notificar(r.empresa_id, tipo="")
    assert pub.eventos == []
