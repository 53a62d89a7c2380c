"""The role matrix (docs/roles.md), table-driven: every ticket route × every role × a ticket of the
caller's (Ana's, for the atendente), of another atendente (Bruno's), and one nobody has. A refusal
is 403 ``PROIBIDO`` with the ticket, its history and the events exactly as before."""

from __future__ import annotations

from typing import Any

import pytest

from atendimento.domain.entidades import TicketDados, UsuarioDados

from .apoio import Ambiente, assert_erro

ANA, BRUNO = "ana@demo.local", "bruno@demo.local"
# Who acts in each role; the demo has no supervisor, so one is added (``_supervisor``).
ATORES = {
    "admin": "admin@demo.local",
    "gestor": "gestor@demo.local",
    "supervisor": "supervisor@demo.local",
    "atendente": ANA,
    "vendedor": "vendas@demo.local",
    "integracao": "integracao@demo.local",
}
TIPOS = ("proprio", "outro", "livre")  # Ana's, Bruno's, nobody's

# route -> (method, path suffix, body); {ana}/{bruno} are the atendentes' ids.
ROTAS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "ler": ("GET", "", None),
    "historico": ("GET", "/historico", None),
    "mensagens": ("GET", "/mensagens", None),
    "escrever": ("POST", "/mensagens", {"conteudo": "olá"}),
    "alterar": ("PATCH", "", {"prioridade": "urgente"}),
    "status": ("POST", "/status", {"status": "resolvido"}),
    "tomar": ("POST", "/atribuir", {"atendenteId": "{ana}"}),
    "passar": ("POST", "/atribuir", {"atendenteId": "{bruno}"}),
}
TODOS = {tipo: True for tipo in TIPOS}
NENHUM = {tipo: False for tipo in TIPOS}
SO_PROPRIO = {"proprio": True, "outro": False, "livre": False}
# What each internal role may do; vendedor and integracao may do nothing on tickets.
GESTAO = dict.fromkeys(ROTAS, TODOS)
MATRIZ: dict[str, dict[str, dict[str, bool]]] = {
    "admin": GESTAO,
    "gestor": GESTAO,
    "supervisor": GESTAO,
    "atendente": {
        "ler": TODOS,
        "historico": TODOS,
        "mensagens": TODOS,
        "escrever": TODOS,
        "alterar": SO_PROPRIO,
        "status": SO_PROPRIO,
        # To itself: a ticket nobody has (or its own: nothing changes), never another's.
        "tomar": {"proprio": True, "outro": False, "livre": True},
        "passar": NENHUM,  # assigning to someone else
    },
    "vendedor": dict.fromkeys(ROTAS, NENHUM),
    "integracao": dict.fromkeys(ROTAS, NENHUM),
}
SUCESSO = {"GET": 200, "POST": 200, "PATCH": 200}


async def _supervisor(amb: Ambiente) -> None:
    e = amb.demo.empresa_id
    usuario = UsuarioDados("sup-demo", e, "Sofia Supervisora", "supervisor@demo.local", "supervisor", None)
    async with amb.storage.unidade(e) as repo:
        assert await repo.inserir_usuario_externo(usuario)
    amb.usuarios["supervisor@demo.local"] = {
        "id": "sup-demo",
        "empresa_id": e,
        "role": "supervisor",
        "nome": "Sofia",
    }


async def _ticket(amb: Ambiente, tipo: str) -> TicketDados:
    """A fresh ticket (by the system): Ana's, Bruno's or nobody's."""
    d = amb.demo
    dono = {"proprio": amb.id(ANA), "outro": amb.id(BRUNO), "livre": None}[tipo]
    return await amb.servico.criar_ticket(
        d.empresa_id,
        cliente_id=d.clientes["Maria Oliveira"],
        canal_id=d.canais["whatsapp"],
        fila_id=d.filas["Suporte"],
        atendente_id=dono,
    )


def _corpo(corpo: dict[str, Any] | None, amb: Ambiente) -> dict[str, Any] | None:
    if corpo is None:
        return None
    return {
        k: v.format(ana=amb.id(ANA), bruno=amb.id(BRUNO)) if isinstance(v, str) else v
        for k, v in corpo.items()
    }


@pytest.mark.parametrize("role", list(MATRIZ))
async def test_matriz_de_papeis(amb_ambos: Ambiente, role: str) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    await _supervisor(amb)
    e = amb.demo.empresa_id
    falhas = []
    for rota, (metodo, sufixo, corpo) in ROTAS.items():
        for tipo in TIPOS:
            ticket = await _ticket(amb, tipo)  # fresh each time: a write never leaks into the next case
            antes = await amb.servico.obter_ticket(e, ticket.id)
            historico = await amb.servico.listar_historico(e, ticket.id)
            amb.publicador.limpar()
            resposta = await amb.cliente.request(
                metodo,
                f"/atendimento/tickets/{ticket.id}{sufixo}",
                json=_corpo(corpo, amb),
                headers=amb.auth(ATORES[role]),
            )
            pode = MATRIZ[role][rota][tipo]
            esperado = (201 if rota == "escrever" else SUCESSO[metodo]) if pode else 403
            if resposta.status_code != esperado:
                falhas.append(f"{role} {rota} {tipo}: {resposta.status_code} {resposta.text[:120]}")
                continue
            if not pode:
                assert_erro(resposta, 403, "PROIBIDO")
                # Nothing changed: the ticket, its history, and nothing was published.
                assert await amb.servico.obter_ticket(e, ticket.id) == antes, (role, rota, tipo)
                assert await amb.servico.listar_historico(e, ticket.id) == historico, (role, rota, tipo)
                assert amb.publicador.eventos == [], (role, rota, tipo)
    assert not falhas, "\n".join(falhas)


# Opening a ticket: (role) -> may open it unassigned, assigned to Ana, assigned to Bruno. Ana is the
# atendente who acts, so "Ana" is herself and "Bruno" someone else.
CRIAR = {
    "admin": (True, True, True),
    "gestor": (True, True, True),
    "supervisor": (True, True, True),
    "atendente": (True, True, False),
    "vendedor": (False, False, False),
    "integracao": (False, False, False),
}


@pytest.mark.parametrize("role", list(CRIAR))
async def test_quem_abre_ticket_e_para_quem(amb: Ambiente, role: str) -> None:
    await _supervisor(amb)
    d = amb.demo
    for pode, atendente in zip(CRIAR[role], (None, amb.id(ANA), amb.id(BRUNO)), strict=True):
        corpo = {
            "clienteId": d.clientes["Pedro Santos"],
            "canalId": d.canais["webchat"],
            "filaId": d.filas["Suporte"],
        }
        if atendente is not None:
            corpo["atendenteId"] = atendente
        antes = await amb.servico.listar_tickets(d.empresa_id)
        resposta = await amb.cliente.post("/atendimento/tickets", json=corpo, headers=amb.auth(ATORES[role]))
        if pode:
            assert resposta.status_code == 201, (role, atendente, resposta.text)
        else:
            assert_erro(resposta, 403, "PROIBIDO")
            assert await amb.servico.listar_tickets(d.empresa_id) == antes
