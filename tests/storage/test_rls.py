"""PostgreSQL row-level security, checked with raw SQL as the application role (atendimento_app).

The application scopes every query itself; these tests go around that code on purpose, to show that
the database alone keeps tenants apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from atendimento.domain.idempotencia import Idempotencia
from atendimento.storage import Storage
from atendimento.storage.modelos import TABELAS_TENANT

if TYPE_CHECKING:
    from conftest import BancoDemo

pytestmark = pytest.mark.postgres


async def _empresas_visiveis(storage: Storage, empresa_id: str | None) -> dict[str, set[str]]:
    """For each tenant table, the tenants whose rows a plain SELECT * returns."""
    vistos: dict[str, set[str]] = {}
    async with storage.transacao(empresa_id) as conn:
        for tabela, coluna in TABELAS_TENANT.items():
            linhas = (await conn.execute(text(f"SELECT * FROM {tabela}"))).mappings().all()
            vistos[tabela] = {linha[coluna] for linha in linhas}
    return vistos


async def test_papel_da_aplicacao_nao_e_dono_nem_super_nem_bypassrls(demo_pg: BancoDemo) -> None:
    assert await demo_pg.storage.problemas_do_papel() == []
    async with demo_pg.storage.engine.connect() as conn:
        papel = (
            await conn.execute(
                text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            )
        ).one()
        assert tuple(papel) == ("atendimento_app", False, False)
        for tabela in TABELAS_TENANT:
            linha = (
                await conn.execute(
                    text(
                        "SELECT pg_get_userbyid(relowner) AS dono, relrowsecurity, relforcerowsecurity "
                        "FROM pg_class WHERE relname = :t AND relkind = 'r'"
                    ),
                    {"t": tabela},
                )
            ).one()
            assert linha.dono != "atendimento_app"
            assert linha.relrowsecurity and linha.relforcerowsecurity, tabela
    admin = Storage(demo_pg.banco.admin_url)
    try:
        assert await admin.problemas_do_papel()  # postgres: superuser, and the owner
    finally:
        await admin.close()


async def test_com_o_tenant_a_nenhuma_linha_de_b(demo_pg: BancoDemo) -> None:
    r = demo_pg.resumo
    # The demo holds no idempotency key, endpoint or outbox event: one of each per tenant (the
    # endpoint written here as the application role, the rest by the message write), so those tables
    # are checked like the others.
    servico = demo_pg.servico()
    for empresa, ticket, canal, email in (
        (r.empresa_id, r.tickets[1], r.canais["email"], "ana@demo.local"),
        (r.outra_empresa_id, r.outra_ticket_id, r.outra_canal_id, "carla@outra.local"),
    ):
        async with demo_pg.storage.transacao(empresa) as conn:
            await conn.execute(
                text(
                    "INSERT INTO canal_webhooks (canal_id, empresa_id, url, segredo, ativo, criado_em, "
                    "atualizado_em) VALUES (:c, :e, 'https://x.example/', 'whsec_x', true, now(), now())"
                ),
                {"c": canal, "e": empresa},
            )
        usuario = r.id_de(email)
        await servico.enviar_mensagem(
            empresa,
            ticket,
            remetente_id=usuario,
            role="atendente",
            conteudo="oi",
            idempotente=Idempotencia(usuario, "k-1"),
        )
    # Nor a channel binding in the other tenant (its only user is an atendente; the schema allows it).
    await servico.alterar_usuario(
        r.outra_empresa_id, r.id_de("carla@outra.local"), canal_ids=frozenset({r.outra_canal_id})
    )
    for proprio in (r.empresa_id, r.outra_empresa_id):
        vistos = await _empresas_visiveis(demo_pg.storage, proprio)
        for tabela, empresas in vistos.items():
            assert empresas == {proprio}, tabela  # every table has rows of both tenants in the demo


async def test_sem_tenant_nada_e_visivel(demo_pg: BancoDemo) -> None:
    vistos = await _empresas_visiveis(demo_pg.storage, None)
    assert all(empresas == set() for empresas in vistos.values()), vistos
    # Not even outside an explicit transaction block of ours.
    async with demo_pg.storage.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM tickets"))).scalar_one() == 0
        assert (await conn.execute(text("SELECT count(*) FROM usuarios"))).scalar_one() == 0


async def test_conexao_do_pool_nao_carrega_o_tenant(demo_pg: BancoDemo) -> None:
    r = demo_pg.resumo
    storage = Storage(demo_pg.banco.app_url, pool_size=1, max_overflow=0)
    try:
        async with storage.transacao(r.empresa_id) as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            assert (await conn.execute(text("SELECT count(*) FROM tickets"))).scalar_one() == 4
        with pytest.raises(RuntimeError):
            async with storage.transacao(r.outra_empresa_id) as conn:
                await conn.execute(text("SELECT 1"))
                raise RuntimeError("rollback")
        async with storage.transacao(None) as conn:
            assert (
                await conn.execute(text("SELECT pg_backend_pid()"))
            ).scalar_one() == pid  # same connection
            tenant = (await conn.execute(text("SELECT current_setting('app.current_tenant', true)"))).scalar()
            assert tenant in (None, "")
            assert (await conn.execute(text("SELECT count(*) FROM tickets"))).scalar_one() == 0
    finally:
        await storage.close()


async def test_escrever_para_outro_tenant_e_recusado(demo_pg: BancoDemo) -> None:
    r = demo_pg.resumo
    b_ticket = r.outra_ticket_id
    # INSERT with B's empresa_id (and B's real references) while the tenant is A: WITH CHECK refuses.
    with pytest.raises(DBAPIError, match="row-level security"):
        async with demo_pg.storage.transacao(r.empresa_id) as conn:
            await conn.execute(
                text(
                    "INSERT INTO clientes (id, empresa_id, nome, contato, criado_em) "
                    "VALUES ('intruso', :b, 'x', 'x', now())"
                ),
                {"b": r.outra_empresa_id},
            )
    # Moving A's row to B: refused too.
    with pytest.raises(DBAPIError, match="row-level security"):
        async with demo_pg.storage.transacao(r.empresa_id) as conn:
            await conn.execute(
                text("UPDATE filas SET empresa_id = :b WHERE id = :f"),
                {"b": r.outra_empresa_id, "f": r.filas["Suporte"]},
            )
    # UPDATE and DELETE of B's rows from A touch nothing.
    async with demo_pg.storage.transacao(r.empresa_id) as conn:
        mudou = await conn.execute(
            text("UPDATE tickets SET status = 'fechado' WHERE id = :t"), {"t": b_ticket}
        )
        apagou = await conn.execute(text("DELETE FROM mensagens WHERE ticket_id = :t"), {"t": b_ticket})
        assert mudou.rowcount == 0 and apagou.rowcount == 0  # type: ignore[attr-defined]
    # With no tenant at all, no insert passes.
    with pytest.raises(DBAPIError, match="row-level security"):
        async with demo_pg.storage.transacao(None) as conn:
            await conn.execute(text("INSERT INTO empresas (id, nome, criado_em) VALUES ('x', 'x', now())"))
    async with demo_pg.storage.transacao(r.outra_empresa_id) as conn:
        status = (
            await conn.execute(text("SELECT status FROM tickets WHERE id = :t"), {"t": b_ticket})
        ).scalar()
        assert status == "aberto"


async def test_papel_da_aplicacao_nao_desliga_o_rls(demo_pg: BancoDemo) -> None:
    tentativas = [
        "ALTER TABLE tickets DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE tickets NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY isolamento_tenant ON tickets",
        "SET ROLE postgres",
    ]
    for sql in tentativas:
        with pytest.raises(DBAPIError):
            async with demo_pg.storage.transacao(None) as conn:
                await conn.execute(text(sql))
    # row_security = off does not bypass for a role without BYPASSRLS: the query fails instead.
    with pytest.raises(DBAPIError):
        async with demo_pg.storage.transacao(None) as conn:
            await conn.execute(text("SET LOCAL row_security = off"))
            await conn.execute(text("SELECT * FROM tickets"))


async def test_login_sem_tenant_so_pela_funcao_definer(demo_pg: BancoDemo) -> None:
    achado = await demo_pg.storage.buscar_login("carla@outra.local")
    assert achado is not None and achado[0].empresa_id == demo_pg.resumo.outra_empresa_id
    assert achado[1].startswith("$argon2")
    assert await demo_pg.storage.buscar_login("ninguem@demo.local") is None
    async with demo_pg.storage.transacao(None) as conn:
        assert (await conn.execute(text("SELECT count(*) FROM usuarios"))).scalar_one() == 0
        # The function returns one user by exact email: no wildcard listing.
        assert (await conn.execute(text("SELECT count(*) FROM buscar_usuario_login('%')"))).scalar_one() == 0


async def test_ticket_existe_do_socket_passa_pelo_rls(demo_pg: BancoDemo) -> None:
    """What ticket:entrar asks: scoped in code and, underneath, by set_current_tenant + RLS."""
    r = demo_pg.resumo
    async with demo_pg.storage.transacao(r.empresa_id) as conn:
        # Even a query that forgets the empresa_id filter cannot see B's ticket.
        achado = (
            await conn.execute(text("SELECT id FROM tickets WHERE id = :t"), {"t": r.outra_ticket_id})
        ).first()
        assert achado is None
    assert not await demo_pg.servico().ticket_existe(r.empresa_id, r.outra_ticket_id)
    assert await demo_pg.servico().ticket_existe(r.outra_empresa_id, r.outra_ticket_id)
