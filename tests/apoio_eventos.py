"""``PublicadorGravador``: the domain's publisher port recording every call, for the tests that check
what a use case published (it lived in the package before; nothing of the product uses it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from atendimento.domain.entidades import ATOR_SISTEMA, MensagemDados, TicketDados
from atendimento.domain.saida import StatusMensagem


@dataclass(frozen=True, slots=True)
class EventoGravado:
    nome: str
    args: tuple[object, ...]


@dataclass
class PublicadorGravador:
    """Records every call, in order (tests)."""

    eventos: list[EventoGravado] = field(default_factory=list)
    # ``atualizado_por`` of each ticket event, in order (the events' ``args`` stay the ticket alone).
    autores: list[str] = field(default_factory=list)
    usuarios_alterados: list[tuple[str, str]] = field(default_factory=list)

    def nomes(self) -> list[str]:
        return [evento.nome for evento in self.eventos]

    def limpar(self) -> None:
        self.eventos.clear()
        self.autores.clear()
        self.usuarios_alterados.clear()

    def _gravar(self, nome: str, *args: object) -> None:
        self.eventos.append(EventoGravado(nome, args))

    def ticket_novo(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None:
        self._gravar("ticket_novo", ticket)
        self.autores.append(atualizado_por)

    def ticket_atualizado(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None:
        self._gravar("ticket_atualizado", ticket)
        self.autores.append(atualizado_por)

    def ticket_status(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None:
        self._gravar("ticket_status", ticket)
        self.autores.append(atualizado_por)

    def ticket_atribuido(self, ticket: TicketDados, atualizado_por: str = ATOR_SISTEMA) -> None:
        self._gravar("ticket_atribuido", ticket)
        self.autores.append(atualizado_por)

    def mensagem_nova(self, mensagem: MensagemDados, ticket: TicketDados) -> None:
        self._gravar("mensagem_nova", mensagem, ticket)

    def mensagem_status(self, status: StatusMensagem) -> None:
        self._gravar("mensagem_status", status)

    def notificacao(
        self,
        empresa_id: str,
        usuario_id: str | None,
        tipo: str,
        mensagem: str | None,
        dados: object | None,
    ) -> None:
        self._gravar("notificacao", empresa_id, usuario_id, tipo, mensagem, dados)

    def usuario_alterado(self, empresa_id: str, usuario_id: str) -> None:
        self.usuarios_alterados.append((empresa_id, usuario_id))

    def ticket_lido(self, empresa_id: str, usuario_id: str, ticket_id: str, ate: str, nao_lidas: int) -> None:
        self._gravar("ticket_lido", empresa_id, usuario_id, ticket_id, ate, nao_lidas)
