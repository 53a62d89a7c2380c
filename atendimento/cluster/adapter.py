"""The Redis adapter: the engine's ``Adapter``, plus fan-out to every other instance through Redis.

``broadcast`` (what ``ns.emit`` calls) delivers to this instance's sockets first, then publishes one
message on the channel of the emit's tenant (particao.py: the tenant all its rooms belong to; the
namespace's instance-wide channel otherwise). Only the instances holding a socket (or a saved
session) of that tenant read it. Each of them hands it to ``broadcast_local``, which encodes
the packet once there and appends it to each matching socket's buffer: so a socket gets an event once,
whichever instance emitted it, and no instance re-publishes what it received. Messages carry the
sender's instance id and an instance skips its own (Redis echoes them back to the subscriber).

Requests that reach sockets on every instance: ``disconnect_sockets`` (e.g. every socket of
``user:{id}``), ``sockets_join`` and ``sockets_leave``, what the engine's ``ns.disconnect_room`` and
``ns.to(room).disconnect_sockets()/sockets_join()/sockets_leave()`` call. Each does the engine
adapter's local part, then publishes; the other instances apply it with the engine's ``*_local``
methods. They are fire-and-forget, on the same channel as the broadcasts, so they are applied in the
order they were sent relative to the emits.

Received messages are validated (envelopes.py); a bad one is counted and dropped, never delivered.
Publishing never blocks and never raises: when Redis is away the emit has still reached this
instance's sockets, and the link counts it as not shared.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Set
from typing import TYPE_CHECKING, Any, TypeVar

from atendimento.cluster import metricas, particao
from atendimento.cluster.envelopes import (
    Alvo,
    Broadcast,
    Desconectar,
    Entrar,
    InvalidEnvelope,
    Retomar,
    Sair,
    argumentos,
    canal_empresa,
    channel,
    codificar,
    codificar_broadcast,
    decodificar,
)
from atendimento.cluster.particao import EmpresaDaSala, EmpresasAssinadas, empresa_do_alvo
from atendimento.cluster.recuperacao import RecuperacaoRedis
from atendimento.engine import Reason
from atendimento.engine.socketio.adapter import Adapter, EventPacket, Target

if TYPE_CHECKING:
    from atendimento.cluster.redis_link import RedisLink
    from atendimento.engine.socketio.namespace import Namespace
    from atendimento.engine.socketio.recovery import PacketLog

log = logging.getLogger(__name__)

_Pedido = TypeVar("_Pedido", Desconectar, Entrar, Sair)


class RedisAdapter(Adapter):
    """One per namespace, built by the engine's adapter factory.

    wiring.py installs ``functools.partial(RedisAdapter, link=..., instancia=...)`` with
    ``server.set_adapter_factory``: every namespace of the instance shares the one Redis link.
    """

    def __init__(
        self,
        namespace: Namespace,
        link: RedisLink,
        instancia: str,
        empresa_da_sala: EmpresaDaSala | None = None,
        graca_s: float | None = None,
    ) -> None:
        super().__init__(namespace)
        self.link = link
        self.instancia = instancia
        self.channel = channel(namespace.name)
        self.empresa_da_sala = empresa_da_sala
        self.empresas = EmpresasAssinadas(
            link,
            lambda empresa: canal_empresa(namespace.name, empresa),
            self._receber,
            graca_s=particao.GRACA_S if graca_s is None else graca_s,
        )
        self._empresa_do_sid: dict[str, str] = {}
        # Plain counters for tests and health(); Prometheus has the process-wide ones.
        self.descartadas = 0
        self.descartadas_por_motivo: Counter[str] = Counter()
        self.recebidas = 0
        # Connection state recovery across instances (recuperacao.py): while this instance waits for a
        # hand-over, the offset numbers of its own emits; empty (one falsy check per emit) otherwise.
        self.vigias: list[set[int]] = []
        # With recovery on: the offset numbers of this instance's own broadcasts published and not yet
        # echoed back by Redis, oldest first. A hand-over answered now leaves them out: they come after
        # the request in Redis' order, so the instance that asked gets them itself.
        self.em_voo: deque[int] = deque()
        recuperacao = namespace.server.recovery
        self.recuperacao = recuperacao if isinstance(recuperacao, RecuperacaoRedis) else None
        if self.recuperacao is not None:
            self.recuperacao.registrar_adaptador(self)
        link.assinar(self.channel, self._receber)
        link.ao_mudar_disponibilidade(self._disponibilidade)

    def use_log(self, log: PacketLog) -> None:
        super().use_log(log)
        if not self.link.disponivel:
            log.interrupt()  # not sharing yet (start-up, or Redis away): nothing to replay from

    def _disponibilidade(self, disponivel: bool) -> None:
        # Connection state recovery (engine/socketio/recovery.py) replays what this instance delivered. While
        # Redis is away the other instances' emits don't arrive, so a socket away during that time
        # must not be told it recovered: the log refuses every replay that spans the outage.
        self.em_voo.clear()  # echoes of publishes lost with the link never come; replays are refused anyway
        if self.log is not None:
            if disponivel:
                self.log.resume()
            else:
                self.log.interrupt()

    @property
    def nao_compartilhadas(self) -> int:
        """Emits and requests this instance could not share (all namespaces: one Redis link)."""
        return self.link.nao_compartilhadas

    # --- which tenants this instance reads ------------------------------------------------------------

    def add(self, sid: str, room: str) -> None:
        super().add(sid, room)
        if self.empresa_da_sala is not None and sid not in self._empresa_do_sid:
            empresa = self.empresa_da_sala(room)
            if empresa is not None:  # a socket's first room of a tenant: its tenant from now on
                self._empresa_do_sid[sid] = empresa
                self.empresas.entrou(empresa)

    def remove_all(self, sid: str) -> None:
        super().remove_all(sid)
        empresa = self._empresa_do_sid.pop(sid, None)
        if empresa is not None:
            self.empresas.saiu(empresa)

    def canal_de(self, rooms: frozenset[str]) -> str:
        """The channel an emit or request to ``rooms`` travels on."""
        empresa = empresa_do_alvo(rooms, self.empresa_da_sala) if rooms else None
        return self.channel if empresa is None else self.empresas.canal(empresa)

    def empresa_das_salas(self, rooms: frozenset[str]) -> str | None:
        """The tenant of a saved session's rooms (recovery: which channel its hand-over goes on)."""
        if self.empresa_da_sala is None:
            return None
        return next((e for e in map(self.empresa_da_sala, sorted(rooms)) if e is not None), None)

    # --- outgoing ----------------------------------------------------------------------------------

    def broadcast(self, packet: EventPacket, target: Target) -> None:
        # Publish first, deliver locally second: queuing the message wakes the publisher task ahead of
        # the local flush (both are callbacks of the next loop turn, run in order), so the other
        # instances start writing their sockets while this one writes its own, not after.
        rooms = target.rooms
        publicado = False
        if not (rooms and all(room in self.namespace.sockets for room in rooms)):
            # (an emit addressed only to sockets of ours by sid is nobody else's business)
            try:
                dados = codificar_broadcast(
                    self.instancia,
                    packet.nsp,
                    packet.event,
                    packet.args,
                    rooms,
                    target.exclude_rooms,
                    target.exclude_sids,
                )
            except ValueError as exc:
                log.error("cluster: %s on %s not shared: %s", packet.event, packet.nsp, exc)
                self.link.contar_nao_compartilhada("serializacao")
            else:
                publicado = self.link.publicar(self.canal_de(rooms), dados)
        self.broadcast_local(packet, target)
        registro = self.log
        if registro is not None:  # recovery on: what a hand-over must know of our own emits
            if publicado:
                self.em_voo.append(registro.head)
            if self.vigias:
                for vigia in self.vigias:
                    vigia.add(registro.head)

    def disconnect_sockets(self, target: Target, reason: Reason = Reason.SERVER_DISCONNECT) -> None:
        """Disconnect the matching sockets on every instance (all of them for ``EVERYONE``)."""
        pedido = self._pedido(Desconectar, target, reason=reason)
        super().disconnect_sockets(target, reason)
        self.link.publicar(self.canal_de(target.rooms), codificar(pedido))

    def sockets_join(self, target_rooms: Set[str], target: Target) -> None:
        """Make the matching sockets on every instance join ``target_rooms``."""
        pedido = self._pedido(Entrar, target, target_rooms=sorted(target_rooms))
        super().sockets_join(target_rooms, target)
        self.link.publicar(self.canal_de(target.rooms), codificar(pedido))

    def sockets_leave(self, target_rooms: Set[str], target: Target) -> None:
        """Make the matching sockets on every instance leave ``target_rooms``."""
        pedido = self._pedido(Sair, target, target_rooms=sorted(target_rooms))
        super().sockets_leave(target_rooms, target)
        self.link.publicar(self.canal_de(target.rooms), codificar(pedido))

    def _pedido(self, tipo: type[_Pedido], target: Target, **campos: Any) -> _Pedido:
        """The request message for ``target``. Built (and validated) before the local part is done, so
        a request the model refuses (e.g. no ``target_rooms``) raises having changed nothing."""
        return tipo(
            instance=self.instancia,
            nsp=self.namespace.name,
            rooms=sorted(target.rooms),
            except_rooms=sorted(target.exclude_rooms),
            except_sids=sorted(target.exclude_sids),
            **campos,
        )

    # --- incoming ----------------------------------------------------------------------------------

    def _receber(self, dados: bytes) -> None:
        try:
            envelope = decodificar(dados, self.namespace.name)
            if isinstance(envelope, Retomar):
                if self.recuperacao is not None:
                    if envelope.instance == self.instancia:
                        self.recuperacao.ao_eco(self, envelope)
                    else:
                        self.recuperacao.ao_pedido(self, envelope)
                return
            if envelope.instance == self.instancia:
                # Our own, echoed by Redis: already delivered locally.
                metricas.BACKPLANE_DESCARTADAS.inc()
                if isinstance(envelope, Broadcast) and self.em_voo:
                    self.em_voo.popleft()
                return
            if isinstance(envelope, Broadcast):
                packet = EventPacket(envelope.nsp, envelope.event, argumentos(envelope))
                self.recebidas += 1
                alvo = _alvo(envelope)
                if not any(True for _ in self.recipients(alvo)):
                    metricas.BACKPLANE_DESCARTADAS.inc()  # still logged below, for a socket that is away
                self.broadcast_local(packet, alvo)
            elif isinstance(envelope, Desconectar):
                self.recebidas += 1
                self.disconnect_sockets_local(_alvo(envelope), envelope.reason)
            elif isinstance(envelope, Entrar):
                self.recebidas += 1
                self.sockets_join_local(frozenset(envelope.target_rooms), _alvo(envelope))
            else:
                self.recebidas += 1
                self.sockets_leave_local(frozenset(envelope.target_rooms), _alvo(envelope))
        except InvalidEnvelope as invalida:
            self._descartar(invalida.motivo)

    def _descartar(self, motivo: str) -> None:
        self.descartadas += 1
        self.descartadas_por_motivo[motivo] += 1
        metricas.MENSAGENS_DESCARTADAS.labels(motivo).inc()
        # Debug only: a flood of foreign messages must not flood the log too.
        log.debug("cluster: message dropped on %s (%s)", self.channel, motivo)


def _alvo(envelope: Alvo) -> Target:
    """A received request's target: rooms, rooms excepted, socket ids excepted."""
    return Target(
        frozenset(envelope.rooms), frozenset(envelope.except_rooms), frozenset(envelope.except_sids)
    )
