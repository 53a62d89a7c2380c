"""Users and atendentes of a tenant, and an atendente's status.

On real databases (SQLite and PostgreSQL, each test on both), demo data loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from atendimento.domain.erros import DadosInvalidos, NaoEncontrado, Proibido

if TYPE_CHECKING:
    from conftest import BancoDemo


async def test_usuarios_e_atendentes_por_empresa(banco_demo: BancoDemo) -> None:
    s, r = banco_demo.servico(), banco_demo.resumo
    gestor = await s.obter_usuario(r.empresa_id, r.id_de("gestor@demo.local"))
    assert gestor is not None and gestor.role == "gestor"
    assert await s.obter_usuario(r.empresa_id, r.id_de("carla@outra.local")) is None
    atendentes = await s.listar_atendentes(r.empresa_id)
    assert sorted(a.email for a in atendentes) == ["ana@demo.local", "bruno@demo.local"]
    assert [a.email for a in await s.listar_atendentes(r.outra_empresa_id)] == ["carla@outra.local"]


async def test_definir_status_atendente(banco_demo: BancoDemo) -> None:
    s, r = banco_demo.servico(), banco_demo.resumo
    ana = r.id_de("ana@demo.local")
    atualizado, mudou = await s.definir_status_atendente(r.empresa_id, ana, "ocupado")
    assert atualizado.status_atendimento == "ocupado" and mudou
    relido = await s.obter_usuario(r.empresa_id, ana)
    assert relido is not None and relido.status_atendimento == "ocupado"
    mesmo, mudou = await s.definir_status_atendente(r.empresa_id, ana, "ocupado")
    assert mesmo.status_atendimento == "ocupado" and not mudou  # the same status again: nothing new
    with pytest.raises(DadosInvalidos):
        await s.definir_status_atendente(r.empresa_id, ana, "dormindo")
    with pytest.raises(Proibido):
        await s.definir_status_atendente(r.empresa_id, r.id_de("gestor@demo.local"), "online")
    with pytest.raises(NaoEncontrado) as erro:
        await s.definir_status_atendente(r.empresa_id, r.id_de("carla@outra.local"), "online")
    assert erro.value.code == "USUARIO_NAO_ENCONTRADO"
