"""FastAPI's route table, read once at start-up: which route a request goes to, and the plan of each
route the short path (``atalhos.py``) may take by itself.

Nothing here restates a route: paths, methods, path converters, parameters, their constraints and
the body model all come from the ``APIRoute`` objects FastAPI built from the routers, and the
dependencies from each route's ``dependant`` tree. A route gets a plan only when everything in it is
something the short path does exactly as FastAPI would (``Plano``); anything else (a dependency not
registered in ``conhecidas.py``, a sync endpoint, a list-valued query, cookies, a form, an endpoint
that returns something other than a ``Response``...) leaves the route to FastAPI, with the reason
in the start-up log.
"""

from __future__ import annotations

import inspect
import logging
import re
import types
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, Union, get_args, get_origin, get_type_hints

from fastapi import FastAPI, params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel, TypeAdapter
from starlette.convertors import Convertor
from starlette.responses import Response
from starlette.types import Scope

from atendimento.api.conhecidas import consultar

log = logging.getLogger(__name__)

# In ``Passo.argumentos``: this argument is the request itself (``Request``), not a dependency's value.
REQUEST: Final = -1
# Where the route found for a request is kept in its scope, so that it is looked up once.
CHAVE_ESCOPO: Final = "atendimento.rota"


@dataclass(frozen=True, slots=True)
class Passo:
    """One dependency call: ``argumentos`` maps each parameter to the index of the value of an earlier
    step (or ``REQUEST``)."""

    chamar: Callable[..., Awaitable[Any]]
    argumentos: tuple[tuple[str, int], ...]
    pura: bool


@dataclass(frozen=True, slots=True)
class Parametro:
    nome: str
    chave: str  # the path parameter's name, the query's alias, or the header's lower-case name
    validador: TypeAdapter[Any]
    obrigatorio: bool
    padrao: Any = None


@dataclass(frozen=True, slots=True)
class Plano:
    """How the short path calls a route's endpoint: the dependencies in FastAPI's order (each once),
    which of their values the endpoint takes, its path, query and header parameters, its body."""

    endpoint: Callable[..., Awaitable[Response]]
    passos: tuple[Passo, ...]
    do_endpoint: tuple[tuple[str, int], ...]
    request: str | None
    caminho: tuple[Parametro, ...]
    consulta: dict[str, Parametro]
    cabecalhos: tuple[Parametro, ...]
    corpo: tuple[str, type[BaseModel]] | None


@dataclass(frozen=True, slots=True)
class Rota:
    nome: str
    regex: re.Pattern[str]
    metodos: frozenset[str] | None  # None: any (a mounted app)
    convertores: dict[str, Convertor[Any]] = field(default_factory=dict)
    autentica: bool = False  # a dependency of its tree establishes the caller (conhecidas.py)
    plano: Plano | None = None


@dataclass(frozen=True, slots=True)
class Achada:
    rota: Rota
    parametros: dict[str, Any]


class _Desconhecido(Exception):
    """Something in a route the short path does not do as FastAPI would; the message says what."""


