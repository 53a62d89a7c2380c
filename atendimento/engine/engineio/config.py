"""Engine.IO settings shared by every transport of one server."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class EngineConfig:
    """What the handshake announces and the limits we enforce.

    ``max_buffered_bytes`` bounds each connection's unsent output (our buffer plus the socket's write
    buffer): a client that cannot keep up is disconnected instead of slowing the others or growing
    memory without bound. ``None`` means twice ``max_payload_bytes`` with a floor of 1 MiB.

    ``max_polling_packets`` caps the packets of one long-polling POST (bytes are capped by
    ``max_payload_bytes``). socket.io-client sends in one POST what it buffered while its previous POST
    was out: usually a handful of packets, but a front end that emits in a loop (say, entering every
    ticket of a full REST page, 200 at most) sends all but the first emit in the next POST. 256 covers
    that with room for acks and pongs, and stays 20 times below the 5,000 packets that made one request
    thousands of handler runs. Past it the session is closed as for a malformed payload.
    ``max_sessions_per_address`` caps the sessions open at once from one client address
    (IPv6 counted by /64); ``None`` is no cap. Refusals are logged at most ``refusal_log_lines`` per
    ``refusal_log_interval_s`` seconds (see refusals.py). ``handshakes_per_second`` bounds the new
    sessions per second (``None``: no bound; admission.py). A long-polling POST whose body has not
    arrived ``body_timeout_ms`` after the request did is answered 408 and its session closed: a
    client that trickles bytes holds nothing longer than that.
    """

    path: str = "/engine.io/"
    cors_origins: tuple[str, ...] = ()
    ping_interval_ms: int = 25_000
    ping_timeout_ms: int = 20_000
    max_payload_bytes: int = 1_000_000
    max_buffered_bytes: int | None = None
    upgrade_timeout_ms: int = 10_000
    allow_upgrades: bool = True
    max_polling_packets: int = 256
    max_sessions_per_address: int | None = None
    refusal_log_lines: int = 20
    refusal_log_interval_s: float = 10.0
    handshakes_per_second: float | None = None
    body_timeout_ms: int = 10_000

    @property
    def output_limit(self) -> int:
        if self.max_buffered_bytes is not None:
            return self.max_buffered_bytes
        return max(2 * self.max_payload_bytes, 1 << 20)
