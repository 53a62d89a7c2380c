"""``api/atalhos``: the short way, built from FastAPI's route table, answers exactly as FastAPI would.

Each request is sent to two apps over the same database: the normal one (short way on) and one whose
route table yields no plan (everything through FastAPI); status, body and the headers that matter
must be equal. A spy behind the short way shows which requests it answers itself and that a request
it hands on arrives with its body intact. A route with a dependency the short way does not know is
left to FastAPI.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from atendimento.api import rotas
from atendimento.api.atalhos import Atalhos
from atendimento.api.dependencias import Interno
from atendimento.api.rotas import TabelaRotas
from atendimento.api.saidas import MensagemSaida, TicketDetalheSaida
from atendimento.domain import regras

from .apoio import Ambiente, assert_ok
from .conftest import FabricaAmbiente

ANA = "ana@demo.local"
BASE = "/atendimento/tickets"


@pytest.fixture
async def par(amb_fabrica: FabricaAmbiente, monkeypatch: pytest.MonkeyPatch) -> tuple[Ambiente, Ambiente]:
    com = await amb_fabrica()
    await com.cliente.get("/health")  # builds com's middleware stack with the routes
    monkeypatch.setattr(rotas, "_plano", _sem_plano)
    monkeypatch.setattr(rotas, "_COMPILADAS", {})  # com's plans are kept by route: sem compiles anew
    sem = await amb_fabrica()
    await sem.cliente.get("/health")
    assert _rotas_do_atalho(com) > 0 and _rotas_do_atalho(sem) == 0
    return com, sem


def _sem_plano(rota: Any) -> rotas.Plano:
    raise rotas._Desconhecido("short path off for this test")


def _atalhos(amb: Ambiente) -> Atalhos:
    camada: Any = amb.app.middleware_stack
    while camada is not None and not isinstance(camada, Atalhos):
        camada = getattr(camada, "app", None)
    assert camada is not None, "Atalhos is not in the stack"
    return camada


def _rotas_do_atalho(amb: Ambiente) -> int:
    return sum(1 for rota in _atalhos(amb).tabela.rotas if rota.plano is not None)


def _mensagens(amb: Ambiente) -> str:
    return f"{BASE}/{amb.demo.tickets[1]}/mensagens"


def _casos(amb: Ambiente) -> list[tuple[str, str, dict[str, str], Any]]:
    """(method, url, headers, body: bytes or a JSON value) of requests the short way must not change."""
    ana = amb.auth(ANA)
    json_h = {**ana, "Content-Type": "application/json"}
    msg = _mensagens(amb)
    return [
        ("POST", msg, {"Content-Type": "application/json"}, {"conteudo": "sem token"}),
        ("POST", msg, {"Authorization": "Basic YWJj", "Content-Type": "application/json"}, {"conteudo": "x"}),
        ("POST", msg, {"Authorization": "Bearer nao-e-jwt"}, {"conteudo": "token ruim"}),
        ("POST", msg, {"Authorization": "Bearer "}, {"conteudo": "token vazio"}),
        ("POST", msg, amb.auth("integracao@demo.local"), {"conteudo": "papel errado"}),
        ("POST", msg, {**ana, "Content-Type": "text/plain"}, b'{"conteudo": "texto"}'),
        ("POST", msg, ana, b""),
        ("POST", msg, json_h, b'{"conteudo": '),
        ("POST", msg, json_h, b"[1, 2]"),
        ("POST", msg, ana, {"conteudo": ""}),
        ("POST", msg, ana, {"conteudo": "x", "tipo": "telegrama"}),
        ("POST", msg, ana, {"conteudo": "x", "remetente_id": "outro"}),
        ("POST", msg, ana, {"conteudo": "x" * (regras.MAX_CONTEUDO + 1)}),
        ("POST", msg, {**ana, "Idempotency-Key": "k" * 201}, {"conteudo": "chave longa"}),
        ("POST", f"{BASE}/nao-existe/mensagens", ana, {"conteudo": "ticket desconhecido"}),
        ("POST", f"{BASE}/{amb.demo.outra_ticket_id}/mensagens", ana, {"conteudo": "outro tenant"}),
        ("POST", f"{BASE}/{'x' * (regras.MAX_ID + 1)}/mensagens", ana, {"conteudo": "id longo"}),
        ("POST", f"{msg}/", ana, {"conteudo": "barra no fim"}),
        ("POST", BASE, ana, {"clienteId": "c"}),
        ("POST", BASE, ana, {"clienteId": "nao", "canalId": "nao", "filaId": "nao"}),
        ("POST", BASE, amb.auth("vendas@demo.local"), {"clienteId": "c", "canalId": "c", "filaId": "f"}),
    ]


async def _enviar(
    amb: Ambiente, metodo: str, url: str, cabecalhos: dict[str, str], corpo: Any
) -> httpx.Response:
    if isinstance(corpo, bytes):
        return await amb.cliente.request(metodo, url, headers=cabecalhos, content=corpo)
    return await amb.cliente.request(metodo, url, headers=cabecalhos, json=corpo)


def _resumo(resposta: httpx.Response) -> tuple[int, Any, str | None, str | None]:
    return (
        resposta.status_code,
        resposta.json() if resposta.content else None,  # a redirect (trailing slash) has no body
        resposta.headers.get("content-type"),
        resposta.headers.get("www-authenticate"),
    )


async def test_recusas_iguais_as_do_fastapi(par: tuple[Ambiente, Ambiente]) -> None:
    com, sem = par
    for metodo, url, cabecalhos, corpo in _casos(com):
        a = _resumo(await _enviar(com, metodo, url, cabecalhos, corpo))
        b = _resumo(await _enviar(sem, metodo, url, cabecalhos, corpo))
        assert a == b, (url, cabecalhos, corpo)
        assert a[0] >= 300, a


async def test_corpo_sem_tamanho_grande_demais_e_413_como_antes(par: tuple[Ambiente, Ambiente]) -> None:
    com, sem = par

    async def pedacos() -> AsyncIterator[bytes]:  # no Content-Length: the body bound counts as it reads
        yield b'{"conteudo": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}'

    respostas = []
    for amb in (com, sem):
        cab = {**amb.auth(ANA), "Content-Type": "application/json"}
        respostas.append(_resumo(await amb.cliente.post(_mensagens(amb), headers=cab, content=pedacos())))
    assert respostas[0] == respostas[1]
    assert respostas[0][0] == 413 and respostas[0][1]["code"] == "PAYLOAD_INVALIDO"


async def test_escritas_iguais_as_do_fastapi(par: tuple[Ambiente, Ambiente]) -> None:
    com, sem = par
    enviadas = []
    for amb in (com, sem):
        resposta = await amb.cliente.post(_mensagens(amb), headers=amb.auth(ANA), json={"conteudo": "oi"})
        enviadas.append(assert_ok(resposta, 201, MensagemSaida))
        assert resposta.headers["content-type"] == "application/json"
    a, b = enviadas
    assert a.keys() == b.keys()
    assert {k: a[k] for k in ("ticketId", "conteudo", "tipo", "remetenteId")} == {
        k: b[k] for k in ("ticketId", "conteudo", "tipo", "remetenteId")
    }
    assert a["id"] != b["id"]  # both were written
    corpo = {
        "clienteId": com.demo.clientes[next(iter(com.demo.clientes))],
        "canalId": com.demo.canais["whatsapp"],
        "filaId": com.demo.filas["Suporte"],
        "prioridade": "alta",
    }
    tickets = [
        assert_ok(await amb.cliente.post(BASE, headers=amb.auth(ANA), json=corpo), 201, TicketDetalheSaida)
        for amb in (com, sem)
    ]
    assert tickets[0].keys() == tickets[1].keys() and tickets[0]["prioridade"] == tickets[1]["prioridade"]


async def test_idempotencia_pelo_atalho(par: tuple[Ambiente, Ambiente]) -> None:
    com, sem = par
    cab = {**com.auth(ANA), "Idempotency-Key": "repetida-1"}
    primeira = await com.cliente.post(_mensagens(com), headers=cab, json={"conteudo": "uma vez"})
    repetida = await com.cliente.post(_mensagens(com), headers=cab, json={"conteudo": "uma vez"})
    assert primeira.status_code == repetida.status_code == 201
    assert primeira.json() == repetida.json()
    # The same key through FastAPI (same user, same database): the first answer again.
    pelo_fastapi = await sem.cliente.post(_mensagens(sem), headers=cab, json={"conteudo": "uma vez"})
    assert pelo_fastapi.json() == primeira.json()
    conflito = await com.cliente.post(_mensagens(com), headers=cab, json={"conteudo": "outro corpo"})
    conflito_fastapi = await sem.cliente.post(_mensagens(sem), headers=cab, json={"conteudo": "outro corpo"})
    assert _resumo(conflito) == _resumo(conflito_fastapi)
    assert conflito.status_code == 409


async def test_leituras_iguais_as_do_fastapi(par: tuple[Ambiente, Ambiente]) -> None:
    com, sem = par
    msg = _mensagens(com)
    primeira = await com.cliente.get(f"{BASE}?limite=2", headers=com.auth(ANA))
    cursor = primeira.json()["proximoCursor"]
    assert cursor
    consultas = [
        BASE,
        f"{BASE}?limite=2",
        f"{BASE}?limite=2&cursor={cursor}",
        f"{BASE}?cursor={cursor}&limite=3",  # another query than the cursor's: refused
        f"{BASE}?status=aberto",
        f"{BASE}?status=perdido",
        f"{BASE}?status=",
        f"{BASE}?limite=0",
        f"{BASE}?limite=abc",
        f"{BASE}?limite=2&limite=3",
        f"{BASE}?outro=1",
        f"{BASE}?filaId={com.demo.filas['Suporte']}&atualizadoDesde=2020-01-01T00:00:00.000Z",
        f"{BASE}?atualizadoDesde=ontem",
        f"{BASE}?cursor=lixo",
        msg,
        f"{msg}?limite=1",
        f"{BASE}/nao-existe/mensagens",
        f"{BASE}/{com.demo.outra_ticket_id}/mensagens",
    ]
    for url in consultas:
        for cabecalhos in (com.auth(ANA), com.auth("integracao@demo.local"), {}):
            a = _resumo(await com.cliente.get(url, headers=cabecalhos))
            b = _resumo(await sem.cliente.get(url, headers=cabecalhos))
            assert a == b, (url, cabecalhos)


class Espiao:
    """Stands where FastAPI is: records what reaches it and answers 299 with the body it read."""

    def __init__(self) -> None:
        self.corpos: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        corpo = b""
        while True:
            mensagem = await receive()
            corpo += mensagem.get("body", b"")
            if not mensagem.get("more_body"):
                break
        self.corpos.append(corpo)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": corpo})


async def test_o_atalho_responde_so_o_que_sabe(amb: Ambiente) -> None:
    espiao = Espiao()
    atalhos = Atalhos(espiao, TabelaRotas(amb.app))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = amb.app  # what Starlette sets, and the context dependency reads
        await atalhos(scope, receive, send)

    transporte = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transporte, base_url="http://api.teste") as cliente:
        ok = await cliente.post(_mensagens(amb), headers=amb.auth(ANA), json={"conteudo": "direto"})
        assert ok.status_code == 201 and espiao.corpos == []
        # A bad token is refused by the identity dependency, run before the body is read.
        recusada = await cliente.post(
            _mensagens(amb), headers={"Authorization": "Bearer x"}, content=b'{"conteudo": "de novo"}'
        )
        assert recusada.status_code == 401 and recusada.json()["code"] == "TOKEN_INVALIDO"
        assert espiao.corpos == []
        # A body FastAPI would refuse is FastAPI's to answer, with the body the short way already read.
        passou = await cliente.post(
            _mensagens(amb), headers={**amb.auth(ANA), "Content-Type": "application/json"}, content=b"[1]"
        )
        assert passou.status_code == 299 and passou.content == b"[1]"
        lista = await cliente.get(_mensagens(amb), headers=amb.auth(ANA))
        assert lista.status_code == 200 and lista.json()["success"] is True
        estranha = await cliente.get(f"{_mensagens(amb)}?ordem=desc", headers=amb.auth(ANA))
        assert estranha.status_code == 299
        um = await cliente.get(f"{BASE}/{amb.demo.tickets[1]}", headers=amb.auth(ANA))
        assert um.status_code == 200  # every route whose parts are known, not a fixed list
        cabeca = await cliente.head(f"{BASE}/{amb.demo.tickets[1]}", headers=amb.auth(ANA))
        assert cabeca.status_code == 299  # HEAD stays FastAPI's
    assert len(espiao.corpos) == 3


_CHAMADAS_DA_DESCONHECIDA: list[str] = []


async def _desconhecida() -> str:
    """A dependency nobody registered with ``conhecidas``."""
    _CHAMADAS_DA_DESCONHECIDA.append("chamada")
    return "valor"


async def _com_desconhecida(
    identidade: Interno, valor: Annotated[str, Depends(_desconhecida)]
) -> JSONResponse:
    return JSONResponse({"success": True, "data": {"valor": valor, "quem": identidade.usuario_id}})


async def test_rota_com_dependencia_desconhecida_fica_com_o_fastapi(
    amb_fabrica: FabricaAmbiente, caplog: pytest.LogCaptureFixture
) -> None:
    amb = await amb_fabrica()
    _CHAMADAS_DA_DESCONHECIDA.clear()
    endpoint = _com_desconhecida
    amb.app.add_api_route("/atendimento/teste-desconhecida", endpoint, methods=["GET"])
    with caplog.at_level(logging.INFO, logger="atendimento.api.rotas"):
        resposta = await amb.cliente.get("/atendimento/teste-desconhecida", headers=amb.auth(ANA))
    assert resposta.status_code == 200 and resposta.json()["data"]["valor"] == "valor"
    assert len(_CHAMADAS_DA_DESCONHECIDA) == 1  # run once, by FastAPI
    por_nome = {rota.nome: rota for rota in _atalhos(amb).tabela.rotas}
    assert por_nome["GET /atendimento/teste-desconhecida"].plano is None
    assert por_nome["GET /atendimento/teste-desconhecida"].autentica  # its token is still checked first
    assert por_nome["POST /atendimento/tickets/{ticket_id}/mensagens"].plano is not None
    # One line at start-up names the routes the short way takes.
    linhas = [r.getMessage() for r in caplog.records if "short path" in r.getMessage()]
    assert len(linhas) == 1 and "POST /atendimento/tickets/{ticket_id}/mensagens" in linhas[0]
    assert "teste-desconhecida" not in linhas[0]
    sem_token = await amb.cliente.get("/atendimento/teste-desconhecida")
    assert sem_token.status_code == 401 and len(_CHAMADAS_DA_DESCONHECIDA) == 1
