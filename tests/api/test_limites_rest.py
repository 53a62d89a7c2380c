"""Rate limits of the expensive REST writes, per user and per tenant (ATENDIMENTO_REST_RATE_LIMITS
and _TENANT): past a limit, 429 ``LIMITE_EXCEDIDO`` with ``Retry-After`` and nothing written, on the
REST short path (atalhos.py) and through FastAPI alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from atendimento.config import Settings
from atendimento.gateway.rate_limits import REST_POR_EMPRESA, REST_POR_USUARIO

from .apoio import SEGREDO, Ambiente, assert_erro
from .conftest import FabricaAmbiente

GESTOR, ADMIN, ANA, BRUNO = "gestor@demo.local", "admin@demo.local", "ana@demo.local", "bruno@demo.local"
INTEGRACAO = "integracao@demo.local"


async def _amb(fabrica: FabricaAmbiente, tmp_path: Path, usuario: str, empresa: str = "") -> Ambiente:
    settings = Settings(  # type: ignore[call-arg]
        data_dir=tmp_path, jwt_secret=SEGREDO, rest_rate_limits=usuario, rest_rate_limits_tenant=empresa
    )
    return await fabrica(settings=settings)


def _recusado(resposta: Any) -> None:
    assert_erro(resposta, 429, "LIMITE_EXCEDIDO")
    assert 1 <= int(resposta.headers["Retry-After"]) <= 60


async def test_mensagens_por_usuario_nas_duas_vias(amb_fabrica: FabricaAmbiente, tmp_path: Path) -> None:
    amb = await _amb(amb_fabrica, tmp_path, "mensagem:enviar=3/minute")
    e, ticket = amb.demo.empresa_id, amb.demo.tickets[1]
    url = f"/atendimento/tickets/{ticket}/mensagens"
    antes = len(await amb.servico.listar_mensagens(e, ticket))
    for _ in range(3):  # the short path (atalhos.py)
        assert (
            await amb.cliente.post(url, json={"conteudo": "oi"}, headers=amb.auth(ANA))
        ).status_code == 201
    amb.publicador.limpar()
    _recusado(await amb.cliente.post(url, json={"conteudo": "oi"}, headers=amb.auth(ANA)))
    # An unknown query parameter hands the request to FastAPI: the same limit holds there.
    _recusado(await amb.cliente.post(f"{url}?via=fastapi", json={"conteudo": "oi"}, headers=amb.auth(ANA)))
    assert len(await amb.servico.listar_mensagens(e, ticket)) == antes + 3
    assert amb.publicador.eventos == []
    # Per user: Bruno has his own budget.
    assert (await amb.cliente.post(url, json={"conteudo": "oi"}, headers=amb.auth(BRUNO))).status_code == 201


async def test_por_empresa(amb_fabrica: FabricaAmbiente, tmp_path: Path) -> None:
    amb = await _amb(amb_fabrica, tmp_path, "", "mensagem:enviar=2/minute")
    url = f"/atendimento/tickets/{amb.demo.tickets[1]}/mensagens"
    for email in (ANA, BRUNO):
        assert (
            await amb.cliente.post(url, json={"conteudo": "oi"}, headers=amb.auth(email))
        ).status_code == 201
    _recusado(await amb.cliente.post(url, json={"conteudo": "oi"}, headers=amb.auth(GESTOR)))
    # The other tenant is not affected.
    outra = f"/atendimento/tickets/{amb.demo.outra_ticket_id}/mensagens"
    resposta = await amb.cliente.post(outra, json={"conteudo": "oi"}, headers=amb.auth("carla@outra.local"))
    assert resposta.status_code == 201


async def test_notificacoes_tickets_e_canais(amb_fabrica: FabricaAmbiente, tmp_path: Path) -> None:
    amb = await _amb(
        amb_fabrica, tmp_path, "notificacao=2/minute;ticket:criar=2/minute;mensagem:canal=2/minute"
    )
    d = amb.demo
    # 10 KB broadcasts to the whole tenant, as in the finding: the third is refused.
    notificacao = {"tipo": "aviso", "dados": {"texto": "x" * 10_000}}
    for _ in range(2):
        assert (
            await amb.cliente.post("/notificacoes", json=notificacao, headers=amb.auth(GESTOR))
        ).status_code == 202
    amb.publicador.limpar()
    _recusado(await amb.cliente.post("/notificacoes", json=notificacao, headers=amb.auth(GESTOR)))
    assert amb.publicador.eventos == []

    novo = {
        "clienteId": d.clientes["Pedro Santos"],
        "canalId": d.canais["webchat"],
        "filaId": d.filas["Suporte"],
    }
    for _ in range(2):
        assert (
            await amb.cliente.post("/atendimento/tickets", json=novo, headers=amb.auth(ANA))
        ).status_code == 201
    antes = await amb.servico.listar_tickets(d.empresa_id)
    _recusado(await amb.cliente.post("/atendimento/tickets", json=novo, headers=amb.auth(ANA)))

    canal = f"/atendimento/canais/{d.canais['whatsapp']}/mensagens"
    for i in range(2):
        corpo = {"contato": f"+55119000000{i}", "conteudo": "oi"}
        assert (await amb.cliente.post(canal, json=corpo, headers=amb.auth(INTEGRACAO))).status_code == 201
    antes = await amb.servico.listar_tickets(d.empresa_id)
    _recusado(
        await amb.cliente.post(
            canal, json={"contato": "+5511900000099", "conteudo": "oi"}, headers=amb.auth(INTEGRACAO)
        )
    )
    assert await amb.servico.listar_tickets(d.empresa_id) == antes


def test_padroes_entre_um_humano_e_um_script() -> None:
    # Every limited write has a default per user and per tenant, far above what a person sends in a
    # minute and far below a script's hundreds a second (the README row says why each).
    for evento in ("mensagem:enviar", "ticket:criar", "mensagem:canal", "notificacao"):
        por_minuto = int(REST_POR_USUARIO[evento].split("/")[0])
        assert 20 <= por_minuto <= 6000, evento
        assert int(REST_POR_EMPRESA[evento].split("/")[0]) >= por_minuto, evento
