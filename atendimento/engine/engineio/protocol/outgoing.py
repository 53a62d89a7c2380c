"""Engine.IO output encoded once for every transport a recipient might be on.

An ``Outgoing`` carries the same Engine.IO packets three ways: the WebSocket frames as one ``bytes``
(text frame plus one binary frame per attachment), the long-polling segment as one ``bytes`` (packets
joined by ``\\x1e``, attachments in base64), and the packets themselves for servers where we can only
``websocket.send`` through ASGI. A broadcast builds one and hands the same object to every recipient.
"""

from __future__ import annotations

from atendimento.engine.engineio.protocol.frames import OP_BINARY, OP_TEXT, frame
from atendimento.engine.engineio.protocol.packets import MESSAGE, SEPARATOR_BYTES, encode_segment


class Outgoing:
    """Pre-encoded Engine.IO packets; ``size`` counts bytes for the per-connection output bound."""

    __slots__ = ("packets", "poll", "size", "ws")

    def __init__(self, packets: tuple[str | bytes, ...]) -> None:
        self.packets = packets
        self.ws = b"".join(
            frame(p.encode(), OP_TEXT) if isinstance(p, str) else frame(p, OP_BINARY) for p in packets
        )
        self.poll = SEPARATOR_BYTES.join(encode_segment(p) for p in packets)
        self.size = len(self.ws)


_MESSAGE = str(MESSAGE)


def message(payloads: list[str | bytes]) -> Outgoing:
    """Wrap Socket.IO output (text, then raw attachments) in Engine.IO ``message`` packets.

    Text gets the ``4`` prefix; attachments go as they are (a binary frame, or ``b`` + base64 in polling,
    is a message by definition).
    """
    return Outgoing(tuple(_MESSAGE + p if isinstance(p, str) else p for p in payloads))


def control(packet: str) -> Outgoing:
    """A text Engine.IO control packet (ping, noop, close...)."""
    return Outgoing((packet,))
