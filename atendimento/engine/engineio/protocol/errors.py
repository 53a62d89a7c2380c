"""The one exception the protocol core raises.

Whatever the Engine.IO v4 / Socket.IO v5 specifications call invalid surfaces as a ``ProtocolError``. The
transport catches it, closes that connection at once, runs no handler and logs one line: a malformed
packet is the peer's fault, not ours, so it never deserves a traceback.
"""

from __future__ import annotations


class ProtocolError(ValueError):
    """A peer sent something the protocol does not allow; the connection must be closed."""
