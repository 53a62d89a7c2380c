"""Socket.IO v5 packets: encoding, the strict decoder, binary attachments. No sockets."""

from __future__ import annotations

from typing import Any

import pytest

from atendimento.engine.engineio.protocol import ProtocolError
from atendimento.engine.socketio.protocol import packets as sio
from atendimento.engine.socketio.protocol.packets import Assembler, Packet, decode, encode, encode_event

# ------------------------------------------------------------------------------------------ encoding


@pytest.mark.parametrize(
    ("packet", "wire"),
    [
        (Packet(sio.CONNECT, "/"), ["0"]),
        (Packet(sio.CONNECT, "/admin", {"sid": "oSO0"}), ['0/admin,{"sid":"oSO0"}']),
        (Packet(sio.CONNECT_ERROR, "/", {"message": "Not authorized"}), ['4{"message":"Not authorized"}']),
        (Packet(sio.EVENT, "/", ["foo"]), ['2["foo"]']),
        (Packet(sio.EVENT, "/admin", ["bar"]), ['2/admin,["bar"]']),
        (Packet(sio.EVENT, "/", ["foo"], 12), ['212["foo"]']),
        (Packet(sio.ACK, "/admin", ["bar"], 13), ['3/admin,13["bar"]']),
        (Packet(sio.ACK, "/", [], 12), ["312[]"]),
        (Packet(sio.DISCONNECT, "/"), ["1"]),
        (Packet(sio.DISCONNECT, "/admin"), ["1/admin,"]),
        (Packet(sio.EVENT, "/", ["olá", "€"]), ['2["olá","€"]']),
    ],
)
def test_encode_matches_the_specification(packet: Packet, wire: list[str]) -> None:
    assert encode(packet) == wire


def test_encode_binary_event_uses_placeholders() -> None:
    assert encode(Packet(sio.EVENT, "/", ["baz", b"\x01\x02\x03\x04"])) == [
        '51-["baz",{"_placeholder":true,"num":0}]',
        b"\x01\x02\x03\x04",
    ]
    assert encode(Packet(sio.EVENT, "/admin", ["baz", b"\x01\x02", {"x": bytearray(b"\x03\x04")}])) == [
        '52-/admin,["baz",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]',
        b"\x01\x02",
        b"\x03\x04",
    ]


def test_encode_binary_ack() -> None:
    assert encode(Packet(sio.ACK, "/", ["bar", b"\x01\x02\x03\x04"], 15)) == [
        '61-15["bar",{"_placeholder":true,"num":0}]',
        b"\x01\x02\x03\x04",
    ]


def test_encode_event_helper_and_bad_values() -> None:
    assert encode_event("/", "ev", (1, {"a": None})) == ['2["ev",1,{"a":null}]']
    assert encode_event("/x", "ev", (), ack_id=7) == ['2/x,7["ev"]']
    with pytest.raises(TypeError):
        encode_event("/", "ev", (object(),))
    with pytest.raises(ValueError):
        encode_event("/", "ev", (float("nan"),))  # JSON.parse on the client would reject it


# ------------------------------------------------------------------------------------------ decoding


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("0", Packet(sio.CONNECT, "/")),
        ('0{"token":"123"}', Packet(sio.CONNECT, "/", {"token": "123"})),
        ("0/admin,", Packet(sio.CONNECT, "/admin")),
        ("0/random", Packet(sio.CONNECT, "/random")),  # no comma: the namespace runs to the end
        ('0/admin,{"token":"123"}', Packet(sio.CONNECT, "/admin", {"token": "123"})),
        ("1", Packet(sio.DISCONNECT, "/")),
        ("1/admin,", Packet(sio.DISCONNECT, "/admin")),
        ('2["foo"]', Packet(sio.EVENT, "/", ["foo"])),
        ('2/admin,["bar",1,{"a":[true]}]', Packet(sio.EVENT, "/admin", ["bar", 1, {"a": [True]}])),
        ('212["foo"]', Packet(sio.EVENT, "/", ["foo"], 12)),
        ('2/admin,0["foo"]', Packet(sio.EVENT, "/admin", ["foo"], 0)),
        ('312["bar"]', Packet(sio.ACK, "/", ["bar"], 12)),
        ("3/admin,13[]", Packet(sio.ACK, "/admin", [], 13)),
        ('4{"message":"x"}', Packet(sio.CONNECT_ERROR, "/", {"message": "x"})),
    ],
)
def test_decode_valid(wire: str, expected: Packet) -> None:
    assert decode(wire) == expected


