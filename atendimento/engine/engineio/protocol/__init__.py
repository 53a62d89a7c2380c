"""Engine.IO v4's protocol core, with no I/O: packets and payloads, WebSocket frames, the session's
decisions (``SessionState``), the encoded output, and the reasons a connection or a socket ends.

Nothing here touches a socket, a clock or the event loop, so every rule of the specification can be
unit-tested with plain strings and numbers (tests/engine/engineio/protocol).
"""

from atendimento.engine.engineio.protocol import frames, packets
from atendimento.engine.engineio.protocol.errors import ProtocolError
from atendimento.engine.engineio.protocol.outgoing import Outgoing

__all__ = ["Outgoing", "ProtocolError", "frames", "packets"]
