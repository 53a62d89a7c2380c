"""One Engine.IO session's decisions, with no I/O: lifecycle, heartbeat, connect deadline, upgrade, close.

``SessionState`` is the session the way the specification sees it, in the manner of the sans-I/O
``protocol.py`` of the ``websockets`` library: every method takes the time (``now``, in the loop
clock's seconds) as an argument and answers what to do (packets to send, closes, forgetting the
session) and ``next_wake()`` says when it next wants to be asked. It reads no clock and touches no
socket or event loop; the transport (``engine/engineio/session.py``) moves the bytes and runs the
timer, so every rule here is unit-tested with plain numbers (tests/engine/engineio/protocol/test_session.py).

Times that are not set are ``math.inf``: "never" compares like any deadline, so ``next_wake()`` is a
plain ``min``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from atendimento.engine.engineio.protocol.outgoing import Outgoing, control
from atendimento.engine.engineio.protocol.reasons import CLIENT_FAULTS, Reason

NEVER = math.inf

POLLING = "polling"
WEBSOCKET = "websocket"

PING = control("2")
NOOP = control("6")
CLOSE = control("1")
PROBE_PONG = control("3probe")


class Lifecycle(Enum):
    """OPEN, then CLOSING (no more output accepted, teardown scheduled), then CLOSED."""

    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class Upgrade(Enum):
    """Where a polling session is in its move to WebSocket (RFC-like names of the spec's steps)."""

    NONE = "none"  # no WebSocket is probing (or the session is already on WebSocket)
    PROBING = "probing"  # a WebSocket is open for this session, its ``2probe`` not seen yet
    UPGRADING = "upgrading"  # ``3probe`` answered: polling GETs end with a noop until the ``5``


class Due(Enum):
    """What a sweep asks the transport to do for one session; a close's value is its reason."""

    PING = "ping"  # queue a ping packet
    PING_TIMEOUT = Reason.PING_TIMEOUT  # close: no pong within pingTimeout
    CONNECT_TIMEOUT = Reason.FORCED_CLOSE  # close: no Socket.IO namespace joined in time
    FORGET = "forget"  # a closed session nobody came for: drop it from the session table


class UpgradeStep(Enum):
    """The answer to one packet received on a probing WebSocket."""

    ANSWER_PROBE = "answer probe"  # send ``3probe`` on it and end the pending GET with a noop
    COMPLETE = "complete"  # move the session's output to it
    ABORT = "abort"  # close it; the session stays on polling


class Teardown(Enum):
    """What closing leaves of the session in the server's table."""

    ALREADY_CLOSED = "already closed"  # nothing to do
    FORGET = "forget"  # drop it now
    LINGER = "linger"  # keep it until its GETs collect the close packet (see ``teardown``)


_NOTHING: tuple[Due, ...] = ()
_PING = (Due.PING,)
_PING_TIMEOUT = (Due.PING_TIMEOUT,)
_CONNECT_TIMEOUT = (Due.CONNECT_TIMEOUT,)
_PING_THEN_CONNECT_TIMEOUT = (Due.PING, Due.CONNECT_TIMEOUT)
_FORGET = (Due.FORGET,)


@dataclass(slots=True, frozen=True)
class Timing:
    """The server's intervals, in seconds; one object shared by every session."""

    ping_interval: float
    ping_timeout: float
    upgrade_timeout: float


class SessionState:
    """The decisions of one session. Fields are read freely; they change only through the methods."""

    __slots__ = (
        "connect_by",
        "final",
        "lifecycle",
        "linger_until",
        "lingering",
        "ping_at",
        "pong_by",
        "timing",
        "transport",
        "upgrade",
        "upgrade_by",
        "wake_at",
    )

    def __init__(self, timing: Timing, transport: str, now: float) -> None:
        self.timing = timing
        self.transport = transport
        self.lifecycle = Lifecycle.OPEN
        self.upgrade = Upgrade.NONE
        self.upgrade_by = NEVER  # when a probing WebSocket that has not finished is given up
        self.ping_at = now + timing.ping_interval  # when the next ping is due
        self.pong_by = NEVER  # the pong deadline of the ping in flight; NEVER: no ping in flight
        # The layer above's deadline to join a Socket.IO namespace (its connect timeout).
        self.connect_by = NEVER
        # A closed session kept for its client's GETs (see ``teardown``) is forgotten at this time.
        self.linger_until = NEVER
        self.lingering = False
        self.final: Outgoing | None = None  # what a pending GET answers once the session is closed
        # ``next_wake()``, kept up to date by every method that moves a deadline, so the sweep over
        # all sessions skips the idle ones with one comparison (``now < state.wake_at``).
        self.wake_at = self.ping_at

    def __repr__(self) -> str:
        return f"<SessionState {self.lifecycle.name} {self.transport} {self.upgrade.name}>"

    # -------------------------------------------------------------------------------------- the clock

    def next_wake(self) -> float:
        """The earliest time ``tick`` may have something to do (``NEVER``: nothing will come)."""
        return self.wake_at

    def _rewake(self) -> None:
        lifecycle = self.lifecycle
        if lifecycle is Lifecycle.OPEN:
            heartbeat = self.pong_by if self.pong_by != NEVER else self.ping_at
            self.wake_at = min(heartbeat, self.connect_by)
        elif lifecycle is Lifecycle.CLOSED:
            self.wake_at = self.linger_until
        else:
            self.wake_at = NEVER  # CLOSING: the transport tears it down on the next loop turn

    def tick(self, now: float) -> tuple[Due, ...]:
        """What is due at ``now``, in the order to do it (a ping can precede a connect-timeout close).

        A ping is counted as sent when asked for: its pong deadline runs from when the ping was due,
        not from this (possibly late) tick, so a client never gets more than pingInterval +
        pingTimeout of silence.
        """
        lifecycle = self.lifecycle
        if lifecycle is not Lifecycle.OPEN:
            if lifecycle is Lifecycle.CLOSED and now >= self.linger_until:
                return _FORGET
            return _NOTHING
        ping = False
        if self.pong_by != NEVER:
            if now >= self.pong_by:
                return _PING_TIMEOUT
        elif now >= self.ping_at:
            self.pong_by = self.ping_at + self.timing.ping_timeout
            self._rewake()
            ping = True
        if now >= self.connect_by:
            return _PING_THEN_CONNECT_TIMEOUT if ping else _CONNECT_TIMEOUT
        return _PING if ping else _NOTHING

    # -------------------------------------------------------------------------------------- heartbeat

    def pong(self, now: float) -> None:
        """A pong (wanted or not) clears the ping in flight; the next ping is due pingInterval later."""
        self.pong_by = NEVER
        self.ping_at = now + self.timing.ping_interval
        self._rewake()

    def ping_timed_out(self, now: float) -> bool:
        """Whether the pong deadline has passed, whether or not a tick got to ask for the ping yet."""
        due = self.pong_by if self.pong_by != NEVER else self.ping_at + self.timing.ping_timeout
        return now >= due

    # -------------------------------------------------------------------------------- connect deadline

    def await_connect(self, now: float, timeout: float) -> None:
        """The layer above gives the session ``timeout`` seconds to join a namespace."""
        self.connect_by = now + timeout
        self._rewake()

    def connected(self) -> None:
        """Joined a namespace: the connect deadline no longer applies."""
        self.connect_by = NEVER
        self._rewake()

    # ---------------------------------------------------------------------------------------- upgrade

    def can_probe(self) -> bool:
        """Whether a WebSocket may start probing: on polling, and no other WebSocket probing."""
        return self.transport == POLLING and self.upgrade is Upgrade.NONE

    def probe_opened(self, now: float) -> None:
        """A WebSocket for this session is open; it has upgradeTimeout to finish the exchange."""
        self.upgrade = Upgrade.PROBING
        self.upgrade_by = now + self.timing.upgrade_timeout

    def probe_packet(self, text: str | None) -> UpgradeStep:
        """One text frame (``None``: binary) on the probing WebSocket, or the probe fails."""
        if self.lifecycle is Lifecycle.OPEN:
            upgrade = self.upgrade
            if upgrade is Upgrade.PROBING and text == "2probe":
                self.upgrade = Upgrade.UPGRADING
                return UpgradeStep.ANSWER_PROBE
            if upgrade is Upgrade.UPGRADING and text == "5":
                self.upgrade = Upgrade.NONE
                self.upgrade_by = NEVER
                self.transport = WEBSOCKET
                return UpgradeStep.COMPLETE
        self.abort_upgrade()
        return UpgradeStep.ABORT

    def abort_upgrade(self) -> None:
        """The probing WebSocket failed, timed out or left: the session stays on polling."""
        self.upgrade = Upgrade.NONE
        self.upgrade_by = NEVER

    def get_ends_with_noop(self) -> bool:
        """Whether a new polling GET is answered with a noop at once: the client is moving to
        WebSocket and must be able to pause polling."""
        return self.upgrade is Upgrade.UPGRADING

    def released_get_ends_with_noop(self, has_output: bool) -> bool:
        """For a GET that waited and was released: a noop if the session upgraded meanwhile (its
        output goes to the WebSocket now) or is upgrading with nothing for this GET to carry."""
        if self.transport != POLLING:
            return True
        return self.upgrade is Upgrade.UPGRADING and not has_output and self.lifecycle is not Lifecycle.CLOSED

    # ---------------------------------------------------------------------------------------- closing

    def overflow(self) -> bool:
        """Output beyond the bound: stop accepting it (CLOSING). False if already closing or closed."""
        if self.lifecycle is not Lifecycle.OPEN:
            return False
        self.lifecycle = Lifecycle.CLOSING
        self._rewake()
        return True

    def close(self, *, by_client: bool = False) -> bool:
        """Begin a close (CLOSING); the transport then calls ``teardown``. False if already closed.

        On polling, the pending (or next) GET ends with the close packet; with a noop if the client
        itself closed, as the reference implementation does.
        """
        if self.lifecycle is Lifecycle.CLOSED:
            return False
        if self.transport == POLLING:
            self.final = NOOP if by_client else CLOSE
        self.lifecycle = Lifecycle.CLOSING
        self._rewake()
        return True

    def teardown(self, now: float, reason: Reason, *, abort: bool = False) -> Teardown:
        """Closed (CLOSED). A polling session closed by the server (not the client's fault, not
        aborted) lingers until its GETs have taken what was queued and then the close packet (a clean
        "transport close" for the client, not a failed poll), or for pingTimeout if no GET comes."""
        if self.lifecycle is Lifecycle.CLOSED:
            return Teardown.ALREADY_CLOSED
        self.lifecycle = Lifecycle.CLOSED
        if self.transport == POLLING and self.final is CLOSE and not abort and reason not in CLIENT_FAULTS:
            self.lingering = True
            self.linger_until = now + self.timing.ping_timeout
            self._rewake()
            return Teardown.LINGER
        self._rewake()
        return Teardown.FORGET

    def abandon(self) -> None:
        """CLOSED with nothing more to do: its event loop is gone, and its transports with it."""
        self.lifecycle = Lifecycle.CLOSED
        self._rewake()

    def take_final(self, has_output: bool) -> tuple[Outgoing | None, bool]:
        """For a polling response: the final packet to put last, if due now, and whether the session
        is then done (to be forgotten).

        When the session lingers the final packet comes alone, in the GET after the one that drains
        the buffer, because socket.io-client handles the close before the events that shared its
        payload and would lose them.
        """
        final = self.final
        if final is not None and (not has_output or not self.lingering):
            self.final = None
        else:
            final = None
        return final, self.lifecycle is Lifecycle.CLOSED and self.final is None
