"""Socket.IO v5 / Engine.IO v4 server, hand-written for throughput.

python-socketio costs ~120 µs of server CPU per delivered broadcast event (Node's socket.io ~14 µs);
this engine encodes and frames a broadcast once and writes each recipient once per loop turn. It
knows nothing of tickets or tenants: the gateway builds on ``Server``/``Namespace``/``Socket``.

Layout: ``protocol/`` (no I/O: packets, payloads, strict parser, frames), ``transport/`` (ASGI
long-polling and WebSocket, heartbeat sweeper, uvicorn fast-path protocol class), ``server.py``,
``namespace.py``, ``socket.py``, ``adapter.py`` (rooms and broadcast; the cluster seam), ``recovery.py``
(connection state recovery: offsets, saved sessions, ``Server(recovery=RecoveryConfig())``).
"""

from .adapter import EVERYONE, Adapter, EventPacket, Target
from .broadcast import BroadcastOperator
from .errors import ConnectionRefused
from .namespace import Namespace
from .protocol.errors import ProtocolError
from .protocol.reasons import Reason
from .recovery import MemoryRecoveryStore, RecoveryConfig, RecoveryStore
from .server import Server
from .socket import Socket

__all__ = [
    "EVERYONE",
    "Adapter",
    "BroadcastOperator",
    "ConnectionRefused",
    "EventPacket",
    "MemoryRecoveryStore",
    "Namespace",
    "ProtocolError",
    "Reason",
    "RecoveryConfig",
    "RecoveryStore",
    "Server",
    "Socket",
    "Target",
]
