"""Why a connection or a socket ended: the reason strings of the Engine.IO and Socket.IO references.

One enum for every place that closes or disconnects, as websockets' ``CloseCode`` is for close codes:
the values are the exact strings the reference servers use (socket.io-client shows them to the
application as the ``disconnect`` reason, and recovery's rules are written on them), so a ``Reason``
is also a ``str`` and goes on the wire, in logs and in metrics as it is.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    # Engine.IO: why a connection closed.
    TRANSPORT_CLOSE = "transport close"  # the client closed it (or the network did)
    TRANSPORT_ERROR = "transport error"  # a transport failed (a broken poll, a broken WebSocket)
    PING_TIMEOUT = "ping timeout"  # no pong within pingTimeout
    PARSE_ERROR = "parse error"  # the client sent something that is not the protocol
    FORCED_CLOSE = "forced close"  # no namespace joined within the connect timeout
    SERVER_SHUTTING_DOWN = "server shutting down"  # this instance stops (or drains)
    # Socket.IO: why one socket left its namespace.
    SERVER_DISCONNECT = "io server disconnect"  # the server meant it (socket.disconnect())
    CLIENT_NAMESPACE_DISCONNECT = "client namespace disconnect"  # the client meant it
    EVENT_OVERFLOW = "event overflow"  # the client kept sending past its event queue (inbox.py)

    @property
    def recoverable(self) -> bool:
        """The client reconnects by itself and may recover its session (connection state recovery);
        never after a disconnect someone meant, nor after the client broke the protocol."""
        return self in RECOVERABLE


RECOVERABLE: frozenset[Reason] = frozenset(
    {
        Reason.TRANSPORT_CLOSE,
        Reason.TRANSPORT_ERROR,
        Reason.PING_TIMEOUT,
        Reason.FORCED_CLOSE,
        Reason.SERVER_SHUTTING_DOWN,
    }
)

# Closes caused by the client: it gets no close packet later, its next request is simply unknown (as
# the reference server and the conformance suites expect).
CLIENT_FAULTS: frozenset[Reason] = frozenset(
    {Reason.PING_TIMEOUT, Reason.PARSE_ERROR, Reason.TRANSPORT_ERROR}
)
