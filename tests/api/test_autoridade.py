"""The database is the authority on who a token's user is: tokens of absent, demoted and deactivated
users are refused with 401 ``USUARIO_INVALIDO`` on every route (the REST short path included) and
write nothing; a change reaches the cache at once; ``provisionar`` creates a CRM's user."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from atendimento.config import Settings

from .apoio import SEGREDO, Ambiente, assert_erro, assert_ok
from .conftest import FabricaAmbiente

GESTOR, ANA = "gestor@demo.local", "ana@demo.local"


def _rotas(amb: Ambiente) -> list[tuple[str, str, dict[str, Any] | None]]:
    d = amb.demo
    ticket = d.tickets[1]
    novo = {
        "clienteId": d.clientes["Pedro Santos"],
        "canalId": d.canais["webchat"],
        "filaId": d.filas["Suporte"],
    }
    return [
        ("GET", "/atendimento/tickets", None),
        ("POST", "/atendimento/tickets", novo),
        ("PATCH", f"/atendimento/tickets/{ticket}", {"prioridade": "urgente"}),
        ("POST", f"/atendimento/tickets/{ticket}/atribuir", {"atendenteId": amb.id("bruno@demo.local")}),
        ("POST", f"/atendimento/tickets/{ticket}/status", {"status": "fechado"}),
        ("POST", f"/atendimento/tickets/{ticket}/mensagens", {"conteudo": "escrito por quem não é"}),
        ("POST", f"/atendimento/tickets/{ticket}/mensagens?x=1", {"conteudo": "pela via do FastAPI"}),
        ("POST", "/notificacoes", {"tipo": "aviso", "mensagem": "a todos"}),
        ("GET", "/auth/me", None),
        ("POST", "/auth/renovar", None),
    ]


async def _estado(amb: Ambiente) -> tuple[Any, ...]:
    e, ticket = amb.demo.empresa_id, amb.demo.tickets[1]
    return (
        await amb.servico.listar_tickets(e),
        await amb.servico.listar_mensagens(e, ticket),
        await amb.servico.listar_historico(e, ticket),
    )


async def _todas_recusadas(amb: Ambiente, token: str) -> None:
    antes = await _estado(amb)
    amb.publicador.limpar()
    for metodo, caminho, corpo in _rotas(amb):
        resposta = await amb.cliente.request(
            metodo, caminho, json=corpo, headers={"Authorization": f"Bearer {token}"}
        )
        assert resposta.status_code == 401, (metodo, caminho, resposta.text)
        assert_erro(resposta, 401, "USUARIO_INVALIDO")
    assert await _estado(amb) == antes
    assert amb.publicador.eventos == []


async def test_usuario_ausente(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    # With role admin it could broadcast, and list, create, change and assign tickets.
    fantasma = amb.tokens.emitir("nao-existe", amb.demo.empresa_id, "admin", "Fantasma")
    await _todas_recusadas(amb, fantasma)
    # The id of a user of the other tenant, claiming this one: absent here too.
    carla = amb.tokens.emitir(amb.id("carla@outra.local"), amb.demo.empresa_id, "atendente", "Carla")
    await _todas_recusadas(amb, carla)


async def test_papel_alegado_diferente(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    # A vendedor's token claiming atendente: its message would have been stored as an agent's.
    vendedor = amb.tokens.emitir(amb.id("vendas@demo.local"), amb.demo.empresa_id, "atendente", "Vendas")
    await _todas_recusadas(amb, vendedor)


async def test_rebaixado_e_desativado_param_na_hora(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    e = amb.demo.empresa_id
    token_gestor, token_ana = amb.token(GESTOR), amb.token(ANA)
    # Warm: both answered (and cached) before the change.
    for token in (token_gestor, token_ana):
        resposta = await amb.cliente.get("/atendimento/tickets", headers={"Authorization": f"Bearer {token}"})
        assert resposta.status_code == 200
    await amb.servico.alterar_usuario(e, amb.id(GESTOR), role="atendente")
    await amb.servico.alterar_usuario(e, amb.id(ANA), ativo=False)
    assert amb.publicador.usuarios_alterados == [(e, amb.id(GESTOR)), (e, amb.id(ANA))]
    await _todas_recusadas(amb, token_gestor)  # the demoted gestor's old token no longer broadcasts
    await _todas_recusadas(amb, token_ana)
    # Reactivated: the same token works again.
    await amb.servico.alterar_usuario(e, amb.id(ANA), ativo=True)
    resposta = await amb.cliente.get("/atendimento/tickets", headers={"Authorization": f"Bearer {token_ana}"})
    assert resposta.status_code == 200


async def test_desativado_nao_faz_login(amb: Ambiente) -> None:
    await amb.servico.alterar_usuario(amb.demo.empresa_id, amb.id(ANA), ativo=False)
    resposta = await amb.cliente.post("/auth/login", json={"email": ANA, "senha": "demo-senha"})
    assert_erro(resposta, 401, "CREDENCIAIS_INVALIDAS")


@pytest.mark.parametrize("com_email", [True, False])
async def test_provisionar(banco_demo: Any, tmp_path: Path, senhas_rapidas: Any, com_email: bool) -> None:
    from .conftest import _fabrica

    async for fabrica in _fabrica(banco_demo, tmp_path, senhas_rapidas):
        await _provisionar(fabrica, tmp_path, com_email)


async def _provisionar(fabrica: FabricaAmbiente, tmp_path: Path, com_email: bool) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=SEGREDO, usuarios_externos="provisionar")  # type: ignore[call-arg]
    amb = await fabrica(settings=settings)
    e = amb.demo.empresa_id
    extra = {"email": "Vera@CRM.example"} if com_email else {}
    token = _token_crm(amb, "crm-vera", e, "atendente", "Vera do CRM", **extra)
    me = assert_ok(await amb.cliente.get("/auth/me", headers={"Authorization": f"Bearer {token}"}), 200, dict)
    assert me["id"] == "crm-vera" and me["role"] == "atendente" and me["nome"] == "Vera do CRM"
    assert me["email"] == ("vera@crm.example" if com_email else "crm-vera@" + e + ".externo.invalid")
    registro = await amb.servico.registro_usuario(e, "crm-vera")
    assert registro is not None and registro.ativo
    # The user now exists: it writes as itself, and is an atendente a ticket can be assigned to.
    ticket = amb.demo.tickets[0]
    resposta = await amb.cliente.post(
        f"/atendimento/tickets/{ticket}/atribuir",
        json={"atendenteId": "crm-vera"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resposta.status_code == 200, resposta.text
    # Another role claimed for the same user later: refused, not changed.
    outro = _token_crm(amb, "crm-vera", e, "admin", "Vera do CRM")
    assert_erro(
        await amb.cliente.get("/auth/me", headers={"Authorization": f"Bearer {outro}"}),
        401,
        "USUARIO_INVALIDO",
    )
    # A tenant that does not exist: nothing to provision into.
    sem_empresa = _token_crm(amb, "crm-x", "empresa-inexistente", "atendente", "X")
    assert_erro(
        await amb.cliente.get("/auth/me", headers={"Authorization": f"Bearer {sem_empresa}"}),
        401,
        "USUARIO_INVALIDO",
    )
    # An id taken in another tenant: refused (the id is global).
    sosia = _token_crm(amb, amb.id("carla@outra.local"), e, "atendente", "Sósia")
    assert_erro(
        await amb.cliente.get("/auth/me", headers={"Authorization": f"Bearer {sosia}"}),
        401,
        "USUARIO_INVALIDO",
    )


def _token_crm(amb: Ambiente, sub: str, empresa: str, role: str, nome: str, **extra: str) -> str:
    import time

    import jwt

    agora = int(time.time())
    claims = {"sub": sub, "empresaId": empresa, "role": role, "nome": nome, "iat": agora, "exp": agora + 600}
    return jwt.encode({**claims, **extra}, SEGREDO, algorithm="HS256")


async def test_recusar_e_o_padrao(amb: Ambiente) -> None:
    token = _token_crm(amb, "crm-vera", amb.demo.empresa_id, "atendente", "Vera")
    assert_erro(
        await amb.cliente.get("/auth/me", headers={"Authorization": f"Bearer {token}"}),
        401,
        "USUARIO_INVALIDO",
    )
    assert await amb.servico.registro_usuario(amb.demo.empresa_id, "crm-vera") is None
