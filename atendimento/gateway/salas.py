"""Room names: the only place that spells them.

A client never names a room. Every name is built here from the authenticated tenant or from an id
that the caller has already checked against that tenant, so a typo or a forged id can't route an
event to the wrong audience. ``empresa:{e}:internos`` is the server's own room (docs/architecture.md):
every socket of an internal role, the audience of ``ticket:novo`` and ``ticket:atualizado``.
"""

from __future__ import annotations

from atendimento.domain.entidades import ROLE_ATENDENTE, ROLES_INTERNOS
from atendimento.identity.tokens import Identidade


def usuario(usuario_id: str) -> str:
    return f"user:{usuario_id}"


def empresa(empresa_id: str) -> str:
    return f"empresa:{empresa_id}"


def atendentes(empresa_id: str) -> str:
    return f"empresa:{empresa_id}:atendentes"


def internos(empresa_id: str) -> str:
    return f"empresa:{empresa_id}:internos"


def ticket(ticket_id: str) -> str:
    return f"ticket:{ticket_id}"


def e_interno(role: str) -> bool:
    return role in ROLES_INTERNOS


def e_atendente(role: str) -> bool:
    return role == ROLE_ATENDENTE


def salas_de_conexao(identidade: Identidade) -> list[str]:
    """The rooms a socket joins on connect, exactly as the contract's Rooms table says."""
    salas = [usuario(identidade.usuario_id), empresa(identidade.empresa_id)]
    if e_interno(identidade.role):
        salas.append(internos(identidade.empresa_id))
    if e_atendente(identidade.role):
        salas.append(atendentes(identidade.empresa_id))
    return salas
