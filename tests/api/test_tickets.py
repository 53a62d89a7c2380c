"""Ticket routes against the real service: data, events (only after a successful write), roles,
tenant isolation."""

from __future__ import annotations

from typing import Any

import pytest

from atendimento.api.saidas import TicketDetalheSaida

from .apoio import Ambiente, assert_erro, assert_ok

GESTOR = "gestor@demo.local"
ANA = "ana@demo.local"
CARLA = "carla@outra.local"
BASE = "/atendimento/tickets"


def _novo(amb: Ambiente, **extra: Any) -> dict[str, Any]:
    corpo = {
        "clienteId": amb.demo.clientes["Pedro Santos"],
        "canalId": amb.demo.canais["webchat"],
        "filaId": amb.demo.filas["Suporte"],
    }
    corpo.update(extra)
    return corpo


async def _contagem(amb: Ambiente) -> int:
    return len(await amb.servico.listar_tickets(amb.demo.empresa_id))


# --- list ------------------------------------------------------------------------------------


async def test_lista_so_do_tenant(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    data = assert_ok(await amb.cliente.get(BASE, headers=amb.auth(ANA)), 200, list[TicketDetalheSaida])
    assert {t["id"] for t in data} == set(amb.demo.tickets)
    assert {t["empresaId"] for t in data} == {amb.demo.empresa_id}
    outra = assert_ok(await amb.cliente.get(BASE, headers=amb.auth(CARLA)), 200, list[TicketDetalheSaida])
    assert [t["id"] for t in outra] == [amb.demo.outra_ticket_id]


async def test_lista_filtros(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)

    async def ids(query: str) -> set[str]:
        resposta = await amb.cliente.get(f"{BASE}?{query}", headers=amb.auth(GESTOR))
        return {t["id"] for t in assert_ok(resposta, 200, list[TicketDetalheSaida])}

    t1, t2, t3, t4 = amb.demo.tickets
    assert await ids("status=aberto") == {t1}
    assert await ids("status=resolvido") == {t4}
    assert await ids(f"atendenteId={amb.id(ANA)}") == {t2, t4}
    assert await ids(f"filaId={amb.demo.filas['Suporte']}") == {t1, t3}
    assert await ids(f"atendenteId={amb.id(ANA)}&status=em_atendimento") == {t2}
    assert await ids("atendenteId=ninguem") == set()
    # Another tenant's ids filter to nothing, never to that tenant's rows.
    assert await ids(f"filaId={amb.demo.outra_fila_id}") == set()


@pytest.mark.parametrize("query", ["status=perdido", "status=", f"filaId={'x' * 65}"])
async def test_lista_filtro_invalido(amb: Ambiente, query: str) -> None:
    assert_erro(await amb.cliente.get(f"{BASE}?{query}", headers=amb.auth(GESTOR)), 422, "PAYLOAD_INVALIDO")


# --- create ----------------------------------------------------------------------------------


async def test_cria(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    resposta = await amb.cliente.post(
        BASE, json=_novo(amb, prioridade="urgente", assunto="Nova dúvida"), headers=amb.auth(ANA)
    )
    data = assert_ok(resposta, 201, TicketDetalheSaida)
    assert data["status"] == "aberto"
    assert data["prioridade"] == "urgente"
    assert data["atendenteId"] is None
    assert data["numero"] == "5"  # per tenant: the other tenant's ticket does not take a number here
    assert amb.publicador.nomes() == ["ticket_novo"]
    # The event is the seed's ticket; the answer adds who the customer is, the channel, unread.
    extras = {"cliente", "canal", "naoLidas"}
    assert amb.publicador.eventos[0].args[0].para_evento() == {
        k: v for k, v in data.items() if k not in extras
    }
    assert data["cliente"]["id"] == data["clienteId"] and data["canal"]["id"] == data["canalId"]
    assert set(data["cliente"]) == {"id", "nome", "contato"} and set(data["canal"]) == {"id", "tipo", "nome"}
    assert data["naoLidas"] == 0
    lido = await amb.cliente.get(f"{BASE}/{data['id']}", headers=amb.auth(GESTOR))
    assert assert_ok(lido, 200, TicketDetalheSaida) == data


async def test_cria_atribuido(amb: Ambiente) -> None:
    resposta = await amb.cliente.post(
        BASE, json=_novo(amb, atendenteId=amb.id(ANA)), headers=amb.auth(GESTOR)
    )
    data = assert_ok(resposta, 201, TicketDetalheSaida)
    assert data["atendenteId"] == amb.id(ANA)
    assert amb.publicador.nomes() == ["ticket_novo", "ticket_atribuido"]


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"clienteId": "nao-existe"}, 404, "CLIENTE_NAO_ENCONTRADO"),
        ({"canalId": "nao-existe"}, 404, "CANAL_NAO_ENCONTRADO"),
        ({"filaId": "nao-existe"}, 404, "FILA_NAO_ENCONTRADA"),
        ({"atendenteId": "nao-existe"}, 404, "USUARIO_NAO_ENCONTRADO"),
        ({"prioridade": "altissima"}, 422, "PAYLOAD_INVALIDO"),
        ({"assunto": "a" * 201}, 422, "PAYLOAD_INVALIDO"),
        ({"descricao": "d" * 5001}, 422, "PAYLOAD_INVALIDO"),
        ({"clienteId": "c" * 65}, 422, "PAYLOAD_INVALIDO"),
        ({"clienteId": 7}, 422, "PAYLOAD_INVALIDO"),
        ({"status": "fechado"}, 422, "PAYLOAD_INVALIDO"),  # unknown key
        ({"cliente_id": "x"}, 422, "PAYLOAD_INVALIDO"),  # snake_case is not the contract's spelling
    ],
)
async def test_cria_invalido_nao_muda_nada(
    amb: Ambiente, extra: dict[str, Any], status: int, code: str
) -> None:
    antes = await _contagem(amb)
    resposta = await amb.cliente.post(BASE, json=_novo(amb, **extra), headers=amb.auth(GESTOR))
    assert_erro(resposta, status, code)
    assert await _contagem(amb) == antes
    assert amb.publicador.eventos == []


