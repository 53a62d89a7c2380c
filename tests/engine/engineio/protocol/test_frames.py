"""Server WebSocket frames and ``Outgoing``, checked against the websockets library's parser."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from atendimento.engine.engineio.protocol import frames
from atendimento.engine.engineio.protocol.outgoing import Outgoing, control, message


def parse(data: bytes) -> list[Frame]:
    reader = StreamReader()
    reader.feed_data(data)
    parsed = []
    while reader.buffer:
        gen = Frame.parse(reader.read_exact, mask=False)
        try:
            while True:
                next(gen)
        except StopIteration as done:
            parsed.append(done.value)
    return parsed


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_frame_lengths(size: int) -> None:
    payload = bytes(i % 251 for i in range(size))
    (frame,) = parse(frames.frame(payload, frames.OP_BINARY))
    assert frame.opcode == Opcode.BINARY and frame.fin and frame.data == payload
    assert not frame.rsv1  # never compressed: valid with or without permessage-deflate


def test_close_frame() -> None:
    (frame,) = parse(frames.close_frame(1000))
    assert frame.opcode == Opcode.CLOSE and frame.data == b"\x03\xe8"


def test_outgoing_binary_message() -> None:
    out = message(['51-["x",{"_placeholder":true,"num":0}]', b"\x01\x02"])
    ws = parse(out.ws)
    assert [(f.opcode, bytes(f.data)) for f in ws] == [
        (Opcode.TEXT, b'451-["x",{"_placeholder":true,"num":0}]'),
        (Opcode.BINARY, b"\x01\x02"),
    ]
    assert out.poll == b'451-["x",{"_placeholder":true,"num":0}]\x1ebAQI='
    assert out.packets == ('451-["x",{"_placeholder":true,"num":0}]', b"\x01\x02")
    assert out.size == len(out.ws)


def test_outgoing_text() -> None:
    out = control("3probe")
    assert out.poll == b"3probe" and parse(out.ws)[0].data == b"3probe"
    assert Outgoing(("4€",)).poll == "4€".encode()
