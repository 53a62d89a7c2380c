"""Provisioning filas and canais over REST; a fila's wait."""

from __future__ import annotations

import pytest

from atendimento.api.saidas import CanalSaida, FilaEsperaSaida, FilaSaida

from .apoio import Ambiente, assert_erro, assert_ok

ADMIN = "admin@demo.local"
GESTOR = "gestor@demo.local"


async def test_fila_criar_mudar_listar(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    criada = assert_ok(
        await amb.cliente.post(
            "/atendimento/filas",
            json={"nome": "Vendas", "distribuicao": "automatica"},
            headers=amb.auth(GESTOR),
        ),
        201,
        FilaSaida,
    )
    assert criada["distribuicao"] == "automatica" and criada["empresaId"] == amb.demo.empresa_id
    repetida = await amb.cliente.post("/atendimento/filas", json={"nome": "Suporte"}, headers=amb.auth(ADMIN))
    assert_erro(repetida, 409, "FILA_JA_EXISTE")
    renomear = await amb.cliente.patch(
        f"/atendimento/filas/{criada['id']}", json={"nome": "Financeiro"}, headers=amb.auth(ADMIN)
    )
    assert_erro(renomear, 409, "FILA_JA_EXISTE")
    mudada = assert_ok(
        await amb.cliente.patch(
            f"/atendimento/filas/{criada['id']}", json={"distribuicao": "manual"}, headers=amb.auth(ADMIN)
        ),
        200,
        FilaSaida,
    )
    assert mudada["distribuicao"] == "manual" and mudada["nome"] == "Vendas"
    lista = assert_ok(
        await amb.cliente.get("/atendimento/filas", headers=amb.auth(GESTOR)), 200, list[FilaSaida]
    )
    assert [f["nome"] for f in lista] == ["Financeiro", "Suporte", "Vendas"]
    # Another tenant's fila: 404, as an unknown one.
    outra = await amb.cliente.get(f"/atendimento/filas/{amb.demo.outra_fila_id}", headers=amb.auth(ADMIN))
    assert_erro(outra, 404, "FILA_NAO_ENCONTRADA")


async def test_espera_da_fila(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    suporte = amb.demo.filas["Suporte"]
    data = assert_ok(
        await amb.cliente.get(f"/atendimento/filas/{suporte}", headers=amb.auth("ana@demo.local")),
        200,
        FilaEsperaSaida,
    )
    # The demo's Suporte: ticket 1 has nobody (aberto); ticket 3 is Bruno's.
    assert data["aguardando"] == 1
    assert data["aguardandoDesde"].endswith("Z") and data["esperaMaisLongaSegundos"] >= 0
    financeiro = amb.demo.filas["Financeiro"]
    vazia = assert_ok(
        await amb.cliente.get(f"/atendimento/filas/{financeiro}", headers=amb.auth(GESTOR)),
        200,
        FilaEsperaSaida,
    )
    assert vazia["aguardando"] == 0 and vazia["aguardandoDesde"] is None


@pytest.mark.parametrize(
    "corpo",
    [{"nome": ""}, {"nome": "X", "distribuicao": "roleta"}, {"nome": "X", "extra": 1}],
)
async def test_fila_invalida_422(amb: Ambiente, corpo: dict[str, object]) -> None:
    assert_erro(
        await amb.cliente.post("/atendimento/filas", json=corpo, headers=amb.auth(ADMIN)),
        422,
        "PAYLOAD_INVALIDO",
    )


async def test_canal_criar_mudar_e_a_fila_dos_tickets_novos(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    financeiro = amb.demo.filas["Financeiro"]
    corpo = {"nome": "Telefone", "tipo": "telefone", "filaId": financeiro}
    canal = assert_ok(
        await amb.cliente.post("/atendimento/canais", json=corpo, headers=amb.auth(ADMIN)), 201, CanalSaida
    )
    assert canal["filaId"] == financeiro and canal["ativo"] is True and canal["tipo"] == "telefone"
    # The integration is bound to it by provisioning (canalIds), then a customer's message on it
    # opens a ticket in that fila.
    vinculos = [amb.demo.canais["whatsapp"], amb.demo.canais["email"], canal["id"]]
    vinculada = await amb.cliente.patch(
        f"/atendimento/usuarios/{amb.id('integracao@demo.local')}",
        json={"canalIds": vinculos},
        headers=amb.auth(ADMIN),
    )
    assert vinculada.status_code == 200, vinculada.text
    entrega = await amb.cliente.post(
        f"/atendimento/canais/{canal['id']}/mensagens",
        json={"contato": "+5511999990000", "conteudo": "Alô"},
        headers=amb.auth("integracao@demo.local"),
    )
    assert entrega.status_code == 201, entrega.text
    assert entrega.json()["data"]["ticket"]["filaId"] == financeiro
    desativado = assert_ok(
        await amb.cliente.patch(
            f"/atendimento/canais/{canal['id']}", json={"ativo": False}, headers=amb.auth(ADMIN)
        ),
        200,
        CanalSaida,
    )
    assert desativado["ativo"] is False
    lista = assert_ok(
        await amb.cliente.get("/atendimento/canais", headers=amb.auth(GESTOR)), 200, list[CanalSaida]
    )
    assert len(lista) == 4 and {c["empresaId"] for c in lista} == {amb.demo.empresa_id}


async def test_canal_recusas(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    fila = amb.demo.filas["Suporte"]
    # Only the admin writes canais.
    corpo = {"nome": "Novo", "tipo": "email", "filaId": fila}
    assert_erro(
        await amb.cliente.post("/atendimento/canais", json=corpo, headers=amb.auth(GESTOR)), 403, "PROIBIDO"
    )
    # A fila of another tenant is unknown here.
    corpo = {"nome": "Novo", "tipo": "email", "filaId": amb.demo.outra_fila_id}
    assert_erro(
        await amb.cliente.post("/atendimento/canais", json=corpo, headers=amb.auth(ADMIN)),
        404,
        "FILA_NAO_ENCONTRADA",
    )
    corpo = {"nome": "Novo", "tipo": "pombo", "filaId": fila}
    assert_erro(
        await amb.cliente.post("/atendimento/canais", json=corpo, headers=amb.auth(ADMIN)),
        422,
        "PAYLOAD_INVALIDO",
    )
    outro = await amb.cliente.patch(
        f"/atendimento/canais/{amb.demo.outra_canal_id}", json={"nome": "x"}, headers=amb.auth(ADMIN)
    )
    assert_erro(outro, 404, "CANAL_NAO_ENCONTRADO")
    assert_erro(
        await amb.cliente.get("/atendimento/canais", headers=amb.auth("ana@demo.local")), 403, "PROIBIDO"
    )


@pytest.mark.parametrize("rota", ["/atendimento/filas", "/atendimento/canais", "/atendimento/usuarios"])
async def test_listas_por_nome_em_paginas_de_um_sem_repetir_nem_pular(amb_ambos: Ambiente, rota: str) -> None:
    amb = amb_ambos
    inteira = (await amb.cliente.get(rota, params={"limite": 200}, headers=amb.auth(ADMIN))).json()
    assert inteira["proximoCursor"] is None and len(inteira["data"]) >= 2
    vistos: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limite": 1} | ({"cursor": cursor} if cursor else {})
        corpo = (await amb.cliente.get(rota, params=params, headers=amb.auth(ADMIN))).json()
        vistos += [item["id"] for item in corpo["data"]]
        cursor = corpo["proximoCursor"]
        if cursor is None:
            break
    assert vistos == [item["id"] for item in inteira["data"]]