def test_decode_binary_header() -> None:
    packet = decode('52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
    assert (packet.type, packet.nsp, packet.attachments, packet.id) == (sio.BINARY_EVENT, "/admin", 2, None)
    packet = decode('61-15["bar",{"_placeholder":true,"num":0}]')
    assert (packet.type, packet.attachments, packet.id) == (sio.BINARY_ACK, 1, 15)


@pytest.mark.parametrize(
    "wire",
    [
        "",  # empty
        "7",  # unknown type
        "abc",
        "9[]",
        "42{}",  # wrong engine prefix kept: '4' is CONNECT_ERROR, and "2{}" is not valid for it
        "2{}",  # EVENT payload must be an array
        "2[]",  # ... non-empty
        "2",  # ... present
        "2[1]",  # ... led by a string
        '2[null,"x"]',
        '2["connect"]',  # reserved names
        '2["disconnect",1]',
        '2["newListener"]',
        '2abc["message",1]',  # non-integer ack id
        '2-1["x"]',
        '21.5["x"]',
        '21234567890123456["x"]',  # ack id beyond JavaScript's safe integers
        '2["x"',  # broken JSON
        '2["x"]junk',
        "2[NaN]",
        "0[]",  # CONNECT payload must be an object
        '0"token"',
        "0null",
        "012",  # CONNECT takes no id
        "1{}",  # DISCONNECT takes no payload
        "1/admin,5",
        "3[]",  # ACK needs an id
        "31{}",  # ... and an array
        "31",
        "41",  # CONNECT_ERROR payload must be object or string
        '5["x"]',  # attachments count missing
        '5a-["x"]',
        '5-["x"]',
        '51["x"]',
        '5999999999-["x"]',
        '6-1["x"]',
    ],
)
def test_decode_rejects_invalid(wire: str) -> None:
    with pytest.raises(ProtocolError):
        decode(wire)


def test_decode_deeply_nested_payload_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        decode('2["x",' + "[" * 100_000 + "]" * 100_000 + "]")


# ------------------------------------------------------------------------------ binary reassembly


def test_assembler_reconstructs_attachments() -> None:
    assembler = Assembler()
    assert (
        assembler.feed_text('52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
        is None
    )
    assert assembler.waiting
    assert assembler.feed_binary(b"\x01\x02\x03") is None
    packet = assembler.feed_binary(b"\x04\x05\x06")
    assert packet is not None and not assembler.waiting
    assert packet.type == sio.BINARY_EVENT
    assert packet.data == ["message", b"\x01\x02\x03", b"\x04\x05\x06"]


def test_assembler_plain_packets_pass_through() -> None:
    assembler = Assembler()
    packet = assembler.feed_text('2["x",1]')
    assert packet == Packet(sio.EVENT, "/", ["x", 1])
    zero = assembler.feed_text('50-["x"]')  # a binary packet with no attachment is complete at once
    assert zero is not None and zero.data == ["x"]


@pytest.mark.parametrize(
    "placeholder",
    [
        '{"_placeholder":true,"num":1}',  # out of range
        '{"_placeholder":true,"num":-1}',
        '{"_placeholder":true,"num":"0"}',
        '{"_placeholder":true,"num":true}',
        '{"_placeholder":false,"num":0}',
        '{"_placeholder":true}',
        '{"_placeholder":true,"num":0,"extra":1}',
    ],
)
def test_assembler_rejects_bad_placeholders(placeholder: str) -> None:
    assembler = Assembler()
    assert assembler.feed_text(f'51-["x",{placeholder}]') is None
    with pytest.raises(ProtocolError):
        assembler.feed_binary(b"\x00")


def test_assembler_rejects_out_of_order_messages() -> None:
    with pytest.raises(ProtocolError):
        Assembler().feed_binary(b"\x00")  # nothing was announced
    assembler = Assembler()
    assembler.feed_text('51-["x",{"_placeholder":true,"num":0}]')
    with pytest.raises(ProtocolError):
        assembler.feed_text('2["y"]')  # text while an attachment is due


def _round_trip(data: list[Any]) -> Any:
    parts = encode(Packet(sio.EVENT, "/", data))
    assembler = Assembler()
    result = assembler.feed_text(str(parts[0]))
    for part in parts[1:]:
        assert isinstance(part, bytes)
        result = assembler.feed_binary(part)
    assert result is not None
    return result.data


def test_binary_round_trip() -> None:
    data = ["ev", {"a": [b"\x00", {"b": b"\xff" * 1000}], "n": 1}, b"", "tail"]
    assert _round_trip(data) == data


def test_assembler_bounds_the_attachments_of_one_packet() -> None:
    assembler = Assembler(max_bytes=10)
    assembler.feed_text('52-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
    assembler.feed_binary(b"123456")
    with pytest.raises(ProtocolError):
        assembler.feed_binary(b"789012")


def _nested(depth: int, opening: str = "[", closing: str = "]") -> str:
    """An EVENT whose second argument nests so that the whole payload is ``depth`` levels deep."""
    return '2["e",' + opening * (depth - 1) + "1" + closing * (depth - 1) + "]"


@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ('{"a":', "}")])
def test_nesting_is_bounded_on_every_path(opening: str, closing: str) -> None:
    assert decode(_nested(sio.MAX_DEPTH, opening, closing)).type == sio.EVENT
    for depth in (sio.MAX_DEPTH + 1, 600, 5000):
        with pytest.raises(ProtocolError):
            decode(_nested(depth, opening, closing))
    # The binary paths: no attachment (placeholders walked at once), and one attachment (walked later).
    deep = _nested(600, opening, closing)
    with pytest.raises(ProtocolError, match="nested deeper"):
        Assembler().feed_text("50-" + deep[1:])
    with pytest.raises(ProtocolError, match="nested deeper"):
        Assembler().feed_text("51-" + deep[1:])
    # CONNECT auth and ACK arguments too.
    with pytest.raises(ProtocolError, match="nested deeper"):
        decode("0" + '{"a":' * 40 + "1" + "}" * 40)
    with pytest.raises(ProtocolError, match="nested deeper"):
        decode("31" + "[" * 40 + "]" * 40)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    packet = decode('2["e","' + "[" * 100 + '"]')
    assert packet.data == ["e", "[" * 100]
