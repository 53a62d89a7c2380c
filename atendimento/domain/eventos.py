"""The publisher port: how the domain tells the realtime side what was committed.

The domain calls it only after a commit; ``gateway/publicacao.py`` implements it and owns the
routing (rooms). Methods are synchronous on purpose: emitting only queues bytes, never waits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from atendimento.domain.entidades import MensagemDados, TicketDados


class PublicadorEventos(Protocol):
    def ticket_novo(self, ticket: TicketDados) -> None: ...
    def ticket_atualizado(self, ticket: TicketDados) -> None: ...
    def ticket_status(self, ticket: TicketDados) -> None: ...
    def ticket_atribuido(self, ticket: TicketDados) -> None: ...
    def mensagem_nova(self, mensagem: MensagemDados, ticket: TicketDados) -> None: ...  # + nao-atribuida
    def notificacao(
        self,
        empresa_id: str,
        usuario_id: str | None,
        tipo: str,
        mensagem: str | None,
        dados: object | None,
    ) -> None: ...


class PublicadorNulo:
    """Publishes nothing (CLI commands, the demo loader)."""

    def ticket_novo(self, ticket: TicketDados) -> None:
        pass

    def ticket_atualizado(self, ticket: TicketDados) -> None:
        pass

    def ticket_status(self, ticket: TicketDados) -> None:
        pass

    def ticket_atribuido(self, ticket: TicketDados) -> None:
        pass

    def mensagem_nova(self, mensagem: MensagemDados, ticket: TicketDados) -> None:
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


@dataclass(frozen=True, slots=True)
class EventoGravado:
    nome: str
    args: tuple[object, ...]


@dataclass
class PublicadorGravador:
    """Records every call, in order (tests)."""

    eventos: list[EventoGravado] = field(default_factory=list)

    def nomes(self) -> list[str]:
        return [evento.nome for evento in self.eventos]

    def limpar(self) -> None:
        self.eventos.clear()

    def _gravar(self, nome: str, *args: object) -> None:
        self.eventos.append(EventoGravado(nome, args))

    def ticket_novo(self, ticket: TicketDados) -> None:
        self._gravar("ticket_novo", ticket)

    def ticket_atualizado(self, ticket: TicketDados) -> None:
        self._gravar("ticket_atualizado", ticket)

    def ticket_status(self, ticket: TicketDados) -> None:
        self._gravar("ticket_status", ticket)

    def ticket_atribuido(self, ticket: TicketDados) -> None:
        self._gravar("ticket_atribuido", ticket)

    def mensagem_nova(self, mensagem: MensagemDados, ticket: TicketDados) -> None:
        self._gravar("mensagem_nova", mensagem, ticket)

    def notificacao(
        self,
        empresa_id: str,
        usuario_id: str | None,
        tipo: str,
        mensagem: str | None,
        dados: object | None,
    ) -> None:
        self._gravar("notificacao", empresa_id, usuario_id, tipo, mensagem, dados)
