"""The gateway's ports: what the cluster implements and the gateway calls, with their value types.

Presence (``RegistroPresenca``: who is online) and ``ticket:visualizando`` (``RegistroVisualizando``:
who has a ticket open) are counted by a registry. The gateway's own in-process registries
(gateway/presenca.py, ``RegistroLocal`` here) serve one instance; cluster/presenca.py and
cluster/visualizando.py serve many, behind the same methods. This module is the only part of the
gateway the cluster may import (an import-linter contract in pyproject.toml), so it holds nothing
that knows of sockets, namespaces or publishing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

log = logging.getLogger(__name__)


# Presence.


@dataclass(frozen=True, slots=True)
class Atendente:
    empresa_id: str
    usuario_id: str
    nome: str


class OuvintePresenca(Protocol):
    def atendente_online(self, atendente: Atendente, momento: datetime) -> None: ...
    def atendente_offline(self, atendente: Atendente, momento: datetime) -> None: ...


class RegistroPresenca(Protocol):
    def ouvir(self, ouvinte: OuvintePresenca) -> None:
        """Who hears the online/offline edges; set once by ``build_gateway``."""
        ...

    async def conectou(self, atendente: Atendente, sid: str) -> None: ...
    async def desconectou(self, atendente: Atendente, sid: str) -> None: ...
    async def online(self, empresa_id: str) -> set[str]:
        """Ids of the tenant's atendentes that are online (a user within the grace period still is)."""
        ...

    async def fechar(self) -> None: ...


def validar_graca(grace_seconds: float) -> float:
    """The grace period, checked against the contract's bound; shared by every ``RegistroPresenca``."""
    if not 0 <= grace_seconds <= 5:
        raise ValueError("presence grace must be between 0 and 5 seconds (contract)")
    return grace_seconds


def avisar(ouvinte: OuvintePresenca | None, online: bool, atendente: Atendente, momento: datetime) -> None:
    """Tell ``ouvinte`` of an edge; a publishing failure is logged, never raised into presence."""
    if ouvinte is None:
        return
    try:
        if online:
            ouvinte.atendente_online(atendente, momento)
        else:
            ouvinte.atendente_offline(atendente, momento)
    except Exception:
        log.exception("presence: publishing atendente:%s failed", "online" if online else "offline")


# ``ticket:visualizando``.


# [(usuarioId, usuarioNome)], in a stable order (by name, then id) so equal sets print equally.
Usuarios = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Mudanca:
    """The answer of a registry: whether the set of users changed, and the set now."""

    mudou: bool
    usuarios: Usuarios


# Told the set of a ticket when it changed without a client event: (empresa_id, ticket_id, usuarios).
OuvinteVisualizando = Callable[[str, str, Usuarios], None]


class RegistroVisualizando(Protocol):
    """Keyed by ticket; ``empresa_id`` is the ticket's tenant (a cluster keeps a tenant's keys together)."""

    async def entrou(
        self, empresa_id: str, ticket_id: str, usuario_id: str, nome: str, sid: str
    ) -> Mudanca: ...
    async def saiu(self, empresa_id: str, ticket_id: str, sid: str) -> Mudanca | None:
        """None when ``sid`` was not counted in that ticket (a repeated or unknown leave)."""
        ...

    def tickets_de(self, sid: str) -> list[str]: ...
    def ouvir(self, ouvinte: OuvinteVisualizando) -> None:
        """``ouvinte`` publishes a set that changed on its own (the cluster's, rewritten after Redis
        lost it); one process's registry never does."""
        ...

    async def fechar(self) -> None: ...


def ordenar(usuarios: dict[str, str]) -> Usuarios:
    return sorted(usuarios.items(), key=lambda par: (par[1], par[0]))


@dataclass
class _Usuario:
    nome: str
    sids: set[str] = field(default_factory=set)


