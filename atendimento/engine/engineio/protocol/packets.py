"""Engine.IO v4 packets and HTTP long-polling payloads, with no I/O.

An Engine.IO packet is a one-digit type followed by its data. Over WebSocket each packet is its own
frame (a binary frame is a ``message`` packet carrying raw bytes); over long-polling several packets
share one body, separated by the record separator ``\\x1e``, binary ones base64-encoded behind a
``b``. The decoder is strict: anything the specification does not describe raises ``ProtocolError``.
"""

from __future__ import annotations

import binascii
from base64 import b64decode, b64encode
from dataclasses import dataclass
from enum import IntEnum

from atendimento.engine.engineio.protocol.errors import ProtocolError

SEPARATOR = "\x1e"
SEPARATOR_BYTES = b"\x1e"


class PacketType(IntEnum):
    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6


OPEN, CLOSE, PING, PONG, MESSAGE, UPGRADE, NOOP = (int(t) for t in PacketType)

# The first character of a text packet, mapped to its type; a dict lookup rejects everything else.
_TYPE_BY_CHAR = {str(int(t)): int(t) for t in PacketType}


@dataclass(slots=True, frozen=True)
class Packet:
    """One Engine.IO packet. ``data`` is text, raw bytes (binary ``message`` only) or ``""``."""

    type: int
    data: str | bytes = ""


def decode_text(text: str) -> Packet:
    """Decode one text packet (a WebSocket text frame, or one polling segment that is not binary)."""
    if not text:
        raise ProtocolError("empty Engine.IO packet")
    kind = _TYPE_BY_CHAR.get(text[0])
    if kind is None:
        raise ProtocolError(f"unknown Engine.IO packet type {text[0]!r}")
    return Packet(kind, text[1:])


def decode_frame(data: str | bytes) -> Packet:
    """Decode one WebSocket message: text is a typed packet, binary is a ``message`` with raw bytes."""
    if isinstance(data, str):
        return decode_text(data)
    return Packet(MESSAGE, bytes(data))


def decode_segment(segment: str) -> Packet:
    """Decode one polling segment; ``b<base64>`` is a binary ``message``."""
    if segment[:1] == "b":
        try:
            return Packet(MESSAGE, b64decode(segment[1:], validate=True))
        except (binascii.Error, ValueError) as exc:
            raise ProtocolError("invalid base64 in binary packet") from exc
    return decode_text(segment)


def decode_payload(body: bytes | str, max_packets: int | None = None) -> list[Packet]:
    """Decode a long-polling request body into its packets (at least one, at most ``max_packets``).

    The packet count is checked before anything is decoded (one ``count`` of the separator), so a
    body of thousands of tiny packets under ``maxPayload`` costs nothing to refuse.
    """
    if isinstance(body, bytes):
        if max_packets is not None and body.count(SEPARATOR_BYTES) >= max_packets:
            raise ProtocolError(f"more than {max_packets} packets in one polling payload")
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("polling payload is not valid UTF-8") from exc
    elif max_packets is not None and body.count(SEPARATOR) >= max_packets:
        raise ProtocolError(f"more than {max_packets} packets in one polling payload")
    if not body:
        raise ProtocolError("empty polling payload")
    return [decode_segment(segment) for segment in body.split(SEPARATOR)]


def encode_text(kind: int, data: str = "") -> str:
    """Encode a text packet as it goes in a WebSocket text frame or a polling segment."""
    return str(kind) + data


def encode_segment(packet: str | bytes) -> bytes:
    """One polling segment (UTF-8) for an encoded packet: text as is, raw bytes as ``b`` + base64."""
    if isinstance(packet, str):
        return packet.encode()
    return b"b" + b64encode(packet)


def encode_payload(packets: list[str | bytes]) -> bytes:
    """A long-polling response body for already-encoded packets (text, or raw bytes for binary)."""
    return SEPARATOR_BYTES.join(encode_segment(p) for p in packets)
