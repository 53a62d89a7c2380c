"""The users' use cases on real databases: a warm check reads nothing, a change is heard (publisher)
and read at once, the record carries an integration's channels."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import event

from atendimento.domain.erros import NaoEncontrado, UsuarioInvalido

if TYPE_CHECKING:
    from conftest import BancoDemo


async def test_checagem_quente_nao_vai_ao_banco(banco_demo: BancoDemo) -> None:
    s, r = banco_demo.servico(), banco_demo.resumo
    ana = r.id_de("ana@demo.local")
    comandos: list[str] = []

    def contar(*args: object) -> None:
        comandos.append(str(args[2]))

    event.listen(banco_demo.storage.engine.sync_engine, "before_cursor_execute", contar)
    try:
        await s.confirmar_usuario(r.empresa_id, ana, "atendente", nome="Ana")
        frio = len(comandos)
        assert frio >= 1  # the first check reads the database
        for _ in range(5):
            await s.confirmar_usuario(r.empresa_id, ana, "atendente", nome="Ana")
        assert len(comandos) == frio  # warm: not one statement more
    finally:
        event.remove(banco_demo.storage.engine.sync_engine, "before_cursor_execute", contar)


async def test_alterar_e_anunciado_e_vale_na_hora(banco_demo: BancoDemo) -> None:
    s, r = banco_demo.servico(), banco_demo.resumo
    bruno = r.id_de("bruno@demo.local")
    await s.confirmar_usuario(r.empresa_id, bruno, "atendente", nome="Bruno")  # cached
    registro = await s.alterar_usuario(r.empresa_id, bruno, role="supervisor")
    assert registro.role == "supervisor" and registro.ativo
    assert banco_demo.publicador.usuarios_alterados == [(r.empresa_id, bruno)]
    with pytest.raises(UsuarioInvalido):
        await s.confirmar_usuario(r.empresa_id, bruno, "atendente", nome="Bruno")
    await s.confirmar_usuario(r.empresa_id, bruno, "supervisor", nome="Bruno")
    await s.alterar_usuario(r.empresa_id, bruno, ativo=False)
    with pytest.raises(UsuarioInvalido):
        await s.confirmar_usuario(r.empresa_id, bruno, "supervisor", nome="Bruno")
    # Another tenant's user: unknown here.
    with pytest.raises(NaoEncontrado):
        await s.alterar_usuario(r.empresa_id, r.id_de("carla@outra.local"), ativo=False)


async def test_canais_da_integracao(banco_demo: BancoDemo) -> None:
    s, r = banco_demo.servico(), banco_demo.resumo
    integracao = r.id_de("integracao@demo.local")
    registro = await s.registro_usuario(r.empresa_id, integracao)
    assert registro is not None and registro.canal_ids == {r.canais["whatsapp"], r.canais["email"]}
    # A channel of the other tenant cannot be bound (it is unknown here); nothing changes.
    with pytest.raises(NaoEncontrado):
        await s.alterar_usuario(r.empresa_id, integracao, canal_ids=frozenset({r.outra_canal_id}))
    assert (await s.registro_usuario(r.empresa_id, integracao)) == registro


async def test_checagens_frias_juntas_leem_uma_vez(banco_demo: BancoDemo) -> None:
    """Cold checks of a moment (a team reconnecting) share one read of the users; each gets its own
    record, an unknown user is refused, and a record changed after the read is read again."""
    s, r = banco_demo.servico(), banco_demo.resumo
    pessoas = [("ana@demo.local", "atendente"), ("bruno@demo.local", "atendente")]
    pessoas += [("gestor@demo.local", "gestor"), ("integracao@demo.local", "integracao")]
    usuarios: list[str] = []

    def contar(*args: object) -> None:
        if re.search(r"FROM usuarios\s", str(args[2])):  # the users' table (not their channels')
            usuarios.append(str(args[2]))

    event.listen(banco_demo.storage.engine.sync_engine, "before_cursor_execute", contar)
    try:
        registros = await asyncio.gather(
            *(s.registro_usuario(r.empresa_id, r.id_de(email)) for email, _ in pessoas),
            s.registro_usuario(r.empresa_id, r.id_de("carla@outra.local")),  # another tenant's
            s.registro_usuario(r.empresa_id, r.id_de("ana@demo.local")),  # twice in the same moment
        )
        assert len(usuarios) == 1
    finally:
        event.remove(banco_demo.storage.engine.sync_engine, "before_cursor_execute", contar)
    assert [(g.email, g.role) for g in registros[: len(pessoas)] if g is not None] == pessoas
    assert registros[len(pessoas)] is None and registros[-1] == registros[0]
    assert registros[3] is not None and registros[3].canal_ids == {r.canais["whatsapp"], r.canais["email"]}
    await asyncio.gather(
        s.alterar_usuario(r.empresa_id, r.id_de("bruno@demo.local"), ativo=False),
        *(
            s.confirmar_usuario(r.empresa_id, r.id_de("ana@demo.local"), "atendente", nome="Ana")
            for _ in range(3)
        ),
    )
    with pytest.raises(UsuarioInvalido):
        await s.confirmar_usuario(r.empresa_id, r.id_de("bruno@demo.local"), "atendente", nome="Bruno")


async def test_checagem_cancelada_nao_cancela_a_outra(banco_demo: BancoDemo) -> None:
    """Two sockets of one user wait for the same read; one handshake going away leaves the other's."""
    s, r = banco_demo.servico(), banco_demo.resumo
    ana = r.id_de("ana@demo.local")
    primeira = asyncio.ensure_future(s.registro_usuario(r.empresa_id, ana))
    segunda = asyncio.ensure_future(s.registro_usuario(r.empresa_id, ana))
    await asyncio.sleep(0)
    primeira.cancel()
    registro = await segunda
    assert registro is not None and registro.id == ana
