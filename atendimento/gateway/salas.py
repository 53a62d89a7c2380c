"""Room names: the only place that spells them.

A client never names a room. Every name is built here from the authenticated tenant or from an id
that the caller has already checked against that tenant, so a typo or a forged id can't route an
event to the wrong audience. ``empresa:{e}:internos`` is the server's own room (docs/architecture.md):
every socket of an internal role, the audience of ``ticket:novo`` and ``ticket:atualizado``.

A user's room carries the tenant (``empresa:{e}:user:{id}``, the contract's ``user:{id}``): with
tokens from another issuer (RS256 from a CRM) user ids are only unique within a tenant, and two
tenants' users with the same id must never share ``ticket:atribuido`` or ``notificacao``. Ids may
hold ``:``, so the ids in tenant-derived names are escaped: no tenant id can make its rooms spell
another tenant's (``empresa:x:atendentes`` as tenant ``x:atendentes``'s own room). Ticket ids are the
database's (unique across tenants) and stay as they are.
"""

from __future__ import annotations

import sys

from atendimento.domain.entidades import ROLE_ATENDENTE, ROLES_INTERNOS
from atendimento.identity.tokens import Identidade


def _id(valor: str) -> str:
    # Identity for the usual ids (uuids, slugs); only ":" and the escape character itself change.
    if ":" not in valor and "%" not in valor:
        return valor
    return valor.replace("%", "%25").replace(":", "%3A")


def usuario(empresa_id: str, usuario_id: str) -> str:
    return f"empresa:{_id(empresa_id)}:user:{_id(usuario_id)}"


def empresa(empresa_id: str) -> str:
    return f"empresa:{_id(empresa_id)}"


def atendentes(empresa_id: str) -> str:
    return f"empresa:{_id(empresa_id)}:atendentes"


def presenca_lote(empresa_id: str) -> str:
    """The atendentes who asked for batched presence (gateway/presenca_lote.py): they are also in
    ``atendentes(e)``, and the seed's presence events skip them."""
    return f"empresa:{_id(empresa_id)}:presenca-lote"


def internos(empresa_id: str) -> str:
    return f"empresa:{_id(empresa_id)}:internos"


def ticket(empresa_id: str, ticket_id: str) -> str:
    """The contract's ``ticket:{ticketId}``, under its tenant like every room: so every room names its
    tenant, and the cluster can route each emit on that tenant's channel (``empresa_da_sala``)."""
    return f"empresa:{_id(empresa_id)}:ticket:{ticket_id}"


def ticket_da_sala(sala: str) -> str | None:
    """The ticket id of a ``ticket(...)`` room name; None for any other room."""
    if not sala.startswith("empresa:"):
        return None
    _, _, resto = sala[len("empresa:") :].partition(":")
    ticket_id = resto.removeprefix("ticket:")
    return ticket_id if ticket_id != resto and ticket_id else None


def ticket_do_contrato(sala: str) -> str | None:
    """The ticket id of a room in the contract's form ``ticket:{id}`` (what other services name)."""
    ticket_id = sala.removeprefix("ticket:")
    return ticket_id if ticket_id != sala and ticket_id else None


def empresa_da_sala(sala: str) -> str | None:
    """The tenant a room belongs to (as escaped in its name: one string per tenant); None for a room of
    no tenant (a socket id, the Admin UI's). What the cluster partitions fan-out by."""
    if not sala.startswith("empresa:"):
        return None
    empresa, _, _ = sala[len("empresa:") :].partition(":")
    return empresa or None


def e_interno(role: str) -> bool:
    return role in ROLES_INTERNOS


def e_atendente(role: str) -> bool:
    return role == ROLE_ATENDENTE


def salas_de_conexao(identidade: Identidade) -> list[str]:
    """The rooms a socket joins on connect, exactly as the contract's Rooms table says. The tenant's
    rooms are interned: every socket's set of rooms then points at one string per tenant room instead
    of a copy of it per socket."""
    e = identidade.empresa_id
    salas = [usuario(e, identidade.usuario_id), sys.intern(empresa(e))]
    if e_interno(identidade.role):
        salas.append(sys.intern(internos(e)))
    if e_atendente(identidade.role):
        salas.append(sys.intern(atendentes(e)))
    return salas
