"""Who may open a new Engine.IO session now: the drain and the handshake budget.

Both answer a refused handshake with HTTP 503 (never a Socket.IO CONNECT_ERROR, after which a
socket.io-client gives up for good): the client's reconnection backoff, or a balancer that retries
another upstream on 503, takes it elsewhere or later. Only *new* sessions are counted; the requests
of a session that exists (polls, posts, the WebSocket upgrade) are never refused here.

``handshakes_per_second`` is a token bucket whose burst is a tenth of a second's worth (at least 1):
a storm of reconnects after a deploy is spread evenly over time instead of all authenticating at
once while the sockets already connected wait behind them on the event loop (a burst of B
handshakes costs the loop B times one handshake's CPU in a row).
"""

from __future__ import annotations

import time
from collections.abc import Callable

# The body of a 503 handshake, in the shape of the reference server's errors ({code, message}).
BURST_S = 0.1
DRAINING = (503, "Server draining")
BUSY = (503, "Too many handshakes")


class Admission:
    __slots__ = ("_clock", "_rate", "_tokens", "_updated", "draining", "refused_busy", "refused_draining")

    def __init__(
        self, handshakes_per_second: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._rate = handshakes_per_second or 0.0
        self._tokens = self._burst()
        self._updated = clock()
        self.draining = False
        # Counters for operators and tests.
        self.refused_draining = 0
        self.refused_busy = 0

    @property
    def rate(self) -> float:
        return self._rate

    def set_rate(self, handshakes_per_second: float | None) -> None:
        """Change the budget (``None`` or 0: no budget); the bucket starts full."""
        self._rate = handshakes_per_second or 0.0
        self._tokens = self._burst()
        self._updated = self._clock()

    def _burst(self) -> float:
        return max(1.0, self._rate * BURST_S)

    def refusal(self) -> tuple[int, str] | None:
        """None to admit a new session now (and count it), or why not."""
        if self.draining:
            self.refused_draining += 1
            return DRAINING
        if self._rate <= 0:
            return None
        now = self._clock()
        self._tokens = min(self._burst(), self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens < 1.0:
            self.refused_busy += 1
            return BUSY
        self._tokens -= 1.0
        return None
