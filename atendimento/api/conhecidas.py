"""The FastAPI dependencies the short path (``atalhos.py``) knows, and so may run itself.

A dependency is known when it is registered here: an ``async def`` (or an object with an async
``__call__``) that takes only other dependencies and the ``Request`` (never the body, nor a query,
path or header parameter of its own), and needs no clean-up (no ``yield``). The short path calls the
very same callable with the same arguments as FastAPI's ``solve_dependencies``, so a known dependency
is run the same way on both paths. A route with any dependency not registered here is left to
FastAPI: a new dependency is safe by default and costs speed only until someone registers it.

``pura``: the dependency has no effect outside the request (reading the token, checking a role), so
the short path may run it before reading the body; one that counts or writes something (a rate
limit) runs after the body was read and validated, as FastAPI's order would have it for the
requests that get that far. ``autentica``: the dependency establishes who calls (the bearer token's
identity); a route that has it in its tree gets the token checked before its body is read, on
either path (``sobrecarga.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Conhecida:
    pura: bool = True
    autentica: bool = False


_REGISTRO: dict[int, tuple[object, Conhecida]] = {}


def registrar(dependencia: T, *, pura: bool = True, autentica: bool = False) -> T:
    """Registers ``dependencia`` (a function, or an instance such as ``HTTPBearer(...)``); returns it,
    so it serves as a decorator too."""
    _REGISTRO[id(dependencia)] = (dependencia, Conhecida(pura=pura, autentica=autentica))
    return dependencia


def conhecida(*, pura: bool = True, autentica: bool = False) -> Callable[[T], T]:
    def decorar(dependencia: T) -> T:
        return registrar(dependencia, pura=pura, autentica=autentica)

    return decorar


def consultar(dependencia: Callable[..., Any] | None) -> Conhecida | None:
    # By identity (the object itself is kept, so its id is never reused while registered).
    achada = _REGISTRO.get(id(dependencia))
    return achada[1] if achada is not None and achada[0] is dependencia else None
