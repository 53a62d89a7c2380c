"""ServicoAtendimento.autenticar: e-mail and password, in any tenant.

On real databases (SQLite and PostgreSQL, each test on both), demo data loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import BancoDemo


async def test_autenticar(banco_demo: BancoDemo) -> None:
    s, r = banco_demo.servico(), banco_demo.resumo
    ana = await s.autenticar(" ANA@demo.local", "demo-senha")
    assert ana is not None and ana.id == r.id_de("ana@demo.local") and ana.empresa_id == r.empresa_id
    assert ana.role == "atendente" and ana.nome
    carla = await s.autenticar("carla@outra.local", "demo-senha")
    assert carla is not None and carla.empresa_id == r.outra_empresa_id
    assert await s.autenticar("ana@demo.local", "senha-errada") is None
    assert await s.autenticar("ninguem@demo.local", "demo-senha") is None
    for email, senha in [(None, "x"), ("ana@demo.local", None), ("", ""), ("ana@demo.local", "x" * 5000)]:
        assert await s.autenticar(email, senha) is None
