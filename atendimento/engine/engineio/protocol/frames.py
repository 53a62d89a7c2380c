"""Server-to-client WebSocket frames (RFC 6455), built ahead of time, with no I/O.

A server frame is never masked and we never fragment: FIN + opcode, then a 7-, 16- or 64-bit length,
then the payload. Building the bytes once per broadcast lets every recipient get the very same object
appended to its buffer, which is what makes fan-out cheap.
"""

from __future__ import annotations

import struct

OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8

_FIN = 0x80
_LEN16 = struct.Struct("!BBH")
_LEN64 = struct.Struct("!BBQ")


def frame(payload: bytes, opcode: int = OP_TEXT) -> bytes:
    """One complete, unmasked, final frame carrying ``payload``."""
    size = len(payload)
    first = _FIN | opcode
    if size < 126:
        return bytes((first, size)) + payload
    if size < 65536:
        return _LEN16.pack(first, 126, size) + payload
    return _LEN64.pack(first, 127, size) + payload


def close_frame(code: int = 1000, reason: str = "") -> bytes:
    """A close frame with a status code (and an optional short reason)."""
    return frame(struct.pack("!H", code) + reason.encode()[:120], OP_CLOSE)
