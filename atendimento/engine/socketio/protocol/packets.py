"""Socket.IO v5 packets, with no I/O: encoder, strict decoder, binary attachments.

Wire format (one Engine.IO ``message`` each)::

    <type>[<attachments>-][<namespace>,][<ack id>][JSON payload]   + binary attachments, one per message

The decoder accepts exactly what the specification describes and raises ``ProtocolError`` for the
rest: unknown type, malformed attachment count, non-integer ack id, payload that is not JSON, a
``CONNECT`` payload that is not an object, an ``EVENT`` that is not a non-empty array led by a
non-reserved event name, an ``ACK`` without id or without an array, placeholders that point nowhere.

Encoding is the hot path of every emit: one cached ``json`` encoder, binary detection for free (the
encoder raises ``TypeError`` on bytes, only then do we walk the arguments to pull attachments out).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from atendimento.engine.engineio.protocol.errors import ProtocolError


class PacketType(IntEnum):
    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    CONNECT_ERROR = 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK = (int(t) for t in PacketType)

# Event names the client libraries use for their own lifecycle; a peer may never emit them.
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)

# Bounds that keep a hostile peer from making us allocate: JavaScript's safe integers for ack ids,
# and a generous but finite number of binary attachments per packet.
MAX_ACK_ID_DIGITS = 15
MAX_ATTACHMENTS = 256
# How deeply arrays and objects may nest in a payload (the outer array of an EVENT is level 1). The
# contract's payloads nest three levels at most; 32 leaves room for an application's own data while
# keeping every recursive walk after the decoder (placeholders, handlers, re-encoding) far from
# Python's recursion limit, whatever the peer sends.
MAX_DEPTH = 32

_TYPE_BY_CHAR = {str(int(t)): int(t) for t in PacketType}
_DIGITS = re.compile(r"[0-9]+")

# JSON as JavaScript writes it: compact, UTF-8 as is, and no NaN/Infinity (JSON.parse rejects them, so a
# client receiving one would drop the connection). The encoder is built once; json.dumps would rebuild it.
_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def _reject_constant(name: str) -> Any:
    raise ProtocolError(f"invalid JSON constant {name}")


_decode_json = json.JSONDecoder(parse_constant=_reject_constant).decode


@dataclass(slots=True)
class Packet:
    """A decoded (or to-be-encoded) Socket.IO packet; ``data`` is ``None`` when there is no payload."""

    type: int
    nsp: str = "/"
    data: Any = None
    id: int | None = None
    attachments: int = 0
    buffers: list[bytes] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- encoding


def _header(kind: int, nsp: str, ack_id: int | None, attachments: int = 0) -> str:
    head = str(kind)
    if attachments:
        head += f"{attachments}-"
    if nsp != "/":
        head += nsp + ","
    if ack_id is not None:
        head += str(ack_id)
    return head


def encode(packet: Packet) -> list[str | bytes]:
    """Encode a packet as Engine.IO message payloads: the text, then one bytes per attachment.

    ``EVENT``/``ACK`` whose data holds bytes become ``BINARY_EVENT``/``BINARY_ACK`` with placeholders.
    """
    kind, data = packet.type, packet.data
    if data is None:
        return [_header(kind, packet.nsp, packet.id)]
    try:
        body = _encode_json(data)
    except TypeError:
        buffers: list[bytes] = []
        data = deconstruct(data, buffers)
        if not buffers:
            raise  # not bytes: a value JSON cannot carry, a bug in the caller
        body = _encode_json(data)
        if kind == EVENT:
            kind = BINARY_EVENT
        elif kind == ACK:
            kind = BINARY_ACK
        return [_header(kind, packet.nsp, packet.id, len(buffers)) + body, *buffers]
    return [_header(kind, packet.nsp, packet.id) + body]


def encode_event(
    nsp: str, event: str, args: tuple[Any, ...] | list[Any], ack_id: int | None = None
) -> list[str | bytes]:
    """Encode ``EVENT [event, *args]``, the hot path of every emit."""
    return encode(Packet(EVENT, nsp, [event, *args], ack_id))


def deconstruct(data: Any, buffers: list[bytes]) -> Any:
    """Replace every bytes-like value by ``{"_placeholder": true, "num": n}``, appending it to ``buffers``."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        buffers.append(bytes(data))
        return {"_placeholder": True, "num": len(buffers) - 1}
    if isinstance(data, (list, tuple)):
        return [deconstruct(item, buffers) for item in data]
    if isinstance(data, dict):
        return {key: deconstruct(value, buffers) for key, value in data.items()}
    return data


def reconstruct(data: Any, buffers: list[bytes]) -> Any:
    """Put the attachments back where their placeholders are; a bad placeholder is a ``ProtocolError``."""
    if isinstance(data, list):
        return [reconstruct(item, buffers) for item in data]
    if isinstance(data, dict):
        if "_placeholder" in data:
            num = data.get("num")
            if (
                data.get("_placeholder") is not True
                or len(data) != 2
                or type(num) is not int
                or not 0 <= num < len(buffers)
            ):
                raise ProtocolError("invalid binary placeholder")
            return buffers[num]
        return {key: reconstruct(value, buffers) for key, value in data.items()}
    return data


