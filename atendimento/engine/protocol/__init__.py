"""The protocol core: Engine.IO v4 and Socket.IO v5 encoding, decoding and framing, with no I/O.

Nothing here touches a socket, a clock or the event loop, so every rule of the specifications can be
unit-tested with plain strings (tests/engine/protocol).
"""

from . import engineio, frames, socketio
from .errors import ProtocolError
from .outgoing import Outgoing

__all__ = ["Outgoing", "ProtocolError", "engineio", "frames", "socketio"]
