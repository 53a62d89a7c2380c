"""Which tenant a room an emitter names belongs to, from this instance's own sockets.

An emitter names the contract's rooms: ``user:{id}`` and ``ticket:{id}`` carry no tenant. Asking the
database for each emit would cost a query per publish (and, under row-level security, a lookup across
tenants the application role cannot make); instead each instance answers from what it already holds,
the sockets it serves, whose tenant their handshake proved:

- ``user:{id}``: the tenants of this instance's sockets of user ``id``. Ids are unique within a tenant
  only (tokens from another issuer), so two tenants may both have a user ``id``: such an emit is
  ambiguous and refused, never sent to both.
- ``ticket:{id}``: the tenant of the sockets that joined that ticket's room here (joining checked the
  ticket against the socket's tenant; ticket ids are the database's, one tenant each).
- ``empresa:{e}``: a tenant with sockets here.

No socket here: nothing of this instance to deliver to, so nothing is lost by not resolving. A socket
that went away keeps its entries for the recovery window, so that an emit meanwhile is kept for its
recovery as ours are (the packet log records every broadcast, even one with no recipient now).
Each instance resolves for itself: an emit reaches every instance and each delivers to its own.
"""

from __future__ import annotations

import time
from collections import Counter, deque

from atendimento.engine import Socket
from atendimento.engine.socketio.monitor import Monitor
from atendimento.gateway import salas, sessao


class _Contagem:
    """key → tenant → sockets, plus the (key, tenant) pairs whose last socket left less than
    ``janela_s`` ago."""

    def __init__(self, janela_s: float) -> None:
        self._janela_s = janela_s
        self._vivos: dict[str, Counter[str]] = {}
        self._recentes: dict[str, dict[str, float]] = {}  # key → tenant → when its last socket left
        self._fila: deque[tuple[float, str, str]] = deque()

    def mais(self, chave: str, empresa: str) -> None:
        self._vivos.setdefault(chave, Counter())[empresa] += 1

    def menos(self, chave: str, empresa: str) -> None:
        contagem = self._vivos.get(chave)
        if contagem is None or contagem[empresa] <= 0:
            return
        contagem[empresa] -= 1
        agora = time.monotonic()
        if contagem[empresa] == 0:
            del contagem[empresa]
            if not contagem:
                del self._vivos[chave]
            if self._janela_s > 0:
                self._recentes.setdefault(chave, {})[empresa] = agora
                self._fila.append((agora, chave, empresa))
        self._podar(agora)

    def _podar(self, agora: float) -> None:
        limite = agora - self._janela_s
        fila = self._fila
        while fila and fila[0][0] < limite:
            quando, chave, empresa = fila.popleft()
            recentes = self._recentes.get(chave)
            if recentes is not None and recentes.get(empresa) == quando:
                del recentes[empresa]
                if not recentes:
                    del self._recentes[chave]

    def empresas(self, chave: str) -> set[str]:
        encontradas = set(self._vivos.get(chave, ()))
        recentes = self._recentes.get(chave)
        if recentes:
            limite = time.monotonic() - self._janela_s
            encontradas.update(e for e, quando in recentes.items() if quando >= limite)
        return encontradas


class IndiceEmpresas(Monitor):
    """Kept by the engine's monitor hooks (connect, disconnect, a ticket room joined or left)."""

    def __init__(self, namespace: str, janela_s: float) -> None:
        self._nsp = namespace
        self.usuarios = _Contagem(janela_s)
        self.tickets = _Contagem(janela_s)
        self.empresas = _Contagem(janela_s)
        self._sockets: dict[str, tuple[str, str]] = {}  # sid → (tenant, user): room events carry the sid
        # sid → its ticket rooms: a join of a room the socket is already in, or a leave of one it is
        # not in, changes no count.
        self._tickets_do_sid: dict[str, set[str]] = {}

    # --- the engine's hooks ---------------------------------------------------------------------

    def socket_connected(self, socket: Socket) -> None:
        quem = sessao.identidade(socket)
        if socket.nsp.name != self._nsp or quem is None:
            return
        self._sockets[socket.sid] = (quem.empresa_id, quem.usuario_id)
        self.usuarios.mais(quem.usuario_id, quem.empresa_id)
        self.empresas.mais(quem.empresa_id, quem.empresa_id)
        for sala in socket.rooms:  # a recovered socket comes back with its ticket rooms
            self.room_joined(self._nsp, sala, socket.sid)

    def socket_disconnected(self, socket: Socket, reason: str, rooms: frozenset[str]) -> None:
        conhecido = self._sockets.pop(socket.sid, None)
        if conhecido is None:
            return
        empresa, usuario = conhecido
        self.usuarios.menos(usuario, empresa)
        self.empresas.menos(empresa, empresa)
        for ticket_id in self._tickets_do_sid.pop(socket.sid, ()):
            self.tickets.menos(ticket_id, empresa)

    def room_joined(self, nsp: str, room: str, sid: str) -> None:
        empresa = self.empresa_do_socket(sid)
        if empresa is None or (ticket_id := salas.ticket_da_sala(room)) is None:
            return
        tickets = self._tickets_do_sid.setdefault(sid, set())
        if ticket_id not in tickets:
            tickets.add(ticket_id)
            self.tickets.mais(ticket_id, empresa)

    def room_left(self, nsp: str, room: str, sid: str) -> None:
        empresa = self.empresa_do_socket(sid)
        if empresa is None or (ticket_id := salas.ticket_da_sala(room)) is None:
            return
        tickets = self._tickets_do_sid.get(sid)
        if tickets is not None and ticket_id in tickets:
            tickets.discard(ticket_id)
            self.tickets.menos(ticket_id, empresa)

    def empresa_do_socket(self, sid: str) -> str | None:
        conhecido = self._sockets.get(sid)
        return None if conhecido is None else conhecido[0]
