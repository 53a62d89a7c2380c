"""The short path into the REST routes: their own endpoints, without FastAPI's per-request work.

Why (issue 13): on ``POST /atendimento/tickets/{id}/mensagens`` a third of the application's own CPU
(py-spy, one write at a time) went between the middleware and the endpoint: Starlette's exception
middleware and router, FastAPI's ``AsyncExitStack``, ``solve_dependencies`` walking five
dependencies and validating the body through a generic field. This ASGI step takes a route by
itself when ``rotas.TabelaRotas`` compiled a plan for it from FastAPI's own route table: it runs the
route's dependencies (the same callables, in FastAPI's order, each once), validates the path, query
and header parameters with the endpoint's own annotations and the body with the route's own model
(``model_validate_json``: pydantic parses and validates in one pass), and calls **the route's own
endpoint function**, whose ``Response`` it sends. /docs and /openapi.json are FastAPI's as before.

The rule that keeps the answers identical: a refusal raised by a dependency or the endpoint is
answered through the one error mapping FastAPI's handlers use (``error_responses.resposta_de_erro``);
a request this step cannot take exactly as FastAPI would (a parameter or body FastAPI would refuse
with a validation error, an unknown or repeated query parameter, another content type) is handed to
FastAPI unchanged, body included, and answered there with its usual error. The dependencies that
only read the request (``conhecidas``: pure) run before the body is read, so a bad token or a wrong
role is answered without it; one with an effect (a rate limit) runs only once the request is known
to go to the endpoint, so a request handed to FastAPI never counts twice. Anything unexpected goes
up to ``ErrosInternos`` as before.

Sits inside every other middleware (CORS, admission with the body already read, the 500 net), so
those still apply.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from pydantic import ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from atendimento.api.error_responses import resposta_de_erro
from atendimento.api.middleware import repetir
from atendimento.api.rotas import REQUEST, Passo, Plano, TabelaRotas

# HEAD is answered by FastAPI (Starlette strips the body); the short path sends whole responses.
_METODO_DE_CABECA = "HEAD"


class Atalhos:
    def __init__(self, app: ASGIApp, tabela: TabelaRotas) -> None:
        self.app = app
        self.tabela = tabela
        _ = tabela.rotas  # compiled (and logged) now, when the middleware stack is built

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != _METODO_DE_CABECA:
            achada = self.tabela.encontrar(scope)
            if achada is not None and achada.rota.plano is not None:
                await self._atender(achada.rota.plano, achada.parametros, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _atender(
        self, plano: Plano, caminho: dict[str, Any], scope: Scope, receive: Receive, send: Send
    ) -> None:
        request = Request(scope)
        valores: list[Any] = [None] * len(plano.passos)
        resposta: Response | None = None
        try:
            await _executar(plano.passos, valores, request, pura=True)
            argumentos = _parametros(plano, caminho, scope)
            corpo = None
            if argumentos is not None and plano.corpo is not None:
                corpo = await _ler_corpo(receive)
                argumentos = _com_corpo(plano, scope, corpo, argumentos)
            if argumentos is None:
                await self.app(scope, receive if corpo is None else repetir(corpo, receive), send)
                return
            await _executar(plano.passos, valores, request, pura=False)
            for nome, indice in plano.do_endpoint:
                argumentos[nome] = valores[indice]
            if plano.request is not None:
                argumentos[plano.request] = Request(scope, repetir(corpo or b"", receive))
            resposta = await plano.endpoint(**argumentos)
        except ClientDisconnect:
            return
        except Exception as exc:
            resposta = resposta_de_erro(exc)
            if resposta is None:
                raise
        await resposta(scope, receive, send)


async def _executar(passos: tuple[Passo, ...], valores: list[Any], request: Request, pura: bool) -> None:
    for i, passo in enumerate(passos):
        if passo.pura is pura:
            valores[i] = await passo.chamar(
                **{nome: request if j == REQUEST else valores[j] for nome, j in passo.argumentos}
            )


def _parametros(plano: Plano, caminho: dict[str, Any], scope: Scope) -> dict[str, Any] | None:
    """The endpoint's path, query and header arguments, or None when FastAPI must decide."""
    argumentos: dict[str, Any] = {}
    try:
        for parametro in plano.caminho:
            argumentos[parametro.nome] = parametro.validador.validate_python(caminho[parametro.chave])
        bruta = scope.get("query_string", b"")
        if bruta:
            for alias, valor in parse_qsl(bruta.decode("latin-1"), keep_blank_values=True):
                da_consulta = plano.consulta.get(alias)
                # Unknown, repeated or blank: rare, and FastAPI's reading of them is its own.
                if da_consulta is None or da_consulta.nome in argumentos or not valor:
                    return None
                argumentos[da_consulta.nome] = da_consulta.validador.validate_python(valor)
        for parametro in plano.consulta.values():
            if parametro.nome not in argumentos:
                if parametro.obrigatorio:
                    return None
                argumentos[parametro.nome] = parametro.padrao
        if plano.cabecalhos:
            cabecalhos = _cabecalhos(scope)
            for parametro in plano.cabecalhos:
                valor = cabecalhos.get(parametro.chave)
                if valor is None:
                    if parametro.obrigatorio:
                        return None
                    argumentos[parametro.nome] = parametro.padrao
                else:
                    argumentos[parametro.nome] = parametro.validador.validate_python(valor)
    except ValidationError:
        return None
    return argumentos


def _com_corpo(plano: Plano, scope: Scope, corpo: bytes, argumentos: dict[str, Any]) -> dict[str, Any] | None:
    assert plano.corpo is not None
    nome, modelo = plano.corpo
    tipo = _cabecalhos(scope).get("content-type")
    # Only the plain media type: FastAPI also parses ``application/*+json``, rare enough to leave to it.
    if tipo is None or tipo.split(";", 1)[0].strip().lower() != "application/json":
        return None
    try:
        argumentos[nome] = modelo.model_validate_json(corpo)
    except ValidationError:
        return None
    return argumentos


def _cabecalhos(scope: Scope) -> dict[str, str]:
    """The first value of each header, as Starlette's ``Headers.get`` reads them."""
    cabecalhos: dict[str, str] = {}
    for nome, valor in scope["headers"]:
        cabecalhos.setdefault(nome.decode("latin-1"), valor.decode("latin-1"))
    return cabecalhos


async def _ler_corpo(receive: Receive) -> bytes:
    partes = []
    while True:
        mensagem = await receive()
        if mensagem["type"] == "http.disconnect":
            raise ClientDisconnect
        partes.append(mensagem.get("body", b""))
        if not mensagem.get("more_body", False):
            return b"".join(partes)