class TabelaRotas:
    """The API's routes in FastAPI's order; compiled on first use (when the middleware stack is
    built, i.e. at start-up, after every router was included)."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._rotas: tuple[Rota, ...] | None = None

    @property
    def rotas(self) -> tuple[Rota, ...]:
        if self._rotas is None:
            # FastAPI's own view of its table: included routers flattened, prefixes applied.
            contextos = iter_route_contexts(self._app.router.routes)
            self._rotas = tuple(
                _compilada(c) for c in contextos if getattr(c, "path_regex", None) is not None
            )
            atalhos = [r.nome for r in self._rotas if r.plano is not None]
            log.info("REST short path for %d routes: %s", len(atalhos), ", ".join(atalhos) or "none")
        return self._rotas

    def metodos(self, caminho: str) -> frozenset[str]:
        """Every method some route serves at ``caminho``: the ``Allow`` of a 405. Starlette's own
        names only the first route whose path matches, while FastAPI keeps one route per method."""
        return frozenset(
            metodo
            for rota in self.rotas
            if rota.metodos is not None and rota.regex.match(caminho)
            for metodo in rota.metodos
        )

    def encontrar(self, scope: Scope) -> Achada | None:
        """The route Starlette's router would pick for this request (the first full match), or None
        when no route matches path and method (FastAPI then answers 404, 405 or a redirect)."""
        if CHAVE_ESCOPO in scope:
            achada: Achada | None = scope[CHAVE_ESCOPO]
            return achada
        achada = None
        if not scope.get("root_path"):  # mounted under a prefix: Starlette's own matching decides
            caminho, metodo = scope["path"], scope["method"]
            for rota in self.rotas:
                encontrado = rota.regex.match(caminho)
                if encontrado is None or (rota.metodos is not None and metodo not in rota.metodos):
                    continue
                valores = encontrado.groupdict()
                for nome, convertor in rota.convertores.items():
                    valores[nome] = convertor.convert(valores[nome])
                achada = Achada(rota, valores)
                break
        scope[CHAVE_ESCOPO] = achada
        return achada


# Plans by route object: the contract's routes are built once per process and shared by every app
# (api/wiring.py), so their plans are too. Weak, so a route that goes (a test's app) takes its plan.
_COMPILADAS: dict[int, tuple[weakref.ref[Any], str | None, Rota]] = {}


def _compilada(contexto: RouteContext) -> Rota:
    original = contexto.original_route
    chave = id(original)
    guardada = _COMPILADAS.get(chave)
    if guardada is not None and guardada[0]() is original and guardada[1] == contexto.path:
        return guardada[2]
    rota = _compilar(contexto)
    try:
        referencia = weakref.ref(original, lambda _r: _COMPILADAS.pop(chave, None))
    except TypeError:  # an object that takes no weak reference: compiled each time
        return rota
    _COMPILADAS[chave] = (referencia, contexto.path, rota)
    return rota


def _compilar(rota: RouteContext) -> Rota:
    metodos = None if rota.methods is None else frozenset(rota.methods)
    nome = f"{'/'.join(sorted(metodos or ('*',)))} {rota.path}"
    if not isinstance(rota.original_route, APIRoute):
        return Rota(nome, rota.path_regex, metodos, dict(getattr(rota, "param_convertors", {})))
    plano = None
    try:
        plano = _plano(rota)
    except _Desconhecido as exc:
        log.debug("REST short path: %s left to FastAPI (%s)", nome, exc)
    return Rota(
        nome, rota.path_regex, metodos, dict(rota.param_convertors), _autentica(rota.dependant), plano
    )


def _autentica(dependant: Dependant) -> bool:
    conhecida = consultar(dependant.call)
    if conhecida is not None and conhecida.autentica:
        return True
    return any(_autentica(sub) for sub in dependant.dependencies)


def _plano(rota: RouteContext) -> Plano:
    endpoint, raiz = rota.endpoint, rota.dependant
    if not inspect.iscoroutinefunction(endpoint):
        raise _Desconhecido("endpoint is not async")
    try:
        retorno = get_type_hints(endpoint).get("return")
    except NameError as exc:  # FastAPI resolved what it needs its own way; we do not guess
        raise _Desconhecido(f"unresolvable annotation ({exc})") from None
    if not (inspect.isclass(retorno) and issubclass(retorno, Response)):
        raise _Desconhecido("endpoint does not return a Response")
    _sem_extras(raiz, "endpoint")
    passos: list[Passo] = []
    vistos: dict[int, int] = {}

    def visitar(dep: Dependant) -> int:
        nome = getattr(dep.call, "__name__", type(dep.call).__name__)
        conhecida = consultar(dep.call)
        if conhecida is None:
            raise _Desconhecido(f"unknown dependency {nome}")
        _sem_extras(dep, nome)
        if dep.path_params or dep.query_params or dep.header_params or dep.body_params:
            raise _Desconhecido(f"dependency {nome} reads parameters")
        if dep.use_cache and id(dep.call) in vistos:
            return vistos[id(dep.call)]
        argumentos = [(sub.name, visitar(sub)) for sub in dep.dependencies if sub.name]
        for nome_request in (dep.request_param_name, dep.http_connection_param_name):
            if nome_request:
                argumentos.append((nome_request, REQUEST))
        # A pure dependency that needs an impure one's value must wait for it.
        pura = conhecida.pura and all(j == REQUEST or passos[j].pura for _, j in argumentos)
        assert dep.call is not None
        passos.append(Passo(dep.call, tuple((n, j) for n, j in argumentos if n), pura))
        indice = len(passos) - 1
        if dep.use_cache:
            vistos[id(dep.call)] = indice
        return indice

    do_endpoint = tuple((sub.name, visitar(sub)) for sub in raiz.dependencies if sub.name)
    for sub in raiz.dependencies:
        if not sub.name:
            visitar(sub)  # a route-level dependency: run for its effect only
    return Plano(
        endpoint=endpoint,
        passos=tuple(passos),
        do_endpoint=tuple((n, j) for n, j in do_endpoint if n),
        request=raiz.request_param_name or raiz.http_connection_param_name,
        caminho=tuple(_parametro(f, f.name) for f in raiz.path_params),
        consulta={p.chave: p for p in (_parametro(f, f.alias, escalar=True) for f in raiz.query_params)},
        cabecalhos=tuple(_parametro(f, _nome_cabecalho(f), escalar=True) for f in raiz.header_params),
        corpo=_corpo(raiz),
    )


def _sem_extras(dep: Dependant, nome: str) -> None:
    extras = (
        dep.cookie_params,
        dep.websocket_param_name,
        dep.response_param_name,
        dep.background_tasks_param_name,
        dep.security_scopes_param_name,
    )
    if any(extras):
        raise _Desconhecido(f"{nome} takes cookies, a response, background tasks or scopes")


def _parametro(campo: Any, chave: str, escalar: bool = False) -> Parametro:
    info = campo.field_info
    tipo = info.annotation
    if escalar and _e_sequencia(tipo):
        raise _Desconhecido(f"{chave} is a list")
    validador: TypeAdapter[Any] = TypeAdapter(Annotated[tipo, *info.metadata] if info.metadata else tipo)
    obrigatorio = info.is_required()
    padrao = None if obrigatorio else info.get_default(call_default_factory=True)
    return Parametro(campo.name, chave, validador, obrigatorio, padrao)


def _e_sequencia(tipo: Any) -> bool:
    origem = get_origin(tipo)
    if origem is Union or origem is types.UnionType:
        return any(_e_sequencia(t) for t in get_args(tipo))
    return inspect.isclass(origem) and issubclass(origem, Sequence | set | frozenset) and origem is not str


def _nome_cabecalho(campo: Any) -> str:
    info = campo.field_info
    nome = str(info.alias or campo.name)
    if info.alias is None and getattr(info, "convert_underscores", True):
        nome = nome.replace("_", "-")
    return nome.lower()


def _corpo(raiz: Dependant) -> tuple[str, type[BaseModel]] | None:
    if not raiz.body_params:
        return None
    if len(raiz.body_params) > 1:
        raise _Desconhecido("more than one body parameter")
    campo = raiz.body_params[0]
    info, modelo = campo.field_info, campo.field_info.annotation
    if not isinstance(info, params.Body) or isinstance(info, params.Form) or getattr(info, "embed", False):
        raise _Desconhecido("a form or an embedded body")
    if not (inspect.isclass(modelo) and issubclass(modelo, BaseModel)) or not info.is_required():
        raise _Desconhecido("the body is not one required model")
    return campo.name, modelo
