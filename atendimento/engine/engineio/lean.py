"""Single-consumer stand-ins for ``asyncio.Queue`` and ``asyncio.Event``, for what one connection keeps.

Idle connections are most of a realtime server's memory: the asyncio classes allocate four ``deque``
blocks (~3 KB) per connection, these a list or nothing.
"""

from __future__ import annotations

import asyncio

from atendimento.engine.engineio.types import Message


class ReceiveQueue:
    """What the receive side needs of ``asyncio.Queue`` (``put_nowait``, ``get``, ``empty``), one consumer."""

    __slots__ = ("_items", "_loop", "_waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._items: list[Message] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Message) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Message:
        while not self._items:
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items

    def drain(self) -> list[Message]:
        """Everything queued, in order; the queue is left empty."""
        items, self._items = self._items, []
        return items


class Flag:
    """What flow control needs of ``asyncio.Event`` (``set``, ``clear``, ``wait``), without its deque."""

    __slots__ = ("_loop", "_set", "_waiters")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._set = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> None:
        if self._set:
            return
        waiter: asyncio.Future[None] = self._loop.create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        await waiter
