"""Fluent broadcast targeting: ``ns.to("a").to("b").except_("c").emit(...)``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .adapter import EventPacket

if TYPE_CHECKING:
    from .namespace import Namespace


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

    def to(self, room: str | list[str] | tuple[str, ...] | set[str] | frozenset[str]) -> BroadcastOperator:
        rooms = self._rooms | ({room} if isinstance(room, str) else set(room))
        return BroadcastOperator(self._nsp, rooms, self._exclude_rooms, self._exclude_sids)

    in_ = to

    def except_(
        self, room: str | list[str] | tuple[str, ...] | set[str] | frozenset[str]
    ) -> BroadcastOperator:
        excluded = self._exclude_rooms | ({room} if isinstance(room, str) else set(room))
        return BroadcastOperator(self._nsp, self._rooms, excluded, self._exclude_sids)

    def emit(self, event: str, *args: Any) -> None:
        from .socket import check_event_name

        check_event_name(event)
        self._nsp.adapter.broadcast(
            EventPacket(self._nsp.name, event, args), self._rooms, self._exclude_rooms, self._exclude_sids
        )
