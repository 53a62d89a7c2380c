"""The contract's demo data: exactly the users and roles it lists, a few tickets, refusal when not empty."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from atendimento.identity.passwords import Senhas
from atendimento.storage import Storage
from atendimento.storage.demo import DemoRecusada, carregar_demo
from atendimento.storage.modelos import Empresa, Usuario

if TYPE_CHECKING:
    from conftest import BancoDemo, BancoTeste

USUARIOS_CONTRATO = {
    "Empresa Demo": {
        ("admin@demo.local", "admin"),
        ("gestor@demo.local", "gestor"),
        ("ana@demo.local", "atendente"),
        ("bruno@demo.local", "atendente"),
        ("vendas@demo.local", "vendedor"),
        ("integracao@demo.local", "integracao"),
    },
    "Outra Empresa": {("carla@outra.local", "atendente")},
}


async def _conteudo(storage: Storage, empresa_ids: list[str]) -> dict[str, set[tuple[str, str]]]:
    visto: dict[str, set[tuple[str, str]]] = {}
    for empresa_id in empresa_ids:
        async with storage.transacao(empresa_id) as conn:
            nome = (await conn.execute(select(Empresa.nome).where(Empresa.id == empresa_id))).scalar_one()
            consulta = select(Usuario.email, Usuario.role).where(Usuario.empresa_id == empresa_id)
            usuarios = (await conn.execute(consulta)).all()
            visto[nome] = {(email, role) for email, role in usuarios}
    return visto


async def test_demo_tem_o_que_o_contrato_lista(banco_demo: BancoDemo, senhas_rapidas: Senhas) -> None:
    r, s = banco_demo.resumo, banco_demo.servico()
    assert await _conteudo(banco_demo.storage, [r.empresa_id, r.outra_empresa_id]) == USUARIOS_CONTRATO
    for email in [e for usuarios in USUARIOS_CONTRATO.values() for e, _ in usuarios]:
        usuario = await s.autenticar(email, "demo-senha")
        assert usuario is not None and usuario.id == r.id_de(email)
    tickets = await s.listar_tickets(r.empresa_id)
    assert len(tickets) >= 3 and {t.status for t in tickets} >= {"aberto", "em_atendimento"}
    assert any(t.atendente_id is None for t in tickets)  # something for mensagem:nao-atribuida
    for ticket in tickets:
        assert await s.listar_mensagens(r.empresa_id, ticket.id)
    assert len(r.filas) >= 2 and set(r.canais) == {"whatsapp", "email", "webchat"} and len(r.clientes) >= 2
    assert [t.id for t in await s.listar_tickets(r.outra_empresa_id)] == [r.outra_ticket_id]


async def test_demo_recusa_banco_com_dados(banco_demo: BancoDemo, senhas_rapidas: Senhas) -> None:
    with pytest.raises(DemoRecusada):
        await carregar_demo(banco_demo.storage, senhas=senhas_rapidas)  # the app role, under RLS
    with pytest.raises(DemoRecusada):
        await carregar_demo(banco_demo.banco.settings(), senhas=senhas_rapidas)  # the owner


async def test_demo_por_settings_migra_e_carrega(banco_vazio: BancoTeste, senhas_rapidas: Senhas) -> None:
    resumo = await carregar_demo(banco_vazio.settings(), senhas=senhas_rapidas)
    storage = Storage(banco_vazio.app_url)
    try:
        conteudo = await _conteudo(storage, [resumo.empresa_id, resumo.outra_empresa_id])
        assert conteudo == USUARIOS_CONTRATO
        assert not await storage.banco_vazio()
    finally:
        await storage.close()


async def test_demo_com_senhas_de_producao_verifica(tmp_path, sqlite_database: BancoTeste) -> None:  # type: ignore[no-untyped-def]
    """The default (production) argon2 parameters: hashed once, so still quick."""
    storage = Storage(sqlite_database.app_url)
    try:
        resumo = await carregar_demo(storage)
        achado = await storage.buscar_login("ana@demo.local")
        assert achado is not None and achado[0].id == resumo.id_de("ana@demo.local")
        assert Senhas().verificar(achado[1], "demo-senha")
        assert "m=65536" in achado[1]
    finally:
        await storage.close()