# --------------------------------------------------------------------------------------------- decoding


def decode(text: str) -> Packet:
    """Decode the text part of a packet; binary packets still need ``attachments`` buffers after this."""
    if not text:
        raise ProtocolError("empty Socket.IO packet")
    kind = _TYPE_BY_CHAR.get(text[0])
    if kind is None:
        raise ProtocolError(f"unknown Socket.IO packet type {text[0]!r}")
    i, n = 1, len(text)

    attachments = 0
    if kind == BINARY_EVENT or kind == BINARY_ACK:
        match = _DIGITS.match(text, i)
        if match is None or match.end() >= n or text[match.end()] != "-" or match.end() - i > 6:
            raise ProtocolError("illegal attachments count")
        attachments = int(match.group())
        if attachments > MAX_ATTACHMENTS:
            raise ProtocolError("too many attachments")
        i = match.end() + 1

    nsp = "/"
    if i < n and text[i] == "/":
        comma = text.find(",", i)
        if comma < 0:
            nsp, i = text[i:], n
        else:
            nsp, i = text[i:comma], comma + 1

    ack_id: int | None = None
    match = _DIGITS.match(text, i)
    if match is not None:
        if match.end() - i > MAX_ACK_ID_DIGITS:
            raise ProtocolError("ack id too large")
        ack_id = int(match.group())
        i = match.end()

    data: Any = None
    if i < n:
        try:
            data = _decode_json(text[i:])
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            raise ProtocolError("payload is not valid JSON") from exc
        if data is None:
            raise ProtocolError("null payload")
        _check_depth(text, i, data)

    _validate(kind, data, ack_id)
    return Packet(kind, nsp, data, ack_id, attachments)


def _check_depth(text: str, start: int, data: Any) -> None:
    """Refuse a payload nested deeper than ``MAX_DEPTH``.

    Most packets have fewer brackets than the bound, so two counts in C settle it without walking;
    only the others are walked, with an explicit stack (never recursion).
    """
    if not isinstance(data, (list, dict)) or text.count("[", start) + text.count("{", start) <= MAX_DEPTH:
        return
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        for child in children:
            if isinstance(child, (list, dict)):
                if depth >= MAX_DEPTH:
                    raise ProtocolError(f"payload nested deeper than {MAX_DEPTH} levels")
                stack.append((child, depth + 1))


def _validate(kind: int, data: Any, ack_id: int | None) -> None:
    if kind == CONNECT:
        if data is not None and not isinstance(data, dict):
            raise ProtocolError("CONNECT payload must be an object")
        if ack_id is not None:
            raise ProtocolError("CONNECT takes no ack id")
    elif kind == DISCONNECT:
        if data is not None or ack_id is not None:
            raise ProtocolError("DISCONNECT takes no payload")
    elif kind == EVENT or kind == BINARY_EVENT:
        if not isinstance(data, list) or not data:
            raise ProtocolError("EVENT payload must be a non-empty array")
        name = data[0]
        if not isinstance(name, str):
            raise ProtocolError("event name must be a string")
        if name in RESERVED_EVENTS:
            raise ProtocolError(f"reserved event name {name!r}")
    elif kind == ACK or kind == BINARY_ACK:
        if not isinstance(data, list):
            raise ProtocolError("ACK payload must be an array")
        if ack_id is None:
            raise ProtocolError("ACK without an id")
    else:  # CONNECT_ERROR
        if not isinstance(data, (str, dict)) or ack_id is not None:
            raise ProtocolError("CONNECT_ERROR payload must be an object or a string")


class Assembler:
    """Reassembles a binary packet from its text part and the binary messages that follow it.

    The sans-I/O state machine of one connection's receive side: ``feed_text`` / ``feed_binary`` return a
    complete packet or ``None`` while attachments are still due. Text while attachments are due, or
    binary with none due, is a protocol error.
    """

    __slots__ = ("_max_bytes", "_pending", "_size")

    def __init__(self, max_bytes: int | None = None) -> None:
        self._pending: Packet | None = None
        self._max_bytes = max_bytes  # bound on one packet's attachments together
        self._size = 0

    @property
    def waiting(self) -> bool:
        return self._pending is not None

    def feed_text(self, text: str) -> Packet | None:
        if self._pending is not None:
            raise ProtocolError("text packet while binary attachments were due")
        packet = decode(text)
        if packet.attachments:
            self._pending = packet
            return None
        if packet.type == BINARY_EVENT or packet.type == BINARY_ACK:
            packet.data = reconstruct(packet.data, [])
        return packet

    def feed_binary(self, data: bytes) -> Packet | None:
        packet = self._pending
        if packet is None:
            raise ProtocolError("binary message with no attachment due")
        self._size += len(data)
        if self._max_bytes is not None and self._size > self._max_bytes:
            raise ProtocolError("binary attachments larger than allowed")
        packet.buffers.append(data)
        if len(packet.buffers) < packet.attachments:
            return None
        self._pending = None
        self._size = 0
        try:
            packet.data = reconstruct(packet.data, packet.buffers)
        except RecursionError as exc:
            raise ProtocolError("payload nested too deeply") from exc
        packet.buffers = []
        return packet
