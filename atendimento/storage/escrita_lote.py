"""One ticket's message writes on PostgreSQL, one batch at a time: the writes that arrive while the
ticket's batch is in the database go together in the next one.

Why: a message write numbers the message with the ticket's counter, so it holds the ticket's row lock
from that UPDATE until its COMMIT has flushed the WAL. Written one statement each, a busy ticket's
writes queue on that lock inside the database, each paying a WAL flush of its own while the next
waits: one ticket's writes a second are bounded by the disk's flushes, and a flush that takes longer
(a checkpoint, another process's I/O) holds every writer behind it, each in a pooled connection, so
the pool runs dry and the other tickets wait too. Under the end-to-end benchmark (one ticket, 200
messages a second) that was a tail of 0.7-1 s. Queued here instead, the writes that arrive during one
batch's round trip take the lock and flush once, together, in the next (``escrita_mensagem.
acrescentar_lote``: one statement, so one implicit transaction), and hold one pooled connection.

A write that finds its ticket idle goes at once, alone: no added wait when nothing queues. Tickets
do not wait for each other. A batch the database refuses as a whole (a constraint one message breaks)
is written again one message at a time, so each request gets its own answer or its own error; a lost
connection is the storage's retry policy's, and a database that cannot be reached fails the batch's
requests with that error at once. A request cancelled while it waits is left out of the next batch; once its
batch is sent it is written, as a statement already sent would be.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.exc import DBAPIError

from atendimento.domain.portas import MensagemGravada, NovaMensagem
from atendimento.storage.falhas import conexao_perdida

log = logging.getLogger(__name__)

# At most this many messages in one statement (its arrays' length); the rest wait for the next.
MAXIMO_POR_LOTE = 64

EscreverLote = Callable[[str, Sequence[NovaMensagem]], Awaitable[list[MensagemGravada]]]
Escrever = Callable[[str, NovaMensagem], Awaitable[MensagemGravada]]
_Espera = tuple[NovaMensagem, "asyncio.Future[MensagemGravada]"]


class LotesPorTicket:
    def __init__(self, lote: EscreverLote, uma: Escrever, maximo: int = MAXIMO_POR_LOTE) -> None:
        """``lote``: writes one ticket's messages in one statement; ``uma``: one message alone (the
        fallback when a batch fails)."""
        self._lote = lote
        self._uma = uma
        self._maximo = maximo
        # A ticket with a batch in the database: the writes waiting for the next one.
        self._filas: dict[tuple[str, str], deque[_Espera]] = {}
        self._tarefas: set[asyncio.Task[None]] = set()

    async def acrescentar(self, empresa_id: str, pedido: NovaMensagem) -> MensagemGravada:
        futuro: asyncio.Future[MensagemGravada] = asyncio.get_running_loop().create_future()
        chave = (empresa_id, pedido.ticket_id)
        fila = self._filas.get(chave)
        if fila is not None:
            fila.append((pedido, futuro))
        else:
            self._filas[chave] = deque()
            tarefa = asyncio.get_running_loop().create_task(self._rodar(chave, [(pedido, futuro)]))
            self._tarefas.add(tarefa)
            tarefa.add_done_callback(self._tarefas.discard)
        return await futuro

    async def _rodar(self, chave: tuple[str, str], lote: list[_Espera]) -> None:
        empresa_id = chave[0]
        try:
            while lote:
                await self._escrever(empresa_id, lote)
                lote = self._proximo(self._filas[chave])
        finally:
            restantes = self._filas.pop(chave, ())
            for _, futuro in restantes:  # only when this task itself was cancelled (shutdown)
                if not futuro.done():
                    futuro.set_exception(RuntimeError("message write stopped before it was sent"))

    def _proximo(self, fila: deque[_Espera]) -> list[_Espera]:
        """The next batch: the queued writes in arrival order, those cancelled meanwhile left out."""
        lote: list[_Espera] = []
        while fila and len(lote) < self._maximo:
            espera = fila.popleft()
            if not espera[1].done():
                lote.append(espera)
        return lote

    async def _escrever(self, empresa_id: str, lote: list[_Espera]) -> None:
        try:
            gravacoes = await self._lote(empresa_id, [pedido for pedido, _ in lote])
        except Exception as exc:
            # One message at a time only when the database refused the batch's content; when it could
            # not be reached (the retry policy already tried again), each would wait for it again.
            if len(lote) == 1 or not isinstance(exc, DBAPIError) or conexao_perdida(exc):
                for _, futuro in lote:
                    _responder(futuro, exc)
                return
            log.warning("a batch of %d message writes failed (%s); writing them one by one", len(lote), exc)
            for pedido, futuro in lote:
                try:
                    _responder(futuro, await self._uma(empresa_id, pedido))
                except Exception as uma_exc:
                    _responder(futuro, uma_exc)
            return
        for (_, futuro), gravacao in zip(lote, gravacoes, strict=True):
            _responder(futuro, gravacao)

    async def fechar(self) -> None:
        """Waits for the batches in the database and those queued behind them."""
        while self._tarefas:
            await asyncio.gather(*self._tarefas, return_exceptions=True)


def _responder(futuro: asyncio.Future[MensagemGravada], resultado: MensagemGravada | Exception) -> None:
    if futuro.done():  # its request was cancelled meanwhile
        return
    if isinstance(resultado, Exception):
        futuro.set_exception(resultado)
    else:
        futuro.set_result(resultado)
