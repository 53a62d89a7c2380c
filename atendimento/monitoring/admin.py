"""The ``/admin`` namespace, speaking the protocol of @socket.io/admin-ui 0.5 (read-only).

On connect the UI sends ``auth: {username, password}`` (or ``{sessionId}`` of an earlier login); we
answer ``session`` (a new session id), ``config`` (``supportedFeatures``), ``all_sockets``, and then
every 2 s ``server_stats`` with the aggregated counts; meanwhile ``socket_connected``,
``socket_disconnected``, ``room_joined`` and ``room_left`` as they happen. Wrong credentials are a
CONNECT_ERROR ``invalid credentials`` (the message the UI looks for to show its login form again).

Read-only on purpose: the features list has ``AGGREGATED_EVENTS`` and none of ``EMIT``, ``JOIN``,
``LEAVE``, ``DISCONNECT``, ``MJOIN``, ``MLEAVE``, ``MDISCONNECT``, ``ALL_EVENTS``, and no handler is
registered for the UI's ``emit``/``join``/``leave``/``_disconnect`` (they are simply dropped). Nothing
here ever emits into another namespace, and no event payload is ever forwarded to the UI.

With Redis, the /admin namespace has the cluster adapter like every other: what one instance emits
to /admin reaches the admin sockets of every instance, so the UI sees every server's stats and
socket changes; the initial list comes from ``listar_remotos`` (cluster/consulta.py).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import secrets
import socket as so
import time
from collections.abc import Awaitable, Callable
from typing import Any

from atendimento.engine import ConnectionRefused, Server, Socket
from atendimento.engine.socketio.monitor import Monitor
from atendimento.identity.passwords import Senhas
from atendimento.monitoring.agregados import EventosAgregados
from atendimento.monitoring.serializacao import Descrever, agora_iso, serializar
from atendimento.monitoring.tarefas import cancelar

log = logging.getLogger(__name__)

NAMESPACE_ADMIN = "/admin"
RECURSOS = ["AGGREGATED_EVENTS"]
INTERVALO_STATS_S = 2.0
SESSAO_TTL_S = 12 * 3600
VERIFICACOES_SIMULTANEAS = 2
CREDENCIAIS_INVALIDAS = "invalid credentials"  # the UI matches this exact message

ListarRemotos = Callable[[], Awaitable[list[dict[str, Any]]]]


class AdminUI(Monitor):
    """Registers /admin on ``server`` and follows the other namespaces through the engine's hooks."""

    def __init__(
        self,
        server: Server,
        *,
        usuario: str,
        senha_hash: str,
        descrever: Descrever,
        senhas: Senhas,
        server_id: str | None = None,
        intervalo_stats_s: float = INTERVALO_STATS_S,
    ) -> None:
        self._server = server
        self._usuario = usuario
        self._senha_hash = senha_hash
        self._descrever = descrever
        self._senhas = senhas
        self.server_id = server_id or f"{so.gethostname()}#{os.getpid()}"
        self._intervalo = intervalo_stats_s
        self._inicio = time.monotonic()
        self._sessoes: dict[str, float] = {}  # session id → expiry (monotonic); per instance
        self.agregados = EventosAgregados()
        self.listar_remotos: ListarRemotos | None = None  # set by the cluster wiring
        self._tarefa: asyncio.Task[None] | None = None
        self._listas: set[asyncio.Task[None]] = set()
        self._verificacoes = asyncio.Semaphore(VERIFICACOES_SIMULTANEAS)
        self.ns = server.of(NAMESPACE_ADMIN)
        self.ns.on_connect(self._conectar)
        server.add_monitor(self.agregados)
        server.add_monitor(self)

    # --- authentication -----------------------------------------------------------------------------

    async def _autenticar(self, auth: object) -> str | None:
        """The new session id to hand out, or None for a valid existing session; raises on a refusal."""
        dados = auth if isinstance(auth, dict) else {}
        agora = time.monotonic()
        sessao = dados.get("sessionId")
        if isinstance(sessao, str) and self._sessoes.get(sessao, 0.0) > agora:
            return None
        usuario, senha = dados.get("username"), dados.get("password")
        if isinstance(usuario, str) and isinstance(senha, str):
            mesmo = hmac.compare_digest(usuario.encode(), self._usuario.encode())
            # The check costs the same for a wrong user name (no hint of which part was wrong); a few
            # at a time, so a flood of attempts can't take every worker thread (argon2: 64 MiB each).
            async with self._verificacoes:
                valida = await self._senhas.verificar_async(self._senha_hash if mesmo else None, senha)
            if mesmo and valida:
                for velha in [s for s, fim in self._sessoes.items() if fim <= agora]:
                    del self._sessoes[velha]
                nova = secrets.token_urlsafe(18)
                self._sessoes[nova] = agora + SESSAO_TTL_S
                return nova
        log.warning("admin: refused a connection to %s (invalid credentials)", NAMESPACE_ADMIN)
        raise ConnectionRefused(CREDENCIAIS_INVALIDAS)

    async def _conectar(self, socket: Socket, auth: object) -> None:
        nova = await self._autenticar(auth)
        if nova is not None:
            socket.emit("session", nova)
        socket.emit("config", {"supportedFeatures": list(RECURSOS)})
        socket.emit("server_stats", self.estatisticas(retirar=False))
        tarefa = asyncio.get_running_loop().create_task(self._enviar_lista(socket))
        self._listas.add(tarefa)  # held until done (the loop keeps only weak references)
        tarefa.add_done_callback(self._listas.discard)

    async def _enviar_lista(self, socket: Socket) -> None:
        sockets = self.sockets_locais()
        if self.listar_remotos is not None:
            try:
                sockets.extend(await self.listar_remotos())
            except Exception as exc:  # the other instances' part is best effort
                log.warning("admin: listing the other instances' sockets failed: %r", exc)
        if socket.connected:
            socket.emit("all_sockets", sockets)

    # --- what the UI is shown -----------------------------------------------------------------------

    def sockets_locais(self) -> list[dict[str, Any]]:
        """This instance's sockets, every namespace but /admin (the operators' own connections)."""
        return [
            serializar(s, self._descrever)
            for nome, nsp in self._server.namespaces.items()
            if nome != NAMESPACE_ADMIN
            for s in list(nsp.sockets.values())
        ]

    def estatisticas(self, *, retirar: bool = True) -> dict[str, Any]:
        sessoes = self._server.engine.sessions.values()
        return {
            "serverId": self.server_id,
            "hostname": so.gethostname(),
            "pid": os.getpid(),
            "uptime": round(time.monotonic() - self._inicio, 3),
            "clientsCount": len(sessoes),
            "pollingClientsCount": sum(1 for s in sessoes if s.transport == "polling"),
            "aggregatedEvents": self.agregados.retirar() if retirar else [],
            "namespaces": [
                {"name": nome, "socketsCount": len(nsp.sockets)}
                for nome, nsp in self._server.namespaces.items()
            ],
        }

    # --- engine hooks: forwarded to every admin socket (of every instance, through the adapter) -----

    def socket_connected(self, socket: Socket) -> None:
        if socket.nsp is not self.ns:
            self.ns.emit("socket_connected", serializar(socket, self._descrever), agora_iso())

    def socket_disconnected(self, socket: Socket, reason: str, rooms: frozenset[str]) -> None:
        if socket.nsp is self.ns:
            return
        momento = agora_iso()
        nome = socket.nsp.name
        for sala in sorted(rooms):  # as the reference adapter's leave-room at disconnect
            self.ns.emit("room_left", nome, sala, socket.sid, momento)
        self.ns.emit("socket_disconnected", nome, socket.sid, reason, momento)

    def room_joined(self, nsp: str, room: str, sid: str) -> None:
        if nsp != NAMESPACE_ADMIN:
            self.ns.emit("room_joined", nsp, room, sid, agora_iso())

    def room_left(self, nsp: str, room: str, sid: str) -> None:
        if nsp != NAMESPACE_ADMIN:
            self.ns.emit("room_left", nsp, room, sid, agora_iso())

    # --- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._tarefa is None:
            self._tarefa = asyncio.create_task(self._estatisticas(), name="admin-stats")

    async def stop(self) -> None:
        tarefa, self._tarefa = self._tarefa, None
        await cancelar(tarefa)

    async def _estatisticas(self) -> None:
        while True:
            await asyncio.sleep(self._intervalo)
            try:
                self.ns.emit("server_stats", self.estatisticas())
            except Exception:
                log.exception("admin: server_stats failed")
