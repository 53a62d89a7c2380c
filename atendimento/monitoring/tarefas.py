"""Stopping monitoring's background loops (Admin UI stats, event-loop lag): one way for both."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancelar(tarefa: asyncio.Task[Any] | None) -> None:
    """Cancel ``tarefa`` (if any) and wait until it has stopped; its cancellation is not an error."""
    if tarefa is None:
        return
    tarefa.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await tarefa
