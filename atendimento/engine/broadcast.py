"""Fluent targeting: ``ns.to("a").to("b").except_("c").emit(...)``, or ``.disconnect_sockets()``,
``.sockets_join(room)``, ``.sockets_leave(room)`` on the same sockets. All go through the adapter, so
with a cluster adapter they reach the matching sockets of every instance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .adapter import EventPacket

if TYPE_CHECKING:
    from .namespace import Namespace

RoomArg = str | list[str] | tuple[str, ...] | set[str] | frozenset[str]


class BroadcastOperator:
    """Immutable: every ``to``/``except_`` returns a new operator, so one can be kept and reused."""

    __slots__ = ("_exclude_rooms", "_exclude_sids", "_nsp", "_rooms")

    def __init__(
        self,
        nsp: Namespace,
        rooms: frozenset[str],
        exclude_rooms: frozenset[str],
        exclude_sids: frozenset[str],
    ) -> None:
        self._nsp = nsp
        self._rooms = rooms
        self._exclude_rooms = exclude_rooms
        self._exclude_sids = exclude_sids

    def to(self, room: RoomArg) -> BroadcastOperator:
        rooms = self._rooms | _set(room)
        return BroadcastOperator(self._nsp, rooms, self._exclude_rooms, self._exclude_sids)

    in_ = to

    def except_(self, room: RoomArg) -> BroadcastOperator:
        excluded = self._exclude_rooms | _set(room)
        return BroadcastOperator(self._nsp, self._rooms, excluded, self._exclude_sids)

    def emit(self, event: str, *args: Any) -> None:
        from .socket import check_event_name

        check_event_name(event)
        self._nsp.adapter.broadcast(
            EventPacket(self._nsp.name, event, args), self._rooms, self._exclude_rooms, self._exclude_sids
        )

    def disconnect_sockets(self, reason: str = "io server disconnect") -> None:
        """Disconnect the targeted sockets (every socket of the namespace when no ``to``)."""
        self._nsp.adapter.disconnect_sockets(self._rooms, self._exclude_rooms, self._exclude_sids, reason)

    def sockets_join(self, room: RoomArg) -> None:
        """Make the targeted sockets join ``room`` (one name or several)."""
        self._nsp.adapter.sockets_join(_set(room), self._rooms, self._exclude_rooms, self._exclude_sids)

    def sockets_leave(self, room: RoomArg) -> None:
        """Make the targeted sockets leave ``room`` (one name or several)."""
        self._nsp.adapter.sockets_leave(_set(room), self._rooms, self._exclude_rooms, self._exclude_sids)


def _set(room: RoomArg) -> frozenset[str]:
    return frozenset((room,)) if isinstance(room, str) else frozenset(room)
