"""The publisher port: how the domain tells the realtime side what was committed.

The domain calls it only after a commit; ``gateway/publicacao.py`` implements it and owns the
routing (rooms). Methods are synchronous on purpose: emitting only queues bytes, never waits.
"""

from __future__ import annotations

from typing import Protocol

from atendimento.domain.entidades import ATOR_SISTEMA, MensagemDados, TicketDados
from atendimento.domain.saida import StatusMensagem


class PublicadorEventos(Protocol):
    """The ticket events carry ``atualizado_por``: who made the change (a user id, or ``sistema``)."""

    def ticket_novo(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None: ...
    def ticket_atualizado(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None: ...
    def ticket_status(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None: ...
    def ticket_atribuido(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None: ...
    def mensagem_nova(self, mensagem: MensagemDados, ticket: TicketDados) -> None: ...  # + nao-atribuida
    def mensagem_status(self, status: StatusMensagem) -> None: ...
    def notificacao(
        self,
        empresa_id: str,
        usuario_id: str | None,
        tipo: str,
        mensagem: str | None,
        dados: object | None,
    ) -> None: ...
    def usuario_alterado(self, empresa_id: str, usuario_id: str) -> None:
        """This user's record changed (role, ativo, channels, ...): every instance drops what it
        cached of the user and disconnects its sockets when the user is now inactive, gone, or of
        another role than the one they authenticated with."""
        ...

    def ticket_lido(self, empresa_id: str, usuario_id: str, ticket_id: str, ate: str, nao_lidas: int) -> None:
        """The user's read position on the ticket moved: its other sockets (devices) update counts."""
        ...


class PublicadorNulo:
    """Publishes nothing (CLI commands, the demo loader)."""

    def ticket_novo(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None:
        pass

    def ticket_atualizado(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None:
        pass

    def ticket_status(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None:
        pass

    def ticket_atribuido(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None:
        pass

    def mensagem_nova(self, mensagem: MensagemDados, ticket: TicketDados) -> None:
        pass

    def mensagem_status(self, status: StatusMensagem) -> None:
        pass

    def notificacao(
        self,
        empresa_id: str,
        usuario_id: str | None,
        tipo: str,
        mensagem: str | None,
        dados: object | None,
    ) -> None:
        pass

    def usuario_alterado(self, empresa_id: str, usuario_id: str) -> None:
        pass

    def ticket_lido(self, empresa_id: str, usuario_id: str, ticket_id: str, ate: str, nao_lidas: int) -> None:
        pass
