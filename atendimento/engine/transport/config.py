"""Engine.IO settings shared by every transport of one server."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class EngineConfig:
    """What the handshake announces and the limits we enforce.

    ``max_buffered_bytes`` bounds each connection's unsent output (our buffer plus the socket's write
    buffer): a client that cannot keep up is disconnected instead of slowing the others or growing
    memory without bound. ``None`` means twice ``max_payload_bytes`` with a floor of 1 MiB.
    """

    path: str = "/engine.io/"
    cors_origins: tuple[str, ...] = ()
    ping_interval_ms: int = 25_000
    ping_timeout_ms: int = 20_000
    max_payload_bytes: int = 1_000_000
    max_buffered_bytes: int | None = None
    upgrade_timeout_ms: int = 10_000
    allow_upgrades: bool = True

    @property
    def output_limit(self) -> int:
        if self.max_buffered_bytes is not None:
            return self.max_buffered_bytes
        return max(2 * self.max_payload_bytes, 1 << 20)