async def test_cria_com_ids_de_outro_tenant(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    corpo = {
        "clienteId": amb.demo.outra_cliente_id,
        "canalId": amb.demo.outra_canal_id,
        "filaId": amb.demo.outra_fila_id,
    }
    assert_erro(
        await amb.cliente.post(BASE, json=corpo, headers=amb.auth(GESTOR)), 404, "CLIENTE_NAO_ENCONTRADO"
    )
    atribuido_a_carla = _novo(amb, atendenteId=amb.id(CARLA))
    resposta = await amb.cliente.post(BASE, json=atribuido_a_carla, headers=amb.auth(GESTOR))
    assert_erro(resposta, 404, "USUARIO_NAO_ENCONTRADO")
    assert amb.publicador.eventos == []


async def test_cria_campo_obrigatorio_ausente(amb: Ambiente) -> None:
    corpo = _novo(amb)
    del corpo["filaId"]
    erro = assert_erro(
        await amb.cliente.post(BASE, json=corpo, headers=amb.auth(GESTOR)), 422, "PAYLOAD_INVALIDO"
    )
    assert "filaId" in erro["error"]


# --- read / patch ------------------------------------------------------------------------------


async def test_obter_desconhecido_e_de_outro_tenant_sao_iguais(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    desconhecido = await amb.cliente.get(f"{BASE}/nao-existe", headers=amb.auth(GESTOR))
    de_outro = await amb.cliente.get(f"{BASE}/{amb.demo.outra_ticket_id}", headers=amb.auth(GESTOR))
    assert_erro(desconhecido, 404, "TICKET_NAO_ENCONTRADO")
    assert de_outro.json() == desconhecido.json()
    assert de_outro.headers.get("content-length") == desconhecido.headers.get("content-length")


async def test_atualiza_so_os_campos_dados(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    t1 = amb.demo.tickets[0]
    antes = (await amb.servico.obter_ticket(amb.demo.empresa_id, t1)).para_evento()
    resposta = await amb.cliente.patch(
        f"{BASE}/{t1}",
        json={"prioridade": "urgente", "filaId": amb.demo.filas["Financeiro"]},
        headers=amb.auth(GESTOR),
    )
    data = assert_ok(resposta, 200, TicketDetalheSaida)
    assert data["prioridade"] == "urgente"
    assert data["filaId"] == amb.demo.filas["Financeiro"]
    assert data["assunto"] == antes["assunto"]
    assert data["descricao"] == antes["descricao"]
    assert data["atualizadoEm"] >= antes["atualizadoEm"]
    assert amb.publicador.nomes() == ["ticket_atualizado"]


async def test_atualiza_null_limpa_assunto(amb: Ambiente) -> None:
    t1 = amb.demo.tickets[0]
    resposta = await amb.cliente.patch(f"{BASE}/{t1}", json={"assunto": None}, headers=amb.auth(GESTOR))
    assert assert_ok(resposta, 200, TicketDetalheSaida)["assunto"] is None


async def test_atualiza_sem_mudanca_nao_publica(amb: Ambiente) -> None:
    t1 = amb.demo.tickets[0]
    assert (await amb.cliente.patch(f"{BASE}/{t1}", json={}, headers=amb.auth(GESTOR))).status_code == 200
    assert (
        await amb.cliente.patch(f"{BASE}/{t1}", json={"prioridade": "alta"}, headers=amb.auth(GESTOR))
    ).status_code == 200
    assert amb.publicador.eventos == []


@pytest.mark.parametrize(
    ("corpo", "status", "code"),
    [
        ({"status": "fechado"}, 422, "PAYLOAD_INVALIDO"),
        ({"atendenteId": "x"}, 422, "PAYLOAD_INVALIDO"),
        ({"prioridade": None}, 422, "PAYLOAD_INVALIDO"),
        ({"prioridade": "x"}, 422, "PAYLOAD_INVALIDO"),
        ({"assunto": "a" * 201}, 422, "PAYLOAD_INVALIDO"),
        ({"filaId": "nao-existe"}, 404, "FILA_NAO_ENCONTRADA"),
    ],
)
async def test_atualiza_invalido_nao_muda_nada(
    amb: Ambiente, corpo: dict[str, Any], status: int, code: str
) -> None:
    t1 = amb.demo.tickets[0]
    antes = await amb.servico.obter_ticket(amb.demo.empresa_id, t1)
    assert_erro(await amb.cliente.patch(f"{BASE}/{t1}", json=corpo, headers=amb.auth(GESTOR)), status, code)
    assert await amb.servico.obter_ticket(amb.demo.empresa_id, t1) == antes
    assert amb.publicador.eventos == []


async def test_atualiza_ticket_fechado_409(amb: Ambiente) -> None:
    t4 = amb.demo.tickets[3]
    await amb.cliente.post(f"{BASE}/{t4}/status", json={"status": "fechado"}, headers=amb.auth(GESTOR))
    amb.publicador.limpar()
    resposta = await amb.cliente.patch(f"{BASE}/{t4}", json={"prioridade": "baixa"}, headers=amb.auth(GESTOR))
    assert_erro(resposta, 409, "TICKET_FECHADO")
    assert amb.publicador.eventos == []


# --- assign / status -------------------------------------------------------------------------


async def test_atribui(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    t1 = amb.demo.tickets[0]
    resposta = await amb.cliente.post(
        f"{BASE}/{t1}/atribuir", json={"atendenteId": amb.id("bruno@demo.local")}, headers=amb.auth(GESTOR)
    )
    assert assert_ok(resposta, 200, TicketDetalheSaida)["atendenteId"] == amb.id("bruno@demo.local")
    assert amb.publicador.nomes() == ["ticket_atribuido", "ticket_atualizado"]


@pytest.mark.parametrize(
    ("email", "status", "code"),
    [
        (GESTOR, 409, "USUARIO_NAO_E_ATENDENTE"),
        ("vendas@demo.local", 409, "USUARIO_NAO_E_ATENDENTE"),
        (CARLA, 404, "USUARIO_NAO_ENCONTRADO"),
    ],
)
async def test_atribui_a_quem_nao_pode(amb: Ambiente, email: str, status: int, code: str) -> None:
    t1 = amb.demo.tickets[0]
    resposta = await amb.cliente.post(
        f"{BASE}/{t1}/atribuir", json={"atendenteId": amb.id(email)}, headers=amb.auth(GESTOR)
    )
    assert_erro(resposta, status, code)
    assert (await amb.servico.obter_ticket(amb.demo.empresa_id, t1)).atendente_id is None
    assert amb.publicador.eventos == []


async def test_atribui_corpo_invalido(amb: Ambiente) -> None:
    t1 = amb.demo.tickets[0]
    for corpo in ({}, {"atendenteId": None}, {"atendenteId": ""}, {"atendenteId": ["x"]}):
        resposta = await amb.cliente.post(f"{BASE}/{t1}/atribuir", json=corpo, headers=amb.auth(GESTOR))
        assert_erro(resposta, 422, "PAYLOAD_INVALIDO")
    assert amb.publicador.eventos == []


async def test_status(amb: Ambiente) -> None:
    t1 = amb.demo.tickets[0]
    resposta = await amb.cliente.post(
        f"{BASE}/{t1}/status", json={"status": "em_atendimento"}, headers=amb.auth(GESTOR)
    )
    assert assert_ok(resposta, 200, TicketDetalheSaida)["status"] == "em_atendimento"
    assert amb.publicador.nomes() == ["ticket_status", "ticket_atualizado"]


async def test_status_transicao_invalida_409(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    t1 = amb.demo.tickets[0]
    assert (
        await amb.cliente.post(f"{BASE}/{t1}/status", json={"status": "fechado"}, headers=amb.auth(GESTOR))
    ).status_code == 200
    amb.publicador.limpar()
    for alvo in ("aberto", "fechado", "resolvido"):
        resposta = await amb.cliente.post(
            f"{BASE}/{t1}/status", json={"status": alvo}, headers=amb.auth(GESTOR)
        )
        assert_erro(resposta, 409, "TRANSICAO_INVALIDA")
    assert (await amb.servico.obter_ticket(amb.demo.empresa_id, t1)).status == "fechado"
    assert amb.publicador.eventos == []


@pytest.mark.parametrize("corpo", [{}, {"status": "perdido"}, {"status": None}, {"status": "aberto", "x": 1}])
async def test_status_invalido_422(amb: Ambiente, corpo: dict[str, Any]) -> None:
    t1 = amb.demo.tickets[0]
    assert_erro(
        await amb.cliente.post(f"{BASE}/{t1}/status", json=corpo, headers=amb.auth(GESTOR)),
        422,
        "PAYLOAD_INVALIDO",
    )
    assert amb.publicador.eventos == []


# --- roles and tenants -------------------------------------------------------------------------


def _rotas(amb: Ambiente, ticket_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", BASE, None),
        ("POST", BASE, _novo(amb)),
        ("GET", f"{BASE}/{ticket_id}", None),
        ("PATCH", f"{BASE}/{ticket_id}", {"prioridade": "baixa"}),
        ("POST", f"{BASE}/{ticket_id}/atribuir", {"atendenteId": amb.id("bruno@demo.local")}),
        ("POST", f"{BASE}/{ticket_id}/status", {"status": "em_atendimento"}),
        ("GET", f"{BASE}/{ticket_id}/mensagens", None),
        ("POST", f"{BASE}/{ticket_id}/mensagens", {"conteudo": "oi"}),
        ("GET", "/atendimento/atendentes", None),
    ]


@pytest.mark.parametrize("email", ["vendas@demo.local", "integracao@demo.local"])
async def test_roles_nao_internas_403(amb: Ambiente, email: str) -> None:
    for metodo, url, corpo in _rotas(amb, amb.demo.tickets[0]):
        resposta = await amb.cliente.request(metodo, url, json=corpo, headers=amb.auth(email))
        assert_erro(resposta, 403, "PROIBIDO")
    assert amb.publicador.eventos == []


@pytest.mark.parametrize("email", ["admin@demo.local", GESTOR, ANA])
async def test_roles_internas_passam(amb: Ambiente, email: str) -> None:
    # Every internal role reads (the supervisor too: tests/api/test_papeis.py, the whole matrix).
    resposta = await amb.cliente.get(BASE, headers=amb.auth(email))
    assert resposta.status_code == 200


async def test_sem_token_401_em_todas(amb: Ambiente) -> None:
    for metodo, url, corpo in _rotas(amb, amb.demo.tickets[0]):
        assert_erro(await amb.cliente.request(metodo, url, json=corpo), 401, "TOKEN_AUSENTE")


async def test_outro_tenant_recebe_404_identico_e_nada_muda(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    t1 = amb.demo.tickets[0]
    antes = await amb.servico.obter_ticket(amb.demo.empresa_id, t1)
    mensagens_antes = await amb.servico.listar_mensagens(amb.demo.empresa_id, t1)
    for metodo, url, corpo in _rotas(amb, t1)[2:8]:
        resposta = await amb.cliente.request(metodo, url, json=corpo, headers=amb.auth(CARLA))
        desconhecido = await amb.cliente.request(
            metodo, url.replace(t1, "nao-existe"), json=corpo, headers=amb.auth(CARLA)
        )
        assert_erro(resposta, 404, "TICKET_NAO_ENCONTRADO")
        assert resposta.json() == desconhecido.json()
    assert await amb.servico.obter_ticket(amb.demo.empresa_id, t1) == antes
    assert await amb.servico.listar_mensagens(amb.demo.empresa_id, t1) == mensagens_antes
    assert amb.publicador.eventos == []


async def test_ticket_id_grande_demais(amb: Ambiente) -> None:
    assert_erro(await amb.cliente.get(f"{BASE}/{'x' * 65}", headers=amb.auth(ANA)), 422, "PAYLOAD_INVALIDO")
