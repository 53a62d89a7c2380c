"""Room membership and broadcast for one namespace: the seam a cluster adapter extends.

``Adapter`` keeps ``rooms`` (room → set of socket ids) and ``sids`` (socket id → set of rooms), and
delivers broadcasts to the sockets of this process. Every socket is also implicitly addressable by
its own id as a room (``to=sid``), as in the reference server, without storing a one-member set.

The engine builds one adapter per namespace with ``Server(adapter_factory=...)``, a callable
``factory(namespace) -> Adapter`` (the class itself by default; ``functools.partial`` or a closure to
pass more, such as a Redis link). The hook for a multi-instance deployment (cluster/, Redis)::

    class RedisAdapter(Adapter):
        def broadcast(self, packet, target):
            self.broadcast_local(packet, target)   # our sockets
            publish(json.dumps({"packet": packet.to_dict(), "rooms": sorted(target.rooms), ...}))

        # on a message from another instance:
        #     adapter.broadcast_local(EventPacket.from_dict(msg["packet"]),
        #                             Target(frozenset(msg["rooms"]), ...))

A ``Target`` (frozen: ``rooms``, ``exclude_rooms``, ``exclude_sids``) says which sockets a broadcast
or a request reaches; ``EVERYONE`` is every socket of the namespace. ``broadcast`` is what
``Namespace.emit`` calls; ``broadcast_local`` must only ever deliver to this
process's sockets, so a message received from the bus is never re-published. Acting on sockets
follows the same pattern: ``disconnect_sockets``, ``sockets_join`` and ``sockets_leave`` (what
``ns.disconnect_room`` and ``ns.to(room).disconnect_sockets()/sockets_join()/sockets_leave()`` call)
act on this process's sockets here through their ``*_local`` twins; a cluster adapter extends them to
also reach the other instances, and calls the ``*_local`` ones for a request it receives.

``EventPacket`` holds the namespace, event name and arguments, all JSON-able unless an argument is
``bytes`` (a cluster adapter that must carry binary can encode those itself, e.g. base64 or msgpack).

Hot path: ``broadcast_local`` encodes and frames the packet once (``Outgoing``), then only appends
that object to each recipient's buffer; no task, no copy, no per-recipient encoding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Set, Sized
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from atendimento.engine.engineio.protocol.outgoing import message
from atendimento.engine.engineio.protocol.reasons import Reason
from atendimento.engine.socketio.protocol.packets import encode_event

_log = logging.getLogger("atendimento.engine")

if TYPE_CHECKING:
    from atendimento.engine.socketio.monitor import Monitors
    from atendimento.engine.socketio.namespace import Namespace
    from atendimento.engine.socketio.recovery import PacketLog


@dataclass(slots=True, frozen=True)
class EventPacket:
    """A broadcast event, independent of any connection: what a cluster adapter publishes."""

    nsp: str
    event: str
    args: tuple[Any, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"nsp": self.nsp, "event": self.event, "args": list(self.args)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EventPacket:
        return cls(data["nsp"], data["event"], tuple(data["args"]))


_EMPTY: frozenset[str] = frozenset()


@dataclass(slots=True, frozen=True)
class Target:
    """Which sockets a broadcast or a request reaches: those in any of ``rooms`` (every socket of the
    namespace when it is empty), minus those in any of ``exclude_rooms``, minus ``exclude_sids``.

    A socket id names the room of that one socket. Built once per emit or request (the fluent operator
    builds one), never per recipient. ``EVERYONE`` is the empty one.
    """

    rooms: frozenset[str] = _EMPTY
    exclude_rooms: frozenset[str] = _EMPTY
    exclude_sids: frozenset[str] = _EMPTY

    @classmethod
    def room(cls, room: str) -> Target:
        """The sockets in ``room`` (or the socket whose id it is)."""
        return cls(frozenset((room,)))


EVERYONE: Final[Target] = Target()


def _discard(index: dict[str, set[str]], key: str, member: str) -> None:
    """Take ``member`` out of ``index[key]``, dropping the set once empty (rooms and sids alike)."""
    found = index.get(key)
    if found is not None:
        found.discard(member)
        if not found:
            del index[key]


AdapterFactory: TypeAlias = "Callable[[Namespace], Adapter]"
"""What ``Server(adapter_factory=...)`` takes: builds the adapter of one namespace (a class will do)."""


class Adapter:
    def __init__(self, namespace: Namespace) -> None:
        self.namespace = namespace
        self.rooms: dict[str, set[str]] = {}
        self.sids: dict[str, set[str]] = {}
        # With connection state recovery on (engine/socketio/recovery.py): the namespace's packet log, which
        # gives every broadcast its offset, and the sockets being restored (their connect handler is
        # running), which get broadcasts held until their CONNECT answer.
        self.log: PacketLog | None = None
        self.restoring: dict[str, Any] = {}

    def use_log(self, log: PacketLog) -> None:
        """Record broadcasts into ``log`` (the server does this when recovery is on)."""
        self.log = log

    # ------------------------------------------------------------------------------------- membership

    def add(self, sid: str, room: str) -> None:
        members = self.rooms.get(room)
        if members is None:
            members = self.rooms[room] = set()
        members.add(sid)
        joined = self.sids.get(sid)
        if joined is None:
            joined = self.sids[sid] = set()
        joined.add(room)

    def remove(self, sid: str, room: str) -> None:
        _discard(self.rooms, room, sid)
        _discard(self.sids, sid, room)

    def remove_all(self, sid: str) -> None:
        for room in self.sids.pop(sid, ()):
            _discard(self.rooms, room, sid)

    def rooms_of(self, sid: str) -> frozenset[str]:
        return frozenset(self.sids.get(sid, _EMPTY))

    def members(self, room: str) -> Set[str]:
        """The socket ids in ``room`` (a socket id names the room of that one socket)."""
        found = self.rooms.get(room)
        if found is not None:
            return found
        if room in self.namespace.sockets:
            return {room}
        return _EMPTY

    def recipients(self, target: Target) -> Iterable[str]:
        """Every socket id ``target`` matches, each once. May be a live set: do not mutate while iterating."""
        rooms = target.rooms
        if rooms:
            if len(rooms) == 1:
                (room,) = rooms
                targets: Set[str] = self.members(room)
            else:
                union: set[str] = set()
                for room in rooms:
                    union.update(self.members(room))
                targets = union
        else:
            targets = self.namespace.sockets.keys()
        exclude_rooms = target.exclude_rooms
        if exclude_rooms or target.exclude_sids:
            excluded = set(target.exclude_sids)
            for room in exclude_rooms:
                excluded.update(self.members(room))
            return [sid for sid in targets if sid not in excluded]
        return targets

    # -------------------------------------------------------------------------------------- broadcast

    def broadcast(self, packet: EventPacket, target: Target) -> None:
        """Deliver to every matching socket of the deployment. Override to fan out to other instances."""
        self.broadcast_local(packet, target)

    def broadcast_local(self, packet: EventPacket, target: Target, *, record: bool = True) -> None:
        """Deliver to the matching sockets of this process only. ``record=False``: not kept for
        connection state recovery (no offset), for state a reconnect gets afresh anyway."""
        taps = self.namespace.taps
        if taps:
            observer = taps.get(packet.event)
            if observer is not None:
                try:
                    observer(packet, target)
                except Exception:
                    _log.exception("broadcast observer of %s failed", packet.event)
        sockets = self.namespace.sockets
        log = self.log if record else None
        if log is None:
            if not sockets:
                return
            out = message(encode_event(packet.nsp, packet.event, packet.args))
        else:
            # Recorded even with no socket here now: a socket that is away may come back for it.
            # The offset is part of the one encoding every recipient shares.
            n, offset = log.next_offset()
            out = message(encode_event(packet.nsp, packet.event, (*packet.args, offset)))
            log.append(n, target, out)
        get = sockets.get
        restoring = self.restoring
        recipients = self.recipients(target)
        for sid in recipients:
            socket = get(sid)
            if socket is not None:
                socket.session.push(out)
            elif restoring:
                pending = restoring.get(sid)
                if pending is not None:
                    pending._send(out)  # held until its CONNECT answer
        monitors = self.namespace.server.monitors
        if monitors.all:
            # Once per emit: the count and one recipient, never a call per recipient.
            self._report(monitors, packet, recipients, out.size)

    @staticmethod
    def _report(monitors: Monitors, packet: EventPacket, recipients: Iterable[str], size: int) -> None:
        count = len(recipients) if isinstance(recipients, Sized) else sum(1 for _ in recipients)
        first = next(iter(recipients), None) if count else None
        monitors.emitted(packet.nsp, packet.event, count, size, first)

    # ------------------------------------------------------------------------------- acting on sockets

    def disconnect_sockets(self, target: Target, reason: Reason = Reason.SERVER_DISCONNECT) -> None:
        """Disconnect the matching sockets of the deployment (``EVERYONE``: every socket).

        Override to reach other instances; ``on_disconnect`` gets ``reason``.
        """
        self.disconnect_sockets_local(target, reason)

    def sockets_join(self, target_rooms: Set[str], target: Target) -> None:
        """Make the matching sockets of the deployment join ``target_rooms``. Override to reach others."""
        self.sockets_join_local(target_rooms, target)

    def sockets_leave(self, target_rooms: Set[str], target: Target) -> None:
        """Make the matching sockets of the deployment leave ``target_rooms``. Override to reach others."""
        self.sockets_leave_local(target_rooms, target)

    def disconnect_sockets_local(self, target: Target, reason: Reason = Reason.SERVER_DISCONNECT) -> None:
        """Disconnect the matching sockets of this process only."""
        sockets = self.namespace.sockets
        for sid in self._targets(target):
            socket = sockets.get(sid)
            if socket is not None:
                socket.disconnect(reason)

    def sockets_join_local(self, target_rooms: Set[str], target: Target) -> None:
        """The matching connected sockets of this process join ``target_rooms``."""
        sockets = self.namespace.sockets
        monitors = self.namespace.server.monitors
        for sid in self._targets(target):
            if sid in sockets:
                for room in target_rooms:
                    self.add(sid, room)
                    if monitors.all:
                        monitors.room_joined(self.namespace.name, room, sid)

    def sockets_leave_local(self, target_rooms: Set[str], target: Target) -> None:
        """The matching sockets of this process leave ``target_rooms``."""
        monitors = self.namespace.server.monitors
        for sid in self._targets(target):
            for room in target_rooms:
                self.remove(sid, room)
                if monitors.all and sid in self.namespace.sockets:
                    monitors.room_left(self.namespace.name, room, sid)

    def _targets(self, target: Target) -> list[str]:
        # A copy: disconnecting, joining or leaving changes the sets recipients() may return.
        return list(self.recipients(target))
