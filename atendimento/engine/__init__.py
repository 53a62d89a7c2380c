"""Socket.IO v5 / Engine.IO v4 server, hand-written for throughput.

python-socketio costs ~120 µs of server CPU per delivered broadcast event (Node's socket.io ~14 µs);
this engine encodes and frames a broadcast once and writes each recipient once per loop turn. It
knows nothing of tickets or tenants: the gateway builds on ``Server``/``Namespace``/``Socket``.

Layout, one folder per protocol, each with its core that does no I/O:

- ``engineio/``: Engine.IO v4. ``protocol/`` (no I/O: packets and payloads, WebSocket frames, the
  session's decisions, the reasons a connection ends); the ASGI transport around it: long-polling,
  WebSocket, the upgrade, the heartbeat sweeper (``server.EngineIOServer``), and the WebSocket
  protocol class handed to uvicorn.
- ``socketio/``: Socket.IO v5 on top of it. ``protocol/`` (no I/O: the packet codec); ``server.py``,
  ``namespace.py``, ``socket.py``, ``adapter.py`` (rooms and broadcast; the cluster seam),
  ``recovery.py`` (connection state recovery: offsets, saved sessions).

Engine.IO never imports Socket.IO (``make lint`` checks it).
"""

from atendimento.engine.engineio.protocol.errors import ProtocolError
from atendimento.engine.engineio.protocol.reasons import Reason
from atendimento.engine.socketio.adapter import EVERYONE, Adapter, EventPacket, Target
from atendimento.engine.socketio.broadcast import BroadcastOperator
from atendimento.engine.socketio.errors import ConnectionRefused
from atendimento.engine.socketio.namespace import Namespace
from atendimento.engine.socketio.recovery import MemoryRecoveryStore, RecoveryConfig, RecoveryStore
from atendimento.engine.socketio.server import Server
from atendimento.engine.socketio.socket import Socket

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
