"""When a user's record changes (``usuario_alterado``, heard from any instance): drop what this
instance cached of the user, then disconnect this instance's sockets of that user whose identity no
longer holds: the user is gone or inactive, or its role is not the one the socket authenticated with
(its rooms were chosen by that role). The client sees ``io server disconnect``; reconnecting with its
old token is refused with ``USUARIO_INVALIDO``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from atendimento.domain.entidades import UsuarioDados
from atendimento.engine import Namespace, Reason
from atendimento.gateway import salas, sessao

log = logging.getLogger(__name__)

MOTIVO = Reason.SERVER_DISCONNECT
MAX_MUDANCAS = 10_000


class ServicoUsuarios(Protocol):
    async def registro_usuario(self, empresa_id: str, usuario_id: str) -> UsuarioDados | None: ...
    def esquecer_usuario(self, empresa_id: str, usuario_id: str) -> None: ...


class RevisaoUsuarios:
    def __init__(self, servico: ServicoUsuarios, namespace: Namespace) -> None:
        self._servico = servico
        self._ns = namespace
        self._tarefas: set[asyncio.Task[int]] = set()
        self._mudancas: dict[tuple[str, str], int] = {}

    def mudancas(self, empresa_id: str, usuario_id: str) -> int:
        """How many changes of this user this instance heard (a handshake compares before/after)."""
        return self._mudancas.get((empresa_id, usuario_id), 0)

    def alterado(self, empresa_id: str, usuario_id: str) -> None:
        """The listener (synchronous: called from the publisher or the Redis receiver)."""
        self._servico.esquecer_usuario(empresa_id, usuario_id)
        if len(self._mudancas) >= MAX_MUDANCAS:
            self._mudancas.clear()  # a handshake then sees a difference and merely asks again
        chave = (empresa_id, usuario_id)
        self._mudancas[chave] = self._mudancas.get(chave, 0) + 1
        if not self._ns.sockets_in(salas.usuario(empresa_id, usuario_id)):
            return  # nobody here to re-check: no database read
        tarefa = asyncio.get_running_loop().create_task(self.revisar(empresa_id, usuario_id))
        self._tarefas.add(tarefa)
        tarefa.add_done_callback(self._tarefas.discard)

    async def revisar(self, empresa_id: str, usuario_id: str) -> int:
        """Disconnects this instance's sockets of the user that no longer match; how many."""
        try:
            registro = await self._servico.registro_usuario(empresa_id, usuario_id)
        except Exception:
            # The database did not answer: keep the sockets (the TTL and the next change re-check).
            log.exception("usuario_alterado: reading user %s failed", usuario_id)
            return 0
        desconectados = 0
        for socket in self._ns.sockets_in(salas.usuario(empresa_id, usuario_id)):
            quem = sessao.identidade(socket)
            if quem is None:
                continue
            if registro is None or not registro.ativo or registro.role != quem.role:
                log.info("user %s changed: disconnecting sid %s", usuario_id, socket.sid)
                socket.disconnect(reason=MOTIVO)
                desconectados += 1
        return desconectados

    async def fechar(self) -> None:
        for tarefa in list(self._tarefas):
            tarefa.cancel()
        if self._tarefas:
            await asyncio.gather(*self._tarefas, return_exceptions=True)
