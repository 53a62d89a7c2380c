"""Automatic routing: a fila with ``distribuicao: automatica`` gives each waiting ticket (by priority,
then arrival) to one of its atendentes who is connected, whose status is ``online`` and who is below
capacity: fewest open tickets first, then the one idle longest. Otherwise the ticket waits.

It runs whenever capacity or availability may have changed (``rotear_filas`` / ``rotear_atendente``):
a ticket created, resolved, closed, moved or reassigned, an atendente's status back to ``online``, an
atendente arriving, its capacity or filas changed. Each assignment is its own short transaction
(``_rotear_um``: a bounded number of statements, docs/operating.md) whose row locks make the database
the judge between instances (storage/roteamento.py). An assignment publishes ``ticket:atribuido`` and
``ticket:atualizado`` as a manual one does.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import replace

from atendimento.domain.entidades import SISTEMA, Ator, TicketDados
from atendimento.domain.eventos import PublicadorEventos
from atendimento.domain.portas import Armazenamento, ConsultaOnline, Repositorio

log = logging.getLogger(__name__)

# Assignments in one run per fila: a bound, so one trigger never holds a loop for long; the waiting
# tickets beyond it go at the next trigger (each freed ticket is one).
MAX_POR_RODADA = 50


# How a change is recorded in a ticket's history (``base.registrar_historico``, passed in by the base
# service: this module is imported by it).
Historico = Callable[[Repositorio, Ator, str, TicketDados | None, TicketDados], Awaitable[None]]


class Roteador:
    def __init__(
        self,
        storage: Armazenamento,
        publicador: PublicadorEventos,
        presenca: ConsultaOnline | None,
        historico: Historico,
    ) -> None:
        self._historico = historico
        self._storage = storage
        self._publicador = publicador
        self._presenca = presenca

    async def _presentes(self, empresa_id: str) -> set[str]:
        if self._presenca is None:
            return set()
        try:
            return await self._presenca.online(empresa_id)
        except Exception as exc:
            # Presence unknown (the backplane is away): nobody is given a ticket; they wait.
            log.warning("routing: presence unavailable for tenant %s: %s", empresa_id, type(exc).__name__)
            return set()

    async def rotear_filas(self, empresa_id: str, fila_ids: Iterable[str]) -> list[TicketDados]:
        """Assign what the filas' waiting tickets and their atendentes' capacity allow. Never raises:
        it runs after the caller's write has committed. A manual fila costs one read, no write lock
        (a ticket created in one, the usual case, must not queue behind SQLite's writer for nothing)."""
        try:
            async with self._storage.unidade(empresa_id, escrita=False) as repo:
                filas = [f for f in dict.fromkeys(fila_ids) if await self._automatica(repo, f)]
        except Exception:
            log.exception("routing: reading the filas failed for tenant %s", empresa_id)
            return []
        return await self._rotear(empresa_id, filas)

    @staticmethod
    async def _automatica(repo: Repositorio, fila_id: str) -> bool:
        fila = await repo.obter_fila(fila_id)
        return fila is not None and fila.distribuicao == "automatica"

    async def _rotear(self, empresa_id: str, filas: list[str]) -> list[TicketDados]:
        atribuidos: list[TicketDados] = []
        try:
            presentes = await self._presentes(empresa_id) if filas else set()
            if not presentes:
                return atribuidos
            for fila_id in filas:
                for _ in range(MAX_POR_RODADA):
                    ticket = await self._rotear_um(empresa_id, fila_id, presentes)
                    if ticket is None:
                        break
                    atribuidos.append(ticket)
        except Exception:
            log.exception("routing failed for tenant %s", empresa_id)
        return atribuidos

    async def rotear_atendente(self, empresa_id: str, usuario_id: str) -> list[TicketDados]:
        """The atendente may take tickets now: route the automatic filas it serves."""
        return await self.rotear_atendentes(empresa_id, (usuario_id,))

    async def rotear_atendentes(self, empresa_id: str, usuario_ids: Collection[str]) -> list[TicketDados]:
        """These atendentes may take tickets now (arrived together): route the automatic filas any
        of them serves, once each. One read for all of them: after a deploy a whole team arrives at
        once, and a read per arrival was most of a connection's cost."""
        try:
            async with self._storage.unidade(empresa_id, escrita=False) as repo:
                filas = await repo.filas_automaticas_de(usuario_ids)
        except Exception:
            log.exception("routing: reading the filas of atendentes failed")
            return []
        return await self._rotear(empresa_id, filas)

    async def _rotear_um(self, empresa_id: str, fila_id: str, presentes: set[str]) -> TicketDados | None:
        async with self._storage.unidade(empresa_id) as repo:
            fila = await repo.obter_fila(fila_id)
            if fila is None or fila.distribuicao != "automatica":
                return None
            atendente_id = await repo.escolher_atendente(fila_id, presentes)
            if atendente_id is None:
                return None
            ticket = await repo.proximo_aguardando(fila_id)
            if ticket is None:
                return None
            # The assignment's write, recorded in the ticket's history as the actor ``sistema``.
            momento = await repo.instante_de_atualizacao()
            atribuido = replace(ticket, atendente_id=atendente_id, atualizado_em=momento)
            await repo.salvar_ticket(atribuido)
            await repo.registrar_atribuicao(atendente_id, momento)
            await self._historico(repo, SISTEMA, "atribuido", ticket, atribuido)
        for publicar in (self._publicador.ticket_atribuido, self._publicador.ticket_atualizado):
            try:
                publicar(atribuido)
            except Exception:
                log.exception("publicador falhou depois do commit")
        return atribuido
