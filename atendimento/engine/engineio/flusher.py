"""One flush per event-loop turn for every connection that got output during that turn.

Appending to a connection's buffer is all a broadcast does per recipient; the connection then asks
to be flushed. The first request of a turn schedules ``run`` with ``loop.call_soon``; by the time it
runs, a burst of emits has been appended, so each connection is written once, with every frame of
the burst joined into a single ``transport.write``.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class Flushable(Protocol):
    def flush(self) -> None: ...


class Flusher:
    __slots__ = ("_dirty", "_loop", "_scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._dirty: list[Flushable] = []
        self._scheduled = False

    def mark(self, item: Flushable) -> None:
        """Queue ``item`` for the next flush; the caller keeps its own "already queued" flag."""
        self._dirty.append(item)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.run)

    def run(self) -> None:
        dirty, self._dirty = self._dirty, []
        self._scheduled = False
        for item in dirty:
            item.flush()
