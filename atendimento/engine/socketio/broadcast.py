"""Fluent targeting: ``ns.to("a").to("b").except_("c").emit(...)``, or ``.disconnect_sockets()``,
``.sockets_join(room)``, ``.sockets_leave(room)`` on the same sockets. All go through the adapter, so
with a cluster adapter they reach the matching sockets of every instance."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from atendimento.engine.engineio.protocol.reasons import Reason
from atendimento.engine.socketio.adapter import EventPacket, Target

if TYPE_CHECKING:
    from atendimento.engine.socketio.namespace import Namespace

RoomArg = str | list[str] | tuple[str, ...] | set[str] | frozenset[str]


class BroadcastOperator:
    """Immutable: every ``to``/``except_`` returns a new operator (with a new ``Target``), so one can be
    kept and reused."""

    __slots__ = ("_nsp", "_target")

    def __init__(self, nsp: Namespace, target: Target) -> None:
        self._nsp = nsp
        self._target = target

    def to(self, room: RoomArg) -> BroadcastOperator:
        t = self._target
        return BroadcastOperator(self._nsp, Target(t.rooms | room_set(room), t.exclude_rooms, t.exclude_sids))

    in_ = to

    def except_(self, room: RoomArg) -> BroadcastOperator:
        t = self._target
        return BroadcastOperator(self._nsp, Target(t.rooms, t.exclude_rooms | room_set(room), t.exclude_sids))

    def emit(self, event: str, *args: Any) -> None:
        from atendimento.engine.socketio.socket import check_event_name

        check_event_name(event)
        self._nsp.adapter.broadcast(EventPacket(self._nsp.name, event, args), self._target)

    def disconnect_sockets(self, reason: Reason = Reason.SERVER_DISCONNECT) -> None:
        """Disconnect the targeted sockets (every socket of the namespace when no ``to``)."""
        self._nsp.adapter.disconnect_sockets(self._target, reason)

    def sockets_join(self, room: RoomArg) -> None:
        """Make the targeted sockets join ``room`` (one name or several)."""
        self._nsp.adapter.sockets_join(room_set(room), self._target)

    def sockets_leave(self, room: RoomArg) -> None:
        """Make the targeted sockets leave ``room`` (one name or several)."""
        self._nsp.adapter.sockets_leave(room_set(room), self._target)


def room_set(room: str | Iterable[str]) -> frozenset[str]:
    """One room name or several, as a set (a ``str`` is one name, not its characters)."""
    if isinstance(room, str):
        return one_room(room)
    rooms = frozenset(room)
    return one_room(next(iter(rooms))) if len(rooms) == 1 else rooms


@lru_cache(maxsize=4096)
def one_room(room: str) -> frozenset[str]:
    """The set of one room, the same object for every emit to that room: each broadcast kept for
    connection state recovery holds its target, and a set of one is 216 bytes."""
    return frozenset((room,))
