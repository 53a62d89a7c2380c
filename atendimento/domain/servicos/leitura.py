"""Tickets as a console reads them (who the customer is, over which channel, how many unread), and
read state: per user, the last message read on each ticket, the same on every device."""

from __future__ import annotations

from datetime import datetime

from atendimento.domain import regras
from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import TicketDados, TicketDetalhe
from atendimento.domain.erros import NaoEncontrado
from atendimento.domain.servicos.base import Evento, ServicoBase, buscar_ticket


class CasosLeitura(ServicoBase):
    """Ticket details for a reader, and marking a ticket read up to a message."""

    async def listar_tickets_detalhados(
        self,
        empresa_id: str,
        leitor_id: str,
        *,
        status: str | None = None,
        atendente_id: str | None = None,
        fila_id: str | None = None,
        atualizado_desde: datetime | None = None,
        apos: tuple[datetime, str] | None = None,
        limite: int | None = None,
    ) -> list[TicketDetalhe]:
        """``listar_tickets`` with each ticket's cliente, canal and ``leitor_id``'s unread count, in
        the same read transaction (two more statements per page, whatever its size)."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(leitor_id, "usuarioId")
        if status is not None:
            regras.validar_status(status)
        regras.validar_id_opcional(atendente_id, "atendenteId")
        regras.validar_id_opcional(fila_id, "filaId")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            tickets = await repo.listar_tickets(
                status=status,
                atendente_id=atendente_id,
                fila_id=fila_id,
                atualizado_desde=atualizado_desde,
                apos=apos,
                limite=limite,
            )
            return await repo.detalhar_tickets(tickets, leitor_id)

    async def obter_ticket_detalhado(self, empresa_id: str, leitor_id: str, ticket_id: str) -> TicketDetalhe:
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(ticket_id, "ticketId")
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            ticket = await buscar_ticket(repo, ticket_id)
            return (await repo.detalhar_tickets([ticket], leitor_id))[0]

    async def detalhar(self, empresa_id: str, leitor_id: str, ticket: TicketDados) -> TicketDetalhe:
        """A ticket just written, as the REST answers show it."""
        async with self._storage.unidade(empresa_id, escrita=False) as repo:
            return (await repo.detalhar_tickets([ticket], leitor_id))[0]

    async def marcar_lida(self, empresa_id: str, leitor_id: str, ticket_id: str, ate: str) -> tuple[str, int]:
        """``leitor_id`` has read ``ticket_id`` up to message ``ate`` (and everything before it); an
        older mark than the one stored changes nothing. The message id now marked, and the unread
        count after it. Told to the reader's other sockets (``ticket_lido``)."""
        regras.validar_id(empresa_id, "empresaId")
        regras.validar_id(leitor_id, "usuarioId")
        regras.validar_id(ticket_id, "ticketId")
        regras.validar_id(ate, "ate")
        eventos: list[Evento] = []
        async with self._storage.unidade(empresa_id) as repo:
            await buscar_ticket(repo, ticket_id)
            ordem = await repo.ordem_da_mensagem(ticket_id, ate)
            if ordem is None:
                raise NaoEncontrado("Mensagem não encontrada neste ticket", Codigo.MENSAGEM_NAO_ENCONTRADA)
            marcada = await repo.marcar_lida(leitor_id, ticket_id, ordem)
            nao_lidas = await repo.nao_lidas(leitor_id, ticket_id)
            ate_agora = ate if marcada == ordem else await repo.mensagem_na_ordem(ticket_id, marcada)
            eventos.append(
                lambda: self._publicador.ticket_lido(empresa_id, leitor_id, ticket_id, ate_agora, nao_lidas)
            )
        self._publicar(eventos)
        return ate_agora, nao_lidas
