"""Who may change a ticket, and where an integration may write: rules with no I/O (docs/roles.md).

Any internal role reads the tenant's tickets and writes messages on them. Changing a ticket
(fields, status) is for its assignee, or for a role that manages the queue (``ROLES_GESTAO_TICKETS``:
supervisor, gestor, admin). An atendente may assign to itself a ticket nobody has; assigning to
someone else and taking another's ticket are for the managing roles. The system (routing, the demo
loader, the CLI) may do anything. Every refusal is ``Proibido`` (403 ``PROIBIDO``), raised before
anything is written.
"""

from __future__ import annotations

from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import (
    ROLE_ATENDENTE,
    ROLE_INTEGRACAO,
    ROLES_GESTAO_TICKETS,
    ROLES_INTERNOS,
    Ator,
    TicketDados,
    UsuarioDados,
)
from atendimento.domain.erros import Proibido


def _gere(ator: Ator) -> bool:
    return ator.sistema or ator.role in ROLES_GESTAO_TICKETS


def pode_alterar(ator: Ator, ticket: TicketDados) -> bool:
    """PATCH and status: the managing roles, or an atendente on a ticket assigned to it."""
    if _gere(ator):
        return True
    return ator.role == ROLE_ATENDENTE and ticket.atendente_id == ator.usuario_id


def pode_atribuir(ator: Ator, atendente_atual: str | None, novo_atendente: str) -> bool:
    """Assign ``novo_atendente``: the managing roles always; an atendente only to itself and only a
    ticket with nobody (or already itself: nothing changes)."""
    if _gere(ator):
        return True
    return (
        ator.role == ROLE_ATENDENTE
        and novo_atendente == ator.usuario_id
        and atendente_atual in (None, ator.usuario_id)
    )


def exigir_alterar(ator: Ator, ticket: TicketDados) -> None:
    if not pode_alterar(ator, ticket):
        raise Proibido(
            "Só quem tem o ticket, ou supervisor, gestor ou admin, pode alterá-lo", Codigo.PROIBIDO
        )


def exigir_atribuir(ator: Ator, atendente_atual: str | None, novo_atendente: str) -> None:
    if not pode_atribuir(ator, atendente_atual, novo_atendente):
        raise Proibido(
            "Atribuir a outro, ou tomar o ticket de outro, é para supervisor, gestor ou admin",
            Codigo.PROIBIDO,
        )


def exigir_interno(ator: Ator) -> None:
    if not (ator.sistema or ator.role in ROLES_INTERNOS):
        raise Proibido("Acesso negado para este perfil", Codigo.PROIBIDO)


def exigir_canal_da_integracao(usuario: UsuarioDados, canal_id: str) -> None:
    """An integration writes (customers' messages, delivery statuses) only for its own channels."""
    if usuario.role != ROLE_INTEGRACAO or canal_id not in usuario.canal_ids:
        raise Proibido("Esta integração não está vinculada a este canal", Codigo.PROIBIDO)
