"""Catch-up over REST: cursor pages on every list, ``atualizadoDesde``, and what paging does while
writes go on (SQLite and PostgreSQL).

The semantics under test (docs/catch-up.md): tickets come by (atualizadoEm, id) and a cursor is the
position of the last one handed out. A ticket written between two pages gets a later atualizadoEm, so
it comes again on a later page with its new state; every ticket that was not written meanwhile comes
exactly once; nothing is ever skipped. Messages are append-only and come once each, in stored order.
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from atendimento.api.saidas import AtendenteSaida, MensagemSaida, TicketDetalheSaida
from atendimento.domain.entidades import iso_utc

from .apoio import Ambiente, assert_erro, assert_ok

GESTOR = "gestor@demo.local"
ANA = "ana@demo.local"
CARLA = "carla@outra.local"
BASE = "/atendimento/tickets"


async def _pagina(
    amb: Ambiente, url: str, email: str = GESTOR, **params: Any
) -> tuple[list[Any], str | None]:
    resposta = await amb.cliente.get(url, params=params, headers=amb.auth(email))
    modelo = {
        BASE: TicketDetalheSaida,
        "/atendimento/atendentes": AtendenteSaida,
    }.get(url, MensagemSaida)
    data = assert_ok(resposta, 200, list[modelo])  # type: ignore[valid-type]
    return data, resposta.json()["proximoCursor"]


async def _todas(amb: Ambiente, url: str, email: str = GESTOR, **params: Any) -> list[Any]:
    itens, cursor = await _pagina(amb, url, email, **params)
    while cursor is not None:
        mais, cursor = await _pagina(amb, url, email, cursor=cursor, **params)
        itens += mais
    return itens


def _chave(t: dict[str, Any]) -> tuple[str, str]:
    return t["atualizadoEm"], t["id"]


async def _novo_ticket(amb: Ambiente) -> dict[str, Any]:
    corpo = {
        "clienteId": amb.demo.clientes["Pedro Santos"],
        "canalId": amb.demo.canais["webchat"],
        "filaId": amb.demo.filas["Suporte"],
    }
    resposta = await amb.cliente.post(BASE, json=corpo, headers=amb.auth(GESTOR))
    return assert_ok(resposta, 201, TicketDetalheSaida)  # type: ignore[no-any-return]


async def test_tickets_em_paginas_por_atualizado_em_e_id(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    inteira, cursor = await _pagina(amb, BASE)
    assert cursor is None  # four tickets, one page
    assert [_chave(t) for t in inteira] == sorted(_chave(t) for t in inteira)
    paginas = []
    cursor = None
    while True:
        itens, cursor = await _pagina(amb, BASE, limite=1, **({"cursor": cursor} if cursor else {}))
        paginas.append(itens)
        if cursor is None:
            break
    assert [len(p) for p in paginas] == [1, 1, 1, 1]
    assert [p[0] for p in paginas] == inteira
    # The default page is 50; at most 200.
    assert len((await _pagina(amb, BASE, limite=200))[0]) == 4


async def test_escritas_entre_paginas_nada_pulado_nem_repetido_sem_mudanca(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    antes = {t["id"]: t for t in await _todas(amb, BASE)}
    ordem = sorted(antes.values(), key=_chave)
    visto_1, visto_2, nao_visto, ultimo = ordem
    vistos: list[dict[str, Any]] = []

    pagina, cursor = await _pagina(amb, BASE, limite=2)
    vistos += pagina
    assert [t["id"] for t in pagina] == [visto_1["id"], visto_2["id"]]
    # Between the pages: one ticket already handed out changes, one not handed out yet changes, and a
    # new ticket is made.
    await amb.cliente.patch(f"{BASE}/{visto_1['id']}", json={"assunto": "mudou"}, headers=amb.auth(GESTOR))
    await amb.cliente.patch(f"{BASE}/{nao_visto['id']}", json={"assunto": "também"}, headers=amb.auth(GESTOR))
    novo = await _novo_ticket(amb)
    while cursor is not None:
        pagina, cursor = await _pagina(amb, BASE, limite=2, cursor=cursor)
        vistos += pagina
        if cursor is not None:
            # A write between every later page too.
            await amb.cliente.patch(
                f"{BASE}/{visto_2['id']}", json={"assunto": f"volta {len(vistos)}"}, headers=amb.auth(GESTOR)
            )

    ids = [t["id"] for t in vistos]
    # The whole walk is in (atualizadoEm, id) order: a cursor only ever moves forward.
    assert [_chave(t) for t in vistos] == sorted(_chave(t) for t in vistos)
    # Unchanged since the walk began: exactly once, as it was.
    assert ids.count(ultimo["id"]) == 1
    assert next(t for t in vistos if t["id"] == ultimo["id"]) == ultimo
    # Changed after it was handed out: again, later, with its new state.
    assert ids.count(visto_1["id"]) == 2
    assert vistos[ids.index(visto_1["id"], 1)]["assunto"] == "mudou"
    # Changed before it was reached: once, with its new state (never its old one).
    assert ids.count(nao_visto["id"]) == 1
    assert next(t for t in vistos if t["id"] == nao_visto["id"])["assunto"] == "também"
    # Made during the walk: there.
    assert novo["id"] in ids
    # The last state of every ticket is the last one seen.
    finais = {t["id"]: t for t in await _todas(amb, BASE)}
    ultimo_visto = {t["id"]: t for t in vistos}
    assert ultimo_visto == finais


async def test_atualizado_desde_inclui_o_instante_e_exclui_o_anterior(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    todos = sorted(await _todas(amb, BASE), key=_chave)
    alvo = todos[2]
    instante = datetime.fromisoformat(alvo["atualizadoEm"])
    desde = [t["id"] for t in await _todas(amb, BASE, atualizadoDesde=alvo["atualizadoEm"])]
    assert desde == [t["id"] for t in todos[2:]]
    um_ms_depois = iso_utc(instante + timedelta(milliseconds=1))
    assert alvo["id"] not in [t["id"] for t in await _todas(amb, BASE, atualizadoDesde=um_ms_depois)]
    # The same instant written with an offset means the same thing.
    com_offset = instante.astimezone(timezone(timedelta(hours=-3))).isoformat()
    desde_offset = await _todas(amb, BASE, atualizadoDesde=com_offset)
    assert [t["id"] for t in desde_offset] == desde
    # A change moves a ticket into the window; combined with a filter and pages.
    marca = iso_utc(datetime.now(UTC))
    await asyncio.sleep(0.01)
    t1 = amb.demo.tickets[0]
    await amb.cliente.post(f"{BASE}/{t1}/status", json={"status": "em_atendimento"}, headers=amb.auth(GESTOR))
    recentes = await _todas(amb, BASE, atualizadoDesde=marca, limite=1)
    assert [t["id"] for t in recentes] == [t1]
    assert await _todas(amb, BASE, atualizadoDesde=marca, status="aberto") == []


async def test_mensagens_em_paginas_com_escritas_no_meio(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    ticket = amb.demo.tickets[1]
    url = f"{BASE}/{ticket}/mensagens"
    todas = await _todas(amb, url)
    assert todas
    vistas: list[dict[str, Any]] = []
    pagina, cursor = await _pagina(amb, url, limite=1)
    vistas += pagina
    novas = []
    while cursor is not None:
        resposta = await amb.cliente.post(url, json={"conteudo": f"nova {len(novas)}"}, headers=amb.auth(ANA))
        novas.append(assert_ok(resposta, 201, MensagemSaida))
        if len(novas) > 6:
            break  # the walk catches up with the writer in the end; bound it anyway
        pagina, cursor = await _pagina(amb, url, limite=2, cursor=cursor)
        vistas += pagina
    ids = [m["id"] for m in vistas]
    assert len(ids) == len(set(ids))  # never twice
    # In stored order: what was there first, then the new ones in the order they were sent.
    assert ids[: len(todas)] == [m["id"] for m in todas]
    assert ids[len(todas) :] == [m["id"] for m in novas][: len(ids) - len(todas)]
    # Resuming from the last cursor handed out later gives exactly the rest.
    final = await _todas(amb, url)
    assert [m["id"] for m in final] == [m["id"] for m in todas + novas]


async def test_atendentes_em_paginas(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    url = "/atendimento/atendentes"
    inteira, cursor = await _pagina(amb, url)
    assert cursor is None and len(inteira) == 2
    um, cursor = await _pagina(amb, url, limite=1)
    assert cursor is not None
    dois, fim = await _pagina(amb, url, limite=1, cursor=cursor)
    assert fim is None
    assert um + dois == inteira


def _forjar(conteudo: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(conteudo).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "lixo!",
        "bm90IGpzb24",  # "not json"
        _forjar([1, 2]),
        _forjar({"v": 2, "k": "tickets", "p": ["2026-01-01T00:00:00.000Z", "x"], "f": {}}),
        _forjar({"v": 1, "k": "mensagens", "p": ["x"], "f": {}}),
        _forjar({"v": 1, "k": "tickets", "p": ["ontem", "x"], "f": {}}),
        _forjar({"v": 1, "k": "tickets", "p": ["2026-01-01T00:00:00.000Z"], "f": {}}),
        _forjar({"v": 1, "k": "tickets", "p": ["2026-01-01T00:00:00.000Z", 7], "f": {}}),
        _forjar({"v": 1, "k": "tickets", "p": ["2026-01-01T00:00:00.000Z", "x"], "f": {"status": "aberto"}}),
        "A" * 5000,
    ],
)
async def test_cursor_invalido_422(amb: Ambiente, cursor: str) -> None:
    corpo = assert_erro(
        await amb.cliente.get(BASE, params={"cursor": cursor}, headers=amb.auth(GESTOR)),
        422,
        "CURSOR_INVALIDO",
    )
    assert "Cursor inválido" in corpo["error"]


async def test_cursor_de_outra_lista_ou_ticket_ou_tenant(amb_ambos: Ambiente) -> None:
    amb = amb_ambos
    t1, t2 = amb.demo.tickets[:2]
    _, cursor_tickets = await _pagina(amb, BASE, limite=1)
    assert cursor_tickets is not None
    # A tickets cursor on the messages, and one with other filters: refused.
    url = f"{BASE}/{t2}/mensagens"
    assert_erro(
        await amb.cliente.get(url, params={"cursor": cursor_tickets}, headers=amb.auth(GESTOR)),
        422,
        "CURSOR_INVALIDO",
    )
    assert_erro(
        await amb.cliente.get(
            BASE, params={"cursor": cursor_tickets, "status": "aberto"}, headers=amb.auth(GESTOR)
        ),
        422,
        "CURSOR_INVALIDO",
    )
    # A messages cursor of another ticket.
    _, cursor_t2 = await _pagina(amb, url, limite=1)
    assert cursor_t2 is not None
    assert_erro(
        await amb.cliente.get(
            f"{BASE}/{t1}/mensagens", params={"cursor": cursor_t2}, headers=amb.auth(GESTOR)
        ),
        422,
        "CURSOR_INVALIDO",
    )
    # Another tenant's message id forged into a cursor: refused, and nothing of theirs comes back.
    outra = amb.demo.outra_ticket_id
    msgs_outra = await _todas(amb, f"{BASE}/{outra}/mensagens", CARLA)
    forjado = _forjar({"v": 1, "k": "mensagens", "p": [msgs_outra[0]["id"]], "f": {"ticketId": t2}})
    assert_erro(
        await amb.cliente.get(url, params={"cursor": forjado}, headers=amb.auth(GESTOR)),
        422,
        "CURSOR_INVALIDO",
    )
    # A tenant-B user replaying tenant A's tickets cursor only pages through tenant B.
    pagina, _ = await _pagina(
        amb,
        BASE,
        CARLA,
        cursor=_forjar({"v": 1, "k": "tickets", "p": ["2000-01-01T00:00:00.000Z", "0"], "f": {}}),
    )
    assert {t["empresaId"] for t in pagina} == {amb.demo.outra_empresa_id}
    assert {t["empresaId"] for t in (await _pagina(amb, BASE, CARLA, cursor=cursor_tickets))[0]} <= {
        amb.demo.outra_empresa_id
    }


@pytest.mark.parametrize(
    ("params", "trecho"),
    [
        ({"limite": "0"}, "limite"),
        ({"limite": "201"}, "limite"),
        ({"limite": "muitos"}, "limite"),
        ({"atualizadoDesde": "ontem"}, "atualizadoDesde"),
        ({"atualizadoDesde": "2026-13-40T00:00:00Z"}, "atualizadoDesde"),
        ({"atualizadoDesde": "2" * 100}, "atualizadoDesde"),
    ],
)
async def test_limite_e_atualizado_desde_invalidos_422(
    amb: Ambiente, params: dict[str, str], trecho: str
) -> None:
    corpo = assert_erro(
        await amb.cliente.get(BASE, params=params, headers=amb.auth(GESTOR)), 422, "PAYLOAD_INVALIDO"
    )
    assert trecho in corpo["error"]
    url = f"{BASE}/{amb.demo.tickets[1]}/mensagens"
    if "limite" in params:
        assert_erro(
            await amb.cliente.get(url, params=params, headers=amb.auth(GESTOR)), 422, "PAYLOAD_INVALIDO"
        )
