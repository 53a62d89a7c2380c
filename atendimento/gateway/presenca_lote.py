"""Batched presence, for the clients that ask for it (``presenca: "lote"`` in the CONNECT auth).

The seed's presence sends one ``atendente:online`` per arrival to every atendente of the tenant: N
agents arriving together (after a deploy) cost N²/2 deliveries. A batch client gets instead the
whole team once on connect (``completo: true``) and then at most one ``atendente:presenca`` every
``JANELA_S`` with only what changed (``completo: false``); ``versao`` grows by one per batch, so a
client can tell it missed one (then it re-reads ``GET /atendimento/atendentes``). N arrivals cost
each batch client one delivery per window, whatever N is; after a batch of 20 changes or more the
next waits two windows, after 200 or more four (``JANELAS_APOS``), so a long storm costs fewer.

Where the changes come from: the same edges the seed's events announce. The registry's edges and
``atendente:status`` are broadcast as before (to the legacy clients, the batch clients' room
excluded), and every instance observes those broadcasts as it delivers them (``Namespace.tap``),
its own and, in a cluster, the other instances'. So each instance batches for its own batch clients
only, with its own ``versao`` per tenant: a client's batches all come from the instance it is
connected to, and a reconnect starts with a whole team again. Batches are not kept for connection
state recovery (``record=False``): the whole team on the reconnect replaces them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from atendimento.engine import EventPacket, Namespace, Socket
from atendimento.engine.socketio.adapter import Target
from atendimento.gateway import salas

log = logging.getLogger(__name__)

EVENTO = "atendente:presenca"
JANELA_S = 0.5
LOTE = "lote"
# After a large batch the next one waits longer (the contract says "at most" one per 500 ms): during a
# storm every window has news, so each batch client would get one batch per window for as long as
# the arrivals last (a deploy's reconnects, spread by the handshake budget, last seconds). Changes
# in the batch just sent → how many windows until the next.
JANELAS_APOS = ((200, 4), (20, 2), (0, 1))

# The tenant's whole team now: [{atendenteId, atendenteNome, online, status}] (database and registry).
CarregarEquipe = Callable[[str], Awaitable[list[dict[str, Any]]]]


def pediu_lote(auth: object) -> bool:
    return isinstance(auth, dict) and auth.get("presenca") == LOTE


@dataclass
class _Equipe:
    sala: str
    membros: dict[str, dict[str, Any]] = field(default_factory=dict)
    mudados: dict[str, dict[str, Any]] = field(default_factory=dict)
    versao: int = 0
    carregando: asyncio.Future[None] | None = None
    carregada: bool = False
    durante_carga: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    agendado: asyncio.TimerHandle | None = None
    ultimo_envio: float = float("-inf")
    janelas: int = 1  # until the next batch, after the last one (JANELAS_APOS)


class PresencaLote:
    def __init__(self, namespace: Namespace, carregar: CarregarEquipe, janela_s: float = JANELA_S) -> None:
        self._ns = namespace
        self._carregar = carregar
        self._janela = janela_s
        self._equipes: dict[str, _Equipe] = {}  # empresa_id → its team, while it has batch clients
        self._por_sala: dict[str, str] = {}  # salas.atendentes(e) → e, to read the tapped broadcasts
        self.entregas = 0  # batches delivered (one per recipient socket), for tests and operators
        for evento in ("atendente:online", "atendente:offline", "atendente:status"):
            namespace.tap(evento, self._observar)

    # --- the connect of a batch client ------------------------------------------------------------

    async def entrou(self, socket: Socket, empresa_id: str) -> None:
        """Join the tenant's batch room and send the whole team, with no change lost in between."""
        equipe = self._equipes.get(empresa_id)
        if equipe is None:
            equipe = self._equipes[empresa_id] = _Equipe(salas.presenca_lote(empresa_id))
            self._por_sala[salas.atendentes(empresa_id)] = empresa_id
        if not equipe.carregada:
            await self._carregada(empresa_id, equipe)
        # No await from here on: every change after this snapshot is in a later batch.
        socket.join(equipe.sala)
        atual = {**equipe.membros, **equipe.mudados}
        socket.emit(EVENTO, {"versao": equipe.versao, "completo": True, "atendentes": list(atual.values())})
        self.entregas += 1

    async def _carregada(self, empresa_id: str, equipe: _Equipe) -> None:
        if equipe.carregando is None:
            equipe.carregando = asyncio.get_running_loop().create_future()
            try:
                lista = await self._carregar(empresa_id)
            except BaseException as exc:
                futuro, equipe.carregando = equipe.carregando, None
                futuro.set_exception(exc)
                futuro.exception()  # retrieved: the callers waiting see it, nobody else logs it
                raise
            equipe.membros = {a["atendenteId"]: a for a in lista}
            for atendente_id, mudanca in equipe.durante_carga:  # changes seen while reading
                self._aplicar(equipe, atendente_id, mudanca, agendar=False)
            equipe.durante_carga.clear()
            equipe.carregada = True
            equipe.carregando.set_result(None)
            return
        await asyncio.shield(equipe.carregando)

    # --- changes -------------------------------------------------------------------------------------

    def _observar(self, packet: EventPacket, target: Target) -> None:
        for sala in target.rooms:
            empresa_id = self._por_sala.get(sala)
            if empresa_id is None:
                continue
            equipe = self._equipes.get(empresa_id)
            if equipe is None or not packet.args or not isinstance(packet.args[0], dict):
                continue
            dados = packet.args[0]
            mudanca: dict[str, Any] = {"atendenteNome": dados.get("atendenteNome")}
            if packet.event == "atendente:status":
                mudanca["status"] = dados.get("status")
            else:
                mudanca["online"] = packet.event == "atendente:online"
            atendente_id = str(dados.get("atendenteId"))
            if not equipe.carregada:
                equipe.durante_carga.append((atendente_id, mudanca))
            else:
                self._aplicar(equipe, atendente_id, mudanca, agendar=True)

    def _aplicar(self, equipe: _Equipe, atendente_id: str, mudanca: dict[str, Any], *, agendar: bool) -> None:
        antes = equipe.mudados.get(atendente_id) or equipe.membros.get(atendente_id)
        base = antes or {"atendenteId": atendente_id, "atendenteNome": None, "online": False, "status": None}
        depois = {**base, **{k: v for k, v in mudanca.items() if v is not None or k != "atendenteNome"}}
        if depois == antes:
            return
        if agendar:
            equipe.mudados[atendente_id] = depois
            self._agendar(equipe)
        else:
            equipe.membros[atendente_id] = depois

    def _agendar(self, equipe: _Equipe) -> None:
        if equipe.agendado is not None:
            return
        loop = asyncio.get_running_loop()
        espera = max(0.0, equipe.ultimo_envio + self._janela * equipe.janelas - loop.time())
        equipe.agendado = loop.call_later(espera, self._enviar, equipe)

    def _enviar(self, equipe: _Equipe) -> None:
        equipe.agendado = None
        if not equipe.mudados:
            return
        mudados, equipe.mudados = equipe.mudados, {}
        equipe.membros.update(mudados)
        equipe.versao += 1
        equipe.ultimo_envio = asyncio.get_running_loop().time()
        equipe.janelas = next(janelas for minimo, janelas in JANELAS_APOS if len(mudados) >= minimo)
        payload = {"versao": equipe.versao, "completo": False, "atendentes": list(mudados.values())}
        adapter = self._ns.adapter
        alvo = Target(frozenset({equipe.sala}))
        self.entregas += len(adapter.members(equipe.sala))
        try:
            # This instance's batch clients only (each instance batches for its own), not recorded.
            adapter.broadcast_local(EventPacket(self._ns.name, EVENTO, (payload,)), alvo, record=False)
        except Exception:
            log.exception("publishing %s failed", EVENTO)

    def fechar(self) -> None:
        for equipe in self._equipes.values():
            if equipe.agendado is not None:
                equipe.agendado.cancel()
        self._equipes.clear()
        self._por_sala.clear()
