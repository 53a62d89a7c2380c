"""The log of what clients got refused for: one line per refusal, at most so many per interval.

Every refusal a client causes (a malformed packet, a payload over a bound, too many sessions from one
address, a client too slow to read) is worth one line to the operator, and never a traceback. A client
can cause refusals as fast as it can open connections, so the lines are rate-limited per process:
at most ``lines`` per ``interval`` seconds; what is dropped is counted, the count is logged as one
line when the next interval starts, and ``suppressed_total`` keeps the running total (for metrics).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any


class RefusalLog:
    __slots__ = (
        "_clock",
        "_interval",
        "_lines",
        "_log",
        "_suppressed",
        "_used",
        "_window_end",
        "suppressed_total",
    )

    def __init__(
        self,
        log: logging.Logger,
        lines: int,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = log
        self._lines = lines
        self._interval = interval
        self._clock = clock
        self._window_end = 0.0
        self._used = 0
        self._suppressed = 0
        self.suppressed_total = 0

    def __call__(self, msg: str, *args: Any, level: int = logging.INFO) -> bool:
        """Log one refusal line unless this interval's quota is spent; whether it was logged."""
        now = self._clock()
        if now >= self._window_end:
            if self._suppressed:
                self._log.warning(
                    "%d refusal log lines suppressed in the last %g s", self._suppressed, self._interval
                )
            self._window_end = now + self._interval
            self._used = 0
            self._suppressed = 0
        if self._used >= self._lines:
            self._suppressed += 1
            self.suppressed_total += 1
            return False
        self._used += 1
        self._log.log(level, msg, *args)
        return True
