"""``ticket:visualizando``: who has a ticket open, told to ``ticket:{ticketId}`` whenever that set changes.

A user "has the ticket open" while at least one of their sockets is in the ticket's room (joined with
``ticket:entrar``). ``Visualizando`` is what the client events and the disconnect handler call; it asks
a ``RegistroVisualizando`` how the set changed and publishes. The set changes when a user's first
socket enters or their last socket leaves (``ticket:sair``, or the socket is gone); a second tab of
the same user changes nothing, so the room hears nothing, but that tab alone is told the current list
(it would otherwise not know who is there). The routing itself is ``Publicador.ticket_visualizando``.

``RegistroLocal`` counts this process's sockets; ``cluster/visualizando.py`` keeps the same answers
across instances in Redis, behind the same three methods.
"""

from __future__ import annotations

import asyncio
import logging

from atendimento.engine import Socket
from atendimento.gateway import salas, sessao
from atendimento.gateway.portas import Mudanca as Mudanca
from atendimento.gateway.portas import RegistroLocal as RegistroLocal
from atendimento.gateway.portas import RegistroVisualizando as RegistroVisualizando
from atendimento.gateway.portas import Usuarios as Usuarios
from atendimento.gateway.portas import ordenar as ordenar
from atendimento.gateway.publicacao import Publicador
from atendimento.identity.tokens import Identidade

log = logging.getLogger(__name__)


class Visualizando:
    """Called by ``ticket:entrar``/``ticket:sair`` and by the disconnect handler; publishes the set."""

    def __init__(self, publicador: Publicador, registro: RegistroVisualizando) -> None:
        self._publicador = publicador
        self.registro = registro
        self._tarefas: set[asyncio.Task[None]] = set()
        registro.ouvir(self._mudou_sozinho)

    def _mudou_sozinho(self, empresa_id: str, ticket_id: str, usuarios: Usuarios) -> None:
        """A set the registry changed on its own (a cluster's, rewritten after Redis lost it)."""
        self._publicador.ticket_visualizando(empresa_id, ticket_id, usuarios)

    def restaurado(self, socket: Socket) -> None:
        """A socket restored by connection state recovery is back in its ticket rooms without a new
        ``ticket:entrar``: count it among their viewers again (its disconnect had uncounted it).

        In a task, so that it runs once the engine has accepted the socket: the connect handler must
        not await after arming the expiry timer (gateway/conexao.py says why).
        """
        quem = sessao.identidade(socket)
        tickets = [t for t in map(salas.ticket_da_sala, socket.rooms) if t is not None]
        if quem is None or not tickets:
            return
        tarefa = asyncio.get_running_loop().create_task(self._rever(socket, tickets, quem))
        self._tarefas.add(tarefa)
        tarefa.add_done_callback(self._tarefas.discard)

    async def _rever(self, socket: Socket, tickets: list[str], quem: Identidade) -> None:
        for ticket_id in tickets:
            if not socket.connected:
                return  # gone again: its disconnect handler uncounts what was counted so far
            await self.entrou(socket, ticket_id, quem)

    async def entrou(self, socket: Socket, ticket_id: str, quem: Identidade) -> None:
        try:
            mudanca = await self.registro.entrou(
                quem.empresa_id, ticket_id, quem.usuario_id, quem.nome, socket.sid
            )
        except Exception:
            # A courtesy to colleagues: its failure must not fail the agent's ticket:entrar.
            log.exception("visualizando: counting sid %s in a ticket failed", socket.sid)
            return
        self._publicador.ticket_visualizando(
            quem.empresa_id, ticket_id, mudanca.usuarios, so_para=None if mudanca.mudou else socket
        )

    async def saiu(self, socket: Socket, ticket_id: str) -> None:
        await self._sair(socket, ticket_id)

    async def desconectou(self, socket: Socket) -> None:
        for ticket_id in self.registro.tickets_de(socket.sid):
            await self._sair(socket, ticket_id)

    async def _sair(self, socket: Socket, ticket_id: str) -> None:
        quem = sessao.identidade(socket)
        if quem is None:
            return
        try:
            mudanca = await self.registro.saiu(quem.empresa_id, ticket_id, socket.sid)
        except Exception:
            log.exception("visualizando: uncounting sid %s failed", socket.sid)
            return
        if mudanca is not None and mudanca.mudou:
            self._publicador.ticket_visualizando(quem.empresa_id, ticket_id, mudanca.usuarios)

    async def fechar(self) -> None:
        await self.registro.fechar()