class RegistroLocal:
    """In-process: exact for a single instance."""

    def __init__(self) -> None:
        self._tickets: dict[str, dict[str, _Usuario]] = {}
        self._por_sid: dict[str, dict[str, str]] = {}  # sid → ticket_id → usuario_id

    async def entrou(self, empresa_id: str, ticket_id: str, usuario_id: str, nome: str, sid: str) -> Mudanca:
        usuarios = self._tickets.setdefault(ticket_id, {})
        usuario = usuarios.get(usuario_id)
        mudou = usuario is None
        if usuario is None:
            usuario = usuarios[usuario_id] = _Usuario(nome)
        usuario.sids.add(sid)
        self._por_sid.setdefault(sid, {})[ticket_id] = usuario_id
        return Mudanca(mudou, self._lista(ticket_id))

    async def saiu(self, empresa_id: str, ticket_id: str, sid: str) -> Mudanca | None:
        usuario_id = self._por_sid.get(sid, {}).pop(ticket_id, None)
        if usuario_id is None:
            return None
        if not self._por_sid[sid]:
            del self._por_sid[sid]
        usuarios = self._tickets.get(ticket_id, {})
        usuario = usuarios.get(usuario_id)
        if usuario is None:
            return None
        usuario.sids.discard(sid)
        mudou = not usuario.sids
        if mudou:
            del usuarios[usuario_id]
            if not usuarios:
                del self._tickets[ticket_id]
        return Mudanca(mudou, self._lista(ticket_id))

    def tickets_de(self, sid: str) -> list[str]:
        return list(self._por_sid.get(sid, ()))

    def usuario_de(self, sid: str, ticket_id: str) -> str | None:
        return self._por_sid.get(sid, {}).get(ticket_id)

    def todos(self) -> list[tuple[str, str, str]]:
        """Every (ticket_id, usuario_id, nome) counted here."""
        return [(t, u, d.nome) for t, usuarios in self._tickets.items() for u, d in usuarios.items()]

    def nome_de(self, ticket_id: str, usuario_id: str) -> str | None:
        """The user's name while a socket of theirs here has ``ticket_id`` open, else None."""
        usuario = self._tickets.get(ticket_id, {}).get(usuario_id)
        return None if usuario is None else usuario.nome

    def ouvir(self, ouvinte: OuvinteVisualizando) -> None:
        """Nothing to tell: this process's counts change only through ``entrou`` and ``saiu``."""

    async def fechar(self) -> None:
        self._tickets.clear()
        self._por_sid.clear()

    def _lista(self, ticket_id: str) -> Usuarios:
        return ordenar({u: d.nome for u, d in self._tickets.get(ticket_id, {}).items()})


# A user's record changed (``PublicadorEventos.usuario_alterado``).

OuvinteUsuarios = Callable[[str, str], None]  # (empresa_id, usuario_id)


class DifusaoUsuarios(Protocol):
    """Tells every instance (this one included) that a user's record changed, so each drops what
    it cached and re-checks its own sockets of that user. ``DifusaoLocal`` is one instance's;
    cluster/usuarios.py carries it across instances through Redis."""

    def anunciar(self, empresa_id: str, usuario_id: str) -> None: ...
    def ouvir(self, ouvinte: OuvinteUsuarios) -> None: ...


class DifusaoLocal:
    """One instance: the announcement reaches this instance's listeners only."""

    def __init__(self) -> None:
        self._ouvintes: list[OuvinteUsuarios] = []

    def ouvir(self, ouvinte: OuvinteUsuarios) -> None:
        self._ouvintes.append(ouvinte)

    def anunciar(self, empresa_id: str, usuario_id: str) -> None:
        for ouvinte in self._ouvintes:
            try:
                ouvinte(empresa_id, usuario_id)
            except Exception:
                log.exception("usuario_alterado: a listener failed")


# --- the CRM's other services publishing through Redis (emitters) --------------------------------


@dataclass(frozen=True, slots=True)
class PedidoEmissor:
    """What an emitter asked for, decoded from its wire by the cluster and checked by the gateway.

    ``tipo``: ``emit``, ``join``, ``leave`` or ``disconnect``. ``salas``/``exceto``: the rooms as the
    emitter named them (the contract's forms: ``user:{id}``, ``ticket:{id}``, ...); ``exceto_sids``:
    socket ids to skip (python-socketio's ``skip_sid``); ``salas_alvo``: the rooms to join or leave.
    """

    origem: str  # "node" or "python": the emitter, for the counters
    tipo: str
    nsp: str
    salas: tuple[str, ...]
    exceto: tuple[str, ...] = ()
    exceto_sids: tuple[str, ...] = ()
    evento: str = ""
    args: tuple[object, ...] = ()
    salas_alvo: tuple[str, ...] = ()


class ReceptorEmissores(Protocol):
    """The gateway's side (gateway/emissores.py): apply a request under the contract's rules.

    Answers None when done, or the reason it was refused (a short word, a counter's label). A request
    that must ask the database first (a join) answers an awaitable of the same.
    """

    def aplicar(self, pedido: PedidoEmissor) -> str | Awaitable[str | None] | None: ...
