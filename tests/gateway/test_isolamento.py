"""Two tenants side by side: every server → client event, and nothing of one reaches the other.

Empresa Demo: admin, ana and bruno (atendentes), vendas (vendedor). Outra Empresa: carla (atendente)
plus, from tokens the CRM could issue, dora (atendente) and chefe (admin). Every event of the contract
is triggered in both tenants, through REST and through client events; then each client's whole log
(events and acks) is searched for the other tenant's ids and names, and each event's audience is
checked against the contract's rooms.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from apoio_node import ClientesAtendimento

from .apoio_gateway import GRACE_TESTES, Produto

pytestmark = pytest.mark.node  # the real socket.io-client, run by node


@pytest.fixture
async def produto(subir: Any) -> Produto:
    """Dora and the chefe come from CRM tokens for users the database does not hold yet: the
    product provisions them on first use (ATENDIMENTO_USUARIOS_EXTERNOS=provisionar)."""
    produto: Produto = await subir(usuarios_externos="provisionar")
    return produto


EVENTOS_DO_CONTRATO = {
    "mensagem:nova",
    "mensagem:nao-atribuida",
    "mensagem:digitando",
    "ticket:novo",
    "ticket:atualizado",
    "ticket:status",
    "ticket:atribuido",
    "ticket:visualizando",
    "atendente:online",
    "atendente:offline",
    "atendente:status",
    "notificacao",
}
DEMO = ("admin", "ana", "bruno", "vendas")
OUTRA = ("carla", "dora", "chefe")

# Long enough that no random sid or id in a record can contain it by chance (a two-letter marker did).
MENSAGEM_OUTRA = "mensagem só da Outra Empresa"


def _texto(clientes: ClientesAtendimento, cliente: str) -> str:
    return json.dumps([r for r in clientes.registros if r.get("client") == cliente], ensure_ascii=False)


async def _conectar_todos(produto: Produto, clientes: ClientesAtendimento) -> dict[str, str]:
    outra = produto.resumo.outra_empresa_id
    dora_id, chefe_id = f"dora-{uuid.uuid4()}", f"chefe-{uuid.uuid4()}"
    tokens = {
        "admin": produto.token("admin@demo.local"),
        "ana": produto.token("ana@demo.local"),
        "bruno": produto.token("bruno@demo.local"),
        "vendas": produto.token("vendas@demo.local"),
        "carla": produto.token("carla@outra.local"),
        "dora": produto.token_de(dora_id, outra, "atendente", "Dora Fictícia"),
        "chefe": produto.token_de(chefe_id, outra, "admin", "Chefe Fictício"),
    }
    for nome, token in tokens.items():
        assert (await clientes.conectar(nome, token))["type"] == "connect", nome
    return tokens


async def _gatilhos(
    produto: Produto, clientes: ClientesAtendimento, tokens: dict[str, str]
) -> dict[str, Any]:
    """Every event in both tenants; returns the ids the test created."""
    r = produto.resumo
    t_demo = r.tickets[0]  # aberto, no atendente
    t_outra = r.outra_ticket_id  # no atendente either
    for cliente, ticket in (("admin", t_demo), ("ana", t_demo), ("carla", t_outra), ("chefe", t_outra)):
        assert (await clientes.pedir(cliente, "ticket:entrar", {"ticketId": ticket}))["success"], cliente

    # Typing and atendente status (client events).
    assert (await clientes.pedir("ana", "mensagem:digitando", {"ticketId": t_demo}))["success"]
    assert (await clientes.pedir("carla", "mensagem:digitando", {"ticketId": t_outra}))["success"]
    assert (await clientes.pedir("bruno", "atendente:status", {"status": "ocupado"}))["success"]
    assert (await clientes.pedir("carla", "atendente:status", {"status": "ausente"}))["success"]

    # Messages on unassigned tickets: mensagem:nova + mensagem:nao-atribuida.
    await produto.rest(
        "POST", f"/atendimento/tickets/{t_demo}/mensagens", "admin@demo.local", {"conteudo": "d1"}
    )
    await produto.rest(
        "POST", f"/atendimento/tickets/{t_outra}/mensagens", "carla@outra.local", {"conteudo": MENSAGEM_OUTRA}
    )

    # A channel message (role integracao, on a channel it is bound to) opens a ticket: ticket:novo,
    # mensagem:nova, nao-atribuida.
    await produto.rest(
        "POST",
        f"/atendimento/canais/{r.canais['whatsapp']}/mensagens",
        "integracao@demo.local",
        {"contato": "webchat:novo-cliente", "conteudo": "Oi, sou novo"},
    )

    # New tickets assigned at creation: ticket:novo + ticket:atribuido; then PATCH, assign, status.
    novo_demo = await produto.rest(
        "POST",
        "/atendimento/tickets",
        "admin@demo.local",
        {
            "clienteId": r.clientes["Maria Oliveira"],
            "canalId": r.canais["whatsapp"],
            "filaId": r.filas["Suporte"],
            "atendenteId": produto.id("ana@demo.local"),
        },
    )
    novo_outra = await produto.rest(
        "POST",
        "/atendimento/tickets",
        "carla@outra.local",
        {
            "clienteId": r.outra_cliente_id,
            "canalId": r.outra_canal_id,
            "filaId": r.outra_fila_id,
            "atendenteId": produto.id("carla@outra.local"),
        },
    )
    # Changed by a managing role of each tenant (an atendente changes only its own tickets).
    for ticket, quem in ((t_demo, "admin@demo.local"), (t_outra, tokens["chefe"])):
        await produto.rest("PATCH", f"/atendimento/tickets/{ticket}", quem, {"prioridade": "urgente"})
        await produto.rest(
            "POST", f"/atendimento/tickets/{ticket}/status", quem, {"status": "em_atendimento"}
        )
    await produto.rest(
        "POST",
        f"/atendimento/tickets/{t_demo}/atribuir",
        "admin@demo.local",
        {"atendenteId": produto.id("bruno@demo.local")},
    )
    await produto.rest(
        "POST",
        f"/atendimento/tickets/{t_outra}/atribuir",
        "carla@outra.local",
        {"atendenteId": produto.id("carla@outra.local")},
    )

    # Notifications: to one user, and to the whole tenant.
    await produto.rest(
        "POST",
        "/notificacoes",
        "admin@demo.local",
        {"usuarioId": produto.id("ana@demo.local"), "tipo": "aviso", "mensagem": "só Ana"},
    )
    await produto.rest(
        "POST",
        "/notificacoes",
        tokens["chefe"],
        {"usuarioId": produto.id("carla@outra.local"), "tipo": "aviso", "mensagem": "só Carla"},
    )
    await produto.rest(
        "POST", "/notificacoes", "admin@demo.local", {"tipo": "geral", "mensagem": "todos demo"}
    )
    await produto.rest(
        "POST",
        "/notificacoes",
        tokens["chefe"],
        {"tipo": "geral", "mensagem": "todos outra", "dados": {"x": 1}},
    )

    # atendente:offline: ana and dora leave; their colleagues hear it after the grace period.
    marca = len(clientes.registros)
    await clientes.desconectar("ana")
    await clientes.desconectar("dora")
    await clientes.esperar_evento("bruno", "atendente:offline", desde=marca, prazo=GRACE_TESTES + 5)
    await clientes.esperar_evento("carla", "atendente:offline", desde=marca, prazo=GRACE_TESTES + 5)
    # Barrier: a last broadcast in each tenant, so everything before it has arrived.
    marca = len(clientes.registros)
    await produto.rest("POST", "/notificacoes", "admin@demo.local", {"tipo": "fim"})
    await produto.rest("POST", "/notificacoes", tokens["chefe"], {"tipo": "fim"})
    for cliente in ("admin", "bruno", "vendas", "carla", "chefe"):
        await clientes.esperar(
            lambda reg, c=cliente: (
                reg.get("client") == c
                and reg.get("event") == "notificacao"
                and reg["args"][0]["tipo"] == "fim"
            ),
            desde=marca,
        )
    return {"novo_demo": novo_demo["id"], "novo_outra": novo_outra["id"]}


async def test_nada_atravessa_de_um_tenant_para_outro(
    produto: Produto, clientes: ClientesAtendimento
) -> None:
    tokens = await _conectar_todos(produto, clientes)
    criados = await _gatilhos(produto, clientes, tokens)
    r = produto.resumo

    # Both tenants saw every event of the contract (so the checks below are not vacuous).
    vistos_demo = {e["event"] for c in DEMO for e in clientes.eventos(c)}
    vistos_outra = {e["event"] for c in OUTRA for e in clientes.eventos(c)}
    assert vistos_demo == EVENTOS_DO_CONTRATO
    assert vistos_outra == EVENTOS_DO_CONTRATO

    # Nothing of Outra Empresa in any record of a Demo client, and the reverse.
    marcas_outra = [
        r.outra_empresa_id, r.outra_ticket_id, r.outra_cliente_id, r.outra_canal_id, r.outra_fila_id,
        produto.id("carla@outra.local"), "Carla Mendes", "Dora", "Chefe", "todos outra", "só Carla",
        criados["novo_outra"], MENSAGEM_OUTRA,
    ]  # fmt: skip
    marcas_demo = [
        r.empresa_id, *r.tickets, *r.clientes.values(), *r.canais.values(), *r.filas.values(),
        *(produto.id(f"{u}@demo.local") for u in ("admin", "ana", "bruno", "vendas")),
        "Ana Souza", "Bruno Lima", "todos demo", "só Ana", criados["novo_demo"], "Oi, sou novo",
    ]  # fmt: skip
    for cliente in DEMO:
        texto = _texto(clientes, cliente)
        for marca in marcas_outra:
            assert marca not in texto, (cliente, marca)
    for cliente in OUTRA:
        texto = _texto(clientes, cliente)
        for marca in marcas_demo:
            assert marca not in texto, (cliente, marca)


async def test_cada_evento_vai_so_para_as_salas_do_contrato(
    produto: Produto, clientes: ClientesAtendimento
) -> None:
    tokens = await _conectar_todos(produto, clientes)
    await _gatilhos(produto, clientes, tokens)

    def nomes(cliente: str) -> set[str]:
        return {e["event"] for e in clientes.eventos(cliente)}

    # vendedor: only the tenant-wide notification (empresa:{e}); no ticket or atendente events.
    assert nomes("vendas") == {"notificacao"}
    assert {p["tipo"] for p in clientes.payloads("vendas", "notificacao")} == {"geral", "fim"}
    # admin: internal (ticket:novo/atualizado), in the ticket room; not an atendente, never assigned.
    assert nomes("admin") == {
        "ticket:novo", "ticket:atualizado", "ticket:status", "mensagem:nova", "mensagem:digitando",
        "ticket:visualizando", "notificacao",
    }  # fmt: skip
    # ana: the atendentes room, her own user room (assignment at creation, notification to her).
    assert {"atendente:status", "mensagem:nao-atribuida", "ticket:atribuido", "ticket:novo"} <= nomes("ana")
    assert {p["tipo"] for p in clientes.payloads("ana", "notificacao")} == {"aviso", "geral"}
    assert clientes.eventos("ana", "mensagem:digitando") == []  # her own typing never comes back
    # bruno: not in the ticket room → no mensagem:nova / ticket:status / typing; assignment to him.
    assert not nomes("bruno") & {"mensagem:nova", "ticket:status", "mensagem:digitando"}
    atribuidos = clientes.payloads("bruno", "ticket:atribuido")
    assert [a["ticketId"] for a in atribuidos] == [produto.resumo.tickets[0]]
    assert atribuidos[0]["atendenteId"] == produto.id("bruno@demo.local")
    assert "aviso" not in {p["tipo"] for p in clientes.payloads("bruno", "notificacao")}
    # Payload shapes of the contract.
    status = clientes.payloads("admin", "ticket:status")[0]
    assert (
        status["ticketId"] == status["id"] == produto.resumo.tickets[0]
        and status["status"] == "em_atendimento"
    )
    atualizado = clientes.payloads("admin", "ticket:atualizado")[0]
    assert atualizado["ticketId"] == atualizado["id"]
    nao_atribuida = clientes.payloads("ana", "mensagem:nao-atribuida")[0]
    assert set(nao_atribuida) == {"mensagem", "ticket"}
    assert nao_atribuida["ticket"]["atendenteId"] is None
    estado = clientes.payloads("ana", "atendente:status")[0]
    assert set(estado) == {"atendenteId", "atendenteNome", "status", "timestamp"}
    assert estado["atendenteNome"] == "Bruno Lima" and estado["status"] == "ocupado"
    notificacao = clientes.payloads("chefe", "notificacao")
    assert {"tipo": "geral", "mensagem": "todos outra", "dados": {"x": 1}} == {
        k: v for k, v in notificacao[0].items() if k != "timestamp"
    }
    # Each socket gets each event once, even when it sits in several target rooms.
    ids_novos = [p["id"] for p in clientes.payloads("ana", "ticket:novo")]
    assert len(ids_novos) == len(set(ids_novos))
