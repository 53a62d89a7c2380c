"""A short way into the hottest REST routes: their own endpoints, without FastAPI's per-request work.

Why (issue 13): on ``POST /atendimento/tickets/{id}/mensagens`` a third of the application's own CPU
(py-spy, one write at a time) went between the middleware and the endpoint: Starlette's exception
middleware and router, FastAPI's ``AsyncExitStack``, a ``Request``, ``solve_dependencies`` walking
five dependencies (context, HTTPBearer, identity, role, header) and validating the body through a
generic field. For the few routes in ``ATALHOS`` (the two creating POSTs and the two lists) every
parameter is known in advance, so this pure ASGI step resolves them directly: match the path, read
the body, validate it with the route's own model (``model_validate_json``: pydantic parses and
validates in one pass), validate the query with the endpoint's own ``Query`` annotations, verify the
bearer token (``ServicoTokens``' cache), check the role, and call **the route's own endpoint
function**, whose ``JSONResponse`` it sends. The routes stay declared in FastAPI, so /docs and
/openapi.json describe them as before.

The rule that keeps the answers identical: this step answers only a request it can take to the
endpoint exactly as FastAPI would (JSON body valid for the model, each known query parameter once
and valid, a verified token of an internal role, a path parameter within its bounds). Anything else
(no or a bad token, a body or query FastAPI would refuse, an unknown or repeated query parameter,
another content type, a trailing slash) is handed to FastAPI unchanged, body included, and answered
there with its usual error. Once the endpoint runs, the domain's and the API's refusals are answered
by the same mapping as FastAPI's handlers (``error_responses.resposta_de_erro``); anything unexpected goes up
to ``ErrosInternos`` as before.

Sits inside every other middleware (CORS, the in-flight bound, the body bound, the 500 net), so
those still apply; the body bound's 413 is answered here as FastAPI's handler would.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, get_type_hints
from urllib.parse import parse_qsl

from fastapi import params
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atendimento.api import mensagens, tickets
from atendimento.api.dependencias import ContextoApi, confirmar_usuario
from atendimento.api.error_responses import resposta_de_erro
from atendimento.api.middleware import CorpoGrandeDemais
from atendimento.api.schemas import MensagemEntrada, TicketCriar
from atendimento.domain import regras
from atendimento.identity.tokens import TokenErro

# What FastAPI would pass as ``request.state.empresa_id`` (identidade_atual sets it): the per-tenant
# REST write count of monitoring reads it from the scope's state.
_CHAVE_EMPRESA = "empresa_id"


@dataclass(frozen=True, slots=True)
class Atalho:
    """One route: method, path (named groups are the path parameters, as Starlette's ``[^/]+``),
    the FastAPI endpoint, and its body model (None: no body). The endpoint is called with
    ``identidade``, ``ctx``, the path parameters, ``entrada`` and ``chave`` (Idempotency-Key) when
    there is a body, and the query parameters present (``consulta``: alias → name and validator,
    read from the endpoint's own ``Query`` annotations), and the result of each dependency the
    endpoint declares that is marked ``guarda_atalho`` (``guardas``: the rate limits), run with
    ``identidade`` and ``ctx`` before it, as FastAPI runs them."""

    metodo: str
    caminho: re.Pattern[str]
    endpoint: Callable[..., Awaitable[Response]]
    corpo: type[BaseModel] | None = None
    consulta: Mapping[str, tuple[str, TypeAdapter[Any]]] = field(default_factory=dict)
    guardas: tuple[tuple[str, Callable[..., Awaitable[Any]]], ...] = ()

    @classmethod
    def de(
        cls,
        metodo: str,
        caminho: str,
        endpoint: Callable[..., Awaitable[Response]],
        corpo: type[BaseModel] | None = None,
    ) -> Atalho:
        consulta = {}
        guardas = []
        for nome, tipo in get_type_hints(endpoint, include_extras=True).items():
            for extra in getattr(tipo, "__metadata__", ()):
                if isinstance(extra, params.Query):
                    consulta[extra.alias or nome] = (nome, TypeAdapter(tipo))
                elif isinstance(extra, params.Depends) and getattr(extra.dependency, "guarda_atalho", False):
                    assert extra.dependency is not None
                    guardas.append((nome, extra.dependency))
        return cls(metodo, re.compile(caminho), endpoint, corpo, consulta, tuple(guardas))


_TICKET = r"/atendimento/tickets/(?P<ticket_id>[^/]+)"
ATALHOS = (
    Atalho.de("POST", f"{_TICKET}/mensagens", mensagens.enviar, MensagemEntrada),
    Atalho.de("GET", f"{_TICKET}/mensagens", mensagens.listar),
    Atalho.de("POST", "/atendimento/tickets", tickets.criar, TicketCriar),
    Atalho.de("GET", "/atendimento/tickets", tickets.listar),
)


class Atalhos:
    """The ASGI step; ``contexto`` is the API's ``ContextoApi`` (the one the dependencies read)."""

    def __init__(
        self, app: ASGIApp, contexto: ContextoApi, atalhos: tuple[Atalho, ...] | None = None
    ) -> None:
        self.app = app
        self.contexto = contexto
        self.atalhos = ATALHOS if atalhos is None else atalhos

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        metodo, caminho = scope["method"], scope["path"]
        for atalho in self.atalhos:
            if atalho.metodo == metodo and (encontrado := atalho.caminho.fullmatch(caminho)):
                await self._atender(atalho, encontrado.groupdict(), scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _atender(
        self, atalho: Atalho, parametros: dict[str, str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        corpo = None
        if atalho.corpo is not None:  # a GET's body (if any) is left unread, as FastAPI leaves it
            try:
                corpo = await _ler_corpo(receive)
            except CorpoGrandeDemais as exc:
                recusa = resposta_de_erro(exc)
                assert recusa is not None
                await recusa(scope, receive, send)
                return
            except ClientDisconnect:
                return
        argumentos = self._resolver(atalho, parametros, scope, corpo)
        if argumentos is None:
            await self.app(scope, receive if corpo is None else _repetir(corpo, receive), send)
            return
        resposta: Response
        try:
            # What FastAPI's dependencies do before the endpoint: the database's word on the
            # caller, then the declared guards (rate limits).
            await confirmar_usuario(self.contexto, argumentos["identidade"])
            for nome, guarda in atalho.guardas:
                argumentos[nome] = await guarda(identidade=argumentos["identidade"], ctx=self.contexto)
            resposta = await atalho.endpoint(**argumentos)
        except Exception as exc:
            conhecida = resposta_de_erro(exc)
            if conhecida is None:
                raise
            resposta = conhecida
        await resposta(scope, receive, send)

    def _resolver(
        self, atalho: Atalho, parametros: dict[str, str], scope: Scope, corpo: bytes | None
    ) -> dict[str, Any] | None:
        """The endpoint's arguments, or None when FastAPI must decide (an error answer follows)."""
        if any(not 1 <= len(valor) <= regras.MAX_ID for valor in parametros.values()):
            return None
        argumentos: dict[str, Any] = dict(parametros)
        consulta = scope.get("query_string", b"")
        if consulta and not _consulta(atalho, consulta, argumentos):
            return None
        autorizacao = tipo = chave = None
        for nome, valor in scope["headers"]:
            if nome == b"authorization" and autorizacao is None:
                autorizacao = valor
            elif nome == b"content-type" and tipo is None:
                tipo = valor
            elif nome == b"idempotency-key" and chave is None:
                chave = valor
        if autorizacao is None:
            return None
        esquema, _, token = autorizacao.decode("latin-1").partition(" ")
        token = token.strip()
        if esquema.lower() != "bearer" or not token:
            return None
        try:
            identidade = self.contexto.tokens.verificar(token)
            if atalho.corpo is not None:
                if tipo is None or not _e_json(tipo):
                    return None
                argumentos["entrada"] = atalho.corpo.model_validate_json(corpo or b"")
                argumentos["chave"] = None if chave is None else chave.decode("latin-1")
        except (TokenErro, ValidationError):
            return None
        if not identidade.interno:
            return None
        scope.setdefault("state", {})[_CHAVE_EMPRESA] = identidade.empresa_id
        argumentos["identidade"] = identidade
        argumentos["ctx"] = self.contexto
        return argumentos


def _consulta(atalho: Atalho, bruta: bytes, argumentos: dict[str, Any]) -> bool:
    """Puts the query's parameters in ``argumentos``; False (FastAPI decides) for anything but each
    known parameter at most once with a valid, non-empty value."""
    vistos = set()
    for alias, valor in parse_qsl(bruta.decode("latin-1"), keep_blank_values=True):
        conhecido = atalho.consulta.get(alias)
        if conhecido is None or alias in vistos or not valor:
            return False
        vistos.add(alias)
        nome, validador = conhecido
        try:
            argumentos[nome] = validador.validate_python(valor)
        except ValidationError:
            return False
    return True


def _e_json(tipo: bytes) -> bool:
    # Only the plain media type: FastAPI also parses ``application/*+json``, which is rare enough to
    # leave to it.
    principal = tipo.split(b";", 1)[0].strip().lower()
    return principal == b"application/json"


async def _ler_corpo(receive: Receive) -> bytes:
    partes = []
    while True:
        mensagem = await receive()
        if mensagem["type"] == "http.disconnect":
            raise ClientDisconnect
        partes.append(mensagem.get("body", b""))
        if not mensagem.get("more_body", False):
            return b"".join(partes)


def _repetir(corpo: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands FastAPI the body already read, then the client's own messages."""
    entregue = False

    async def receive_repetido() -> Message:
        nonlocal entregue
        if not entregue:
            entregue = True
            return {"type": "http.request", "body": corpo, "more_body": False}
        return await receive()

    return receive_repetido
